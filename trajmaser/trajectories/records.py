"""When trajectories are recorded, and the raw accumulator layout the kernels fill.

See docs/ARCHITECTURE.md for the conventions.  A kernel receives a :class:`RecordPlan` and
fills a :class:`RawAccumulators` (plain float arrays, so numba kernels can write into them);
:func:`to_result` turns that into a mergeable :class:`~trajmaser.stats.Result`.

Raw layout: every "sums" array has last axis of length 6 = (count, Σx, Σy, Σx², Σy², Σxy).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from trajmaser.params import Model, RunParams
from trajmaser.results import Moments, Result

NSUMS = 6


@dataclass(frozen=True)
class RecordPlan:
    """Record grid of a run.

    Attributes
    ----------
    times : ndarray, shape (S,)
        Sample times t_j = (j + 1) T / S (s).
    arrival_index : ndarray of int64, shape (S,)
        Atom indices k_j = (j · atoms) // S whose arrival records are kept (sorted, may repeat
        only if atoms < S, which the config forbids).
    t_end : float
        Run length T = atoms / r (s).
    atoms, burn_in : int
        Atoms per trajectory and the first atom index of the steady window.
    t_burn : float
        Start of the steady time window, burn_in / r (s).
    strata : ndarray, shape (S + 1,)
        Probe strata edges j T / S; stratum j gets one uniform probe time.
    first_steady_stratum : int
        First stratum wholly inside the steady window; probes of later strata are averaged.
    """

    times: np.ndarray
    arrival_index: np.ndarray
    t_end: float
    atoms: int
    burn_in: int
    t_burn: float
    strata: np.ndarray
    first_steady_stratum: int

    @property
    def samples(self) -> int:
        """Number of sample times S."""
        return self.times.shape[0]

    @property
    def steady_probes(self) -> int:
        """Number of probe times per trajectory inside the steady window."""
        return self.samples - self.first_steady_stratum


def record_plan(model: Model, run: RunParams) -> RecordPlan:
    """The record grid for ``run`` at the model's pump rate."""
    s, atoms = run.samples, run.atoms
    t_end = atoms / model.rate
    edges = np.arange(s + 1) * (t_end / s)
    t_burn = run.burn_in / model.rate
    first = int(np.searchsorted(edges, t_burn * (1 - 1e-12), side="left"))
    return RecordPlan(
        times=edges[1:].copy(),
        arrival_index=(np.arange(s, dtype=np.int64) * atoms) // s,
        t_end=t_end,
        atoms=atoms,
        burn_in=run.burn_in,
        t_burn=t_burn,
        strata=edges,
        first_steady_stratum=min(first, s - 1),
    )


@dataclass
class RawAccumulators:
    """Plain arrays a kernel adds into (one block of trajectories).

    ``hist_*`` arrays have ``levels`` photon-number bins; a kernel that meets a larger photon
    number adds its weight to ``overflow`` instead (the wrapper then retries with more levels).
    """

    time: np.ndarray  # (S, 6)
    time_hist: np.ndarray  # (S, L)
    arrival: np.ndarray  # (S, 6)
    arrival_hist: np.ndarray  # (S, L)
    steady_time: np.ndarray  # (6,)  per-trajectory averages over steady probes
    steady_time_hist: np.ndarray  # (L,) summed over probes, divided by steady_probes
    steady_arrival: np.ndarray  # (6,)  per-trajectory averages over atoms burn_in..atoms-1
    steady_arrival_hist: np.ndarray  # (L,) summed over those arrivals, divided by their number
    clicks: np.ndarray  # (12,) per trajectory over the steady window: [0:6] the pair
    #   (x = detected atoms found excited N_e, y = detected atoms), [6:12] the pair (N_e, N_e²)
    overflow: np.ndarray  # (1,)  probability weight that fell above the histogram
    passages: np.ndarray  # (1,) int64 atom passages

    @classmethod
    def zeros(cls, samples: int, levels: int) -> RawAccumulators:
        """Zeroed accumulators for ``samples`` record points and ``levels`` histogram bins."""
        return cls(
            time=np.zeros((samples, NSUMS)),
            time_hist=np.zeros((samples, levels)),
            arrival=np.zeros((samples, NSUMS)),
            arrival_hist=np.zeros((samples, levels)),
            steady_time=np.zeros(NSUMS),
            steady_time_hist=np.zeros(levels),
            steady_arrival=np.zeros(NSUMS),
            steady_arrival_hist=np.zeros(levels),
            clicks=np.zeros(2 * NSUMS),
            overflow=np.zeros(1),
            passages=np.zeros(1, dtype=np.int64),
        )


def _moments(sums: np.ndarray, hist: np.ndarray | None) -> Moments:
    sums = np.atleast_2d(sums)
    h = np.zeros((sums.shape[0], 1)) if hist is None else np.atleast_2d(hist)
    return Moments(*(sums[:, i].copy() for i in range(NSUMS)), hist=h.copy())


def to_result(plan: RecordPlan, raw: RawAccumulators, omega: float, ntraj: int) -> Result:
    """Wrap a block's raw accumulators as a :class:`~trajmaser.stats.Result`."""
    return Result(
        times=plan.times,
        arrival_index=plan.arrival_index,
        omega=float(omega),
        time=_moments(raw.time, raw.time_hist),
        arrival=_moments(raw.arrival, raw.arrival_hist),
        steady_time=_moments(raw.steady_time, raw.steady_time_hist),
        steady_arrival=_moments(raw.steady_arrival, raw.steady_arrival_hist),
        clicks=_moments(raw.clicks[:NSUMS], None),
        click_counts=_moments(raw.clicks[NSUMS:], None),
        ntraj=int(ntraj),
        passages=int(raw.passages[0]),
    )
