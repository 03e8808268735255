"""The sign-flip randomisation test of zero mean for B independent batch residual vectors.

Used by :mod:`trajmaser.agreement`: the batch-means t statistics of every compared quantity
(optionally skewness-corrected by :func:`hall`), their maximum and group statistics, and a
calibrated combination whose null distribution comes from random sign patterns of the
batches (see docs/VALIDATION.md).
"""

from __future__ import annotations

import numpy as np

#: Random sign patterns drawn for the null distribution, and their fixed seed.
FLIPS = 4000
FLIP_SEED = 20261130

__all__ = ["FLIPS", "FLIP_SEED", "critical_t", "flip_test", "hall"]


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


def hall(t: np.ndarray, c: np.ndarray | float) -> np.ndarray:
    """Hall's (1992) monotone skewness correction of studentised means.

    With c = γ / (6√N) (γ the skewness of one sample, N the sample count) the statistic
    c + ((1 + 2ct)³ − 1) / (6c) has the tails of a symmetric t to second order, where the
    plain t of a right-skewed quantity has a heavy left tail.  c = 0 returns t.

    Parameters
    ----------
    t : ndarray
        Studentised means.
    c : ndarray or float
        Coefficients γ / (6√N), broadcast against ``t``.

    Returns
    -------
    ndarray
        The corrected statistics, same shape as ``t``.
    """
    t = np.asarray(t, dtype=float)
    c = np.broadcast_to(np.asarray(c, dtype=float), t.shape)
    out = t.copy()
    nz = c != 0
    cz, tz = c[nz], t[nz]
    out[nz] = cz + ((1.0 + 2.0 * cz * tz) ** 3 - 1.0) / (6.0 * cz)
    return out


def flip_test(
    d: np.ndarray,
    groups: list[tuple[str, np.ndarray]],
    weights: list[float],
    *,
    skew: np.ndarray | None = None,
    flips: int = FLIPS,
    seed: int = FLIP_SEED,
) -> dict:
    """Sign-flip randomisation test of zero mean for B independent residual vectors.

    Statistics: max_j |t_j| over all columns (weight ``weights[0]``) and one per column
    group g (``weights[1 + g]``): its max |t_j| (kind "max") or its mean t_j² (kind
    "mean").  They are combined by the weighted minimum p-value min_s p_s / w_s, whose null
    distribution is taken from the same sign flips (so the combination is calibrated, not a
    Bonferroni bound).

    Parameters
    ----------
    d : ndarray, shape (B, K)
        Residuals (batch mean − reference), every column with positive spread.
    groups : list of (kind, index array)
        Column groups and their statistic ("max" or "mean").
    weights : list of float
        One per statistic (the overall max first), summing to 1.
    skew : ndarray, shape (K,), optional
        Hall coefficients γ/(6√N) of the columns: the observed t are corrected by
        :func:`hall` before the statistics are formed (the flipped data are symmetric).
    flips, seed : int
        Random sign patterns and their seed.

    Returns
    -------
    dict
        ``t`` (K,) observed (corrected) t, ``stats`` (observed statistics), ``p_each``
        (their p-values), ``p_value`` (calibrated), ``max_null`` (sorted max |t| under flips).
    """
    for kind, _ in groups:
        if kind not in ("max", "mean"):
            raise ValueError(f"group statistic must be 'max' or 'mean', got {kind!r}")
    nb = d.shape[0]
    ss = np.einsum("bk,bk->k", d, d)
    mean = d.mean(axis=0)
    t_obs = hall(np.sign(mean) * np.sqrt(_t2(mean, ss, nb)), 0.0 if skew is None else skew)
    rng = np.random.default_rng(seed)
    signs = rng.choice(np.array([-1.0, 1.0]), size=(flips, nb))
    stats = np.empty((flips + 1, 1 + len(groups)))
    _group_stats(stats[:1], t_obs[None, :] ** 2, groups)
    chunk = max(1, int(2e6 // max(d.shape[1], 1)))
    for lo in range(0, flips, chunk):
        t2 = _t2(signs[lo : lo + chunk] @ d / nb, ss, nb)
        _group_stats(stats[1 + lo : 1 + lo + chunk], t2, groups)
    pv = _pvalues_of(stats)
    q = (pv / np.asarray(weights)[None, :]).min(axis=1)
    return {
        "t": t_obs,
        "stats": stats[0],
        "p_each": pv[0],
        "p_value": float(np.mean(q <= q[0])),
        "max_null": np.sort(stats[1:, 0]),
    }


def _group_stats(out: np.ndarray, t2: np.ndarray, groups) -> None:
    """Fill ``out`` (rows, 1 + groups) with max |t| and each group's statistic."""
    out[:, 0] = np.sqrt(t2.max(axis=1))
    for g, (kind, idx) in enumerate(groups):
        sub = t2[:, idx]
        out[:, 1 + g] = np.sqrt(sub.max(axis=1)) if kind == "max" else sub.mean(axis=1)


def critical_t(max_null: np.ndarray, level: float) -> float:
    """The 1 − ``level`` quantile of max |t| under the sign flips."""
    return float(np.quantile(max_null, 1.0 - level, method="higher"))
