"""State-vector operations of the general-path kernel (numba): passes, support, jumps, records.

The state is stored in the block layout of :mod:`trajmaser.trajectories.general`: ``cg[n]`` =
⟨g,n|ψ⟩ and ``ce[k]`` = ⟨e,k−1|ψ⟩ for k = 0 … nmax+1 (``ce[0]`` ≡ 0), so entry k is the
excitation block {|e,k−1⟩, |g,k⟩}.  Between atoms the empty cavity is ``cg`` alone, nonzero
only on its *support* [lo, hi]: the passes here that take (lo, hi) work on those levels only,
the amplitudes outside being exactly zero.  The interaction couples |g,n⟩ to |e,n−1⟩ and
|e,n⟩ to |g,n+1⟩, so it reaches blocks lo … hi + 1 only.
"""

from __future__ import annotations

import math

from trajmaser import blocks
from trajmaser.trajectories.accumulate import (
    PROBE,
    add_pair_batched,
    hist_add_dense,
    kernel_step,
    passage_step,
)
from trajmaser.trajectories.records import STOP_NONFINITE, TR_PROBE_X, TR_PROBE_Y

# Layout of the float64 ``status`` array of the cut-off bookkeeping (read by run_general_block).
ST_CODE = 0  # OK, CUT_STATE or CUT_MEAN
ST_TOP = 1  # largest p(nmax) met in any one conditional state
ST_TRAJ = 2  # index (in the block) of the trajectory that stopped it
ST_TOP_SUM = 3  # Σ p(nmax) over arrivals
ST_ARRIVALS = 4  # number of arrivals in that sum
ST_SIZE = 5
OK, CUT_STATE, CUT_MEAN = 0, 1, 2


# ----------------------------------------------------------------- fast passes on the support
@passage_step
def gap_start(cg, lo, hi, zlo, zhi, f0, x1):
    """Clear ``cg`` outside [lo, hi] (it may be nonzero on [zlo, zhi]); returns f0 · x1^lo."""
    for n in range(zlo, lo):
        cg[n] = 0.0
    for n in range(hi + 1, zhi + 1):
        cg[n] = 0.0
    f = f0
    for _ in range(lo):
        f *= x1
    return f


@passage_step
def block_product(w, k, prev, cur, we, wg):
    """Block k of the full-τ product ``w`` on the cavity amplitudes prev = cg[k − 1] and cur =
    cg[k]: sets we[k], wg[k]; returns (|we[k]|², |we[k]|² + |wg[k]|²)."""
    e = w[k, 0] * prev + w[k, 1] * cur
    g = w[k, 2] * prev + w[k, 3] * cur
    we[k] = e
    wg[k] = g
    pe = e.real * e.real + e.imag * e.imag
    return pe, pe + g.real * g.real + g.imag * g.imag


@kernel_step
def gap_pass(src, shift, scale, x0, x1, cg, lo, hi, zlo, zhi):
    """cg[n] = src[n + shift] · scale · x0 · x1^n on the support n ∈ [lo, hi], 0 elsewhere.

    ``cg`` may be nonzero only on [zlo, zhi] before the call.  Returns ‖cg‖².
    """
    f = gap_start(cg, lo, hi, zlo, zhi, scale * x0, x1)
    nc = 0.0
    for n in range(lo, hi + 1):
        y = src[n + shift] * f
        cg[n] = y
        nc += y.real * y.real + y.imag * y.imag
        f *= x1
    return nc


