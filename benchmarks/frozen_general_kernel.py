"""The general-path kernel as it was before occupied-support tracking (commit 3973e49).

A frozen copy for ``bench_general.py`` (timing only; do not edit): every passage works on all
nmax + 1 Fock levels.  Only its pump calls were moved to the current ``trajmaser.pump`` API
(``first_arrival(code, pars, rng)``, ``next_arrival(code, slot, t, pars, rng)``).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from trajmaser import blocks, pump
from trajmaser.params import Model, RunParams
from trajmaser.trajectories.general import atom_eigenstates, choose_nmax
from trajmaser.trajectories.records import RecordPlan

TOP_MAX = 1e-6
TOP_TOL = 1e-10
INIT_THERMAL = 1


@njit(cache=True)
def _add_pair(acc, x, y):
    acc[0] += 1.0
    acc[1] += x
    acc[2] += y
    acc[3] += x * x
    acc[4] += y * y
    acc[5] += x * y


@njit(cache=True)
def _probs(ce, cg, nmax, out):
    tot = 0.0
    for n in range(nmax + 1):
        e = ce[n + 1]
        g = cg[n]
        out[n] = e.real * e.real + e.imag * e.imag + g.real * g.real + g.imag * g.imag
        tot += out[n]
    m1 = 0.0
    m2 = 0.0
    for n in range(nmax + 1):
        out[n] /= tot
        m1 += n * out[n]
        m2 += n * n * out[n]
    return m1, m2


@njit(cache=True)
def _gap_pass(src, shift, scale, x0, x1, cg, nmax):
    f = x0 * scale
    s0 = 0.0
    s1 = 0.0
    s2 = 0.0
    p = 0.0
    for n in range(nmax + 1):
        y = src[n + shift] * f
        cg[n] = y
        p = y.real * y.real + y.imag * y.imag
        s0 += p
        s1 += n * p
        s2 += n * n * p
        f *= x1
    cg[nmax + 1] = 0.0
    return s0, s1, s2, p


@njit(cache=True)
def _jump(we, wg, ce, cg, gamma, down, up, rng):
    size = we.shape[0]
    pe = 0.0
    r_down = 0.0
    r_up = 0.0
    for k in range(size):
        e = we[k].real ** 2 + we[k].imag ** 2
        g = wg[k].real ** 2 + wg[k].imag ** 2
        pe += e
        r_down += (k - 1) * e + k * g if k > 0 else k * g
        r_up += k * e + (k + 1) * g
    r_at = gamma * pe
    r_down *= down
    r_up *= up
    x = rng.random() * (r_at + r_down + r_up)
    ce[:] = 0.0
    cg[:] = 0.0
    if x < r_at:  # σ−: |e,k−1> -> |g,k−1>
        for k in range(1, size):
            cg[k - 1] = we[k]
    elif x < r_at + r_down:  # a
        for k in range(1, size - 1):
            ce[k] = math.sqrt(k) * we[k + 1]
        for k in range(size - 2):
            cg[k] = math.sqrt(k + 1.0) * wg[k + 1]
    else:  # a†; amplitude pushed above the cut is lost (bounded by the cut-off checks)
        for k in range(2, size):
            ce[k] = math.sqrt(k - 1.0) * we[k - 1]
        for k in range(1, size - 1):
            cg[k] = math.sqrt(k) * wg[k - 1]
    nrm = 0.0
    for k in range(size):
        nrm += ce[k].real ** 2 + ce[k].imag ** 2 + cg[k].real ** 2 + cg[k].imag ** 2
    if nrm > 0.0:
        s = 1.0 / math.sqrt(nrm)
        for k in range(size):
            ce[k] *= s
            cg[k] *= s


@njit(cache=True)
def _evolve(t, t_stop, u, ir, a, b, d, ce, cg, we, wg, jr, recs, nrec, out, acc, rng):
    rec_t, rec_j = recs
    time, time_hist, probe_hist, probs, status = out
    nmax = probs.shape[0] - 1
    while True:
        is_rec = ir < nrec and rec_t[ir] <= t_stop
        ts = max(rec_t[ir], t) if is_rec else t_stop
        s = ts - t
        if s > 0.0:
            n2 = blocks.propagate_blocks(a, b, d, ce, cg, s, we, wg)
            if n2 > u:
                u /= n2
                r = 1.0 / math.sqrt(n2)
                for k in range(ce.shape[0]):
                    ce[k] = we[k] * r
                    cg[k] = wg[k] * r
            else:
                tj = blocks.jump_time_blocks(a, b, d, ce, cg, u, s, we, wg)
                blocks.propagate_blocks(a, b, d, ce, cg, tj, we, wg)
                _jump(we, wg, ce, cg, jr[0], jr[1], jr[2], rng)
                u = rng.random()
                t += tj
                continue
        t = max(t, ts)
        if not is_rec:
            return t, u, ir
        m1, m2 = _probs(ce, cg, nmax, probs)
        if probs[nmax] > status[1]:
            status[1] = probs[nmax]
        j = rec_j[ir]
        if j >= 0:
            _add_pair(time[j], m1, m2)
            time_hist[j, : nmax + 1] += probs
        else:
            acc[0] += m1
            acc[1] += m2
            probe_hist[: nmax + 1] += probs
        ir += 1


@njit(cache=True)
def _kernel(ntraj, rng, coeffs, wfull, atom, jr, pumpp, initp, plan, raw, status):
    a, b, d, gap_a, gap_b = coeffs
    p0, amps = atom
    code, pump_pars, tau, eta = pumpp
    init_kind, init_amp, nbar0 = initp
    times, strata, arrival_index, first, atoms, burn_in, t_end = plan
    time, time_hist, arrival, arrival_hist, st, st_hist, sa, sa_hist, clicks, passages = raw
    size = a.shape[0]
    nmax = size - 2
    S = times.shape[0]
    ce = np.zeros(size, dtype=np.complex128)
    cg = np.zeros(size, dtype=np.complex128)
    we = np.zeros(size, dtype=np.complex128)
    wg = np.zeros(size, dtype=np.complex128)
    zero = np.zeros(size, dtype=np.complex128)
    probs = np.zeros(nmax + 1)
    probe_hist = np.zeros(nmax + 1)
    arr_hist = np.zeros(nmax + 1)
    rec_t = np.zeros(2 * S)
    rec_j = np.zeros(2 * S, dtype=np.int64)
    acc = np.zeros(2)
    out = (time, time_hist, probe_hist, probs, status)
    n_steady = atoms - burn_in
    n_probe = S - first
    q0 = nbar0 / (1.0 + nbar0)
    for itr in range(ntraj):
        nrec = 0
        for j in range(S):
            if j >= first:
                rec_t[nrec] = strata[j] + rng.random() * (strata[j + 1] - strata[j])
                rec_j[nrec] = -1
                nrec += 1
            rec_t[nrec] = times[j]
            rec_j[nrec] = j
            nrec += 1
        recs = (rec_t, rec_j)
        cg[:] = 0.0
        if init_kind == INIT_THERMAL:
            n0 = rng.geometric(1.0 - q0) - 1 if q0 > 0.0 else 0
            if n0 > nmax:
                status[0] = 1
                status[1] = 1.0
                status[2] = itr
                return
            cg[n0] = 1.0
        else:
            cg[:] = init_amp
        probe_hist[:] = 0.0
        arr_hist[:] = 0.0
        acc[:] = 0.0
        sa_x = 0.0
        sa_y = 0.0
        n_ex = 0.0
        n_det = 0.0
        u = rng.random()
        slot, t_next = pump.first_arrival(code, pump_pars, rng)
        t = 0.0
        ir = 0
        ia = 0
        k = 0
        # the cavity after an exit (or at t = 0) is src[n + shift] * scale; src is never cg,
        # so a rejected fast gap can be redone from it
        wg[:] = cg
        src = wg
        shift = 0
        nrm = 0.0
        for n in range(nmax + 1):
            nrm += cg[n].real ** 2 + cg[n].imag ** 2
        scale = 1.0 / math.sqrt(nrm)
        while k < atoms or ir < nrec:  # atoms keep arriving until every record is taken
            # ---- empty cavity until the next atom
            t_stop = t_next
            fast = ir >= nrec or rec_t[ir] > t_stop
            x0 = 1.0
            x1 = 1.0
            if fast:
                x0 = math.exp(gap_a[0].imag * (t_stop - t))
                x1 = math.exp((gap_a[1].imag - gap_a[0].imag) * (t_stop - t))
            nc, s1, s2, ptop = _gap_pass(src, shift, scale, x0, x1, cg, nmax)
            if fast and nc > u:
                u /= nc
                t = t_stop
            else:  # exact slow path: records inside the gap, or a jump
                if fast:
                    _gap_pass(src, shift, scale, 1.0, 1.0, cg, nmax)
                t, u, ir = _evolve(
                    t, t_stop, u, ir, gap_a, gap_b, gap_a, zero, cg, we, wg, jr, recs, nrec,
                    out, acc, rng,
                )  # fmt: skip
                nc, s1, s2, ptop = _gap_pass(cg, 0, 1.0, 1.0, 1.0, cg, nmax)
            if k >= atoms and ir >= nrec:
                break
            # ---- arrival of atom k (cavity cg with squared norm nc): records, cut-off check
            m1 = s1 / nc
            m2 = s2 / nc
            ptop /= nc
            status[1] = max(status[1], ptop)
            status[3] += ptop
            status[4] += 1.0
            if status[1] > TOP_MAX:
                status[0] = 1
                status[2] = itr
                return
            while ia < S and arrival_index[ia] == k:
                for n in range(nmax + 1):
                    probs[n] = (cg[n].real ** 2 + cg[n].imag ** 2) / nc
                _add_pair(arrival[ia], m1, m2)
                arrival_hist[ia, : nmax + 1] += probs
                ia += 1
            steady = burn_in <= k < atoms
            if steady:
                sa_x += m1
                sa_y += m2
            i = 0 if rng.random() < p0 else 1
            t_arr = t
            t_out = t + tau
            n2 = 0.0
            n_e = 0.0
            hist_done = False
            if ir >= nrec or rec_t[ir] > t_out:  # fast path: precomputed full-tau blocks
                w = wfull[i]
                prev = 0j
                inv = 1.0 / nc
                for kk in range(size):
                    cur = cg[kk]
                    if steady and kk <= nmax:
                        arr_hist[kk] += (cur.real * cur.real + cur.imag * cur.imag) * inv
                    e = w[kk, 0] * prev + w[kk, 1] * cur
                    g = w[kk, 2] * prev + w[kk, 3] * cur
                    we[kk] = e
                    wg[kk] = g
                    pe_k = e.real * e.real + e.imag * e.imag
                    n_e += pe_k
                    n2 += pe_k + g.real * g.real + g.imag * g.imag
                    prev = cur
                hist_done = True
            src_e = we
            src_g = wg
            if n2 > u * nc:
                u /= n2 / nc
            else:  # exact slow path: records inside the interaction, or a jump
                r = 1.0 / math.sqrt(nc)
                ae, ag = amps[i, 0] * r, amps[i, 1] * r
                if steady and not hist_done:
                    for n in range(nmax + 1):
                        arr_hist[n] += (cg[n].real ** 2 + cg[n].imag ** 2) / nc
                ce[0] = 0.0
                for kk in range(size - 1, 0, -1):
                    ce[kk] = ae * cg[kk - 1]
                for kk in range(size):
                    cg[kk] = ag * cg[kk]
                t, u, ir = _evolve(
                    t, t_out, u, ir, a, b, d, ce, cg, we, wg, jr, recs, nrec, out, acc, rng
                )
                n2 = 0.0
                n_e = 0.0
                for kk in range(size):
                    pe_k = ce[kk].real ** 2 + ce[kk].imag ** 2
                    n_e += pe_k
                    n2 += pe_k + cg[kk].real ** 2 + cg[kk].imag ** 2
                wg[:] = cg
                src_e = ce
                src_g = wg
            t = t_out
            # ---- exit measurement in {e, g}: projects the cavity; eta thins the record
            excited = rng.random() * n2 < n_e
            if excited:
                src, shift, scale = src_e, 1, 1.0 / math.sqrt(n_e)
            else:
                src, shift, scale = src_g, 0, 1.0 / math.sqrt(n2 - n_e)
            if steady and (eta >= 1.0 or rng.random() < eta):
                n_det += 1.0
                if excited:
                    n_ex += 1.0
            k += 1
            slot, t_next = pump.next_arrival(code, slot, t_arr, pump_pars, rng)
        passages[0] += k
        if n_steady > 0:
            _add_pair(sa, sa_x / n_steady, sa_y / n_steady)
            sa_hist[: nmax + 1] += arr_hist / n_steady
        if n_probe > 0:
            _add_pair(st, acc[0] / n_probe, acc[1] / n_probe)
            st_hist[: nmax + 1] += probe_hist / n_probe
        _add_pair(clicks, n_ex, n_det)
        _add_pair(clicks[6:], n_ex, n_ex * n_ex)
        if status[1] > TOP_MAX:
            status[0] = 1
            status[2] = itr
            return
    if status[3] > TOP_TOL * status[4]:
        status[0] = 2


def run_old_block(
    model: Model, run: RunParams, ntraj: int, rng: np.random.Generator, plan: RecordPlan
) -> int:
    """Run ``ntraj`` trajectories of a thermal-start model with the frozen kernel.

    Returns the number of atom passages (the record sums are discarded).
    """
    if model.initial.kind != "thermal":
        raise ValueError("the frozen benchmark kernel is set up for a thermal start only")
    probs, amps = atom_eigenstates(model.pe, model.coherence)
    nmax = choose_nmax(model, run)
    size = nmax + 2
    a = np.zeros(size, dtype=complex)
    b = np.zeros(size)
    d = np.zeros(size, dtype=complex)
    for k in range(size):
        a[k], b[k], d[k] = blocks.block_coeffs(
            k - 1, model.g, model.gamma, model.kappa, model.nbar_bath, model.detuning
        )
    b[-1] = 0.0
    n = np.arange(size, dtype=float)
    gap_a = -0.5j * model.kappa * ((1.0 + model.nbar_bath) * n + model.nbar_bath * (n + 1.0))
    wfull = np.zeros((2, size, 4), dtype=complex)
    for k in range(size):
        u11, u12, u22 = blocks.propagator(a[k], b[k], d[k], model.tau)
        for i in range(2):
            ae, ag = amps[i]
            wfull[i, k] = (u11 * ae, u12 * ag, u12 * ae, u22 * ag)
    s, nlev = plan.samples, nmax + 1
    raw = (np.zeros((s, 6)), np.zeros((s, nlev)), np.zeros((s, 6)), np.zeros((s, nlev)),
           np.zeros(6), np.zeros(nlev), np.zeros(6), np.zeros(nlev), np.zeros(12),
           np.zeros(1, dtype=np.int64))  # fmt: skip
    rates = np.array(
        [model.gamma, model.kappa * (1 + model.nbar_bath), model.kappa * model.nbar_bath]
    )
    pump_args = (*pump.kernel_args(model), float(model.tau), float(run.detector_efficiency))
    plan_args = (plan.times, plan.strata, plan.arrival_index, int(plan.first_steady_stratum),
                 int(plan.atoms), int(plan.burn_in), float(plan.t_end))  # fmt: skip
    init = (INIT_THERMAL, np.zeros(size, dtype=complex), float(model.nbar_initial))
    coeffs = (a, b, d, gap_a, np.zeros(size))
    atom = (float(probs[0]), amps)
    status = np.zeros(5)
    _kernel(int(ntraj), rng, coeffs, wfull, atom, rates, pump_args, init, plan_args, raw, status)
    if status[0] != 0:
        raise RuntimeError("frozen kernel: the Fock cut-off was reached")
    return int(raw[-1][0])
