"""The sign-flip randomisation test of zero mean for B independent batch residual vectors.

Used by :mod:`trajmaser.agreement`: the batch-means t statistics of every compared quantity,
their maximum and group means, and a calibrated combination whose null distribution comes
from random sign patterns of the batches (see docs/VALIDATION.md).
"""

from __future__ import annotations

import numpy as np

#: Random sign patterns drawn for the null distribution, and their fixed seed.
FLIPS = 4000
FLIP_SEED = 20261130

__all__ = ["FLIPS", "FLIP_SEED", "critical_t", "flip_test"]


def _t2(mean: np.ndarray, ss: np.ndarray, nb: int) -> np.ndarray:
    """Squared batch t statistic from the mean and the raw sum of squares of the residuals.

    With u = B m² / Σd², t² = (B − 1) u / (1 − u) (u < 1 unless every |d_b| is equal).
    """
    u = nb * mean * mean / ss
    return (nb - 1) * u / np.maximum(1.0 - u, 1e-300)


def _pvalues_of(stats: np.ndarray) -> np.ndarray:
    """Per column, the upper-tail p-value of every row among all rows (rank based)."""
    srt = np.sort(stats, axis=0)
    rows = stats.shape[0]
    out = np.empty_like(stats)
    for k in range(stats.shape[1]):
        out[:, k] = (rows - np.searchsorted(srt[:, k], stats[:, k], side="left")) / rows
    return out


def flip_test(
    d: np.ndarray,
    groups: list[np.ndarray],
    weights: list[float],
    *,
    flips: int = FLIPS,
    seed: int = FLIP_SEED,
) -> dict:
    """Sign-flip randomisation test of zero mean for B independent residual vectors.

    Statistics: max_j t_j² over all columns (weight ``weights[0]``) and, per column group
    g, the mean of t_j² over the group (``weights[1 + g]``).  They are combined by the
    weighted minimum p-value min_s p_s / w_s, whose null distribution is taken from the
    same sign flips (so the combination is calibrated, not a Bonferroni bound).

    Parameters
    ----------
    d : ndarray, shape (B, K)
        Residuals (batch mean − reference), every column with positive spread.
    groups : list of index arrays
        Column groups.
    weights : list of float
        One per statistic (max first), summing to 1.
    flips, seed : int
        Random sign patterns and their seed.

    Returns
    -------
    dict
        ``t`` (K,) observed t, ``stats`` (max |t|, then the group means of t²), ``p_each``
        (their p-values), ``p_value`` (calibrated), ``max_null`` (sorted max |t| under flips).
    """
    nb = d.shape[0]
    ss = np.einsum("bk,bk->k", d, d)
    rng = np.random.default_rng(seed)
    signs = np.vstack([np.ones(nb), rng.choice(np.array([-1.0, 1.0]), size=(flips, nb))])
    stats = np.empty((signs.shape[0], 1 + len(groups)))
    chunk = max(1, int(2e6 // max(d.shape[1], 1)))
    for lo in range(0, signs.shape[0], chunk):
        t2 = _t2(signs[lo : lo + chunk] @ d / nb, ss, nb)
        stats[lo : lo + chunk, 0] = np.sqrt(t2.max(axis=1))
        for g, idx in enumerate(groups):
            stats[lo : lo + chunk, 1 + g] = t2[:, idx].mean(axis=1)
    pv = _pvalues_of(stats)
    q = (pv / np.asarray(weights)[None, :]).min(axis=1)
    mean = d.mean(axis=0)
    return {
        "t": np.sign(mean) * np.sqrt(_t2(mean, ss, nb)),
        "stats": stats[0],
        "p_each": pv[0],
        "p_value": float(np.mean(q <= q[0])),
        "max_null": np.sort(stats[1:, 0]),
    }


def critical_t(max_null: np.ndarray, level: float) -> float:
    """The 1 − ``level`` quantile of max |t| under the sign flips."""
    return float(np.quantile(max_null, 1.0 - level, method="higher"))
