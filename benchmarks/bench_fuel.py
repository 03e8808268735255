"""Timing of the exact fuel solution: ``python benchmarks/bench_fuel.py``.

Prints the wall time of `trajmaser.fuel.fuel_tq` for N = 100 000 (both models), for the
vector N = 1 … 1000, and at N = 10 against a dense tensor-product diagonalisation.
"""

from __future__ import annotations

import time
from functools import reduce

import numpy as np

from trajmaser.fuel import fuel_pe, fuel_tq

OMEGA, J = 6.0, 0.8


def best_time(fn, repeat: int = 3) -> float:
    """Best wall time of ``repeat`` calls, in seconds."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def brute_force_pe(N: int, omega: float, coupling: float, lam: float) -> float:
    """pe of the central spin from the full 2^(N+1) Hamiltonian (numpy eigh)."""
    sx = np.array([[0.0, 1.0], [1.0, 0.0]])
    isy = np.array([[0.0, 1.0], [-1.0, 0.0]])  # i·σy is real; σy⊗σy = -(iσy)⊗(iσy)
    sz = np.diag([1.0, -1.0])
    n = N + 1

    def site(ops):
        return reduce(np.kron, [ops.get(i, np.eye(2)) for i in range(n)])

    H = sum(0.5 * omega * site({i: sz}) for i in range(n))
    for i in range(1, n):
        H = H + 0.25 * coupling * (
            site({0: sx, i: sx}) - site({0: isy, i: isy}) + lam * site({0: sz, i: sz})
        )
    energies, vecs = np.linalg.eigh(H)
    w = np.exp(-(energies - energies.min()))
    return float(w @ np.sum(vecs[: 2**N] ** 2, axis=0) / w.sum())


def main() -> None:
    print(f"fuel timing, omega = {OMEGA:g}, J = {J:g} (best of 3)")
    for model in ("star", "spin"):
        for lam in (0.75, 1.0):
            t = best_time(lambda m=model, la=lam: fuel_tq(m, 100_000, OMEGA, J, la))
            tq = float(fuel_tq(model, 100_000, OMEGA, J, lam))
            print(f"  {model:4s} N = 100000, lam = {lam:<4g}: {1e3 * t:8.2f} ms   Tq/Tb = {tq:.6g}")
    Ns = np.arange(1, 1001)
    for model in ("star", "spin"):
        t = best_time(lambda m=model: fuel_tq(m, Ns, OMEGA, J, 0.75))
        print(f"  {model:4s} N = 1..1000 (vector), lam = 0.75: {1e3 * t:8.1f} ms total")
    t_block = best_time(lambda: fuel_pe("star", 10, OMEGA, J, 0.75), repeat=20)
    t0 = time.perf_counter()
    pe_brute = brute_force_pe(10, OMEGA, J, 0.75)
    t_brute = time.perf_counter() - t0
    diff = abs(pe_brute - float(fuel_pe("star", 10, OMEGA, J, 0.75)))
    print(
        f"  star N = 10: block {1e3 * t_block:.3f} ms vs tensor-product eigh (2048 x 2048) "
        f"{1e3 * t_brute:.0f} ms: ratio {t_brute / t_block:.0f}x, |pe difference| = {diff:.1e}"
    )


if __name__ == "__main__":
    main()
