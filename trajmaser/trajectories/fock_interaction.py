"""The interaction step of the Fock-path kernel: one atom through the cavity, exactly.

The atom enters |e,n⟩ (block m = n) or |g,n⟩ (block m = n − 1) of :mod:`trajmaser.blocks`.
Fast path: per-n tables of the no-jump probability over τ and of the exit probability of
|e⟩ decide a passage without records inside and without a jump from one uniform draw.
Slow path: the interaction is split at record times (restarting the norm inversion after
renormalising is exact) and at jumps, whose times invert the no-jump norm exactly.

Where a no-jump probability underflows (κτ ≳ 12 at large n) the tables hold 0 and the slow
path runs, which stays exact.  A non-finite state (parameters beyond what doubles
represent, e.g. detuning = 1e300) sets ``raw.stop[0] = STOP_NONFINITE`` and returns.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit

from trajmaser.blocks import block_coeffs, jump_time, norm2, propagate
from trajmaser.trajectories.accumulate import kernel_step, passage_step, record_mixture
from trajmaser.trajectories.records import STOP_NONFINITE


class FockTables(NamedTuple):
    """Per entry photon number n: no-jump probability over τ and P(exit |e⟩ | no jump)."""

    pnj_e: np.ndarray
    qe_e: np.ndarray
    pnj_g: np.ndarray
    qe_g: np.ndarray


@kernel_step
def entry_probs(m, ce, cg, consts, tau):
    """No-jump probability over τ from block m, state (ce, cg), and P(exit |e⟩ | no jump).

    The second is 0 where the first underflows to 0 (that passage then takes the slow path).
    """
    g, gamma, kappa, nbar_bath, detuning = consts
    a, b, d = block_coeffs(m, g, gamma, kappa, nbar_bath, detuning)
    ce1, cg1 = propagate(a, b, d, ce, cg, tau)
    nrm = norm2(ce1, cg1)
    return nrm, (ce1.real**2 + ce1.imag**2) / nrm if nrm > 0.0 else 0.0


@njit(cache=True)
def fock_tables(size, g, gamma, kappa, nbar_bath, detuning, tau):
    """Per entry photon number n < size: no-jump probability over τ and P(exit in |e⟩ | no jump).

    Returns ``(pnj_e, qe_e, pnj_g, qe_g)`` for atoms entering in |e⟩ (block n) and in |g⟩
    (block n − 1).
    """
    consts = (g, gamma, kappa, nbar_bath, detuning)
    pnj_e = np.empty(size)
    qe_e = np.empty(size)
    pnj_g = np.empty(size)
    qe_g = np.empty(size)
    for n in range(size):
        pnj_e[n], qe_e[n] = entry_probs(n, 1.0 + 0j, 0j, consts, tau)
        pnj_g[n], qe_g[n] = entry_probs(n - 1, 0j, 1.0 + 0j, consts, tau)
    return pnj_e, qe_e, pnj_g, qe_g


@kernel_step
def _jump(m, ce, cg, gamma, kappa, nbar_bath, rng):
    """Apply one jump chosen with probability ∝ rate × ⟨c†c⟩; returns the normalised state."""
    pe = ce.real * ce.real + ce.imag * ce.imag
    pg = cg.real * cg.real + cg.imag * cg.imag
    r_sig = gamma * pe
    r_a = kappa * (1.0 + nbar_bath) * (m * pe + (m + 1) * pg)
    r_ad = kappa * nbar_bath * ((m + 1) * pe + (m + 2) * pg)
    v = rng.random() * (r_sig + r_a + r_ad)
    if v < r_sig:  # σ−: |e,m⟩ → |g,m⟩, block m − 1
        return m - 1, 0j, ce / math.sqrt(pe)
    if v < r_sig + r_a:  # a: block m − 1
        ce2 = ce * math.sqrt(m)
        cg2 = cg * math.sqrt(m + 1.0)
        m -= 1
    else:  # a†: block m + 1
        ce2 = ce * math.sqrt(m + 1.0)
        cg2 = cg * math.sqrt(m + 2.0)
        m += 1
    nrm = math.sqrt(norm2(ce2, cg2))
    return m, ce2 / nrm, cg2 / nrm


@kernel_step
def interaction_slow(m, ce, cg, s, t_exit, u, have_u, ri, b, rng, par, plan, sched, raw, tr):
    """Exact interaction from time s to t_exit: records inside, jumps, exit measurement.

    Returns ``(n_after, found_excited, ri)``.
    """
    g, gamma, kappa, nbar_bath, detuning = par.consts
    rec_t, rec_kind = sched
    nrec = rec_t.shape[0]
    while True:
        is_rec = ri < nrec and rec_t[ri] < t_exit
        seg_end = rec_t[ri] if is_rec else t_exit
        if not have_u:
            u = rng.random()
        have_u = False
        a, bb, d = block_coeffs(m, g, gamma, kappa, nbar_bath, detuning)
        dt = seg_end - s
        ce1, cg1 = propagate(a, bb, d, ce, cg, dt)
        nrm = norm2(ce1, cg1)
        if not nrm <= 2.0:  # NaN or inf: the parameters overflow the propagator
            raw.stop[0] = STOP_NONFINITE
            return m + 1, False, ri
        if nrm > u:  # no jump in this segment
            f = 1.0 / math.sqrt(nrm)
            ce, cg = ce1 * f, cg1 * f
            s = seg_end
            if not is_rec:
                found_e = (u / nrm) < ce.real * ce.real + ce.imag * ce.imag
                return (m if found_e else m + 1), found_e, ri
            w = cg.real * cg.real + cg.imag * cg.imag
            record_mixture(raw, tr, b, rec_kind[ri], m, w, plan.inv_probes)
            ri += 1
        else:
            tj = jump_time(a, bb, d, ce, cg, u, dt)
            ce1, cg1 = propagate(a, bb, d, ce, cg, tj)
            s = s + tj
            m, ce, cg = _jump(m, ce1, cg1, gamma, kappa, nbar_bath, rng)


@passage_step
def interaction(n, t_arr, ri, b, rng, par, plan, tables, sched, raw, tr):
    """Atom entering at ``t_arr`` with the cavity in |n⟩, up to its exit measurement.

    Returns ``(n_after, found_excited, ri)``.
    """
    pe = par.pe
    u = rng.random()
    excited = u < pe
    t_exit = t_arr + par.tau
    # entry state |e,n> or |g,n> lies in block m with amplitudes (ce0, cg0)
    if excited:
        m, ce0, cg0 = n, 1.0 + 0j, 0j
    else:
        m, ce0, cg0 = n - 1, 0j, 1.0 + 0j
    rec_t = sched[0]
    if ri < rec_t.shape[0] and rec_t[ri] < t_exit:  # a record falls inside: exact slow path
        return interaction_slow(
            m, ce0, cg0, t_arr, t_exit, 0.0, False, ri, b, rng, par, plan, sched, raw, tr
        )
    u = u / pe if excited else (u - pe) / (1.0 - pe)  # a fresh uniform
    if n < tables.pnj_e.shape[0]:
        pnj = tables.pnj_e[n] if excited else tables.pnj_g[n]
        qe = tables.qe_e[n] if excited else tables.qe_g[n]
    else:
        pnj, qe = entry_probs(m, ce0, cg0, par.consts, par.tau)
    if u < pnj:  # no jump: measure the atom (u / pnj is again uniform)
        found_e = u < qe * pnj
        return (m if found_e else m + 1), found_e, ri
    # a jump: exact norm inversion from the same u
    return interaction_slow(
        m, ce0, cg0, t_arr, t_exit, u, True, ri, b, rng, par, plan, sched, raw, tr
    )
