"""Generators of the diagonal path: the atom–cavity state on populations and block coherences.

With a diagonal atom state ρ0 and a diagonal initial cavity (any detuning) the cavity stays
diagonal.  During an interaction the atom–cavity state lives on the populations
P_e(n) = ⟨e,n|ρ|e,n⟩, P_g(n) = ⟨g,n|ρ|g,n⟩ and the block coherences C(n) = ⟨e,n|ρ|g,n+1⟩:
4·nmax + 2 real numbers, on which the Liouvillian of H_I = (Δ/2)σz + g(σ+a + σ−a†) with
γ D[σ−] + κ(1+n_b) D[a] + κ n_b D[a†] closes exactly.  The Fock space is truncated at nmax
exactly as a truncated ``a`` does (a†|nmax⟩ = 0), so every map conserves probability.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from trajmaser.params import Model
from trajmaser.pump.gapmath import propagate_with_integral
from trajmaser.rules import check_model

__all__ = ["atom_maps", "embed_trace", "gap_generator", "interaction_generator"]


def interaction_generator(model: Model, nmax: int) -> sp.csr_matrix:
    """Real generator L of one interaction on (P_e(0..nmax), P_g(0..nmax), Re C, Im C).

    C(n) = ⟨e,n|ρ|g,n+1⟩ for n = 0 … nmax−1; the vector has 4·nmax + 2 entries.  L is the
    exact restriction of the Lindblad generator (docs/PHYSICS.md) truncated at nmax.
    """
    check_model(model)
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
    check_model(model)
    n1 = int(nmax) + 1
    n = np.arange(n1, dtype=float)
    k1, k2 = model.kappa * (1.0 + model.nbar_bath), model.kappa * model.nbar_bath
    up = np.where(np.arange(n1) < nmax, k2 * (n + 1.0), 0.0)
    gen = np.diag(-k1 * n - up)
    gen += np.diag(k1 * n[1:], 1) + np.diag(up[:-1], -1)
    return gen


def embed_trace(model: Model, nmax: int) -> tuple[np.ndarray, np.ndarray]:
    """E: p -> (pe p, (1−pe) p, 0, 0);  T: state -> P_e + P_g."""
    n1 = nmax + 1
    emb = np.zeros((4 * nmax + 2, n1))
    emb[:n1] = model.pe * np.eye(n1)
    emb[n1 : 2 * n1] = (1.0 - model.pe) * np.eye(n1)
    tr = np.zeros((n1, 4 * nmax + 2))
    tr[:, :n1] = np.eye(n1)
    tr[:, n1 : 2 * n1] = np.eye(n1)
    return emb, tr


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
    check_model(model)
    emb, tr = embed_trace(model, nmax)
    gen = interaction_generator(model, nmax).toarray()
    prop, integ = propagate_with_integral(gen, emb, s)
    return tr @ prop, tr @ integ
