"""2x2 excitation-block propagators and the exact jump-time inversion."""

import numpy as np
import pytest
from scipy import stats
from scipy.linalg import expm

from trajmaser import blocks


def _random_params(rng):
    g, gamma, kappa, nb = rng.uniform(0, 3), rng.uniform(0, 3), rng.uniform(0, 3), rng.uniform(0, 2)
    return g, gamma, kappa, nb, rng.uniform(-2, 2)


def _dense_heff(m, g, gamma, kappa, nb, det, nmax):
    """H_eff built from σ, a on the full truncated space, restricted to block m."""
    a = np.diag(np.sqrt(np.arange(1, nmax + 1)), 1)
    sm = np.array([[0, 0], [1, 0]])  # basis (e, g): σ− |e> = |g>
    sz = np.diag([1.0, -1.0])
    i2, ic = np.eye(2), np.eye(nmax + 1)
    aa, sms = np.kron(i2, a), np.kron(sm, ic)
    h = 0.5 * det * np.kron(sz, ic) + g * (sms.T @ aa + sms @ aa.T)
    cs = [np.sqrt(gamma) * sms, np.sqrt(kappa * (1 + nb)) * aa, np.sqrt(kappa * nb) * aa.T]
    heff = h - 0.5j * sum(c.conj().T @ c for c in cs)
    idx = [m, (nmax + 1) + m + 1]  # |e,m>, |g,m+1>
    return heff[np.ix_(idx, idx)]


def test_block_matrix_matches_dense_operators():
    rng = np.random.default_rng(7)
    for _ in range(20):
        pars = _random_params(rng)
        m = int(rng.integers(0, 8))
        assert np.allclose(blocks.block_matrix(m, *pars), _dense_heff(m, *pars, 12), atol=1e-13)


def test_propagator_matches_expm():
    rng = np.random.default_rng(11)
    worst = 0.0
    for trial in range(600):
        g, gamma, kappa, nb, det = _random_params(rng)
        if trial % 3 == 0:  # degenerate: Λ → 0 (equal damping, b small)
            det, gamma, g = 0.0, kappa * (1 + nb) + kappa * nb, 1e-9 * g
        m = int(rng.integers(-1, 40))
        t = 10 ** rng.uniform(-6, 0.5)
        u = blocks.block_propagator(m, t, g, gamma, kappa, nb, det)
        ref = expm(-1j * blocks.block_matrix(m, g, gamma, kappa, nb, det) * t)
        if m < 0:  # only the |g,0> entry is meaningful
            u, ref = u[1, 1], ref[1, 1]
        worst = max(worst, np.max(np.abs(u - ref)))
    assert worst < 1e-12


def test_lone_ground_block_decays_with_thermal_excitation():
    kappa, nb, t = 0.7, 0.4, 1.3
    u = blocks.block_propagator(-1, t, 1.0, 0.5, kappa, nb, 0.3)
    assert abs(u[1, 1]) ** 2 == pytest.approx(np.exp(-kappa * nb * t), rel=1e-14)
    assert u[0, 1] == 0 and u[1, 0] == 0


def test_norm_non_increasing_with_analytic_slope():
    a, b, d = blocks.block_coeffs(3, 1.1, 0.6, 0.4, 0.3, 0.2)
    ce, cg = 0.6 + 0.0j, 0.8j
    ts = np.linspace(0, 3, 301)
    norms = np.array([blocks.norm_after(a, b, d, ce, cg, t) for t in ts])
    assert np.all(np.diff(norms) <= 1e-15)
    h = 1e-6
    for t in (0.3, 1.7):
        e, g = blocks.propagate(a, b, d, ce, cg, t)
        slope = 2 * a.imag * abs(e) ** 2 + 2 * d.imag * abs(g) ** 2
        num = blocks.norm_after(a, b, d, ce, cg, t + h) - blocks.norm_after(a, b, d, ce, cg, t - h)
        assert num / (2 * h) == pytest.approx(slope, rel=1e-6)


def test_jump_time_inverts_norm_to_machine_precision():
    a, b, d = blocks.block_coeffs(2, 1.3, 0.9, 0.5, 0.2, -0.4)
    ce, cg = np.sqrt(0.3) + 0j, np.sqrt(0.7) * 1j
    t_max = 2.0
    n_end = blocks.norm_after(a, b, d, ce, cg, t_max)
    for u in np.linspace(n_end, 1 - 1e-9, 17):
        t = blocks.jump_time(a, b, d, ce, cg, u, t_max)
        assert 0 < t <= t_max
        assert blocks.norm_after(a, b, d, ce, cg, t) == pytest.approx(u, abs=4e-16)


def test_first_jump_times_follow_exact_waiting_distribution():
    """KS test: sampled first-jump times vs the CDF (1 − N(t)) / (1 − N(T)) given a jump."""
    a, b, d = blocks.block_coeffs(4, 1.0, 0.8, 0.3, 0.5, 0.7)
    ce, cg = 1.0 + 0j, 0j
    t_max = 1.5
    n_end = blocks.norm_after(a, b, d, ce, cg, t_max)
    rng = np.random.default_rng(2024)
    u = rng.random(20000)
    u = u[u >= n_end]  # draws that jump before t_max
    samples = np.array([blocks.jump_time(a, b, d, ce, cg, x, t_max) for x in u[:3000]])

    def cdf(t):
        t = np.atleast_1d(t)
        n = np.array([blocks.norm_after(a, b, d, ce, cg, x) for x in t])
        return (1.0 - n) / (1.0 - n_end)

    assert stats.kstest(samples, cdf).pvalue > 1e-3
    # sanity: a wrong law (uniform times) is rejected by the same test
    assert stats.kstest(samples, stats.uniform(0, t_max).cdf).pvalue < 1e-3


def test_multi_block_inversion_agrees_with_total_norm():
    ms = np.arange(-1, 5)
    coeffs = [blocks.block_coeffs(int(m), 1.2, 0.5, 0.4, 0.1, 0.3) for m in ms]
    a = np.array([c[0] for c in coeffs])
    b = np.array([c[1] for c in coeffs])
    d = np.array([c[2] for c in coeffs])
    rng = np.random.default_rng(3)
    ce = rng.normal(size=ms.size) + 1j * rng.normal(size=ms.size)
    ce[0] = 0
    cg = rng.normal(size=ms.size) + 1j * rng.normal(size=ms.size)
    nrm = np.sqrt(np.sum(abs(ce) ** 2 + abs(cg) ** 2))
    ce, cg = ce / nrm, cg / nrm
    we, wg = np.empty_like(ce), np.empty_like(cg)
    t_max = 1.0
    n_end = blocks.propagate_blocks(a, b, d, ce, cg, t_max, we, wg)
    single = sum(blocks.norm_after(a[k], b[k], d[k], ce[k], cg[k], t_max) for k in range(ms.size))
    assert n_end == pytest.approx(single, rel=1e-14)
    u = 0.5 * (1 + n_end)
    t = blocks.jump_time_blocks(a, b, d, ce, cg, u, t_max, we, wg)
    assert blocks.propagate_blocks(a, b, d, ce, cg, t, we, wg) == pytest.approx(u, abs=1e-15)
