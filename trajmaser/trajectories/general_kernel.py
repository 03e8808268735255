"""General-path trajectory loop (numba) in named steps: gap, arrival, interaction, exit, record.

An atom passage is: the gap (empty cavity until the arrival; fast path :func:`gap_factors` +
:func:`~trajmaser.trajectories.general_steps.gap_pass`, else :func:`gap_slow`), the arrival
(:func:`arrival_top` cut-off bookkeeping, :func:`record_arrival`), the interaction (fast path
:func:`full_tau_pass`, else :func:`interaction_slow`) and the exit (:func:`exit_measure`,
:func:`detect`); :func:`record_trajectory` adds a finished trajectory's steady averages and
clicks.  The cavity after an exit (or at t = 0) is kept as ``src[n + shift] · scale`` (``src``
is never ``cg``, so a rejected fast gap can be redone).

The per-passage fast paths are small leaf functions with plain array arguments; the slow paths
(records inside a segment, jumps) are separate calls from the loop.  Tuples of arrays are built
only on the slow paths: unpacking them costs reference counting on every passage.
See :mod:`trajmaser.trajectories.general` for the state layout.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from trajmaser import pump
from trajmaser.trajectories.accumulate import add_pair
from trajmaser.trajectories.general_steps import (
    CUT_MEAN,
    CUT_STATE,
    ST_ARRIVALS,
    ST_CODE,
    ST_TOP,
    ST_TOP_SUM,
    ST_TRAJ,
    draw_records,
    evolve,
    gap_pass,
    support,
)
from trajmaser.trajectories.records import NSUMS

TOP_TOL = 1e-10  # largest mean photon-number probability at n = nmax (over arrivals)
TOP_MAX = 1e-6  # largest probability at n = nmax in any one conditional state
INIT_VECTOR, INIT_THERMAL = 0, 1


@njit(cache=True)
def gap_factors(gap_a, dt):
    """No-jump amplitude factors of the empty cavity over ``dt``: level n gets x0 · x1^n."""
    x0 = math.exp(gap_a[0].imag * dt)
    x1 = math.exp((gap_a[1].imag - gap_a[0].imag) * dt)
    return x0, x1


@njit(cache=True)
def gap_slow(fast, t, t_stop, u, ir, cavity, gap, work, rates, recs, out, rng):
    """Exact gap from t to ``t_stop`` (records inside, or a jump).

    ``cavity`` = (src, shift, scale, lo, hi), the cavity src[n + shift] · scale on the levels
    [lo, hi]; ``gap`` = (a, b) diagonal gap blocks; ``work`` = (ce, cg, we, wg, zero).  If
    ``fast``, the rejected fast pass is first redone without the no-jump factor.  Leaves the
    cavity in ``cg`` (zero outside its new support); returns (t, u, ir, squared norm, Σnp,
    Σn²p, p at nmax, lo, hi), sums unnormalised.
    """
    src, shift, scale, lo, hi = cavity
    gap_a, gap_b = gap
    _, cg, we, wg, zero = work
    if fast:
        gap_pass(src, shift, scale, 1.0, 1.0, cg, lo, hi, lo, hi)
    blk = (gap_a, gap_b, gap_a)
    t, u, ir = evolve(t, t_stop, u, ir, blk, zero, cg, (we, wg), rates, recs, out, rng)
    lo, hi = support(cg, 0, 0, cg.shape[0] - 2, 0.0)
    nc, s1, s2, ptop = gap_pass(cg, 0, 1.0, 1.0, 1.0, cg, lo, hi, lo, hi)
    return t, u, ir, nc, s1, s2, ptop, lo, hi


@njit(cache=True)
def arrival_top(status, ptop):
    """Add the arriving cavity's p(nmax) to the cut-off bookkeeping; True if over TOP_MAX."""
    status[ST_TOP] = max(status[ST_TOP], ptop)
    status[ST_TOP_SUM] += ptop
    status[ST_ARRIVALS] += 1.0
    return status[ST_TOP] > TOP_MAX


