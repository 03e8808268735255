"""Regular pumping: atom k arrives at k / r (slot k of length 1/r, every slot occupied)."""

from __future__ import annotations

import numpy as np
from numba import njit

from trajmaser.pump.base import AveragedMaps, PumpStatistics
from trajmaser.pump.gapmath import exp_int


@njit(cache=True)
def first(pars, rng):
    """First atom: slot 0 at t = 0."""
    return 0, 0.0


@njit(cache=True)
def following(slot, t, pars, rng):
    """Next atom: the next slot; pars = (1/r,)."""
    slot += 1
    return slot, slot * pars[0]


class Regular(PumpStatistics):
    """Gaps exactly 1/r; the empty cavity evolves for 1/r − τ between atoms."""

    name = "regular"
    summary = "atom k arrives at t = k/r"
    series = "slots"
    first_kernel = first
    next_kernel = following

    def kernel_pars(self, rate, tau, values):
        return np.array([1.0 / rate])

    def mean_interval(self, rate, tau, values):
        return 1.0 / rate

    def intervals(self, rate, tau, values, size, rng):
        return np.full(size, 1.0 / rate)

    def arrival_times(self, rate, tau, values, count, rng):
        return np.arange(max(count, 0)) * (1.0 / rate)

    def averaged_maps(self, gap, a_map, a_int, rate, tau, values):
        """S = e^{G(1/r − τ)}, first = 1, occupancy = r (∫_0^τ A + ∫_0^{1/r−τ} e^{Gs} ds A)."""
        gmap, gint = gap.blockwise(lambda b: exp_int(b, 1.0 / rate - tau))
        step = gmap @ a_map
        occ = rate * (a_int + gint @ a_map)
        return AveragedMaps(gap=gmap, first=gap.eye, step=step, occupancy=occ, chain=step)

    def slots(self, rate, values):
        return 1.0 / rate, 1.0


STATISTICS = Regular()
