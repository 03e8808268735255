"""Arrival processes of the pump atoms: a registry of statistics (see :mod:`.base`).

Each statistics (``regular``, ``poisson``, ``binomial``, ``jitter``) lives in its own module
with its ``[pump]`` keys, its rule (called by :func:`trajmaser.rules.check_pump`), its numba
and vectorised samplers and its exact pump-averaged gap maps for :mod:`trajmaser.dm`.
Vectorised samplers take validated parameters (:func:`trajmaser.rules.check_pump`).
"""

from __future__ import annotations

import numpy as np

from trajmaser.pump.base import AveragedMaps, PumpKey, PumpStatistics
from trajmaser.pump.kernels import first_arrival, kernel_args, next_arrival
from trajmaser.pump.registry import NAMES, STATISTICS, get, keys, statistics_code

__all__ = [
    "NAMES",
    "STATISTICS",
    "AveragedMaps",
    "PumpKey",
    "PumpStatistics",
    "arrival_times",
    "first_arrival",
    "get",
    "intervals",
    "kernel_args",
    "keys",
    "mean_rate",
    "next_arrival",
    "statistics_code",
]


def _values(statistics: str, params: dict | None):
    s = get(statistics)
    return s, s.values(dict(params or {}))


def mean_rate(statistics: str, rate: float, tau: float, params: dict | None = None) -> float:
    """Exact mean arrival rate 1 / E[interval] (equals ``rate`` by design)."""
    s, v = _values(statistics, params)
    return 1.0 / s.mean_interval(rate, tau, v)


def intervals(
    statistics: str,
    rate: float,
    tau: float,
    params: dict | None,
    size: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """``size`` independent intervals between successive atoms (s), vectorised.

    Parameters
    ----------
    statistics : str
        A registered name (:data:`NAMES`).
    rate, tau : float
        Mean rate r (1/s) and interaction time τ (s).
    params : dict or None
        The statistics' extra keys (e.g. ``{"p": 0.5}``); defaults filled in.
    size : int
    rng : numpy.random.Generator
    """
    s, v = _values(statistics, params)
    return s.intervals(rate, tau, v, size, rng)


def arrival_times(
    statistics: str,
    rate: float,
    tau: float,
    params: dict | None,
    count: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """Times of the first ``count`` atoms of one trajectory (s), vectorised.

    Slotted statistics give integer slot index × slot length exactly.
    """
    s, v = _values(statistics, params)
    return s.arrival_times(rate, tau, v, count, rng)
