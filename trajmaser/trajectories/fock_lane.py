"""The Fock path's lane: runs of ordinary passages with the per-passage checks hoisted.

Most passages of a Fock-path trajectory contain no record time, cross no edge of the steady
window and are not an arrival record, so the checks that :func:`~trajmaser.trajectories.fock.
run_fock`'s passage loop makes for them on every passage can be made once for a whole run of
passages: the lane runs atoms k < ``k_lim`` while the next passage (gap, interaction) lies
before the next record time and wholly before the steady window (``steady`` False) or wholly
inside it (``steady`` True).  Each passage does exactly what the general loop would do for
it, with the same random draws in the same order and the same additions, so results are
bitwise those of the loop without the lane.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from trajmaser import pump
from trajmaser.trajectories.accumulate import (
    CUR_D,
    CUR_E,
    click_flush,
    kernel_step,
    passage_step,
)
from trajmaser.trajectories.fock_interaction import SNAP, interaction_exact
from trajmaser.trajectories.fock_time import gap_evolve, gap_timed, occupy_block
from trajmaser.trajectories.records import STOP_NONE, STOP_NONFINITE, TR_MAXN

#: A word of 64 set bits.
ALL = np.uint64(0xFFFFFFFFFFFFFFFF)

__all__ = ["fock_lane", "next_arrival"]

#: The pump's next-arrival sampler, compiled inline into the passage loops from the pump's own
#: source (a call costs about a quarter of a passage); not cached on its own.
next_arrival = njit(inline="always", _nrt=False)(pump.next_arrival.py_func)


@kernel_step
def fock_lane(n, k, k_lim, t, t_arr, slot, ri, t_rec, steady, b, rng, par, plan, tables, sched, raw,
              tr, occ, arrivals, cb):  # fmt: skip
    """Passages of atoms k … while k < ``k_lim`` and each lies before the record at ``t_rec``
    (inf: none) and on one side of the steady window's edge (inside it when ``steady``).

    No record lies in a passage's gap when t_arr·(1 + SNAP) < t_rec, nor in its interaction
    when t_exit ≤ t_rec; before the window the same holds with t_burn, and inside it the exit
    comes by t_end (the first passage must start in it: time only grows).  ``t`` is the last
    exit, ``t_arr`` the next arrival, ``slot`` the pump's state, ``ri`` the next record's index.
    Returns ``(n, k, t, t_arr, slot)`` at the first passage it does not take; stops with
    ``raw.stop[0]`` set when the state is not finite.
    """
    if not steady:
        h = min(t_rec, plan.t_burn)
        n, k, t, t_arr, slot = _outside(n, k, k_lim, t, t_arr, slot, ri, h, b, rng, par, plan,
                                        tables, sched, raw, tr, occ)  # fmt: skip
    elif t >= plan.t_burn and t_arr * (1.0 + SNAP) >= plan.t_burn and occ.shape[0] > 2:
        h_exit = min(t_rec, plan.t_end)
        n, k, t, t_arr, slot = _inside(n, k, k_lim, t, t_arr, slot, ri, h_exit, t_rec, b, rng,
                                       par, plan, tables, sched, raw, tr, occ, arrivals,
                                       cb)  # fmt: skip
    if n < 0:
        raw.stop[0] = STOP_NONFINITE
    return n, k, t, t_arr, slot


@kernel_step
def _inside(n, k, k_lim, t, t_arr, slot, ri, h_exit, h_arr, b, rng, par, plan, tables, sched,
            raw, tr, occ, arrivals, cb):  # fmt: skip
    """:func:`fock_lane` inside the window: passages while t_exit ≤ ``h_exit`` and
    t_arr·(1 + SNAP) < ``h_arr``, with their occupation times, arrival counts and click bits.

    The most frequent additions, to the occupation times of 0 and 1 photons and the arrivals
    at 0, and the click buffer's current word (bit s: the word's atom s) are kept in
    registers (the same additions in the same order) and stored whenever another step
    reads them; ``occ`` has at least three entries (0, 1 and the overflow).
    """
    code, pump_pars = par.pump
    kappa, nbar_bath = par.consts[2], par.consts[3]
    tau, pe, eta = par.tau, par.pe, par.eta
    u_nojump, u_found, w_int = tables.u_nojump, tables.u_found, tables.w_int
    size2 = u_nojump.shape[0]
    top = arrivals.shape[0] - 1
    no_bath = nbar_bath == 0.0
    perfect = eta >= 1.0
    o0, o1, a0 = occ[0], occ[1], arrivals[0]
    pos, word_e, word_d = cb.pos[0], cb.bits[CUR_E], cb.bits[CUR_D]
    while k < k_lim:
        t_exit = t_arr + tau
        if t_exit > h_exit or t_arr * (1.0 + SNAP) >= h_arr:
            break
        if t_arr > t:  # the gap
            if n == 0 and no_bath:
                o0 += t_arr - t
            else:
                occ[0], occ[1] = o0, o1
                n = gap_timed(n, t_arr - t, kappa, nbar_bath, rng, tr, occ)
                o0, o1 = occ[0], occ[1]
                if n < 0:
                    break
        if n == 0:  # the arrival, counted
            a0 += 1
        elif n < top:
            arrivals[n] += 1
        else:
            arrivals[top] += 1
            tr[TR_MAXN] = max(tr[TR_MAXN], float(n))
        u = rng.random()
        excited = u < pe
        i = 2 * n + (0 if excited else 1)
        if i < size2 and u < u_nojump[i]:  # no jump: the tables decide
            found_e = u < u_found[i]
            m = n if excited else n - 1
            if m < 0:  # |g,0⟩: no photon throughout
                o0 += tau
            elif m == 0:
                w = w_int[i]  # (clipped to [0, τ] in the table, as occupy_block clips)
                o0 += tau - w
                o1 += w
            else:
                occ[1] = o1
                occupy_block(m, tau, w_int[i], tr, occ)
                o1 = occ[1]
            n = m if found_e else m + 1
        else:
            occ[0], occ[1] = o0, o1
            n, found_e, _ = interaction_exact(
                n, u, excited, t_arr, ri, b, rng, par, plan, tables, sched, raw, tr, occ
            )
            o0, o1 = occ[0], occ[1]
            if raw.stop[0] != STOP_NONE:
                break
        t = t_exit
        pos, word_e, word_d = _click(found_e, perfect, eta, pos, word_e, word_d, rng, cb)
        k += 1
        slot, t_arr = next_arrival(code, slot, t_arr, pump_pars, rng)
    occ[0], occ[1], arrivals[0] = o0, o1, a0
    cb.pos[0], cb.bits[CUR_E] = pos, word_e
    cb.bits[CUR_D] = (ALL >> np.uint64(64 - pos) if pos > 0 else word_d) if perfect else word_d
    return n, k, t, t_arr, slot


@passage_step
def _click(found_e, perfect, eta, pos, word_e, word_d, rng, cb):
    """The exit's detection into the current click word; returns (pos, word_e, word_d).

    With a perfect detector every atom is detected: the detected word is filled at the flush.
    """
    if perfect:
        word_e |= np.uint64(found_e) << np.uint64(pos)
    else:
        detected = rng.random() < eta
        word_d |= np.uint64(detected) << np.uint64(pos)
        word_e |= np.uint64(detected and found_e) << np.uint64(pos)
    pos += 1
    if pos == 64:
        _flush(cb, word_e, ALL if perfect else word_d)
        pos, word_e, word_d = 0, np.uint64(0), np.uint64(0)
    return pos, word_e, word_d


@kernel_step
def _flush(cb, word_e, word_d):
    """Store a full 64-atom word into the click buffer and count it (:func:`click_flush`)."""
    cb.bits[CUR_E] = word_e
    cb.bits[CUR_D] = word_d
    click_flush(cb)


@kernel_step
def _outside(n, k, k_lim, t, t_arr, slot, ri, h, b, rng, par, plan, tables, sched, raw, tr,
             occ):  # fmt: skip
    """:func:`fock_lane` before the window: passages while t_exit ≤ h and t_arr·(1 + SNAP) < h
    (nothing recorded, nothing counted)."""
    code, pump_pars = par.pump
    kappa, nbar_bath = par.consts[2], par.consts[3]
    tau, pe = par.tau, par.pe
    u_nojump, u_found = tables.u_nojump, tables.u_found
    size2 = u_nojump.shape[0]
    no_bath = nbar_bath == 0.0
    # t_exit ≤ h implies t_arr·(1 + SNAP) < h when τ is not below a few ulps of h
    arr_check = not tau > 1e-12 * h
    while k < k_lim:
        t_exit = t_arr + tau
        if t_exit > h or (arr_check and t_arr * (1.0 + SNAP) >= h):
            break
        if n > 0 or not no_bath:  # (an empty cavity stays empty: no call)
            n = gap_evolve(n, t_arr - t, kappa, nbar_bath, rng)
            if n < 0:
                break
        u = rng.random()
        excited = u < pe
        i = 2 * n + (0 if excited else 1)
        if i < size2 and u < u_nojump[i]:  # no jump: the tables decide
            m = n if excited else n - 1
            n = m if u < u_found[i] else m + 1
        else:
            n, _, _ = interaction_exact(
                n, u, excited, t_arr, ri, b, rng, par, plan, tables, sched, raw, tr, occ
            )
            if raw.stop[0] != STOP_NONE:
                break
        t = t_exit
        k += 1
        slot, t_arr = next_arrival(code, slot, t_arr, pump_pars, rng)
    return n, k, t, t_arr, slot
