"""Poisson pumping with dead time τ: the first atom at t = 0, then intervals τ + Exp(μ),
μ = 1/(1/r − τ), so that atoms never overlap and the mean rate is r."""

from __future__ import annotations

import numpy as np
from numba import njit

from trajmaser.pump.base import AveragedMaps, PumpStatistics
from trajmaser.pump.gapmath import resolvent


@njit(cache=True)
def first(pars, rng):
    """First atom at t = 0 (no slots: slot = −1)."""
    return -1, 0.0


@njit(cache=True)
def following(slot, t, pars, rng):
    """Next atom after τ + Exp(mean 1/r − τ); pars = (τ, 1/r − τ)."""
    return slot, t + pars[0] + rng.exponential(pars[1])


class Poisson(PumpStatistics):
    """A Poisson stream of rate μ after each atom's dead time τ."""

    name = "poisson"
    summary = "first atom at t = 0, then intervals τ + Exp(mean 1/r − τ)"
    series = "dead_time"
    first_kernel = first
    next_kernel = following

    def kernel_pars(self, rate, tau, values):
        return np.array([tau, 1.0 / rate - tau])

    def mean_interval(self, rate, tau, values):
        return tau + (1.0 / rate - tau)

    def intervals(self, rate, tau, values, size, rng):
        return tau + rng.exponential(1.0 / rate - tau, size)

    def averaged_maps(self, gap, a_map, a_int, rate, tau, values):
        """S = μ(μ − G)^{-1}, first = 1, occupancy = r (∫_0^τ A + (μ − G)^{-1} A)."""
        mu = 1.0 / (1.0 / rate - tau)
        (res,) = gap.blockwise(lambda b: (resolvent(b, mu),))
        s_map = mu * res
        step = s_map @ a_map
        occ = rate * (a_int + res @ a_map)
        return AveragedMaps(gap=s_map, first=gap.eye, step=step, occupancy=occ, chain=step)

    def dead_time_rate(self, rate, tau, values):
        return 1.0 / (1.0 / rate - tau)


STATISTICS = Poisson()
