"""Peaks, switching times and stationarity (trajmaser.dm.switching) and their rare-event
trajectory estimates (trajmaser.switching).

References: a direct linear solve of the first-passage equations (I − Q)ᵀh = 1 on the step
matrix; brute-force simulation of a small Markov chain; the exact step matrix against the
empirical law of the sampled atom step (χ²); forward-flux estimates against the exact values
within 4 of their own jackknife standard errors, at a point where brute force would also do
(first-passage times ~10³ atoms) and at one where it would not (10⁷ and 10¹³ atoms).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from numba import njit
from scipy import stats

from trajmaser.dm import switching as sw
from trajmaser.params import InitialField, Model, RunParams
from trajmaser.switching import Budget, switching
from trajmaser.switching import stationarity as stat
from trajmaser.switching.chain import atom_step, chain_args


def micromaser(nex: float, theta: float, statistics: str = "regular", **kw) -> Model:
    """Excited atoms, κτ = 1e-3, γ = 0, n_b = 0.15, vacuum start (the pump-statistics study)."""
    tau = 1e-3
    base = dict(pe=1.0, omega=1.0, g=theta / (tau * math.sqrt(nex)), gamma=0.0, kappa=1.0,
                tau=tau, rate=nex, nbar_bath=0.15, initial=InitialField("vacuum"),
                statistics=statistics, p=0.5 if statistics == "binomial" else 1.0)  # fmt: skip
    base.update(kw)
    return Model(**base)


FEASIBLE = micromaser(20, 6.0)  # up ≈ 1.4e3, down ≈ 2.2e3 atoms
STATS = ("regular", "binomial", "poisson")


def _direct_mfpt(step: np.ndarray, start: int, target: np.ndarray) -> float:
    keep = np.flatnonzero(~target)
    q = step[np.ix_(keep, keep)]
    h = np.linalg.solve(np.eye(keep.size) - q.T, np.ones(keep.size))
    return float(h[np.searchsorted(keep, start)])


# ------------------------------------------------------------------ exact
@pytest.mark.parametrize("statistics", STATS)
def test_mfpt_equals_direct_linear_solve(statistics):
    model = micromaser(20, 6.5, statistics)
    ref = sw.switching(model)
    assert len(ref["peaks"]) == 2
    step = sw.step_matrix(model, ref["nmax"])
    n = np.arange(step.shape[0])
    up = _direct_mfpt(step, ref["n_lo"], n >= ref["n_hi"])
    down = _direct_mfpt(step, ref["n_hi"], n <= ref["n_lo"])
    assert ref["mfpt_up_atoms"] == pytest.approx(up, rel=1e-9)
    assert ref["mfpt_down_atoms"] == pytest.approx(down, rel=1e-9)
    # the slowest mode of a two-peak field is its switching
    rate = 1.0 / ref["mfpt_up_atoms"] + 1.0 / ref["mfpt_down_atoms"]
    assert ref["relaxation_atoms"] == pytest.approx(1.0 / rate, rel=0.1)
    lam2 = np.sort(np.abs(np.linalg.eigvals(step)))[-2]
    assert ref["relaxation_atoms"] == pytest.approx(-1.0 / math.log(lam2), rel=1e-12)


def test_mfpt_against_brute_force_markov_chain():
    rng = np.random.default_rng(3)
    size = 6
    step = rng.random((size, size)) ** 3
    step /= step.sum(axis=0)
    target = np.arange(size) >= 4
    exact = sw.mean_first_passage(step, 0, target)
    assert exact == pytest.approx(_direct_mfpt(step, 0, target), rel=1e-12)
    cdf = np.cumsum(step, axis=0)
    times = np.empty(20000)
    for i in range(times.size):
        x, k = 0, 0
        while not target[x]:
            x = int(np.searchsorted(cdf[:, x], rng.random() * cdf[-1, x], side="right"))
            k += 1
        times[i] = k
    assert abs(times.mean() - exact) < 4 * times.std() / math.sqrt(times.size)


def test_stationary_gth_matches_eigenvector():
    step = sw.step_matrix(FEASIBLE, 40)
    w, v = np.linalg.eig(step)
    ref = np.real(v[:, np.argmax(np.real(w))])
    np.testing.assert_allclose(sw.stationary_gth(step), ref / ref.sum(), atol=1e-13)


def test_peak_rule():
    n = np.arange(120)
    two = np.exp(-((n - 20) ** 2) / 18) + 0.3 * np.exp(-((n - 80) ** 2) / 50)
    peaks = sw.find_peaks(two)
    assert [q.n_mode for q in peaks] == [20, 80]
    assert sum(q.weight for q in peaks) == pytest.approx(1.0)
    assert peaks[0].hi + 1 == peaks[1].lo and peaks[1].hi == 119
    # a shallow dip is no valley; a peak lighter than min_weight joins its neighbour
    wiggle = np.exp(-((n - 50) ** 2) / 200) * (1 + 0.05 * np.cos(n))
    assert len(sw.find_peaks(wiggle)) == 1
    light = np.exp(-((n - 20) ** 2) / 18) + 1e-12 * np.exp(-((n - 80) ** 2) / 50)
    assert [q.n_mode for q in sw.find_peaks(light)] == [20]
    assert len(sw.find_peaks(light, min_weight=0.0)) == 2


def test_one_peak_has_no_switching():
    ref = sw.switching(micromaser(20, 3.0))
    assert len(ref["peaks"]) == 1 and ref["mfpt_up_atoms"] is None
    assert ref["peaks"][0]["weight"] == pytest.approx(1.0)


def test_stationarity_warning_names_a_sufficient_burn_in():
    run = RunParams(atoms=600, ntraj=10, burn_in=200)
    st = stat.stationarity(FEASIBLE, run)
    assert not st["stationary"] and st["needed_burn_in"] > run.burn_in
    text = stat.stationarity_warning(FEASIBLE, run)
    assert f"burn_in >= {st['needed_burn_in']}" in text
    need = st["needed_burn_in"]
    just = dataclasses.replace(run, burn_in=need, atoms=need + 400)
    before = dataclasses.replace(run, burn_in=need - 1, atoms=need + 400)
    assert stat.stationarity(FEASIBLE, just)["distance"] <= stat.STATIONARY_TV
    assert stat.stationarity(FEASIBLE, before)["distance"] > stat.STATIONARY_TV
    assert stat.stationarity_warning(FEASIBLE, just) is None


def test_window_law_is_the_mean_over_the_window():
    step = sw.step_matrix(FEASIBLE, 30)
    p0 = np.zeros(31)
    p0[0] = 1.0
    for window in (1, 2, 7, 64, 100):
        direct, v = np.zeros(31), p0.copy()
        for _ in range(window):
            direct += v / window
            v = step @ v
        np.testing.assert_allclose(stat._window_law(step, p0, window), direct, atol=1e-13)


# ------------------------------------------------------------------ trajectories
@njit(cache=True)
def _transitions(n0, count, pe, consts, tau, code, pars, tables, rng, out):
    for _ in range(count):
        out[atom_step(n0, pe, consts, tau, code, pars, tables, rng)] += 1


@pytest.mark.parametrize("statistics", STATS)
def test_atom_step_samples_the_exact_step_matrix(statistics):
    model = dataclasses.replace(micromaser(20, 6.0, statistics), gamma=40.0, kappa=30.0,
                                nbar_bath=0.5, detuning=300.0)  # fmt: skip
    nmax = 60
    step = sw.step_matrix(model, nmax)
    rng = np.random.default_rng(7)
    for n0 in (0, 4, 13):
        counts = np.zeros(nmax + 40)
        _transitions(n0, 40000, *chain_args(model), rng, counts)
        expected = step[:, n0] * counts.sum()
        big = expected > 5
        chi2 = np.sum((counts[: nmax + 1][big] - expected[big]) ** 2 / expected[big])
        assert stats.chi2.sf(chi2, big.sum() - 1) > 1e-4


def _check(doc: dict, keys=("mfpt_up_atoms", "mfpt_down_atoms")) -> None:
    ref = doc["dm"]
    for k in keys:
        assert abs(doc[k] - ref[k]) < 4 * doc[f"{k}_err"], (k, doc[k], doc[f"{k}_err"], ref[k])
        assert doc[f"{k}_err"] < 0.25 * doc[k]
    for p, q in zip(doc["peaks"], ref["peaks"], strict=True):
        assert p["n_mode"] == q["n_mode"]
        assert abs(p["weight"] - q["weight"]) <= 4 * p["weight_err"] + 1e-12
    for k in ("n_mean", "mandel_q"):
        s = doc["steady"]
        assert abs(s[k] - ref["steady"][k]) < 4 * s[f"{k}_err"]


def test_forward_flux_where_brute_force_is_feasible():
    doc = switching(FEASIBLE, 2026, Budget(replicas=8, basin_atoms=40000, trials=300))
    assert 1e3 < doc["dm"]["mfpt_up_atoms"] < 1e4 and 1e3 < doc["dm"]["mfpt_down_atoms"] < 1e4
    _check(doc)


def test_forward_flux_where_brute_force_is_not():
    doc = switching(micromaser(100, 7.0), 2027, Budget(replicas=8, basin_atoms=20000, trials=600))
    assert doc["dm"]["mfpt_up_atoms"] > 1e7 and doc["dm"]["mfpt_down_atoms"] > 1e13
    assert doc["atoms_simulated"] < 1e-5 * doc["dm"]["mfpt_down_atoms"]
    _check(doc)


def test_one_peak_reports_no_switching():
    doc = switching(micromaser(20, 3.0), 1, Budget(replicas=4, basin_atoms=20000))
    assert doc["mfpt_up_atoms"] is None and doc["mfpt_down_atoms_err"] is None
    assert doc["message"] and len(doc["peaks"]) == 1
    _check(doc, keys=())


# ------------------------------------------------------------------ click correlations
CLICK_CASES = [
    dataclasses.replace(micromaser(20, 3.0, s), pe=0.7, gamma=50.0, nbar_bath=0.3) for s in STATS
]


@pytest.mark.parametrize("model", CLICK_CASES, ids=STATS)
@pytest.mark.parametrize("start", [None, 3])
def test_click_correlation_rebuilds_the_atom_count_variance(model, start):
    """⟨N_e(N_e − 1)⟩ over W atoms = 2 Σ_j Σ_k P(e_k, e_{k+j}): atom_q (tested against qutip)
    against the pair sums p_ee(j) × Σ_k P(e_k) of click_correlation."""
    from trajmaser.dm.atomstats import atom_q
    from trajmaser.dm.clicks import click_correlation

    window, nmax = 7, 40
    kw = {} if start is None else {"start": start, "window": window}
    corr = click_correlation(model, window - 1, efficiency=0.6, nmax=nmax, **kw)
    pairs = 0.0
    for j, p_ee in zip(corr["lag"], corr["p_ee"], strict=True):
        first = atom_q(model, window - j, start=start, nmax=nmax)["n_mean"]  # Σ_k P(e_k)
        pairs += p_ee * first
    ref = atom_q(model, window, start=start, nmax=nmax)
    assert 2 * pairs == pytest.approx(ref["n_var"] + ref["n_mean"] ** 2 - ref["n_mean"], rel=1e-9)
    assert corr["p_e"] == pytest.approx(ref["p_e"], rel=1e-12)


def test_click_correlation_matches_the_trajectory_record():
    """Exact protocol value vs the trajectories' P(k+j detected excited | k detected excited)."""
    from scipy.stats import chi2

    from trajmaser.dm.clicks import click_correlation
    from trajmaser.trajectories import simulate

    model = CLICK_CASES[2]  # poisson
    run = RunParams(atoms=300, ntraj=2000, samples=10, burn_in=100, seed=41, block_size=500,
                    detector_efficiency=0.6)  # fmt: skip
    corr = simulate(model, run).summary()["clicks"]["correlation"]
    ref = click_correlation(model, len(corr["lag"]), efficiency=run.detector_efficiency,
                            start=run.burn_in, window=run.atoms - run.burn_in)  # fmt: skip
    z = (np.array(corr["p_ee"]) - np.array(ref["p_ee"])) / np.array(corr["p_ee_err"])
    assert np.all(np.abs(z) < 4), z
    assert chi2.sf(float(z @ z), z.size) > 1e-3
