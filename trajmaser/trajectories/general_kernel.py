"""General-path trajectory loop (numba) in named steps: gap, arrival, interaction, exit, record.

An atom passage is: the gap (empty cavity until the arrival; fast path :func:`gap_factors` +
:func:`~trajmaser.trajectories.general_steps.gap_tau_pass`, else :func:`gap_slow`), the
arrival (:func:`arrival_step`: cut-off bookkeeping and records), the interaction (the fast
pass fused with the gap, else :func:`interaction_slow`) and the exit (:func:`exit_step`:
measurement and detection); :func:`finish` adds a finished trajectory's steady averages and
clicks.  The cavity after an exit (or at t = 0) is kept as ``src[n + shift] · scale`` on its
support [lo, hi]; a passage writes the gap's result to ``cg`` and the atom ⊗ cavity state to
the pair of arrays that does not hold ``src`` (two pairs, used in turn), so a rejected fast
gap can be redone from ``src``.

Each passage draws one uniform: it picks the atom's pure state i (probability p0 for i = 0)
and, rescaled to [0, 1), decides the exit measurement.  The steps are compiled without
reference counting (:func:`~trajmaser.trajectories.accumulate.kernel_step`); records go into
the shared layout :class:`~trajmaser.trajectories.records.RawAccumulators` with batch sums,
and the cut-off bookkeeping into a ``status`` array (layout ``ST_*`` in
:mod:`~trajmaser.trajectories.general_steps`).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit

from trajmaser import pump
from trajmaser.results import NBATCH
from trajmaser.trajectories.accumulate import (
    add_pair_batched,
    click_buffer,
    click_finish,
    click_reset,
    detect,
    draw_records,
    kernel_step,
    passage_step,
)
from trajmaser.trajectories.cancel import POLL_PASSAGES
from trajmaser.trajectories.fock_interaction import SNAP
from trajmaser.trajectories.general_steps import (
    CUT_MEAN,
    CUT_STATE,
    ST_ARRIVALS,
    ST_CODE,
    ST_TOP,
    ST_TOP_SUM,
    ST_TRAJ,
    add_level_probs,
    add_probs,
    copy_into,
    evolve,
    gap_pass,
    gap_tau_pass,
    occupied,
    support,
    tau_pass,
)
from trajmaser.trajectories.records import (
    STOP_CANCELLED,
    STOP_NONE,
    STOP_NONFINITE,
    TR_PROBE_X,
    TR_PROBE_Y,
    TR_SIZE,
)

TOP_TOL = 1e-10  # largest mean photon-number probability at n = nmax (over arrivals)
TOP_MAX = 1e-6  # largest probability at n = nmax in any one conditional state
INIT_VECTOR, INIT_THERMAL = 0, 1


class GeneralParams(NamedTuple):
    """Physics of a general-path run as the kernel reads it (nmax + 2 = the blocks' length)."""

    p0: float  # probability of atom pure state 0
    amps: np.ndarray  # (2, 2): row i = (⟨e|v_i⟩, ⟨g|v_i⟩)
    wfull: np.ndarray  # (2, nmax + 2, 4): full-τ blocks per atom state, see general.py
    blk: tuple  # (a, b, d): H_eff blocks of the interaction
    gap_a: np.ndarray  # the diagonal H_eff of the empty cavity by photon number …
    gap_b: np.ndarray  # … as blocks (a, b = 0, d = a) for the exact evolution
    rates: tuple  # (γ, κ(1 + n_b), κ n_b)
    pump: tuple  # (code, pars) of trajmaser.pump.kernel_args
    tau: float
    eta: float  # detector efficiency
    init_kind: int  # INIT_VECTOR (amplitudes init_amp) or INIT_THERMAL (q = n̄/(1 + n̄))
    init_amp: np.ndarray
    init_q: float
    support_tol: float  # edge levels with p(n) ≤ this are dropped after an exit


# ----------------------------------------------------------------- step: gap
@passage_step
def gap_factors(gap_a, dt):
    """No-jump amplitude factors of the empty cavity over ``dt``: level n gets x0 · x1^n."""
    x0 = 1.0 if gap_a[0].imag == 0.0 else math.exp(gap_a[0].imag * dt)  # 1 when n_b = 0
    return x0, math.exp((gap_a[1].imag - gap_a[0].imag) * dt)


@kernel_step
def gap_slow(fast, t, t_stop, u, ir, cavity, par, work, recs, out, rng):
    """Exact gap from t to ``t_stop`` (records inside, or a jump).

    ``cavity`` = (src, shift, scale, lo, hi); ``work`` = (cg, we, wg, zero).  If ``fast``,
    the rejected fast pass is first redone without the no-jump factor.  Leaves the cavity in
    ``cg`` (zero outside its support); returns (t, u, ir, ‖cg‖², lo, hi).
    """
    src, shift, scale, lo, hi = cavity
    cg, we, wg, zero = work
    if fast:
        gap_pass(src, shift, scale, 1.0, 1.0, cg, lo, hi, lo, hi)
    blk = (par.gap_a, par.gap_b, par.gap_a)
    t_rec = t_stop * (1.0 + SNAP)  # records a few ulps past the arrival come before it
    t, u, ir = evolve(t, t_stop, t_rec, u, ir, blk, zero, cg, (we, wg), par.rates, recs, out,
                      rng, lo, hi)  # fmt: skip
    lo, hi = occupied(cg)
    return t, u, ir, gap_pass(cg, 0, 1.0, 1.0, 1.0, cg, lo, hi, lo, hi), lo, hi


# ----------------------------------------------------------------- step: arrival
@passage_step
def arrival_step(k, ia, b, cg, nc, lo, hi, plan, raw, arr_hist, status):
    """Atom k meets the cavity ``cg`` (‖cg‖² = nc, support [lo, hi]): cut-off bookkeeping, its
    arrival records, and in the steady window its p(n) into the trajectory's ``arr_hist``.
    Returns the next arrival record index."""
    nmax = cg.shape[0] - 2
    inv = 1.0 / nc
    top = (cg[nmax].real ** 2 + cg[nmax].imag ** 2) * inv  # 0 unless hi = nmax
    status[ST_TOP] = max(status[ST_TOP], top)
    status[ST_TOP_SUM] += top
    status[ST_ARRIVALS] += 1.0
    while ia < plan.arrival_index.shape[0] and plan.arrival_index[ia] == k:
        hist, bhist = raw.arrival_hist[ia], raw.batch_arrival_hist[b, ia]
        m1, m2 = add_probs(hist, bhist, cg, inv, 1.0, lo, hi)
        add_pair_batched(raw.arrival[ia], raw.batch_arrival[b, ia], m1, m2)
        ia += 1
    if plan.burn_in <= k < plan.atoms:
        add_level_probs(arr_hist, cg, inv, lo, hi)
    return ia


# ----------------------------------------------------------------- step: interaction
@kernel_step
def interaction_slow(t, t_out, u, ir, nc, amp, lo, hi, par, work, recs, out, rng):
    """Exact interaction of the atom pure state ``amp`` = (ae, ag) with the cavity ``cg`` (norm
    nc, support [lo, hi]) from t to ``t_out``: records inside, or a jump.  Leaves the state in
    (ce, cg); ``work`` = (ce, cg, we, wg).  Returns (u, ir, ‖ψ‖², ‖ψ_e‖²).
    """
    ce, cg, we, wg = work
    r = 1.0 / math.sqrt(nc)
    ae, ag = amp[0] * r, amp[1] * r
    ce[0] = 0.0
    for kk in range(cg.shape[0] - 1, 0, -1):
        ce[kk] = ae * cg[kk - 1]
    for kk in range(cg.shape[0]):
        cg[kk] = ag * cg[kk]
    t, u, ir = evolve(t, t_out, t_out, u, ir, par.blk, ce, cg, (we, wg), par.rates, recs, out,
                      rng, lo, hi + 1)  # fmt: skip
    n2 = 0.0
    n_e = 0.0
    for kk in range(cg.shape[0]):
        pe_k = ce[kk].real ** 2 + ce[kk].imag ** 2
        n_e += pe_k
        n2 += pe_k + cg[kk].real ** 2 + cg[kk].imag ** 2
    return u, ir, n2, n_e


# ----------------------------------------------------------------- step: exit
@passage_step
def exit_step(n2, n_e, v, k, rng, par, plan, cb):
    """Exit measurement of atom k in {e, g} with the uniform v (True: found excited); in the
    steady window, its detection (η thins the record only) into the clicks and correlations."""
    excited = v * n2 < n_e
    detect(cb, k, excited, par.eta, plan, rng)
    return excited


# ----------------------------------------------------------------- step: record
@kernel_step
def finish(b, k, plan, raw, tr, arr_hist, cb):
    """Per-trajectory steady averages (one batch each), clicks (counted by ``cb``) and
    passages into ``raw``.

    The steady arrival average comes from ``arr_hist`` = Σ p(n) over the steady arrivals.
    """
    x, y = tr[TR_PROBE_X] * plan.inv_probes, tr[TR_PROBE_Y] * plan.inv_probes
    add_pair_batched(raw.steady_time, raw.batch_steady_time[b], x, y)
    if plan.atoms > plan.burn_in:
        x, y = 0.0, 0.0
        for n in range(arr_hist.shape[0]):
            p = arr_hist[n] * plan.inv_steady_atoms
            raw.steady_arrival_hist[n] += p
            raw.batch_steady_arrival_hist[b, n] += p
            x += n * p
            y += n * n * p
        add_pair_batched(raw.steady_arrival, raw.batch_steady_arrival[b], x, y)
    click_finish(raw, cb)
    raw.passages[0] += k


# ----------------------------------------------------------------- one trajectory
@kernel_step
def trajectory(b, rng, par, plan, recs, raw, tr, cb, status, work, scratch, flag):
    """The atom passages of one trajectory from the cavity in ``cg``.

    Returns the number of passages, or −1 when a state's p(nmax) exceeds TOP_MAX; stops early
    with ``raw.stop[0]`` set when ``flag`` is raised (polled every POLL_PASSAGES passages) or
    the state is not finite.
    """
    code, pump_pars = par.pump
    rec_t, _, nrec = recs
    ce, cg, we0, wg0, we1, wg1, zero = work
    probs, arr_hist = scratch
    out = (b, raw, tr, probs, status, plan.inv_probes)
    gap_a, nmax = par.gap_a, cg.shape[0] - 2
    u = rng.random()
    slot, t_next = pump.first_arrival(code, pump_pars, rng)
    t, ir, ia, k = 0.0, 0, 0, 0
    copy_into(wg0, cg)
    nrm = norm2_levels(cg)
    src, shift, scale = wg0, 0, 1.0 / math.sqrt(nrm)
    lo, hi = support(src, 0, 0, nmax, par.support_tol * nrm)
    p = 1  # the passage writes the atom ⊗ cavity state into pair p, never into src's pair
    zlo, zhi = 0, nmax + 1  # cg may be nonzero on [zlo, zhi]
    while k < plan.atoms or ir < nrec:  # atoms keep arriving until every record is taken
        if (k & (POLL_PASSAGES - 1)) == POLL_PASSAGES - 1 and flag[0] != 0:
            raw.stop[0] = STOP_CANCELLED
            return k
        v = rng.random()  # atom k's pure state i; rescaled, v is again uniform (for its exit)
        i, v = (0, v / par.p0) if v < par.p0 else (1, (v - par.p0) / (1.0 - par.p0))
        # ---- gap until the arrival at t_next, fused with atom i's no-jump interaction
        fast = ir >= nrec or rec_t[ir] > t_next * (1.0 + SNAP)
        x0, x1 = gap_factors(gap_a, t_next - t) if fast else (1.0, 1.0)
        w = par.wfull[i]
        we, wg = (we1, wg1) if p else (we0, wg0)
        nc, n2, n_e = gap_tau_pass(src, shift, scale, x0, x1, cg, lo, hi, zlo, zhi, w, we, wg)
        if fast and nc > u:
            t, u = t_next, u / nc
        else:
            cavity = (src, shift, scale, lo, hi)
            t, u, ir, nc, lo, hi = gap_slow(fast, t, t_next, u, ir, cavity, par,
                                            (cg, we, wg, zero), recs, out, rng)  # fmt: skip
            n2, n_e = tau_pass(w, cg, we, wg, lo, hi)
        zlo, zhi = lo, hi
        if raw.stop[0] != STOP_NONE or not (0.0 < nc < math.inf and n2 < math.inf):
            raw.stop[0] = STOP_NONFINITE
            return k
        if k >= plan.atoms and ir >= nrec:
            break
        ia = arrival_step(k, ia, b, cg, nc, lo, hi, plan, raw, arr_hist, status)
        if status[ST_TOP] > TOP_MAX:
            return -1
        # ---- interaction for tau: the fused no-jump pass, or the exact slow path
        t_arr, t = t, t + par.tau
        src_e = we
        if (ir >= nrec or rec_t[ir] > t) and n2 > u * nc:
            u /= n2 / nc
        else:
            u, ir, n2, n_e = interaction_slow(t_arr, t, u, ir, nc, par.amps[i], lo, hi, par,
                                              (ce, cg, we, wg), recs, out, rng)  # fmt: skip
            if raw.stop[0] != STOP_NONE:
                return k
            copy_into(wg, cg)
            src_e = ce
            lo, hi, zlo, zhi = 0, nmax, 0, nmax + 1
        # ---- exit: measurement in {e, g} (projects the cavity) and detection; new support
        if exit_step(n2, n_e, v, k, rng, par, plan, cb):  # |g,lo> → |e,lo−1> reached too
            src, shift, lo, nrm = src_e, 1, max(lo - 1, 0), n_e
        else:
            src, shift, hi, nrm = wg, 0, min(hi + 1, nmax), n2 - n_e
        scale = 1.0 / math.sqrt(nrm)
        lo, hi = support(src, shift, lo, hi, par.support_tol * nrm)
        k += 1
        p ^= 1
        slot, t_next = pump.next_arrival(code, slot, t_arr, pump_pars, rng)
    return k


@kernel_step
def initial_cavity(par, rng, cg):
    """The cavity at t = 0 into ``cg``; False if a thermal start drew a Fock state above nmax."""
    cg[:] = 0.0
    if par.init_kind == INIT_THERMAL:
        q = par.init_q
        n0 = rng.geometric(1.0 - q) - 1 if q > 0.0 else 0
        if n0 > cg.shape[0] - 2:
            return False
        cg[n0] = 1.0
    else:
        copy_into(cg, par.init_amp)
    return True


@kernel_step
def norm2_levels(cg):
    """Σ_n |cg[n]|² over the photon numbers n = 0 … nmax."""
    nrm = 0.0
    for n in range(cg.shape[0] - 1):
        nrm += cg[n].real ** 2 + cg[n].imag ** 2
    return nrm


@njit(cache=True, nogil=True)
def run_general(ntraj, first_index, rng, par, plan, raw, status, flag):
    """Run ``ntraj`` general-path trajectories into ``raw`` (see run_general_block).

    Releases the GIL.  Trajectory i of the block goes to batch (first_index + i) % NBATCH.
    Stops early with ``raw.stop`` = (STOP_* code, trajectory) when ``flag[0]`` is nonzero
    (polled before every trajectory) or the state is not finite, and with
    ``status[ST_CODE]`` = CUT_STATE when the cut-off is reached; sets CUT_MEAN at the end
    when the mean p(nmax) over arrivals exceeds TOP_TOL.
    """
    size = par.gap_a.shape[0]
    cg = np.zeros(size, np.complex128)
    # ce, cg, two pairs (we, wg) written alternately, an inert zero ce for the gap
    work = (np.zeros(size, np.complex128), cg, np.zeros(size, np.complex128),
            np.zeros(size, np.complex128), np.zeros(size, np.complex128),
            np.zeros(size, np.complex128), np.zeros(size, np.complex128))  # fmt: skip
    nrec = 2 * plan.times.shape[0]
    rec_t, rec_j = np.zeros(nrec), np.zeros(nrec, dtype=np.int64)
    tr, cb = np.zeros(TR_SIZE), click_buffer()
    arr_hist = np.zeros(size - 1)  # the trajectory's Σ p(n) over its steady arrivals
    scratch = (np.zeros(size - 1), arr_hist)  # and p(n) of a record
    for i in range(ntraj):
        if flag[0] != 0:
            raw.stop[0], raw.stop[1] = STOP_CANCELLED, i
            return
        b = (first_index + i) % NBATCH
        recs = (rec_t, rec_j, draw_records(rng, plan, rec_t, rec_j, True))
        if not initial_cavity(par, rng, cg):
            status[ST_TOP] = 1.0
            status[ST_CODE], status[ST_TRAJ] = CUT_STATE, i
            return
        tr[:] = 0.0
        arr_hist[:] = 0.0
        click_reset(cb)
        k = trajectory(b, rng, par, plan, recs, raw, tr, cb, status, work, scratch, flag)
        if raw.stop[0] != STOP_NONE:
            raw.stop[1] = i
            return
        if k < 0 or status[ST_TOP] > TOP_MAX:  # an arrival, or a record, at the cut-off
            status[ST_CODE], status[ST_TRAJ] = CUT_STATE, i
            return
        finish(b, k, plan, raw, tr, arr_hist, cb)
    if status[ST_TOP_SUM] > TOP_TOL * status[ST_ARRIVALS]:
        status[ST_CODE] = CUT_MEAN
