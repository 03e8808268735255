"""Excitation blocks of the effective Hamiltonian during an atom–cavity interaction.

H = (Δ/2)σz + g(σ+ a + σ− a†) and H_eff = H − (i/2)Σ c†c with c ∈ {√γ σ−, √(κ(1+n_b)) a,
√(κ n_b) a†} conserve the excitation number, so H_eff is a direct sum of 2×2 blocks on
{|e,m⟩, |g,m+1⟩} (m ≥ 0) plus the 1×1 block {|g,0⟩} (labelled m = −1, amplitude c_e ≡ 0):

    H_m = [[a, b], [b, d]],
    a = +Δ/2 − (i/2)[γ + κ(1+n_b) m + κ n_b (m+1)],
    d = −Δ/2 − (i/2)[κ(1+n_b)(m+1) + κ n_b (m+2)],
    b = g √(m+1).

The no-jump propagator is analytic, e^{−iH_m t} = e^{−iμt}[cos(Λt) I − i sin(Λt)/Λ (H_m − μI)]
with μ = (a+d)/2 and Λ² = ((a−d)/2)² + b², evaluated through the two eigenvalue exponentials
(bounded by 1, so nothing overflows) and a series near Λt = 0.  The squared norm of the
propagated state is non-increasing with derivative 2 Im(a)|c_e|² + 2 Im(d)|c_g|², and
:func:`jump_time` inverts it exactly (safeguarded Newton) to draw waiting times.

All scalar functions are numba ``@njit`` so both trajectory kernels (Fock path and general
path) can call them; the multi-block versions act on arrays of blocks sharing one norm.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

_SERIES = 1e-2  # |Λt| below which sin(Λt)/Λ and cos(Λt) use their Taylor series


@njit(cache=True)
def block_coeffs(m, g, gamma, kappa, nbar_bath, detuning):
    """Entries ``(a, b, d)`` of H_eff in block m (complex, float, complex).

    For m = −1 (the lone state |g,0⟩) ``b = 0`` and ``a`` is set equal to ``d`` so the unused
    excited component stays inert.
    """
    down = kappa * (1.0 + nbar_bath)
    up = kappa * nbar_bath
    d = complex(-0.5 * detuning, -0.5 * (down * (m + 1) + up * (m + 2)))
    if m < 0:
        return d, 0.0, d
    a = complex(0.5 * detuning, -0.5 * (gamma + down * m + up * (m + 1)))
    return a, g * math.sqrt(m + 1.0), d


@njit(cache=True)
def propagator(a, b, d, t):
    """Entries ``(u11, u12, u22)`` of e^{−i H t} for H = [[a, b], [b, d]] (u21 = u12)."""
    mu = 0.5 * (a + d)
    delta = 0.5 * (a - d)
    lam = np.sqrt(delta * delta + b * b + 0j)
    x = lam * t
    if abs(x) < _SERIES:
        x2 = x * x
        c = 1.0 - x2 / 2.0 * (1.0 - x2 / 12.0 * (1.0 - x2 / 30.0 * (1.0 - x2 / 56.0)))
        s = t * (1.0 - x2 / 6.0 * (1.0 - x2 / 20.0 * (1.0 - x2 / 42.0 * (1.0 - x2 / 72.0))))
        ph = np.exp(-1j * mu * t)
        c = c * ph
        s = s * ph
    else:
        e_plus = np.exp(-1j * (mu + lam) * t)
        e_minus = np.exp(-1j * (mu - lam) * t)
        c = 0.5 * (e_plus + e_minus)
        s = (e_minus - e_plus) / (2j * lam)
    return c - 1j * s * delta, -1j * s * b, c + 1j * s * delta


@njit(cache=True)
def propagate(a, b, d, ce, cg, t):
    """Amplitudes ``(ce, cg)`` after a no-jump evolution of duration ``t`` (unnormalised)."""
    u11, u12, u22 = propagator(a, b, d, t)
    return u11 * ce + u12 * cg, u12 * ce + u22 * cg


@njit(cache=True)
def norm2(ce, cg):
    """Squared norm |ce|² + |cg|²."""
    return ce.real * ce.real + ce.imag * ce.imag + cg.real * cg.real + cg.imag * cg.imag


@njit(cache=True)
def norm_after(a, b, d, ce, cg, t):
    """Squared norm of the state after a no-jump evolution of duration ``t``."""
    ce_t, cg_t = propagate(a, b, d, ce, cg, t)
    return norm2(ce_t, cg_t)


@njit(cache=True, _nrt=True)  # allocates: keep reference counting when called from kernels
def jump_time(a, b, d, ce, cg, u, t_max):
    """Time at which the no-jump squared norm falls to ``u`` (exact inversion).

    Requires norm_after(t_max) ≤ u < norm2(ce, cg); returns t in (0, t_max].  The one-block
    case of :func:`jump_time_blocks` (a safeguarded Newton iteration on the monotone norm,
    converged to machine precision in t).
    """
    one = np.ones(1, dtype=np.complex128)
    return jump_time_blocks(
        a * one, b * one, d * one, ce * one, cg * one, u, t_max, np.empty_like(one),
        np.empty_like(one),
    )  # fmt: skip


# ----------------------------------------------------------------- several blocks at once
@njit(cache=True)
def propagate_blocks(a, b, d, ce, cg, t, out_e, out_g):
    """Propagate every block k (arrays ``a, b, d, ce, cg``) by ``t`` into ``out_e, out_g``.

    Returns the total squared norm.
    """
    total = 0.0
    for k in range(a.shape[0]):
        e, g = propagate(a[k], b[k], d[k], ce[k], cg[k], t)
        out_e[k] = e
        out_g[k] = g
        total += norm2(e, g)
    return total


@njit(cache=True)
def jump_time_blocks(a, b, d, ce, cg, u, t_max, work_e, work_g):
    """Multi-block :func:`jump_time`: the total no-jump squared norm of all blocks falls to u.

    ``work_e, work_g`` are scratch arrays of the blocks' length.  Requires the total norm at
    ``t_max`` to be ≤ u < the total norm at 0.
    """
    lo, hi = 0.0, t_max
    n0 = 0.0
    for k in range(a.shape[0]):
        n0 += norm2(ce[k], cg[k])
    n1 = propagate_blocks(a, b, d, ce, cg, t_max, work_e, work_g)
    t = t_max * (n0 - u) / (n0 - n1) if n0 > n1 else 0.5 * t_max
    if not (lo < t < hi):
        t = 0.5 * (lo + hi)
    for _ in range(200):
        f = propagate_blocks(a, b, d, ce, cg, t, work_e, work_g) - u
        if f > 0.0:
            lo = t
        elif f < 0.0:
            hi = t
        else:
            return t
        slope = 0.0
        for k in range(a.shape[0]):
            e = work_e[k]
            g = work_g[k]
            slope += 2.0 * a[k].imag * (e.real * e.real + e.imag * e.imag)
            slope += 2.0 * d[k].imag * (g.real * g.real + g.imag * g.imag)
        t_new = t - f / slope if slope < 0.0 else -1.0
        if not (lo < t_new < hi):
            t_new = 0.5 * (lo + hi)
        if abs(t_new - t) <= 4e-16 * t or hi - lo <= 4e-16 * hi:
            return min(max(t_new, lo), hi) if hi > lo else hi
        t = t_new
    return hi


# ----------------------------------------------------------------- plain-numpy helpers
def block_matrix(
    m: int, g: float, gamma: float, kappa: float, nbar_bath: float = 0.0, detuning: float = 0.0
) -> np.ndarray:
    """H_eff of block ``m`` as a 2×2 complex array (for tests and the density-matrix code)."""
    a, b, d = block_coeffs(m, g, gamma, kappa, nbar_bath, detuning)
    return np.array([[a, b], [b, d]], dtype=complex)


def block_propagator(
    m: int,
    t: float,
    g: float,
    gamma: float,
    kappa: float,
    nbar_bath: float = 0.0,
    detuning: float = 0.0,
) -> np.ndarray:
    """e^{−i H_m t} of block ``m`` as a 2×2 complex array."""
    a, b, d = block_coeffs(m, g, gamma, kappa, nbar_bath, detuning)
    u11, u12, u22 = propagator(a, b, d, t)
    return np.array([[u11, u12], [u12, u22]], dtype=complex)
