"""Quantum-trajectory driver: blocks of trajectories with fixed seeds, summed in block order.

Block b holds trajectories [b·block_size, min((b+1)·block_size, ntraj)) and draws from
``np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(b,)))``, so the sum of the
block results in block order does not depend on how blocks are distributed over processes.
"""

from __future__ import annotations

import functools
import math
import operator
from collections.abc import Callable

import numpy as np

from trajmaser.params import ConfigError, Model, RunParams
from trajmaser.pump import get, kernel_args
from trajmaser.results import Result
from trajmaser.rules import check_model, check_run
from trajmaser.trajectories import cancel
from trajmaser.trajectories.fock import (
    INIT_FOCK,
    INIT_TABLE,
    INIT_THERMAL,
    FockParams,
    passage_tables,
    run_fock,
)
from trajmaser.trajectories.records import (
    STOP_CANCELLED,
    STOP_NONFINITE,
    RawAccumulators,
    RecordPlan,
    record_plan,
    to_result,
)

DEFAULT_LEVELS = 32
_MAX_LEVELS = 1 << 20


def nblocks(run: RunParams) -> int:
    """Number of trajectory blocks of a run, ceil(ntraj / block_size)."""
    if run.ntraj < 1 or run.block_size < 1:
        raise ValueError(f"need ntraj >= 1 and block_size >= 1, got {run.ntraj}, {run.block_size}")
    return math.ceil(run.ntraj / run.block_size)


def block_rng(run: RunParams, block: int) -> np.random.Generator:
    """The random generator of block ``block`` (spawned from the run's root seed)."""
    return np.random.default_rng(np.random.SeedSequence(run.seed, spawn_key=(block,)))


def resolve_method(model: Model, run: RunParams) -> str:
    """The kernel a run uses: ``fock`` or ``general`` (``auto`` = fock when diagonal).

    Raises
    ------
    ValueError
        If ``fock`` is requested for a model with atomic coherence or a coherent field.
    """
    if run.method == "auto":
        return "fock" if model.is_diagonal else "general"
    if run.method == "fock":
        if not model.is_diagonal:
            raise ValueError(
                "method 'fock' needs a diagonal atom state (coherence = 0) and a diagonal "
                "initial cavity (thermal, vacuum or fock:N); use method 'general' or 'auto'"
            )
        return "fock"
    if run.method == "general":
        return "general"
    raise ValueError(f"unknown method {run.method!r}; allowed: auto, fock, general")


def simulate_block(
    model: Model,
    run: RunParams,
    block: int,
    *,
    levels: int | None = None,
    time_probes: bool = False,
) -> Result:
    """Run trajectory block ``block`` of ``run`` and return its mergeable result.

    Parameters
    ----------
    model : Model
        Physics (atoms, cavity, pump).
    run : RunParams
        Run settings; ``seed`` and ``block_size`` fix the random streams.
    block : int
        Block index in [0, nblocks(run)).
    levels : int, optional
        Initial number of photon-number histogram bins; if a trajectory meets more photons
        the block is rerun (same seed, so the same trajectories) with enough bins.
    time_probes : bool
        Fock path only: estimate the steady time block from one random probe time per
        stratum (the former estimator, for comparisons) instead of the exact time integral.

    Returns
    -------
    Result
        Sums over the block's trajectories.

    Raises
    ------
    trajmaser.trajectories.cancel.Cancelled
        If :func:`trajmaser.trajectories.cancel.request` was called before or during the
        block (the kernel runs in a worker thread, so signal handlers run meanwhile).
    ConfigError
        If a trajectory's state stops being finite (parameters beyond double range).
    """
    nb = nblocks(run)
    if not 0 <= block < nb:
        raise ValueError(f"block {block} out of range: this run has blocks 0..{nb - 1}")
    ntraj = min(run.block_size, run.ntraj - block * run.block_size)
    method = resolve_method(model, run)
    check_model(model)
    check_run(run)
    plan = record_plan(model, run)
    levels = DEFAULT_LEVELS if levels is None else int(levels)
    if levels < 1:
        raise ValueError(f"levels must be >= 1, got {levels}")
    if cancel.requested():
        raise cancel.Cancelled(f"stop requested before block {block}")
    args = (model, run, block, ntraj, method, plan, levels, time_probes)
    return cancel.run_in_worker(lambda: _run_block(*args))


