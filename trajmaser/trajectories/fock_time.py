"""Exact time integrals of the Fock-path cavity over the steady window [burn_in/r, T].

The steady "time" block of a Fock-path trajectory is its own time average of the conditional
⟨n⟩, ⟨n²⟩ and p(n) over the window, integrated exactly along the trajectory:

- in a gap the cavity is a Fock state that changes only at loss (and, with n_b > 0, gain)
  events, drawn one by one inside the window (:func:`gap_timed`), so the integrand is piecewise
  constant;
- inside an interaction, between jumps, the state is the normalised no-jump evolution of one
  excitation block {|e,m⟩, |g,m+1⟩}: it holds m + 1 photons with probability w(t) = |c_g|² /
  (|c_e|² + |c_g|²), so ⟨n⟩ = m + w, ⟨n²⟩ = m² + (2m + 1) w and p = (1 − w, w) at (m, m + 1).
  ∫ w dt is a deterministic function of the run's start state: tabulated per entry photon
  number for a whole jump-free interaction (:func:`time_tables`), and otherwise integrated by
  composite Gauss–Legendre quadrature (:func:`integrate_w`) on panels of at most two radians
  of the block's eigenfrequency difference 2|Λ|, with 8 to 20 nodes by the panel's phase
  (:data:`RULES`), accurate to rounding (≤ 1e-15 of the span; tests/unit/test_time_integrals.py).

A trajectory adds the time spent at each photon number, Σ_pieces ∫ p_t(n) dt, into ``occ``
(length levels + 1; the last entry collects the time above the histogram and
``tr[TR_MAXN]`` the largest photon number there); ∫⟨n⟩ dt = Σ n occ[n] and ∫⟨n²⟩ dt =
Σ n² occ[n] follow from it exactly.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from trajmaser.blocks import block_coeffs
from trajmaser.trajectories.accumulate import kernel_step, passage_step
from trajmaser.trajectories.records import TR_MAXN

#: Gauss–Legendre rules (nodes, largest panel phase 2|Λ|·h in radians) accurate to ~5e-16 of
#: the panel (measured on random blocks against 160-node quadrature).
RULES = ((8, 0.25), (10, 0.5), (14, 1.0), (16, 1.5), (20, 2.0))
PANEL_PHASE = RULES[-1][1]
_NODES = np.zeros((len(RULES), RULES[-1][0]))
_WEIGHTS = np.zeros((len(RULES), RULES[-1][0]))
_COUNT = np.array([r[0] for r in RULES], dtype=np.int64)
_PHASE = np.array([r[1] for r in RULES])
for _i, (_n, _) in enumerate(RULES):
    _NODES[_i, :_n], _WEIGHTS[_i, :_n] = np.polynomial.legendre.leggauss(_n)
_SERIES = 1e-2


@kernel_step
def w_at(a, b, d, ce, cg, t):
    """w(t) = |c_g|² / (|c_e|² + |c_g|²) after a no-jump evolution of (ce, cg) over t."""
    delta = 0.5 * (a - d)
    return _w_at(delta, np.sqrt(delta * delta + b * b + 0j), b, ce, cg, t)


@kernel_step
def _w_at(delta, lam, b, ce, cg, t):
    """:func:`w_at` with δ = (a − d)/2 and Λ = √(δ² + b²) given.

    The propagator e^{−iHt} is evaluated with the common factor of its two eigenvalue
    exponentials removed (the larger one scaled to 1), so nothing under- or overflows.
    """
    x = lam * t
    if abs(x) < _SERIES:
        x2 = x * x
        c = 1.0 - x2 / 2.0 * (1.0 - x2 / 12.0 * (1.0 - x2 / 30.0 * (1.0 - x2 / 56.0)))
        s = t * (1.0 - x2 / 6.0 * (1.0 - x2 / 20.0 * (1.0 - x2 / 42.0 * (1.0 - x2 / 72.0))))
    elif x.imag >= 0.0:  # |e^{−ix}| ≥ |e^{ix}|: divide both by e^{−ix}
        q = np.exp(2j * x)
        c = 0.5 * (1.0 + q)
        s = (q - 1.0) / (2j * lam)
    else:
        q = np.exp(-2j * x)
        c = 0.5 * (q + 1.0)
        s = (1.0 - q) / (2j * lam)
    e = (c - 1j * s * delta) * ce - 1j * s * b * cg
    g = -1j * s * b * ce + (c + 1j * s * delta) * cg
    pe = e.real * e.real + e.imag * e.imag
    pg = g.real * g.real + g.imag * g.imag
    return pg / (pe + pg)


@kernel_step
def integrate_w(a, b, d, ce, cg, t_lo, t_hi):
    """∫ w(t) dt over [t_lo, t_hi] (times after the state (ce, cg)), by Gauss–Legendre.

    NaN when the block's frequencies are not finite (or need more than 1e12 radians).
    """
    if t_hi <= t_lo:
        return 0.0
    delta = 0.5 * (a - d)
    lam = np.sqrt(delta * delta + b * b + 0j)
    phase = (t_hi - t_lo) * 2.0 * abs(lam)
    if not phase < 1e12:  # NaN / inf (parameters beyond doubles) or absurdly many panels
        return math.nan
    panels = max(1, int(math.ceil(phase / PANEL_PHASE)))
    rule = 0
    while rule < _PHASE.shape[0] - 1 and _PHASE[rule] < phase / panels:
        rule += 1
    h = (t_hi - t_lo) / panels
    total = 0.0
    for p in range(panels):
        mid = t_lo + (p + 0.5) * h
        part = 0.0
        for i in range(_COUNT[rule]):
            t = mid + 0.5 * h * _NODES[rule, i]
            part += _WEIGHTS[rule, i] * _w_at(delta, lam, b, ce, cg, t)
        total += 0.5 * h * part
    return total


@njit(cache=True)
def time_tables(size, g, gamma, kappa, nbar_bath, detuning, tau):
    """∫_0^τ w dt along the jump-free interaction, per entry photon number n < size.

    Returns ``(w_e, w_g)`` for atoms entering in |e⟩ (block n) and in |g⟩ (block n − 1).
    """
    w_e = np.empty(size)
    w_g = np.empty(size)
    for n in range(size):
        a, b, d = block_coeffs(n, g, gamma, kappa, nbar_bath, detuning)
        w_e[n] = integrate_w(a, b, d, 1.0 + 0j, 0j, 0.0, tau)
        a, b, d = block_coeffs(n - 1, g, gamma, kappa, nbar_bath, detuning)
        w_g[n] = integrate_w(a, b, d, 0j, 1.0 + 0j, 0.0, tau)
    return w_e, w_g


@passage_step
def occupy(n, dt, tr, occ):
    """The cavity held exactly n photons for dt inside the window."""
    top = occ.shape[0] - 1
    if n < top:
        occ[n] += dt
    else:
        occ[top] += dt
        tr[TR_MAXN] = max(tr[TR_MAXN], float(n))


@passage_step
def occupy_block(m, span, w_int, tr, occ):
    """An interaction run in block m for ``span`` inside the window, with ∫ w dt = w_int.

    Block m = −1 (the lone |g,0⟩) holds 0 photons throughout.
    """
    if m < 0:
        occupy(0, span, tr, occ)
        return
    w_int = min(max(w_int, 0.0), span)
    occupy(m, span - w_int, tr, occ)
    occupy(m + 1, w_int, tr, occ)


@passage_step
def gap_rates(n, kappa, nbar_bath):
    """(loss rate, total event rate) of an empty cavity holding n photons."""
    down = kappa * (1.0 + nbar_bath) * n
    return down, down + kappa * nbar_bath * (n + 1)


@njit(cache=True)
def survival_table(size, kappa, nbar_bath, gap):
    """e^{−r(n)·gap} for n < size: the probability that an empty cavity holding n photons
    meets no event (loss or gain, total rate r(n)) in a gap of that length; −1 where r(n) is
    0 or not finite (:func:`gap_timed` and :func:`gap_evolve` draw nothing there)."""
    stay = np.empty(size)
    for n in range(size):
        total = gap_rates(n, kappa, nbar_bath)[1]
        stay[n] = math.exp(-total * gap) if 0.0 < total < math.inf else -1.0
    return stay


@kernel_step
def gap_timed(n, dt, kappa, nbar_bath, rng, tr, occ):
    """Empty cavity over dt, all inside the window: events one by one, time at each n kept.

    Returns the photon number at the end, or −1 if the jump rates are not finite.
    """
    while True:
        down, total = gap_rates(n, kappa, nbar_bath)
        if not total < math.inf:
            return -1
        if total == 0.0:
            occupy(n, dt, tr, occ)
            return n
        u = rng.random()
        # the next event comes after an Exp(total) wait w: beyond dt iff e^{−total·dt} > u,
        # and otherwise w = −ln(u) / total (u = e^{−total·w} is uniform)
        if u < math.exp(-total * dt):
            occupy(n, dt, tr, occ)
            return n
        n, dt = _gap_event(n, dt, u, down, total, nbar_bath, rng, tr, occ)


@kernel_step
def gap_timed_after(n, dt, u, kappa, nbar_bath, rng, tr, occ):
    """:func:`gap_timed` whose first uniform u is drawn already and gave an event within dt
    (u ≥ the survival e^{−r(n)·dt}, r(n) > 0 finite)."""
    down, total = gap_rates(n, kappa, nbar_bath)
    n, dt = _gap_event(n, dt, u, down, total, nbar_bath, rng, tr, occ)
    return gap_timed(n, dt, kappa, nbar_bath, rng, tr, occ)


@passage_step
def _gap_event(n, dt, u, down, total, nbar_bath, rng, tr, occ):
    """A timed gap's next event, at the wait w = −ln(u)/total within dt: the time w at n
    kept, then a loss or a gain; returns (n, dt − w)."""
    w = min(-math.log(u) / total, dt)
    occupy(n, w, tr, occ)
    if nbar_bath == 0.0 or rng.random() * total < down:
        return n - 1, dt - w
    return n + 1, dt - w


@kernel_step
def gap_evolve(n, dt, kappa, nbar_bath, rng):
    """Fock state after an empty-cavity evolution of length ``dt`` (exact); −1 if the jump
    rates are not finite."""
    if dt <= 0.0:
        return n
    if nbar_bath == 0.0:
        if n == 0:
            return 0
        if rng.random() < math.exp(-kappa * n * dt):
            return n
        return gap_losses(n, dt, kappa, rng)
    while True:
        down = kappa * (1.0 + nbar_bath) * n
        total = down + kappa * nbar_bath * (n + 1)
        if not total < math.inf:  # NaN or inf rates
            return -1
        if total == 0.0:  # κ = 0: nothing happens
            return n
        w = rng.exponential(1.0 / total)
        if w >= dt:
            return n
        dt -= w
        if rng.random() * total < down:
            n -= 1
        else:
            n += 1


@kernel_step
def gap_losses(n, dt, kappa, rng):
    """Photons left of n > 0 after dt at zero temperature, given at least one was lost.

    Binomial(n, p_loss) conditioned on at least one loss, drawn directly: the first photon
    lost (in any fixed order) is j with probability ∝ (1 − p_loss)^(j−1) p_loss, j = 1..n
    (inverse CDF), and each of the n − j after it is lost independently.
    """
    p_loss = -math.expm1(-kappa * dt)
    some = -math.expm1(-kappa * n * dt)  # 1 − (1 − p_loss)^n
    j = math.ceil(math.log1p(-rng.random() * some) / (-kappa * dt))
    j = min(max(j, 1), n)
    lost = 1 + (rng.binomial(n - j, p_loss) if j < n else 0)
    return n - lost
