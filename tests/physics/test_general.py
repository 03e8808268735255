"""General-path trajectories (coherent atoms, coherent field, detuning) vs density matrices.

References: :mod:`trajmaser.dm` / :mod:`trajmaser.dm.general` (time series, arrival series) and
the Fock-path kernel on diagonal inputs (every record, batch sums and click correlations
included).  Every record point must agree within K = 4 of the
trajectory result's own standard error, each series must pass a χ² test (p > 1e-3), and the
photon-number histograms must agree within 4 × the largest possible standard error
sqrt(p(1 − p)/ntraj) of an average of conditional probabilities (p floored at 5/ntraj where
a level is rare enough to be hit by single trajectories).  Strong damping (γτ, κτ ~
0.1–1) keeps the problems small; detuning and n_b > 0 appear.
"""

from __future__ import annotations

import dataclasses
import signal
import time
from functools import cache

import numpy as np
import pytest
from scipy.stats import chi2

from trajmaser import dm
from trajmaser.compare import var_estimate
from trajmaser.params import ConfigError, InitialField, Model, RunParams
from trajmaser.results import NBATCH
from trajmaser.results.moments import BATCHED
from trajmaser.trajectories import cancel, simulate, simulate_block
from trajmaser.trajectories.general import atom_eigenstates, choose_nmax, run_general_block
from trajmaser.trajectories.general_steps import gap_tau_pass, support, tau_pass
from trajmaser.trajectories.records import STOP_CANCELLED, record_plan

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
    # click correlations P(k + j detected excited | k detected excited), lag by lag
    ca, cb = (r.summary()["clicks"]["correlation"] for r in (gen, fock))
    err = np.hypot(ca["p_ee_err"], cb["p_ee_err"])
    z = (np.array(ca["p_ee"]) - cb["p_ee"]) / err
    assert np.all(np.abs(z) < K) and chi2.sf(np.sum(z * z), z.size) > 1e-3, z
    # batch means of the steady windows: their average, with the batches' own spread
    for block in ("steady_arrival", "steady_time"):
        na, nb = (r.batch_means(block)["n"][:, 0] for r in (gen, fock))
        se = np.hypot(na.std(ddof=1), nb.std(ddof=1)) / np.sqrt(na.size)
        assert abs(na.mean() - nb.mean()) < K * se, (block, na.mean(), nb.mean())


def test_batch_sums_of_the_general_path_add_up_to_the_totals():
    res = _traj("coherent-field")  # two blocks: the batch follows the global trajectory index
    counts = np.bincount(np.arange(RUN.ntraj) % NBATCH, minlength=NBATCH).astype(float)
    for name in BATCHED:
        part, total = getattr(res.batches, name), getattr(res, name)
        assert np.array_equal(part.count, np.repeat(counts[:, None], total.points, axis=1))
        for key in ("sx", "sy", "sxx", "syy", "sxy"):
            assert np.allclose(getattr(part, key).sum(axis=0), getattr(total, key), rtol=1e-12)
        assert np.allclose(part.hist.sum(axis=0), total.hist, rtol=1e-12, atol=1e-15)
    assert res.click_pairs.count[0] == RUN.ntraj


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


# ----------------------------------------------------------------- occupied support
def test_passes_over_the_support_give_the_bits_of_passes_over_all_levels():
    """Amplitudes outside [lo, hi] are exactly zero, so skipping them changes no bit."""
    rng = np.random.default_rng(1)
    nmax, lo, hi = 12, 3, 7
    src = np.zeros(nmax + 2, complex)  # an e part (shift 1) occupying levels lo … hi
    src[lo + 1 : hi + 2] = rng.normal(size=hi - lo + 1) + 1j * rng.normal(size=hi - lo + 1)
    w = rng.normal(size=(nmax + 2, 4)) + 1j * rng.normal(size=(nmax + 2, 4))
    out = {}
    for key, (a, b) in {"support": (lo, hi), "all": (0, nmax)}.items():
        cg = rng.normal(size=nmax + 2) + 0j  # stale values: the pass clears them
        we, wg = np.full(nmax + 2, np.nan + 0j), np.full(nmax + 2, np.nan + 0j)
        sums = gap_tau_pass(src, 1, 0.7, 0.9, 0.8, cg, a, b, 0, nmax + 1, w, we, wg)
        again = tau_pass(w, cg, we.copy(), wg.copy(), a, b)
        out[key] = (sums, again, cg, we[lo : hi + 2], wg[lo : hi + 2])
    assert out["support"][:2] == out["all"][:2]
    for x, y in zip(out["support"][2:], out["all"][2:], strict=True):
        assert np.array_equal(x, y)
    assert support(src, 1, 0, nmax, 0.0) == (lo, hi)


def test_dropping_edge_levels_below_the_tolerance_changes_numbers_at_rounding_level():
    model = CASES["coherent-atoms"]
    run = RunParams(atoms=60, ntraj=200, samples=10, burn_in=30, nmax=NMAX, method="general")
    plan = record_plan(model, run)
    kept = run_general_block(model, run, 200, np.random.default_rng(3), plan, support_tol=0.0)
    cut = run_general_block(model, run, 200, np.random.default_rng(3), plan)  # SUPPORT_TOL
    assert not np.array_equal(cut.time_hist, kept.time_hist)  # levels were dropped
    for name in kept._fields:
        assert np.allclose(getattr(cut, name), getattr(kept, name), rtol=1e-12, atol=1e-15), name


# ----------------------------------------------------------------- guards and cancellation
@pytest.mark.parametrize("change", [{"detuning": 1e300}, {"g": 1e300}, {"gamma": 1e300}])
def test_a_non_finite_state_stops_quickly_with_an_error(change):
    run = RunParams(atoms=60, ntraj=20, samples=10, burn_in=30, nmax=NMAX, method="general")
    simulate_block(CASES["coherent-atoms"], run, 0)  # compiled before the clock starts
    model = dataclasses.replace(CASES["coherent-atoms"], **change)
    t0 = time.perf_counter()
    with pytest.raises(ConfigError, match="NaN/inf in trajectory 0"):
        simulate_block(model, run, 0)
    assert time.perf_counter() - t0 < 30.0  # a milliseconds job; a looping kernel never returns


@pytest.fixture
def clear_cancel():
    cancel.clear()
    yield
    cancel.clear()


def test_the_general_kernel_polls_the_stop_flag(clear_cancel):
    model, run = CASES["coherent-atoms"], RunParams(atoms=60, ntraj=20, samples=10, burn_in=30)
    cancel.request()  # seen before the first trajectory
    raw = run_general_block(model, run, 20, np.random.default_rng(0), record_plan(model, run))
    assert raw.stop[0] == STOP_CANCELLED and raw.stop[1] == 0 and raw.passages[0] == 0
    # ... and inside a trajectory: a signal handler runs while the kernel holds no GIL
    long = RunParams(atoms=50_000_000, ntraj=1, samples=2, burn_in=1, nmax=40, method="general")
    old = signal.signal(signal.SIGALRM, lambda signum, frame: cancel.request())
    cancel.clear()
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.5)
        with pytest.raises(cancel.Cancelled, match="during block 0 \\(trajectory 0\\)"):
            simulate_block(model, long, 0)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
