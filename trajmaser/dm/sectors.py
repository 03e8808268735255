"""Liouvillians of the general path on vec(ρ) and their excitation-difference sectors.

All generators conserve the difference of excitation numbers between the ket and the bra,
d = (n + [atom e]) − (m + [atom e]) for the element ⟨a,n|ρ|b,m⟩, so the atom–cavity
Liouvillian (dimension (2(nmax+1))²) splits exactly into sectors of size ≤ 4(nmax+1), and so
does the empty-cavity Liouvillian (sector d = n − m).  :class:`Sectors` applies a function of
a dense block to every sector and assembles a sparse block-diagonal map.

Vectorisation is row-major: element (i, j) of a D×D matrix sits at i·D + j; the atom is the
first tensor factor (index a·(nmax+1) + n, a = 0 for e, 1 for g).
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp

from trajmaser.params import Model

__all__ = ["SectorGap", "Sectors", "embed_trace", "lindblad", "liouvillians"]


def lindblad(h: sp.spmatrix, cops: list) -> sp.csr_matrix:
    """Row-major Liouvillian of H and collapse operators (all sparse, same dimension)."""
    eye = sp.identity(h.shape[0], format="csr")
    out = -1j * (sp.kron(h, eye) - sp.kron(eye, h.T))
    for c in cops:
        cdc = (c.conj().T @ c).tocsr()
        out = out + sp.kron(c, c.conj()) - 0.5 * sp.kron(cdc, eye) - 0.5 * sp.kron(eye, cdc.T)
    return out.tocsr()


def liouvillians(model: Model, nmax: int):
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
    lfull = lindblad(h.astype(complex), cops)
    lcav = lindblad(sp.csr_matrix((n1, n1), dtype=complex), cav)
    nexc_full = np.concatenate([np.arange(n1) + 1, np.arange(n1)])
    return lfull, lcav, nexc_full, np.arange(n1)


class Sectors:
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


def embed_trace(model: Model, nmax: int) -> tuple[sp.csr_matrix, sp.csr_matrix]:
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


class SectorGap:
    """The empty-cavity Liouvillian by sectors (see pump.base.GapAlgebra)."""

    def __init__(self, sectors: Sectors):
        self.sectors = sectors
        self.eye = sp.identity(sectors.size, format="csr", dtype=complex)

    def blockwise(self, func) -> tuple:
        """Block-diagonal sparse maps of each member of ``func(L_d)`` over the sectors."""
        return tuple(self.sectors.assemble_many(func))
