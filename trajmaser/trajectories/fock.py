"""Fock-path quantum-trajectory kernel (SPEC §5): diagonal atoms, diagonal initial cavity.

On every trajectory the cavity is a Fock state n between atoms.  An atom arrives in |e⟩
(probability pe) or |g⟩; during the interaction the state is two amplitudes in one excitation
block (:mod:`trajmaser.blocks`), jump times are drawn by exact inversion of the no-jump norm,
and at exit the atom is measured in {e, g}, which projects the cavity back onto a Fock state.
Between atoms the empty cavity loses photons binomially (n_b = 0) or performs an exact
birth–death walk (n_b > 0).  No time step, no Fock cut-off.

Speed: most passages neither jump nor contain a record time, so per-n tables of the no-jump
probability over a whole interaction and of the exit probability of |e⟩ decide such a passage
with one uniform draw (u < P_nojump: no jump, and u / P_nojump is a fresh uniform for the exit
measurement).  Otherwise the exact slow path runs: the interaction is split at record times
(restarting the norm inversion after renormalising is exact) and at jumps.

The kernel is a numba loop over trajectories with a :class:`numpy.random.Generator` passed in;
it adds into the arrays of :class:`trajmaser.records.RawAccumulators`.  Memory does not depend
on the number of atoms or trajectories.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from trajmaser.blocks import block_coeffs, jump_time, norm2, propagate
from trajmaser.pump import first_arrival, next_arrival

INIT_THERMAL, INIT_FOCK = 0, 1


@njit(cache=True)
def fock_tables(size, g, gamma, kappa, nbar_bath, detuning, tau):
    """Per entry photon number n < size: no-jump probability over τ and P(exit in |e⟩ | no jump).

    Returns ``(pnj_e, qe_e, pnj_g, qe_g)`` for atoms entering in |e⟩ (block n) and in |g⟩
    (block n − 1).
    """
    pnj_e = np.empty(size)
    qe_e = np.empty(size)
    pnj_g = np.empty(size)
    qe_g = np.empty(size)
    for n in range(size):
        a, b, d = block_coeffs(n, g, gamma, kappa, nbar_bath, detuning)
        ce, cg = propagate(a, b, d, 1.0 + 0j, 0j, tau)
        pnj_e[n] = norm2(ce, cg)
        qe_e[n] = (ce.real**2 + ce.imag**2) / pnj_e[n]
        a, b, d = block_coeffs(n - 1, g, gamma, kappa, nbar_bath, detuning)
        ce, cg = propagate(a, b, d, 0j, 1.0 + 0j, tau)
        pnj_g[n] = norm2(ce, cg)
        qe_g[n] = (ce.real**2 + ce.imag**2) / pnj_g[n]
    return pnj_e, qe_e, pnj_g, qe_g


@njit(cache=True)
def gap_evolve(n, dt, kappa, nbar_bath, rng):
    """Fock state after an empty-cavity evolution of length ``dt`` (exact)."""
    if dt <= 0.0:
        return n
    if nbar_bath == 0.0:
        if n == 0:
            return 0
        if rng.random() < math.exp(-kappa * n * dt):
            return n
        # Binomial(n, p_loss) conditioned on at least one loss, drawn directly: the first
        # photon lost (in any fixed order) is j with probability ∝ (1 − p_loss)^(j−1) p_loss,
        # j = 1..n (inverse CDF), and each of the n − j after it is lost independently.
        p_loss = -math.expm1(-kappa * dt)
        some = -math.expm1(-kappa * n * dt)  # 1 − (1 − p_loss)^n
        j = math.ceil(math.log1p(-rng.random() * some) / (-kappa * dt))
        j = min(max(j, 1), n)
        lost = 1 + (rng.binomial(n - j, p_loss) if j < n else 0)
        return n - lost
    while True:
        down = kappa * (1.0 + nbar_bath) * n
        total = down + kappa * nbar_bath * (n + 1)
        w = rng.exponential(1.0 / total)
        if w >= dt:
            return n
        dt -= w
        if rng.random() * total < down:
            n -= 1
        else:
            n += 1


@njit(cache=True)
def _add_pair(acc, x, y):
    acc[0] += 1.0
    acc[1] += x
    acc[2] += y
    acc[3] += x * x
    acc[4] += y * y
    acc[5] += x * y


@njit(cache=True)
def _hist_add(hist, n, w, overflow, maxn):
    if n > maxn[0]:
        maxn[0] = n
    if n < hist.shape[0]:
        hist[n] += w
    else:
        overflow[0] += w


@njit(cache=True)
def _record(kind, m, w, time, time_hist, st_hist, inv_probes, steady, overflow, maxn):
    """Record the cavity holding m photons with prob 1 − w and m + 1 with prob w.

    ``kind`` ≥ 0: sample time index; kind < 0: probe of stratum −kind − 1 (its x, y go into
    ``steady`` = [Σx, Σy] of the trajectory).
    """
    x = m + w
    y = m * m + w * (2.0 * m + 1.0)
    if kind >= 0:
        _add_pair(time[kind], x, y)
        if m >= 0 and w < 1.0:
            _hist_add(time_hist[kind], m, 1.0 - w, overflow, maxn)
        if w > 0.0:
            _hist_add(time_hist[kind], m + 1, w, overflow, maxn)
    else:
        steady[0] += x
        steady[1] += y
        if m >= 0 and w < 1.0:
            _hist_add(st_hist, m, (1.0 - w) * inv_probes, overflow, maxn)
        if w > 0.0:
            _hist_add(st_hist, m + 1, w * inv_probes, overflow, maxn)


@njit(cache=True)
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


@njit(cache=True)
def _interaction_slow(m, ce, cg, s, t_exit, u, have_u, ri, rec_t, rec_kind, consts, rng, acc_args):
    """Exact interaction from time s to t_exit: records inside, jumps, exit measurement.

    Returns ``(n_after, found_excited, ri)``.
    """
    g, gamma, kappa, nbar_bath, detuning = consts
    time, time_hist, st_hist, inv_probes, steady, overflow, maxn = acc_args
    nrec = rec_t.shape[0]
    while True:
        is_rec = ri < nrec and rec_t[ri] < t_exit
        seg_end = rec_t[ri] if is_rec else t_exit
        if not have_u:
            u = rng.random()
        have_u = False
        a, b, d = block_coeffs(m, g, gamma, kappa, nbar_bath, detuning)
        dt = seg_end - s
        ce1, cg1 = propagate(a, b, d, ce, cg, dt)
        nrm = norm2(ce1, cg1)
        if nrm > u:  # no jump in this segment
            f = 1.0 / math.sqrt(nrm)
            ce, cg = ce1 * f, cg1 * f
            s = seg_end
            if not is_rec:
                found_e = (u / nrm) < ce.real * ce.real + ce.imag * ce.imag
                return (m if found_e else m + 1), found_e, ri
            w = cg.real * cg.real + cg.imag * cg.imag
            _record(
                rec_kind[ri], m, w, time, time_hist, st_hist, inv_probes, steady, overflow, maxn
            )
            ri += 1
        else:
            tj = jump_time(a, b, d, ce, cg, u, dt)
            ce1, cg1 = propagate(a, b, d, ce, cg, tj)
            s = s + tj
            m, ce, cg = _jump(m, ce1, cg1, gamma, kappa, nbar_bath, rng)


@njit(cache=True)
def run_fock(
    ntraj,
    rng,
    pe,
    consts,
    tau,
    init_kind,
    init_value,
    pump_args,
    eta,
    plan_args,
    tables,
    time,
    time_hist,
    arrival,
    arrival_hist,
    steady_time,
    steady_time_hist,
    steady_arrival,
    steady_arrival_hist,
    clicks,
    overflow,
    passages,
    maxn,
):
    """Run ``ntraj`` Fock-path trajectories, adding into the accumulator arrays.

    Parameters (all positional; see :func:`trajmaser.trajectories.simulate_block`)
    ----------------------------------------------------------------------------
    consts : (g, gamma, kappa, nbar_bath, detuning)
    init_kind, init_value : INIT_THERMAL with q = n̄/(1+n̄), or INIT_FOCK with n
    pump_args : (code, pars) from :func:`trajmaser.pump.kernel_args`
    plan_args : (times, arrival_index, strata, atoms, burn_in, first_steady_stratum)
    tables : (pnj_e, qe_e, pnj_g, qe_g) from :func:`fock_tables`
    maxn : int64[1], receives the largest photon number met (for histogram resizing)
    """
    g, gamma, kappa, nbar_bath, detuning = consts
    code, pump_pars = pump_args
    times, arrival_index, strata, atoms, burn_in, first = plan_args
    pnj_e, qe_e, pnj_g, qe_g = tables
    ntab = pnj_e.shape[0]
    nsamp = times.shape[0]
    nprobe = nsamp - first
    inv_probes = 1.0 / nprobe
    n_steady_atoms = atoms - burn_in
    inv_steady_atoms = 1.0 / n_steady_atoms if n_steady_atoms > 0 else 0.0
    nrec = nsamp + nprobe
    rec_t = np.empty(nrec)
    rec_kind = np.empty(nrec, dtype=np.int64)
    steady = np.zeros(2)
    acc_args = (time, time_hist, steady_time_hist, inv_probes, steady, overflow, maxn)

    for _ in range(ntraj):
        # ---- record schedule: one probe per steady stratum, then that stratum's sample time
        r = 0
        for j in range(nsamp):
            if j >= first:
                rec_t[r] = strata[j] + rng.random() * (strata[j + 1] - strata[j])
                rec_kind[r] = -(j + 1)
                r += 1
            rec_t[r] = times[j]
            rec_kind[r] = j
            r += 1
        # ---- initial cavity
        if init_kind == INIT_THERMAL:
            n = rng.geometric(1.0 - init_value) - 1 if init_value > 0.0 else 0
        else:
            n = int(init_value)
        steady[0] = 0.0
        steady[1] = 0.0
        sxa = 0.0
        sya = 0.0
        det_e = 0.0
        det_all = 0.0
        t = 0.0
        slot, t_arr = first_arrival(code, pump_pars, rng)
        k = 0
        ri = 0
        ja = 0
        while True:
            # ---- empty cavity up to the next arrival, records on the way
            while ri < nrec and rec_t[ri] <= t_arr:
                n = gap_evolve(n, rec_t[ri] - t, kappa, nbar_bath, rng)
                t = rec_t[ri]
                _record(
                    rec_kind[ri],
                    n,
                    0.0,
                    time,
                    time_hist,
                    steady_time_hist,
                    inv_probes,
                    steady,
                    overflow,
                    maxn,
                )
                ri += 1
            if k >= atoms and ri >= nrec:
                break
            n = gap_evolve(n, t_arr - t, kappa, nbar_bath, rng)
            t = t_arr
            # ---- arrival records
            while ja < nsamp and arrival_index[ja] == k:
                _add_pair(arrival[ja], n, n * n)
                _hist_add(arrival_hist[ja], n, 1.0, overflow, maxn)
                ja += 1
            if burn_in <= k < atoms:
                sxa += n
                sya += n * n
                _hist_add(steady_arrival_hist, n, inv_steady_atoms, overflow, maxn)
            # ---- the interaction
            u = rng.random()
            excited = u < pe
            t_exit = t_arr + tau
            # entry state |e,n> or |g,n> lies in block m with amplitudes (ce0, cg0)
            if excited:
                m, ce0, cg0 = n, 1.0 + 0j, 0j
            else:
                m, ce0, cg0 = n - 1, 0j, 1.0 + 0j
            if ri < nrec and rec_t[ri] < t_exit:  # a record falls inside: exact slow path
                n, found_e, ri = _interaction_slow(
                    m, ce0, cg0, t, t_exit, 0.0, False, ri, rec_t, rec_kind, consts, rng, acc_args
                )
            else:
                u = u / pe if excited else (u - pe) / (1.0 - pe)  # a fresh uniform
                if n < ntab:
                    pnj = pnj_e[n] if excited else pnj_g[n]
                    qe = qe_e[n] if excited else qe_g[n]
                else:
                    pnj, qe = _entry_probs(m, ce0, cg0, consts, tau)
                if u < pnj:  # no jump: measure the atom (u / pnj is again uniform)
                    found_e = u < qe * pnj
                    n = m if found_e else m + 1
                else:  # a jump: exact norm inversion from the same u
                    n, found_e, ri = _interaction_slow(
                        m, ce0, cg0, t, t_exit, u, True, ri, rec_t, rec_kind, consts, rng, acc_args
                    )
            t = t_exit
            # ---- detection (η thins the record only)
            if burn_in <= k < atoms and (eta >= 1.0 or rng.random() < eta):
                det_all += 1.0
                if found_e:
                    det_e += 1.0
            passages[0] += 1
            k += 1
            slot, t_arr = next_arrival(code, slot, t_arr, pump_pars, rng)
        # ---- per-trajectory steady averages: one batch each
        _add_pair(steady_time, steady[0] * inv_probes, steady[1] * inv_probes)
        if n_steady_atoms > 0:
            _add_pair(steady_arrival, sxa * inv_steady_atoms, sya * inv_steady_atoms)
        _add_pair(clicks, det_e, det_all)
        _add_pair(clicks[6:], det_e, det_e * det_e)


@njit(cache=True)
def _entry_probs(m, ce, cg, consts, tau):
    g, gamma, kappa, nbar_bath, detuning = consts
    a, b, d = block_coeffs(m, g, gamma, kappa, nbar_bath, detuning)
    ce1, cg1 = propagate(a, b, d, ce, cg, tau)
    nrm = norm2(ce1, cg1)
    return nrm, (ce1.real**2 + ce1.imag**2) / nrm
