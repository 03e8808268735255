"""Continuous-time density-matrix series for Poisson pumping with dead time (diagonal case).

Atoms arrive after gaps τ + Exp(μ), μ = 1/(1/r − τ), the first at t = 0.  Split the cavity
distribution into the part with an atom inside, carried as the unnormalised atom–cavity
vector Z (the reduced space of :func:`trajmaser.dm.populations.interaction_generator`), and
the part in a gap, y.  An atom enters at rate μ from the gap and leaves exactly τ later, so
for t > τ

    Z' = L Z + μ E y(t) − μ e^{Lτ} E y(t − τ)
    y' = (G − μ) y + μ A y(t − τ),          A = Tr e^{Lτ} E,

with Z(τ+) = 0, y(τ+) = A p0, y = 0 before τ, and x(t) = Tr Z + y.  This linear delay
equation is integrated on a grid h = τ/m aligned with the delay: the undelayed part is
propagated exactly (matrix exponential), the delayed history y(t − τ) is interpolated by
cubic Lagrange polynomials on stencils confined to one delay interval (y jumps at t = τ and
is smooth inside each interval), and the resulting exponential-integrator weights are exact
φ-functions.  The only error is the interpolation error, O((μh)^4); the default
μh = 0.05 gives relative errors below 1e-6 in ⟨n⟩ (tests/physics/test_dm.py halves h and
checks).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.linalg import expm

from trajmaser import pump
from trajmaser.dm.initial import initial_distribution
from trajmaser.dm.photons import population_rows
from trajmaser.dm.populations import embed_trace, gap_generator, interaction_generator
from trajmaser.params import Model
from trajmaser.rules import check_model

_OFFSETS = (np.array([0, 1, 2, 3]), np.array([-1, 0, 1, 2]), np.array([-2, -1, 0, 1]))
_VINV = tuple(np.linalg.inv(np.vander(o.astype(float), 4, increasing=True)) for o in _OFFSETS)


def _phi_weights(bmat: np.ndarray, cdel: np.ndarray, delta: float, h: float):
    """e^{Bδ} and, per stencil pattern, W_q = ∫_0^δ e^{B(δ−σ)} ℓ_q(σ/h) dσ · C."""
    ns, nc = cdel.shape
    size = ns + 4 * nc
    k = np.zeros((size, size))
    k[:ns, :ns] = bmat * delta
    k[:ns, ns : ns + nc] = cdel
    for j in range(3):
        a = ns + j * nc
        k[a : a + nc, a + nc : a + 2 * nc] = np.eye(nc)
    f = expm(k)
    phis = [f[:ns, ns + j * nc : ns + (j + 1) * nc] for j in range(4)]
    mono = [delta * (delta / h) ** j * math.factorial(j) * phis[j] for j in range(4)]
    weights = [[sum(v[j, q] * mono[j] for j in range(4)) for q in range(4)] for v in _VINV]
    return f[:ns, :ns], weights


def _pattern(i: int, m: int) -> tuple[int, int]:
    """Stencil pattern index and first stencil node for sub-step i of a delay interval."""
    if i == 0:
        return 0, 0
    if i < m - 1:
        return 1, i - 1
    return 2, m - 3


def _forcing(wts, vals: np.ndarray, m: int) -> np.ndarray:
    """Σ_q W_q y[stencil_q] for every sub-step of one delay interval (rows)."""
    out = np.empty((m, wts[0][0].shape[0]))
    out[0] = sum(wts[0][q] @ vals[q] for q in range(4))
    out[1 : m - 1] = sum(vals[q : q + m - 2] @ wts[1][q].T for q in range(4))
    out[m - 1] = sum(wts[2][q] @ vals[m - 3 + q] for q in range(4))
    return out


def poisson_time_series(
    model: Model, times: np.ndarray, nmax: int, mu_h: float = 0.05, steps: int | None = None
) -> dict:
    """Cavity statistics at absolute times for Poisson pumping (see the module docstring).

    Only the gap part y is stepped over the whole run (size nmax + 1); the interaction part
    at an output time t is rebuilt from y on [t − τ, t] (atoms inside at t entered then).

    Parameters
    ----------
    model : Model
        Diagonal model with ``statistics == "poisson"``.
    times : ndarray
        Times t ≥ 0 (s).
    nmax : int
        Fock cut-off.
    mu_h : float
        Target μ·h for the grid (smaller is more accurate, cost ∝ 1/mu_h).
    steps : int, optional
        Grid points per delay interval τ (overrides ``mu_h``; at least 4).

    Returns
    -------
    dict
        ``n_mean``, ``n_var``, ``p`` (rows), ``nmax``, ``tail``, ``steps``.
    """
    check_model(model)
    stats = pump.get(model.statistics)
    mu = stats.dead_time_rate(model.rate, model.tau, stats.values(model.pump_values))
    if mu is None or not model.is_diagonal:
        raise ValueError(
            "poisson_time_series needs a diagonal model whose intervals are tau + Exp(mu) "
            f"(statistics 'poisson'), got {model.statistics!r}"
        )
    tau = model.tau
    m = steps if steps is not None else max(8, math.ceil(mu * tau / mu_h))
    if m < 4:
        raise ValueError(f"steps per delay interval must be >= 4, got {m}")
    h = tau / m
    n1 = nmax + 1
    emb, tr = embed_trace(model, nmax)
    gen_l = interaction_generator(model, nmax).toarray()
    prop_l = expm(gen_l * tau)
    amap = tr @ prop_l @ emb
    gen_y = gap_generator(model, nmax) - mu * np.eye(n1)
    step_y, wts_y = _phi_weights(gen_y, mu * amap, h, h)  # y' = (G−μ)y + μA y(t−τ)
    step_z, wts_z = _phi_weights(gen_l, mu * emb, h, h)  # Z' = LZ + μE y(t) (+ exits)
    p0 = initial_distribution(model, nmax)

    t = np.asarray(times, dtype=float)
    rows: list = [None] * t.size
    seg_of = np.floor(t / tau + 1e-12).astype(np.int64)
    for i in np.nonzero(seg_of == 0)[0]:
        rows[i] = tr @ expm(gen_l * t[i]) @ emb @ p0
    yprev = np.zeros((m + 1, n1))  # y on the previous delay interval (0 before τ)
    ystart = amap @ p0  # y(τ+): the first atom has left
    for j in range(1, int(seg_of.max()) + 1 if t.size else 1):
        force = _forcing(wts_y, yprev, m)
        seg = np.empty((m + 1, n1))
        seg[0] = ystart
        for i in range(m):
            seg[i + 1] = step_y @ seg[i] + force[i]
        here = np.nonzero(seg_of == j)[0]
        if here.size:
            fz_prev, fz_seg = _forcing(wts_z, yprev, m), _forcing(wts_z, seg, m)
        for k in here:
            loc = t[k] - j * tau
            i = min(int(loc / h), m - 1)
            delta = loc - i * h
            z = np.zeros(gen_l.shape[0])  # atoms inside at jτ + ih entered in the last τ
            for f in (*fz_prev[i:], *fz_seg[:i]):
                z = step_z @ z + f
            y = seg[i]
            if delta > 1e-14 * h:
                pat, st = _pattern(i, m)
                e_y, wy = _phi_weights(gen_y, mu * amap, delta, h)
                e_z, wz = _phi_weights(gen_l, mu * emb, delta, h)
                y = e_y @ y + sum(wy[pat][q] @ yprev[st + q] for q in range(4))
                z_in = sum(wz[pat][q] @ seg[st + q] for q in range(4))
                z_out = prop_l @ sum(wz[pat][q] @ yprev[st + q] for q in range(4))
                z = e_z @ z + z_in - z_out
            rows[k] = tr @ z + y
        yprev, ystart = seg, seg[m]
    out = population_rows(rows, nmax)
    out["steps"] = m
    return out