@njit(cache=True)
def record_arrival(cg, nc, m1, m2, sums, hist, lo, hi):
    """Arrival record: the pair (⟨n⟩, ⟨n²⟩) into ``sums`` and p(n) of ``cg`` / nc (support
    [lo, hi]) into ``hist``."""
    for n in range(lo, hi + 1):
        hist[n] += (cg[n].real ** 2 + cg[n].imag ** 2) / nc
    add_pair(sums, m1, m2)


@njit(cache=True)
def full_tau_pass(w, cg, inv, steady, we, wg, arr_hist, lo, hi):
    """No-record interaction: (we, wg) = the precomputed full-τ blocks ``w`` applied to the atom
    ⊗ cavity ``cg`` (zero outside [lo, hi], so only blocks lo … hi + 1 are occupied); adds p(n)
    · ``inv`` to ``arr_hist`` if ``steady``.  Returns (‖ψ‖², ‖ψ_e‖²).
    """
    n2 = 0.0
    n_e = 0.0
    prev = 0j
    for kk in range(lo, min(hi + 2, cg.shape[0])):
        cur = cg[kk]
        if steady and kk <= hi:
            arr_hist[kk] += (cur.real * cur.real + cur.imag * cur.imag) * inv
        e = w[kk, 0] * prev + w[kk, 1] * cur
        g = w[kk, 2] * prev + w[kk, 3] * cur
        we[kk] = e
        wg[kk] = g
        pe_k = e.real * e.real + e.imag * e.imag
        n_e += pe_k
        n2 += pe_k + g.real * g.real + g.imag * g.imag
        prev = cur
    return n2, n_e


@njit(cache=True)
def interaction_slow(t, t_out, u, ir, nc, amp, add_hist, blk, work, arr_hist, rates, recs, out,
                     rng):  # fmt: skip
    """Exact interaction of the atom pure state ``amp`` = (ae, ag) with the cavity ``cg`` (norm
    nc) from t to ``t_out``: records inside, or a jump.  Adds the cavity's p(n) to
    ``arr_hist`` if ``add_hist``.  Leaves the state in (ce, cg); returns (u, ir, ‖ψ‖², ‖ψ_e‖²).
    """
    ce, cg, we, wg, _ = work
    r = 1.0 / math.sqrt(nc)
    ae, ag = amp[0] * r, amp[1] * r
    if add_hist:
        for n in range(cg.shape[0] - 1):
            arr_hist[n] += (cg[n].real ** 2 + cg[n].imag ** 2) / nc
    ce[0] = 0.0
    for kk in range(cg.shape[0] - 1, 0, -1):
        ce[kk] = ae * cg[kk - 1]
    for kk in range(cg.shape[0]):
        cg[kk] = ag * cg[kk]
    t, u, ir = evolve(t, t_out, u, ir, blk, ce, cg, (we, wg), rates, recs, out, rng)
    n2 = 0.0
    n_e = 0.0
    for kk in range(cg.shape[0]):
        pe_k = ce[kk].real ** 2 + ce[kk].imag ** 2
        n_e += pe_k
        n2 += pe_k + cg[kk].real ** 2 + cg[kk].imag ** 2
    return u, ir, n2, n_e


@njit(cache=True)
def exit_measure(n2, n_e, rng):
    """Exit measurement in {e, g}: returns (excited, squared norm of the projected part)."""
    if rng.random() * n2 < n_e:
        return True, n_e
    return False, n2 - n_e


@njit(cache=True)
def detect(steady, eta, rng):
    """True if an exiting atom is detected: in the steady window, with efficiency ``eta``."""
    return steady and (eta >= 1.0 or rng.random() < eta)


