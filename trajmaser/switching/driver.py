"""Switching of the field between its peaks, by forward-flux sampling: plan, run, report.

:func:`plan_switching` takes the peaks from the exact density matrix
(:func:`trajmaser.dm.switching.switching`: modes, basins, and the two heaviest peaks
n_lo < n_hi that switch) and sets the interfaces; :func:`simulate` runs the independent
replicas (serial or over MPI ranks, checkpointed to ``OUT.ckpt.npz`` when an output file is
given, through the run layer's ordered block reduction); :func:`report` turns the counts
into the ``trajmaser switching --json`` document, the density-matrix values beside.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import asdict, dataclass

from trajmaser import io
from trajmaser.dm import switching as exact
from trajmaser.params import Model
from trajmaser.switching.estimate import estimate
from trajmaser.switching.replicas import Replicas, SwitchingPlan, run_replica

__all__ = ["Budget", "plan_switching", "report", "simulate", "switching"]


@dataclass(frozen=True)
class Budget:
    """Sampling effort: replicas and, per replica, basin atoms and trials per interface."""

    replicas: int = 32
    basin_atoms: int = 100_000
    trials: int = 500
    min_successes: int = 20
    spacing: int = 1

    def __post_init__(self):
        for name in ("replicas", "basin_atoms", "trials", "min_successes", "spacing"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.replicas < 2:
            raise ValueError(f"replicas must be >= 2 (errors come from their spread), got "
                             f"{self.replicas}")  # fmt: skip


def plan_switching(model: Model, seed: int, budget: Budget = Budget()) -> tuple:
    """The replica plan and the exact density-matrix answer of a diagonal model.

    Returns
    -------
    (SwitchingPlan, dict)
        The dict is :func:`trajmaser.dm.switching.switching`.
    """
    ref = exact.switching(model)
    modes = (ref["n_lo"], ref["n_hi"]) if ref["n_lo"] is not None else (ref["peaks"][0]["n_mode"],)
    plan = SwitchingPlan(
        model=model,
        modes=tuple(int(m) for m in modes),
        nbins=2 * (ref["nmax"] + 1),
        seed=int(seed),
        basin_atoms=budget.basin_atoms,
        trials=budget.trials,
        min_successes=budget.min_successes,
        spacing=budget.spacing,
    )
    return plan, ref


class _Task:
    """Picklable ``block -> Replicas`` of one plan."""

    def __init__(self, plan: SwitchingPlan):
        self.plan = plan

    def __call__(self, block: int) -> Replicas:
        return run_replica(self.plan, block)


def simulate(
    plan: SwitchingPlan,
    replicas: int,
    output: str | os.PathLike | None = None,
    *,
    meta: dict | None = None,
    force: bool = False,
    resume: bool = True,
    progress: bool = False,
):
    """Run ``replicas`` replicas (every MPI rank calls this); rank 0 gets the merged counts.

    With ``output`` the counts are written there (``.npz`` with JSON metadata), checkpointed
    to ``OUT.ckpt.npz`` every minute and on SIGTERM/SIGUSR1, and resumed by the same call.

    Returns
    -------
    RunOutcome
        ``result`` is the merged :class:`Replicas` on rank 0 when ``complete``.
    """
    from trajmaser.run import run_to_file

    meta = {**(meta or {}), "switching_plan": _plan_meta(plan)}
    kw = dict(from_arrays=Replicas.from_arrays, meta=meta, resume=resume, progress=progress)
    if output is not None:
        return run_to_file(_Task(plan), replicas, output, force=force, **kw)
    with tempfile.TemporaryDirectory(prefix="trajmaser-switching-") as tmp:
        return run_to_file(_Task(plan), replicas, os.path.join(tmp, "replicas.npz"), **kw)


def _plan_meta(plan: SwitchingPlan) -> dict:
    out = {k: v for k, v in asdict(plan).items() if k != "model"}
    out["modes"] = list(plan.modes)
    return io.jsonable(out)


def report(plan: SwitchingPlan, ref: dict, reps: Replicas) -> dict:
    """The ``trajmaser switching --json`` document from the merged replica counts."""
    up, down = plan.levels()
    basins = ref["basins"]
    val, err = estimate(reps, (max(up.size - 1, 0), max(down.size - 1, 0)), basins)
    k = len(basins)
    two = plan.switching
    peaks = [
        {"n_mode": p["n_mode"], "weight": val[2 + i], "weight_err": err[2 + i]}
        for i, p in enumerate(ref["peaks"])
    ]
    dm_keys = ("mfpt_up_atoms", "mfpt_down_atoms", "relaxation_atoms")
    return {
        "peaks": peaks,
        "mfpt_up_atoms": val[0] if two else None,
        "mfpt_up_atoms_err": err[0] if two else None,
        "mfpt_down_atoms": val[1] if two else None,
        "mfpt_down_atoms_err": err[1] if two else None,
        "steady": {
            "n_mean": val[2 + k],
            "n_mean_err": err[2 + k],
            "mandel_q": val[3 + k],
            "mandel_q_err": err[3 + k],
        },
        "dm": {
            "peaks": ref["peaks"],
            **{key: ref[key] for key in dm_keys},
            "steady": ref["steady"],
        },
        "distribution": {"p": val[4 + k :], "p_err": err[4 + k :]},
        "n_lo": ref["n_lo"],
        "n_hi": ref["n_hi"],
        "message": None if two else "one peak: the field does not switch",
        "method": "forward-flux sampling",
        "replicas": reps.count,
        "atoms_simulated": reps.atoms(),
    }


def switching(
    model: Model,
    seed: int,
    budget: Budget = Budget(),
    output: str | os.PathLike | None = None,
    **kw,
) -> dict | None:
    """Plan, simulate and report (every MPI rank calls this; rank 0 gets the document).

    ``kw`` goes to :func:`simulate` (``meta``, ``force``, ``resume``, ``progress``).  Returns
    None on other ranks, or when a signal interrupted the run (``output`` then holds a
    checkpoint).
    """
    plan, ref = plan_switching(model, seed, budget)
    outcome = simulate(plan, budget.replicas, output, **kw)
    if not outcome.complete or outcome.result is None:
        return None
    return report(plan, ref, outcome.result)