@kernel_step
def gap_tau_pass(src, shift, scale, x0, x1, cg, lo, hi, zlo, zhi, w, we, wg):
    """:func:`gap_pass` fused with :func:`tau_pass` (blocks ``w``) on the gap's result.

    Returns (‖cg‖², ‖ψ‖², ‖ψ_e‖²) with ψ the state after the no-jump interaction.
    """
    f = gap_start(cg, lo, hi, zlo, zhi, scale * x0, x1)
    nc = 0.0
    n2 = 0.0
    n_e = 0.0
    prev = 0j
    for n in range(lo, hi + 1):
        y = src[n + shift] * f
        cg[n] = y
        nc += y.real * y.real + y.imag * y.imag
        f *= x1
        pe, pn = block_product(w, n, prev, y, we, wg)
        n_e += pe
        n2 += pn
        prev = y
    pe, pn = block_product(w, hi + 1, prev, 0j, we, wg)  # block hi + 1: only |e,hi> occupied
    return nc, n2 + pn, n_e + pe


@kernel_step
def tau_pass(w, cg, we, wg, lo, hi):
    """No-jump interaction: (we, wg) = the precomputed full-τ blocks ``w`` applied to atom ⊗
    cavity ``cg`` (support [lo, hi]).  Returns (‖ψ‖², ‖ψ_e‖²), unnormalised."""
    n2 = 0.0
    n_e = 0.0
    prev = 0j
    for kk in range(lo, hi + 2):
        pe, pn = block_product(w, kk, prev, cg[kk], we, wg)
        n_e += pe
        n2 += pn
        prev = cg[kk]
    return n2, n_e


@kernel_step
def support(src, shift, lo, hi, lim):
    """Occupied levels of the cavity src[n + shift]: [lo, hi] trimmed at both ends of the
    levels whose |amplitude|² ≤ ``lim`` (exact zeros for lim = 0).  Returns (lo, hi)."""
    while lo < hi:
        z = src[lo + shift]
        if z.real * z.real + z.imag * z.imag > lim:
            break
        lo += 1
    while hi > lo:
        z = src[hi + shift]
        if z.real * z.real + z.imag * z.imag > lim:
            break
        hi -= 1
    return lo, hi


@kernel_step
def add_probs(hist, batch_hist, cg, inv, weight, lo, hi):
    """Add weight · p(n), p(n) = |cg[n]|² · inv for n ∈ [lo, hi], to both histograms.

    Returns Σ n p(n), Σ n² p(n).
    """
    m1 = 0.0
    m2 = 0.0
    for n in range(lo, hi + 1):
        p = (cg[n].real * cg[n].real + cg[n].imag * cg[n].imag) * inv
        hist[n] += p * weight
        batch_hist[n] += p * weight
        m1 += n * p
        m2 += n * n * p
    return m1, m2


@kernel_step
def add_level_probs(hist, cg, inv, lo, hi):
    """hist[n] += |cg[n]|² · inv for n ∈ [lo, hi]."""
    for n in range(lo, hi + 1):
        hist[n] += (cg[n].real * cg[n].real + cg[n].imag * cg[n].imag) * inv


# ----------------------------------------------------------------- exact evolution (slow path)
@kernel_step
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
    x = rng.random() * (gamma * pe + down * r_down + up * r_up)
    ce[:] = 0.0
    cg[:] = 0.0
    if x < gamma * pe:  # σ−: |e,k−1> -> |g,k−1>
        for k in range(1, size):
            cg[k - 1] = we[k]
    elif x < gamma * pe + down * r_down:  # a
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


