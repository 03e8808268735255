"""Density matrices, diagonal path: a diagonal ρ0 and initial field keep the cavity diagonal.

The cavity is carried as p(n), n = 0 … nmax.  The per-atom map A and its time integral come
from :mod:`trajmaser.dm.populations`; the pump-averaged gap maps come from the statistics in
:mod:`trajmaser.pump`, given the dense birth–death generator G of the empty cavity.  The
functions here work at a fixed cut-off; :mod:`trajmaser.dm.solve` validates, dispatches and
grows nmax.  "Arrival" quantities are the cavity just before an atom enters.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy.linalg import expm, lu_factor, lu_solve

from trajmaser import pump
from trajmaser.dm.initial import initial_distribution
from trajmaser.dm.photons import photon_stats, population_rows, tail
from trajmaser.dm.populations import atom_maps, embed_trace, gap_generator, interaction_generator
from trajmaser.params import Model
from trajmaser.rules import check_model

__all__ = [
    "DiagonalMaps",
    "arrival_series_at",
    "fixed_point",
    "pump_maps",
    "slotted_series_at",
    "steady_at",
]


class DenseGap:
    """The empty-cavity generator G on p(n) as one dense block (see pump.base.GapAlgebra)."""

    def __init__(self, gen: np.ndarray):
        self.gen = gen
        self.eye = np.eye(gen.shape[0])

    def blockwise(self, func) -> tuple:
        """``func(G)``."""
        return func(self.gen)


@dataclass(frozen=True)
class DiagonalMaps:
    """All matrices of one (model, nmax) on p(0 … nmax).

    Attributes
    ----------
    nmax : int
    A, A_int : ndarray
        Per-atom map and ∫_0^τ A(s) ds.
    G : ndarray
        Generator of the empty cavity.
    gap, first, step, occupancy, chain : ndarray
        The pump-averaged maps of :class:`trajmaser.pump.AveragedMaps`.
    """

    nmax: int
    A: np.ndarray
    A_int: np.ndarray
    G: np.ndarray
    gap: np.ndarray
    first: np.ndarray
    step: np.ndarray
    occupancy: np.ndarray
    chain: np.ndarray


def pump_maps(model: Model, nmax: int, atom_map: np.ndarray | None = None) -> DiagonalMaps:
    """Per-atom and pump-averaged maps of a diagonal model at cut-off ``nmax``.

    With ``atom_map`` (a precomputed A, e.g. A_e + A_g) the dense atom exponential is skipped;
    ``A_int`` and ``occupancy`` are then None.
    """
    check_model(model)
    if atom_map is None:
        a, a_int = atom_maps(model, nmax)
    else:
        a, a_int = atom_map, np.zeros_like(atom_map)
    gen = gap_generator(model, nmax)
    stats = pump.get(model.statistics)
    values = stats.values(model.pump_values)
    m = stats.averaged_maps(DenseGap(gen), a, a_int, model.rate, model.tau, values)
    if atom_map is not None:
        a_int, m = None, replace(m, occupancy=None)
    return DiagonalMaps(nmax, a, a_int, gen, m.gap, m.first, m.step, m.occupancy, m.chain)


def fixed_point(mat: np.ndarray) -> np.ndarray:
    """Stationary vector of a column-stochastic matrix (eigenvalue 1), normalised to 1."""
    n1 = mat.shape[0]
    sys = mat - np.eye(n1)
    sys[-1, :] = 1.0
    rhs = np.zeros(n1)
    rhs[-1] = 1.0
    p = lu_solve(lu_factor(sys), rhs)
    return p / p.sum()


def steady_at(model: Model, nmax: int) -> dict:
    """Steady state at a fixed cut-off (keys of :func:`trajmaser.dm.steady`)."""
    m = pump_maps(model, nmax)
    p_arr = fixed_point(m.chain)
    p_time = m.occupancy @ p_arr
    out = {}
    for key, p in (("arrival", p_arr), ("time", p_time)):
        out[key] = photon_stats(p, model.omega)
        out[key]["p"] = (p / p.sum()).tolist()
    out["nmax"], out["tail"] = nmax, max(tail(p_arr), tail(p_time))
    return out


def arrival_series_at(model: Model, indices: np.ndarray, nmax: int) -> dict:
    """Cavity just before atom k enters, for each k in ``indices`` (validated, ≥ 0)."""
    m = pump_maps(model, nmax)
    p = m.first @ initial_distribution(model, nmax)
    rec = {}
    wanted = set(indices.tolist())
    for k in range(int(indices.max()) + 1 if indices.size else 0):
        if k in wanted:
            rec[k] = p.copy()
        p = m.step @ p
    return population_rows([rec[k] for k in indices.tolist()], nmax)


def slotted_series_at(model: Model, times: np.ndarray, nmax: int) -> dict:
    """Cavity at absolute times t ≥ 0 for a slotted statistics (exact, matrix exponentials).

    Slot k starts at k·length and holds an atom with probability q; ``chain`` maps one slot
    start to the next, and inside a slot the cavity is rebuilt at the offset s.
    """
    m = pump_maps(model, nmax)
    stats = pump.get(model.statistics)
    period, q = stats.slots(model.rate, stats.values(model.pump_values))
    emb, tr = embed_trace(model, nmax)
    gen_l = interaction_generator(model, nmax).toarray()
    ks = np.floor(times / period + 1e-12).astype(np.int64)
    svals = np.clip(times - ks * period, 0.0, period)
    cur_k, cur = 0, initial_distribution(model, nmax)
    rows: list = [None] * times.size
    for i in np.argsort(ks):
        while cur_k < ks[i]:
            cur, cur_k = m.chain @ cur, cur_k + 1
        s = svals[i]
        if s < model.tau:
            inside = tr @ expm(gen_l * s) @ (emb @ cur)
        else:
            inside = expm(m.G * (s - model.tau)) @ (m.A @ cur)
        if q < 1.0:
            inside = q * inside + (1.0 - q) * (expm(m.G * s) @ cur)
        rows[i] = inside
    return population_rows(rows, nmax)
