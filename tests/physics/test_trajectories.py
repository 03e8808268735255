"""Fock-path trajectory ensembles vs density matrices (SPEC §6 rung 4).

Two references: an independent dense Lindblad calculation written here (atom ⊗ truncated
cavity, full superoperator, scipy expm; regular and binomial time series, arrival series of
all three statistics, click probabilities) and the project's :mod:`trajmaser.dm` solver
(all series and the steady state, including the Poisson time series).  Every record point
must agree within 4 of the trajectory result's own standard errors, and each series must
pass a χ² test (p > 1e-3).  Strong damping (γτ, κτ ~ 0.1–1), detuning and n_b > 0 appear.
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np
import pytest
from scipy import sparse
from scipy.linalg import expm
from scipy.sparse.linalg import expm_multiply
from scipy.stats import chi2

from trajmaser import dm
from trajmaser.compare import var_estimate
from trajmaser.params import InitialField, Model, RunParams
from trajmaser.trajectories import simulate

K = 4.0
NMAX = 16

CASES = {
    "regular": Model(pe=0.4, omega=1.0, g=1.2, gamma=0.3, kappa=0.4, tau=1.0, rate=0.5),
    "regular-nb": Model(
        pe=0.5,
        omega=1.5,
        g=0.8,
        gamma=1.0,
        kappa=0.5,
        tau=1.0,
        rate=0.6,
        nbar_bath=0.5,
        detuning=1.0,
    ),
    "poisson": Model(
        pe=0.3,
        omega=1.0,
        g=0.9,
        gamma=0.8,
        kappa=0.2,
        tau=1.0,
        rate=0.4,
        statistics="poisson",
        nbar_bath=0.3,
        detuning=0.5,
        initial=InitialField("fock", 2),
    ),
    "binomial": Model(
        pe=0.6,
        omega=1.0,
        g=1.5,
        gamma=0.1,
        kappa=1.0,
        tau=1.0,
        rate=0.5,
        statistics="binomial",
        p=0.7,
        initial=InitialField("vacuum"),
    ),
}
RUN = RunParams(
    atoms=120, ntraj=4000, samples=9, burn_in=60, seed=77, block_size=1000, detector_efficiency=0.6
)


# ------------------------------------------------------------ independent dense reference
def _lindblad(h, cs):
    """Sparse superoperator on column-stacked vec(ρ): vec(AρB) = (Bᵀ ⊗ A) vec(ρ)."""
    h = sparse.csr_matrix(h)
    eye = sparse.identity(h.shape[0], format="csr")
    sup = -1j * (sparse.kron(eye, h) - sparse.kron(h.T, eye))
    for c in cs:
        c = sparse.csr_matrix(c)
        cdc = c.conj().T @ c
        sup = sup + sparse.kron(c.conj(), c) - 0.5 * sparse.kron(eye, cdc)
        sup = sup - 0.5 * sparse.kron(cdc.T, eye)
    return sparse.csc_matrix(sup)


class Dense:
    """Atom (basis e, g) ⊗ cavity (0..NMAX), all maps as matrices on vec(ρ_cavity)."""

    def __init__(self, m: Model):
        self.m = m
        nc = self.nc = NMAX + 1
        a = np.diag(np.sqrt(np.arange(1, nc)), 1)
        sm = np.array([[0.0, 0.0], [1.0, 0.0]])
        ia, ic = np.eye(2), np.eye(nc)
        big_a, big_s = np.kron(ia, a), np.kron(sm, ic)
        h = 0.5 * m.detuning * np.kron(np.diag([1.0, -1.0]), ic)
        h = h + m.g * (big_s.T @ big_a + big_s @ big_a.T)
        down, up = m.kappa * (1 + m.nbar_bath), m.kappa * m.nbar_bath
        cs = [np.sqrt(m.gamma) * big_s, np.sqrt(down) * big_a, np.sqrt(up) * big_a.T]
        self.l_int = _lindblad(h, cs)
        self.l_gap = _lindblad(np.zeros((nc, nc)), [np.sqrt(down) * a, np.sqrt(up) * a.T])
        self.l_gap = self.l_gap.toarray()
        rho0 = np.diag([m.pe, 1 - m.pe])
        basis = np.eye(nc * nc)
        self.embed = np.stack(
            [np.kron(rho0, b.reshape(nc, nc, order="F")).ravel(order="F") for b in basis], 1
        )
        d = 2 * nc
        self.trace = np.zeros((nc * nc, d * d))
        proj_e = np.zeros(d * d)
        for i in range(nc):
            for j in range(nc):
                for s in range(2):
                    self.trace[i + j * nc, (s * nc + i) + (s * nc + j) * d] = 1.0
            proj_e[i + i * d] = 1.0
        out = expm_multiply(self.l_int * m.tau, self.embed)
        self.phi_tau = self.trace @ out
        self.excited_row = proj_e @ out  # P(atom leaves excited) = excited_row @ v

    def phi(self, s, v):
        return self.trace @ expm_multiply(self.l_int * s, self.embed @ v)

    def gap(self, s):
        return expm(self.l_gap * s)

    def initial(self):
        m, nc = self.m, self.nc
        if m.initial.kind == "thermal":
            nb = m.nbar_initial
            p = (nb / (1 + nb)) ** np.arange(nc) / (1 + nb)
        else:
            p = np.zeros(nc)
            p[int(m.initial.value)] = 1.0
        return np.diag(p).ravel(order="F").astype(complex)

    def moments(self, v):
        p = np.real(np.diag(v.reshape(self.nc, self.nc, order="F")))
        n = np.arange(self.nc)
        return p @ n, p @ n**2 - (p @ n) ** 2

    def p_excited(self, v):
        """Probability that the atom leaves excited, cavity state v at entry."""
        return float(np.real(self.excited_row @ v))

    @functools.cached_property
    def _slot_maps(self):
        m = self.m
        slot = m.p / m.rate if m.statistics == "binomial" else 1.0 / m.rate
        return slot, self.gap(slot - m.tau) @ self.phi_tau, self.gap(slot)

    def slot_maps(self):
        return self._slot_maps

    def arrivals(self, upto):
        """Cavity state just before atoms 0..upto."""
        m = self.m
        v = self.initial()
        eye = np.eye(v.size)
        if m.statistics == "poisson":
            mu = 1.0 / (1.0 / m.rate - m.tau)
            step = mu * np.linalg.solve(mu * eye - self.l_gap, self.phi_tau)
        else:
            slot, full, empty = self.slot_maps()
            geo = m.p * np.linalg.inv(eye - (1 - m.p) * empty)  # Σ_j p(1−p)^j empty^j
            v = geo @ v
            step = full if m.statistics == "regular" else geo @ full
        out = []
        for _ in range(upto + 1):
            out.append(v)
            v = step @ v
        return out

    def at_times(self, times):
        """Cavity states at increasing times (regular and binomial: exact slot chain)."""
        m = self.m
        slot, full, empty = self.slot_maps()
        chain = m.p * full + (1 - m.p) * empty
        v, k, out = self.initial(), 0, []
        for t in times:
            kt = int(np.floor(t / slot))
            while k < kt:
                v, k = chain @ v, k + 1
            s = t - k * slot
            inside = self.phi(s, v) if s < m.tau else self.gap(s - m.tau) @ self.phi_tau @ v
            out.append(m.p * inside + (1 - m.p) * self.gap(s) @ v)
        return out


@functools.cache
def _trajectories(name):
    return simulate(CASES[name], RUN)


def _check_series(value, err, ref, what):
    value, err, ref = np.asarray(value), np.asarray(err), np.asarray(ref)
    exact = err == 0  # deterministic records (a Fock initial state) must match exactly
    assert np.allclose(value[exact], ref[exact], atol=1e-9), f"{what}: deterministic points"
    z = (value[~exact] - ref[~exact]) / err[~exact]
    assert np.all(np.abs(z) < K), f"{what}: z = {np.round(z, 2)}"
    assert chi2.sf(np.sum(z * z), z.size) > 1e-3, f"{what}: chi2 = {np.sum(z * z):.1f}/{z.size}"


def _check_moments(moments, omega, ref_mean, ref_var, what):
    est = moments.photon_estimates(omega)
    _check_series(est["n_mean"], est["n_mean_err"], ref_mean, f"{what} <n>")
    var, verr = var_estimate(moments)
    _check_series(var, verr, ref_var, f"{what} Var(n)")


@pytest.mark.parametrize("name", list(CASES))
def test_arrival_series_vs_dense_reference(name):
    model, res = CASES[name], _trajectories(name)
    ref = Dense(model)
    states = ref.arrivals(RUN.atoms)
    mom = np.array([ref.moments(states[k]) for k in res.arrival_index])
    assert res.arrival.count[0] == RUN.ntraj
    _check_moments(res.arrival, model.omega, mom[:, 0], mom[:, 1], f"{name} arrival")
    # clicks: fraction of detected steady-window atoms found excited
    pe_ref = np.mean([ref.p_excited(states[k]) for k in range(RUN.burn_in, RUN.atoms)])
    p_e, p_err = res.clicks.ratio_estimate()
    assert abs(p_e[0] - pe_ref) < K * p_err[0]
    detected = res.clicks.sy[0] / (RUN.ntraj * (RUN.atoms - RUN.burn_in))
    eta = RUN.detector_efficiency
    assert abs(detected - eta) < K * np.sqrt(eta * (1 - eta) / res.clicks.sy[0] * eta)


@pytest.mark.parametrize("name", ["regular", "regular-nb", "binomial"])
def test_time_series_vs_dense_reference(name):
    model, res = CASES[name], _trajectories(name)
    ref = Dense(model)
    mom = np.array([ref.moments(v) for v in ref.at_times(res.times)])
    _check_moments(res.time, model.omega, mom[:, 0], mom[:, 1], f"{name} time")


def test_dense_reference_agrees_with_dm_module():
    """Guard for the references themselves (both exact up to truncation)."""
    for name in ("regular-nb", "binomial"):
        model = CASES[name]
        ref = Dense(model)
        times = np.array([3.3, 7.9, 20.25])
        mine = np.array([ref.moments(v)[0] for v in ref.at_times(times)])
        assert np.allclose(mine, dm.time_series(model, times)["n_mean"], atol=1e-6)


@pytest.mark.parametrize("name", list(CASES))
def test_series_and_steady_state_vs_dm_module(name):
    model, res = CASES[name], _trajectories(name)
    ts = dm.time_series(model, res.times)
    _check_moments(res.time, model.omega, ts["n_mean"], ts["n_var"], f"{name} dm time")
    ar = dm.arrival_series(model, res.arrival_index)
    _check_moments(res.arrival, model.omega, ar["n_mean"], ar["n_var"], f"{name} dm arrival")
    st = dm.steady(model)
    # burn-in long enough: the transient is far below the statistical error
    at_burn = dm.arrival_series(model, [RUN.burn_in])["n_mean"][0]
    assert abs(at_burn - st["arrival"]["n_mean"]) < 1e-6
    for block, mom in (("arrival", res.steady_arrival), ("time", res.steady_time)):
        est = mom.photon_estimates(model.omega)
        assert mom.count[0] == RUN.ntraj
        for key in ("n_mean", "Tf_over_Tb", "mandel_q"):
            z = (est[key][0] - st[block][key]) / est[f"{key}_err"][0]
            assert abs(z) < K, f"{name} steady {block} {key}: z = {z:.2f}"


def test_click_correlations_of_atoms_that_do_not_touch_the_field():
    """g = 0: each atom leaves excited w.p. q = pe·e^{−γτ}, independently of all others.

    So x_j (pairs k, k + j both detected excited) has mean (W − j) η² q² per trajectory, y_j
    (k detected excited, k + j detected) (W − j) η² q, with W steady atoms, and the ratio
    Σx/Σy = P(k + j found excited | k detected excited, k + j detected) = q at every lag:
    the detector efficiency η cancels.
    """
    model = dataclasses.replace(CASES["regular"], g=0.0, gamma=0.7)
    eta = 0.6
    run = RunParams(
        atoms=150, ntraj=600, samples=3, burn_in=30, seed=5, block_size=300,
        detector_efficiency=eta,
    )  # fmt: skip
    res = simulate(model, run)
    q = model.pe * np.exp(-model.gamma * model.tau)
    lag = np.arange(1, len(res.click_pairs.count) + 1)
    corr = res.summary()["clicks"]["correlation"]
    assert corr["lag"] == lag.tolist()
    _check_series(corr["p_ee"], corr["p_ee_err"], np.full(lag.size, q), "p_ee")
    pairs = run.atoms - run.burn_in - lag
    mx, my, vx, vy, _ = res.click_pairs.mean_cov()
    _check_series(mx, np.sqrt(vx), pairs * eta**2 * q * q, "x_j")
    _check_series(my, np.sqrt(vy), pairs * eta**2 * q, "y_j")


def test_exact_where_the_no_jump_probability_underflows():
    """κnτ > 745: the no-jump probability of an entering atom is 0 in doubles.

    With g = 0 the cavity alone decays, so n̄ just before atom k (at k/r) is exactly
    n0 e^{−κk/r} (the atoms' own decay γ does not touch it), with variance n0 p (1 − p).
    """
    model = Model(
        pe=0.6, omega=1.0, g=0.0, gamma=0.5, kappa=1.0, tau=1.0, rate=0.5,
        initial=InitialField("fock", 760),
    )  # fmt: skip
    run = RunParams(atoms=4, ntraj=400, samples=4, burn_in=2, seed=3, block_size=400)
    res = simulate(model, run)
    p = np.exp(-model.kappa * res.arrival_index / model.rate)
    _check_moments(res.arrival, model.omega, 760 * p, 760 * p * (1 - p), "underflow arrival")


def test_strongly_damped_cavity_of_the_paper_agrees_with_the_density_matrix():
    """Q = 2e5 at the paper's Ω and τ: κτ ≈ 15, so no-jump probabilities underflow."""
    kappa = 2 * np.pi * 50e9 / 2e5
    model = Model(
        pe=1.0 / (1.0 + np.exp(6.0 / 3.46693)), omega=6.0, g=np.pi * 50e3,
        gamma=2 * np.pi * 33.3, kappa=kappa, tau=9.5e-6, rate=6500 * 2 * np.pi * 50e9 / 2e10,
    )  # fmt: skip
    run = RunParams(atoms=200, ntraj=400, samples=4, burn_in=100, seed=1, block_size=400)
    est = simulate(model, run).steady_arrival.photon_estimates(model.omega)
    ref = dm.steady(model)["arrival"]["n_mean"]
    assert abs(est["n_mean"][0] - ref) < K * est["n_mean_err"][0]


def test_time_average_of_a_decaying_field_is_exact():
    """g = 0, Poisson pumping, n_b > 0: the atoms never touch the field, which relaxes as
    n̄(t) = n_b + (n0 − n_b) e^{−κt}; each trajectory's time average over [t_burn, T] (exact
    integral, windows cutting through interactions and gaps) must average to that law's."""
    model = dataclasses.replace(CASES["poisson"], g=0.0, initial=InitialField("fock", 5))
    run = RunParams(atoms=8, ntraj=4000, samples=4, burn_in=2, seed=9, block_size=2000)
    res = simulate(model, run)
    t_burn, t_end = run.burn_in / model.rate, run.atoms / model.rate
    k, nb = model.kappa, model.nbar_bath
    decay = (np.exp(-k * t_burn) - np.exp(-k * t_end)) / (k * (t_end - t_burn))
    est = res.steady_time.photon_estimates(model.omega)
    _check_series(est["n_mean"], est["n_mean_err"], [nb + (5 - nb) * decay], "time average")


@pytest.mark.parametrize("name", list(CASES))
def test_steady_time_histogram_vs_dm_module(name):
    """p(n) averaged over the steady window: within 4 × sqrt(p(1 − p)/ntraj), the largest
    standard error of a mean of per-trajectory values in [0, 1]."""
    model, res = CASES[name], _trajectories(name)
    p_ref = np.asarray(dm.steady(model)["time"]["p"])
    p = res.steady_time.hist[0] / res.steady_time.count[0]
    size = min(p.size, p_ref.size)
    assert np.all(p[size:] < 1e-3) and np.all(p_ref[size:] < 1e-3)
    bound = np.sqrt(np.maximum(p_ref[:size] * (1 - p_ref[:size]), 5.0 / RUN.ntraj) / RUN.ntraj)
    assert np.all(np.abs(p[:size] - p_ref[:size]) < K * bound), name
    assert p.sum() == pytest.approx(1.0, rel=1e-9)
