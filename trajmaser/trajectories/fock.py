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
each passage runs the named steps gap → arrival records → interaction → exit (detection), and
every record goes through :mod:`trajmaser.trajectories.accumulate` into the one accumulator
layout :class:`~trajmaser.trajectories.records.RawAccumulators`.  Memory does not depend on
the number of atoms or trajectories.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit

from trajmaser.blocks import block_coeffs, jump_time, norm2, propagate
from trajmaser.pump import first_arrival, next_arrival
from trajmaser.results import NBATCH
from trajmaser.trajectories.accumulate import (
    add_pair,
    add_pair_batched,
    click_buffer,
    click_finish,
    click_push,
    click_reset,
    hist_add,
    hist_add_mixture,
    kernel_step,
    mixture_moments,
    passage_step,
    record_arrival,
    record_sample,
)
from trajmaser.trajectories.records import (
    TR_ARR_X,
    TR_ARR_Y,
    TR_DET_ALL,
    TR_DET_E,
    TR_PROBE_X,
    TR_PROBE_Y,
    TR_SIZE,
)

_add_pair = add_pair  # former name, still imported by the general kernel

INIT_THERMAL, INIT_FOCK = 0, 1


class FockParams(NamedTuple):
    """Physics of a Fock-path run as the kernel reads it.

    ``consts`` = (g, γ, κ, n_b, Δ) in the order of :func:`trajmaser.blocks.block_coeffs`;
    ``pump`` = (code, slot_len, rate, p) of :mod:`trajmaser.pump`; ``init_kind`` is
    INIT_THERMAL (``init_value`` = q = n̄/(1 + n̄)) or INIT_FOCK (``init_value`` = n).
    """

    pe: float
    tau: float
    eta: float
    init_kind: int
    init_value: float
    consts: tuple
    pump: tuple


class FockTables(NamedTuple):
    """Per entry photon number n: no-jump probability over τ and P(exit |e⟩ | no jump)."""

    pnj_e: np.ndarray
    qe_e: np.ndarray
    pnj_g: np.ndarray
    qe_g: np.ndarray


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


# ----------------------------------------------------------------- step: gap
@kernel_step
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


# ----------------------------------------------------------------- step: record
@kernel_step
def _record(kind, m, w, b, plan, raw, tr):
    """Record the cavity holding m photons with prob 1 − w and m + 1 with prob w.

    ``kind`` ≥ 0: sample time index; kind < 0: a steady probe (its x, y go into the
    trajectory's probe sums, its histogram weight into the steady time histogram).
    """
    if kind >= 0:
        record_sample(raw, b, kind, m, w)
        return
    x, y = mixture_moments(m, w)
    tr[TR_PROBE_X] += x
    tr[TR_PROBE_Y] += y
    hist = raw.steady_time_hist
    hist_add_mixture(raw, hist, raw.batch_steady_time_hist[b], m, w, plan.inv_probes)


@passage_step
def _gap_records(n, t, t_arr, ri, b, rng, par, plan, sched, raw, tr):
    """Empty cavity from t up to the records at or before ``t_arr``; returns (n, t, ri)."""
    rec_t, rec_kind = sched
    kappa, nbar_bath = par.consts[2], par.consts[3]
    while ri < rec_t.shape[0] and rec_t[ri] <= t_arr:
        n = gap_evolve(n, rec_t[ri] - t, kappa, nbar_bath, rng)
        t = rec_t[ri]
        _record(rec_kind[ri], n, 0.0, b, plan, raw, tr)
        ri += 1
    return n, t, ri


# ----------------------------------------------------------------- step: arrival record
@passage_step
def _arrival(n, k, ja, b, plan, raw, tr):
    """Arrival records of atom k (cavity n photons) and its steady sums; returns next ja."""
    arrival_index = plan.arrival_index
    while ja < arrival_index.shape[0] and arrival_index[ja] == k:
        record_arrival(raw, b, ja, n)
        ja += 1
    if plan.burn_in <= k < plan.atoms:
        tr[TR_ARR_X] += n
        tr[TR_ARR_Y] += n * n
        hist = raw.steady_arrival_hist
        hist_add(raw, hist, raw.batch_steady_arrival_hist[b], n, plan.inv_steady_atoms)
    return ja


# ----------------------------------------------------------------- step: interaction
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
def _interaction_slow(m, ce, cg, s, t_exit, u, have_u, ri, b, rng, par, plan, sched, raw, tr):
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
        if nrm > u:  # no jump in this segment
            f = 1.0 / math.sqrt(nrm)
            ce, cg = ce1 * f, cg1 * f
            s = seg_end
            if not is_rec:
                found_e = (u / nrm) < ce.real * ce.real + ce.imag * ce.imag
                return (m if found_e else m + 1), found_e, ri
            w = cg.real * cg.real + cg.imag * cg.imag
            _record(rec_kind[ri], m, w, b, plan, raw, tr)
            ri += 1
        else:
            tj = jump_time(a, bb, d, ce, cg, u, dt)
            ce1, cg1 = propagate(a, bb, d, ce, cg, tj)
            s = s + tj
            m, ce, cg = _jump(m, ce1, cg1, gamma, kappa, nbar_bath, rng)


@kernel_step
def _entry_probs(m, ce, cg, consts, tau):
    """No-jump probability over τ and P(exit |e⟩ | no jump) from block m (beyond the tables)."""
    g, gamma, kappa, nbar_bath, detuning = consts
    a, b, d = block_coeffs(m, g, gamma, kappa, nbar_bath, detuning)
    ce1, cg1 = propagate(a, b, d, ce, cg, tau)
    nrm = norm2(ce1, cg1)
    return nrm, (ce1.real**2 + ce1.imag**2) / nrm


