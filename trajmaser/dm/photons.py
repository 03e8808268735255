"""Photon-number statistics of cavity states: moments, the truncation tail, series rows."""

from __future__ import annotations

import math

import numpy as np

from trajmaser.params import tf_from_nbar

__all__ = ["at_rounding", "density_rows", "photon_stats", "population_rows", "tail"]


def photon_stats(p: np.ndarray, omega: float) -> dict:
    """Moments of a photon-number distribution.

    Parameters
    ----------
    p : ndarray
        p(n), n = 0 … len(p) − 1 (renormalised here).
    omega : float
        Ω/Tb, converts n̄ to Tf/Tb = omega / ln(1 + 1/n̄).

    Returns
    -------
    dict
        ``n_mean, n_var, mandel_q, g2, Tf_over_Tb, efficiency`` (η = 1 − Tb/Tf).
    """
    p = np.asarray(p, dtype=float)
    p = p / p.sum()
    n = np.arange(p.size, dtype=float)
    m1 = float(p @ n)
    m2 = float(p @ (n * n))
    var = m2 - m1 * m1
    tf = float(tf_from_nbar(m1, omega)) if m1 > 0 else 0.0
    return {
        "n_mean": m1,
        "n_var": var,
        "mandel_q": var / m1 - 1.0 if m1 > 0 else math.nan,
        "g2": (m2 - m1) / (m1 * m1) if m1 > 0 else math.nan,
        "Tf_over_Tb": tf,
        "efficiency": 1.0 - 1.0 / tf if tf > 0 else math.nan,
    }


def tail(p: np.ndarray) -> float:
    """Probability in the top max(2, (nmax+1)//10) Fock levels."""
    w = max(2, p.size // 10)
    return float(np.abs(p[-w:]).sum())


def at_rounding(p, floor_max: float) -> bool:
    """True when the top levels of :func:`tail` hold only rounding errors of a solve: none is
    larger in size than the most negative probability, which is itself below ``floor_max``."""
    p = np.asarray(p, dtype=float)
    w = max(2, p.size // 10)
    floor = -min(float(p.min()), 0.0)
    return 0.0 < floor < floor_max and float(np.abs(p[-w:]).max()) <= floor


def population_rows(ps: list[np.ndarray], nmax: int) -> dict:
    """``n_mean``, ``n_var``, ``p`` (rows), ``nmax``, ``tail`` of a series of p(n)."""
    out: dict = {}
    if ps:
        arr = np.array(ps)
        n = np.arange(arr.shape[1], dtype=float)
        m1 = arr @ n
        out = {"n_mean": m1, "n_var": arr @ (n * n) - m1 * m1, "p": arr}
    out["nmax"] = nmax
    out["tail"] = max((tail(v) for v in ps), default=0.0)
    return out


def density_rows(rhos: list[np.ndarray], nmax: int) -> dict:
    """As :func:`population_rows` for density matrices, plus ``a_mean`` (complex ⟨a⟩)."""
    p = np.array([np.real(np.diag(r)) for r in rhos])
    n = np.arange(nmax + 1, dtype=float)
    m1 = p @ n
    lower = np.sqrt(np.arange(1.0, nmax + 1))
    amean = np.array([np.sum(np.diagonal(r, -1) * lower) for r in rhos])  # Tr(ρ a)
    return {
        "n_mean": m1,
        "n_var": p @ (n * n) - m1 * m1,
        "p": p,
        "a_mean": amean,
        "nmax": nmax,
        "tail": max((tail(v) for v in p), default=0.0),
    }
