"""The Fock cut-off nmax: first estimate and the one growth loop of every steady solver."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import numpy as np

from trajmaser.dm.analytic import fjm_distribution
from trajmaser.dm.initial import initial_support
from trajmaser.params import Model

__all__ = ["NMAX_LIMIT", "grow_nmax", "nmax_estimate", "series_nmax"]

NMAX_LIMIT = 1500  # dense exponentials of size ~4·nmax: nmax = 1500 takes minutes
T = TypeVar("T")


def nmax_estimate(model: Model, tol: float) -> int:
    """First guess of nmax: where an FJM-like distribution falls below tol (at least 20 and,
    for a thermal or Fock initial field, its support)."""
    p = fjm_distribution(model.nex, model.pe, model.g * model.tau, model.nbar_bath, NMAX_LIMIT)
    tail = np.cumsum(p[::-1])[::-1]
    above = np.nonzero(tail > tol * 1e-3)[0]
    n_est = int(above[-1]) if above.size else 0
    held = initial_support(model) if model.initial.kind != "coherent" else 5
    return max(20, int(1.2 * n_est) + 10, held)


def series_nmax(model: Model, nmax: int | None, atoms: int | None = None) -> int:
    """The cut-off of a time or arrival series: ``nmax`` or the estimate (initial field held).

    With no thermal bath the photon number never exceeds the initial field's support plus
    one photon per atom, so a series over at most ``atoms`` atoms needs no more levels than
    that (an inverted medium would otherwise be estimated at its unbounded steady state).
    """
    if nmax is not None:
        return int(nmax)
    held = initial_support(model)
    est = max(nmax_estimate(model, 1e-12), held)
    if atoms is not None and model.nbar_bath == 0.0:
        est = min(est, held + int(atoms) + 1)
    return est


def grow_nmax(
    solve: Callable[[int], T],
    tail_of: Callable[[T], float],
    model: Model,
    start: int,
    tol: float,
    nmax_limit: int = NMAX_LIMIT,
    settled: Callable[[T], bool] | None = None,
) -> T:
    """Solve at growing cut-offs until the probability in the top levels is below ``tol``
    (or ``settled(out)``: a larger cut-off cannot do better, e.g. the tail is rounding).

    Starts at min(start, nmax_limit) and grows by 1.5 nmax + 5, never beyond ``nmax_limit``.

    Raises
    ------
    ValueError
        If the tail is still above ``tol`` at ``nmax_limit`` (the message says why the field
        may have no steady state and what to change).
    """
    nm = min(int(start), int(nmax_limit))
    while True:
        out = solve(nm)
        tail = tail_of(out)
        if tail < tol or (settled is not None and settled(out)):
            return out
        if nm >= nmax_limit:
            raise ValueError(_no_steady_state(model, nmax_limit, tail))
        nm = min(int(nmax_limit), int(1.5 * nm) + 5)


def _no_steady_state(model: Model, nmax_limit: int, tail: float) -> str:
    why = ""
    if model.pe > 0.5:
        why = (
            f"the atoms are inverted (pe = {model.pe:.4g} > 1/2, negative temperature "
            f"Tq/Tb = {model.tq_over_tb:.4g}), so the field has no thermal steady state "
            "and masing drives it to large photon numbers; "
        )
    return (
        f"{why}no converged steady state within nmax_limit={nmax_limit} photons "
        f"(pe={model.pe:.6g}, Nex={model.nex:.4g}): probability {tail:.3g} in the top "
        "levels; raise nmax_limit or tol if the field is large but bounded"
    )
