"""Periodic pumping with jitter (intervals uniform in [(1 − j)/r, (1 + j)/r]).

References: (1) a dense reference written here, independent of trajmaser.dm: the qutip
Liouvillian on atom ⊗ cavity, the per-atom map by dense exponentials, and the jitter-averaged
gap maps by Gauss–Legendre quadrature of e^{L_c t} over the uniform law (no Van Loan); the
density matrices must match it to 1e-8.  (2) Fock-path trajectories at a fixed seed: arrival
series and steady states within 4 of their own standard errors.
"""

from __future__ import annotations

import functools
from dataclasses import replace

import numpy as np
import pytest
import qutip as qt
from scipy import stats
from scipy.linalg import expm
from scipy.stats import chi2

from trajmaser import dm, pump
from trajmaser.compare import var_estimate
from trajmaser.params import ConfigError, InitialField, Model, RunParams
from trajmaser.rules import check_model
from trajmaser.trajectories import simulate

NMAX = 8
GENERAL = Model(
    pe=0.35, omega=1.3, g=1.1, gamma=0.3, kappa=0.5, tau=0.8, rate=0.4,
    detuning=0.6, nbar_bath=0.3, coherence=0.2 - 0.1j, initial=InitialField("coherent", 0.9),
    statistics="jitter", pump_params={"jitter": 0.5},
)  # fmt: skip
DIAGONAL = replace(GENERAL, coherence=0j, initial=InitialField("fock", 1.0))


# ------------------------------------------------------------ independent dense reference
def _gauss(lo: float, hi: float, n: int = 30):
    x, w = np.polynomial.legendre.leggauss(n)
    return 0.5 * (hi - lo) * x + 0.5 * (hi + lo), 0.5 * (hi - lo) * w


class Dense:
    """Maps on column-stacked vec(ρ_cavity), cavity 0..NMAX, atom basis (e, g)."""

    def __init__(self, m: Model):
        n1 = self.n1 = NMAX + 1
        a = qt.destroy(n1)
        sm = qt.Qobj(np.array([[0.0, 0.0], [1.0, 0.0]]))  # |g><e|, e first
        ia, ic = qt.qeye(2), qt.qeye(n1)
        sz = qt.Qobj(np.diag([1.0, -1.0]))
        big_a, big_s = qt.tensor(ia, a), qt.tensor(sm, ic)
        h = 0.5 * m.detuning * qt.tensor(sz, ic) + m.g * (big_s.dag() * big_a + big_s * big_a.dag())
        down, up = m.kappa * (1 + m.nbar_bath), m.kappa * m.nbar_bath
        cs = [np.sqrt(m.gamma) * big_s, np.sqrt(down) * big_a, np.sqrt(up) * big_a.dag()]
        self.l_full = qt.liouvillian(h, cs).full()
        self.l_gap = qt.liouvillian(0 * a, [np.sqrt(down) * a, np.sqrt(up) * a.dag()]).full()
        c = complex(m.coherence)
        rho0 = np.array([[m.pe, c], [np.conj(c), 1 - m.pe]])
        d = 2 * n1
        self.embed = np.zeros((d * d, n1 * n1), dtype=complex)
        self.trace = np.zeros((n1 * n1, d * d))
        for j in range(n1 * n1):
            basis = np.zeros(n1 * n1)
            basis[j] = 1.0
            rc = basis.reshape(n1, n1, order="F")
            self.embed[:, j] = np.kron(rho0, rc).ravel(order="F")
            big = np.zeros((d, d))
            big[:n1, :n1] = rc
            big[n1:, n1:] = rc
            self.trace[j] = big.ravel(order="F")
        self.a_map = self.trace @ expm(self.l_full * m.tau) @ self.embed
        s, w = _gauss(0.0, m.tau)
        self.a_int = sum(
            wi * self.trace @ expm(self.l_full * si) @ self.embed
            for si, wi in zip(s, w, strict=True)
        )
        j = m.pump_values["jitter"]
        lo, hi = (1 - j) / m.rate - m.tau, (1 + j) / m.rate - m.tau
        s, w = _gauss(lo, hi)
        self.gap = sum(wi * expm(self.l_gap * si) for si, wi in zip(s, w, strict=True)) / (hi - lo)
        # ⟨∫_0^X e^{Ls} ds⟩ = ∫_0^lo e^{Ls} ds + (1/w) ∫_lo^hi (hi − s) e^{Ls} ds
        s0, w0 = _gauss(0.0, lo)
        free = sum(wi * expm(self.l_gap * si) for si, wi in zip(s0, w0, strict=True))
        self.free_int = free + sum(
            wi * (hi - si) * expm(self.l_gap * si) for si, wi in zip(s, w, strict=True)
        ) / (hi - lo)
        self.rate = m.rate

    def steady(self):
        step = self.gap @ self.a_map
        vals, vecs = np.linalg.eig(step)
        v = vecs[:, np.argmin(np.abs(vals - 1.0))]
        v = v / np.trace(v.reshape(self.n1, self.n1, order="F"))
        occ = self.rate * (self.a_int + self.free_int @ self.a_map)
        return self.stats(v), self.stats(occ @ v)

    def arrivals(self, rho_init, upto):
        v, out = rho_init.ravel(order="F"), []
        for _ in range(upto + 1):
            out.append(self.stats(v))
            v = self.gap @ (self.a_map @ v)
        return out

    def stats(self, v):
        rho = v.reshape(self.n1, self.n1, order="F")
        p = np.real(np.diag(rho))
        amean = np.sum(np.diagonal(rho, -1) * np.sqrt(np.arange(1.0, self.n1)))  # Tr(ρ a)
        return p, amean


