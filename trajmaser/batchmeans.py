"""Per-batch means of a trajectory result's record families, and the reference they meet.

The calibrated verdict (:mod:`trajmaser.agreement`) works on these: B batches of
trajectories (trajectory i in batch i mod B), each family of record points (sample times,
arrival records, the two steady blocks) as batch means of ⟨n⟩, ⟨n²⟩ and p(n).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FAMILIES = ("time", "arrival", "steady_time", "steady_arrival")

__all__ = [
    "FAMILIES",
    "BatchMeans",
    "FamilyReference",
    "batch_means_from_moments",
    "batch_means_of",
]


@dataclass(frozen=True)
class BatchMeans:
    """Per-batch means of one record family.

    Attributes
    ----------
    count : ndarray, shape (B,)
        Trajectories in each batch.
    n, n2 : ndarray, shape (B, P)
        Batch means of the conditional ⟨n⟩ and ⟨n²⟩ at the P record points.
    p : ndarray, shape (B, P, L)
        Batch means of the photon-number probabilities.
    """

    count: np.ndarray
    n: np.ndarray
    n2: np.ndarray
    p: np.ndarray


@dataclass(frozen=True)
class FamilyReference:
    """Reference values of one record family: ``n`` (P,), ``n2`` (P,) and ``p`` (P, L).

    ``n2`` and ``p`` may be None (not compared).  ``label`` names the points (times in s,
    atom indices) for messages.
    """

    n: np.ndarray
    n2: np.ndarray | None = None
    p: np.ndarray | None = None
    label: np.ndarray | None = None


def reference_from_rows(p_rows, label=None) -> FamilyReference:
    """A :class:`FamilyReference` from p(n) rows (moments computed from the rows)."""
    p = np.atleast_2d(np.asarray(p_rows, dtype=float))
    lev = np.arange(p.shape[1], dtype=float)
    return FamilyReference(n=p @ lev, n2=p @ (lev * lev), p=p, label=label)


def batch_means_from_moments(moments: list) -> BatchMeans:
    """:class:`BatchMeans` from one :class:`~trajmaser.results.Moments` per batch."""
    count = np.array([m.count[0] for m in moments], dtype=float)
    if np.any(count <= 0):
        raise ValueError("every batch needs at least one trajectory")
    levels = max(m.hist.shape[1] for m in moments)
    p = np.zeros((len(moments), moments[0].points, levels))
    for b, m in enumerate(moments):
        p[b, :, : m.hist.shape[1]] = m.hist / m.count[:, None]
    n = np.array([m.sx / m.count for m in moments])
    n2 = np.array([m.sy / m.count for m in moments])
    return BatchMeans(count, n, n2, p)


def batch_means_of(result) -> dict[str, BatchMeans] | None:
    """Batch means of every family of a result with batch sums (None for older results).

    Empty batches (fewer trajectories than batches) are left out.
    """
    if getattr(result, "batches", None) is None:
        return None
    out = {}
    for fam in FAMILIES:
        d = result.batch_means(fam)
        keep = np.asarray(d["count"], dtype=float) > 0
        out[fam] = BatchMeans(
            np.asarray(d["count"], dtype=float)[keep],
            np.asarray(d["n"])[keep],
            np.asarray(d["n2"])[keep],
            np.asarray(d["p"])[keep],
        )
    return out
