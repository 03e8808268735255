"""The density-matrix entry points: validate, choose the path, choose the cut-off.

A model with a diagonal atom state and a diagonal initial field goes to the diagonal path
(:mod:`trajmaser.dm.diagonal`, p(n)); any other to the general path
(:mod:`trajmaser.dm.general`, ρ_c).  Both are exact; the Fock space is truncated at nmax as a
truncated ``a`` does, and the probability left in the top levels is reported as ``tail``.

Conventions (docs/ARCHITECTURE.md): the first atom arrives at t = 0 unless the statistics
says otherwise (binomial: slot k starts at k·p/r and holds an atom with probability p);
"arrival" quantities are the cavity just before an atom enters.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from trajmaser import pump
from trajmaser.dm import diagonal, general
from trajmaser.dm.cutoff import NMAX_LIMIT, grow_nmax, nmax_estimate, series_nmax
from trajmaser.dm.photons import at_rounding
from trajmaser.dm.poisson import poisson_time_series
from trajmaser.params import ConfigError, Model
from trajmaser.rules import check_model, check_nonnegative

__all__ = ["TOL_MIN", "arrival_series", "steady", "time_series", "transient"]

TOL_MIN = 1e-15
"""Smallest Fock-tail tolerance: probabilities summed in double precision carry ~1e-16."""


def _path(model: Model):
    return diagonal if model.is_diagonal else general


def steady(
    model: Model, tol: float = 1e-12, nmax: int | None = None, nmax_limit: int = NMAX_LIMIT
) -> dict:
    """Steady state of the repeated-interaction model, averaged over the pump statistics.

    Parameters
    ----------
    model : Model
        Any valid model (diagonal or general path).
    tol : float
        Largest probability allowed in the top Fock levels, in [`TOL_MIN`, 1); nmax grows
        until it is met, or until the top levels hold only rounding errors of the solve
        (no entry larger in size than the most negative probability, itself below 1e3 tol).
    nmax : int, optional
        Fixed cut-off (no growth; the tail is still reported).
    nmax_limit : int
        Largest cut-off the growth may reach (cost grows like nmax³).

    Returns
    -------
    dict
        ``"arrival"`` (just before an atom enters) and ``"time"`` (continuous-time average):
        each the :func:`trajmaser.dm.photon_stats` keys plus ``"p"`` (list), and on the
        general path ``"a_mean"`` ([Re, Im] of ⟨a⟩); ``"nmax"``; ``"tail"``.

    Raises
    ------
    ConfigError
        For an invalid model, or ``tol`` outside [`TOL_MIN`, 1).
    ValueError
        No steady state below ``nmax_limit`` photons (e.g. inversion without enough loss).
    """
    check_model(model)
    if not TOL_MIN <= tol < 1.0:  # also false for NaN
        raise ConfigError(
            f"--tol (Fock-tail tolerance) = {tol} must be in [{TOL_MIN:g}, 1), e.g. 1e-12 "
            "(probabilities carry rounding errors of about 1e-16)"
        )
    path = _path(model)
    if nmax is not None:
        return path.steady_at(model, int(nmax))
    return grow_nmax(
        lambda nm: path.steady_at(model, nm),
        lambda out: out["tail"],
        model,
        nmax_estimate(model, tol),
        tol,
        nmax_limit,
        settled=lambda out: all(at_rounding(out[b]["p"], 1e3 * tol) for b in ("arrival", "time")),
    )


def arrival_series(model: Model, indices: Sequence[int], nmax: int | None = None) -> dict:
    """Cavity just before atom k enters, for each k in ``indices`` (k = 0: first atom).

    For ``binomial`` the first atom arrives at a geometric slot, so record 0 is the initial
    field evolved over that random number of empty slots.

    Returns
    -------
    dict
        ``n_mean``, ``n_var`` (arrays like ``indices``), ``p`` (rows p(n)), ``nmax``,
        ``tail`` (largest top-level probability over the records); on the general path also
        ``a_mean`` (complex ⟨a⟩).
    """
    check_model(model)
    idx = np.asarray(indices, dtype=np.int64)
    check_nonnegative("atom indices", idx)
    atoms = int(idx.max()) if idx.size else 0  # atoms before the last record
    return _path(model).arrival_series_at(model, idx, series_nmax(model, nmax, atoms))


def time_series(model: Model, times: Sequence[float], nmax: int | None = None) -> dict:
    """Cavity photon statistics at absolute times t (s), the first atom entering at t = 0.

    Exact (matrix exponentials) for slotted statistics (``regular``, ``binomial``) on both
    paths.  ``poisson`` on the diagonal path integrates the renewal delay equation
    (:func:`trajmaser.dm.poisson.poisson_time_series`, relative error < 1e-6 in ⟨n⟩ at its
    default grid).

    Returns
    -------
    dict
        ``n_mean``, ``n_var``, ``p`` (rows), ``nmax``, ``tail`` (+ ``a_mean`` on the general
        path).

    Raises
    ------
    ValueError
        For a statistics without an exact continuous-time series on this path (the message
        says which statistics have one and what this one offers).
    """
    check_model(model)
    t = np.asarray(times, dtype=float)
    check_nonnegative("times", t)
    stats = pump.get(model.statistics)
    values = stats.values(model.pump_values)
    slots = stats.slots(model.rate, values)
    if slots is not None:  # atoms enter at slot starts 0, L, 2L, ... up to the last time
        atoms = int(math.floor(float(t.max()) / slots[0])) + 1 if t.size else 0
        return _path(model).slotted_series_at(model, t, series_nmax(model, nmax, atoms))
    nm = series_nmax(model, nmax)
    if model.is_diagonal and stats.dead_time_rate(model.rate, model.tau, values) is not None:
        return poisson_time_series(model, t, nm)
    raise ValueError(_no_series(model))


def _no_series(model: Model) -> str:
    slotted = [s.name for s in pump.STATISTICS if s.series == "slots"]
    dead = [s.name for s in pump.STATISTICS if s.series == "dead_time"]
    where = ""
    if not model.is_diagonal:
        where = " on the general path (atomic coherence or a coherent field)"
    return (
        f"time_series with {model.statistics} pumping is not available{where}: exact "
        f"continuous-time series exist for {', '.join(slotted)} and, for diagonal models, "
        f"{', '.join(dead)}; for {model.statistics} use steady (its 'time' block is the exact "
        "continuous-time average) and arrival_series"
    )


transient = time_series
