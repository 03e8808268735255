"""Is a run's steady window stationary?  Exact, from the density-matrix chain.

The cavity just before atom k is M^k p0 (p0 the law just before atom 0, M the step matrix of
:func:`trajmaser.dm.switching.step_matrix`).  A run's steady "arrival" block averages atoms
b … b + W − 1 (b = burn_in, W = atoms − burn_in), so it estimates the window law
p̄_b = M^b q, q = (1/W) Σ_{k<W} M^k p0 (the time block averages the same stretch of time).
Its distance from the stationary law π is the largest of the total-variation distance and
the relative errors of n̄ and Var n (the moments the summaries report; a far-away peak of
tiny weight barely moves the total variation but can move the variance a lot).  The total
variation of M^b q never grows with b, so the smallest sufficient burn-in (window length
kept) is found by bisection over binary powers of M; q itself by doubling sums of powers.
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


def _window_law(step: np.ndarray, p0: np.ndarray, window: int) -> np.ndarray:
    """(1/W) Σ_{k<W} M^k p0, from A_j = Σ_{k<2^j} M^k and P_j = M^{2^j} built by doubling."""
    window = max(int(window), 1)
    sums, powers = [np.eye(step.shape[0])], [step]
    while 2 ** len(sums) <= window:
        a, p = sums[-1], powers[-1]
        sums.append((a + p @ a) / 2.0)  # kept as a mean (unit column sums)
        powers.append(_square(p))
    out, v = np.zeros_like(p0), p0
    for j in range(len(sums) - 1, -1, -1):
        if window >> j & 1:
            out += 2**j * (sums[j] @ v)
            v = powers[j] @ v
            v /= v.sum()
    return out / out.sum()


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
        window law from the stationary arrival law (module docstring; for non-diagonal
        models the bound e^{−burn_in/relaxation}), ``needed_burn_in`` (the smallest burn-in
        with distance ≤ tol for the same window length; non-diagonal models:
        relaxation · ln(1/tol)), ``stationary`` (distance ≤ tol).
    """
    burn = int(run.burn_in)
    out = {"burn_in": burn, "window": int(run.atoms) - burn}
    if not model.is_diagonal:
        relax = exact.relaxation_general(model)
        dist = math.exp(-burn / relax) if relax > 0 else 0.0
        need = int(math.ceil(relax * math.log(1.0 / tol)))
    else:
        _, step = exact.chain(model)
        pi = exact.stationary_gth(step)  # accurate where the chain is nearly decomposable
        q = _window_law(step, exact.first_arrival_law(model), out["window"])
        relax = exact.relaxation_of(step, pi)
        dist = _distance(_after(step, q, burn), pi)
        need = 0 if dist <= tol else _needed_burn_in(step, q, pi, tol)
    out.update(relaxation_atoms=relax, distance=dist, needed_burn_in=need)
    out["stationary"] = bool(dist <= tol)
    return out


def stationarity_warning(model: Model, run: RunParams, *, tol: float = STATIONARY_TV) -> str | None:
    """A warning when the run's burn-in ends before the field is stationary, else None.

    The text gives the relaxation time, the distance of the window from stationary and the
    burn-in that would do (same window length).
    """
    s = stationarity(model, run, tol=tol)
    if s["stationary"]:
        return None
    relax = s["relaxation_atoms"]
    text = (
        f"burn_in = {s['burn_in']} atoms is too short for a stationary steady window: the field "
        f"relaxes over {relax:.3g} atoms (slowest mode), and averaged over the window of "
        f"{s['window']} atoms it is still {s['distance']:.2g} from stationary (total variation "
        f"or relative error of n and Var n); burn_in >= {s['needed_burn_in']} (with the same "
        f"window) would do."
    )
    return text
