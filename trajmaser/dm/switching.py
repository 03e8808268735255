"""Peaks, switching times and relaxation of the micromaser field, exact (diagonal models).

With a diagonal atom state and initial field the cavity is a Fock state just before every
atom, so X_k = photon number just before atom k is a Markov chain on n = 0 … nmax.  Its
transition matrix is the pump-averaged step map of :mod:`trajmaser.dm`,
M = S A (A the per-atom map, S the gap map averaged over the pump statistics), column
stochastic: M[m, n] = P(X_{k+1} = m | X_k = n).  Everything below is exact for that chain.

* ``relaxation_atoms`` = −1/ln|λ2|, λ2 the subdominant eigenvalue of M: deviations from the
  stationary state decay like |λ2|^k.  When 1 − |λ2| is within rounding of zero
  (relaxation beyond ~1e11 atoms) the two-peak value 1/(1/up + 1/down) is used instead
  (the slowest mode of a bistable field is its switching, to O(basin relaxation / up)).
* Peaks of the stationary p(n) just before arrivals (:func:`find_peaks`): the local maxima
  of p; neighbouring maxima whose separating valley is not at least ``VALLEY_RATIO`` times
  lower than the lower of the two are one peak (the higher maximum is kept), then peaks
  whose weight is below ``MIN_WEIGHT`` are merged into the neighbour across their shallower
  valley, lightest first.  A peak's basin runs from just above the valley minimum below it
  to the valley minimum above it (inclusive); its weight is the probability of its basin.
* Switching (:func:`switching_times`): n_lo < n_hi are the modes of the two heaviest peaks;
  up = E[min k: X_k ≥ n_hi | X_0 = n_lo], down = E[min k: X_k ≤ n_lo | X_0 = n_hi].  Each is
  computed by the renewal identity E[τ] = 1 / Σ_i π'(i) P(i → target), π' the stationary law
  of the chain restarted at the start state whenever it would enter the target, with π'
  from the Grassmann–Taksar–Heyman elimination (no subtractions, so times of 10¹⁵ atoms keep
  their relative accuracy).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from trajmaser.params import Model

__all__ = [
    "MIN_WEIGHT",
    "VALLEY_RATIO",
    "Peak",
    "chain",
    "first_arrival_law",
    "find_peaks",
    "mean_first_passage",
    "relaxation_atoms",
    "relaxation_general",
    "relaxation_of",
    "stationary_gth",
    "step_matrix",
    "switching",
    "switching_times",
]

VALLEY_RATIO = 0.1  # a valley must be 10x below the lower of the two maxima it separates
MIN_WEIGHT = 1e-9  # lighter peaks hold the field less than one atom in 10^9
_EIG_FLOOR = 1e-11  # 1 − |λ2| below this is within rounding of the eigenvalue solver


# ------------------------------------------------------------------ chain
def _check_diagonal(model: Model) -> None:
    if not model.is_diagonal:
        raise ValueError(
            "switching needs a diagonal model (atom coherence = 0 and a thermal, vacuum or Fock "
            "initial field): only then is the photon number before each atom a Markov chain"
        )


def step_matrix(model: Model, nmax: int) -> np.ndarray:
    """Pump-averaged map from just before atom k to just before atom k + 1 on p(0 … nmax).

    Returns
    -------
    ndarray, shape (nmax+1, nmax+1)
        Column-stochastic M, M[m, n] = P(X_{k+1} = m | X_k = n) (:func:`trajmaser.dm.pump_maps`).
    """
    from trajmaser.dm import pump_maps

    _check_diagonal(model)
    return pump_maps(model, nmax).step


def stationary_gth(step: np.ndarray) -> np.ndarray:
    """Stationary law of a column-stochastic matrix by Grassmann–Taksar–Heyman elimination.

    Every pivot is a sum of off-diagonal probabilities, so small stationary probabilities
    keep their relative accuracy.

    Raises
    ------
    ValueError
        If some state cannot reach a lower-numbered state (a reducible chain).
    """
    p = np.array(step, dtype=float).T  # row-stochastic copy, eliminated in place
    size = p.shape[0]
    for k in range(size - 1, 0, -1):
        out = p[k, :k].sum()
        if not out > 0.0:
            raise ValueError(f"state {k} of the chain cannot reach states below it")
        p[:k, k] /= out
        p[:k, :k] += np.outer(p[:k, k], p[k, :k])
    pi = np.zeros(size)
    pi[0] = 1.0
    for k in range(1, size):
        pi[k] = pi[:k] @ p[:k, k]
    return pi / pi.sum()


def mean_first_passage(step: np.ndarray, start: int, target: np.ndarray) -> float:
    """E[min k ≥ 0 : X_k ∈ target | X_0 = start] for the chain with column-stochastic ``step``.

    Parameters
    ----------
    step : ndarray
        Column-stochastic transition matrix.
    start : int
        Initial state (not in ``target``).
    target : ndarray of bool
        Mask of the target states.

    Returns
    -------
    float
        The mean first-passage time in steps (atoms), from the renewal identity of the module
        docstring.
    """
    target = np.asarray(target, dtype=bool)
    if target[start]:
        raise ValueError(f"start state {start} lies in the target set")
    if not target.any():
        raise ValueError("the target set is empty")
    keep = np.flatnonzero(~target)
    s = int(np.searchsorted(keep, start))
    into = step[target][:, keep].sum(axis=0)  # P(i -> target), i in keep
    restarted = step[np.ix_(keep, keep)].copy()
    restarted[s] += into
    pi = stationary_gth(restarted)
    flux = float(pi @ into)
    return 1.0 / flux if flux > 0 else math.inf


# ------------------------------------------------------------------ peaks
@dataclass(frozen=True)
class Peak:
    """One peak of p(n): its mode, its basin [lo, hi] (inclusive) and the basin's weight."""

    n_mode: int
    lo: int
    hi: int
    weight: float