@kernel_step
def take_record(kind, ce, cg, out):
    """Record the normalised state at a record of ``kind`` (a sample index or :data:`PROBE`).

    ``out`` = (b, raw, tr, probs, status, inv_probes): a sample adds (⟨n⟩, ⟨n²⟩) and p(n) to
    ``raw.time[kind]``, ``raw.time_hist[kind]`` and batch b's; a probe adds (⟨n⟩, ⟨n²⟩) to the
    trajectory's ``tr[TR_PROBE_X]``, ``tr[TR_PROBE_Y]`` and p(n) · inv_probes to the steady
    time histograms.  ``status[ST_TOP]`` keeps the largest p(nmax).
    """
    b, raw, tr, probs, status, inv_probes = out
    nmax = probs.shape[0] - 1
    tot = 0.0
    for n in range(nmax + 1):
        e, g = ce[n + 1], cg[n]
        probs[n] = e.real * e.real + e.imag * e.imag + g.real * g.real + g.imag * g.imag
        tot += probs[n]
    m1 = 0.0
    m2 = 0.0
    for n in range(nmax + 1):
        probs[n] /= tot
        m1 += n * probs[n]
        m2 += n * n * probs[n]
    status[ST_TOP] = max(status[ST_TOP], probs[nmax])
    if kind != PROBE:
        add_pair_batched(raw.time[kind], raw.batch_time[b, kind], m1, m2)
        hist_add_dense(raw.time_hist[kind], raw.batch_time_hist[b, kind], probs)
    else:
        tr[TR_PROBE_X] += m1
        tr[TR_PROBE_Y] += m2
        for n in range(nmax + 1):
            raw.steady_time_hist[n] += probs[n] * inv_probes
            raw.batch_steady_time_hist[b, n] += probs[n] * inv_probes


@kernel_step
def evolve(t, t_stop, t_rec, u, ir, blk, ce, cg, work, rates, recs, out, rng, klo, khi):
    """Exact evolution of the normalised state (ce, cg) from t to t_stop, records included.

    Records at times ≤ ``t_rec`` are taken (those after ``t_stop`` at ``t_stop``).  ``blk`` =
    (a, b, d) block entries of H_eff; ``work`` = (we, wg) scratch arrays; ``recs`` = (rec_t,
    rec_j, nrec); ``out`` as in :func:`take_record`.  Only the blocks [klo, khi] may be
    occupied (a jump widens the range by one on each side).  A state whose norm is not finite
    sets ``raw.stop[0]`` to STOP_NONFINITE and returns at once.  Returns (t, u, ir).
    """
    a, b, d = blk
    we, wg = work
    rec_t, rec_j, nrec = recs
    _, raw, _, _, _, _ = out
    while True:
        is_rec = ir < nrec and rec_t[ir] <= t_rec
        ts = min(max(rec_t[ir], t), t_stop) if is_rec else t_stop
        s = ts - t
        if s > 0.0:
            r = slice(klo, khi + 1)
            n2 = blocks.propagate_blocks(a[r], b[r], d[r], ce[r], cg[r], s, we[r], wg[r])
            if not n2 < math.inf:  # NaN or inf: parameters beyond double range
                raw.stop[0] = STOP_NONFINITE
                return t, u, ir
            if n2 > u:
                u /= n2
                f = 1.0 / math.sqrt(n2)
                for k in range(klo, khi + 1):
                    ce[k] = we[k] * f
                    cg[k] = wg[k] * f
            else:
                tj = blocks.jump_time_blocks(a[r], b[r], d[r], ce[r], cg[r], u, s, we[r], wg[r])
                blocks.propagate_blocks(a[r], b[r], d[r], ce[r], cg[r], tj, we[r], wg[r])
                for k in range(we.shape[0]):  # the blocks outside [klo, khi] are empty
                    if k < klo or k > khi:
                        we[k] = 0.0
                        wg[k] = 0.0
                jump(we, wg, ce, cg, rates, rng)
                klo, khi = max(klo - 1, 0), min(khi + 1, ce.shape[0] - 1)
                u = rng.random()
                t += tj
                continue
        t = max(t, ts)
        if not is_rec:
            return t, u, ir
        take_record(rec_j[ir], ce, cg, out)
        ir += 1


@kernel_step
def copy_into(dst, src):
    """dst[k] = src[k] for every k (a slice assignment would need reference counting)."""
    for k in range(src.shape[0]):
        dst[k] = src[k]


@kernel_step
def occupied(cg):
    """The levels [lo, hi] of the cavity ``cg`` outside which every amplitude is exactly 0."""
    lo, hi = 0, cg.shape[0] - 2
    while lo < hi and cg[lo] == 0.0:
        lo += 1
    while hi > lo and cg[hi] == 0.0:
        hi -= 1
    return lo, hi
