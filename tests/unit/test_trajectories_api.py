"""simulate / simulate_block: seeds, merging, histogram retry, dispatch, batches, cancellation."""

import dataclasses
import functools
import operator
import signal
import time

import numpy as np
import pytest

from trajmaser.params import ConfigError, InitialField, Model, RunParams
from trajmaser.results import NBATCH, NLAG, Result
from trajmaser.results.moments import BATCHED
from trajmaser.trajectories import cancel, nblocks, resolve_method, simulate, simulate_block

MODEL = Model(
    pe=0.45,
    omega=0.8,
    g=1.1,
    gamma=0.4,
    kappa=0.3,
    tau=1.0,
    rate=0.5,
    statistics="poisson",
    nbar_bath=0.2,
)
RUN = RunParams(atoms=60, ntraj=70, samples=6, burn_in=20, seed=99, block_size=20)


def _arrays_equal(a: Result, b: Result) -> bool:
    x, y = a.to_arrays(), b.to_arrays()
    return x.keys() == y.keys() and all(np.array_equal(x[k], y[k]) for k in x)


def test_same_seed_gives_identical_arrays_and_other_seed_differs():
    a, b = simulate(MODEL, RUN), simulate(MODEL, RUN)
    assert _arrays_equal(a, b)
    c = simulate(MODEL, dataclasses.replace(RUN, seed=100))
    assert not np.array_equal(a.time.sx, c.time.sx)


def test_blocks_merge_to_the_whole_in_any_grouping():
    whole = simulate(MODEL, RUN)
    assert nblocks(RUN) == 4 and whole.ntraj == RUN.ntraj
    parts = [simulate_block(MODEL, RUN, b) for b in range(nblocks(RUN))]
    assert [p.ntraj for p in parts] == [20, 20, 20, 10]
    assert _arrays_equal(((parts[0] + parts[1]) + parts[2]) + parts[3], whole)
    # another grouping of the same blocks: equal up to floating-point reassociation
    other = (parts[0] + parts[1]) + (parts[2] + parts[3])
    x, y = other.to_arrays(), whole.to_arrays()
    assert all(np.allclose(x[k], y[k], rtol=1e-13, atol=0) for k in x)
    # any map with the builtin signature works (e.g. an MPI map returning results in order)
    assert _arrays_equal(simulate(MODEL, RUN, map=lambda f, it: [f(i) for i in it]), whole)


def test_histogram_overflow_retries_with_the_same_trajectories():
    ref = simulate_block(MODEL, RUN, 1)
    small = simulate_block(MODEL, RUN, 1, levels=1)
    for name in ("time", "arrival", "steady_time", "steady_arrival", "clicks"):
        m_ref, m_small = getattr(ref, name), getattr(small, name)
        for key in ("count", "sx", "sy", "sxx", "syy", "sxy"):
            assert np.array_equal(getattr(m_ref, key), getattr(m_small, key))
        width = max(m_ref.hist.shape[1], m_small.hist.shape[1])
        pad = [np.pad(h, ((0, 0), (0, width - h.shape[1]))) for h in (m_ref.hist, m_small.hist)]
        assert np.allclose(pad[0], pad[1], rtol=0, atol=1e-12)
    assert small.time.hist.shape[1] > 1
    # histograms are normalised: each record's bins sum to its trajectory count
    assert np.allclose(small.time.hist.sum(axis=1), small.time.count)
    assert np.allclose(small.arrival.hist.sum(axis=1), small.arrival.count)


def test_fock_initial_state_is_recorded_exactly():
    model = dataclasses.replace(MODEL, initial=InitialField("fock", 3))
    res = simulate_block(model, RUN, 0)
    assert res.arrival_index[0] == 0
    assert res.arrival.sx[0] == 3 * 20 and res.arrival.sy[0] == 9 * 20
    assert res.arrival.hist[0, 3] == 20


def test_detector_efficiency_thins_clicks_binomially():
    run = dataclasses.replace(RUN, detector_efficiency=0.3, ntraj=40, block_size=40)
    res = simulate(MODEL, run)
    atoms = run.ntraj * (run.atoms - run.burn_in)
    detected = res.clicks.sy[0]
    assert abs(detected - 0.3 * atoms) < 4 * np.sqrt(atoms * 0.3 * 0.7)
    assert res.passages >= run.ntraj * run.atoms


def test_method_dispatch_and_errors():
    coherent = dataclasses.replace(MODEL, coherence=0.1 + 0j)
    assert resolve_method(MODEL, RUN) == "fock"
    assert resolve_method(coherent, RUN) == "general"
    with pytest.raises(ValueError, match="method 'fock' needs a diagonal"):
        simulate_block(coherent, dataclasses.replace(RUN, method="fock"), 0)
    with pytest.raises(ValueError, match="unknown method"):
        resolve_method(MODEL, dataclasses.replace(RUN, method="euler"))
    with pytest.raises(ValueError, match="out of range"):
        simulate_block(MODEL, RUN, 4)
    with pytest.raises(ValueError, match="overlap"):
        simulate_block(dataclasses.replace(MODEL, rate=1.5), RUN, 0)


