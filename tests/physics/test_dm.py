"""Density-matrix fast path (validation ladder, rungs 2–3) against independent references.

References: dense qutip Liouvillians of the full atom⊗cavity space, qutip.mesolve over a few
atoms, the FJM distribution, detailed balance (thermal at Tq), numerical integration of the
coarse-grained master equation, and renewal/quadrature identities between our own solvers.
"""

from __future__ import annotations

import io
import json
import math
from contextlib import redirect_stdout
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import qutip as qt
from scipy.integrate import solve_ivp
from scipy.linalg import expm
from scipy.sparse.linalg import expm_multiply

from trajmaser import dm
from trajmaser.params import InitialField, Model

ROOT = Path(__file__).resolve().parents[2]
NMAX = 10


def random_model(seed: int, **kw) -> Model:
    rng = np.random.default_rng(seed)
    base = dict(
        pe=rng.uniform(0.1, 0.45),
        omega=rng.uniform(0.5, 3.0),
        g=rng.uniform(0.5, 2.0),
        gamma=rng.uniform(0.1, 0.8),
        kappa=rng.uniform(0.2, 1.0),
        tau=rng.uniform(0.5, 1.2),
        rate=0.3,
        detuning=rng.uniform(-1.5, 1.5),
        nbar_bath=rng.uniform(0.1, 0.8),
    )
    base.update(kw)
    return Model(**base)


# ---------------------------------------------------------------- qutip reference objects
def qutip_ops(m: Model, nmax: int):
    """Dense Liouvillians (qutip, column-stacking) of atom⊗cavity and of the cavity alone."""
    n1 = nmax + 1
    a = qt.tensor(qt.qeye(2), qt.destroy(n1))
    sp_ = qt.tensor(qt.destroy(2), qt.qeye(n1))  # |0><1| = |e><g| with e = basis(2, 0)
    sm = sp_.dag()
    h = 0.5 * m.detuning * (sp_ * sm - sm * sp_) + m.g * (sp_ * a + sm * a.dag())
    k1, k2 = m.kappa * (1 + m.nbar_bath), m.kappa * m.nbar_bath
    cops = [math.sqrt(m.gamma) * sm, math.sqrt(k1) * a, math.sqrt(k2) * a.dag()]
    ac = qt.destroy(n1)
    lcav = qt.liouvillian(0 * ac, [math.sqrt(k1) * ac, math.sqrt(k2) * ac.dag()]).full()
    return qt.liouvillian(h, cops), lcav


def qutip_atom_maps(m: Model, nmax: int, s: float):
    """A(s) and ∫_0^s A on p(n), built column by column from the full qutip Liouvillian."""
    n1 = nmax + 1
    lfull, _ = qutip_ops(m, nmax)
    lmat = lfull.full()
    k = lmat.shape[0]
    aug = np.zeros((2 * k, 2 * k), complex)
    aug[:k, :k], aug[:k, k:] = lmat * s, np.eye(k) * s
    f = expm(aug)
    rho0 = qt.Qobj(np.diag([m.pe, 1 - m.pe]))
    amap, aint = np.zeros((n1, n1)), np.zeros((n1, n1))
    for n in range(n1):
        vec = qt.operator_to_vector(qt.tensor(rho0, qt.fock_dm(n1, n))).full().ravel()
        for mat, out in ((f[:k, :k], amap), (f[:k, k:], aint)):
            out[:, n] = cavity_diag(mat @ vec, n1)
    return amap, aint


def qutip_gap(lcav: np.ndarray, nmax: int, t: float):
    """e^{Lc t} and ∫_0^t e^{Lc s} ds restricted to diagonal cavity states."""
    n1 = nmax + 1
    k = lcav.shape[0]
    aug = np.zeros((2 * k, 2 * k), complex)
    aug[:k, :k], aug[:k, k:] = lcav * t, np.eye(k) * t
    f = expm(aug)
    diag = np.arange(n1) * (n1 + 1)  # column-stacked diagonal indices
    return np.real(f[:k, :k][np.ix_(diag, diag)]), np.real(f[:k, k:][np.ix_(diag, diag)])


def cavity_diag(vec: np.ndarray, n1: int) -> np.ndarray:
    """p(n) of the cavity from a column-stacked atom⊗cavity density-matrix vector."""
    rho = vec.reshape(2 * n1, 2 * n1, order="F").reshape(2, n1, 2, n1)
    return np.real(np.einsum("aiai->i", rho))


