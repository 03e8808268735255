"""General-path trajectories vs qutip's Monte-Carlo solver on a small problem.

qutip 5 ``MCSolver`` (joint atom ⊗ cavity H and collapse operators, and a cavity-only solver
for the gaps) is stepped atom by atom with the same protocol: atom pure state drawn from ρ0's
eigen-decomposition, interaction τ, projective {e, g} measurement at exit, free gap.  The mean
⟨n⟩ of the conditional states just before each atom must agree within 4 combined standard
errors.  Strong γ, κ and detuning make jumps frequent; coherence and a coherent field make the
general path necessary.
"""

from __future__ import annotations

import numpy as np
import pytest

from trajmaser.params import InitialField, Model, RunParams
from trajmaser.trajectories.general import atom_eigenstates, run_general_block
from trajmaser.trajectories.records import record_plan, to_result

qt = pytest.importorskip("qutip")

NMAX = 12
ATOMS = 5
MODEL = Model(pe=0.4, omega=1.0, g=1.0, gamma=0.6, kappa=0.5, tau=1.0, rate=0.5,
              coherence=0.3 + 0.2j, detuning=0.5, nbar_bath=0.1,
              initial=InitialField("coherent", 0.6))  # fmt: skip


def _qutip_arrival_means(model: Model, ntraj: int, seed: int) -> np.ndarray:
    """⟨n⟩ just before atoms 0 … ATOMS−1 on ``ntraj`` qutip trajectories (rows)."""
    n1 = NMAX + 1
    e, g = qt.basis(2, 0), qt.basis(2, 1)
    a = qt.tensor(qt.qeye(2), qt.destroy(n1))
    sm = qt.tensor(g * e.dag(), qt.qeye(n1))
    sz = qt.tensor(e * e.dag() - g * g.dag(), qt.qeye(n1))
    h = 0.5 * model.detuning * sz + model.g * (sm.dag() * a + sm * a.dag())
    down, up = model.kappa * (1 + model.nbar_bath), model.kappa * model.nbar_bath
    opts = {"norm_t_tol": 1e-10, "progress_bar": False}
    inter = qt.MCSolver(h, [np.sqrt(model.gamma) * sm, np.sqrt(down) * a, np.sqrt(up) * a.dag()],
                        options=opts)  # fmt: skip
    ac = qt.destroy(n1)
    gap = qt.MCSolver(0 * ac, [np.sqrt(down) * ac, np.sqrt(up) * ac.dag()], options=opts)
    probs, amps = atom_eigenstates(model.pe, model.coherence)
    atoms = [qt.Qobj(v.reshape(2, 1)) for v in amps]
    proj_e = qt.tensor(e * e.dag(), qt.qeye(n1))
    num = qt.num(n1)
    rng = np.random.default_rng(seed)
    seeds = np.random.SeedSequence(seed).spawn(2 * ntraj * ATOMS)
    out = np.zeros((ntraj, ATOMS))
    tgap = 1.0 / model.rate - model.tau
    for i in range(ntraj):
        psi = qt.coherent(n1, model.initial.value)
        for k in range(ATOMS):
            out[i, k] = qt.expect(num, psi)
            atom = atoms[0] if rng.random() < probs[0] else atoms[1]
            inter.start(qt.tensor(atom, psi), 0.0, seed=seeds[2 * (i * ATOMS + k)])
            joint = inter.step(model.tau)
            pe = qt.expect(proj_e, joint)
            row = 0 if rng.random() < pe else 1
            cav = qt.Qobj(joint.full().reshape(2, n1)[row].reshape(n1, 1)).unit()
            gap.start(cav, 0.0, seed=seeds[2 * (i * ATOMS + k) + 1])
            psi = gap.step(tgap).unit()
    return out


def test_arrival_means_match_qutip_mcsolve():
    ref = _qutip_arrival_means(MODEL, ntraj=1200, seed=11)
    q_mean = ref.mean(axis=0)
    q_err = ref.std(axis=0, ddof=1) / np.sqrt(ref.shape[0])
    run = RunParams(atoms=ATOMS, ntraj=20000, samples=ATOMS, burn_in=1, nmax=NMAX)
    plan = record_plan(MODEL, run)
    assert list(plan.arrival_index) == list(range(ATOMS))
    raw = run_general_block(MODEL, run, run.ntraj, np.random.default_rng(5), plan)
    est = to_result(plan, raw, MODEL.omega, run.ntraj).arrival.photon_estimates(MODEL.omega)
    # atom 0 sees the initial field: deterministic in both
    assert est["n_mean"][0] == pytest.approx(q_mean[0], rel=1e-9)
    err = np.hypot(est["n_mean_err"][1:], q_err[1:])
    z = (est["n_mean"][1:] - q_mean[1:]) / err
    assert np.all(np.abs(z) < 4.0), z
