"""State-vector operations of the general-path kernel (numba): records, gap pass, jumps, evolution.

The state is stored in the block layout of :mod:`trajmaser.trajectories.general`: ``cg[n]`` =
⟨g,n|ψ⟩ and ``ce[k]`` = ⟨e,k−1|ψ⟩ for k = 0 … nmax+1 (``ce[0]`` ≡ 0), so entry k is the
excitation block {|e,k−1⟩, |g,k⟩}.  Between atoms the empty cavity is ``cg`` alone.
"""

from __future__ import annotations

import math

from numba import njit

from trajmaser import blocks
from trajmaser.trajectories.accumulate import add_pair

PROBE = -1  # record kind of a steady-window probe time (sample times are kinds 0 … S−1)

# Layout of the float64 ``status`` array a kernel call fills (read by run_general_block).
ST_CODE = 0  # why the block stopped: OK, CUT_STATE or CUT_MEAN
ST_TOP = 1  # largest p(nmax) met in any one conditional state
ST_TRAJ = 2  # index (in the block) of the trajectory that stopped it
ST_TOP_SUM = 3  # Σ p(nmax) over arrivals
ST_ARRIVALS = 4  # number of arrivals in that sum
ST_SIZE = 5
OK, CUT_STATE, CUT_MEAN = 0, 1, 2


@njit(cache=True)
def draw_records(rng, times, strata, first, rec_t, rec_j):
    """Record schedule of one trajectory into ``rec_t, rec_j``; returns the number of records.

    Stratum j ≥ ``first`` gets one uniform probe time (kind :data:`PROBE`) before its sample
    time t_j (kind j).
    """
    nrec = 0
    for j in range(times.shape[0]):
        if j >= first:
            rec_t[nrec] = strata[j] + rng.random() * (strata[j + 1] - strata[j])
            rec_j[nrec] = PROBE
            nrec += 1
        rec_t[nrec] = times[j]
        rec_j[nrec] = j
        nrec += 1
    return nrec


@njit(cache=True)
def record_probs(ce, cg, nmax, out):
    """Photon-number probabilities of the (normalised) state into ``out``; returns ⟨n⟩, ⟨n²⟩."""
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
def gap_pass(src, shift, scale, x0, x1, cg, lo, hi, zlo, zhi):
    """cg[n] = src[n + shift] · scale · x0 · x1^n on the support n ∈ [lo, hi], 0 elsewhere.

    ``cg`` may be nonzero only on [zlo, zhi] before the call.  Returns Σp, Σnp, Σn²p over the
    support and p at nmax (0 if hi < nmax).
    """
    for n in range(zlo, lo):
        cg[n] = 0.0
    for n in range(hi + 1, zhi + 1):
        cg[n] = 0.0
    f = x0 * scale
    for _ in range(lo):
        f *= x1
    s0 = 0.0
    s1 = 0.0
    s2 = 0.0
    p = 0.0
    for n in range(lo, hi + 1):
        y = src[n + shift] * f
        cg[n] = y
        p = y.real * y.real + y.imag * y.imag
        s0 += p
        s1 += n * p
        s2 += n * n * p
        f *= x1
    return s0, s1, s2, p if hi == cg.shape[0] - 2 else 0.0


@njit(cache=True)
def support(src, shift, lo, hi, lim):
    """Occupied levels of the cavity src[n + shift]: [lo, hi] trimmed at both ends of the
    levels whose |amplitude|² ≤ ``lim`` (exact zeros for lim = 0).  Returns (lo, hi)."""
    while lo < hi and src[lo + shift].real ** 2 + src[lo + shift].imag ** 2 <= lim:
        lo += 1
    while hi > lo and src[hi + shift].real ** 2 + src[hi + shift].imag ** 2 <= lim:
        hi -= 1
    return lo, hi


@njit(cache=True)
def jump(we, wg, ce, cg, rates, rng):
    """Apply one jump (σ−, a or a†, chosen by rate × ⟨c†c⟩) to (we, wg); result in (ce, cg).

    ``rates`` = (γ, κ(1+n_b), κ n_b).
    """
    gamma, down, up = rates
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
def take_record(kind, ce, cg, out):
    """Record the normalised state at a record of ``kind`` (a sample index or :data:`PROBE`).

    ``out`` = (time, time_hist, probe_hist, probs, probe_sums, status): a sample adds the pair
    (⟨n⟩, ⟨n²⟩) to ``time[kind]`` and p(n) to ``time_hist[kind]``; a probe adds them to the
    trajectory's ``probe_sums`` = [Σ⟨n⟩, Σ⟨n²⟩] and ``probe_hist``.  ``status[ST_TOP]`` keeps
    the largest p(nmax).
    """
    time, time_hist, probe_hist, probs, probe_sums, status = out
    nmax = probs.shape[0] - 1
    m1, m2 = record_probs(ce, cg, nmax, probs)
    if probs[nmax] > status[ST_TOP]:
        status[ST_TOP] = probs[nmax]
    if kind != PROBE:
        add_pair(time[kind], m1, m2)
        time_hist[kind, : nmax + 1] += probs
    else:
        probe_sums[0] += m1
        probe_sums[1] += m2
        probe_hist[: nmax + 1] += probs


@njit(cache=True)
def evolve(t, t_stop, u, ir, blk, ce, cg, work, rates, recs, out, rng):
    """Exact evolution of the normalised state (ce, cg) from t to t_stop, records included.

    ``blk`` = (a, b, d) block entries of H_eff; ``work`` = (we, wg) scratch arrays;
    ``recs`` = (rec_t, rec_j, nrec); ``out`` as in :func:`take_record`.  Returns (t, u, ir).
    """
    a, b, d = blk
    we, wg = work
    rec_t, rec_j, nrec = recs
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
                jump(we, wg, ce, cg, rates, rng)
                u = rng.random()
                t += tj
                continue
        t = max(t, ts)
        if not is_rec:
            return t, u, ir
        take_record(rec_j[ir], ce, cg, out)
        ir += 1
