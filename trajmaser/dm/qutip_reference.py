"""The textbook reference: the full atom–cavity Lindblad problem built with qutip.

Independent of :mod:`trajmaser.dm.diagonal` (which works on the reduced excitation blocks):
here the Liouvillian of H_I = (Δ/2)σz + g(σ+a + σ−a†) with γD[σ−] + κ(1+n_b)D[a] + κn_bD[a†]
on the whole atom ⊗ cavity space comes from ``qutip.liouvillian``; one atom's map on the
cavity, Tr_atom e^{Lτ}(ρ0 ⊗ ·), is propagated from every cavity basis input
(``expm_multiply`` of qutip's sparse Liouvillian, the integral ∫_0^s by an augmented
generator) and partially traced; the empty-cavity propagator is the exponential of qutip's
cavity Liouvillian; pump averages follow docs/PHYSICS.md (regular e^{Lc(1/r−τ)}, poisson
μ(μ − Lc)^{-1}, binomial slot chain).  Diagonal models are solved on the diagonal of the
cavity density matrix (an invariant subspace of every map), others on the whole matrix.

Returns the layouts of :func:`trajmaser.dm.steady`, :func:`~trajmaser.dm.arrival_series` and
:func:`~trajmaser.dm.time_series` (the latter for regular and binomial pumping; the Poisson
time series has no closed form).  Meant for small nmax (dimension (2(nmax+1))²).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import qutip as qt
import scipy.sparse as sp
from scipy.linalg import expm, lu_factor, lu_solve
from scipy.sparse.linalg import expm_multiply

from trajmaser.dm.diagonal import initial_distribution, photon_stats
from trajmaser.dm.photons import population_rows, tail
from trajmaser.params import Model
from trajmaser.rules import check_model

__all__ = ["arrival_series", "cavity_qobj", "steady", "time_series"]

NMAX_START = 10
NMAX_LIMIT = 80


class _Problem:
    """qutip Liouvillians of one model and the cavity maps built from them."""

    def __init__(self, model: Model, nmax: int):
        check_model(model)
        self.model, self.nmax, self.n1 = model, int(nmax), int(nmax) + 1
        im = model
        self.diagonal = model.is_diagonal
        n1 = self.n1
        a = qt.tensor(qt.qeye(2), qt.destroy(n1))
        sp_ = qt.tensor(qt.destroy(2), qt.qeye(n1))  # |e><g| with |e> = basis(2, 0)
        sm = sp_.dag()
        h = 0.5 * im.detuning * (sp_ * sm - sm * sp_) + im.g * (sp_ * a + sm * a.dag())
        k1, k2 = im.kappa * (1 + im.nbar_bath), im.kappa * im.nbar_bath
        cops = [math.sqrt(im.gamma) * sm, math.sqrt(k1) * a, math.sqrt(k2) * a.dag()]
        self.lfull = qt.liouvillian(h, cops).data.as_scipy().tocsc()
        ac = qt.destroy(n1)
        c1, c2 = model.kappa * (1 + model.nbar_bath), model.kappa * model.nbar_bath
        lcav = qt.liouvillian(0 * ac, [math.sqrt(c1) * ac, math.sqrt(c2) * ac.dag()]).full()
        self.rho_atom = np.array([[im.pe, im.coherence], [np.conj(im.coherence), 1 - im.pe]])
        if self.diagonal:
            self.keep = np.arange(n1) * (n1 + 1)  # column-stacked diagonal entries
        else:
            self.keep = np.arange(n1 * n1)
        self.lcav = np.real_if_close(lcav[np.ix_(self.keep, self.keep)])
        self.dim = self.keep.size

    # ---------------------------------------------------------------- cavity maps
    def _inputs(self) -> np.ndarray:
        """Column-stacked ρ_atom ⊗ E for every kept cavity basis element E."""
        n1 = self.n1
        cols = []
        for idx in self.keep:
            e = np.zeros((n1, n1), complex)
            e[idx % n1, idx // n1] = 1.0
            cols.append(np.kron(self.rho_atom, e).ravel(order="F"))
        return np.stack(cols, axis=1)

    def _trace_atom(self, vecs: np.ndarray) -> np.ndarray:
        """Kept cavity entries of Tr_atom of column-stacked atom ⊗ cavity vectors."""
        n1 = self.n1
        out = np.empty((self.dim, vecs.shape[1]), complex)
        for c in range(vecs.shape[1]):
            rho = vecs[:, c].reshape(2 * n1, 2 * n1, order="F").reshape(2, n1, 2, n1)
            out[:, c] = np.einsum("aiaj->ij", rho).ravel(order="F")[self.keep]
        return out

    def _real(self, mat: np.ndarray) -> np.ndarray:
        return np.real(mat) if self.diagonal else mat

    def atom_map(self, s: float) -> tuple[np.ndarray, np.ndarray]:
        """(A(s), ∫_0^s A(u) du) on the kept cavity entries."""
        big = self.lfull.shape[0]
        aug = sp.bmat([[self.lfull, sp.identity(big)], [None, sp.csc_matrix((big, big))]])
        inp = self._inputs()
        start = np.vstack([np.zeros_like(inp), inp])
        out = expm_multiply(aug.tocsc() * s, start)
        prop = expm_multiply(self.lfull * s, inp)
        return self._real(self._trace_atom(prop)), self._real(self._trace_atom(out[:big]))

    def gap(self, t: float) -> tuple[np.ndarray, np.ndarray]:
        """(e^{Lc t}, ∫_0^t e^{Lc u} du) on the kept cavity entries."""
        d = self.dim
        aug = np.zeros((2 * d, 2 * d), dtype=self.lcav.dtype)
        aug[:d, :d], aug[:d, d:] = self.lcav * t, np.eye(d) * t
        f = expm(aug)
        return f[:d, :d], f[:d, d:]

    def maps(self) -> dict:
        """Arrival step, first-arrival map and arrival → time-average occupancy."""
        m, eye = self.model, np.eye(self.dim)
        a, a_int = self.atom_map(m.tau)
        r, tau = m.rate, m.tau
        if m.statistics == "regular":
            g, g_int = self.gap(1 / r - tau)
            return {"A": a, "step": g @ a, "first": eye, "occ": r * (a_int + g_int @ a)}
        if m.statistics == "poisson":
            mu = 1 / (1 / r - tau)
            res = np.linalg.solve(mu * eye - self.lcav, eye)
            return {"A": a, "step": mu * res @ a, "first": eye, "occ": r * (a_int + res @ a)}
        p, slot = m.p, m.p / r
        g, g_int = self.gap(slot - tau)
        gs, gs_int = self.gap(slot)
        geo = p * np.linalg.solve(eye - (1 - p) * gs, eye)
        chain = p * g @ a + (1 - p) * gs
        occ = (p * (a_int + g_int @ a) + (1 - p) * gs_int) / slot
        return {"A": a, "step": geo @ g @ a, "first": geo, "occ": occ, "chain": chain}

    # ---------------------------------------------------------------- states
    def initial(self) -> np.ndarray:
        """Kept entries of the initial cavity state."""
        m, n1 = self.model, self.n1
        if m.initial.kind == "coherent" and m.initial.value != 0:
            rho = qt.coherent_dm(n1, m.initial.value).full()
        else:
            rho = np.diag(initial_distribution(m, self.nmax)).astype(complex)
        return self._real(rho.ravel(order="F")[self.keep])

    def distribution(self, vec: np.ndarray) -> np.ndarray:
        """p(n) of kept cavity entries."""
        if self.diagonal:
            return np.real(vec)
        return np.real(vec.reshape(self.n1, self.n1, order="F").diagonal())


def _fixed_point(mat: np.ndarray, prob: _Problem) -> np.ndarray:
    """Stationary state (eigenvalue 1) normalised to unit trace."""
    d = mat.shape[0]
    sys_ = mat - np.eye(d)
    trace_row = np.zeros(d, dtype=mat.dtype)
    trace_row[np.arange(prob.n1) * (prob.n1 + 1) if not prob.diagonal else np.arange(d)] = 1.0
    sys_[-1, :] = trace_row
    rhs = np.zeros(d, dtype=mat.dtype)
    rhs[-1] = 1.0
    return lu_solve(lu_factor(sys_), rhs)


def steady(
    model: Model,
    tol: float = 1e-12,
    nmax: int | None = None,
    *,
    nmax_limit: int = NMAX_LIMIT,
) -> dict:
    """Steady states just before an atom ("arrival") and averaged over time ("time").

    Parameters
    ----------
    model : Model
    tol : float
        Largest probability allowed in the top Fock levels; nmax grows (× 1.5 from
        ``NMAX_START``) until it is met, up to ``nmax_limit``.
    nmax : int, optional
        Fixed cut-off (no growth).

    Returns
    -------
    dict
        Same layout as :func:`trajmaser.dm.steady`: ``arrival`` and ``time`` blocks (the
        :func:`~trajmaser.dm.photon_stats` keys and ``p``), ``nmax``, ``tail``.
    """
    grow = nmax is None
    nm = NMAX_START if grow else int(nmax)
    while True:
        prob = _Problem(model, nm)
        mp = prob.maps()
        x = _fixed_point(mp.get("chain", mp["step"]), prob)
        p_arr = prob.distribution(x)
        p_time = prob.distribution(mp["occ"] @ x)
        top = max(tail(p_arr), tail(p_time))
        if not grow or top < tol:
            break
        if nm >= nmax_limit:
            raise ValueError(
                f"qutip reference: probability {top:.3g} in the top levels at nmax = {nm} "
                f"(nmax_limit = {nmax_limit}); the full Liouvillian is meant for small fields"
            )
        nm = min(nmax_limit, int(1.5 * nm) + 1)
    out = {}
    for key, p in (("arrival", p_arr), ("time", p_time)):
        out[key] = photon_stats(p, model.omega)
        out[key]["p"] = (p / p.sum()).tolist()
    out["nmax"], out["tail"] = nm, top
    return out


def arrival_series(model: Model, indices: Sequence[int], nmax: int = 20) -> dict:
    """The cavity just before atom k, for each k in ``indices`` (layout of
    :func:`trajmaser.dm.arrival_series`: ``n_mean``, ``n_var``, ``p``, ``nmax``, ``tail``)."""
    idx = np.asarray(indices, dtype=np.int64)
    prob = _Problem(model, nmax)
    mp = prob.maps()
    x = mp["first"] @ prob.initial()
    rec, k = {}, 0
    for want in np.unique(idx):
        while k < want:
            x, k = mp["step"] @ x, k + 1
        rec[int(want)] = prob.distribution(x)
    return population_rows([rec[int(i)] for i in idx], nmax)


def time_series(model: Model, times: Sequence[float], nmax: int = 20) -> dict:
    """The cavity at times t (s), the first atom entering at t = 0 (regular, binomial).

    Layout of :func:`trajmaser.dm.time_series`.  Raises ``ValueError`` for poisson pumping.
    """
    if model.statistics == "poisson":
        raise ValueError(
            "the qutip reference has no Poisson time series (no closed form); use "
            "trajmaser.dm.time_series, or arrival_series and steady"
        )
    t = np.asarray(times, dtype=float)
    prob = _Problem(model, nmax)
    mp = prob.maps()
    if model.statistics == "regular":
        period, kernel = 1 / model.rate, mp["step"]
    else:
        period, kernel = model.p / model.rate, mp["chain"]
    x, k = prob.initial(), 0
    rows = [None] * t.size
    for i in np.argsort(t, kind="stable"):
        kt = int(math.floor(t[i] / period + 1e-12))
        while k < kt:
            x, k = kernel @ x, k + 1
        s = min(max(t[i] - kt * period, 0.0), period)
        if s < model.tau:
            inside = prob.atom_map(s)[0] @ x if s > 0 else x
        else:
            inside = prob.gap(s - model.tau)[0] @ (mp["A"] @ x)
        if model.statistics == "binomial":
            inside = model.p * inside + (1 - model.p) * (prob.gap(s)[0] @ x)
        rows[i] = prob.distribution(inside)
    return population_rows(rows, nmax)


def cavity_qobj(state) -> qt.Qobj:
    """A cavity state as a qutip ``Qobj``: p(n) (list or 1-D array, e.g. ``steady(m)["time"]
    ["p"]`` or a row of a series' ``p``) becomes the diagonal density matrix; a square array
    is taken as the density matrix itself."""
    arr = np.asarray(state)
    return qt.Qobj(np.diag(arr) if arr.ndim == 1 else arr)