@njit(cache=True)
def record_trajectory(traj, probe_sums, probe_hist, arr_hist, windows, raw):
    """Add one finished trajectory: ``traj`` = (passages, Σ⟨n⟩, Σ⟨n²⟩ over steady arrivals,
    detected excited, detected); ``windows`` = (steady arrivals, steady probes)."""
    k, sa_x, sa_y, n_ex, n_det = traj
    n_steady, n_probe = windows
    _, _, _, _, st, st_hist, sa, sa_hist, clicks, passages = raw
    nlev = probe_hist.shape[0]
    passages[0] += k
    if n_steady > 0:
        add_pair(sa, sa_x / n_steady, sa_y / n_steady)
        sa_hist[:nlev] += arr_hist / n_steady
    if n_probe > 0:
        add_pair(st, probe_sums[0] / n_probe, probe_sums[1] / n_probe)
        st_hist[:nlev] += probe_hist / n_probe
    add_pair(clicks, n_ex, n_det)
    add_pair(clicks[NSUMS:], n_ex, n_ex * n_ex)


@njit(cache=True)
def initial_cavity(init, rng, cg):
    """The cavity at t = 0 into ``cg``; ``init`` = (kind, amplitudes, q = n̄/(1 + n̄)).

    Returns False if a thermal start drew a Fock state above nmax.
    """
    kind, amp, q0 = init
    cg[:] = 0.0
    if kind == INIT_THERMAL:
        n0 = rng.geometric(1.0 - q0) - 1 if q0 > 0.0 else 0
        if n0 > cg.shape[0] - 2:
            return False
        cg[n0] = 1.0
    else:
        cg[:] = amp
    return True


@njit(cache=True)
def norm2_levels(cg):
    """Σ_n |cg[n]|² over the photon numbers n = 0 … nmax."""
    nrm = 0.0
    for n in range(cg.shape[0] - 1):
        nrm += cg[n].real ** 2 + cg[n].imag ** 2
    return nrm


@njit(cache=True)
def stop(status, code, itr):
    """Mark the block as stopped with ``code`` by trajectory ``itr``."""
    status[ST_CODE] = code
    status[ST_TRAJ] = itr


@njit(cache=True)
def trajectory(rng, recs, blk, gap, atom, rates, pumpp, plan, lim, raw, status, work, hists):
    """The atom passages of one trajectory from the cavity in ``cg``; adds its records.
    ``lim``: support tolerance relative to the norm; ``hists``: (arr_hist, probe_hist, probs,
    probe_sums).  Returns (passages or −1 at the cut-off, Σ⟨n⟩, Σ⟨n²⟩ over steady arrivals,
    detected excited, detected)."""
    code, pump_pars, tau, eta = pumpp
    p0, amps, wfull = atom
    rec_t, _, nrec = recs
    _, _, arrival_index, _, atoms, burn_in = plan
    time, time_hist, arrival, arrival_hist = raw[:4]
    ce, cg, we, wg, _ = work
    arr_hist, probe_hist, probs, probe_sums = hists
    out = (time, time_hist, probe_hist, probs, probe_sums, status)
    gap_a, nmax = gap[0], cg.shape[0] - 2
    sa_x, sa_y, n_ex, n_det = 0.0, 0.0, 0.0, 0.0
    u = rng.random()
    slot, t_next = pump.first_arrival(code, pump_pars, rng)
    t, ir, ia, k = 0.0, 0, 0, 0
    wg[:] = cg
    nrm = norm2_levels(cg)
    src, shift, scale = wg, 0, 1.0 / math.sqrt(nrm)
    lo, hi = support(wg, 0, 0, nmax, lim * nrm)
    zlo, zhi = 0, nmax + 1  # cg may be nonzero on [zlo, zhi]
    while k < atoms or ir < nrec:  # atoms keep arriving until every record is taken
        # ---- gap: the empty cavity until the arrival at t_next
        fast = ir >= nrec or rec_t[ir] > t_next
        x0, x1 = gap_factors(gap_a, t_next - t) if fast else (1.0, 1.0)
        nc, s1, s2, ptop = gap_pass(src, shift, scale, x0, x1, cg, lo, hi, zlo, zhi)
        if fast and nc > u:
            t, u = t_next, u / nc
        else:
            t, u, ir, nc, s1, s2, ptop, lo, hi = gap_slow(
                fast, t, t_next, u, ir, (src, shift, scale, lo, hi), gap, work, rates, recs, out,
                rng,
            )  # fmt: skip
        zlo, zhi = lo, hi
        if k >= atoms and ir >= nrec:
            break
        # ---- arrival of atom k: cut-off bookkeeping, arrival records, steady window
        m1, m2 = s1 / nc, s2 / nc
        if arrival_top(status, ptop / nc):
            return -1, sa_x, sa_y, n_ex, n_det
        while ia < arrival_index.shape[0] and arrival_index[ia] == k:
            record_arrival(cg, nc, m1, m2, arrival[ia], arrival_hist[ia], lo, hi)
            ia += 1
        steady = burn_in <= k < atoms
        if steady:
            sa_x += m1
            sa_y += m2
        # ---- interaction: an atom pure state i for tau
        i = 0 if rng.random() < p0 else 1
        t_arr, t = t, t + tau
        n2, n_e = 0.0, 0.0
        fast = ir >= nrec or rec_t[ir] > t
        if fast:
            n2, n_e = full_tau_pass(wfull[i], cg, 1.0 / nc, steady, we, wg, arr_hist, lo, hi)
        src_e = we
        if n2 > u * nc:
            u /= n2 / nc
        else:
            add_hist = steady and not fast
            u, ir, n2, n_e = interaction_slow(t_arr, t, u, ir, nc, amps[i], add_hist, blk, work,
                                              arr_hist, rates, recs, out, rng)  # fmt: skip
            wg[:] = cg
            src_e = ce
            lo, hi, zlo, zhi = 0, nmax, 0, nmax + 1
        # ---- exit: measurement in {e, g} (projects the cavity), support, detection
        excited, nrm = exit_measure(n2, n_e, rng)
        if excited:  # |g,lo> → |e,lo−1> is reached too
            src, shift, lo = src_e, 1, max(lo - 1, 0)
        else:
            src, shift, hi = wg, 0, min(hi + 1, nmax)
        scale = 1.0 / math.sqrt(nrm)
        lo, hi = support(src, shift, lo, hi, lim * nrm)
        if detect(steady, eta, rng):
            n_det += 1.0
            n_ex += 1.0 if excited else 0.0
        k += 1
        slot, t_next = pump.next_arrival(code, slot, t_arr, pump_pars, rng)
    return k, sa_x, sa_y, n_ex, n_det


