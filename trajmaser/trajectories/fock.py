"""Fock-path quantum-trajectory kernel (docs/PHYSICS.md): diagonal atoms, diagonal initial cavity.

On every trajectory the cavity is a Fock state n between atoms.  An atom arrives in |e⟩
(probability pe) or |g⟩; during the interaction the state is two amplitudes in one excitation
block (:mod:`trajmaser.blocks`), jump times are drawn by exact inversion of the no-jump norm,
and at exit the atom is measured in {e, g}, which projects the cavity back onto a Fock state.
Between atoms the empty cavity loses photons binomially (n_b = 0) or performs an exact
birth–death walk (n_b > 0); inside the steady window its events are drawn one by one so that
the time integrals of the steady "time" block are exact (:mod:`~trajmaser.trajectories.
fock_time`).  No time step, no Fock cut-off.

Speed: most passages neither jump nor contain a record time, so per-n tables of the no-jump
probability over a whole interaction and of the exit probability of |e⟩ decide such a passage
with one uniform draw (u < P_nojump: no jump, and u / P_nojump is a fresh uniform for the exit
measurement).  Otherwise the exact slow path runs: the interaction is split at record times
(restarting the norm inversion after renormalising is exact) and at jumps
(:mod:`~trajmaser.trajectories.fock_interaction`).  Runs of passages with no record, no
window edge and no arrival record go through :mod:`~trajmaser.trajectories.fock_lane`, which
makes those checks once per run instead of once per passage; inside the steady window it
counts the table-decided passages per table index and adds their arrivals and occupation
times (c·(τ − w), c·w) once per trajectory.  With regular pumping every gap has the same
length, so the probability of no cavity event in it is read from a per-n table
(``FockTables.stay``) instead of an exponential per gap, and the usual gap needs no call.

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

from trajmaser.pump import first_arrival
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
    record_arrival,
    record_mixture,
)
from trajmaser.trajectories.cancel import POLL_PASSAGES
from trajmaser.trajectories.fock_interaction import (
    SNAP,
    FockTables,
    fock_tables,
    interaction,
    passage_tables,
)
from trajmaser.trajectories.fock_lane import fock_lane, fold_passes, next_arrival
from trajmaser.trajectories.fock_time import gap_evolve, gap_timed, occupy, time_tables
from trajmaser.trajectories.records import (
    STOP_CANCELLED,
    STOP_NONE,
    STOP_NONFINITE,
    TR_MAXN,
    TR_PROBE_X,
    TR_PROBE_Y,
    TR_SIZE,
)

__all__ = [
    "INIT_FOCK",
    "INIT_TABLE",
    "INIT_THERMAL",
    "FockParams",
    "FockTables",
    "fock_tables",
    "passage_tables",
    "run_fock",
    "time_tables",
]


INIT_THERMAL, INIT_FOCK, INIT_TABLE = 0, 1, 2


class FockParams(NamedTuple):
    """Physics of a Fock-path run as the kernel reads it.

    ``consts`` = (g, γ, κ, n_b, Δ) in the order of :func:`trajmaser.blocks.block_coeffs`;
    ``pump`` = (code, pars) from :func:`trajmaser.pump.kernel_args`; ``init_kind`` is
    INIT_THERMAL (``init_value`` = q = n̄/(1 + n̄)), INIT_FOCK (``init_value`` = n) or
    INIT_TABLE (n drawn by inverting the cumulative p(n) ``init_cdf``; unused otherwise);
    ``time_probes`` estimates the steady time block from one random probe time per stratum
    (the former estimator, kept for ``benchmarks/bench_time_average.py``) instead of the
    exact time integral.
    """

    pe: float
    tau: float
    eta: float
    init_kind: int
    init_value: float
    init_cdf: np.ndarray
    consts: tuple
    pump: tuple
    time_probes: bool


# ----------------------------------------------------------------- step: records in a gap
@passage_step
def _gap(n, t0, t1, rng, par, plan, tr, occ):
    """Empty cavity from t0 to t1 (exact); events inside the steady window are drawn one by
    one and integrated.  Returns the photon number (−1: rates not finite)."""
    kappa, nbar_bath = par.consts[2], par.consts[3]
    if n == 0 and nbar_bath == 0.0 and (t1 <= plan.t_burn or t0 >= plan.t_end):
        return 0  # an empty cavity outside the window: nothing to draw or record
    lo = max(t0, plan.t_burn)
    hi = min(t1, plan.t_end)
    if hi <= lo or par.time_probes:
        return gap_evolve(n, t1 - t0, kappa, nbar_bath, rng)
    if t0 < lo:
        n = gap_evolve(n, lo - t0, kappa, nbar_bath, rng)
    if n == 0 and nbar_bath == 0.0:  # the empty cavity stays empty (most gaps)
        occupy(0, hi - lo, tr, occ)
    elif n >= 0:
        n = gap_timed(n, hi - lo, kappa, nbar_bath, rng, tr, occ)
    if n >= 0 and hi < t1:
        n = gap_evolve(n, t1 - hi, kappa, nbar_bath, rng)
    return n


@passage_step
def _gap_records(n, t, t_arr, ri, b, rng, par, plan, sched, raw, tr, occ):
    """Empty cavity from t up to the records at or before ``t_arr`` (to rounding);
    returns (n, t, ri)."""
    rec_t, rec_kind = sched
    while ri < rec_t.shape[0] and rec_t[ri] <= t_arr * (1.0 + SNAP) and n >= 0:
        n = _gap(n, t, rec_t[ri], rng, par, plan, tr, occ)
        t = rec_t[ri]
        record_mixture(raw, tr, b, rec_kind[ri], n, 0.0, plan.inv_probes)
        ri += 1
    return n, t, ri


# ----------------------------------------------------------------- step: arrival record
@passage_step
def _arrival(n, k, ja, b, plan, raw, tr, arrivals):
    """Arrival records of atom k (cavity n photons) and its count in ``arrivals`` (steady
    window; the last entry counts n beyond the histogram); returns the next ja."""
    arrival_index = plan.arrival_index
    while ja < arrival_index.shape[0] and arrival_index[ja] == k:
        record_arrival(raw, b, ja, n)
        ja += 1
    if plan.burn_in <= k < plan.atoms:
        top = arrivals.shape[0] - 1
        if n < top:
            arrivals[n] += 1
        else:
            arrivals[top] += 1
            tr[TR_MAXN] = max(tr[TR_MAXN], float(n))
    return ja


# ----------------------------------------------------------------- one trajectory
@kernel_step
def _initial_photons(rng, par):
    """Photon number of the initial cavity (thermal draw, a table p(n) or a Fock state)."""
    if par.init_kind == INIT_THERMAL:
        q = par.init_value
        return rng.geometric(1.0 - q) - 1 if q > 0.0 else 0
    if par.init_kind == INIT_TABLE:
        cdf = par.init_cdf
        return min(np.searchsorted(cdf, rng.random(), side="right"), cdf.size - 1)
    return int(par.init_value)


@kernel_step
def _trajectory(n, b, rng, par, plan, tables, sched, raw, tr, occ, arrivals, cb, passes, flag):
    """One trajectory from n photons: atoms arrive until every sample record is taken.

    Returns the number of atom passages; stops early with ``raw.stop[0]`` set when ``flag``
    is raised (polled every POLL_PASSAGES passages) or the state is not finite.
    """
    code, pump_pars = par.pump
    nrec = sched[0].shape[0]
    t = 0.0
    k = 0
    ri = 0
    ja = 0
    slot, t_arr = first_arrival(code, pump_pars, rng)
    while True:
        if not par.time_probes:  # ordinary passages up to the next special one, in the lane
            k_lim = min(plan.atoms, k | (POLL_PASSAGES - 1))
            if ja < plan.arrival_index.shape[0]:
                k_lim = min(k_lim, plan.arrival_index[ja])
            steady = k >= plan.burn_in
            if not steady:
                k_lim = min(k_lim, plan.burn_in)
            if k < k_lim:
                t_rec = sched[0][ri] if ri < nrec else math.inf
                n, k, t, t_arr, slot = fock_lane(n, k, k_lim, t, t_arr, slot, ri, t_rec, steady,
                                                 b, rng, par, plan, tables, sched, raw, tr, occ,
                                                 arrivals, cb, passes)  # fmt: skip
                if raw.stop[0] != STOP_NONE:
                    return k
        n, t, ri = _gap_records(n, t, t_arr, ri, b, rng, par, plan, sched, raw, tr, occ)
        if k >= plan.atoms and ri >= nrec:
            return k
        if (k & (POLL_PASSAGES - 1)) == POLL_PASSAGES - 1 and flag[0] != 0:
            raw.stop[0] = STOP_CANCELLED
            return k
        if n >= 0:
            n = _gap(n, t, t_arr, rng, par, plan, tr, occ)
        if n < 0:
            raw.stop[0] = STOP_NONFINITE
            return k
        ja = _arrival(n, k, ja, b, plan, raw, tr, arrivals)
        n, found_e, ri = interaction(n, t_arr, ri, b, rng, par, plan, tables, sched, raw, tr, occ)
        if raw.stop[0] != STOP_NONE:
            return k
        t = t_arr + par.tau
        detect(cb, k, found_e, par.eta, plan, rng)
        k += 1
        slot, t_arr = next_arrival(code, slot, t_arr, pump_pars, rng)


@kernel_step
def _finish_time(b, plan, raw, tr, occ):
    """The trajectory's time averages over the steady window from its occupation times."""
    top = occ.shape[0] - 1
    x = 0.0
    y = 0.0
    for n in range(top):
        if occ[n] != 0.0:
            if not occ[n] > 0.0:  # NaN: block frequencies beyond the quadrature's reach
                raw.stop[0] = STOP_NONFINITE
            p = occ[n] * plan.inv_window
            raw.steady_time_hist[n] += p
            raw.batch_steady_time_hist[b, n] += p
            x += n * p
            y += n * n * p
    add_pair_batched(raw.steady_time, raw.batch_steady_time[b], x, y)
    raw.overflow[0] += occ[top]
    if tr[TR_MAXN] > raw.maxn[0]:
        raw.maxn[0] = int(tr[TR_MAXN])


