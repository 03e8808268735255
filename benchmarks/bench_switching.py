"""Rare-event switching estimate vs the brute-force trajectory cost it replaces.

Run ``python benchmarks/bench_switching.py [--theta 7] [--nex 100] [--replicas 32]``.  For
regular, binomial (p = 0.5) and Poisson pumping at the pump-statistics study's parameters
(excited atoms, κτ = 1e-3, γ = 0, n_b = 0.15) it prints, side by side:

* ours: atoms simulated by forward-flux sampling (``trajmaser.switching``, default budget)
  and its wall time, with the relative errors reached on both first-passage times;
* brute force: the atoms a plain trajectory must run to see one switch each way, E[up] +
  E[down] (exact, from the density matrix), and to reach the same relative errors,
  (E[up] + E[down]) / rel_err², with the wall time at the measured atom rate of the same
  exact atom step.
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

from trajmaser.params import InitialField, Model
from trajmaser.switching import Budget, switching
from trajmaser.switching.chain import chain_args, run_chain


def model(nex: float, theta: float, statistics: str) -> Model:
    tau = 1e-3
    return Model(pe=1.0, omega=1.0, g=theta / (tau * math.sqrt(nex)), gamma=0.0, kappa=1.0,
                 tau=tau, rate=nex, nbar_bath=0.15, initial=InitialField("vacuum"),
                 statistics=statistics, p=0.5 if statistics == "binomial" else 1.0)  # fmt: skip


def atom_rate(m: Model, n0: int, atoms: int = 2_000_000) -> float:
    """Atoms per second of the exact atom step (one process), after compilation."""
    rng = np.random.default_rng(0)
    hist = np.zeros(1000)
    args = chain_args(m)
    run_chain(n0, 10, *args, rng, hist)
    t0 = time.perf_counter()
    run_chain(n0, atoms, *args, rng, hist)
    return atoms / (time.perf_counter() - t0)


def years(atoms: float, rate: float) -> str:
    s = atoms / rate
    return f"{s:.3g} s" if s < 3.15e7 else f"{s / 3.15e7:.3g} years"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nex", type=float, default=100.0)
    ap.add_argument("--theta", type=float, default=7.0)
    ap.add_argument("--replicas", type=int, default=Budget().replicas)
    args = ap.parse_args()
    print(f"Nex = {args.nex:g}, Θ = {args.theta:g}; forward-flux budget: {Budget(args.replicas)}")
    head = (
        f"{'pump':>9s} | {'ours: atoms':>11s} {'wall':>7s} {'err up':>7s} {'err down':>8s} | "
        f"{'brute: one switch each way':>27s} {'same errors':>12s} {'its wall time':>14s}"
    )
    print(head)
    print("-" * len(head))
    for stats in ("regular", "binomial", "poisson"):
        m = model(args.nex, args.theta, stats)
        t0 = time.perf_counter()
        doc = switching(m, 2026, Budget(replicas=args.replicas))
        wall = time.perf_counter() - t0
        if doc["mfpt_up_atoms"] is None:
            print(f"{stats:>9s} | one peak: no switching")
            continue
        ref = doc["dm"]
        rel = [doc[f"mfpt_{k}_atoms_err"] / doc[f"mfpt_{k}_atoms"] for k in ("up", "down")]
        one = ref["mfpt_up_atoms"] + ref["mfpt_down_atoms"]
        same = one / min(rel) ** 2
        rate = atom_rate(m, doc["n_hi"])
        print(f"{stats:>9s} | {doc['atoms_simulated']:>11.3g} {wall:>6.0f}s {rel[0]:>7.1%} "
              f"{rel[1]:>8.1%} | {one:>27.3g} {same:>12.3g} {years(same, rate):>14s}")  # fmt: skip
    print("(atom rate of the exact step measured per pump statistics on one process)")


if __name__ == "__main__":
    main()