def _run_block(
    model: Model,
    run: RunParams,
    block: int,
    ntraj: int,
    method: str,
    plan: RecordPlan,
    levels: int,
    time_probes: bool,
) -> Result:
    """The kernel calls of :func:`simulate_block`, rerun with more levels on overflow."""
    while True:
        rng = block_rng(run, block)
        if method == "fock":
            first = block * run.block_size
            raw, maxn = _fock_block(model, run, ntraj, first, rng, plan, levels, time_probes)
        else:
            from trajmaser.trajectories.general import run_general_block

            out = run_general_block(
                model, run, ntraj, rng, plan, levels, first_index=block * run.block_size
            )
            if isinstance(out, Result):
                return out
            raw, maxn = out, 2 * levels - 1
        _check_stop(raw, block)
        if raw.overflow[0] == 0.0:
            return to_result(plan, raw, model.omega, ntraj)
        if levels >= _MAX_LEVELS:
            raise ValueError(f"photon numbers beyond {_MAX_LEVELS} levels: runaway field?")
        levels = min(_MAX_LEVELS, max(maxn + 1, levels + 1))
        levels = -(-levels // 8) * 8


def simulate(
    model: Model, run: RunParams, *, map: Callable = map, progress: bool = False
) -> Result:
    """Run all trajectories of ``run`` and sum the block results in block order.

    Parameters
    ----------
    model : Model
    run : RunParams
    map : callable, optional
        ``map(func, blocks)`` returning the block results in order (serial ``map`` by default;
        the MPI map of :mod:`trajmaser.parallel` plugs in here).
    progress : bool
        Show a tqdm progress bar over blocks (only meaningful with a lazy serial map).
    """
    resolve_method(model, run)
    blocks = range(nblocks(run))
    results = map(functools.partial(simulate_block, model, run), blocks)
    if progress:
        from tqdm import tqdm

        results = tqdm(results, total=len(blocks), unit="block")
    return functools.reduce(operator.add, results)


def _check_stop(raw: RawAccumulators, block: int) -> None:
    """Raise for a kernel that stopped early (see ``RawAccumulators.stop``)."""
    code, traj = int(raw.stop[0]), int(raw.stop[1])
    if code == STOP_CANCELLED:
        raise cancel.Cancelled(f"stop requested during block {block} (trajectory {traj})")
    if code == STOP_NONFINITE:
        raise ConfigError(
            f"the quantum state became NaN/inf in trajectory {traj} of block {block}: the "
            "cavity parameters overflow double precision in the interaction propagator; "
            "g, gamma, kappa·(1 + nbar_bath)·n and detuning must stay well below 1e150 "
            "(in rad/s, times tau well below 1e150)"
        )


def _fock_block(
    model: Model,
    run: RunParams,
    ntraj: int,
    first_index: int,
    rng: np.random.Generator,
    plan: RecordPlan,
    levels: int,
    time_probes: bool,
) -> tuple[RawAccumulators, int]:
    """Fock-path kernel call for one block; returns raw sums and the largest n met."""
    init = model.initial
    init_cdf = np.zeros(1)
    if init.kind in ("state", "ket"):  # p(n) (a diagonal ket is a Fock state)
        w = np.abs(np.asarray(init.state)) ** (2 if init.kind == "ket" else 1)
        init_kind, init_value, init_cdf = INIT_TABLE, 0.0, np.cumsum(w) / w.sum()
    elif init.kind == "thermal":
        nbar0 = model.nbar_initial
        init_kind, init_value = INIT_THERMAL, nbar0 / (1.0 + nbar0)
    elif init.kind in ("vacuum", "coherent"):  # coherent with α = 0 is the vacuum
        init_kind, init_value = INIT_FOCK, 0.0
    else:
        init_kind, init_value = INIT_FOCK, float(int(init.value))
    consts = (
        float(model.g),
        float(model.gamma),
        float(model.kappa),
        float(model.nbar_bath),
        float(model.detuning),
    )
    pump = get(model.statistics)
    slots = pump.slots(model.rate, pump.values(model.pump_values))
    gap = slots[0] - model.tau if slots is not None and slots[1] == 1.0 else None  # all equal
    tables = passage_tables(max(levels, 64), float(model.pe), consts, float(model.tau), gap)
    pump_args = kernel_args(model)  # (int code, float64 array): one compiled kernel for every run
    par = FockParams(
        pe=float(model.pe),
        tau=float(model.tau),
        eta=float(run.detector_efficiency),
        init_kind=init_kind,
        init_value=float(init_value),
        init_cdf=init_cdf,
        consts=consts,
        pump=pump_args,
        time_probes=bool(time_probes),
    )
    raw = RawAccumulators.zeros(plan.samples, levels)
    run_fock(int(ntraj), int(first_index), rng, par, plan.kernel_plan(), tables, raw, cancel.FLAG)
    return raw, int(raw.maxn[0])
