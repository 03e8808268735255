"""The interaction step of the Fock-path kernel: one atom through the cavity, exactly.

The atom enters |e,n⟩ (block m = n) or |g,n⟩ (block m = n − 1) of :mod:`trajmaser.blocks`.
Fast path: per-(n, entry state) tables of thresholds on the passage's uniform draw u decide
a passage without records inside and without a jump: entry |e⟩ iff u < pe; no jump iff u
lies below P(no jump over τ) mapped onto u's interval; exit |e⟩ iff u lies below P(no jump
and exit |e⟩) so mapped (:func:`passage_tables`).
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
from trajmaser.trajectories.fock_time import (
    integrate_w,
    occupy_block,
    survival_table,
    time_tables,
)
from trajmaser.trajectories.records import STOP_NONFINITE

#: Relative tolerance within which two times count as equal (records vs arrivals, window
#: edges vs interactions): a few units in the last place.
SNAP = 1e-15


class FockTables(NamedTuple):
    """Fast-path tables, index 2n + (0 for an atom entering |e⟩, 1 for |g⟩), n < size.

    ``u_nojump``: the uniform u (entry |e⟩ iff u < pe) gives no jump iff u < u_nojump;
    ``u_found``: and the atom leaves excited iff u < u_found; ``w_int``: ∫_0^τ w dt of the
    jump-free interaction (:func:`~trajmaser.trajectories.fock_time.time_tables`).
    ``stay`` (index n): the probability of no cavity event in the gap from n photons when
    every gap between an exit and the next arrival has the same length (regular pumping;
    :func:`~trajmaser.trajectories.fock_time.survival_table`), else empty.
    """

    u_nojump: np.ndarray
    u_found: np.ndarray
    w_int: np.ndarray
    stay: np.ndarray


def passage_tables(
    size: int, pe: float, consts: tuple, tau: float, gap: float | None = None
) -> FockTables:
    """The :class:`FockTables` for entry photon numbers n < size; ``gap``: the length of every
    gap between an exit and the next arrival if they are all equal, else None.

    For |e⟩ the passage's uniform u ∈ [0, pe) maps to u/pe, for |g⟩ u ∈ [pe, 1) to
    (u − pe)/(1 − pe); a threshold x on the mapped uniform is pe·x, resp. pe + (1 − pe)·x,
    on u (equal decisions up to rounding in the last place).
    """
    pnj_e, qe_e, pnj_g, qe_g = fock_tables(size, *consts, tau)
    w_e, w_g = time_tables(size, *consts, tau)
    w_g[0] = tau  # |g,0⟩: block −1, zero photons all along
    u_nojump = np.empty(2 * size)
    u_found = np.empty(2 * size)
    w_int = np.empty(2 * size)
    u_nojump[0::2] = pe * pnj_e
    u_found[0::2] = pe * (qe_e * pnj_e)
    u_nojump[1::2] = pe + (1.0 - pe) * pnj_g
    u_found[1::2] = pe + (1.0 - pe) * (qe_g * pnj_g)
    w_int[0::2] = np.clip(w_e, 0.0, tau)
    w_int[1::2] = np.clip(w_g, 0.0, tau)
    stay = np.zeros(0) if gap is None else survival_table(size, consts[2], consts[3], gap)
    return FockTables(u_nojump=u_nojump, u_found=u_found, w_int=w_int, stay=stay)


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
def jump(m, ce, cg, gamma, kappa, nbar_bath, rng):
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
def integrate_interaction(m, excited, t_arr, w_full, par, plan, tr, occ):
    """Time integrals of a whole jump-free interaction entering block m (from |e⟩ or |g⟩) at
    t_arr; ``w_full`` is its tabulated ∫ w dt (< 0: not tabulated)."""
    t_exit = t_arr + par.tau
    if par.time_probes:
        return
    if t_arr * (1.0 + SNAP) >= plan.t_burn and t_exit <= plan.t_end and w_full >= 0.0:
        occupy_block(m, par.tau, w_full, tr, occ)
    elif t_exit > plan.t_burn and t_arr < plan.t_end:
        ce, cg = (1.0 + 0j, 0j) if excited else (0j, 1.0 + 0j)
        integrate_run(m, ce, cg, t_arr, t_exit, par.consts, plan, tr, occ)


@kernel_step
def interaction_slow(m, ce, cg, s, u, ri, w_full, b, rng, par, plan, sched, raw, tr, occ):
    """Exact interaction from its entry at time s: sample records inside, jumps, time
    integrals, exit measurement.

    ``u`` is the uniform of the first segment's norm inversion (< 0: draw one).  Returns
    ``(n_after, found_excited, ri)``.
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
        if u < 0.0:
            u = rng.random()
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
                    excited = run_ce != 0j
                    integrate_interaction(m, excited, t_arr, w_full, par, plan, tr, occ)
                elif not par.time_probes:
                    integrate_run(run_m, run_ce, run_cg, run_s, s, par.consts, plan, tr, occ)
                found_e = (u / nrm) < ce.real * ce.real + ce.imag * ce.imag
                return (m if found_e else m + 1), found_e, ri
            w = cg.real * cg.real + cg.imag * cg.imag
            record_mixture(raw, tr, b, rec_kind[ri], m, w, plan.inv_probes)
            ri += 1
            u = -1.0  # the next segment draws its own
        else:
            tj = jump_time(a, bb, d, ce, cg, u, dt)
            ce1, cg1 = propagate(a, bb, d, ce, cg, tj)
            s = s + tj
            if not par.time_probes:
                integrate_run(run_m, run_ce, run_cg, run_s, s, par.consts, plan, tr, occ)
            m, ce, cg = jump(m, ce1, cg1, gamma, kappa, nbar_bath, rng)
            run_m, run_ce, run_cg, run_s = m, ce, cg, s
            whole = False
            u = -1.0