@passage_step
def _interaction(n, t_arr, ri, b, rng, par, plan, tables, sched, raw, tr):
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
        return _interaction_slow(
            m, ce0, cg0, t_arr, t_exit, 0.0, False, ri, b, rng, par, plan, sched, raw, tr
        )
    u = u / pe if excited else (u - pe) / (1.0 - pe)  # a fresh uniform
    if n < tables.pnj_e.shape[0]:
        pnj = tables.pnj_e[n] if excited else tables.pnj_g[n]
        qe = tables.qe_e[n] if excited else tables.qe_g[n]
    else:
        pnj, qe = _entry_probs(m, ce0, cg0, par.consts, par.tau)
    if u < pnj:  # no jump: measure the atom (u / pnj is again uniform)
        found_e = u < qe * pnj
        return (m if found_e else m + 1), found_e, ri
    # a jump: exact norm inversion from the same u
    return _interaction_slow(
        m, ce0, cg0, t_arr, t_exit, u, True, ri, b, rng, par, plan, sched, raw, tr
    )


# ----------------------------------------------------------------- step: exit (detection)
@passage_step
def _exit(found_e, k, rng, par, plan, tr, cb):
    """Detection of atom k (η thins the record only) into the click sums and correlations."""
    if plan.burn_in <= k < plan.atoms:
        detected = par.eta >= 1.0 or rng.random() < par.eta
        if detected:
            tr[TR_DET_ALL] += 1.0
            if found_e:
                tr[TR_DET_E] += 1.0
        click_push(cb, detected and found_e, detected)


# ----------------------------------------------------------------- one trajectory
@kernel_step
def _schedule(rng, plan, sched):
    """Record times of one trajectory: one probe per steady stratum, then its sample time."""
    rec_t, rec_kind = sched
    times, strata = plan.times, plan.strata
    r = 0
    for j in range(times.shape[0]):
        if j >= plan.first_steady_stratum:
            rec_t[r] = strata[j] + rng.random() * (strata[j + 1] - strata[j])
            rec_kind[r] = -(j + 1)
            r += 1
        rec_t[r] = times[j]
        rec_kind[r] = j
        r += 1


@kernel_step
def _initial_photons(rng, par):
    """Photon number of the initial cavity (thermal draw or a Fock state)."""
    if par.init_kind == INIT_THERMAL:
        q = par.init_value
        return rng.geometric(1.0 - q) - 1 if q > 0.0 else 0
    return int(par.init_value)


@kernel_step
def _trajectory(n, b, rng, par, plan, tables, sched, raw, tr, cb):
    """One trajectory from n photons: atoms arrive until every record is taken.

    Returns the number of atom passages.
    """
    code, slot_len, rate, p = par.pump
    kappa, nbar_bath = par.consts[2], par.consts[3]
    nrec = sched[0].shape[0]
    t = 0.0
    k = 0
    ri = 0
    ja = 0
    slot, t_arr = first_arrival(code, slot_len, p, rng)
    while True:
        n, t, ri = _gap_records(n, t, t_arr, ri, b, rng, par, plan, sched, raw, tr)
        if k >= plan.atoms and ri >= nrec:
            return k
        n = gap_evolve(n, t_arr - t, kappa, nbar_bath, rng)
        ja = _arrival(n, k, ja, b, plan, raw, tr)
        n, found_e, ri = _interaction(n, t_arr, ri, b, rng, par, plan, tables, sched, raw, tr)
        t = t_arr + par.tau
        _exit(found_e, k, rng, par, plan, tr, cb)
        k += 1
        slot, t_arr = next_arrival(code, slot, t_arr, slot_len, par.tau, rate, p, rng)


@kernel_step
def _finish(b, k, plan, raw, tr, cb):
    """Per-trajectory steady averages (one batch each), clicks and passages into ``raw``."""
    x = tr[TR_PROBE_X] * plan.inv_probes
    y = tr[TR_PROBE_Y] * plan.inv_probes
    add_pair_batched(raw.steady_time, raw.batch_steady_time[b], x, y)
    if plan.atoms > plan.burn_in:
        x = tr[TR_ARR_X] * plan.inv_steady_atoms
        y = tr[TR_ARR_Y] * plan.inv_steady_atoms
        add_pair_batched(raw.steady_arrival, raw.batch_steady_arrival[b], x, y)
    det_e = tr[TR_DET_E]
    add_pair(raw.clicks, det_e, tr[TR_DET_ALL])
    add_pair(raw.clicks[6:], det_e, det_e * det_e)
    click_finish(raw, cb)
    raw.passages[0] += k


@njit(cache=True)
def run_fock(ntraj, first_index, rng, par, plan, tables, raw):
    """Run ``ntraj`` Fock-path trajectories, adding into the accumulators ``raw``.

    Parameters
    ----------
    ntraj : int
        Trajectories to run.
    first_index : int
        Global index of the first one (its batch is ``first_index % NBATCH``).
    rng : numpy.random.Generator
    par : FockParams
    plan : KernelPlan
    tables : FockTables
        From :func:`fock_tables`.
    raw : RawAccumulators
    """
    nsamp = plan.times.shape[0]
    nrec = nsamp + nsamp - plan.first_steady_stratum
    sched = (np.empty(nrec), np.empty(nrec, dtype=np.int64))
    tr = np.zeros(TR_SIZE)
    cb = click_buffer()
    for i in range(ntraj):
        b = (first_index + i) % NBATCH
        _schedule(rng, plan, sched)
        n = _initial_photons(rng, par)
        tr[:] = 0.0
        click_reset(cb)
        k = _trajectory(n, b, rng, par, plan, tables, sched, raw, tr, cb)
        _finish(b, k, plan, raw, tr, cb)
