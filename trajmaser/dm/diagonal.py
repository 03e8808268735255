"""Density-matrix reference solvers, diagonal fast path (SPEC §3, §4).

With a diagonal atom state ρ0 and a diagonal initial cavity (any detuning) the cavity stays
diagonal.  During an interaction the atom–cavity state lives on the populations
P_e(n) = ⟨e,n|ρ|e,n⟩, P_g(n) = ⟨g,n|ρ|g,n⟩ and the block coherences C(n) = ⟨e,n|ρ|g,n+1⟩:
4·nmax + 2 real numbers, on which the Liouvillian of H_I = (Δ/2)σz + g(σ+a + σ−a†) with
γ D[σ−] + κ(1+n_b) D[a] + κ n_b D[a†] closes exactly.  The Fock space is truncated at nmax
exactly as a truncated ``a`` does (a†|nmax⟩ = 0), so every map conserves probability; the
probability left in the top levels is reported as ``tail``.

Conventions (docs/ARCHITECTURE.md): the first atom arrives at t = 0 for ``regular`` and
``poisson``; for ``binomial`` slot k starts at k·p/r and holds an atom with probability p.
"Arrival" quantities are the cavity just before an atom enters.  Models with coherence are
dispatched to :mod:`trajmaser.dm_general`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.linalg import expm, lu_factor, lu_solve

from trajmaser.params import Model, tf_from_nbar
from trajmaser.rules import check_model

__all__ = [
    "arrival_series",
    "atom_maps",
    "coarse_grained",
    "fjm_distribution",
    "gap_generator",
    "initial_distribution",
    "interaction_generator",
    "photon_stats",
    "steady",
    "time_series",
    "transient",
]

NMAX_LIMIT = 1500  # dense exponentials of size ~4·nmax: nmax = 1500 takes minutes


# ------------------------------------------------------------------ validation, statistics
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


def _tail(p: np.ndarray) -> float:
    """Probability in the top max(2, (nmax+1)//10) Fock levels."""
    w = max(2, p.size // 10)
    return float(np.abs(p[-w:]).sum())


def initial_distribution(model: Model, nmax: int) -> np.ndarray:
    """p(n) of the initial cavity (thermal at Tb, vacuum, Fock) on 0 … nmax.

    Raises ``ValueError`` for a coherent field (use :mod:`trajmaser.dm_general`) or a Fock
    state above nmax.
    """
    kind, val = model.initial.kind, model.initial.value
    p = np.zeros(nmax + 1)
    if kind == "thermal":
        q = math.exp(-model.omega)
        p[:] = (1.0 - q) * q ** np.arange(nmax + 1)
    elif kind == "vacuum" or (kind == "coherent" and val == 0.0):
        p[0] = 1.0
    elif kind == "fock":
        if int(val) > nmax:
            raise ValueError(f"initial Fock state {int(val)} above nmax={nmax}")
        p[int(val)] = 1.0
    else:
        raise ValueError(f"initial field {kind!r} is not diagonal: use dm_general")
    return p / p.sum()


def _initial_support(model: Model) -> int:
    """Smallest nmax that holds the initial field to ~1e-15."""
    if model.initial.kind == "fock":
        return int(model.initial.value) + 5
    if model.initial.kind == "thermal":
        return int(math.ceil(36.0 / model.omega)) + 5 if model.omega > 0 else 50
    return 5


# ------------------------------------------------------------------ generators
def interaction_generator(model: Model, nmax: int) -> sp.csr_matrix:
    """Real generator L of one interaction on (P_e(0..nmax), P_g(0..nmax), Re C, Im C).

    C(n) = ⟨e,n|ρ|g,n+1⟩ for n = 0 … nmax−1; the vector has 4·nmax + 2 entries.  L is the
    exact restriction of the Lindblad generator (SPEC §1) truncated at nmax.
    """
    nmax = int(nmax)
    n1 = nmax + 1
    g, d, gam = model.g, model.detuning, model.gamma
    k1, k2 = model.kappa * (1.0 + model.nbar_bath), model.kappa * model.nbar_bath
    ie, ig = np.arange(n1), n1 + np.arange(n1)
    ix, iy = 2 * n1 + np.arange(nmax), 2 * n1 + nmax + np.arange(nmax)
    rows, cols, vals = [], [], []

    def add(r, c, v):
        r, c = np.atleast_1d(r), np.atleast_1d(c)
        rows.append(r)
        cols.append(c)
        vals.append(np.broadcast_to(np.asarray(v, float), r.shape))

    n = np.arange(n1, dtype=float)
    c_up = np.where(np.arange(n1) < nmax, n + 1.0, 0.0)  # diagonal of truncated a a†
    nc = np.arange(nmax, dtype=float)
    s = np.sqrt(nc + 1.0) * g
    # Hamiltonian: block {|e,n>, |g,n+1>}
    add(ie[:nmax], iy, -2.0 * s)
    add(ig[1:], iy, 2.0 * s)
    add(iy, ie[:nmax], s)
    add(iy, ig[1:], -s)
    add(ix, iy, d)
    add(iy, ix, -d)
    # atomic decay
    add(ie, ie, -gam)
    add(ig, ie, gam)
    add(ix, ix, -0.5 * gam)
    add(iy, iy, -0.5 * gam)
    # cavity: populations of both atomic states
    for blk in (ie, ig):
        add(blk, blk, -k1 * n - k2 * c_up)
        add(blk[:-1], blk[1:], k1 * n[1:])
        add(blk[1:], blk[:-1], k2 * n[1:])
    # cavity: coherences
    damp = k1 * (nc + 0.5) + 0.5 * k2 * (c_up[:nmax] + c_up[1:])
    for blk in (ix, iy):
        add(blk, blk, -damp)
        if nmax > 1:
            add(blk[:-1], blk[1:], k1 * np.sqrt((nc[:-1] + 1.0) * (nc[:-1] + 2.0)))
            add(blk[1:], blk[:-1], k2 * np.sqrt(nc[1:] * (nc[1:] + 1.0)))
    size = 4 * nmax + 2
    mat = sp.coo_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(size, size)
    )
    return mat.tocsr()


def gap_generator(model: Model, nmax: int) -> np.ndarray:
    """Birth–death generator G of the empty cavity on p(0..nmax) (dense, tridiagonal).

    Down κ(1+n_b)n, up κ n_b (n+1); no up-step out of nmax.
    """
    n1 = int(nmax) + 1
    n = np.arange(n1, dtype=float)
    k1, k2 = model.kappa * (1.0 + model.nbar_bath), model.kappa * model.nbar_bath
    up = np.where(np.arange(n1) < nmax, k2 * (n + 1.0), 0.0)
    gen = np.diag(-k1 * n - up)
    gen += np.diag(k1 * n[1:], 1) + np.diag(up[:-1], -1)
    return gen


def _embed_trace(model: Model, nmax: int) -> tuple[np.ndarray, np.ndarray]:
    """E: p -> (pe p, (1−pe) p, 0, 0);  T: state -> P_e + P_g."""
    n1 = nmax + 1
    emb = np.zeros((4 * nmax + 2, n1))
    emb[:n1] = model.pe * np.eye(n1)
    emb[n1 : 2 * n1] = (1.0 - model.pe) * np.eye(n1)
    tr = np.zeros((n1, 4 * nmax + 2))
    tr[:, :n1] = np.eye(n1)
    tr[:, n1 : 2 * n1] = np.eye(n1)
    return emb, tr


def _propagate_with_integral(gen: np.ndarray, inp: np.ndarray, t: float):
    """(e^{gen t} inp, ∫_0^t e^{gen s} inp ds) by one augmented exponential (Van Loan)."""
    a, b = gen.shape[0], inp.shape[1]
    aug = np.zeros((a + b, a + b))
    aug[:a, :a] = gen * t
    aug[:a, a:] = inp * t
    f = expm(aug)
    return f[:a, :a] @ inp, f[:a, a:]


def atom_maps(model: Model, nmax: int, s: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Per-atom map A(s) = Tr_atom e^{Ls}(· ⊗ ρ0) and its integral ∫_0^s A(u) du.

    Parameters
    ----------
    model : Model
    nmax : int
        Fock cut-off.
    s : float, optional
        Interaction time elapsed (default τ).

    Returns
    -------
    (A, A_int) : ndarrays of shape (nmax+1, nmax+1)
    """
    s = model.tau if s is None else float(s)
    emb, tr = _embed_trace(model, nmax)
    gen = interaction_generator(model, nmax).toarray()
    prop, integ = _propagate_with_integral(gen, emb, s)
    return tr @ prop, tr @ integ


def _gap_exp(gen: np.ndarray, t: float) -> tuple[np.ndarray, np.ndarray]:
    """(e^{G t}, ∫_0^t e^{G s} ds)."""
    return _propagate_with_integral(gen, np.eye(gen.shape[0]), t)


# ------------------------------------------------------------------ pump-averaged maps
@dataclass(frozen=True)
class _Maps:
    """All matrices of one (model, nmax): atom maps, gap maps, their time integrals."""

    nmax: int
    A: np.ndarray  # per-atom map
    A_int: np.ndarray  # ∫_0^τ A(s) ds
    G: np.ndarray  # gap generator
    step: np.ndarray  # arrival k -> arrival k+1 map (pump averaged)
    first: np.ndarray  # initial state -> just before atom 0
    occupancy: np.ndarray  # arrival distribution -> continuous-time average distribution


def _maps(model: Model, nmax: int) -> _Maps:
    check_model(model)
    a, a_int = atom_maps(model, nmax)
    gen = gap_generator(model, nmax)
    r, tau, eye = model.rate, model.tau, np.eye(nmax + 1)
    if model.statistics == "regular":
        gmap, gint = _gap_exp(gen, 1.0 / r - tau)
        step, first = gmap @ a, eye
        occ = r * (a_int + gint @ a)
    elif model.statistics == "poisson":
        mu = 1.0 / (1.0 / r - tau)
        res = np.linalg.solve(mu * eye - gen, eye)  # (μ − G)^{-1}
        step, first = mu * res @ a, eye
        occ = r * (a_int + res @ a)
    else:
        p, slot = model.p, model.p / r  # check_model: slot >= tau
        ggap, gint_gap = _gap_exp(gen, slot - tau)
        gslot, gint_slot = _gap_exp(gen, slot)
        geo = p * np.linalg.solve(eye - (1.0 - p) * gslot, eye)  # Σ_j p(1−p)^j e^{G j slot}
        step, first = geo @ ggap @ a, geo
        # slot chain K = p e^{G(slot−τ)}A + (1−p) e^{G slot}: arrival law = its stationary law
        occ = (p * (a_int + gint_gap @ a) + (1.0 - p) * gint_slot) / slot
    return _Maps(nmax, a, a_int, gen, step, first, occ)


def _slot_chain(model: Model, m: _Maps) -> tuple[np.ndarray, float]:
    """Binomial slot-boundary map K and slot length p/r."""
    slot = model.p / model.rate
    return (
        model.p * expm(m.G * (slot - model.tau)) @ m.A + (1.0 - model.p) * expm(m.G * slot),
        slot,
    )


def _fixed_point(mat: np.ndarray) -> np.ndarray:
    """Stationary vector of a column-stochastic matrix (eigenvalue 1), normalised to 1."""
    n1 = mat.shape[0]
    sys = mat - np.eye(n1)
    sys[-1, :] = 1.0
    rhs = np.zeros(n1)
    rhs[-1] = 1.0
    p = lu_solve(lu_factor(sys), rhs)
    return p / p.sum()


# ------------------------------------------------------------------ steady state
def _nmax_estimate(model: Model, tol: float) -> int:
    """First guess of nmax: where an FJM-like distribution falls below tol."""
    cap = NMAX_LIMIT
    p = fjm_distribution(model.nex, model.pe, model.g * model.tau, model.nbar_bath, cap)
    tail = np.cumsum(p[::-1])[::-1]
    above = np.nonzero(tail > tol * 1e-3)[0]
    n_est = int(above[-1]) if above.size else 0
    return max(20, int(1.2 * n_est) + 10, _initial_support(model))


def steady(
    model: Model, tol: float = 1e-12, nmax: int | None = None, nmax_limit: int = NMAX_LIMIT
) -> dict:
    """Steady state of the repeated-interaction model, averaged over the pump statistics.

    Parameters
    ----------
    model : Model
        Dispatched to :func:`trajmaser.dm_general.steady` when ``not model.is_diagonal``.
    tol : float
        Largest probability allowed in the top Fock levels; nmax grows until it is met.
    nmax : int, optional
        Fixed cut-off (no growth; the tail is still reported).
    nmax_limit : int
        Largest cut-off the growth may reach (cost grows like nmax³).

    Returns
    -------
    dict
        ``"arrival"`` (just before an atom enters) and ``"time"`` (continuous-time average):
        each the :func:`photon_stats` keys plus ``"p"`` (list); ``"nmax"``; ``"tail"``.

    Raises
    ------
    ValueError
        No steady state below ``NMAX_LIMIT`` photons (e.g. inversion without enough loss).
    """
    if not model.is_diagonal:
        from trajmaser.dm import general as dm_general

        return dm_general.steady(model, tol=tol, nmax=nmax)
    grow = nmax is None
    nm = min(_nmax_estimate(model, tol), nmax_limit) if grow else int(nmax)
    while True:
        m = _maps(model, nm)
        if model.statistics == "binomial":
            p_arr = _fixed_point(_slot_chain(model, m)[0])
        else:
            p_arr = _fixed_point(m.step)
        p_time = m.occupancy @ p_arr
        tail = max(_tail(p_arr), _tail(p_time))
        if not grow or tail < tol:
            break
        if nm >= nmax_limit:
            why = ""
            if model.pe > 0.5:
                why = (
                    f"the atoms are inverted (pe = {model.pe:.4g} > 1/2, negative temperature "
                    f"Tq/Tb = {model.tq_over_tb:.4g}), so the field has no thermal steady state "
                    "and masing drives it to large photon numbers; "
                )
            raise ValueError(
                f"{why}no converged steady state within nmax_limit={nmax_limit} photons "
                f"(pe={model.pe:.6g}, Nex={model.nex:.4g}): probability {tail:.3g} in the top "
                "levels; raise nmax_limit or tol if the field is large but bounded"
            )
        nm = min(nmax_limit, int(1.5 * nm) + 5)
    out = {}
    for key, p in (("arrival", p_arr), ("time", p_time)):
        out[key] = photon_stats(p, model.omega)
        out[key]["p"] = (p / p.sum()).tolist()
    out["nmax"], out["tail"] = nm, tail
    return out


# ------------------------------------------------------------------ time series
def _series_nmax(model: Model, nmax: int | None) -> int:
    if nmax is not None:
        return int(nmax)
    return max(_nmax_estimate(model, 1e-12), _initial_support(model))


def _moments_rows(ps: list[np.ndarray]) -> dict:
    arr = np.array(ps)
    n = np.arange(arr.shape[1], dtype=float)
    m1 = arr @ n
    return {"n_mean": m1, "n_var": arr @ (n * n) - m1 * m1, "p": arr}


def arrival_series(model: Model, indices: Sequence[int], nmax: int | None = None) -> dict:
    """Cavity just before atom k enters, for each k in ``indices`` (k = 0: first atom).

    For ``binomial`` the first atom arrives at a geometric slot, so record 0 is the initial
    field evolved over that random number of empty slots.

    Returns
    -------
    dict
        ``n_mean``, ``n_var`` (arrays like ``indices``), ``p`` (rows p(n)), ``nmax``,
        ``tail`` (largest top-level probability over the records).
    """
    if not model.is_diagonal:
        from trajmaser.dm import general as dm_general

        return dm_general.arrival_series(model, indices, nmax=nmax)
    idx = np.asarray(indices, dtype=np.int64)
    if idx.size and idx.min() < 0:
        raise ValueError("atom indices must be >= 0")
    nm = _series_nmax(model, nmax)
    m = _maps(model, nm)
    p = m.first @ initial_distribution(model, nm)
    kmax = int(idx.max()) if idx.size else -1
    rec = {}
    wanted = set(idx.tolist())
    for k in range(kmax + 1):
        if k in wanted:
            rec[k] = p.copy()
        p = m.step @ p
    out = _moments_rows([rec[k] for k in idx.tolist()]) if idx.size else {}
    out["nmax"] = nm
    out["tail"] = max((_tail(v) for v in rec.values()), default=0.0)
    return out


def time_series(model: Model, times: Sequence[float], nmax: int | None = None) -> dict:
    """Cavity photon statistics at absolute times t (s), the first atom entering at t = 0.

    Exact (matrix exponentials) for ``regular`` and ``binomial``.  ``poisson`` integrates
    the renewal delay equation (:func:`trajmaser.dm_poisson.poisson_time_series`, relative
    error < 1e-6 in ⟨n⟩ at its default grid).

    Returns
    -------
    dict
        ``n_mean``, ``n_var``, ``p`` (rows), ``nmax``, ``tail``.
    """
    if not model.is_diagonal:
        from trajmaser.dm import general as dm_general

        return dm_general.time_series(model, times, nmax=nmax)
    t = np.asarray(times, dtype=float)
    if t.size and t.min() < 0:
        raise ValueError("times must be >= 0")
    nm = _series_nmax(model, nmax)
    if model.statistics == "poisson":
        from trajmaser.dm.poisson import poisson_time_series

        return poisson_time_series(model, t, nm)
    m = _maps(model, nm)
    emb, tr = _embed_trace(model, nm)
    gen_l = interaction_generator(model, nm).toarray()
    p0 = initial_distribution(model, nm)
    if model.statistics == "regular":
        period, kernel = 1.0 / model.rate, m.step
    else:
        kernel, period = _slot_chain(model, m)
    ks = np.floor(t / period + 1e-12).astype(np.int64)
    svals = np.clip(t - ks * period, 0.0, period)
    order = np.argsort(ks)
    cur_k, cur = 0, p0.copy()
    rows = [None] * t.size
    for i in order:
        while cur_k < ks[i]:
            cur, cur_k = kernel @ cur, cur_k + 1
        s = svals[i]
        if s < model.tau:
            inside = tr @ expm(gen_l * s) @ (emb @ cur)
        else:
            inside = expm(m.G * (s - model.tau)) @ (m.A @ cur)
        if model.statistics == "binomial":
            inside = model.p * inside + (1.0 - model.p) * (expm(m.G * s) @ cur)
        rows[i] = inside
    out = _moments_rows(rows) if t.size else {}
    out["nmax"] = nm
    out["tail"] = max((_tail(v) for v in rows), default=0.0)
    return out


transient = time_series


# ------------------------------------------------------------------ analytic references
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
    """Filipowicz–Javanainen–Meystre steady state (Poisson pump, γ = 0, κτ → 0; SPEC §4).

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