@kernel_step
def interaction_exact(n, u, excited, t_arr, ri, b, rng, par, plan, tables, sched, raw, tr, occ):
    """:func:`interaction` where the tables do not decide: a record inside, a jump, or n
    beyond the tables; ``u`` is the passage's uniform draw."""
    pe = par.pe
    if excited:
        m, ce0, cg0 = n, 1.0 + 0j, 0j
    else:
        m, ce0, cg0 = n - 1, 0j, 1.0 + 0j
    size = tables.w_int.shape[0] // 2
    w_full = tables.w_int[2 * n + (0 if excited else 1)] if n < size else -1.0
    rec_t = sched[0]
    if ri < rec_t.shape[0] and rec_t[ri] < t_arr + par.tau:  # a record inside
        return interaction_slow(
            m, ce0, cg0, t_arr, -1.0, ri, w_full, b, rng, par, plan, sched, raw, tr, occ
        )
    u = u / pe if excited else (u - pe) / (1.0 - pe)  # a fresh uniform
    if n >= size:
        pnj, qe = entry_probs(m, ce0, cg0, par.consts, par.tau)
        if u < pnj:  # no jump: measure the atom (u / pnj is again uniform)
            integrate_interaction(m, excited, t_arr, w_full, par, plan, tr, occ)
            found_e = u < qe * pnj
            return (m if found_e else m + 1), found_e, ri
    # a jump: exact norm inversion from the same u
    return interaction_slow(
        m, ce0, cg0, t_arr, u, ri, w_full, b, rng, par, plan, sched, raw, tr, occ
    )


@passage_step
def table_decision(n, u, pe, tables):
    """What the tables say of a passage from n photons with uniform u.

    Returns ``(excited, i, decided)``: the atom enters |e⟩ iff u < pe, i = 2n + (0 | 1) is
    its table index, and the tables decide the passage (no jump; the exit measurement is then
    u < u_found[i]) when n is within them and u < u_nojump[i].
    """
    excited = u < pe
    i = 2 * n + (0 if excited else 1)
    # (i ≥ 0: the unsigned index needs no negative-index wrap check)
    return excited, i, i < tables.u_nojump.shape[0] and u < tables.u_nojump[np.uint64(i)]


@passage_step
def interaction(n, t_arr, ri, b, rng, par, plan, tables, sched, raw, tr, occ):
    """Atom entering at ``t_arr`` with the cavity in |n⟩, up to its exit measurement.

    Returns ``(n_after, found_excited, ri)``.
    """
    u = rng.random()
    excited, i, decided = table_decision(n, u, par.pe, tables)
    rec_t = sched[0]
    no_record = ri >= rec_t.shape[0] or rec_t[ri] >= t_arr + par.tau
    if no_record and decided:
        # no record inside and no jump: entry block m, exit measurement from the same u
        found_e = u < tables.u_found[i]
        m = n if excited else n - 1
        integrate_interaction(m, excited, t_arr, tables.w_int[i], par, plan, tr, occ)
        return (m if found_e else m + 1), found_e, ri
    return interaction_exact(
        n, u, excited, t_arr, ri, b, rng, par, plan, tables, sched, raw, tr, occ
    )
