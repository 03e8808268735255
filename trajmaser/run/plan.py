"""The tasks of a configuration: what `trajmaser run` computes, block by block.

A single configuration is a list of trajectory blocks; a ``[sweep]`` configuration is the
blocks of every grid point flattened into one task list (point-major), so ranks share the
whole sweep and each point's blocks still merge in block order.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from trajmaser.config import Config
from trajmaser.params import ConfigError
from trajmaser.results import Result, SweepResult
from trajmaser.run.estimate import Estimate, estimate
from trajmaser.run.packing import Codec
from trajmaser.trajectories.driver import nblocks, resolve_method, simulate_block


def _sweep_task(tasks: list, models: list, runs: list, axes: tuple, points: tuple, k: int):
    i, b = tasks[k]
    results = [None] * len(points)
    results[i] = simulate_block(models[i], runs[i], b)
    return SweepResult(axes, points, tuple(results))


def _single_task(model, run, k: int) -> Result:
    return simulate_block(model, run, k)


class _Task:
    """Picklable task ``k -> block result`` (plain functions of module-level objects)."""

    def __init__(self, fn, *args):
        self.fn, self.args = fn, args

    def __call__(self, k: int):
        return self.fn(*self.args, k)


@dataclass(frozen=True)
class Plan:
    """What a run computes.

    Attributes
    ----------
    task : callable
        ``task(k) -> Result | SweepResult`` for k in range(ntasks).
    ntasks : int
    from_arrays : callable
        Reads the merged result back from a file or checkpoint.
    stop_when : callable or None
        Precision target on the merged result (``--target-err``), None otherwise.
    codec : Codec or None
        Packs block results into flat vectors for a cheap merge (`trajmaser.run.packing`).
    points : tuple
        ``(model, run, method)`` of every point (one for a single run), for `estimate`.
    """

    task: Callable[[int], Any]
    ntasks: int
    from_arrays: Callable[[dict], Any]
    stop_when: Callable[[Any], bool] | None = None
    codec: Codec | None = None
    points: tuple = ()

    def estimate(self, ranks: int = 1) -> Estimate:
        """Passages, wall time, memory and file size of the run on ``ranks`` ranks."""
        return estimate(list(self.points), ranks)

    def __iter__(self):  # ``task, ntasks, from_arrays, stop = plan_run(cfg)``
        return iter((self.task, self.ntasks, self.from_arrays, self.stop_when))


def plan_run(cfg: Config, *, target_err: float | None = None, max_ntraj: int | None = None) -> Plan:
    """The tasks of a configuration.

    ``target_err`` (a relative error of steady Tf, in (0, 1)) runs up to ``max_ntraj``
    trajectories (default 100 × ntraj) and stops when the error is met.

    Raises
    ------
    ConfigError
        ``target_err`` out of range or given for a sweep; ``max_ntraj`` below 1.
    ValueError
        A method that does not fit a model.
    """
    if max_ntraj is not None and max_ntraj < 1:
        raise ConfigError(f"--max-ntraj {max_ntraj} must be a positive number of trajectories")
    if cfg.sweep:
        if target_err is not None:
            raise ConfigError("--target-err is for single runs, not for a [sweep]")
        grid = cfg.grid()
        axes = tuple(k for k, _ in cfg.sweep)
        points = tuple(tuple(labels[a] for a in axes) for labels, _ in grid)
        models = [c.model() for _, c in grid]
        runs = [c.run for _, c in grid]
        kinds = tuple((m, r, resolve_method(m, r)) for m, r in zip(models, runs, strict=True))
        tasks = [(i, b) for i, r in enumerate(runs) for b in range(nblocks(r))]
        task = _Task(_sweep_task, tasks, models, runs, axes, points)
        codec = Codec(Result.from_arrays, sweep=(axes, points), make_sweep=SweepResult)
        return Plan(task, len(tasks), SweepResult.from_arrays, codec=codec, points=kinds)
    model, run = cfg.model(), cfg.run
    method = resolve_method(model, run)
    stop = None
    if target_err is not None:
        if not (math.isfinite(target_err) and 0 < target_err < 1):
            raise ConfigError(f"--target-err {target_err} must be in (0, 1) (a relative error)")
        cap = max_ntraj if max_ntraj is not None else 100 * run.ntraj
        run = replace(run, ntraj=max(cap, run.block_size))
        stop = _TargetErr(target_err)
    task = _Task(_single_task, model, run)
    codec = Codec(Result.from_arrays)
    return Plan(task, nblocks(run), Result.from_arrays, stop, codec, ((model, run, method),))


class _TargetErr:
    """True once the relative standard error of steady-state Tf/Tb is at most ``target``."""

    def __init__(self, target: float) -> None:
        self.target = target

    def __call__(self, res: Result) -> bool:
        s = res.summary()["steady"]["time"]
        rel = s["Tf_over_Tb_err"] / abs(s["Tf_over_Tb"])
        return math.isfinite(rel) and rel <= self.target
