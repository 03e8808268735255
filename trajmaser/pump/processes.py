"""Arrival processes of the pump atoms (SPEC §4, docs/ARCHITECTURE.md time conventions).

Three statistics with mean rate r, interaction time τ (atoms never overlap, rτ < 1):

- ``regular``: atom k arrives at k / r.
- ``poisson``: the first atom at t = 0, then intervals τ + Exp(mean 1/r − τ) (a Poisson stream
  with dead time τ).
- ``binomial``: slots of length p / r, slot k spanning [k p/r, (k+1) p/r); each slot holds an
  atom (arriving at its start) with probability p, slot 0 included.  The first atom is in slot
  Geometric(p) − 1 and successive atoms are Geometric(p) slots apart.

Two interfaces: vectorised numpy samplers (:func:`arrival_times`, :func:`intervals`) and
numba-callable scalar functions (:func:`first_arrival`, :func:`next_arrival`) that the
trajectory kernels call with a :class:`numpy.random.Generator`.  Regular and binomial arrivals
are kept as an integer slot index so that arrival times are ``slot * slot_length`` exactly,
without accumulated rounding.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from trajmaser.rules import check_pump as validate_pump

REGULAR, POISSON, BINOMIAL = 0, 1, 2
_CODES = {"regular": REGULAR, "poisson": POISSON, "binomial": BINOMIAL}


def statistics_code(statistics: str) -> int:
    """Integer code of a pump statistics name (for numba kernels).

    Raises
    ------
    ValueError
        If ``statistics`` is not one of ``regular``, ``poisson``, ``binomial``.
    """
    try:
        return _CODES[statistics]
    except KeyError:
        raise ValueError(
            f"unknown pump statistics {statistics!r}; allowed: {', '.join(_CODES)}"
        ) from None


def slot_length(statistics: str, rate: float, p: float = 1.0) -> float:
    """Length of one slot: 1/r (regular), p/r (binomial); 0 for poisson (no slots)."""
    code = statistics_code(statistics)
    if code == REGULAR:
        return 1.0 / rate
    if code == BINOMIAL:
        return p / rate
    return 0.0


def mean_rate(statistics: str, rate: float, tau: float, p: float = 1.0) -> float:
    """Exact mean arrival rate 1 / E[interval] of the process (equals ``rate`` by design)."""
    validate_pump(statistics, rate, tau, p)
    code = statistics_code(statistics)
    if code == REGULAR:
        mean_interval = 1.0 / rate
    elif code == POISSON:
        mean_interval = tau + (1.0 / rate - tau)
    else:
        mean_interval = (p / rate) / p
    return 1.0 / mean_interval


def intervals(
    statistics: str, rate: float, tau: float, p: float, size: int, rng: np.random.Generator
) -> np.ndarray:
    """``size`` independent intervals between successive arrivals (s), vectorised.

    Parameters
    ----------
    statistics : {"regular", "poisson", "binomial"}
    rate, tau, p : float
        Mean rate r (1/s), interaction time τ (s), binomial slot probability.
    size : int
        Number of intervals.
    rng : numpy.random.Generator
        Source of randomness.
    """
    validate_pump(statistics, rate, tau, p)
    code = statistics_code(statistics)
    if code == REGULAR:
        return np.full(size, 1.0 / rate)
    if code == POISSON:
        return tau + rng.exponential(1.0 / rate - tau, size)
    return rng.geometric(p, size) * (p / rate)


def arrival_times(
    statistics: str, rate: float, tau: float, p: float, count: int, rng: np.random.Generator
) -> np.ndarray:
    """Arrival times of the first ``count`` atoms of one trajectory (s), vectorised.

    Regular and binomial times are computed as integer slot index × slot length.
    """
    validate_pump(statistics, rate, tau, p)
    code = statistics_code(statistics)
    if count <= 0:
        return np.zeros(0)
    if code == REGULAR:
        return np.arange(count) * (1.0 / rate)
    if code == POISSON:
        gaps = tau + rng.exponential(1.0 / rate - tau, count - 1)
        return np.concatenate(([0.0], np.cumsum(gaps)))
    slots = np.cumsum(rng.geometric(p, count)) - 1
    return slots * (p / rate)


# ----------------------------------------------------------------- numba-callable scalars
@njit(cache=True)
def first_arrival(code, slot_len, p, rng):
    """First arrival as ``(slot, t)``: slot index (−1 for poisson) and time (s)."""
    if code == BINOMIAL:
        slot = rng.geometric(p) - 1 if p < 1.0 else 0
        return slot, slot * slot_len
    if code == REGULAR:
        return 0, 0.0
    return -1, 0.0


@njit(cache=True)
def next_arrival(code, slot, t, slot_len, tau, rate, p, rng):
    """Next arrival ``(slot, t)`` after the one at ``(slot, t)``."""
    if code == REGULAR:
        slot += 1
        return slot, slot * slot_len
    if code == BINOMIAL:
        slot += rng.geometric(p) if p < 1.0 else 1
        return slot, slot * slot_len
    return slot, t + tau + rng.exponential(1.0 / rate - tau)
