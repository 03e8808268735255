"""Independent forward-flux replicas: the plan, one replica, and their mergeable sums.

A replica is one complete, independent estimate: for each direction (up, then down) a basin
run from the mode and the forward-flux stages through every interface.  Replica b draws from
``SeedSequence(seed, spawn_key=(b,))``; replicas are concatenated in block order, so the
result does not depend on how replicas were spread over processes.  Only counts are kept,
so any subset of replicas can be summed (the jackknife of :mod:`.estimate`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from trajmaser.params import Model
from trajmaser.switching.chain import chain_args
from trajmaser.switching.ffs import basin_run, stage

__all__ = ["SwitchingPlan", "Replicas", "interfaces", "run_replica"]

UP, DOWN = 0, 1


def interfaces(n_lo: int, n_hi: int, spacing: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Interfaces λ_0 … λ_M of both directions (the last is the other mode).

    Up: n_lo + 1, n_lo + 1 + spacing, …, n_hi; down: n_hi − 1, n_hi − 1 − spacing, …, n_lo.
    """
    if spacing < 1:
        raise ValueError(f"interface spacing must be >= 1 photon, got {spacing}")
    up = np.append(np.arange(n_lo + 1, n_hi, spacing), n_hi)
    down = np.append(np.arange(n_hi - 1, n_lo, -spacing), n_lo)
    return up.astype(np.int64), down.astype(np.int64)


@dataclass(frozen=True)
class SwitchingPlan:
    """Everything a replica needs: the model, the two modes, the interfaces and the budget.

    Attributes
    ----------
    model : Model
    modes : tuple of int
        The peak modes (one or two); two modes (n_lo, n_hi) switch.
    nbins : int
        Histogram bins (the last one collects overflow).
    seed : int
        Root seed; replica b uses SeedSequence(seed, spawn_key=(b,)).
    basin_atoms : int
        Atoms of each basin run.
    trials : int
        Trial runs per interface and replica (a batch), shared among the start states in
        proportion to their weights ...
    per_state : int
        ... with at least this many per start state.
    min_successes : int
        Batches are added at an interface until this many trials succeeded ...
    max_batches : int
        ... or this many batches were run.
    spacing : int
        Photons between interfaces.
    trial_cap : int
        A trial longer than this many atoms is an error (a trap between the interfaces).
    """

    model: Model
    modes: tuple
    nbins: int
    seed: int
    basin_atoms: int = 100_000
    trials: int = 500
    min_successes: int = 20
    max_batches: int = 100
    spacing: int = 1
    per_state: int = 10
    trial_cap: int = 10_000_000
    table_size: int = field(default=512)

    @property
    def switching(self) -> bool:
        """True with two modes."""
        return len(self.modes) == 2

    def levels(self) -> tuple[np.ndarray, np.ndarray]:
        """Interfaces (up, down); empty without switching."""
        if not self.switching:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        return interfaces(self.modes[0], self.modes[1], self.spacing)

    def nstages(self) -> int:
        """Largest number of stages of a direction."""
        up, down = self.levels()
        return max(up.size, down.size) - 1 if self.switching else 0


@dataclass
class Replicas:
    """Counts of a set of replicas, leading axis = replica (mergeable with ``+``).

    ``basin[r, d]`` = (atoms, crossings, B hits) of direction d (0 up, 1 down);
    ``stages[r, d, i]`` = (trials, successes, atoms) at stage i; ``hist[r, d, n]`` the A-state
    photon-number histogram of the basin run.
    """

    basin: np.ndarray
    stages: np.ndarray
    hist: np.ndarray

    def __add__(self, other: Replicas) -> Replicas:
        return Replicas(
            np.concatenate([self.basin, other.basin]),
            np.concatenate([self.stages, other.stages]),
            np.concatenate([self.hist, other.hist]),
        )

    @property
    def count(self) -> int:
        """Number of replicas."""
        return self.basin.shape[0]

    def atoms(self) -> float:
        """Atoms simulated in all (basin runs and trials)."""
        return float(self.basin[..., 0].sum() + self.stages[..., 2].sum())

    def to_arrays(self) -> dict:
        """Named arrays (for result files and checkpoints)."""
        return {"basin": self.basin, "stages": self.stages, "hist": self.hist}

    @classmethod
    def from_arrays(cls, arrays: dict) -> Replicas:
        """Inverse of :meth:`to_arrays`."""
        return cls(*(np.asarray(arrays[k], dtype=float) for k in ("basin", "stages", "hist")))


def _stages(plan: SwitchingPlan, args, rng, sign, a_edge, levels, cross, out) -> None:
    """Stages through ``levels`` from the λ_0 crossings; ``out[i]`` = (trials, P·trials, atoms)."""
    weights = cross
    for i in range(levels.size - 1):
        ends = np.zeros(plan.nbins)
        ran, hits, atoms, batches = 0, 0, 0, 0
        while batches < plan.max_batches and (batches == 0 or hits < plan.min_successes):
            s, a, t, done = stage(weights, plan.trials, plan.per_state, sign, a_edge,
                                  levels[i + 1], *args, rng, ends, plan.trial_cap)  # fmt: skip
            if not done:
                raise RuntimeError(
                    f"a trial from interface n = {levels[i]} ran {plan.trial_cap} atoms without "
                    "reaching the next interface or the basin: a trap between the peaks"
                )
            ran, hits, atoms, batches = ran + t, hits + s, atoms + a, batches + 1
        prob = ends.sum() / batches
        out[i] = (ran, prob * ran, atoms)
        if hits == 0:
            return
        weights = ends


def run_replica(plan: SwitchingPlan, block: int) -> Replicas:
    """Replica ``block`` of the plan (a :class:`Replicas` of one)."""
    rng = np.random.default_rng(np.random.SeedSequence(plan.seed, spawn_key=(block,)))
    args = chain_args(plan.model, plan.table_size)
    nd = 2 if plan.switching else 1
    basin = np.zeros((1, 2, 3))
    stages_ = np.zeros((1, 2, max(plan.nstages(), 1), 3))
    hist = np.zeros((1, 2, plan.nbins))
    for d, levels in enumerate(plan.levels()[:nd] if plan.switching else [None]):
        sign = 1 if d == UP else -1
        start = plan.modes[d] if plan.switching else plan.modes[0]
        cross = np.zeros(plan.nbins)
        if levels is None:  # one peak: a plain stationary run, nothing to cross
            a_edge, lam0, b_edge = start, plan.nbins + 1, plan.nbins + 2
        else:
            a_edge, lam0, b_edge = start, levels[0], levels[-1]
        c, h = basin_run(start, sign, a_edge, lam0, b_edge, plan.basin_atoms, *args, rng,
                         hist[0, d], cross)  # fmt: skip
        basin[0, d] = (plan.basin_atoms, c, h)
        if levels is not None and c > 0:
            _stages(plan, args, rng, sign, a_edge, levels, cross, stages_[0, d])
    return Replicas(basin, stages_, hist)
