"""General-path trajectories (coherent atoms, coherent field, detuning) vs density matrices.

References: :mod:`trajmaser.dm` / :mod:`trajmaser.dm.general` (time series, arrival series) and
the Fock-path kernel on diagonal inputs.  Every record point must agree within K = 4 of the
trajectory result's own standard error, each series must pass a χ² test (p > 1e-3), and the
photon-number histograms must agree within 4 × the largest possible standard error
sqrt(p(1 − p)/ntraj) of an average of conditional probabilities (p floored at 5/ntraj where
a level is rare enough to be hit by single trajectories).  Strong damping (γτ, κτ ~
0.1–1) keeps the problems small; detuning and n_b > 0 appear.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest
from scipy.stats import chi2

from trajmaser import dm
from trajmaser.compare import var_estimate
from trajmaser.params import ConfigError, InitialField, Model, RunParams
from trajmaser.trajectories import simulate
from trajmaser.trajectories.general import atom_eigenstates, choose_nmax, run_general_block
from trajmaser.trajectories.records import record_plan

K = 4.0
NMAX = 18

CASES = {
    # coherent atoms, detuning, thermal bath photons, regular pump, vacuum start
    "coherent-atoms": Model(
        pe=0.35,
        omega=1.0,
        g=1.1,
        gamma=0.4,
        kappa=0.3,
        tau=1.0,
        rate=0.5,
        coherence=0.3 - 0.2j,
        detuning=0.7,
        nbar_bath=0.2,
        initial=InitialField("vacuum"),
    ),  # fmt: skip
    # coherent initial field, diagonal atoms, binomial pump
    "coherent-field": Model(
        pe=0.3,
        omega=1.0,
        g=0.9,
        gamma=0.2,
        kappa=0.5,
        tau=1.0,
        rate=0.5,
        statistics="binomial",
        p=0.8,
        detuning=0.4,
        initial=InitialField("coherent", 1.3),
    ),  # fmt: skip
    # both, near resonance, strong pumping of coherence
    "both": Model(
        pe=0.5,
        omega=1.0,
        g=0.7,
        gamma=0.3,
        kappa=0.6,
        tau=1.0,
        rate=0.6,
        coherence=0.45j,
        initial=InitialField("coherent", 0.8),
    ),  # fmt: skip
}
RUN = RunParams(atoms=60, ntraj=3000, samples=10, burn_in=30, seed=2024, block_size=1500,
                method="general", nmax=NMAX, detector_efficiency=0.7)  # fmt: skip


@cache
def _traj(name: str, method: str = "general"):
    run = RUN if method == "general" else RunParams(**{**RUN.__dict__, "method": method})
    return simulate(CASES.get(name) or DIAGONAL[name], run)


def _check_series(moments, ref: dict, omega: float, label: str) -> None:
    est = moments.photon_estimates(omega)
    var, var_err = var_estimate(moments)
    for key, val, err in (("n_mean", est["n_mean"], est["n_mean_err"]),
                          ("n_var", var, var_err)):  # fmt: skip
        refv = np.asarray(ref[key])
        used = err > 0  # a deterministic record (a pure Fock start) has no spread
        assert np.allclose(val[~used], refv[~used], atol=1e-9), (label, key)
        z = (val[used] - refv[used]) / err[used]
        assert np.all(np.abs(z) < K), (label, key, z)
        assert chi2.sf(np.sum(z * z), z.size) > 1e-3, (label, key, z)
    count = moments.count[:, None]
    hist = moments.hist[:, : ref["p"].shape[1]] / count
    p_ref = ref["p"][:, : hist.shape[1]]
    # a rare level (count·p small) is Poisson-like: floor p at 5/count for the bound
    bound = np.sqrt(np.maximum(p_ref, 5.0 / count) * (1.0 - p_ref) / count)
    assert np.all(np.abs(hist - p_ref) <= K * bound), (label, "hist")


@pytest.mark.parametrize("name", sorted(CASES))
def test_series_match_density_matrix(name):
    model = CASES[name]
    res = _traj(name)
    assert res.ntraj == RUN.ntraj and res.passages >= RUN.ntraj * RUN.atoms
    if model.statistics != "poisson":
        ref_t = dm.time_series(model, res.times, nmax=NMAX)
        _check_series(res.time, ref_t, model.omega, f"{name} time")
    ref_a = dm.arrival_series(model, res.arrival_index, nmax=NMAX)
    _check_series(res.arrival, ref_a, model.omega, f"{name} arrival")


@pytest.mark.parametrize("name", sorted(CASES))
def test_steady_arrival_window_matches_density_matrix(name):
    model = CASES[name]
    res = _traj(name)
    ref = dm.arrival_series(model, np.arange(RUN.burn_in, RUN.atoms), nmax=NMAX)
    est = res.steady_arrival.photon_estimates(model.omega)
    z = (est["n_mean"][0] - np.mean(ref["n_mean"])) / est["n_mean_err"][0]
    assert abs(z) < K, z


def test_steady_time_window_matches_density_matrix():
    """The probe estimator is unbiased for the time average over the steady strata."""
    name = "coherent-atoms"
    model = CASES[name]
    res = _traj(name)
    plan = record_plan(model, RUN)
    edges = plan.strata[plan.first_steady_stratum :]
    # Gauss–Legendre on every stratum (⟨n⟩(t) is smooth inside an interaction and a gap:
    # the strata here cover whole atom periods, each split at τ)
    period = 1.0 / model.rate
    x, w = np.polynomial.legendre.leggauss(12)
    pieces = [(k * period, k * period + model.tau) for k in range(RUN.atoms)]
    pieces += [(k * period + model.tau, (k + 1) * period) for k in range(RUN.atoms)]
    pieces = [(a, b) for a, b in pieces if a >= edges[0] - 1e-12]
    ts = np.concatenate([0.5 * (b - a) * (x + 1) + a for a, b in pieces])
    ws = np.concatenate([0.5 * (b - a) * w for a, b in pieces])
    ref = np.sum(ws * dm.time_series(model, ts, nmax=NMAX)["n_mean"]) / (edges[-1] - edges[0])
    est = res.steady_time.photon_estimates(model.omega)
    z = (est["n_mean"][0] - ref) / est["n_mean_err"][0]
    assert abs(z) < K, z


# ----------------------------------------------------------------- general vs Fock path
DIAGONAL = {
    "diag-poisson": Model(
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
    ),  # fmt: skip
    "diag-thermal": Model(
        pe=0.45,
        omega=0.8,
        g=1.3,
        gamma=0.2,
        kappa=0.4,
        tau=1.0,
        rate=0.5,
        statistics="binomial",
        p=0.6,
    ),  # fmt: skip
}


@pytest.mark.parametrize("name", sorted(DIAGONAL))
def test_general_equals_fock_path_on_diagonal_inputs(name):
    model = DIAGONAL[name]
    gen, fock = _traj(name, "general"), _traj(name, "fock")
    ref_a = dm.arrival_series(model, gen.arrival_index, nmax=NMAX)
    _check_series(gen.arrival, ref_a, model.omega, f"{name} general arrival")
    ref_t = dm.time_series(model, gen.times, nmax=NMAX)
    _check_series(gen.time, ref_t, model.omega, f"{name} general time")
    # both paths, steady windows and clicks, within 4 combined standard errors
    for block in ("steady_arrival", "steady_time"):
        a = getattr(gen, block).photon_estimates(model.omega)
        b = getattr(fock, block).photon_estimates(model.omega)
        for key in ("n_mean", "mandel_q"):
            err = np.hypot(a[f"{key}_err"][0], b[f"{key}_err"][0])
            assert abs(a[key][0] - b[key][0]) < K * err, (block, key, a[key][0], b[key][0])
    pa, ea = gen.clicks.ratio_estimate()
    pb, eb = fock.clicks.ratio_estimate()
    assert abs(pa[0] - pb[0]) < K * np.hypot(ea[0], eb[0])
    assert gen.clicks.sy[0] < RUN.ntraj * (RUN.atoms - RUN.burn_in)  # η = 0.7 thins


# ----------------------------------------------------------------- cut-off, set-up, seeds
def test_cutoff_error_names_nmax():
    big_field = Model(pe=0.2, omega=1.0, g=1.0, gamma=0.1, kappa=0.1, tau=1.0, rate=0.5,
                      initial=InitialField("coherent", 3.0))  # fmt: skip
    run = RunParams(atoms=10, ntraj=4, samples=5, burn_in=5, nmax=6)
    with pytest.raises(ConfigError, match=r"\[run\] nmax"):
        run_general_block(big_field, run, 4, np.random.default_rng(0), record_plan(big_field, run))
    # the field grows during the run (inverted atoms, weak loss) past a small cut-off
    growing = Model(pe=0.95, omega=1.0, g=0.3, gamma=0.0, kappa=0.01, tau=1.0, rate=0.5,
                    coherence=0.1, initial=InitialField("vacuum"))  # fmt: skip
    run = RunParams(atoms=400, ntraj=20, samples=5, burn_in=5, nmax=8)
    with pytest.raises(ConfigError, match=r"nmax = 8.*\[run\] nmax"):
        run_general_block(growing, run, 20, np.random.default_rng(0), record_plan(growing, run))
    # ...and the same run with a large enough cut-off is accepted
    run = RunParams(atoms=20, ntraj=4, samples=5, burn_in=5, nmax=60)
    run_general_block(growing, run, 4, np.random.default_rng(0), record_plan(growing, run))


def test_automatic_cutoff():
    kappa = 2 * np.pi * 50e9 / 2e10
    paper = Model(pe=0.14, omega=6.0, g=np.pi * 50e3, gamma=2 * np.pi * 33.3, kappa=kappa,
                  tau=9.5e-6, rate=6500 * kappa, coherence=0.1)  # fmt: skip
    nmax = choose_nmax(paper, RunParams())
    # thermal tail at the coarse-grained n̄ below 1e-14 at nmax
    assert 10 <= nmax <= 60
    assert choose_nmax(paper, RunParams(nmax=40)) == 40
    inverted = Model(pe=0.9, omega=1.0, g=1.0, gamma=0.0, kappa=0.0, tau=1.0, rate=0.5)
    with pytest.raises(ConfigError, match=r"\[run\] nmax"):
        choose_nmax(inverted, RunParams())


def test_atom_eigenstates_reconstruct_rho0():
    pe, c = 0.3, 0.2 - 0.3j
    probs, amps = atom_eigenstates(pe, c)
    rho = sum(p * np.outer(v, v.conj()) for p, v in zip(probs, amps, strict=True))
    assert np.allclose(rho, [[pe, c], [np.conj(c), 1 - pe]], atol=1e-14)
    with pytest.raises(ValueError, match="positive"):
        atom_eigenstates(0.1, 0.5)


def test_same_seed_same_result():
    model = CASES["coherent-atoms"]
    run = RunParams(atoms=20, ntraj=50, samples=5, burn_in=10, nmax=NMAX, seed=3)
    plan = record_plan(model, run)
    a = run_general_block(model, run, 50, np.random.default_rng(9), plan)
    b = run_general_block(model, run, 50, np.random.default_rng(9), plan)
    for key in ("time", "arrival", "time_hist", "steady_time", "steady_arrival", "clicks"):
        assert np.array_equal(getattr(a, key), getattr(b, key)), key
