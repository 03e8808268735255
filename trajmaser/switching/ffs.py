"""Forward-flux sampling of the photon-number chain (numba stages).

One direction of switching goes from a basin A to a basin B along the order parameter
y = s·n (s = +1 up, −1 down): A = {y ≤ s·a}, B = {y ≥ s·b}, interfaces
s·a < s·λ_0 < s·λ_1 < … < s·λ_M = s·b.

* :func:`basin_run`: the chain started at the A mode, in the "A state" (last in A, not yet
  in B).  Every step counts as one atom of A-state time and goes into the histogram; every
  first crossing of λ_0 after a visit to A is counted and its photon number stored (as a
  histogram of crossing states); on reaching B the chain restarts at the A mode, so every
  A-state period starts exactly where the mean first-passage time is defined.
* :func:`stage`: trial runs from states drawn uniformly from the previous interface's
  crossings until they reach the next interface (success, state stored) or fall back to A.

The rate of A → B transitions per atom of A-state time is Φ Π P_i with Φ = crossings of λ_0
per atom and P_i the stage success fractions; its inverse is the mean first-passage time.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from trajmaser.switching.chain import atom_step

__all__ = ["basin_run", "stage"]


@njit(cache=True)
def basin_run(
    start, sign, a_edge, lam0, b_edge, atoms, pe, consts, tau, code, pars, tables, rng, hist, cross
):
    """``atoms`` steps of the A state from X_0 = ``start`` (module docstring).

    ``hist`` receives the A-state photon numbers (last bin: overflow), ``cross`` the photon
    numbers at the λ_0 crossings.  Returns ``(crossings, b_hits)``.
    """
    top = hist.shape[0] - 1
    n = start
    armed = True
    crossings = 0
    hits = 0
    for _ in range(atoms):
        hist[min(n, top)] += 1
        n = atom_step(n, pe, consts, tau, code, pars, tables, rng)
        y = sign * n
        if armed and y >= sign * lam0:
            cross[min(n, top)] += 1
            crossings += 1
            armed = False
        if y >= sign * b_edge:
            hits += 1
            n = start
            armed = True
        elif y <= sign * a_edge:
            armed = True
    return crossings, hits


@njit(cache=True)
def _draw(cdf, rng):
    return np.searchsorted(cdf, rng.random() * cdf[-1], side="right")


@njit(cache=True)
def stage(
    starts, trials, sign, a_edge, target, pe, consts, tau, code, pars, tables, rng, ends, cap
):
    """``trials`` trial runs from photon numbers drawn from the histogram ``starts``.

    Successes (y ≥ s·target before y ≤ s·a_edge) add their end state to ``ends``.  A trial
    longer than ``cap`` atoms stops the stage.  Returns ``(successes, atoms, completed)``.
    """
    top = ends.shape[0] - 1
    cdf = np.cumsum(starts)
    successes = 0
    atoms = 0
    for t in range(trials):
        n = _draw(cdf, rng)
        steps = 0
        while True:
            y = sign * n
            if y >= sign * target:
                successes += 1
                ends[min(n, top)] += 1
                break
            if y <= sign * a_edge:
                break
            if steps >= cap:
                return successes, atoms, t
            n = atom_step(n, pe, consts, tau, code, pars, tables, rng)
            steps += 1
            atoms += 1
    return successes, atoms, trials
