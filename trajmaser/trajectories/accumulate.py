"""Numba helpers that add record contributions into the accumulator layout of
:class:`~trajmaser.trajectories.records.RawAccumulators` (shared by the trajectory kernels).

Every record adds to its totals and, in the same call, to the batch ``b`` of the current
trajectory, so the totals keep their order of additions whatever the batching.  Histogram
weights at photon numbers beyond the histogram go to ``raw.overflow``; ``raw.maxn`` keeps the
largest photon number met.

Click correlations use a :class:`ClickBuffer`: the detection outcomes of the steady atoms are
set as bits of 64-atom words, and each full word is counted into the lag sums with shifts and
population counts (integer sums, so the counting order does not matter).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit, types
from numba.extending import intrinsic

from trajmaser.results import NLAG
from trajmaser.trajectories.records import TR_PROBE_X, TR_PROBE_Y

#: Decorator of the kernels' steps: compiled without reference counting (a step never
#: allocates; with counting, every call that passes a tuple of arrays such as the accumulators
#: pays atomic increments and decrements per array, which doubled the cost of a passage).
kernel_step = njit(cache=True, _nrt=False)
#: Decorator of the steps every passage runs: a kernel step, inlined into its caller at
#: compile time (a call would pass the flattened tuples of arrays, hundreds of words).
passage_step = njit(cache=True, _nrt=False, inline="always")

PROBE = -1  # record kind of a steady-window probe time (sample times are kinds 0 … S−1)


@kernel_step
def draw_records(rng, plan, rec_t, rec_kind, probes):
    """Record schedule of one trajectory into ``rec_t, rec_kind``; returns the number of
    records: each sample time t_j (kind j), preceded, when ``probes`` and its stratum j is
    steady, by one uniform probe time in the stratum (kind :data:`PROBE`)."""
    nrec = 0
    for j in range(plan.times.shape[0]):
        if probes and j >= plan.first_steady_stratum:
            width = plan.strata[j + 1] - plan.strata[j]
            rec_t[nrec] = plan.strata[j] + rng.random() * width
            rec_kind[nrec] = PROBE
            nrec += 1
        rec_t[nrec] = plan.times[j]
        rec_kind[nrec] = j
        nrec += 1
    return nrec


@kernel_step
def add_pair(row, x, y):
    """Add the pair (x, y) into ``row`` = (count, Σx, Σy, Σx², Σy², Σxy)."""
    row[0] += 1.0
    row[1] += x
    row[2] += y
    row[3] += x * x
    row[4] += y * y
    row[5] += x * y


@kernel_step
def add_pair_batched(row, batch_row, x, y):
    """:func:`add_pair` into a total ``row`` and its batch's ``batch_row``."""
    add_pair(row, x, y)
    add_pair(batch_row, x, y)


@kernel_step
def hist_add(raw, hist, batch_hist, n, w):
    """Add weight ``w`` at photon number ``n`` to ``hist`` and ``batch_hist``."""
    if n > raw.maxn[0]:
        raw.maxn[0] = n
    if n < hist.shape[0]:
        hist[n] += w
        batch_hist[n] += w
    else:
        raw.overflow[0] += w


@kernel_step
def hist_add_dense(hist, batch_hist, probs):
    """Add a photon-number distribution ``probs`` (length ≤ the histograms') to both."""
    for n in range(probs.shape[0]):
        hist[n] += probs[n]
        batch_hist[n] += probs[n]


@kernel_step
def mixture_moments(m, w):
    """x = ⟨n⟩ and y = ⟨n²⟩ of a cavity holding m photons w.p. 1 − w and m + 1 w.p. w."""
    fm = float(m)
    return fm + w, fm * fm + w * (2.0 * fm + 1.0)


@kernel_step
def hist_add_mixture(raw, hist, batch_hist, m, w, scale):
    """Histogram weights scale·(1 − w) at m and scale·w at m + 1 (m = −1 only with w = 1)."""
    if m >= 0 and w < 1.0:
        hist_add(raw, hist, batch_hist, m, (1.0 - w) * scale)
    if w > 0.0:
        hist_add(raw, hist, batch_hist, m + 1, w * scale)


@kernel_step
def record_sample(raw, b, j, m, w):
    """Sample-time record j of a two-level mixture (m, w) (see :func:`mixture_moments`)."""
    x, y = mixture_moments(m, w)
    add_pair_batched(raw.time[j], raw.batch_time[b, j], x, y)
    hist_add_mixture(raw, raw.time_hist[j], raw.batch_time_hist[b, j], m, w, 1.0)


