"""When trajectories are recorded, and the one accumulator layout every kernel fills.

A kernel receives a :class:`KernelPlan` (the record grid as a numba-friendly tuple) and adds
into a :class:`RawAccumulators` (a named tuple of plain arrays, so numba kernels address its
fields by name); :func:`to_result` turns that into a mergeable :class:`~trajmaser.results.Result`.
The helpers that add into the layout are in :mod:`trajmaser.trajectories.accumulate`.

Raw layout: every "sums" array has last axis of length ``NSUMS`` = 6 = (count, Σx, Σy, Σx²,
Σy², Σxy); the ``batch_*`` arrays repeat a record's sums with a leading axis of
:data:`~trajmaser.results.NBATCH` batches (trajectory with global index i goes to batch
i % NBATCH).  Per-trajectory scalars live in a float array indexed by the ``TR_*`` constants.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from trajmaser.params import Model, RunParams
from trajmaser.results import NBATCH, NLAG, Batches, Moments, Result

NSUMS = 6
#: Per-trajectory scalars (index into the kernels' ``tr`` array): the sums of x = ⟨n⟩ and
#: y = ⟨n²⟩ over the steady probes (the probe estimator), and the largest photon number held
#: in the window above the histogram (Fock path).
TR_PROBE_X, TR_PROBE_Y, TR_MAXN = range(3)
TR_SIZE = 3
#: Why a kernel stopped early (``RawAccumulators.stop[0]``; ``stop[1]`` = the trajectory).
STOP_NONE, STOP_CANCELLED, STOP_NONFINITE = 0, 1, 2


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
        Probe strata edges j T / S; on the general path stratum j gets one uniform probe
        time (the Fock path integrates the steady window exactly instead).
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

    def kernel_plan(self) -> KernelPlan:
        """The grid as a :class:`KernelPlan` for the numba kernels."""
        steady_atoms = self.atoms - self.burn_in
        return KernelPlan(
            times=self.times,
            arrival_index=self.arrival_index,
            strata=self.strata,
            atoms=int(self.atoms),
            burn_in=int(self.burn_in),
            first_steady_stratum=int(self.first_steady_stratum),
            t_burn=float(self.t_burn),
            t_end=float(self.t_end),
            inv_probes=1.0 / self.steady_probes,
            inv_steady_atoms=1.0 / steady_atoms if steady_atoms > 0 else 0.0,
            inv_window=1.0 / (self.t_end - self.t_burn) if self.t_end > self.t_burn else 0.0,
        )


class KernelPlan(NamedTuple):
    """:class:`RecordPlan` fields as a named tuple (numba addresses them by name), with
    ``inv_probes`` = 1 / steady probes, ``inv_steady_atoms`` = 1 / (atoms − burn_in) and
    ``inv_window`` = 1 / (T − t_burn) (0 when there are none)."""

    times: np.ndarray
    arrival_index: np.ndarray
    strata: np.ndarray
    atoms: int
    burn_in: int
    first_steady_stratum: int
    t_burn: float
    t_end: float
    inv_probes: float
    inv_steady_atoms: float
    inv_window: float


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


class RawAccumulators(NamedTuple):
    """Plain arrays a kernel adds into (one block of trajectories): THE accumulator layout.

    ``*_hist`` arrays have ``levels`` photon-number bins; a kernel that meets a larger photon
    number adds its weight to ``overflow`` instead and the largest one to ``maxn`` (the
    driver then reruns the block with more levels).  S = samples, L = levels, NB = NBATCH.
    """

    time: np.ndarray  # (S, 6) pairs (⟨n⟩, ⟨n²⟩) at the sample times
    time_hist: np.ndarray  # (S, L)
    arrival: np.ndarray  # (S, 6) pairs just before the recorded atoms
    arrival_hist: np.ndarray  # (S, L)
    steady_time: np.ndarray  # (6,) per-trajectory averages over the steady time window
    steady_time_hist: np.ndarray  # (L,) per-trajectory p(n) averaged over that window, summed
    steady_arrival: np.ndarray  # (6,) per-trajectory averages over atoms burn_in..atoms-1
    steady_arrival_hist: np.ndarray  # (L,) summed over those arrivals / their number
    clicks: np.ndarray  # (12,) per trajectory over the steady window: [0:6] the pair
    #   (x = detected atoms found excited N_e, y = detected atoms), [6:12] the pair (N_e, N_e²)
    click_pairs: np.ndarray  # (NLAG, 6) per trajectory, lag j = row + 1: (x_j, y_j) pair
    #   counts of (k detected excited, k + j detected excited) and (…, k + j detected)
    batch_time: np.ndarray  # (NB, S, 6)
    batch_time_hist: np.ndarray  # (NB, S, L)
    batch_arrival: np.ndarray  # (NB, S, 6)
    batch_arrival_hist: np.ndarray  # (NB, S, L)
    batch_steady_time: np.ndarray  # (NB, 6)
    batch_steady_time_hist: np.ndarray  # (NB, L)
    batch_steady_arrival: np.ndarray  # (NB, 6)
    batch_steady_arrival_hist: np.ndarray  # (NB, L)
    overflow: np.ndarray  # (1,) probability weight that fell above the histograms
    maxn: np.ndarray  # (1,) int64, the largest photon number met
    passages: np.ndarray  # (1,) int64 atom passages
    stop: np.ndarray  # (2,) int64: STOP_* code and the trajectory (in the block) it hit

    @classmethod
    def zeros(cls, samples: int, levels: int) -> RawAccumulators:
        """Zeroed accumulators for ``samples`` record points and ``levels`` histogram bins."""
        s, lv, nb = int(samples), int(levels), NBATCH
        return cls(
            time=np.zeros((s, NSUMS)),
            time_hist=np.zeros((s, lv)),
            arrival=np.zeros((s, NSUMS)),
            arrival_hist=np.zeros((s, lv)),
            steady_time=np.zeros(NSUMS),
            steady_time_hist=np.zeros(lv),
            steady_arrival=np.zeros(NSUMS),
            steady_arrival_hist=np.zeros(lv),
            clicks=np.zeros(2 * NSUMS),
            click_pairs=np.zeros((NLAG, NSUMS)),
            batch_time=np.zeros((nb, s, NSUMS)),
            batch_time_hist=np.zeros((nb, s, lv)),
            batch_arrival=np.zeros((nb, s, NSUMS)),
            batch_arrival_hist=np.zeros((nb, s, lv)),
            batch_steady_time=np.zeros((nb, NSUMS)),
            batch_steady_time_hist=np.zeros((nb, lv)),
            batch_steady_arrival=np.zeros((nb, NSUMS)),
            batch_steady_arrival_hist=np.zeros((nb, lv)),
            overflow=np.zeros(1),
            maxn=np.zeros(1, dtype=np.int64),
            passages=np.zeros(1, dtype=np.int64),
            stop=np.zeros(2, dtype=np.int64),
        )


def _moments(sums: np.ndarray, hist: np.ndarray | None) -> Moments:
    """Moments from raw sums (..., P, 6) and an optional histogram (..., P, L)."""
    h = np.zeros((*sums.shape[:-1], 1)) if hist is None else hist
    return Moments(*(sums[..., i].copy() for i in range(NSUMS)), hist=h.copy())


def _batches(raw: RawAccumulators) -> Batches | None:
    """The batch sums, or None when the kernel did not fill them (no trajectory counted)."""
    if raw.batch_steady_time[:, 0].sum() == 0.0:
        return None
    nb = raw.batch_steady_time.shape[0]
    return Batches(
        time=_moments(raw.batch_time, raw.batch_time_hist),
        arrival=_moments(raw.batch_arrival, raw.batch_arrival_hist),
        steady_time=_moments(
            raw.batch_steady_time.reshape(nb, 1, NSUMS),
            raw.batch_steady_time_hist.reshape(nb, 1, -1),
        ),
        steady_arrival=_moments(
            raw.batch_steady_arrival.reshape(nb, 1, NSUMS),
            raw.batch_steady_arrival_hist.reshape(nb, 1, -1),
        ),
    )


def to_result(plan: RecordPlan, raw: RawAccumulators, omega: float, ntraj: int) -> Result:
    """Wrap a block's raw accumulators as a :class:`~trajmaser.results.Result`.

    ``batches`` and ``click_pairs`` are None when the kernel left them empty.
    """
    pairs = raw.click_pairs if raw.click_pairs[:, 0].sum() > 0.0 else None
    return Result(
        times=plan.times,
        arrival_index=plan.arrival_index,
        omega=float(omega),
        time=_moments(raw.time, raw.time_hist),
        arrival=_moments(raw.arrival, raw.arrival_hist),
        steady_time=_moments(raw.steady_time[None], raw.steady_time_hist[None]),
        steady_arrival=_moments(raw.steady_arrival[None], raw.steady_arrival_hist[None]),
        clicks=_moments(raw.clicks[None, :NSUMS], None),
        click_counts=_moments(raw.clicks[None, NSUMS:], None),
        ntraj=int(ntraj),
        passages=int(raw.passages[0]),
        click_pairs=None if pairs is None else _moments(pairs, None),
        batches=_batches(raw),
    )
