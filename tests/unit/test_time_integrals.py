"""Exact time integrals of the Fock path: block quadrature and the timed gap step."""

import math

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.linalg import expm

from trajmaser.blocks import block_coeffs
from trajmaser.trajectories.fock_time import gap_timed, integrate_w, time_tables, w_at
from trajmaser.trajectories.records import TR_MAXN, TR_SIZE


@pytest.mark.parametrize("n", [0, 1, 7, 40, 300])
def test_undamped_resonant_block_is_a_rabi_oscillation(n):
    """γ = κ = Δ = 0, entry |e,n⟩: w(t) = sin²(Ωt), Ω = g√(n+1), ∫_0^τ w = τ/2 − sin 2Ωτ / 4Ω."""
    g, tau = 1.3, 2.0
    a, b, d = block_coeffs(n, g, 0.0, 0.0, 0.0, 0.0)
    om = g * math.sqrt(n + 1)
    exact = tau / 2 - math.sin(2 * om * tau) / (4 * om)
    assert integrate_w(a, b, d, 1.0 + 0j, 0j, 0.0, tau) == pytest.approx(exact, abs=4e-16 * tau)


def _w_reference(a, b, d, ce, cg):
    """w(t) from a 2×2 matrix exponential with the trace of H removed (no underflow)."""
    h = np.array([[a, b], [b, d]]) - 0.5 * (a + d) * np.eye(2)

    def w(t):
        e, g = expm(-1j * h * t) @ np.array([ce, cg])
        return abs(g) ** 2 / (abs(e) ** 2 + abs(g) ** 2)

    return w


@pytest.mark.filterwarnings("ignore::scipy.integrate.IntegrationWarning")
def test_quadrature_matches_adaptive_quadrature_on_random_blocks():
    rng = np.random.default_rng(4)
    worst = 0.0
    for _ in range(60):
        g, gamma, kappa = rng.uniform(0.1, 3), rng.uniform(0, 5), rng.uniform(0, 3)
        nbar, det = rng.choice([0.0, 0.5]), rng.choice([0.0, rng.uniform(-20, 20)])
        m = int(rng.integers(-1, 40))
        v = rng.normal(size=4)
        ce, cg = (complex(v[0], v[1]) if m >= 0 else 0j), complex(v[2], v[3])
        a, b, d = block_coeffs(m, g, gamma, kappa, nbar, det)
        lo, hi = sorted(rng.uniform(0, 3, size=2))
        ref = quad(_w_reference(a, b, d, ce, cg), lo, hi, epsabs=1e-15, epsrel=1e-14, limit=500)
        worst = max(worst, abs(integrate_w(a, b, d, ce, cg, lo, hi) - ref[0]) / (hi - lo))
    assert worst < 1e-13


def test_strong_damping_neither_underflows_nor_overflows():
    """κτ = 1e3 at n = 500: the amplitudes underflow, their ratio w does not."""
    a, b, d = block_coeffs(500, 0.7, 3.0, 1e3, 0.0, 0.0)
    w = [w_at(a, b, d, 0.6 + 0j, 0.8 + 0j, t) for t in (0.0, 0.5, 1.0)]
    assert np.all(np.isfinite(w)) and w[0] == pytest.approx(0.64)
    assert np.isfinite(integrate_w(a, b, d, 0.6 + 0j, 0.8 + 0j, 0.0, 1.0))


def test_time_tables_hold_the_whole_interaction():
    g, gamma, kappa, nbar, det, tau = 0.9, 0.3, 0.4, 0.2, 0.5, 1.5
    w_e, w_g = time_tables(12, g, gamma, kappa, nbar, det, tau)
    for n in (0, 5, 11):
        a, b, d = block_coeffs(n, g, gamma, kappa, nbar, det)
        assert w_e[n] == integrate_w(a, b, d, 1.0 + 0j, 0j, 0.0, tau)
    assert w_g[0] == pytest.approx(tau, rel=1e-15)  # |g,0⟩: one photon more than block −1


@pytest.mark.parametrize("nbar", [0.0, 0.4])
def test_timed_gap_integrates_the_mean_photon_number(nbar):
    """E ∫_0^t n(s) ds = n_b t + (n0 − n_b)(1 − e^{−κt})/κ; the time at each n adds up to t."""
    n0, kappa, dt, size = 6, 0.8, 1.7, 20000
    rng = np.random.default_rng(11)
    integrals = np.empty(size)
    for i in range(size):
        tr, occ = np.zeros(TR_SIZE), np.zeros(65)
        assert gap_timed(n0, dt, kappa, nbar, rng, tr, occ) >= 0
        assert occ.sum() == pytest.approx(dt, rel=1e-12)
        assert occ[64] == 0.0 and tr[TR_MAXN] == 0.0  # nothing above the 64 levels
        integrals[i] = np.arange(65) @ occ
    tr, occ = np.zeros(TR_SIZE), np.zeros(4)
    gap_timed(n0, 1e-9, kappa, 0.0, rng, tr, occ)  # above the 3 levels: the overflow bin
    assert occ[3] == pytest.approx(1e-9) and tr[TR_MAXN] == n0
    exact = nbar * dt + (n0 - nbar) * -math.expm1(-kappa * dt) / kappa
    assert abs(integrals.mean() - exact) < 4 * integrals.std(ddof=1) / math.sqrt(size)
