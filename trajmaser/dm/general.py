"""Density-matrix reference, general path: coherent atoms, coherent fields, detuning.

The cavity density matrix ρ_c (Fock cut-off nmax) is carried between atoms.  All generators
conserve the difference of excitation numbers between the ket and the bra,
d = (n + [atom e]) − (m + [atom e]) for the element ⟨a,n|ρ|b,m⟩, so the atom–cavity
Liouvillian (dimension (2(nmax+1))²) splits exactly into sectors of size ≤ 4(nmax+1), and so
does the empty-cavity Liouvillian (sector d = n − m).  Every propagator is built sector by
sector with dense matrix exponentials and assembled into sparse maps on vec(ρ_c).

Phase convention: everything is written in the frame rotating at the cavity frequency Ω
(for field and atom), in which H_I = (Δ/2)σz + g(σ+a + σ−a†) and the empty cavity has no
Hamiltonian.  Each atom's ρ0 (with ⟨e|ρ0|g⟩ = ``model.coherence``) is given in that frame at
the moment the atom enters: every atom carries the same phase relative to the field.
A coherent initial field α is real in the same frame.

Vectorisation is row-major: element (i, j) of a D×D matrix sits at i·D + j; the atom is the
first tensor factor (index a·(nmax+1) + n, a = 0 for e, 1 for g).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from scipy.linalg import expm

from trajmaser.dm.diagonal import NMAX_LIMIT, _nmax_estimate, _tail, check_model, photon_stats
from trajmaser.params import Model

__all__ = ["arrival_series", "cavity_maps", "initial_density", "steady", "time_series"]


# ------------------------------------------------------------------ generators and sectors
def _lindblad(h: sp.spmatrix, cops: list) -> sp.csr_matrix:
    """Row-major Liouvillian of H and collapse operators (all sparse, same dimension)."""
    eye = sp.identity(h.shape[0], format="csr")
    out = -1j * (sp.kron(h, eye) - sp.kron(eye, h.T))
    for c in cops:
        cdc = (c.conj().T @ c).tocsr()
        out = out + sp.kron(c, c.conj()) - 0.5 * sp.kron(cdc, eye) - 0.5 * sp.kron(eye, cdc.T)
    return out.tocsr()


def _operators(model: Model, nmax: int):
    """Atom–cavity and cavity-only Liouvillians and the excitation numbers of the bases."""
    n1 = nmax + 1
    a = sp.diags(np.sqrt(np.arange(1.0, n1)), 1, format="csr")
    ic, ia = sp.identity(n1, format="csr"), sp.identity(2, format="csr")
    sigp = sp.csr_matrix(np.array([[0.0, 1.0], [0.0, 0.0]]))  # |e><g|, e first
    sz = sp.diags([1.0, -1.0], format="csr")
    big_a, sp_big = sp.kron(ia, a), sp.kron(sigp, ic)
    sm_big = sp_big.T.tocsr()
    h = 0.5 * model.detuning * sp.kron(sz, ic) + model.g * (sp_big @ big_a + sm_big @ big_a.T)
    k1, k2 = model.kappa * (1.0 + model.nbar_bath), model.kappa * model.nbar_bath
    cops = [math.sqrt(model.gamma) * sm_big]
    cav = []
    if k1 > 0:
        cops.append(math.sqrt(k1) * big_a)
        cav.append(math.sqrt(k1) * a)
    if k2 > 0:
        cops.append(math.sqrt(k2) * big_a.T.tocsr())
        cav.append(math.sqrt(k2) * a.T.tocsr())
    lfull = _lindblad(h.astype(complex), cops)
    lcav = _lindblad(sp.csr_matrix((n1, n1), dtype=complex), cav)
    nexc_full = np.concatenate([np.arange(n1) + 1, np.arange(n1)])
    return lfull, lcav, nexc_full, np.arange(n1)


class _Sectors:
    """Index sets of the excitation-difference sectors of a row-major Liouvillian."""

    def __init__(self, gen: sp.csr_matrix, nexc: np.ndarray):
        dim = nexc.size
        diff = (nexc[:, None] - nexc[None, :]).ravel()
        self.size = dim * dim
        self.idx = [np.nonzero(diff == d)[0] for d in np.unique(diff)]
        self.blocks = [gen[i][:, i].toarray() for i in self.idx]

    def assemble(self, func) -> sp.csr_matrix:
        """Sparse block-diagonal matrix of func(L_d) over the sectors."""
        return self.assemble_many(lambda b: (func(b),))[0]

    def assemble_many(self, func) -> list[sp.csr_matrix]:
        """Block-diagonal matrices of each member of the tuple func(L_d)."""
        rows = np.concatenate([np.repeat(i, i.size) for i in self.idx])
        cols = np.concatenate([np.tile(i, i.size) for i in self.idx])
        results = [func(blk) for blk in self.blocks]
        return [
            sp.csr_matrix(
                (np.concatenate([r[k].ravel() for r in results]), (rows, cols)),
                shape=(self.size, self.size),
            )
            for k in range(len(results[0]))
        ]


def _expm_int(mat: np.ndarray, t: float) -> tuple[np.ndarray, np.ndarray]:
    """(e^{M t}, ∫_0^t e^{M s} ds) by one augmented exponential."""
    k = mat.shape[0]
    aug = np.zeros((2 * k, 2 * k), dtype=complex)
    aug[:k, :k] = mat * t
    aug[:k, k:] = np.eye(k) * t
    f = expm(aug)
    return f[:k, :k], f[:k, k:]


def _embed_trace(model: Model, nmax: int) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """vec(ρ_c) -> vec(ρ0 ⊗ ρ_c)  and  vec(ρ) -> vec(Tr_atom ρ)."""
    n1 = nmax + 1
    dim = 2 * n1
    c = complex(model.coherence)
    rho0 = np.array([[model.pe, c], [np.conj(c), 1.0 - model.pe]])
    n, m = np.divmod(np.arange(n1 * n1), n1)
    rows, cols, vals = [], [], []
    for a in range(2):
        for b in range(2):
            if rho0[a, b] != 0:
                rows.append((a * n1 + n) * dim + b * n1 + m)
                cols.append(n * n1 + m)
                vals.append(np.full(n.size, rho0[a, b]))
    emb = sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=(dim * dim, n1 * n1),
    )
    tr_rows = np.concatenate([n * n1 + m, n * n1 + m])
    tr_cols = np.concatenate([(a * n1 + n) * dim + a * n1 + m for a in range(2)])
    tr = sp.csr_matrix((np.ones(tr_rows.size), (tr_rows, tr_cols)), shape=(n1 * n1, dim * dim))
    return emb, tr


# ------------------------------------------------------------------ maps
def cavity_maps(model: Model, nmax: int) -> dict:
    """Sparse maps on vec(ρ_c) (row-major, (nmax+1)² entries).

    Returns
    -------
    dict
        ``A`` (one atom), ``A_int`` (∫_0^τ A(s) ds), ``step`` (arrival k -> k+1, pump
        averaged), ``first`` (initial -> just before atom 0), ``occupancy`` (arrival state ->
        continuous-time average), and the helpers ``atom_sectors``, ``cav_sectors``, ``emb``,
        ``tr`` used for partial intervals.
    """
    check_model(model)
    lfull, lcav, nf, nc = _operators(model, nmax)
    sec_a, sec_c = _Sectors(lfull, nf), _Sectors(lcav, nc)
    emb, tr = _embed_trace(model, nmax)
    tau, r = model.tau, model.rate
    prop, integ = sec_a.assemble_many(lambda b: _expm_int(b, tau))
    a_map, a_int = (tr @ prop @ emb).tocsr(), (tr @ integ @ emb).tocsr()
    eye = sp.identity(sec_c.size, format="csr", dtype=complex)
    if model.statistics == "regular":
        gmap, gint = sec_c.assemble_many(lambda b: _expm_int(b, 1.0 / r - tau))
        step, first, occ = gmap @ a_map, eye, r * (a_int + gint @ a_map)
    elif model.statistics == "poisson":
        mu = 1.0 / (1.0 / r - tau)
        res = sec_c.assemble(lambda b: np.linalg.inv(mu * np.eye(b.shape[0]) - b))
        step, first, occ = mu * res @ a_map, eye, r * (a_int + res @ a_map)
    else:
        p, slot = model.p, model.p / r
        if slot < tau:
            raise ValueError(f"binomial slot p/r = {slot:.4g} s shorter than tau = {tau:.4g} s")

        ggap, gint_gap = sec_c.assemble_many(lambda b: _expm_int(b, slot - tau))
        gslot, gint_slot = sec_c.assemble_many(lambda b: _expm_int(b, slot))
        # Σ_j p(1−p)^j e^{G j slot}: block-diagonal, so invert sector by sector
        first = sec_c.assemble(
            lambda b: p * np.linalg.inv(np.eye(b.shape[0]) - (1.0 - p) * expm(b * slot))
        )
        step = first @ ggap @ a_map
        maps_kernel = p * ggap @ a_map + (1.0 - p) * gslot
        occ = (p * (a_int + gint_gap @ a_map) + (1.0 - p) * gint_slot) / slot
    kernel = step if model.statistics != "binomial" else maps_kernel
    return {
        "kernel": kernel.tocsr(),
        "A": a_map,
        "A_int": a_int,
        "step": step.tocsr(),
        "first": first.tocsr(),
        "occupancy": occ.tocsr(),
        "atom_sectors": sec_a,
        "cav_sectors": sec_c,
        "emb": emb,
        "tr": tr,
    }


def initial_density(model: Model, nmax: int) -> np.ndarray:
    """Initial cavity density matrix (thermal at Tb, vacuum, Fock or real coherent α)."""
    n1 = nmax + 1
    kind, val = model.initial.kind, model.initial.value
    if kind != "coherent":
        from trajmaser.dm.diagonal import initial_distribution

        return np.diag(initial_distribution(model, nmax)).astype(complex)
    n = np.arange(n1)
    if val == 0:
        amp = (n == 0).astype(float)
    else:
        logs = n * math.log(abs(val)) - 0.5 * np.array([math.lgamma(k + 1) for k in n])
        amp = np.exp(logs - 0.5 * val * val) * np.sign(val) ** n
    amp = amp / np.linalg.norm(amp)
    return np.outer(amp, amp).astype(complex)


def _initial_support(model: Model) -> int:
    if model.initial.kind == "coherent":
        a2 = model.initial.value**2
        return int(a2 + 10.0 * math.sqrt(a2) + 25)
    from trajmaser.dm.diagonal import _initial_support as diag_support

    return diag_support(model)


# ------------------------------------------------------------------ results
def _fixed_point(step: sp.csr_matrix, n1: int) -> np.ndarray:
    """Trace-one fixed point of a trace-preserving sparse map on vec(ρ_c)."""
    sys = (step - sp.identity(n1 * n1, format="csr")).tolil()
    diag = np.arange(n1) * (n1 + 1)
    sys[0, :] = 0.0
    sys[0, diag] = 1.0
    rhs = np.zeros(n1 * n1, dtype=complex)
    rhs[0] = 1.0
    x = spla.spsolve(sys.tocsc(), rhs).reshape(n1, n1)
    x = 0.5 * (x + x.conj().T)
    return x / np.trace(x).real


def _stats(rho: np.ndarray, omega: float) -> dict:
    p = np.clip(np.real(np.diag(rho)), 0.0, None)
    out = photon_stats(p, omega)
    amean = np.trace(rho @ np.diag(np.sqrt(np.arange(1.0, rho.shape[0])), 1))
    out["a_mean"] = [float(amean.real), float(amean.imag)]
    out["p"] = (p / p.sum()).tolist()
    return out


def steady(model: Model, tol: float = 1e-12, nmax: int | None = None) -> dict:
    """Steady state of the general model (same keys as :func:`trajmaser.dm.steady`).

    Each block also carries ``a_mean`` = [Re, Im] of ⟨a⟩ (zero for diagonal inputs).
    """
    grow = nmax is None
    nm = _nmax_estimate(model, tol) if grow else int(nmax)
    while True:
        maps = cavity_maps(model, nm)
        n1 = nm + 1
        # binomial: the arrival law is the stationary law of the slot-boundary chain
        rho_arr = _fixed_point(maps["kernel"], n1)
        rho_time = (maps["occupancy"] @ rho_arr.ravel()).reshape(n1, n1)
        tail = max(_tail(np.real(np.diag(rho_arr))), _tail(np.real(np.diag(rho_time))))
        if not grow or tail < tol:
            break
        if nm >= NMAX_LIMIT:
            raise ValueError(f"no steady state within nmax={NMAX_LIMIT}; tail={tail:.3g}")
        nm = min(NMAX_LIMIT, int(1.5 * nm) + 5)
    return {
        "arrival": _stats(rho_arr, model.omega),
        "time": _stats(rho_time, model.omega),
        "nmax": nm,
        "tail": tail,
    }


def _rows(rhos: list, nmax: int) -> dict:
    p = np.array([np.real(np.diag(r)) for r in rhos])
    n = np.arange(nmax + 1, dtype=float)
    m1 = p @ n
    lower = np.sqrt(np.arange(1.0, nmax + 1))
    amean = np.array([np.sum(np.diagonal(r, 1) * lower) for r in rhos])
    return {
        "n_mean": m1,
        "n_var": p @ (n * n) - m1 * m1,
        "p": p,
        "a_mean": amean,
        "nmax": nmax,
        "tail": max((_tail(v) for v in p), default=0.0),
    }


def _series_nmax(model: Model, nmax: int | None) -> int:
    if nmax is not None:
        return int(nmax)
    return max(_nmax_estimate(model, 1e-12), _initial_support(model))


def arrival_series(model: Model, indices: Sequence[int], nmax: int | None = None) -> dict:
    """Cavity just before atom k enters (k = 0: first atom), all pump statistics.

    Returns ``n_mean``, ``n_var``, ``p`` (rows), ``a_mean`` (complex ⟨a⟩), ``nmax``, ``tail``.
    """
    idx = np.asarray(indices, dtype=np.int64)
    nm = _series_nmax(model, nmax)
    maps = cavity_maps(model, nm)
    x = maps["first"] @ initial_density(model, nm).ravel()
    rec, wanted = {}, set(idx.tolist())
    for k in range(int(idx.max()) + 1 if idx.size else 0):
        if k in wanted:
            rec[k] = x.reshape(nm + 1, nm + 1).copy()
        x = maps["step"] @ x
    return _rows([rec[k] for k in idx.tolist()], nm)


def time_series(model: Model, times: Sequence[float], nmax: int | None = None) -> dict:
    """Cavity statistics at absolute times t (s), exact, for ``regular`` and ``binomial``.

    ``poisson`` is not available on the general path (``ValueError``).
    """
    if model.statistics == "poisson":
        raise ValueError(
            "time_series with poisson pumping needs a diagonal model (dm.time_series); "
            "the general path offers arrival_series and steady for poisson"
        )
    t = np.asarray(times, dtype=float)
    nm = _series_nmax(model, nmax)
    maps = cavity_maps(model, nm)
    sec_a, sec_c, emb, tr = maps["atom_sectors"], maps["cav_sectors"], maps["emb"], maps["tr"]
    tau = model.tau
    kernel = maps["kernel"]
    period = 1.0 / model.rate if model.statistics == "regular" else model.p / model.rate
    ks = np.floor(t / period + 1e-12).astype(np.int64)
    svals = np.clip(t - ks * period, 0.0, period)
    cur_k, cur = 0, initial_density(model, nm).ravel()
    rows: list = [None] * t.size
    for i in np.argsort(ks):
        while cur_k < ks[i]:
            cur, cur_k = kernel @ cur, cur_k + 1
        s = svals[i]
        if s < tau:
            inside = tr @ (sec_a.assemble(lambda b, s=s: expm(b * s)) @ (emb @ cur))
        else:
            inside = sec_c.assemble(lambda b, s=s: expm(b * (s - tau))) @ (maps["A"] @ cur)
        if model.statistics == "binomial":
            free = sec_c.assemble(lambda b, s=s: expm(b * s)) @ cur
            inside = model.p * inside + (1.0 - model.p) * free
        rows[i] = inside.reshape(nm + 1, nm + 1)
    return _rows(rows, nm)