@kernel_step
def _finish_arrivals(b, plan, raw, tr, arrivals):
    """The trajectory's steady arrival averages from its arrival counts.

    Each arrival adds 1/(atoms − burn_in) to its histogram bin, so the bins receive the same
    additions, in the same order, as if added one arrival at a time; Σn and Σn² are exact
    integers.
    """
    top = arrivals.shape[0] - 1
    inv = plan.inv_steady_atoms
    x = 0
    y = 0
    for n in range(top):
        c = arrivals[n]
        x += n * c
        y += n * n * c
        for _ in range(c):
            raw.steady_arrival_hist[n] += inv
            raw.batch_steady_arrival_hist[b, n] += inv
    if arrivals[top] > 0:
        raw.overflow[0] += arrivals[top] * inv
        raw.maxn[0] = max(raw.maxn[0], int(tr[TR_MAXN]))
    add_pair_batched(raw.steady_arrival, raw.batch_steady_arrival[b], x * inv, y * inv)


@kernel_step
def _finish(b, k, par, plan, raw, tr, occ, arrivals, cb):
    """Per-trajectory steady averages (one batch each), clicks and passages into ``raw``."""
    if par.time_probes:
        x = tr[TR_PROBE_X] * plan.inv_probes
        y = tr[TR_PROBE_Y] * plan.inv_probes
        add_pair_batched(raw.steady_time, raw.batch_steady_time[b], x, y)
    elif plan.inv_window > 0.0:
        _finish_time(b, plan, raw, tr, occ)
    if plan.atoms > plan.burn_in:
        _finish_arrivals(b, plan, raw, tr, arrivals)
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
        From :func:`passage_tables`.
    raw : RawAccumulators
    flag : ndarray of int64, shape (1,)
        :data:`trajmaser.trajectories.cancel.FLAG`.
    """
    nsamp = plan.times.shape[0]
    nrec = nsamp + (nsamp - plan.first_steady_stratum if par.time_probes else 0)
    sched = (np.empty(nrec), np.empty(nrec, dtype=np.int64))
    if not par.time_probes:  # the sample times only, for all trajectories
        draw_records(rng, plan, sched[0], sched[1], par.time_probes)
    tr = np.zeros(TR_SIZE)
    occ = np.zeros(raw.steady_time_hist.shape[0] + 1)
    arrivals = np.zeros(raw.steady_arrival_hist.shape[0] + 1, dtype=np.int64)
    cb = click_buffer()
    passes = np.zeros(tables.u_nojump.shape[0], dtype=np.int64)
    for i in range(ntraj):
        if flag[0] != 0:
            raw.stop[0] = STOP_CANCELLED
            raw.stop[1] = i
            return
        b = (first_index + i) % NBATCH
        if par.time_probes:
            draw_records(rng, plan, sched[0], sched[1], par.time_probes)
        n = _initial_photons(rng, par)
        tr[:] = 0.0
        occ[:] = 0.0
        arrivals[:] = 0
        click_reset(cb)
        k = _trajectory(
            n, b, rng, par, plan, tables, sched, raw, tr, occ, arrivals, cb, passes, flag
        )
        fold_passes(passes, tables, par.tau, tr, occ, arrivals)
        if raw.stop[0] == STOP_NONE:
            _finish(b, k, par, plan, raw, tr, occ, arrivals, cb)
        if raw.stop[0] != STOP_NONE:
            raw.stop[1] = i
            return
