"""Atom passages per second per core: Fock path, general path, and qutip's MCSolver.

Paper parameters (docs/PHYSICS.md): κ = 2π·50e9/2e10, g = π·50e3, γ = 2π·33.3, τ = 9.5 µs, regular
pumping with Nex = 6500 (r = 6500 κ), pe = 0.14.  The general path runs with atomic coherence
0.1 and nmax = 40; qutip's fastest honest route on the same problem is an ``MCSolver`` built
once for the joint atom ⊗ cavity H and collapse operators (and one for the empty cavity),
stepped atom by atom: start from the product state, evolve τ, measure the atom, evolve the gap.
qutip's default ``norm_t_tol`` (1e-6) breaks on µs interaction times in SI units, so it is set
to 1e-12 here.  Run: ``python benchmarks/bench_trajectories.py [--atoms N] [--qutip-passages M]``.
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

from trajmaser.params import Model, RunParams
from trajmaser.trajectories import simulate_block
from trajmaser.trajectories.general import atom_eigenstates

KAPPA = 2 * math.pi * 50e9 / 2e10
PAPER = dict(pe=0.14, omega=6.0, g=math.pi * 50e3, gamma=2 * math.pi * 33.3, kappa=KAPPA,
             tau=9.5e-6, rate=6500 * KAPPA)  # fmt: skip
NMAX = 40


def bench_path(model: Model, method: str, atoms: int, ntraj: int) -> float:
    """Atom passages per second of ``simulate_block`` (after a warm-up call for the JIT)."""
    run = RunParams(atoms=atoms, ntraj=ntraj, block_size=ntraj, samples=50,
                    burn_in=atoms // 2, method=method, nmax=NMAX, seed=1)  # fmt: skip
    warm = RunParams(atoms=200, ntraj=2, block_size=2, samples=10, burn_in=100,
                     method=method, nmax=NMAX)  # fmt: skip
    simulate_block(model, warm, 0)
    t0 = time.perf_counter()
    res = simulate_block(model, run, 0)
    return res.passages / (time.perf_counter() - t0)


def bench_qutip(model: Model, passages: int) -> float:
    """Seconds per atom passage with qutip 5 MCSolver stepped atom by atom (one trajectory)."""
    import qutip as qt

    n1 = NMAX + 1
    e, g = qt.basis(2, 0), qt.basis(2, 1)
    a = qt.tensor(qt.qeye(2), qt.destroy(n1))
    sm = qt.tensor(g * e.dag(), qt.qeye(n1))
    sz = qt.tensor(e * e.dag() - g * g.dag(), qt.qeye(n1))
    h = 0.5 * model.detuning * sz + model.g * (sm.dag() * a + sm * a.dag())
    down, up = model.kappa * (1 + model.nbar_bath), model.kappa * model.nbar_bath
    opts = {"norm_t_tol": 1e-12, "progress_bar": False}
    cops = [math.sqrt(model.gamma) * sm, math.sqrt(down) * a]
    if up > 0:
        cops.append(math.sqrt(up) * a.dag())
    inter = qt.MCSolver(h, cops, options=opts)
    ac = qt.destroy(n1)
    gap = qt.MCSolver(0 * ac, [math.sqrt(down) * ac], options=opts)
    probs, amps = atom_eigenstates(model.pe, model.coherence)
    atoms = [qt.Qobj(v.reshape(2, 1)) for v in amps]
    proj_e = qt.tensor(e * e.dag(), qt.qeye(n1))
    rng = np.random.default_rng(0)
    tgap = 1.0 / model.rate - model.tau
    psi = qt.basis(n1, 0)
    t0 = time.perf_counter()
    for k in range(passages):
        atom = atoms[0] if rng.random() < probs[0] else atoms[1]
        inter.start(qt.tensor(atom, psi), 0.0, seed=2 * k)
        joint = inter.step(model.tau)
        row = 0 if rng.random() < qt.expect(proj_e, joint) else 1
        cav = qt.Qobj(joint.full().reshape(2, n1)[row].reshape(n1, 1)).unit()
        gap.start(cav, 0.0, seed=2 * k + 1)
        psi = gap.step(tgap).unit()
    return (time.perf_counter() - t0) / passages


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--atoms", type=int, default=20000, help="atoms per trajectory")
    ap.add_argument("--ntraj", type=int, default=20, help="trajectories per path")
    ap.add_argument("--qutip-passages", type=int, default=1000)
    args = ap.parse_args()
    diag = Model(**PAPER)
    coh = Model(**PAPER, coherence=0.1)
    fock = bench_path(diag, "fock", args.atoms, args.ntraj)
    general = bench_path(coh, "general", args.atoms, args.ntraj)
    q_coh = bench_qutip(coh, args.qutip_passages)
    q_diag = bench_qutip(diag, args.qutip_passages)
    print(f"paper parameters, regular pump, Nex = 6500, pe = 0.14; nmax = {NMAX} (general, qutip)")
    print(f"{'route':<40}{'passages/s':>14}{'s/passage':>14}{'speed-up':>12}")
    rows = [
        ("Fock path (diagonal atoms)", fock, q_diag),
        ("general path (coherence 0.1)", general, q_coh),
        ("qutip MCSolver stepped (diagonal)", 1.0 / q_diag, q_diag),
        ("qutip MCSolver stepped (coherence 0.1)", 1.0 / q_coh, q_coh),
    ]
    for name, rate, q in rows:
        print(f"{name:<40}{rate:>14.4g}{1.0 / rate:>14.3g}{rate * q:>11.0f}x")
    print(
        f"targets: Fock >= 2000x, general >= 200x faster than qutip per passage; "
        f"general >= 1e6 passages/s: {'met' if general >= 1e6 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
