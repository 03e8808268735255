"""General-path passages per second: occupied-support kernel vs the kernel before it, one run.

Paper parameters (as in ``bench_trajectories.py``): κ = 2π·50e9/2e10, g = π·50e3, γ = 2π·33.3,
τ = 9.5 µs, regular pumping at Nex = 6500, pe = 0.14, atomic coherence 0.1 (so the general
path runs), thermal start, nmax = 40.  Three routes, each timed in CPU seconds of this process
(best of ``--repeats``, routes interleaved so machine load hits them alike):

- ``before``: the kernel before occupied-support tracking, frozen in
  ``frozen_general_kernel.py`` (every passage works on all nmax + 1 levels);
- ``full support``: today's kernel with ``support_tol = 0`` (only exact zeros are skipped, so
  in the steady state it works on all levels, as before);
- ``occupied support``: today's kernel with its default ``SUPPORT_TOL``.

Run: ``python benchmarks/bench_general.py [--atoms N] [--ntraj M] [--repeats R]``.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

from trajmaser.params import Model, RunParams
from trajmaser.trajectories.general import SUPPORT_TOL, run_general_block
from trajmaser.trajectories.records import record_plan

sys.path.insert(0, str(Path(__file__).resolve().parent))

from frozen_general_kernel import run_old_block  # noqa: E402

KAPPA = 2 * math.pi * 50e9 / 2e10
PAPER = dict(pe=0.14, omega=6.0, g=math.pi * 50e3, gamma=2 * math.pi * 33.3, kappa=KAPPA,
             tau=9.5e-6, rate=6500 * KAPPA, coherence=0.1)  # fmt: skip
NMAX = 40


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--atoms", type=int, default=20000, help="atoms per trajectory")
    ap.add_argument("--ntraj", type=int, default=20, help="trajectories per timing")
    ap.add_argument("--repeats", type=int, default=3, help="timings per route (best kept)")
    args = ap.parse_args()
    model = Model(**PAPER)
    run = RunParams(atoms=args.atoms, ntraj=args.ntraj, block_size=args.ntraj, samples=50,
                    burn_in=args.atoms // 2, method="general", nmax=NMAX, seed=1)  # fmt: skip
    plan = record_plan(model, run)

    def new(tol: float):
        return lambda n, rng: int(run_general_block(model, run, n, rng, plan, support_tol=tol)
                                  .passages[0])  # fmt: skip

    routes = {
        "before (frozen kernel)": lambda n, rng: run_old_block(model, run, n, rng, plan),
        "full support (support_tol = 0)": new(0.0),
        f"occupied support (tol = {SUPPORT_TOL:g})": new(SUPPORT_TOL),
    }
    best = dict.fromkeys(routes, 0.0)
    for f in routes.values():  # compile
        f(1, np.random.default_rng(0))
    for rep in range(args.repeats):
        for name, f in routes.items():
            t0 = time.process_time()
            passages = f(args.ntraj, np.random.default_rng(rep))
            best[name] = max(best[name], passages / (time.process_time() - t0))
    ref = best["before (frozen kernel)"]
    print(f"general path, paper parameters, coherence 0.1, nmax = {NMAX}, "
          f"{args.ntraj} x {args.atoms} atoms, best of {args.repeats} (CPU time)")  # fmt: skip
    print(f"{'route':<42}{'passages/s':>14}{'ns/passage':>12}{'vs before':>11}")
    for name, rate in best.items():
        print(f"{name:<42}{rate:>14.4g}{1e9 / rate:>12.0f}{rate / ref:>10.2f}x")
    gain = best[f"occupied support (tol = {SUPPORT_TOL:g})"] / ref
    print(f"target: occupied support >= 2x before: {'met' if gain >= 2.0 else 'NOT met'}")


if __name__ == "__main__":
    main()
