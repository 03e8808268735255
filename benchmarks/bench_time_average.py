"""Steady "time" block: exact time integral vs one random probe per stratum (the old estimator).

For each case both estimators run on the same configuration (same seeds, same blocks) and the
script prints the standard error σ of the steady time-averaged n̄, the CPU
time t of the run and the figure of merit σ² · t (lower is better) side by side; the ratio
old / new is the speed-up at equal error.  Cases: the paper's quick configuration
(``runs/quick.toml``: Nex = 6500, Q = 2e10, regular pumping) and lossy ones (Q = 2e7, κ/r =
0.15; and a dimensionless strongly damped case with thermal photons, detuning and Poisson
pumping, κτ = 0.5, γτ = 1).  CPU time (not wall time) is used because the machine is shared.

Each case runs ``--seeds`` independent seeds (both estimators back to back per seed); the
paper's case needs many trajectories because its error is dominated by the slow mode of the
field, which varies from trajectory to trajectory and no estimator within a trajectory removes.
Usage: ``python benchmarks/bench_time_average.py [--seeds 4] [--scale 1.0]``.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import operator
import time
from pathlib import Path

import numpy as np
import tomllib

from trajmaser.config import config_from_dict
from trajmaser.params import Model, RunParams
from trajmaser.trajectories import nblocks, simulate_block

ROOT = Path(__file__).resolve().parents[1]


def _quick(q: float | None = None) -> tuple[Model, RunParams]:
    """runs/quick.toml, optionally at another quality factor Q (same pump rate)."""
    with (ROOT / "runs" / "quick.toml").open("rb") as fh:
        raw = tomllib.load(fh)
    if q is not None:
        nex = raw["pump"].pop("Nex")
        raw["pump"]["rate"] = nex * raw["cavity"]["Omega"] / raw["cavity"]["Q"]
        raw["cavity"]["Q"] = q
    cfg = config_from_dict(raw)
    return cfg.model(), cfg.run


def _lossy() -> tuple[Model, RunParams]:
    model = Model(pe=0.5, omega=1.5, g=0.8, gamma=1.0, kappa=0.5, tau=1.0, rate=0.6,
                  statistics="poisson", nbar_bath=0.5, detuning=1.0)  # fmt: skip
    return model, RunParams(atoms=400, ntraj=4000, samples=40, burn_in=100, seed=7)


CASES = {  # name: (model and run, trajectories per seed)
    "paper quick (Q = 2e10)": (lambda: _quick(), 20000),
    "paper lossy (Q = 2e7)": (lambda: _quick(2e7), 4000),
    "lossy, Poisson, n_b = 0.5": (_lossy, 2000),
}


def measure(model: Model, run: RunParams, probes: bool) -> tuple[float, float]:
    """(σ² of the steady time n̄, CPU seconds) of one run with the chosen estimator."""
    t0 = time.process_time()
    parts = [simulate_block(model, run, b, time_probes=probes) for b in range(nblocks(run))]
    cpu = time.process_time() - t0
    res = functools.reduce(operator.add, parts)
    return res.summary()["steady"]["time"]["n_mean_err"] ** 2, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=4, help="independent runs per case")
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies the trajectories")
    args = parser.parse_args()
    head = f"{'case':27s} {'estimator':9s} {'ntraj':>6s} {'sigma(n)':>9s} {'cpu s':>6s}"
    print(head + f" {'sigma^2 t':>9s}")
    for name, (make, ntraj) in CASES.items():
        model, run = make()
        ntraj = max(2, int(ntraj * args.scale))
        run = dataclasses.replace(run, ntraj=ntraj, block_size=min(ntraj, 1000))
        simulate_block(model, dataclasses.replace(run, ntraj=2, block_size=2), 0)  # compile
        simulate_block(model, dataclasses.replace(run, ntraj=2, block_size=2), 0, time_probes=True)
        seeds = [dataclasses.replace(run, seed=run.seed + i) for i in range(args.seeds)]
        # per seed, both estimators back to back (same machine load); σ² · t per run
        merit = {p: [] for p in (True, False)}
        for r in seeds:
            for probes in (True, False):
                var, cpu = measure(model, r, probes)
                merit[probes].append((var, cpu))
        for probes, label in ((True, "probes"), (False, "exact")):
            var = np.mean([v for v, _ in merit[probes]])
            cpu = np.mean([c for _, c in merit[probes]])
            print(
                f"{name:27s} {label:9s} {ntraj:6d} {np.sqrt(var):9.3e} {cpu:6.2f} {var * cpu:9.3e}"
            )
        ratios = [(vp * cp) / (ve * ce) for (vp, cp), (ve, ce) in zip(*merit.values(), strict=True)]
        pooled = np.mean([v * c for v, c in merit[True]]) / np.mean(
            [v * c for v, c in merit[False]]
        )
        err = np.std(ratios, ddof=1) / np.sqrt(len(ratios)) if len(ratios) > 1 else float("nan")
        print(
            f"{name:27s} {'old / new':9s} {pooled:>24.2f} ± {err:.2f} (σ² · t, {len(ratios)} seeds)"
        )


if __name__ == "__main__":
    main()
