"""Switching times, peak weights and the stationary field from replica counts, with errors.

For each direction the rate of transitions per atom of A-state time is k = Φ Π P_i
(Φ = λ_0 crossings per basin atom, P_i = successes / trials at stage i, all pooled over
replicas) and the mean first-passage time is 1/k.  The up and down A states partition time,
so the stationary fraction of time in the lower state is w_lo = up / (up + down), and the
stationary law just before arrivals is w_lo p_lo + (1 − w_lo) p_hi with p_lo, p_hi the
A-state histograms of the two basin runs.  Peak weights are its mass in each peak's basin
(the basins of :func:`trajmaser.dm.switching.find_peaks`); n̄ and the Mandel Q are its
moments.  With one peak the basin run alone gives the stationary law.

Errors: delete-one jackknife over replicas (each replica is an independent repetition of the
whole procedure), applied to the pooled estimator.
"""

from __future__ import annotations

import math

import numpy as np

from trajmaser.switching.replicas import Replicas

__all__ = ["estimate", "point_estimate"]


def _mfpt(basin: np.ndarray, stages: np.ndarray) -> float:
    """1 / (Φ Π P_i) from summed counts of one direction."""
    atoms, crossings = basin[0], basin[1]
    if crossings <= 0:
        return math.inf
    rate = crossings / atoms
    for trials, successes, _ in stages:
        if trials <= 0 or successes <= 0:
            return math.inf
        rate *= successes / trials
    return 1.0 / rate


def _moments(p: np.ndarray) -> tuple[float, float]:
    n = np.arange(p.size, dtype=float)
    m1 = float(p @ n)
    var = float(p @ (n * n)) - m1 * m1
    return m1, (var / m1 - 1.0 if m1 > 0 else math.nan)


def point_estimate(basin, stages, hist, nstages, basins) -> np.ndarray:
    """Estimates from summed counts: [up, down, weight of each peak…, n̄, Q, p(0), p(1), …].

    ``basin`` (2, 3), ``stages`` (2, M, 3), ``hist`` (2, nbins) summed over replicas;
    ``nstages`` = (stages up, stages down); ``basins`` = [[lo, hi], …] of the peaks.
    """
    p_lo = hist[0] / hist[0].sum()
    if len(basins) > 1:
        up = _mfpt(basin[0], stages[0, : nstages[0]])
        down = _mfpt(basin[1], stages[1, : nstages[1]])
        w_lo = up / (up + down) if math.isfinite(up + down) else math.nan
        p = w_lo * p_lo + (1.0 - w_lo) * hist[1] / hist[1].sum()
    else:
        up = down = math.nan
        p = p_lo
    weights = [float(p[lo : hi + 1].sum()) for lo, hi in basins]
    weights[-1] += float(p[basins[-1][1] + 1 :].sum())  # overflow bins belong to the top peak
    return np.array([up, down, *weights, *_moments(p), *p])


def estimate(reps: Replicas, nstages: tuple, basins: list) -> tuple[np.ndarray, np.ndarray]:
    """Pooled estimates and their jackknife standard errors (order of :func:`point_estimate`).

    Raises
    ------
    ValueError
        With fewer than two replicas (no error estimate).
    """
    r = reps.count
    if r < 2:
        raise ValueError(f"need at least 2 replicas for error bars, got {r}")
    tot = [reps.basin.sum(0), reps.stages.sum(0), reps.hist.sum(0)]
    full = point_estimate(*tot, nstages, basins)
    loo = np.array(
        [
            point_estimate(
                tot[0] - reps.basin[i],
                tot[1] - reps.stages[i],
                tot[2] - reps.hist[i],
                nstages,
                basins,
            )  # fmt: skip
            for i in range(r)
        ]
    )
    with np.errstate(invalid="ignore"):
        err = np.sqrt((r - 1) / r * np.sum((loo - loo.mean(0)) ** 2, axis=0))
    return full, err
