"""Rare-event trajectories of the micromaser field: switching between the peaks of p(n).

Forward-flux sampling of the photon-number chain X_k (photon number just before atom k),
sampled atom by atom with the exact trajectory building blocks (:mod:`.chain`), in
independent replicas (:mod:`.replicas`, numba stages in :mod:`.ffs`), turned into mean
first-passage times, peak weights and the stationary n̄ and Mandel Q with jackknife errors
(:mod:`.estimate`); :mod:`.driver` plans, runs (serial or MPI, checkpointed) and reports.
See ``docs/SWITCHING.md``.
"""

from trajmaser.switching.driver import Budget, plan_switching, report, simulate, switching
from trajmaser.switching.replicas import Replicas, SwitchingPlan

__all__ = [
    "Budget",
    "Replicas",
    "SwitchingPlan",
    "plan_switching",
    "report",
    "simulate",
    "switching",
]
