"""The empty-cavity step of the Fock path against its exact photon-number law."""

import math

import numpy as np
import pytest
from scipy.stats import binom, chisquare

from trajmaser.trajectories.fock_time import gap_evolve


def _samples(n, dt, kappa, nbar, size, seed):
    rng = np.random.default_rng(seed)
    return np.array([gap_evolve(n, dt, kappa, nbar, rng) for _ in range(size)])


@pytest.mark.parametrize(("n", "kdt"), [(1, 0.05), (6, 0.02), (6, 0.4), (40, 0.01)])
def test_zero_temperature_gap_is_binomial(n, kdt):
    """n → Binomial(n, e^{−κt}), including the direct draw conditioned on a loss."""
    out = _samples(n, kdt, 1.0, 0.0, 40000, seed=n)
    k = np.arange(n + 1)
    expected = binom.pmf(k, n, math.exp(-kdt)) * out.size
    observed = np.bincount(out, minlength=n + 1)
    keep = expected > 5  # chi-square needs populated bins; pool the rest
    obs = np.append(observed[keep], observed[~keep].sum())
    exp = np.append(expected[keep], expected[~keep].sum())
    if exp[-1] == 0:
        obs, exp = obs[:-1], exp[:-1]
    assert chisquare(obs, exp * obs.sum() / exp.sum()).pvalue > 1e-3


def test_thermal_bath_gap_mean():
    """With n_b > 0 the mean follows n̄(t) = n_b + (n0 − n_b) e^{−κt} (birth–death ME)."""
    n0, kdt, nb = 3, 0.7, 0.5
    out = _samples(n0, kdt, 1.0, nb, 40000, seed=3)
    exact = nb + (n0 - nb) * math.exp(-kdt)
    assert abs(out.mean() - exact) < 4 * out.std(ddof=1) / math.sqrt(out.size)