@functools.cache
def _dense(model: Model) -> Dense:
    return Dense(model)


@pytest.mark.parametrize("model", [GENERAL, DIAGONAL], ids=["general", "diagonal"])
def test_steady_state_matches_dense_quadrature(model):
    ref_arr, ref_time = _dense(model).steady()
    got = dm.steady(model, nmax=NMAX)
    for block, (p, amean) in (("arrival", ref_arr), ("time", ref_time)):
        assert np.abs(np.array(got[block]["p"]) - p).max() < 1e-8, block
        if not model.is_diagonal:
            assert abs(complex(*got[block]["a_mean"]) - amean) < 1e-8, block
    if not model.is_diagonal:
        assert abs(ref_arr[1]) > 1e-3  # the coherence is carried (the test has power)


@pytest.mark.parametrize("model", [GENERAL, DIAGONAL], ids=["general", "diagonal"])
def test_arrival_series_matches_dense_quadrature(model):
    refs = _dense(model).arrivals(dm.initial_density(model, NMAX), 5)
    got = dm.arrival_series(model, [0, 2, 5], nmax=NMAX)
    for i, k in enumerate((0, 2, 5)):
        assert np.abs(got["p"][i] - refs[k][0]).max() < 1e-8
        if not model.is_diagonal:
            assert abs(got["a_mean"][i] - refs[k][1]) < 1e-8


def test_zero_jitter_is_regular_pumping():
    j0 = replace(DIAGONAL, pump_params={"jitter": 0.0})
    a, b = (
        dm.steady(j0, nmax=NMAX),
        dm.steady(replace(j0, statistics="regular", pump_params={}), nmax=NMAX),
    )
    for block in ("arrival", "time"):
        assert np.abs(np.array(a[block]["p"]) - b[block]["p"]).max() < 1e-12


