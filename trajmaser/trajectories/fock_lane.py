"""The Fock path's lane: runs of ordinary passages with the per-passage checks hoisted.

Most passages of a Fock-path trajectory contain no record time, cross no edge of the steady
window and are not an arrival record, so the checks that :func:`~trajmaser.trajectories.fock.
run_fock`'s passage loop makes for them on every passage can be made once for a whole run of
passages: the lane runs atoms k < ``k_lim`` while the next passage (gap, interaction) lies
before the next record time and wholly before the steady window (``steady`` False) or wholly
inside it (``steady`` True).  Each passage takes the same random draws, in the same order,
as in the general loop, so the trajectories are the same.  Two things are cheaper:

- inside the window a passage the tables decide only counts itself by table index; its
  arrival count and the occupation times of its interaction are added per index once per
  trajectory (:func:`fold_passes`), so the steady time block differs from adding them one
  passage at a time only by rounding (at most 4e-14 relative in our comparisons);
- where every gap has the same length (regular pumping) the gap's survival probability per
  photon number comes from ``FockTables.stay``, and the usual gap, with no cavity event,
  takes one uniform and no call.
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
from trajmaser.trajectories.fock_interaction import SNAP, interaction_exact, table_decision
from trajmaser.trajectories.fock_time import (
    gap_evolve,
    gap_losses,
    gap_timed,
    gap_timed_after,
    occupy,
    occupy_block,
)
from trajmaser.trajectories.records import STOP_NONE, STOP_NONFINITE, TR_MAXN

#: A word of 64 set bits.
ALL = np.uint64(0xFFFFFFFFFFFFFFFF)

__all__ = ["fock_lane", "fold_passes", "next_arrival"]

#: The pump's next-arrival sampler, compiled inline into the passage loops from the pump's own
#: source (a call costs about a quarter of a passage); not cached on its own.
next_arrival = njit(inline="always", _nrt=False)(pump.next_arrival.py_func)


@kernel_step
def fock_lane(n, k, k_lim, t, t_arr, slot, ri, t_rec, steady, b, rng, par, plan, tables, sched, raw,
              tr, occ, arrivals, cb, passes):  # fmt: skip
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
                                       par, plan, tables, sched, raw, tr, occ, arrivals, cb,
                                       passes)  # fmt: skip
    if n < 0:
        raw.stop[0] = STOP_NONFINITE
    return n, k, t, t_arr, slot


@kernel_step
def _inside(n, k, k_lim, t, t_arr, slot, ri, h_exit, h_arr, b, rng, par, plan, tables, sched,
            raw, tr, occ, arrivals, cb, passes):  # fmt: skip
    """:func:`fock_lane` inside the window: passages while t_exit ≤ ``h_exit`` and
    t_arr·(1 + SNAP) < ``h_arr``, with their occupation times, arrival counts and click bits.

    A passage the tables decide (no jump) adds only 1 to ``passes[i]``, i = 2n + (0 for |e⟩,
    1 for |g⟩): its arrival count and the occupation times of its interaction depend on i
    alone and are added by :func:`fold_passes` at the trajectory's end.  The occupation time
    of an empty cavity's gaps and the click buffer's current word (bit s: the word's atom s)
    are kept in registers and stored whenever another step reads them.
    """
    code, pump_pars = par.pump
    kappa, nbar_bath = par.consts[2], par.consts[3]
    tau, pe, eta = par.tau, par.pe, par.eta
    stay = tables.stay
    top = arrivals.shape[0] - 1
    no_bath = nbar_bath == 0.0
    perfect = eta >= 1.0
    o0 = occ[0]
    pos, word_e, word_d = cb.pos[0], cb.bits[CUR_E], cb.bits[CUR_D]
    while k < k_lim:
        t_exit = t_arr + tau
        if t_exit > h_exit or t_arr * (1.0 + SNAP) >= h_arr:
            break
        if t_arr > t:  # the gap
            if n == 0 and no_bath:
                o0 += t_arr - t
            elif n < stay.shape[0] and stay[np.uint64(n)] >= 0.0:  # survival from the table
                u = rng.random()
                if u < stay[np.uint64(n)]:  # no event: the usual gap, without a call
                    if n == 0:
                        o0 += t_arr - t
                    else:
                        occupy(n, t_arr - t, tr, occ)
                else:
                    occ[0] = o0
                    n = gap_timed_after(n, t_arr - t, u, kappa, nbar_bath, rng, tr, occ)
                    o0 = occ[0]
            else:
                occ[0] = o0
                n = gap_timed(n, t_arr - t, kappa, nbar_bath, rng, tr, occ)
                o0 = occ[0]
            if n < 0:
                break
        u = rng.random()
        excited, i, decided = table_decision(n, u, pe, tables)
        if decided:  # no jump: the tables decide
            j = np.uint64(i)
            passes[j] += 1
            found_e = u < tables.u_found[j]
            m = n if excited else n - 1
            n = m if found_e else m + 1
        else:
            arrivals[min(n, top)] += 1
            if n >= top:
                tr[TR_MAXN] = max(tr[TR_MAXN], float(n))
            occ[0] = o0
            n, found_e, _ = interaction_exact(
                n, u, excited, t_arr, ri, b, rng, par, plan, tables, sched, raw, tr, occ
            )
            o0 = occ[0]
            if raw.stop[0] != STOP_NONE:
                break
        t = t_exit
        pos, word_e, word_d = _click(found_e, perfect, eta, pos, word_e, word_d, rng, cb)
        k += 1
        slot, t_arr = next_arrival(code, slot, t_arr, pump_pars, rng)
    occ[0] = o0
    cb.pos[0], cb.bits[CUR_E] = pos, word_e
    cb.bits[CUR_D] = (ALL >> np.uint64(64 - pos) if pos > 0 else word_d) if perfect else word_d
    return n, k, t, t_arr, slot


@kernel_step
def fold_passes(passes, tables, tau, tr, occ, arrivals):
    """Add the passages counted in ``passes`` by :func:`_inside` to the arrival counts and the
    occupation times, and zero the counts.

    c passages of index i = 2n + (0 | 1) arrived at n photons and ran the jump-free
    interaction in block m = n (|e⟩) or n − 1 (|g⟩): c·(τ − w) at m and c·w at m + 1 photons
    (w = ∫_0^τ w dt from the tables; block −1 holds 0 photons throughout).
    """
    top = arrivals.shape[0] - 1
    for i in range(passes.shape[0]):
        c = passes[i]
        if c == 0:
            continue
        passes[i] = 0
        n = i // 2
        arrivals[min(n, top)] += c
        if n >= top:
            tr[TR_MAXN] = max(tr[TR_MAXN], float(n))
        m = n if i % 2 == 0 else n - 1
        occupy_block(m, c * tau, c * tables.w_int[i], tr, occ)


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
    stay = tables.stay
    no_bath = nbar_bath == 0.0
    # t_exit ≤ h implies t_arr·(1 + SNAP) < h when τ is not below a few ulps of h
    arr_check = not tau > 1e-12 * h
    while k < k_lim:
        t_exit = t_arr + tau
        if t_exit > h or (arr_check and t_arr * (1.0 + SNAP) >= h):
            break
        if no_bath and 0 < n < stay.shape[0] and t_arr > t:  # the survival from the table
            if rng.random() >= stay[np.uint64(n)]:
                n = gap_losses(n, t_arr - t, kappa, rng)
        elif n > 0 or not no_bath:  # (an empty cavity stays empty: no call)
            n = gap_evolve(n, t_arr - t, kappa, nbar_bath, rng)
            if n < 0:
                break
        u = rng.random()
        excited, i, decided = table_decision(n, u, pe, tables)
        if decided:  # no jump: the tables decide
            m = n if excited else n - 1
            n = m if u < tables.u_found[np.uint64(i)] else m + 1
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