# ---------------------------------------------------------------- compare
def test_compare_agrees_with_its_own_model_and_rejects_another():
    from trajmaser.compare import compare_result

    model = dataclasses.replace(MODEL, statistics="regular")
    run = dataclasses.replace(RUN, ntraj=400, block_size=200, atoms=80, burn_in=40)
    res = simulate(model, run)
    good = compare_result(res, model, run)
    assert good["ok"], good
    assert set(good["series"]) == {"time", "arrival"}
    wrong = compare_result(res, dataclasses.replace(model, pe=0.3), run)
    assert not wrong["ok"]


def test_z_series_and_reference_checks(tmp_path):
    from trajmaser.compare import check_reference_times, load_reference, z_series

    s = z_series([1.0, 2.0, 3.0], [0.5, 0.0, 1.0], [0.0, 2.0, 3.0])
    assert s["z"] == [2.0, None, 0.0] and s["dof"] == 2 and s["chi2"] == 4.0
    assert z_series([1.0], [0.0], [0.5])["p_value"] == 0.0
    bad = tmp_path / "ref.csv"
    bad.write_text("t,mean\n1,2\n")
    with pytest.raises(ValueError, match="header must be 'time,n_mean"):
        load_reference(bad)
    good = tmp_path / "ok.csv"
    good.write_text("time,n_mean\n1.0,0.5\n2.0,0.6\n")
    ref = load_reference(good)
    assert ref["n_var"] is None and np.array_equal(ref["n_mean"], [0.5, 0.6])
    check_reference_times(ref["time"], np.array([1.0, 2.0 * (1 + 1e-12)]))
    with pytest.raises(ValueError, match="--print-times"):
        check_reference_times(ref["time"], np.array([1.0, 2.1]))


# ---------------------------------------------------------------- batch sums
def _batch_counts(ntraj):
    return np.bincount(np.arange(ntraj) % NBATCH, minlength=NBATCH).astype(float)


def test_batch_sums_add_up_to_the_totals():
    res = simulate(MODEL, RUN)
    assert res.batches is not None
    for name in BATCHED:
        part, total = getattr(res.batches, name), getattr(res, name)
        # trajectory i (global index) is in batch i % NBATCH, at every record point
        want = np.repeat(_batch_counts(RUN.ntraj)[:, None], total.points, axis=1)
        assert np.array_equal(part.count, want), name
        for key in ("count", "sx", "sy", "sxx", "syy", "sxy"):
            assert np.allclose(getattr(part, key).sum(axis=0), getattr(total, key), rtol=1e-12)
        assert part.hist.shape[1:] == total.hist.shape
        assert np.allclose(part.hist.sum(axis=0), total.hist, rtol=1e-12, atol=1e-12)
    means = res.batch_means("time")
    assert means["p"].shape == (NBATCH, RUN.samples, res.time.hist.shape[1])
    pooled = (means["n"] * means["count"][:, None]).sum(axis=0) / RUN.ntraj
    assert np.allclose(pooled, res.time.sx / res.time.count, rtol=1e-12)
    with pytest.raises(ValueError, match="allowed: time, arrival"):
        res.batch_means("clicks")


def test_batch_sums_merge_to_the_whole_and_follow_the_global_index():
    whole = simulate(MODEL, RUN)
    parts = [simulate_block(MODEL, RUN, b) for b in range(nblocks(RUN))]
    merged = functools.reduce(operator.add, parts)
    assert _arrays_equal(merged, whole)  # batch arrays included, bitwise
    # another block size: other trajectories, but batch i % NBATCH still by global index
    other = simulate(MODEL, dataclasses.replace(RUN, block_size=7, ntraj=45))
    assert np.array_equal(other.batches.steady_time.count[:, 0], _batch_counts(45))
    assert np.array_equal(simulate_block(MODEL, RUN, 2).batches.arrival.count[:, 0] > 0,
                          np.isin(np.arange(NBATCH), np.arange(40, 60) % NBATCH))  # fmt: skip


def test_batches_round_trip_and_old_files_have_none():
    res = simulate_block(MODEL, RUN, 0)
    arrays = res.to_arrays()
    assert {"batch_time_count", "batch_steady_arrival_hist", "click_pairs_sx"} <= arrays.keys()
    assert _arrays_equal(Result.from_arrays(arrays), res)
    old = {k: v for k, v in arrays.items() if not k.startswith(("batch_", "click_pairs_"))}
    back = Result.from_arrays(old)
    assert back.batches is None and back.click_pairs is None
    assert "correlation" not in back.summary()["clicks"]
    assert (back + res).batches is None  # no honest batches from a part without them
    with pytest.raises(ValueError, match="no batch sums"):
        back.batch_means("time")


# ---------------------------------------------------------------- cancellation and guards
LONG = RunParams(atoms=50_000_000, ntraj=2, samples=2, burn_in=1, seed=1, block_size=2)


@pytest.fixture
def clear_cancel():
    cancel.clear()
    yield
    cancel.clear()