def _local_maxima(p: np.ndarray) -> list[int]:
    out = []
    for n in range(p.size):
        left = p[n - 1] if n > 0 else -np.inf
        right = p[n + 1] if n + 1 < p.size else -np.inf
        if p[n] > left and p[n] >= right:
            out.append(n)
    return out


def _valley(p: np.ndarray, a: int, b: int) -> int:
    return a + int(np.argmin(p[a : b + 1]))


def _merge_shallow(p: np.ndarray, modes: list[int], ratio: float) -> list[int]:
    while len(modes) > 1:
        for i in range(len(modes) - 1):
            a, b = modes[i], modes[i + 1]
            if p[_valley(p, a, b)] > ratio * min(p[a], p[b]):
                modes.pop(i if p[a] < p[b] else i + 1)
                break
        else:
            return modes
    return modes


def _basins(p: np.ndarray, modes: list[int]) -> list[Peak]:
    cuts = [-1] + [_valley(p, a, b) for a, b in zip(modes, modes[1:], strict=False)]
    cuts.append(p.size - 1)
    return [
        Peak(m, cuts[i] + 1, cuts[i + 1], float(p[cuts[i] + 1 : cuts[i + 1] + 1].sum()))
        for i, m in enumerate(modes)
    ]


def find_peaks(
    p: np.ndarray, *, valley_ratio: float = VALLEY_RATIO, min_weight: float = MIN_WEIGHT
) -> list[Peak]:
    """Peaks of a photon-number distribution, in ascending n (rule: module docstring).

    Parameters
    ----------
    p : ndarray
        p(n), n = 0 … len(p) − 1 (renormalised here).
    valley_ratio : float
        A valley separates two maxima when it is at most this fraction of the lower one.
    min_weight : float
        Peaks lighter than this are merged into a neighbour.
    """
    p = np.asarray(p, dtype=float)
    p = p / p.sum()
    modes = _merge_shallow(p, _local_maxima(p), valley_ratio)
    while True:
        peaks = _basins(p, modes)
        light = [k for k in range(len(peaks)) if peaks[k].weight < min_weight]
        if not light or len(peaks) == 1:
            return peaks
        k = min(light, key=lambda j: peaks[j].weight)
        modes.pop(k)


# ------------------------------------------------------------------ relaxation, switching
def _subdominant(step: np.ndarray) -> float:
    ev = np.sort(np.abs(np.linalg.eigvals(step)))[::-1]
    return float(ev[1]) if ev.size > 1 else 0.0


def switching_times(step: np.ndarray, peaks: list[Peak]) -> dict:
    """Mean first-passage times between the two heaviest peaks (module docstring).

    Returns
    -------
    dict
        ``n_lo``, ``n_hi``, ``mfpt_up_atoms``, ``mfpt_down_atoms``; all None with one peak.
    """
    if len(peaks) < 2:
        return {"n_lo": None, "n_hi": None, "mfpt_up_atoms": None, "mfpt_down_atoms": None}
    two = sorted(sorted(peaks, key=lambda q: q.weight)[-2:], key=lambda q: q.n_mode)
    lo, hi = two[0].n_mode, two[1].n_mode
    n = np.arange(step.shape[0])
    return {
        "n_lo": lo,
        "n_hi": hi,
        "mfpt_up_atoms": mean_first_passage(step, lo, n >= hi),
        "mfpt_down_atoms": mean_first_passage(step, hi, n <= lo),
    }


