"""Binomial pumping: slots of length p/r, slot k spanning [k p/r, (k+1) p/r); each slot holds
an atom (arriving at its start) with probability p, slot 0 included.  The first atom is in
slot Geometric(p) − 1 and successive atoms are Geometric(p) slots apart."""

from __future__ import annotations

import numpy as np
from numba import njit
from scipy.linalg import expm

from trajmaser.params import ConfigError
from trajmaser.pump.base import AveragedMaps, PumpKey, PumpStatistics, check_range
from trajmaser.pump.gapmath import exp_int


@njit(cache=True)
def first(pars, rng):
    """First atom in slot Geometric(p) − 1; pars = (p/r, p)."""
    p = pars[1]
    slot = rng.geometric(p) - 1 if p < 1.0 else 0
    return slot, slot * pars[0]


@njit(cache=True)
def following(slot, t, pars, rng):
    """Next atom Geometric(p) slots later; pars = (p/r, p)."""
    p = pars[1]
    slot += rng.geometric(p) if p < 1.0 else 1
    return slot, slot * pars[0]


class Binomial(PumpStatistics):
    """Independent slot occupation; p = 1 is regular pumping."""

    name = "binomial"
    summary = "slots of length p/r, each holding an atom with probability p"
    keys = (PumpKey("p", "probability that a slot of length p/r holds an atom", 1.0),)
    series = "slots"
    first_kernel = first
    next_kernel = following

    def check(self, rate, tau, values):
        p = values["p"]
        check_range("binomial pump", "p", p, 0.0, 1.0, lo_open=True)
        if p / rate < tau * (1.0 - 1e-12):
            raise ConfigError(
                f"binomial slots p/r = {p / rate:.6g} s are shorter than tau = {tau:.6g} s; "
                f"need p >= r·tau = {rate * tau:.6g}"
            )

    def kernel_pars(self, rate, tau, values):
        return np.array([values["p"] / rate, values["p"]])

    def mean_interval(self, rate, tau, values):
        return (values["p"] / rate) / values["p"]

    def intervals(self, rate, tau, values, size, rng):
        p = values["p"]
        return rng.geometric(p, size) * (p / rate)

    def arrival_times(self, rate, tau, values, count, rng):
        p = values["p"]
        if count <= 0:
            return np.zeros(0)
        return (np.cumsum(rng.geometric(p, count)) - 1) * (p / rate)

    def averaged_maps(self, gap, a_map, a_int, rate, tau, values):
        """With F = p Σ_j (1 − p)^j e^{G j p/r} = p (1 − (1 − p) e^{G p/r})^{-1}:
        S = F e^{G(p/r − τ)}, first = F; the arrival law is the fixed point of the slot chain
        K = p e^{G(p/r − τ)} A + (1 − p) e^{G p/r}, and the time average over a slot is
        occupancy = [p (∫_0^τ A + ∫_0^{p/r−τ} e^{Gs} ds A) + (1 − p) ∫_0^{p/r} e^{Gs} ds] r/p.
        """
        p = values["p"]
        slot = p / rate

        def blocks(b):
            ggap, gint_gap = exp_int(b, slot - tau)
            gslot, gint_slot = exp_int(b, slot)
            eye = np.eye(b.shape[0])
            geo = p * np.linalg.solve(eye - (1.0 - p) * gslot, eye)
            return ggap, gint_gap, gint_slot, geo, expm(b * (slot - tau)), expm(b * slot)

        ggap, gint_gap, gint_slot, geo, e_gap, e_slot = gap.blockwise(blocks)
        s_map = geo @ ggap
        occ = (p * (a_int + gint_gap @ a_map) + (1.0 - p) * gint_slot) / slot
        chain = p * e_gap @ a_map + (1.0 - p) * e_slot
        return AveragedMaps(gap=s_map, first=geo, step=s_map @ a_map, occupancy=occ, chain=chain)

    def slots(self, rate, values):
        return values["p"] / rate, values["p"]


STATISTICS = Binomial()
