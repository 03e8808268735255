"""Density matrices, general path: coherent atoms, coherent fields, detuning.

The cavity density matrix ρ_c (Fock cut-off nmax) is carried between atoms as vec(ρ_c).
Every propagator is built sector by sector (:mod:`trajmaser.dm.sectors`) with dense matrix
exponentials and assembled into sparse maps; the pump-averaged gap maps come from the
statistics in :mod:`trajmaser.pump`, given the sectors of the empty-cavity Liouvillian.  The
functions here work at a fixed cut-off; :mod:`trajmaser.dm.solve` validates, dispatches and
grows nmax.

Phase convention: everything is written in the frame rotating at the cavity frequency Ω
(for field and atom), in which H_I = (Δ/2)σz + g(σ+a + σ−a†) and the empty cavity has no
Hamiltonian.  Each atom's ρ0 (with ⟨e|ρ0|g⟩ = ``model.coherence``) is given in that frame at
the moment the atom enters: every atom carries the same phase relative to the field.
A coherent initial field α is real in the same frame.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from scipy.linalg import expm

from trajmaser import pump
from trajmaser.dm.initial import initial_density
from trajmaser.dm.photons import density_rows, photon_stats, tail
from trajmaser.dm.sectors import SectorGap, Sectors, embed_trace, liouvillians
from trajmaser.params import Model
from trajmaser.pump.gapmath import exp_int
from trajmaser.rules import check_model

__all__ = [
    "arrival_series_at",
    "cavity_maps",
    "fixed_point",
    "slotted_series_at",
    "steady_at",
]


def cavity_maps(model: Model, nmax: int) -> dict:
    """Sparse maps on vec(ρ_c) (row-major, (nmax+1)² entries).

    Returns
    -------
    dict
        ``A`` (one atom), ``A_int`` (∫_0^τ A(s) ds), the pump-averaged ``gap``, ``step``
        (arrival k -> k+1), ``first`` (initial -> just before atom 0), ``occupancy`` (arrival
        state -> continuous-time average) and ``chain`` (its fixed point is the arrival
        state), and the helpers ``atom_sectors``, ``cav_sectors``, ``emb``, ``tr`` used for
        partial intervals.
    """
    check_model(model)
    lfull, lcav, nf, nc = liouvillians(model, nmax)
    sec_a, sec_c = Sectors(lfull, nf), Sectors(lcav, nc)
    emb, tr = embed_trace(model, nmax)
    prop, integ = sec_a.assemble_many(lambda b: exp_int(b, model.tau))
    a_map, a_int = (tr @ prop @ emb).tocsr(), (tr @ integ @ emb).tocsr()
    stats = pump.get(model.statistics)
    values = stats.values(model.pump_values)
    m = stats.averaged_maps(SectorGap(sec_c), a_map, a_int, model.rate, model.tau, values)
    return {
        "A": a_map,
        "A_int": a_int,
        "gap": m.gap.tocsr(),
        "step": m.step.tocsr(),
        "first": m.first.tocsr(),
        "occupancy": m.occupancy.tocsr(),
        "chain": m.chain.tocsr(),
        "atom_sectors": sec_a,
        "cav_sectors": sec_c,
        "emb": emb,
        "tr": tr,
    }


def fixed_point(step: sp.csr_matrix, n1: int) -> np.ndarray:
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


def steady_at(model: Model, nmax: int) -> dict:
    """Steady state at a fixed cut-off; each block also carries ``a_mean`` = [Re, Im] ⟨a⟩."""
    maps = cavity_maps(model, nmax)
    n1 = nmax + 1
    rho_arr = fixed_point(maps["chain"], n1)
    rho_time = (maps["occupancy"] @ rho_arr.ravel()).reshape(n1, n1)
    return {
        "arrival": _stats(rho_arr, model.omega),
        "time": _stats(rho_time, model.omega),
        "nmax": nmax,
        "tail": max(tail(np.real(np.diag(rho_arr))), tail(np.real(np.diag(rho_time)))),
    }


def arrival_series_at(model: Model, indices: np.ndarray, nmax: int) -> dict:
    """Cavity just before atom k enters (k = 0: first atom); adds ``a_mean`` (complex ⟨a⟩)."""
    maps = cavity_maps(model, nmax)
    x = maps["first"] @ initial_density(model, nmax).ravel()
    rec, wanted = {}, set(indices.tolist())
    for k in range(int(indices.max()) + 1 if indices.size else 0):
        if k in wanted:
            rec[k] = x.reshape(nmax + 1, nmax + 1).copy()
        x = maps["step"] @ x
    return density_rows([rec[k] for k in indices.tolist()], nmax)


def slotted_series_at(model: Model, times: np.ndarray, nmax: int) -> dict:
    """Cavity at absolute times t ≥ 0 for a slotted statistics (exact)."""
    maps = cavity_maps(model, nmax)
    stats = pump.get(model.statistics)
    period, q = stats.slots(model.rate, stats.values(model.pump_values))
    sec_a, sec_c, emb, tr = maps["atom_sectors"], maps["cav_sectors"], maps["emb"], maps["tr"]
    tau, chain = model.tau, maps["chain"]
    ks = np.floor(times / period + 1e-12).astype(np.int64)
    svals = np.clip(times - ks * period, 0.0, period)
    cur_k, cur = 0, initial_density(model, nmax).ravel()
    rows: list = [None] * times.size
    for i in np.argsort(ks):
        while cur_k < ks[i]:
            cur, cur_k = chain @ cur, cur_k + 1
        s = svals[i]
        if s < tau:
            inside = tr @ (sec_a.assemble(lambda b, s=s: expm(b * s)) @ (emb @ cur))
        else:
            inside = sec_c.assemble(lambda b, s=s: expm(b * (s - tau))) @ (maps["A"] @ cur)
        if q < 1.0:
            free = sec_c.assemble(lambda b, s=s: expm(b * s)) @ cur
            inside = q * inside + (1.0 - q) * free
        rows[i] = inside.reshape(nmax + 1, nmax + 1)
    return density_rows(rows, nmax)
