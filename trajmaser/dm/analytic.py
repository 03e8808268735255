"""Analytic references: the coarse-grained master equation and the FJM steady state."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from trajmaser.params import Model, tf_from_nbar
from trajmaser.rules import check_model

__all__ = ["coarse_grained", "fjm_distribution"]


def coarse_grained(model: Model, times: Sequence[float] | None = None) -> dict:
    """Coarse-grained master equation (paper Eq. 4) with cavity loss κ and bath n_b.

    Gain α pe + κ n_b, loss α(1−pe) + κ(1+n_b), α = r (gτ)².  The steady state, when the
    relaxation rate Γ = α(1−2pe) + κ is positive, is thermal with
    n̄ = (α pe + κ n_b)/Γ; ⟨n⟩(t) = n̄0 e^{−Γt} + (α pe + κ n_b)(1 − e^{−Γt})/Γ for any Γ.

    Returns
    -------
    dict
        ``alpha``, ``relaxation_rate``, ``below_threshold``; if below threshold the
        :func:`photon_stats` keys of the thermal steady state (else ``message``); with
        ``times``, ``n_mean_t`` (array).
    """
    check_model(model)
    alpha = model.rate * (model.g * model.tau) ** 2
    gain = alpha * model.pe + model.kappa * model.nbar_bath
    rate = alpha * (1.0 - 2.0 * model.pe) + model.kappa
    out: dict = {"alpha": alpha, "relaxation_rate": rate, "below_threshold": rate > 0}
    if rate > 0:
        nbar = gain / rate
        out.update(
            n_mean=nbar,
            n_var=nbar * (nbar + 1.0),
            mandel_q=nbar,
            g2=2.0,
            Tf_over_Tb=float(tf_from_nbar(nbar, model.omega)) if nbar > 0 else 0.0,
            efficiency=1.0 - math.log1p(1.0 / nbar) / model.omega if nbar > 0 else math.nan,
        )
    else:
        out["message"] = (
            f"no steady state: gain exceeds loss (pe={model.pe} >= 1/2 and "
            f"alpha(1-2pe)+kappa = {rate:.4g} <= 0); the field grows without bound"
        )
    if times is not None:
        t = np.asarray(times, dtype=float)
        n0 = model.nbar_initial
        growth = t if rate == 0 else -np.expm1(-rate * t) / rate
        out["n_mean_t"] = n0 * np.exp(-rate * t) + gain * growth
    return out


def fjm_distribution(
    nex: float, pe: float, g_tau: float, nbar_bath: float, nmax: int
) -> np.ndarray:
    """Filipowicz–Javanainen–Meystre steady state (Poisson pump, γ = 0, κτ → 0; docs/PHYSICS.md).

    p(n)/p(n−1) = [n_b n + Nex pe sin²(gτ√n)] / [(n_b+1) n + Nex (1−pe) sin²(gτ√n)],
    evaluated in log space.  ``nex = inf`` (no cavity loss) is allowed; a vanishing
    denominator (trapping state) stops the climb.

    Returns
    -------
    ndarray, shape (nmax+1,)
        p(n), normalised.
    """
    n = np.arange(1, int(nmax) + 1, dtype=float)
    s2 = np.sin(g_tau * np.sqrt(n)) ** 2
    frac = 0.0 if math.isinf(nex) else 1.0 / nex
    num = nbar_bath * n * frac + pe * s2
    den = (nbar_bath + 1.0) * n * frac + (1.0 - pe) * s2
    with np.errstate(divide="ignore", invalid="ignore"):
        logr = np.where((num > 0) & (den > 0), np.log(num) - np.log(den), -np.inf)
    logp = np.concatenate([[0.0], np.cumsum(logr)])
    logp -= logp.max()
    p = np.exp(logp)
    return p / p.sum()