@njit(cache=True)
def run_general(ntraj, rng, blk, gap, atom, rates, pumpp, init, plan, raw, status, lim):
    """All trajectories of one block; sums into ``raw`` (see run_general_block)."""
    times, strata, _, first, atoms, burn_in = plan
    size = gap[0].shape[0]
    work = (np.zeros(size, np.complex128), np.zeros(size, np.complex128),
            np.zeros(size, np.complex128), np.zeros(size, np.complex128),
            np.zeros(size, np.complex128))  # fmt: skip
    hists = (np.zeros(size - 1), np.zeros(size - 1), np.zeros(size - 1), np.zeros(2))
    arr_hist, probe_hist, _, probe_sums = hists
    rec_t = np.zeros(2 * times.shape[0])
    rec_j = np.zeros(2 * times.shape[0], dtype=np.int64)
    windows = (atoms - burn_in, times.shape[0] - first)
    for itr in range(ntraj):
        nrec = draw_records(rng, times, strata, first, rec_t, rec_j)
        if not initial_cavity(init, rng, work[1]):
            status[ST_TOP] = 1.0
            stop(status, CUT_STATE, itr)
            return
        probe_hist[:] = 0.0
        arr_hist[:] = 0.0
        probe_sums[:] = 0.0
        traj = trajectory(rng, (rec_t, rec_j, nrec), blk, gap, atom, rates, pumpp, plan, lim,
                          raw, status, work, hists)  # fmt: skip
        if traj[0] < 0 or status[ST_TOP] > TOP_MAX:
            stop(status, CUT_STATE, itr)
            return
        record_trajectory(traj, probe_sums, probe_hist, arr_hist, windows, raw)
    if status[ST_TOP_SUM] > TOP_TOL * status[ST_ARRIVALS]:
        status[ST_CODE] = CUT_MEAN