def _relaxation(lam2: float, times: dict) -> float:
    if 1.0 - lam2 >= _EIG_FLOOR:
        return -1.0 / math.log(lam2) if lam2 > 0 else 0.0
    if times["mfpt_up_atoms"] is None:
        return math.inf
    return 1.0 / (1.0 / times["mfpt_up_atoms"] + 1.0 / times["mfpt_down_atoms"])


@functools.lru_cache(maxsize=8)
def _solve_cached(model: Model, tol: float, nmax: int | None) -> tuple:
    from trajmaser import dm

    st = dm.steady(model, tol=tol, nmax=nmax)
    maps = dm.pump_maps(model, st["nmax"])
    p0 = maps.first @ dm.initial_distribution(model, st["nmax"])
    for a in (maps.step, p0):
        a.flags.writeable = False
    return st, maps.step, p0


def chain(model: Model, tol: float = 1e-12, nmax: int | None = None) -> tuple[dict, np.ndarray]:
    """Steady state (:func:`trajmaser.dm.steady`) and step matrix at its cut-off (cached)."""
    _check_diagonal(model)
    return _solve_cached(model, float(tol), None if nmax is None else int(nmax))[:2]


def first_arrival_law(model: Model, tol: float = 1e-12) -> np.ndarray:
    """p(n) just before atom 0 from ``model.initial``, at the cut-off of :func:`chain`."""
    _check_diagonal(model)
    return _solve_cached(model, float(tol), None)[2]


def relaxation_of(step: np.ndarray, pi: np.ndarray) -> float:
    """Relaxation in atoms of the chain ``step`` with stationary law ``pi``."""
    lam2 = _subdominant(step)
    if 1.0 - lam2 >= _EIG_FLOOR:
        return _relaxation(lam2, {})
    return _relaxation(lam2, switching_times(step, find_peaks(pi)))


def switching(
    model: Model,
    *,
    tol: float = 1e-12,
    nmax: int | None = None,
    valley_ratio: float = VALLEY_RATIO,
    min_weight: float = MIN_WEIGHT,
) -> dict:
    """Peaks, switching times and relaxation of the stationary field just before arrivals.

    Parameters
    ----------
    model : Model
        Diagonal model.
    tol, nmax :
        Fock cut-off control, as for :func:`trajmaser.dm.steady`.
    valley_ratio, min_weight :
        The peak rule of :func:`find_peaks`.

    Returns
    -------
    dict
        ``peaks`` (list of ``{"n_mode", "weight"}``, ascending n), ``n_lo``, ``n_hi``,
        ``mfpt_up_atoms``, ``mfpt_down_atoms`` (None with one peak), ``relaxation_atoms``,
        ``steady`` (``n_mean``, ``mandel_q`` of the arrival state), ``basins`` (list of
        ``[lo, hi]``), ``p`` (the arrival p(n)), ``nmax``.
    """
    st, step = chain(model, tol, nmax)
    p = np.asarray(st["arrival"]["p"])
    peaks = find_peaks(p, valley_ratio=valley_ratio, min_weight=min_weight)
    times = switching_times(step, peaks)
    return {
        "peaks": [{"n_mode": q.n_mode, "weight": q.weight} for q in peaks],
        **times,
        "relaxation_atoms": _relaxation(_subdominant(step), times),
        "steady": {k: st["arrival"][k] for k in ("n_mean", "mandel_q")},
        "basins": [[q.lo, q.hi] for q in peaks],
        "p": p.tolist(),
        "nmax": st["nmax"],
    }


def relaxation_atoms(model: Model, *, tol: float = 1e-12, nmax: int | None = None) -> float:
    """Slowest relaxation of the atom-to-atom map, in atoms (module docstring).

    Diagonal models use the photon-number chain; others the general map on the cavity
    density matrix (its subdominant eigenvalue by sparse Arnoldi iteration).
    """
    if not model.is_diagonal:
        return relaxation_general(model, tol, nmax)
    st, step = chain(model, tol, nmax)
    return relaxation_of(step, np.asarray(st["arrival"]["p"]))


def relaxation_general(model: Model, tol: float = 1e-12, nmax: int | None = None) -> float:
    """Relaxation in atoms of the general atom-to-atom map on the cavity density matrix."""
    import scipy.sparse.linalg as spla

    from trajmaser import dm
    from trajmaser.dm.general import cavity_maps

    nm = dm.steady(model, tol=tol, nmax=nmax)["nmax"]
    step = cavity_maps(model, nm)["step"]
    if step.shape[0] <= 16:
        ev = np.linalg.eigvals(step.toarray())
    else:
        ev = spla.eigs(step, k=3, which="LM", return_eigenvectors=False)
    lam2 = float(np.sort(np.abs(ev))[::-1][1])
    return -1.0 / math.log(lam2) if 0 < lam2 < 1 else (0.0 if lam2 <= 0 else math.inf)