def test_largest_allowed_jitter_and_clear_errors():
    j_max = 1.0 - DIAGONAL.rate * DIAGONAL.tau  # shortest interval exactly tau
    dm.steady(replace(DIAGONAL, pump_params={"jitter": j_max}), nmax=NMAX)
    with pytest.raises(ConfigError, match="atoms would overlap; need jitter <= 1 - r·tau"):
        check_model(replace(DIAGONAL, pump_params={"jitter": j_max + 0.01}))
    with pytest.raises(ConfigError, match="needs 'jitter'"):
        check_model(replace(DIAGONAL, pump_params={}))
    with pytest.raises(ValueError, match="jitter pumping is not available.*arrival_series"):
        dm.time_series(DIAGONAL, [1.0], nmax=NMAX)


@pytest.mark.parametrize("scalar", [False, True])
def test_intervals_are_uniform(scalar):
    rate, tau, j = 2.0, 0.2, 0.6
    rng = np.random.default_rng(3)
    if scalar:
        m = Model(pe=0.5, omega=1.0, g=1.0, gamma=0, kappa=1.0, tau=tau, rate=rate,
                  statistics="jitter", pump_params={"jitter": j})  # fmt: skip
        code, pars = pump.kernel_args(m)
        slot, t = pump.first_arrival(code, pars, rng)
        times = [t]
        for _ in range(5000):
            slot, t = pump.next_arrival(code, slot, t, pars, rng)
            times.append(t)
        assert times[0] == 0.0 and slot == -1
        gaps = np.diff(times)
    else:
        gaps = pump.intervals("jitter", rate, tau, {"jitter": j}, 5000, rng)
    law = stats.uniform((1 - j) / rate, 2 * j / rate)
    assert stats.kstest(gaps, law.cdf).pvalue > 1e-3
    assert stats.kstest(gaps, stats.uniform(0.9 * (1 - j) / rate, 2 * j / rate).cdf).pvalue < 1e-3
    assert pump.mean_rate("jitter", rate, tau, {"jitter": j}) == pytest.approx(rate, rel=1e-14)


# ------------------------------------------------------------ trajectories vs density matrix
TRAJ = Model(
    pe=0.4, omega=1.0, g=1.2, gamma=0.3, kappa=0.4, tau=1.0, rate=0.5, nbar_bath=0.2,
    statistics="jitter", pump_params={"jitter": 0.45}, initial=InitialField("vacuum"),
)  # fmt: skip
RUN = RunParams(atoms=120, ntraj=3000, samples=8, burn_in=60, seed=2024, block_size=1000)


@functools.cache
def _run():
    return simulate(TRAJ, RUN)


def _check_series(value, err, ref, what):
    value, err, ref = np.asarray(value), np.asarray(err), np.asarray(ref)
    exact = err == 0  # deterministic records (the vacuum before atom 0)
    assert np.allclose(value[exact], ref[exact], atol=1e-9), what
    z = (value[~exact] - ref[~exact]) / err[~exact]
    assert np.all(np.abs(z) < 4), f"{what}: z = {np.round(z, 2)}"
    assert chi2.sf(np.sum(z * z), z.size) > 1e-3, f"{what}: chi2 = {np.sum(z * z):.1f}"


def test_fock_trajectories_match_density_matrix():
    res = _run()
    ar = dm.arrival_series(TRAJ, res.arrival_index)
    est = res.arrival.photon_estimates(TRAJ.omega)
    _check_series(est["n_mean"], est["n_mean_err"], ar["n_mean"], "arrival <n>")
    var, verr = var_estimate(res.arrival)
    _check_series(var, verr, ar["n_var"], "arrival Var(n)")
    st = dm.steady(TRAJ)
    assert abs(dm.arrival_series(TRAJ, [RUN.burn_in])["n_mean"][0] - st["arrival"]["n_mean"]) < 1e-6
    for block, mom in (("arrival", res.steady_arrival), ("time", res.steady_time)):
        got = mom.photon_estimates(TRAJ.omega)
        for key in ("n_mean", "mandel_q"):
            z = (got[key][0] - st[block][key]) / got[f"{key}_err"][0]
            assert abs(z) < 4, f"steady {block} {key}: z = {z:.2f}"
