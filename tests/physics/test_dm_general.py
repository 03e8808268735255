"""General density-matrix path (coherent atoms and fields, detuning) against qutip and
against the diagonal fast path (validation ladder, rungs 2 and 4)."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
import qutip as qt
from scipy.linalg import expm

from trajmaser import dm
from trajmaser.dm import general as dm_general
from trajmaser.params import InitialField, Model

NMAX = 10


def model(**kw) -> Model:
    base = dict(
        pe=0.32, omega=1.7, g=1.1, gamma=0.35, kappa=0.6, tau=0.8, rate=0.4,
        detuning=0.7, nbar_bath=0.4, coherence=0.25 - 0.18j,
        initial=InitialField("coherent", 1.2),
    )  # fmt: skip
    base.update(kw)
    return Model(**base)


def qutip_liouvillians(m: Model, nmax: int):
    """Dense column-stacking Liouvillians of atom⊗cavity and cavity (e = basis(2, 0))."""
    n1 = nmax + 1
    a = qt.tensor(qt.qeye(2), qt.destroy(n1))
    sp_ = qt.tensor(qt.destroy(2), qt.qeye(n1))
    sm = sp_.dag()
    h = 0.5 * m.detuning * (sp_ * sm - sm * sp_) + m.g * (sp_ * a + sm * a.dag())
    k1, k2 = m.kappa * (1 + m.nbar_bath), m.kappa * m.nbar_bath
    full = qt.liouvillian(h, [math.sqrt(m.gamma) * sm, math.sqrt(k1) * a, math.sqrt(k2) * a.dag()])
    ac = qt.destroy(n1)
    cav = qt.liouvillian(0 * ac, [math.sqrt(k1) * ac, math.sqrt(k2) * ac.dag()])
    return full.full(), cav.full()


def rho0(m: Model) -> np.ndarray:
    c = complex(m.coherence)
    return np.array([[m.pe, c], [np.conj(c), 1 - m.pe]])


def qutip_cycle(m: Model, nmax: int):
    """One regular period (atom, then gap) as a function on cavity density matrices."""
    n1 = nmax + 1
    lfull, lcav = qutip_liouvillians(m, nmax)
    patom, pgap = expm(lfull * m.tau), expm(lcav * (1 / m.rate - m.tau))

    def atom(rc):
        big = np.kron(rho0(m), rc).ravel(order="F")
        out = (patom @ big).reshape(2 * n1, 2 * n1, order="F").reshape(2, n1, 2, n1)
        return np.einsum("aiaj->ij", out)

    def gap(rc):
        return (pgap @ rc.ravel(order="F")).reshape(n1, n1, order="F")

    return atom, gap


def random_density(n1: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n1, n1)) + 1j * rng.normal(size=(n1, n1))
    r = x @ x.conj().T
    return r / np.trace(r)


def test_coherent_atom_map_equals_qutip():
    m = model()
    atom, _ = qutip_cycle(m, NMAX)
    rc = random_density(NMAX + 1, 1)
    maps = dm_general.cavity_maps(m, NMAX)
    ours = (maps["A"] @ rc.ravel()).reshape(NMAX + 1, NMAX + 1)
    assert np.abs(ours - atom(rc)).max() < 1e-10


def test_coherent_steady_state_is_fixed_point_of_qutip_cycle():
    m = model()
    res = dm_general.steady_at(m, NMAX)
    assert abs(res["arrival"]["a_mean"][0]) + abs(res["arrival"]["a_mean"][1]) > 1e-3
    atom, gap = qutip_cycle(m, NMAX)
    # rebuild ρ from the map's fixed point and apply one qutip period
    maps = dm_general.cavity_maps(m, NMAX)
    rho = dm_general.fixed_point(maps["step"], NMAX + 1)
    assert np.abs(gap(atom(rho)) - rho).max() < 1e-10
    assert abs(np.real(np.diag(rho)) @ np.arange(NMAX + 1) - res["arrival"]["n_mean"]) < 1e-12


def test_coherent_series_equals_qutip_sequence():
    m = model()
    atom, gap = qutip_cycle(m, NMAX)
    n1 = NMAX + 1
    rc = dm.initial_density(m, NMAX)
    alpha = m.initial.value
    ref0 = qt.coherent_dm(n1, alpha, method="analytic").full()
    assert np.abs(rc - ref0 / np.trace(ref0)).max() < 1e-12
    nop = np.arange(n1)
    want_arr, want_a = [], []
    for _ in range(4):
        want_arr.append(np.real(np.diag(rc)) @ nop)
        want_a.append(np.sum(np.diagonal(rc, -1) * np.sqrt(np.arange(1.0, n1))))  # Tr(ρ a)
        rc = gap(atom(rc))
    got = dm_general.arrival_series_at(m, np.arange(4), NMAX)
    assert np.allclose(got["n_mean"], want_arr, atol=1e-10)
    assert np.allclose(got["a_mean"], want_a, atol=1e-10)
    # mid-interaction time of atom 2 via an independent mesolve
    lfull, _ = qutip_liouvillians(m, NMAX)
    rc2 = gap(atom(gap(atom(dm.initial_density(m, NMAX)))))
    big = qt.Qobj(np.kron(rho0(m), rc2), dims=[[2, n1], [2, n1]])
    h = qt.Qobj(lfull, dims=[[[2, n1], [2, n1]], [[2, n1], [2, n1]]], superrep="super")
    st = qt.mesolve(h, big, [0.0, 0.45 * m.tau], options={"atol": 1e-12, "rtol": 1e-10})
    ref = np.real(np.diag(st.states[-1].ptrace(1).full())) @ nop
    t = 2 / m.rate + 0.45 * m.tau
    assert abs(dm_general.slotted_series_at(m, np.array([t]), NMAX)["n_mean"][0] - ref) < 1e-7


@pytest.mark.parametrize("stats", ["regular", "poisson", "binomial"])
def test_general_equals_fast_path_on_diagonal_inputs(stats):
    m = model(coherence=0j, initial=InitialField("fock", 2.0), statistics=stats, p=0.6)
    assert m.is_diagonal
    fast, gen = dm.steady(m, nmax=NMAX), dm_general.steady_at(m, NMAX)
    for key in ("arrival", "time"):
        assert np.abs(np.array(fast[key]["p"]) - gen[key]["p"]).max() < 1e-12
    idx = [0, 1, 3, 7]
    a, b = (
        dm.arrival_series(m, idx, nmax=NMAX),
        dm_general.arrival_series_at(m, np.array(idx), NMAX),
    )
    assert np.abs(a["p"] - b["p"]).max() < 1e-12
    if stats != "poisson":
        times = [0.3, 2.6, 5.9, 11.0]
        a, b = (
            dm.time_series(m, times, nmax=NMAX),
            dm_general.slotted_series_at(m, np.array(times), NMAX),
        )
        assert np.abs(a["p"] - b["p"]).max() < 1e-12


def test_dispatch_and_poisson_time_series_limit():
    m = model()
    assert not m.is_diagonal
    assert (
        dm.steady(m, nmax=NMAX)["arrival"]["a_mean"]
        == dm_general.steady_at(m, NMAX)["arrival"]["a_mean"]
    )
    with pytest.raises(ValueError, match="poisson"):
        dm.time_series(replace(m, statistics="poisson"), [1.0], nmax=NMAX)


@pytest.mark.parametrize("coherence", [0j, 0.25 - 0.18j], ids=["diagonal", "general"])
def test_nmax_limit_is_honoured_on_both_paths(coherence):
    m = model(coherence=coherence, initial=InitialField("vacuum"), pe=0.45, g=0.3, kappa=0.05)
    with pytest.raises(ValueError, match="nmax_limit=12"):
        dm.steady(m, tol=1e-12, nmax_limit=12)
    assert dm.steady(m, tol=1e-12)["nmax"] > 12
