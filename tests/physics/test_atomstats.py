"""Exact statistics of the detected atoms (trajmaser.dm.atomstats).

References: an independent full density-matrix construction with qutip (joint atom–cavity
Liouvillian, atom projected on |e⟩ / |g⟩, gap maps on the full cavity density matrix) and
brute-force enumeration of the 2^W outcome sequences; the analytic no-coupling limit
(g = 0: independent atoms, N_e binomial, Q_a = −η pe e^{−γτ}); the trajectory click record.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools

import numpy as np
import pytest
import qutip as qt
from scipy.linalg import expm

from trajmaser import dm
from trajmaser.dm.atomstats import atom_q, conditional_maps, gap_map
from trajmaser.params import InitialField, Model, RunParams
from trajmaser.trajectories import simulate_block

NMAX = 5
BASE = Model(
    pe=0.7,
    omega=1.0,
    g=1.1,
    gamma=0.3,
    kappa=0.4,
    tau=1.0,
    rate=0.3,
    nbar_bath=0.2,
    initial=InitialField("thermal"),
)
CASES = [
    dataclasses.replace(BASE, statistics="regular"),
    dataclasses.replace(BASE, statistics="poisson"),
    dataclasses.replace(BASE, statistics="binomial", p=0.6),
]


# ------------------------------------------------------------------ qutip reference
@functools.cache
def _superops(model: Model, nmax: int):
    """Full-density-matrix channels: conditional atom maps, gap map, first-arrival map."""
    d = nmax + 1
    a = qt.tensor(qt.qeye(2), qt.destroy(d))
    sm = qt.tensor(qt.basis(2, 1) * qt.basis(2, 0).dag(), qt.qeye(d))  # |g><e|, e = index 0
    h = model.g * (sm.dag() * a + sm * a.dag())
    k1, k2 = model.kappa * (1 + model.nbar_bath), model.kappa * model.nbar_bath
    cops = [np.sqrt(model.gamma) * sm, np.sqrt(k1) * a, np.sqrt(k2) * a.dag()]
    u_int = expm(qt.liouvillian(h, cops).full() * model.tau)
    ac = qt.destroy(d)
    lgap = qt.liouvillian(0 * ac, [np.sqrt(k1) * ac, np.sqrt(k2) * ac.dag()]).full()
    rho0 = np.diag([model.pe, 1 - model.pe])

    def cond(outcome):
        mat = np.zeros((d * d, d * d), dtype=complex)
        for j in range(d * d):
            rc = np.zeros(d * d, dtype=complex)
            rc[j] = 1.0
            rc = rc.reshape(d, d, order="F")
            joint = np.kron(rho0, rc).reshape(-1, order="F")
            out = (u_int @ joint).reshape(2 * d, 2 * d, order="F")
            blk = out[outcome * d : (outcome + 1) * d, outcome * d : (outcome + 1) * d]
            mat[:, j] = blk.reshape(-1, order="F")
        return mat

    eye = np.eye(d * d)
    r, tau = model.rate, model.tau
    if model.statistics == "regular":
        s, first = expm(lgap * (1 / r - tau)), eye
    elif model.statistics == "poisson":
        mu = 1 / (1 / r - tau)
        s, first = mu * np.linalg.inv(mu * eye - lgap), eye
    else:
        p, slot = model.p, model.p / r
        first = p * np.linalg.inv(eye - (1 - p) * expm(lgap * slot))
        s = first @ expm(lgap * (slot - tau))
    return cond(0), cond(1), s, first, d


def _brute_q(model: Model, window: int, start: int | None, nmax: int = NMAX) -> float:
    a_e, a_g, s, first, d = _superops(model, nmax)
    step = s @ (a_e + a_g)
    if start is None:
        w, v = np.linalg.eig(step)
        rho = v[:, np.argmin(np.abs(w - 1))]
    else:
        q = np.exp(-model.omega)
        rho = np.diag((1 - q) * q ** np.arange(d)).reshape(-1, order="F").astype(complex)
        rho = first @ rho
        for _ in range(start):
            rho = step @ rho
    trace = np.eye(d).reshape(-1, order="F")
    rho = rho / (trace @ rho)
    probs = np.zeros(window + 1)
    for seq in itertools.product((0, 1), repeat=window):
        v = rho
        for i, o in enumerate(seq):
            v = (a_e if o == 0 else a_g) @ v
            if i < window - 1:
                v = s @ v
        probs[seq.count(0)] += float(np.real(trace @ v))
    k = np.arange(window + 1)
    mean = probs @ k
    return float(probs @ k**2 - mean**2) / mean - 1.0


# ------------------------------------------------------------------ tests
@pytest.mark.parametrize("model", CASES, ids=lambda m: m.statistics)
def test_conditional_maps_sum_to_atom_map(model):
    a_e, a_g = conditional_maps(model, 8)
    np.testing.assert_allclose(a_e + a_g, dm.atom_maps(model, 8)[0], atol=1e-13)
    s, _ = gap_map(model, 8)
    np.testing.assert_allclose(s @ (a_e + a_g), dm.pump_maps(model, 8).step, atol=1e-12)


@pytest.mark.parametrize("model", CASES, ids=lambda m: m.statistics)
@pytest.mark.parametrize("window", [2, 3])
@pytest.mark.parametrize("start", [None, 2])
def test_matches_brute_force_enumeration(model, window, start):
    got = atom_q(model, window, start=start, nmax=NMAX)["mandel_q"]
    assert got == pytest.approx(_brute_q(model, window, start), abs=1e-10)


@pytest.mark.parametrize("eta", [1.0, 0.6])
def test_no_coupling_gives_binomial_counts(eta):
    model = dataclasses.replace(CASES[1], g=0.0)
    res = atom_q(model, 50, efficiency=eta, nmax=10)
    p_e = eta * model.pe * np.exp(-model.gamma * model.tau)
    assert res["p_e"] == pytest.approx(p_e, rel=1e-12)
    assert res["mandel_q"] == pytest.approx(-p_e, abs=1e-11)


def test_efficiency_scales_q():
    full = atom_q(CASES[0], 20, nmax=10)["mandel_q"]
    assert atom_q(CASES[0], 20, efficiency=0.3, nmax=10)["mandel_q"] == pytest.approx(
        0.3 * full, rel=1e-10
    )


def test_bad_input():
    with pytest.raises(ValueError, match="window"):
        atom_q(CASES[0], 0, nmax=5)
    with pytest.raises(ValueError, match="efficiency"):
        atom_q(CASES[0], 5, efficiency=0.0, nmax=5)
    with pytest.raises(ValueError, match="diagonal"):
        atom_q(dataclasses.replace(CASES[0], coherence=0.1 + 0j), 5, nmax=5)


def test_trajectory_clicks_agree():
    """Q_a from the trajectory click record (η = 1) vs the exact window statistics.

    Error: jackknife over trajectory blocks; tolerance 4 standard errors.
    """
    model = Model(
        pe=1.0, omega=1.0, g=100.0, gamma=0.0, kappa=1.0, tau=0.01, rate=10.0,
        nbar_bath=0.15, initial=InitialField("vacuum"), statistics="poisson",
    )  # fmt: skip
    run = RunParams(atoms=40, ntraj=4000, samples=4, burn_in=10, seed=7, block_size=250)
    sums = []
    for b in range(run.ntraj // run.block_size):
        c = simulate_block(model, run, b).clicks
        assert np.all(c.sy == c.count * (run.atoms - run.burn_in))  # every atom detected
        sums.append([c.count[0], c.sx[0], c.sxx[0]])
    sums = np.array(sums)

    def q_of(s):
        n, sx, sxx = s
        mean = sx / n
        var = (sxx - n * mean * mean) / (n - 1)
        return var / mean - 1.0

    total = sums.sum(axis=0)
    q = q_of(total)
    loo = np.array([q_of(total - row) for row in sums])
    nb = len(sums)
    err = np.sqrt((nb - 1) / nb * np.sum((loo - loo.mean()) ** 2))
    exact = atom_q(model, run.atoms - run.burn_in, start=run.burn_in)["mandel_q"]
    assert abs(q - exact) < 4 * err, (q, err, exact)
    assert exact < -0.05  # the check is not vacuous: sub-Poissonian atom counts


@pytest.mark.parametrize("model", CASES, ids=lambda m: m.statistics)
def test_field_is_dm_steady_arrival_state(model):
    res = atom_q(model, 5)
    ref = dm.steady(model)["arrival"]
    assert res["tail"] < 1e-12
    for key in ("n_mean", "mandel_q"):
        assert res["field"][key] == pytest.approx(ref[key], rel=1e-9, abs=1e-12)
