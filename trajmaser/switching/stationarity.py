"""Is a run's steady window stationary?  Exact, from the density-matrix chain.

The cavity just before atom b is M^b F p0 (p0 the initial field, F the map to the first
arrival, M the step matrix of :func:`trajmaser.dm.switching.step_matrix`).  Its distance from
the stationary law π is the largest of the total-variation distance and the relative errors
of n̄ and Var n (the moments the summaries report; a far-away peak of tiny weight barely moves
the total variation but can move the variance a lot).  The smallest burn-in with distance ≤
``STATIONARY_TV`` is found by bisection over binary powers of M (the distance decays with b;
its slowest rate is the relaxation of :func:`trajmaser.dm.switching.relaxation_atoms`).
Models with coherent atoms or fields use the relaxation time alone: distance
e^{−burn_in / relaxation}.
"""

from __future__ import annotations

import math

import numpy as np

from trajmaser.dm import switching as exact
from trajmaser.params import Model, RunParams

__all__ = ["STATIONARY_TV", "stationarity", "stationarity_warning"]

STATIONARY_TV = 1e-3  # distance below which the state counts as stationary


def _moments(p: np.ndarray, n: np.ndarray) -> tuple[float, float]:
    m1 = float(p @ n)
    return m1, float(p @ (n * n)) - m1 * m1


def _distance(p: np.ndarray, pi: np.ndarray) -> float:
    """max(total variation, relative error of n̄, relative error of Var n) of p against π."""
    n = np.arange(pi.size, dtype=float)
    (m, v), (m0, v0) = _moments(p, n), _moments(pi, n)
    tv = 0.5 * float(np.abs(p - pi).sum())
    return max(tv, abs(m - m0) / max(m0, 1e-300), abs(v - v0) / max(v0, 1e-300))


def _square(mat: np.ndarray) -> np.ndarray:
    """M² renormalised to unit column sums (rounding would otherwise double at every squaring)."""
    sq = mat @ mat
    return sq / sq.sum(axis=0)


def _needed_burn_in(step: np.ndarray, p0: np.ndarray, pi: np.ndarray, tol: float) -> int:
    """Smallest b with distance(M^b p0, π) ≤ tol, by bisection over binary powers of M."""
    if _distance(p0, pi) <= tol:
        return 0
    powers = [step]
    while _distance(powers[-1] @ p0, pi) > tol:
        if len(powers) > 62:
            return 2**62
        powers.append(_square(powers[-1]))
    b, v = 0, p0
    for j in range(len(powers) - 1, -1, -1):
        w = powers[j] @ v
        w /= w.sum()
        if _distance(w, pi) > tol:
            v, b = w, b + 2**j
    return b + 1


def _after(step: np.ndarray, p0: np.ndarray, atoms: int) -> np.ndarray:
    v, mat, k = p0, step, int(atoms)
    while k:
        if k & 1:
            v = mat @ v
            v /= v.sum()
        k >>= 1
        if k:
            mat = _square(mat)
    return v


def stationarity(model: Model, run: RunParams, *, tol: float = STATIONARY_TV) -> dict:
    """How far a run's steady window starts from the stationary field.

    Parameters
    ----------
    model : Model
    run : RunParams
        Uses ``burn_in`` and ``atoms``.
    tol : float
        Distance counted as stationary.

    Returns
    -------
    dict
        ``relaxation_atoms``, ``burn_in``, ``window`` (atoms − burn_in), ``distance`` of the
        cavity just before atom ``burn_in`` from the stationary arrival law: the largest of
        its total-variation distance and the relative errors of n̄ and Var n (for
        non-diagonal models the bound e^{−burn_in/relaxation}), ``needed_burn_in`` (the
        smallest burn-in with distance ≤ tol, found by bisection over binary powers of M;
        non-diagonal models: relaxation · ln(1/tol)), ``stationary`` (distance ≤ tol).
    """
    from trajmaser import dm
    from trajmaser.dm.atomstats import gap_map

    burn = int(run.burn_in)
    out = {"burn_in": burn, "window": int(run.atoms) - burn}
    if not model.is_diagonal:
        relax = exact.relaxation_general(model)
        dist = math.exp(-burn / relax) if relax > 0 else 0.0
        need = int(math.ceil(relax * math.log(1.0 / tol)))
    else:
        st, step = exact.chain(model)
        nm = st["nmax"]
        pi = exact.stationary_gth(step)  # accurate where the chain is nearly decomposable
        p0 = gap_map(model, nm)[1] @ dm.initial_distribution(model, nm)
        relax = exact.relaxation_of(step, pi)
        dist = _distance(_after(step, p0, burn), pi)
        need = 0 if dist <= tol else _needed_burn_in(step, p0, pi, tol)
    out.update(relaxation_atoms=relax, distance=dist, needed_burn_in=need)
    out["stationary"] = bool(dist <= tol)
    return out


def stationarity_warning(model: Model, run: RunParams, *, tol: float = STATIONARY_TV) -> str | None:
    """A warning when the run's burn-in ends before the field is stationary, else None.

    The text gives the relaxation time, the distance left at ``burn_in`` and the burn-in that
    would do; it also notes a window shorter than the relaxation time.
    """
    s = stationarity(model, run, tol=tol)
    if s["stationary"]:
        return None
    relax = s["relaxation_atoms"]
    text = (
        f"burn_in = {s['burn_in']} atoms is too short for a stationary steady window: the field "
        f"relaxes over {relax:.3g} atoms (slowest mode), and just before atom {s['burn_in']} it "
        f"is still {s['distance']:.2g} from stationary (total variation or relative error of "
        f"n and Var n); burn_in >= {s['needed_burn_in']} would do"
    )
    if s["window"] < relax:
        text += (
            f" (the window of {s['window']} atoms is also shorter than the relaxation time, so "
            "each trajectory samples only part of the slow fluctuations)"
        )
    return text + "."
