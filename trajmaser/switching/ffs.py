"""Forward-flux sampling of the photon-number chain (numba stages).

One direction of switching goes from a basin A to a basin B along the order parameter
y = s·n (s = +1 up, −1 down): A = {y ≤ s·a}, B = {y ≥ s·b}, interfaces
s·a < s·λ_0 < s·λ_1 < … < s·λ_M = s·b.

* :func:`basin_run`: the chain started at the A mode, in the "A state" (last in A, not yet
  in B).  Every step counts as one atom of A-state time and goes into the histogram; every
  first crossing of λ_0 after a visit to A is counted and its photon number stored (as a
  histogram of crossing states); on reaching B the chain restarts at the A mode, so every
  A-state period starts exactly where the mean first-passage time is defined.
* :func:`stage`: trial runs from the states where the previous interface was crossed, each
  state carrying a weight, until they reach the next interface (success: the end state is
  kept with the weight of its trial) or fall back to A.  The trials are stratified by start
  state (every state present gets its share of the trials, and at least a few), so a rare
  state, e.g. one reached by a long pump gap that overshot several interfaces, is followed
  by many trials instead of by the few copies a uniform draw would give it; its weight
  carries its true probability.  The weighted success fraction P_i is unbiased, as is the
  product of the P_i (the final weight of weighted splitting).

The rate of A → B transitions per atom of A-state time is Φ Π P_i with Φ = crossings of λ_0
per atom; its inverse is the mean first-passage time.
"""

from __future__ import annotations

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
def stage(
    weights, trials, per_state, sign, a_edge, target, pe, consts, tau, code, pars, tables, rng,
    ends, cap,
):  # fmt: skip
    """About ``trials`` trial runs from the weighted start states ``weights`` (by photon number).

    Stratified: a start state of weight share w gets max(``per_state``, round(w · trials))
    trials, and each of its successes (y ≥ s·target before y ≤ s·a_edge) adds w / (its
    trials) to ``ends`` at its end state, so ``ends`` gains the estimated success probability
    P = Σ_n w_n h(n) in total.  A trial longer than ``cap`` atoms stops the stage.
    Returns ``(successes, atoms, trials run, completed)``.
    """
    top = ends.shape[0] - 1
    total = weights.sum()
    successes = 0
    atoms = 0
    ran = 0
    for n0 in range(weights.shape[0]):
        if weights[n0] <= 0.0:
            continue
        share = weights[n0] / total
        tn = max(per_state, int(round(share * trials)))
        for _ in range(tn):
            n = n0
            steps = 0
            while True:
                y = sign * n
                if y >= sign * target:
                    successes += 1
                    ends[min(n, top)] += share / tn
                    break
                if y <= sign * a_edge:
                    break
                if steps >= cap:
                    return successes, atoms, ran, False
                n = atom_step(n, pe, consts, tau, code, pars, tables, rng)
                steps += 1
                atoms += 1
        ran += tn
    return successes, atoms, ran, True
