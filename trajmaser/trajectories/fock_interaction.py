"""The interaction step of the Fock-path kernel: one atom through the cavity, exactly.

The atom enters |e,n⟩ (block m = n) or |g,n⟩ (block m = n − 1) of :mod:`trajmaser.blocks`.
Fast path: per-n tables of the no-jump probability over τ and of the exit probability of
|e⟩ decide a passage without records inside and without a jump from one uniform draw.
Slow path: the interaction is split at record times (restarting the norm inversion after
renormalising is exact) and at jumps, whose times invert the no-jump norm exactly.

Where a no-jump probability underflows (κτ ≳ 12 at large n) the tables hold 0 and the slow
path runs, which stays exact.  A non-finite state (parameters beyond what doubles
represent, e.g. detuning = 1e300) sets ``raw.stop[0] = STOP_NONFINITE`` and returns.

Each jump-free run of the interaction (entry or a jump up to the next jump or the exit;
records do not interrupt it) is integrated over the steady window with
:mod:`trajmaser.trajectories.fock_time`: from the tables when it is the whole interaction.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit

from trajmaser.blocks import block_coeffs, jump_time, norm2, propagate
from trajmaser.trajectories.accumulate import kernel_step, passage_step, record_mixture
from trajmaser.trajectories.fock_time import integrate_w, occupy_block
from trajmaser.trajectories.records import STOP_NONFINITE

#: Relative tolerance within which two times count as equal (records vs arrivals, window
#: edges vs interactions): a few units in the last place.
SNAP = 1e-15


class FockTables(NamedTuple):
    """Per entry photon number n: no-jump probability over τ, P(exit |e⟩ | no jump) and
    ∫_0^τ w dt of the jump-free interaction (:func:`~trajmaser.trajectories.fock_time.
    time_tables`), for entry in |e⟩ and in |g⟩."""

    pnj_e: np.ndarray
    qe_e: np.ndarray
    pnj_g: np.ndarray
    qe_g: np.ndarray
    w_e: np.ndarray
    w_g: np.ndarray


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
def integrate_run(m, ce, cg, r0, r1, consts, plan, tr, occ):
    """Time integrals of a jump-free run in block m, state (ce, cg) at r0, up to r1, over its
    overlap with the steady window."""
    lo = max(r0, plan.t_burn)
    hi = min(r1, plan.t_end)
    if hi > lo:
        g, gamma, kappa, nbar_bath, detuning = consts
        a, b, d = block_coeffs(m, g, gamma, kappa, nbar_bath, detuning)
        occupy_block(m, hi - lo, integrate_w(a, b, d, ce, cg, lo - r0, hi - r0), tr, occ)


@passage_step
def integrate_interaction(m, ce, cg, t_arr, w_full, par, plan, tr, occ):
    """Time integrals of a whole jump-free interaction entering block m at t_arr; ``w_full``
    is its tabulated ∫ w dt (< 0: not tabulated)."""
    t_exit = t_arr + par.tau
    if par.time_probes:
        return
    if t_arr * (1.0 + SNAP) >= plan.t_burn and t_exit <= plan.t_end and w_full >= 0.0:
        occupy_block(m, par.tau, w_full, tr, occ)
    elif t_exit > plan.t_burn and t_arr < plan.t_end:
        integrate_run(m, ce, cg, t_arr, t_exit, par.consts, plan, tr, occ)


@kernel_step
def interaction_slow(m, ce, cg, s, u, have_u, ri, w_full, b, rng, par, plan, sched, raw, tr, occ):
    """Exact interaction from its entry at time s: sample records inside, jumps, time
    integrals, exit measurement.

    Returns ``(n_after, found_excited, ri)``.
    """
    g, gamma, kappa, nbar_bath, detuning = par.consts
    rec_t, rec_kind = sched
    t_arr = s
    t_exit = s + par.tau
    run_m, run_ce, run_cg, run_s = m, ce, cg, s  # the current jump-free run
    whole = True  # no jump so far
    while True:
        is_rec = ri < rec_t.shape[0] and rec_t[ri] < t_exit
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
                if whole:
                    integrate_interaction(m, run_ce, run_cg, t_arr, w_full, par, plan, tr, occ)
                elif not par.time_probes:
                    integrate_run(run_m, run_ce, run_cg, run_s, s, par.consts, plan, tr, occ)
                found_e = (u / nrm) < ce.real * ce.real + ce.imag * ce.imag
                return (m if found_e else m + 1), found_e, ri
            w = cg.real * cg.real + cg.imag * cg.imag
            record_mixture(raw, tr, b, rec_kind[ri], m, w, plan.inv_probes)
            ri += 1
        else:
            tj = jump_time(a, bb, d, ce, cg, u, dt)
            ce1, cg1 = propagate(a, bb, d, ce, cg, tj)
            s = s + tj
            if not par.time_probes:
                integrate_run(run_m, run_ce, run_cg, run_s, s, par.consts, plan, tr, occ)
            m, ce, cg = _jump(m, ce1, cg1, gamma, kappa, nbar_bath, rng)
            run_m, run_ce, run_cg, run_s = m, ce, cg, s
            whole = False


@passage_step
def interaction(n, t_arr, ri, b, rng, par, plan, tables, sched, raw, tr, occ):
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
    tabulated = n < tables.pnj_e.shape[0]
    w_full = -1.0
    if tabulated:
        w_full = tables.w_e[n] if excited else tables.w_g[n]
    rec_t = sched[0]
    if ri < rec_t.shape[0] and rec_t[ri] < t_exit:  # a record falls inside: exact slow path
        return interaction_slow(
            m, ce0, cg0, t_arr, 0.0, False, ri, w_full, b, rng, par, plan, sched, raw, tr, occ
        )
    u = u / pe if excited else (u - pe) / (1.0 - pe)  # a fresh uniform
    if tabulated:
        pnj = tables.pnj_e[n] if excited else tables.pnj_g[n]
        qe = tables.qe_e[n] if excited else tables.qe_g[n]
    else:
        pnj, qe = entry_probs(m, ce0, cg0, par.consts, par.tau)
    if u < pnj:  # no jump: measure the atom (u / pnj is again uniform)
        integrate_interaction(m, ce0, cg0, t_arr, w_full, par, plan, tr, occ)
        found_e = u < qe * pnj
        return (m if found_e else m + 1), found_e, ri
    # a jump: exact norm inversion from the same u
    return interaction_slow(
        m, ce0, cg0, t_arr, u, True, ri, w_full, b, rng, par, plan, sched, raw, tr, occ
    )
