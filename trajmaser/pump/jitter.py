"""Periodic pumping with jitter: the first atom at t = 0, then intervals uniform in
[(1 − j)/r, (1 + j)/r], 0 ≤ j ≤ 1 (j = 0 is regular pumping).  Atoms never overlap when the
shortest interval is at least τ: (1 − j)/r ≥ τ."""

from __future__ import annotations

import numpy as np
from numba import njit

from trajmaser.params import ConfigError
from trajmaser.pump.base import AveragedMaps, PumpKey, PumpStatistics, check_range
from trajmaser.pump.gapmath import uniform_average


@njit(cache=True)
def first(pars, rng):
    """First atom at t = 0 (no slots: slot = −1)."""
    return -1, 0.0


@njit(cache=True)
def following(slot, t, pars, rng):
    """Next atom after an interval uniform in [pars[0], pars[1]] = [(1 − j)/r, (1 + j)/r]."""
    return slot, t + rng.uniform(pars[0], pars[1])


def _bounds(rate: float, values: dict) -> tuple[float, float]:
    j = values["jitter"]
    return (1.0 - j) / rate, (1.0 + j) / rate


class Jitter(PumpStatistics):
    """Independent intervals, uniform within ± j/r of the period 1/r."""

    name = "jitter"
    summary = "first atom at t = 0, then intervals uniform in [(1 − j)/r, (1 + j)/r]"
    keys = (PumpKey("jitter", "j: intervals uniform in [(1 − j)/r, (1 + j)/r], 0 <= j <= 1"),)
    first_kernel = first
    next_kernel = following

    def check(self, rate, tau, values):
        check_range("jitter pump", "jitter", values["jitter"], 0.0, 1.0)
        shortest = _bounds(rate, values)[0]
        if shortest < tau * (1.0 - 1e-12):
            j_max = 1.0 - rate * tau
            raise ConfigError(
                f"jitter pump: the shortest interval (1 - jitter)/r = {shortest:.6g} s is "
                f"shorter than tau = {tau:.6g} s, so atoms would overlap; need "
                f"jitter <= 1 - r·tau = {j_max:.6g}"
            )

    def kernel_pars(self, rate, tau, values):
        return np.array(_bounds(rate, values))

    def mean_interval(self, rate, tau, values):
        lo, hi = _bounds(rate, values)
        return 0.5 * (lo + hi)

    def intervals(self, rate, tau, values, size, rng):
        lo, hi = _bounds(rate, values)
        return rng.uniform(lo, hi, size)

    def averaged_maps(self, gap, a_map, a_int, rate, tau, values):
        """The free time X − τ after an atom is uniform in [lo, lo + w], lo = (1 − j)/r − τ,
        w = 2j/r: S = ⟨e^{G(X−τ)}⟩, first = 1, and occupancy = r (∫_0^τ A + J A) with
        J = ⟨∫_0^{X−τ} e^{Gs} ds⟩ (renewal–reward over one interval of mean 1/r); S and J from
        :func:`trajmaser.pump.gapmath.uniform_average`."""
        lo, hi = _bounds(rate, values)
        s_map, j_map = gap.blockwise(lambda b: uniform_average(b, lo - tau, hi - lo))
        step = s_map @ a_map
        occ = rate * (a_int + j_map @ a_map)
        return AveragedMaps(gap=s_map, first=gap.eye, step=step, occupancy=occ, chain=step)


STATISTICS = Jitter()
