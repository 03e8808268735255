"""What one pump statistics supplies: its keys, rule, samplers and exact averaged gap maps.

A statistics is a subclass of :class:`PumpStatistics` in its own module of this package,
listed once in :mod:`trajmaser.pump.registry`.  Everything else (the TOML keys, the validity
rule in :mod:`trajmaser.rules`, the numba dispatch of the trajectory kernels, the density
matrices of :mod:`trajmaser.dm`) asks the registry.

Gap maps are written once for both density-matrix paths through a :class:`GapAlgebra`: the
diagonal path hands over the birth–death generator G of the empty cavity on p(n) (one dense
block), the general path the Liouvillian of the empty cavity split into its
excitation-difference sectors.  ``blockwise(func)`` applies a function of one dense generator
block to every block and returns the assembled maps, so a statistics writes its formulas for
one matrix exponent and gets both paths.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from trajmaser.params import ConfigError

__all__ = ["AveragedMaps", "GapAlgebra", "PumpKey", "PumpStatistics"]


@dataclass(frozen=True)
class PumpKey:
    """One extra ``[pump]`` key of a statistics.

    Attributes
    ----------
    name : str
        TOML key and :attr:`trajmaser.params.Model.pump_values` key.
    doc : str
        One line for error messages and docs.
    default : float or None
        Value when a :class:`~trajmaser.params.Model` does not give it; ``None``: required.
    """

    name: str
    doc: str
    default: float | None = None


@dataclass(frozen=True)
class AveragedMaps:
    """Pump-averaged maps of the cavity, given the per-atom map A and ∫_0^τ A(s) ds.

    Attributes
    ----------
    gap : matrix
        S: end of an interaction → just before the next atom, averaged over the gap law.
    first : matrix
        Cavity at t = 0 → just before the first atom.
    step : matrix
        S A: just before atom k → just before atom k + 1.
    occupancy : matrix
        Arrival law → continuous-time average law (renewal–reward over one cycle).
    chain : matrix
        A map whose fixed point is the stationary arrival law (``step`` or a cheaper
        equivalent, e.g. the slot-boundary chain of binomial pumping).
    """

    gap: Any
    first: Any
    step: Any
    occupancy: Any
    chain: Any


class GapAlgebra(Protocol):
    """The empty-cavity generator seen by a statistics (dense, or sector by sector)."""

    eye: Any

    def blockwise(self, func) -> tuple:
        """``func(block) -> tuple of ndarrays`` on every generator block; the assembled tuple."""


class PumpStatistics:
    """Base class of one arrival process with mean rate r and interaction time τ.

    Subclasses set :attr:`name`, :attr:`keys`, :attr:`first_kernel`, :attr:`next_kernel`
    and implement :meth:`check`, :meth:`kernel_pars`, :meth:`intervals` and
    :meth:`averaged_maps`; :meth:`arrival_times`, :meth:`slots` and :meth:`dead_time_rate`
    have defaults.  ``values`` below is the mapping key → value of :attr:`keys`.

    The numba kernels are ``first_kernel(pars, rng) -> (slot, t)`` and
    ``next_kernel(slot, t, pars, rng) -> (slot, t)``, with ``pars`` from :meth:`kernel_pars`;
    ``slot`` is an integer slot index for slotted processes (times are ``slot × length``
    exactly) and −1 otherwise.

    :attr:`series` names the exact continuous-time series of :func:`trajmaser.dm.time_series`
    that applies: ``"slots"`` (then :meth:`slots` is given and ``chain`` of
    :meth:`averaged_maps` is the slot-start → slot-start map), ``"dead_time"`` (then
    :meth:`dead_time_rate` is given; diagonal models only) or ``None`` (none).
    """

    name: str = ""
    keys: tuple[PumpKey, ...] = ()
    summary: str = ""
    first_kernel: Any = None
    next_kernel: Any = None
    series: str | None = None  # "slots" or "dead_time": which exact time series applies
    code: int = -1  # set by the registry: the index the kernels dispatch on

    def values(self, pump_values: dict[str, float]) -> dict[str, float]:
        """This statistics' keys from a model's ``pump_values`` (defaults filled in).

        Raises
        ------
        ConfigError
            If a required key is missing.
        """
        out = {}
        for key in self.keys:
            value = pump_values.get(key.name, key.default)
            if value is None:
                raise ConfigError(f"pump statistics {self.name!r} needs {key.name!r} ({key.doc})")
            out[key.name] = float(value)
        return out

    def check(self, rate: float, tau: float, values: dict[str, float]) -> None:
        """Rules beyond r > 0, τ > 0, rτ < 1 (checked by :func:`trajmaser.rules.check_pump`)."""

    def kernel_pars(self, rate: float, tau: float, values: dict[str, float]) -> np.ndarray:
        """float64 parameters of the numba samplers."""
        raise NotImplementedError

    def mean_interval(self, rate: float, tau: float, values: dict[str, float]) -> float:
        """Exact mean interval between successive atoms (s); 1/r for every statistics here."""
        raise NotImplementedError

    def intervals(
        self, rate: float, tau: float, values: dict, size: int, rng: np.random.Generator
    ) -> np.ndarray:
        """``size`` independent intervals between successive atoms (s), vectorised."""
        raise NotImplementedError

    def arrival_times(
        self, rate: float, tau: float, values: dict, count: int, rng: np.random.Generator
    ) -> np.ndarray:
        """Times of the first ``count`` atoms (s): the first at t = 0, then :meth:`intervals`."""
        if count <= 0:
            return np.zeros(0)
        gaps = self.intervals(rate, tau, values, count - 1, rng)
        return np.concatenate(([0.0], np.cumsum(gaps)))

    def averaged_maps(
        self, gap: GapAlgebra, a_map, a_int, rate: float, tau: float, values: dict
    ) -> AveragedMaps:
        """Exact pump-averaged maps (:class:`AveragedMaps`) from A and ∫_0^τ A."""
        raise NotImplementedError

    def slots(self, rate: float, values: dict) -> tuple[float, float] | None:
        """``(slot length, probability that a slot holds an atom)`` for slotted processes
        (an atom can arrive only at the start of a slot, independently per slot), else None.
        Slotted processes have an exact continuous-time series in :mod:`trajmaser.dm`."""
        return None

    def dead_time_rate(self, rate: float, tau: float, values: dict) -> float | None:
        """μ when the intervals are τ + Exp(μ) (the Poisson delay-equation series applies)."""
        return None


def check_range(
    what: str, name: str, value: float, lo: float, hi: float, lo_open: bool = False
) -> None:
    """Raise ConfigError unless ``value`` is finite and in [lo, hi] (or (lo, hi])."""
    ok = math.isfinite(value) and (lo < value if lo_open else lo <= value) and value <= hi
    if not ok:
        low = f"{lo:g} <" if lo_open else f"{lo:g} <="
        raise ConfigError(f"{what} needs {low} {name} <= {hi:g}, got {name} = {value}")