def eig_fixed_point(mat: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eig(mat)
    x = np.real(v[:, np.argmin(np.abs(w - 1))])
    return x / x.sum()


def qutip_steady(m: Model, nmax: int):
    """Arrival and time-averaged p(n) from dense qutip matrices (docs/PHYSICS.md pump averages)."""
    amap, aint = qutip_atom_maps(m, nmax, m.tau)
    _, lcav = qutip_ops(m, nmax)
    r, tau, eye = m.rate, m.tau, np.eye(nmax + 1)
    if m.statistics == "regular":
        gmap, gint = qutip_gap(lcav, nmax, 1 / r - tau)
        p = eig_fixed_point(gmap @ amap)
        return p, r * (aint @ p + gint @ amap @ p)
    if m.statistics == "poisson":
        mu = 1 / (1 / r - tau)
        n1 = nmax + 1
        diag = np.arange(n1) * (n1 + 1)
        res = np.real(np.linalg.inv(mu * np.eye(lcav.shape[0]) - lcav)[np.ix_(diag, diag)])
        p = eig_fixed_point(mu * res @ amap)
        return p, r * (aint @ p + res @ amap @ p)
    slot = m.p / r
    ggap, gint_gap = qutip_gap(lcav, nmax, slot - tau)
    gslot, gint_slot = qutip_gap(lcav, nmax, slot)
    p = eig_fixed_point(m.p * ggap @ amap + (1 - m.p) * gslot)
    occ = m.p * (aint @ p + gint_gap @ amap @ p) + (1 - m.p) * gint_slot @ p
    assert np.allclose(eye @ p, p)
    return p, occ / slot


# ---------------------------------------------------------------- rung 2: maps and steady
@pytest.mark.parametrize("seed, frac", [(1, 1.0), (2, 0.37)])
def test_atom_map_equals_dense_qutip_liouvillian(seed, frac):
    m = random_model(seed)
    s = frac * m.tau
    ref_a, ref_int = qutip_atom_maps(m, NMAX, s)
    a, a_int = dm.atom_maps(m, NMAX, s)
    assert np.abs(a - ref_a).max() < 1e-8
    assert np.abs(a_int - ref_int).max() < 1e-8
    assert np.allclose(a.sum(axis=0), 1.0, atol=1e-12)  # truncation keeps probability


def test_gap_generator_equals_qutip():
    m = random_model(3)
    _, lcav = qutip_ops(m, NMAX)
    ref, _ = qutip_gap(lcav, NMAX, 0.8)
    assert np.abs(expm(dm.gap_generator(m, NMAX) * 0.8) - ref).max() < 1e-12


@pytest.mark.parametrize("stats", ["regular", "poisson", "binomial"])
def test_pump_averaged_steady_state_equals_qutip(stats):
    m = random_model(4, statistics=stats, p=0.45)
    ref_arr, ref_time = qutip_steady(m, NMAX)
    res = dm.steady(m, nmax=NMAX)
    assert np.abs(np.array(res["arrival"]["p"]) - ref_arr).max() < 1e-8
    assert np.abs(np.array(res["time"]["p"]) - ref_time).max() < 1e-8
    n = np.arange(NMAX + 1)
    assert abs(res["arrival"]["n_mean"] - ref_arr @ n) < 1e-8


def test_auto_nmax_meets_tolerance_and_is_converged():
    m = random_model(5, pe=0.48, nbar_bath=0.5)
    auto = dm.steady(m, tol=1e-12)
    assert auto["tail"] < 1e-12
    big = dm.steady(m, nmax=auto["nmax"] + 30)
    assert abs(auto["arrival"]["n_mean"] - big["arrival"]["n_mean"]) < 1e-10


def test_binomial_p1_equals_regular():
    m = random_model(6)
    b = replace(m, statistics="binomial", p=1.0)
    sr, sb = dm.steady(m, nmax=NMAX), dm.steady(b, nmax=NMAX)
    for key in ("arrival", "time"):
        assert abs(sr[key]["n_mean"] - sb[key]["n_mean"]) < 1e-12
    times = [0.1, 2.0, 7.7, 15.3]
    assert np.allclose(
        dm.time_series(m, times, nmax=NMAX)["n_mean"],
        dm.time_series(b, times, nmax=NMAX)["n_mean"],
        atol=1e-12,
    )
    idx = [0, 1, 4, 9]
    assert np.allclose(
        dm.arrival_series(m, idx, nmax=NMAX)["n_mean"],
        dm.arrival_series(b, idx, nmax=NMAX)["n_mean"],
        atol=1e-12,
    )


# ---------------------------------------------------------------- rung 3: analytic limits
def test_no_losses_gives_thermal_at_tq():
    m = random_model(7, kappa=0.0, gamma=0.0, pe=0.3)
    res = dm.steady(m)
    p = np.array(res["arrival"]["p"])
    ratio = m.pe / (1 - m.pe)
    ref = ratio ** np.arange(p.size)
    assert np.abs(p - ref / ref.sum()).max() < 1e-10
    nbar = ratio / (1 - ratio)
    assert abs(res["arrival"]["Tf_over_Tb"] - m.tq_over_tb) < 1e-9 * m.tq_over_tb
    assert abs(res["time"]["n_mean"] - nbar) < 1e-10


def test_poisson_without_decay_approaches_fjm():
    devs = []
    for kt in (1e-3, 1e-4):
        m = Model(
            pe=0.35, omega=1.0, g=1.2 / kt, gamma=0.0, kappa=1.0, tau=kt, rate=30.0,
            nbar_bath=0.3, statistics="poisson",
        )  # fmt: skip
        res = dm.steady(m)
        fjm = dm.fjm_distribution(30.0, 0.35, 1.2, 0.3, res["nmax"])
        devs.append(np.abs(np.array(res["arrival"]["p"]) - fjm).max())
    assert devs[1] < 2e-5
    assert devs[1] < 0.2 * devs[0]  # converges linearly in κτ


def test_fjm_closed_form():
    p = dm.fjm_distribution(math.inf, 0.25, 0.9, 0.0, 60)
    ref = (1 / 3) ** np.arange(61)
    assert np.abs(p - ref / ref.sum()).max() < 1e-14
    p = dm.fjm_distribution(10.0, 0.4, 0.7, 0.2, 5)
    n = 3
    s2 = math.sin(0.7 * math.sqrt(n)) ** 2
    expect = (0.2 * n + 10 * 0.4 * s2) / (1.2 * n + 10 * 0.6 * s2)
    assert abs(p[n] / p[n - 1] - expect) < 1e-12


def test_coarse_grained_analytic_mean_matches_integration():
    m = random_model(8, initial=InitialField("fock", 3.0), rate=40.0, tau=0.01, g=10.0)
    times = np.array([0.0, 0.05, 0.3, 1.0, 4.0, 80.0])
    cg = dm.coarse_grained(m, times)
    alpha = m.rate * (m.g * m.tau) ** 2
    up = alpha * m.pe + m.kappa * m.nbar_bath
    down = alpha * (1 - m.pe) + m.kappa * (1 + m.nbar_bath)
    nmax = 120
    n = np.arange(nmax + 1.0)

    def rhs(_t, p):
        d = -(up * (n + 1) + down * n) * p
        d[1:] += up * n[1:] * p[:-1]
        d[:-1] += down * n[1:] * p[1:]
        return d

    p0 = np.zeros(nmax + 1)
    p0[3] = 1.0
    sol = solve_ivp(rhs, (0, times[-1]), p0, t_eval=times, rtol=1e-11, atol=1e-14)
    assert np.allclose(n @ sol.y, cg["n_mean_t"], rtol=1e-7)
    assert abs(cg["n_mean"] - n @ sol.y[:, -1]) < 1e-6


def test_coarse_grained_above_threshold_says_so():
    cg = dm.coarse_grained(random_model(9, pe=0.8, kappa=0.01, rate=100.0, tau=0.005, g=100.0))
    assert not cg["below_threshold"]
    assert "no steady state" in cg["message"]


# ---------------------------------------------------------------- time series
def test_regular_series_equals_qutip_mesolve():
    m = random_model(10, initial=InitialField("thermal"), rate=0.5)
    n1 = NMAX + 1
    lfull, lcav = qutip_ops(m, NMAX)
    period = 1 / m.rate
    times = [0.3 * m.tau, period + 0.8 * m.tau, 2 * period + m.tau + 0.2, 3.5 * period]
    q = math.exp(-m.omega)
    cav = qt.Qobj(np.diag((1 - q) * q ** np.arange(n1)))
    cav = cav / cav.tr()
    rho0 = qt.Qobj(np.diag([m.pe, 1 - m.pe]))
    opts = {"atol": 1e-12, "rtol": 1e-10}
    ref, arrivals = {}, []
    for k in range(4):
        arrivals.append(np.real(np.diag(cav.full())))
        t0 = k * period
        tl = [0.0] + [t - t0 for t in times if t0 < t <= t0 + m.tau] + [m.tau]
        out = qt.mesolve(lfull, qt.tensor(rho0, cav), tl, options=opts).states
        for t, st in zip(tl[1:-1], out[1:-1], strict=True):
            ref[t + t0] = st.ptrace(1)
        cav = out[-1].ptrace(1)
        tl = (
            [0.0]
            + [t - t0 - m.tau for t in times if t0 + m.tau < t <= t0 + period]
            + [period - m.tau]
        )
        vec = cav.full().ravel(order="F")
        for t in tl[1:]:
            rho = qt.Qobj((expm(lcav * t) @ vec).reshape(n1, n1, order="F"))
            ref[t + t0 + m.tau] = rho
        cav = rho
    nop = np.arange(n1)
    ts = dm.time_series(m, times, nmax=NMAX)
    nearest = [min(ref, key=lambda x, t=t: abs(x - t)) for t in times]
    want = [np.real(np.diag(ref[k].full())) @ nop for k in nearest]
    assert np.allclose(ts["n_mean"], want, atol=1e-7)
    ar = dm.arrival_series(m, [0, 1, 2, 3], nmax=NMAX)
    assert np.allclose(ar["n_mean"], [a @ nop for a in arrivals], atol=1e-7)


@pytest.mark.parametrize("stats", ["regular", "binomial"])
def test_time_average_over_one_period_equals_steady_time(stats):
    m = random_model(11, statistics=stats, p=0.5, rate=0.3, kappa=1.0)
    st = dm.steady(m, nmax=NMAX)
    period = 1 / m.rate if stats == "regular" else m.p / m.rate
    k = 60  # many periods: transient gone to < 1e-12
    x, w = np.polynomial.legendre.leggauss(40)
    # split at the interaction end: the integrand has a kink at s = τ
    pieces = [(0.0, m.tau), (m.tau, period)]
    tot = 0.0
    for a, b in pieces:
        t = k * period + a + (b - a) * (x + 1) / 2
        tot += (b - a) / 2 * w @ dm.time_series(m, t, nmax=NMAX)["n_mean"]
    assert abs(tot / period - st["time"]["n_mean"]) < 1e-9
    far = dm.arrival_series(m, [k], nmax=NMAX)["n_mean"][0]
    assert abs(far - st["arrival"]["n_mean"]) < 1e-10


def test_poisson_series_converged_and_tends_to_steady():
    m = random_model(12, statistics="poisson", rate=0.4, kappa=1.0)
    from trajmaser.dm.poisson import poisson_time_series

    times = np.array([0.2, 1.3, 2.9, 6.1, 13.0])
    a = poisson_time_series(m, times, NMAX)
    b = poisson_time_series(m, times, NMAX, steps=2 * a["steps"])
    assert np.abs(a["n_mean"] / b["n_mean"] - 1).max() < 1e-6
    before = dm.arrival_series(m, [0], nmax=NMAX)["n_mean"][0]
    assert abs(a["n_mean"][0] - before) > 1e-3  # the first interaction moved the field
    late = poisson_time_series(m, np.array([60.0]), NMAX)["n_mean"][0]
    st = dm.steady(m, nmax=NMAX)
    assert abs(late - st["time"]["n_mean"]) < 1e-8
    far = dm.arrival_series(m, [150], nmax=NMAX)["n_mean"][0]
    assert abs(far - st["arrival"]["n_mean"]) < 1e-10


def test_bad_pump_is_a_clear_error():
    with pytest.raises(ValueError, match="overlap"):
        dm.steady(random_model(13, rate=2.0, tau=1.0))
    with pytest.raises(ValueError, match="binomial slot"):
        dm.steady(random_model(13, rate=0.9, tau=1.0, statistics="binomial", p=0.5))


# ---------------------------------------------------------------- acceptance: the CLI
def test_cli_fig3_nex6500_matches_independent_dense_calculation():
    from trajmaser.cli import main
    from trajmaser.config import load_config

    path = ROOT / "runs" / "fig3_nex6500.toml"
    buf = io.StringIO()
    with redirect_stdout(buf):
        assert main(["dm", str(path), "--json"]) == 0
    out = json.loads(buf.getvalue())
    m = load_config(path).model()
    nmax = 25
    lfull, lcav = qutip_ops(m, nmax)
    lsp = lfull.data.as_scipy()
    rho0 = qt.Qobj(np.diag([m.pe, 1 - m.pe]))
    amap = np.zeros((nmax + 1, nmax + 1))
    for n in range(nmax + 1):
        vec = qt.operator_to_vector(qt.tensor(rho0, qt.fock_dm(nmax + 1, n))).full().ravel()
        amap[:, n] = cavity_diag(expm_multiply(lsp * m.tau, vec), nmax + 1)
    gmap, _ = qutip_gap(lcav, nmax, 1 / m.rate - m.tau)
    p = eig_fixed_point(gmap @ amap)
    assert abs(out["steady"]["arrival"]["n_mean"] - p @ np.arange(nmax + 1)) < 1e-8
    assert "p" not in out["steady"]["arrival"]
    assert out["tail"] < 1e-12
