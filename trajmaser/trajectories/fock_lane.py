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

from numba import njit

from trajmaser import pump
from trajmaser.trajectories.accumulate import click_push, kernel_step
from trajmaser.trajectories.fock_interaction import SNAP, interaction_exact
from trajmaser.trajectories.fock_time import gap_evolve, gap_timed, occupy, occupy_block
from trajmaser.trajectories.records import STOP_NONE, STOP_NONFINITE, TR_MAXN

__all__ = ["fock_lane", "next_arrival"]

#: The pump's next-arrival sampler, compiled inline into the passage loops from the pump's own
#: source (a call costs about a quarter of a passage); not cached on its own.
next_arrival = njit(inline="always", _nrt=False)(pump.next_arrival.py_func)


@kernel_step
def fock_lane(n, k, k_lim, t, t_arr, slot, ri, t_rec, steady, b, rng, par, plan, tables, sched, raw,
              tr, occ, arrivals, cb):  # fmt: skip
    """Passages of atoms k … while k < ``k_lim`` and each lies before ``t_rec`` and on one side
    of the steady window's edge (inside it when ``steady``).

    ``t`` is the last exit, ``t_arr`` the next arrival, ``slot`` the pump's state, ``ri`` the
    next record (at ``t_rec``, or none: inf).  Returns
    ``(n, k, t, t_arr, slot)`` at the first passage it does not take; stops with
    ``raw.stop[0]`` set when the state is not finite.
    """
    code, pump_pars = par.pump
    kappa, nbar_bath = par.consts[2], par.consts[3]
    tau, pe, eta = par.tau, par.pe, par.eta
    u_nojump, u_found, w_int = tables.u_nojump, tables.u_found, tables.w_int
    size2 = u_nojump.shape[0]
    top = arrivals.shape[0] - 1
    t_burn, t_end = plan.t_burn, plan.t_end
    while k < k_lim:
        t_exit = t_arr + tau
        if t_exit > t_rec or t_arr * (1.0 + SNAP) >= t_rec:
            break  # a record in the gap or the interaction
        if steady:
            if t < t_burn or t_exit > t_end or t_arr * (1.0 + SNAP) < t_burn:
                break
            if t_arr > t:  # the gap, wholly inside the window
                if n == 0 and nbar_bath == 0.0:
                    occupy(0, t_arr - t, tr, occ)
                else:
                    n = gap_timed(n, t_arr - t, kappa, nbar_bath, rng, tr, occ)
            if n < 0:
                raw.stop[0] = STOP_NONFINITE
                return n, k, t, t_arr, slot
            if n < top:  # the arrival, counted
                arrivals[n] += 1
            else:
                arrivals[top] += 1
                tr[TR_MAXN] = max(tr[TR_MAXN], float(n))
        else:
            if t_exit > t_burn or t_arr * (1.0 + SNAP) >= t_burn:
                break
            n = gap_evolve(n, t_arr - t, kappa, nbar_bath, rng)
            if n < 0:
                raw.stop[0] = STOP_NONFINITE
                return n, k, t, t_arr, slot
        u = rng.random()
        excited = u < pe
        i = 2 * n + (0 if excited else 1)
        if i < size2 and u < u_nojump[i]:  # no jump: the tables decide
            found_e = u < u_found[i]
            m = n if excited else n - 1
            if steady:
                occupy_block(m, tau, w_int[i], tr, occ)
            n = m if found_e else m + 1
        else:
            n, found_e, _ = interaction_exact(
                n, u, excited, t_arr, ri, b, rng, par, plan, tables, sched, raw, tr, occ
            )
            if raw.stop[0] != STOP_NONE:
                return n, k, t, t_arr, slot
        t = t_exit
        if steady:
            detected = eta >= 1.0 or rng.random() < eta
            click_push(cb, detected and found_e, detected)
        k += 1
        slot, t_arr = next_arrival(code, slot, t_arr, pump_pars, rng)
    return n, k, t, t_arr, slot
