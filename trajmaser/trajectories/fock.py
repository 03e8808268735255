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
    kernel_step,
    passage_step,
    record_arrival,
    record_mixture,
)
from trajmaser.trajectories.cancel import POLL_PASSAGES
from trajmaser.trajectories.fock_interaction import FockTables, fock_tables, interaction
from trajmaser.trajectories.records import (
    STOP_CANCELLED,
    STOP_NONE,
    STOP_NONFINITE,
    TR_ARR_X,
    TR_ARR_Y,
    TR_DET_ALL,
    TR_DET_E,
    TR_PROBE_X,
    TR_PROBE_Y,
    TR_SIZE,
)

__all__ = ["INIT_FOCK", "INIT_THERMAL", "FockParams", "FockTables", "fock_tables", "run_fock"]

_add_pair = add_pair  # former name, still imported by the general kernel

INIT_THERMAL, INIT_FOCK = 0, 1


class FockParams(NamedTuple):
    """Physics of a Fock-path run as the kernel reads it.

    ``consts`` = (g, γ, κ, n_b, Δ) in the order of :func:`trajmaser.blocks.block_coeffs`;
    ``pump`` = (code, pars) of :func:`trajmaser.pump.kernel_args`; ``init_kind`` is
    INIT_THERMAL (``init_value`` = q = n̄/(1 + n̄)) or INIT_FOCK (``init_value`` = n).
    """

    pe: float
    tau: float
    eta: float
    init_kind: int
    init_value: float
    consts: tuple
    pump: tuple


# ----------------------------------------------------------------- step: gap
@kernel_step
def gap_evolve(n, dt, kappa, nbar_bath, rng):
    """Fock state after an empty-cavity evolution of length ``dt`` (exact); −1 if the jump
    rates are not finite."""
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
        if not total < math.inf:  # NaN or inf rates
            return -1
        if total == 0.0:  # κ = 0: nothing happens
            return n
        w = rng.exponential(1.0 / total)
        if w >= dt:
            return n
        dt -= w
        if rng.random() * total < down:
            n -= 1
        else:
            n += 1


# ----------------------------------------------------------------- step: records in a gap
@passage_step
def _gap_records(n, t, t_arr, ri, b, rng, par, plan, sched, raw, tr):
    """Empty cavity from t up to the records at or before ``t_arr``; returns (n, t, ri)."""
    rec_t, rec_kind = sched
    kappa, nbar_bath = par.consts[2], par.consts[3]
    while ri < rec_t.shape[0] and rec_t[ri] <= t_arr:
        n = gap_evolve(n, rec_t[ri] - t, kappa, nbar_bath, rng)
        t = rec_t[ri]
        record_mixture(raw, tr, b, rec_kind[ri], n, 0.0, plan.inv_probes)
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
def _trajectory(n, b, rng, par, plan, tables, sched, raw, tr, cb, flag):
    """One trajectory from n photons: atoms arrive until every record is taken.

    Returns the number of atom passages; stops early with ``raw.stop[0]`` set when ``flag``
    is raised (polled every POLL_PASSAGES passages) or the state is not finite.
    """
    code, pump_pars = par.pump
    kappa, nbar_bath = par.consts[2], par.consts[3]
    nrec = sched[0].shape[0]
    t = 0.0
    k = 0
    ri = 0
    ja = 0
    slot, t_arr = first_arrival(code, pump_pars, rng)
    while True:
        n, t, ri = _gap_records(n, t, t_arr, ri, b, rng, par, plan, sched, raw, tr)
        if k >= plan.atoms and ri >= nrec:
            return k
        if k & (POLL_PASSAGES - 1) == POLL_PASSAGES - 1 and flag[0] != 0:
            raw.stop[0] = STOP_CANCELLED
            return k
        n = gap_evolve(n, t_arr - t, kappa, nbar_bath, rng)
        if n < 0:
            raw.stop[0] = STOP_NONFINITE
            return k
        ja = _arrival(n, k, ja, b, plan, raw, tr)
        n, found_e, ri = interaction(n, t_arr, ri, b, rng, par, plan, tables, sched, raw, tr)
        if raw.stop[0] != STOP_NONE:
            return k
        t = t_arr + par.tau
        _exit(found_e, k, rng, par, plan, tr, cb)
        k += 1
        slot, t_arr = next_arrival(code, slot, t_arr, pump_pars, rng)


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


@njit(cache=True, nogil=True)
def run_fock(ntraj, first_index, rng, par, plan, tables, raw, flag):
    """Run ``ntraj`` Fock-path trajectories, adding into the accumulators ``raw``.

    Releases the GIL.  Stops early, with ``raw.stop`` = (STOP_* code, trajectory), when
    ``flag[0]`` is nonzero (polled before every trajectory) or the state is not finite.

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
    flag : ndarray of int64, shape (1,)
        :data:`trajmaser.trajectories.cancel.FLAG`.
    """
    nsamp = plan.times.shape[0]
    nrec = nsamp + nsamp - plan.first_steady_stratum
    sched = (np.empty(nrec), np.empty(nrec, dtype=np.int64))
    tr = np.zeros(TR_SIZE)
    cb = click_buffer()
    for i in range(ntraj):
        if flag[0] != 0:
            raw.stop[0] = STOP_CANCELLED
            raw.stop[1] = i
            return
        b = (first_index + i) % NBATCH
        _schedule(rng, plan, sched)
        n = _initial_photons(rng, par)
        tr[:] = 0.0
        click_reset(cb)
        k = _trajectory(n, b, rng, par, plan, tables, sched, raw, tr, cb, flag)
        if raw.stop[0] != STOP_NONE:
            raw.stop[1] = i
            return
        _finish(b, k, plan, raw, tr, cb)