@kernel_step
def record_mixture(raw, tr, b, kind, m, w, inv_probes):
    """Record a two-level mixture (m, w): sample time ``kind`` ≥ 0, or a steady probe.

    A probe (kind < 0) adds its x, y to the trajectory's ``tr[TR_PROBE_X]``,
    ``tr[TR_PROBE_Y]`` and ``inv_probes`` times its weights to the steady time histogram.
    """
    if kind >= 0:
        record_sample(raw, b, kind, m, w)
        return
    x, y = mixture_moments(m, w)
    tr[TR_PROBE_X] += x
    tr[TR_PROBE_Y] += y
    hist = raw.steady_time_hist
    hist_add_mixture(raw, hist, raw.batch_steady_time_hist[b], m, w, inv_probes)


@kernel_step
def record_arrival(raw, b, j, n):
    """Arrival record j: the cavity holds exactly n photons."""
    fn = float(n)
    add_pair_batched(raw.arrival[j], raw.batch_arrival[b, j], fn, fn * fn)
    hist_add(raw, raw.arrival_hist[j], raw.batch_arrival_hist[b, j], n, 1.0)


# ----------------------------------------------------------------- click correlations
@intrinsic
def _popcount(typingctx, x):
    """Number of set bits of a uint64 (LLVM ctpop: one instruction where the CPU has it)."""
    sig = types.uint64(types.uint64)

    def codegen(context, builder, signature, args):
        return builder.ctpop(args[0])

    return sig, codegen


#: Rows of ``ClickBuffer.bits``.
PREV_E, CUR_E, CUR_D = 0, 1, 2


class ClickBuffer(NamedTuple):
    """Detection outcomes of a trajectory's latest steady atoms, bit-packed, and its lag sums.

    ``bits`` = (previous 64 atoms detected excited, current word detected excited, current
    word detected), bit s of a word = the word's atom s; ``pos[0]`` = atoms in the current
    word; ``xy[0, j − 1]``, ``xy[1, j − 1]`` = x_j, y_j so far; ``det`` = (atoms detected
    excited, atoms detected) of the counted words.
    """

    bits: np.ndarray
    xy: np.ndarray
    pos: np.ndarray
    det: np.ndarray


@njit(cache=True)
def click_buffer():
    """An empty :class:`ClickBuffer`."""
    return ClickBuffer(
        bits=np.zeros(3, dtype=np.uint64),
        xy=np.zeros((2, NLAG), dtype=np.int64),
        pos=np.zeros(1, dtype=np.int64),
        det=np.zeros(2, dtype=np.int64),
    )


@kernel_step
def click_reset(cb):
    """Forget the buffer's atoms and sums (start of a trajectory)."""
    cb.bits[:] = 0
    cb.pos[0] = 0
    cb.xy[:] = 0
    cb.det[:] = 0


@kernel_step
def click_flush(cb):
    """Count the pairs whose later atom is in the current word; start the next word.

    For lag j the word of earlier atoms is (cur << j) | (prev >> (64 − j)), so the pairs are
    popcount(that & cur) (x_j, both detected excited) and popcount(that & cur_detected) (y_j).
    """
    prev, cur, det = cb.bits[PREV_E], cb.bits[CUR_E], cb.bits[CUR_D]
    for j in range(1, NLAG + 1):
        earlier = (cur << np.uint64(j)) | (prev >> np.uint64(64 - j))
        cb.xy[0, j - 1] += _popcount(earlier & cur)
        cb.xy[1, j - 1] += _popcount(earlier & det)
    cb.det[0] += _popcount(cur)
    cb.det[1] += _popcount(det)
    cb.bits[PREV_E] = cur
    cb.bits[CUR_E] = 0
    cb.bits[CUR_D] = 0
    cb.pos[0] = 0


@kernel_step
def click_push(cb, excited, detected):
    """Append the next steady atom: detected excited (bool) and detected (bool)."""
    i = cb.pos[0]
    bit = np.uint64(1) << np.uint64(i)
    if excited:
        cb.bits[CUR_E] |= bit
    if detected:
        cb.bits[CUR_D] |= bit
    if i == 63:
        click_flush(cb)
    else:
        cb.pos[0] = i + 1


@kernel_step
def click_finish(raw, cb):
    """Count the remaining pairs and add the trajectory's clicks into ``raw``: the pairs
    (N_e, N_det) and (N_e, N_e²) into ``raw.clicks``, (x_j, y_j) into ``raw.click_pairs``."""
    if cb.pos[0] > 0:
        click_flush(cb)
    det_e = float(cb.det[0])
    add_pair(raw.clicks, det_e, float(cb.det[1]))
    add_pair(raw.clicks[6:], det_e, det_e * det_e)
    for j in range(NLAG):
        add_pair(raw.click_pairs[j], float(cb.xy[0, j]), float(cb.xy[1, j]))


@passage_step
def detect(cb, k, excited, eta, plan, rng):
    """Detection of atom k, found ``excited`` or not, in the steady window (η thins the record
    only) into the click buffer."""
    if plan.burn_in <= k < plan.atoms:
        detected = eta >= 1.0 or rng.random() < eta
        click_push(cb, detected and excited, detected)
