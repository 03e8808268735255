"""Atom passages per second on one core: Fock-path numba kernel vs a vectorised-numpy baseline.

Paper parameters (Fig. 3, Nex = 6500): κ = 2π·50e9/2e10, g = π·50e3, γ = 2π·33.3, τ = 9.5 µs,
regular pumping, star fuel N = 10, λ = 1 (Tq/Tb = 3.46693 at omega = 6, J = 0.8).

The numpy baseline vectorises the fast path only (per-atom steady sums and histogram, but no
jumps, no sample-time records, no detection), so it bounds what a vectorised kernel could reach
from above.
Usage: ``python benchmarks/bench_fock.py [--atoms 200000] [--ntraj 50] [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

from trajmaser.params import Model, RunParams
from trajmaser.trajectories import simulate_block
from trajmaser.trajectories.fock import fock_tables


def paper_model(nex: float = 6500.0) -> Model:
    """Fig. 3 model with the star fuel (N = 10, λ = 1) at Nex."""
    kappa = 2 * math.pi * 50e9 / 2e10
    pe = 1.0 / (1.0 + math.exp(6.0 / 3.46693))
    return Model(
        pe=pe,
        omega=6.0,
        g=math.pi * 50e3,
        gamma=2 * math.pi * 33.3,
        kappa=kappa,
        tau=9.5e-6,
        rate=nex * kappa,
    )


def bench_numba(model: Model, atoms: int, ntraj: int) -> tuple[float, float]:
    """Passages per second of the full kernel (records included) and the steady n̄."""
    run = RunParams(
        atoms=atoms, ntraj=ntraj, samples=50, burn_in=atoms // 2, seed=1, block_size=ntraj
    )
    simulate_block(model, RunParams(atoms=10, ntraj=1, samples=2, burn_in=5), 0)  # compile
    t0 = time.perf_counter()
    res = simulate_block(model, run, 0)
    dt = time.perf_counter() - t0
    return res.passages / dt, res.summary()["steady"]["arrival"]["n_mean"]


def bench_numpy(model: Model, atoms: int, ntraj: int) -> float:
    """Passages per second of a vectorised fast path: regular pumping, per-atom steady sums and
    histogram, but no jumps, no sample-time records and no detection."""
    rng = np.random.default_rng(1)
    tabs = fock_tables(64, model.g, model.gamma, model.kappa, 0.0, 0.0, model.tau)
    pnj_e, qe_e, pnj_g, qe_g = (np.asarray(t) for t in tabs)
    p_loss = -math.expm1(-model.kappa * (1.0 / model.rate - model.tau))
    pe = model.pe
    n = np.zeros(ntraj, dtype=np.int64)
    sx = np.zeros(ntraj)
    sy = np.zeros(ntraj)
    hist = np.zeros(64)
    t0 = time.perf_counter()
    for _ in range(atoms):
        sx += n  # per-trajectory steady arrival sums and histogram, as the kernel keeps
        sy += n * n
        hist += np.bincount(n, minlength=64)[:64]
        u = rng.random(ntraj)
        exc = u < pe
        u = np.where(exc, u / pe, (u - pe) / (1.0 - pe))
        idx = np.minimum(n, 63)
        pnj = np.where(exc, pnj_e[idx], pnj_g[idx])
        qe = np.where(exc, qe_e[idx], qe_g[idx])
        found = u < qe * pnj
        n = np.where(exc, np.where(found, n, n + 1), np.where(found, n - 1, n))
        n -= rng.binomial(n, p_loss)
    return atoms * ntraj / (time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--atoms", type=int, default=200_000)
    parser.add_argument("--ntraj", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3, help="best of N (shared machines)")
    args = parser.parse_args()
    model = paper_model()
    rate_numba, rate_numpy = 0.0, 0.0
    for _ in range(args.repeat):  # interleaved, so both see the same machine load
        r, nbar = bench_numba(model, args.atoms, args.ntraj)
        rate_numba = max(rate_numba, r)
        rate_numpy = max(rate_numpy, bench_numpy(model, 2000, 5000))
    print(f"paper Fig. 3, Nex = 6500, pe = {model.pe:.6f}, steady n̄ (arrival) = {nbar:.4f}")
    print(f"numba Fock kernel (full, with records): {rate_numba / 1e6:8.2f} M passages/s")
    print(f"numpy vectorised fast path (partial)  : {rate_numpy / 1e6:8.2f} M passages/s")
    print(f"ratio numba / numpy                   : {rate_numba / rate_numpy:8.1f}")


if __name__ == "__main__":
    main()