def test_a_pending_stop_request_stops_the_next_block(clear_cancel):
    cancel.request()
    assert cancel.requested()
    with pytest.raises(cancel.Cancelled, match="before block 0"):
        simulate_block(MODEL, RUN, 0)
    cancel.clear()
    assert not cancel.requested()
    assert simulate_block(MODEL, RUN, 0).ntraj == 20


def test_a_signal_handler_stops_a_long_block_mid_trajectory(clear_cancel):
    """SIGALRM's Python handler runs while the kernel works without the GIL; the kernel then
    stops within its poll interval (a 5e7-atom trajectory would take minutes)."""
    hit = []

    def handler(signum, frame):
        hit.append(time.perf_counter())
        cancel.request()

    old = signal.signal(signal.SIGALRM, handler)
    try:
        simulate_block(MODEL, RunParams(atoms=10, ntraj=1, samples=2, burn_in=1), 0)  # compile
        signal.setitimer(signal.ITIMER_REAL, 0.5)
        with pytest.raises(cancel.Cancelled, match="during block 0 \\(trajectory 0\\)"):
            simulate_block(MODEL, LONG, 0)
        latency = time.perf_counter() - hit[0]
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    assert latency < 20.0  # typically milliseconds; generous for a loaded machine


def test_keyboard_interrupt_while_waiting_stops_the_kernel(clear_cancel):
    def handler(signum, frame):
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGALRM, handler)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.3)
        with pytest.raises(KeyboardInterrupt):
            simulate_block(MODEL, LONG, 0)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    assert cancel.requested()  # the worker was told to stop and has been joined


@pytest.mark.parametrize("change", [{"detuning": 1e300}, {"g": 1e300}, {"gamma": 1e300}])
def test_a_non_finite_state_stops_with_an_error(change):
    with pytest.raises(ConfigError, match="NaN/inf in trajectory 0 of block 0"):
        simulate_block(dataclasses.replace(MODEL, **change), RUN, 0)


def test_a_bath_without_damping_leaves_the_gap_alone():
    model = dataclasses.replace(MODEL, kappa=0.0, initial=InitialField("fock", 2), g=0.0)
    res = simulate_block(model, RUN, 0)  # κ = 0, n_b > 0, g = 0: the field never changes
    assert np.all(res.time.sx == 2 * res.time.count)


def test_the_record_grid_never_simulates_an_atom_beyond_atoms():
    """runs/quick.toml at 120 atoms / 12 samples: the last sample time T rounds a few ulps
    above the arrival time of atom `atoms` (which does not belong to the run)."""
    from pathlib import Path

    import tomllib

    from trajmaser.config import config_from_dict

    with (Path(__file__).resolve().parents[2] / "runs" / "quick.toml").open("rb") as fh:
        raw = tomllib.load(fh)
    raw["run"].update(atoms=120, samples=12, burn_in=60, ntraj=20, block_size=20)
    cfg = config_from_dict(raw)
    model, run = cfg.model(), cfg.run
    assert run.samples * (run.atoms / model.rate / run.samples) > run.atoms * (1 / model.rate)
    assert simulate_block(model, run, 0).passages == run.ntraj * run.atoms


def test_click_pair_counts_equal_a_direct_count():
    """The bit-packed lag sums against a direct count over a random detection record."""
    from trajmaser.trajectories.accumulate import click_buffer, click_finish, click_push
    from trajmaser.trajectories.records import RawAccumulators

    rng = np.random.default_rng(8)
    for atoms in (1, 63, 64, 65, 200, 1000):
        det = rng.random(atoms) < 0.7
        exc = det & (rng.random(atoms) < 0.4)
        raw, cb = RawAccumulators.zeros(1, 1), click_buffer()
        for e, d in zip(exc, det, strict=True):
            click_push(cb, bool(e), bool(d))
        click_finish(raw, cb)
        for j in range(1, NLAG + 1):
            x = int(np.sum(exc[:-j] & exc[j:])) if atoms > j else 0
            y = int(np.sum(exc[:-j] & det[j:])) if atoms > j else 0
            assert tuple(raw.click_pairs[j - 1, :3]) == (1.0, x, y), (atoms, j)


# ---------------------------------------------------------------- warm-up
def test_warmup_reports_compiling_only_when_numba_compiles():
    from numba import njit
    from numba.core import event

    from trajmaser.trajectories.warmup import _FirstCompile, warmup

    calls = []
    assert warmup(MODEL, RUN) >= 0.0  # compiled (or loaded) here at the latest
    assert warmup(MODEL, RUN, on_compile=lambda: calls.append(1)) >= 0.0
    assert calls == []  # nothing left to compile for this kernel
    listener = _FirstCompile(lambda: calls.append(2))
    event.register("numba:compile", listener)
    try:
        njit(lambda x: x + 1)(1)  # a fresh function: numba compiles
        njit(lambda x: x + 2)(1)
    finally:
        event.unregister("numba:compile", listener)
    assert calls == [2]  # once
    with pytest.raises(ValueError, match="both model and run"):
        warmup(MODEL)
