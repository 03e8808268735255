"""trajmaser.run (plan + runner) in one process: what `trajmaser run` computes and writes.

The result file of a run must be the left fold, in block order, of `simulate_block` over the
run's blocks; halves of a run merge to the whole; a ``[sweep]`` is the blocks of every point
flattened point-major, each point's result equal to a run of that point alone.  Multi-rank
runs of the same configurations are in tests/mpi/test_run_cli.py.
"""

from __future__ import annotations

import functools
import operator
import re

import cases
import numpy as np
import pytest

from trajmaser import io
from trajmaser.config import config_from_dict, with_run
from trajmaser.params import ConfigError
from trajmaser.results import Result, SweepResult, load_any
from trajmaser.run import plan, runner
from trajmaser.trajectories import nblocks, simulate, simulate_block

RAW = cases.paper_raw(
    {"atoms": 120, "ntraj": 60, "samples": 6, "burn_in": 40, "seed": 31, "block_size": 10},
    pump__statistics="poisson",
)


def _cfg(**run_changes):
    raw = {s: dict(t) for s, t in RAW.items()}
    raw["run"].update(run_changes)
    return config_from_dict(raw)


def _bitwise_equal(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(
        np.asarray(a[k]).dtype == np.asarray(b[k]).dtype
        and np.asarray(a[k]).tobytes() == np.asarray(b[k]).tobytes()
        for k in a
    )


def _fold(model, run, blocks) -> Result:
    return functools.reduce(operator.add, (simulate_block(model, run, b) for b in blocks))


def test_run_file_is_the_block_order_fold_of_simulate_block(tmp_path):
    cfg = _cfg()
    out = tmp_path / "run.npz"
    outcome = runner.execute(cfg, str(out))
    assert outcome.complete and outcome.blocks_done == outcome.nblocks == 6
    arrays, meta = io.load_result(out)
    whole = simulate(cfg.model(), cfg.run)
    assert _bitwise_equal(arrays, whole.to_arrays())
    assert meta["seed"] == 31 and meta["ntraj"] == 60 and meta["block_size"] == 10
    assert meta["blocks_done"] == 6 and not meta["stopped_early"]
    assert meta["config"]["pump"]["statistics"] == "poisson"
    assert not io.checkpoint_path(out).exists()


def test_two_halves_merge_to_the_whole(tmp_path):
    cfg = _cfg()
    model, run = cfg.model(), cfg.run
    whole = simulate(model, run)
    # first half as its own run (a config with half the trajectories: same block seeds) ...
    half_cfg = with_run(cfg, ntraj=30)
    runner.execute(half_cfg, str(tmp_path / "half.npz"))
    first = Result.from_arrays(io.load_result(tmp_path / "half.npz")[0])
    assert _bitwise_equal(first.to_arrays(), _fold(model, run, range(3)).to_arrays())
    # ... continued block by block in block order gives the whole bit for bit
    cont = functools.reduce(operator.add, (simulate_block(model, run, b) for b in range(3, 6)),
                            first)  # fmt: skip
    assert _bitwise_equal(cont.to_arrays(), whole.to_arrays())
    # ... and merged with the second half as one result: exact counts, sums to rounding
    merged = first + _fold(model, run, range(3, 6))
    assert merged.ntraj == whole.ntraj == 60 and merged.passages == whole.passages
    x, y = merged.to_arrays(), whole.to_arrays()
    assert x.keys() == y.keys()
    for k in x:
        assert np.allclose(x[k], y[k], rtol=1e-12, atol=0), k
    for block in ("time", "arrival"):
        s, w = merged.summary()["steady"][block], whole.summary()["steady"][block]
        assert s == pytest.approx(w, rel=1e-10)


def _sweep_cfg():
    raw = {s: dict(t) for s, t in RAW.items()}
    raw["run"].update(ntraj=20)
    raw["sweep"] = {"fuel.N": [1, 4], "pump.statistics": ["regular", "poisson"]}
    return config_from_dict(raw)


def test_sweep_plan_is_point_major_and_each_point_equals_its_own_run():
    cfg = _sweep_cfg()
    task, ntasks, from_arrays, stop = plan.plan_run(cfg)
    assert ntasks == 4 * 2 and stop is None and from_arrays == SweepResult.from_arrays
    total = functools.reduce(operator.add, (task(k) for k in range(ntasks)))
    assert total.axes == ("fuel.N", "pump.statistics")
    assert total.points == ((1, "regular"), (1, "poisson"), (4, "regular"), (4, "poisson"))
    # the first two tasks are the two blocks of point 0; the others are not run by them
    first = task(0) + task(1)
    assert first.results[0].ntraj == 20 and first.results[1:] == (None, None, None)
    for (n, stats), res in zip(total.points, total.results, strict=True):
        raw = {s: dict(t) for s, t in RAW.items()}
        raw["run"].update(ntraj=20)
        raw["fuel"]["N"], raw["pump"]["statistics"] = n, stats
        single = config_from_dict(raw)
        ref = simulate(single.model(), single.run)
        assert _bitwise_equal(res.to_arrays(), ref.to_arrays()), (n, stats)
    # the file layout round-trips, including a point not run yet
    partial = SweepResult(total.axes, total.points, (None, *total.results[1:]))
    back = load_any(partial.to_arrays())
    assert back.results[0] is None and back.table()[0] == {
        "fuel.N": 1,
        "pump.statistics": "regular",
        "ntraj": 0,
    }
    assert _bitwise_equal(back.results[3].to_arrays(), total.results[3].to_arrays())


def test_sweeps_of_different_grids_do_not_merge():
    a = SweepResult(("fuel.N",), ((1,), (2,)), (None, None))
    b = SweepResult(("fuel.N",), ((1,), (3,)), (None, None))
    with pytest.raises(ValueError, match="different sweeps"):
        a + b


def test_target_err_is_checked_for_range_and_refused_for_sweeps():
    with pytest.raises(ConfigError, match="single runs"):
        plan.plan_run(_sweep_cfg(), target_err=0.01)
    for bad in (0.0, 1.0, -0.1):
        with pytest.raises(ConfigError, match=r"must be in \(0, 1\)"):
            plan.plan_run(_cfg(), target_err=bad)


def test_target_err_run_has_capped_blocks_and_stops_on_the_error_of_steady_tf():
    cfg = _cfg()
    task, ntasks, _, stop = plan.plan_run(cfg, target_err=0.05, max_ntraj=200)
    assert ntasks == nblocks(with_run(cfg, ntraj=200).run) == 20
    res = task(0)
    s = res.summary()["steady"]["time"]
    rel = s["Tf_over_Tb_err"] / abs(s["Tf_over_Tb"])
    assert stop(res) == (rel <= 0.05)
    _, _, _, loose = plan.plan_run(cfg, target_err=rel * 1.001)
    _, _, _, tight = plan.plan_run(cfg, target_err=rel * 0.999)
    assert loose(res) and not tight(res)


def test_output_directories_are_created_only_when_asked_and_before_any_work(tmp_path):
    cfg = _cfg(ntraj=10)
    out = tmp_path / "a" / "b" / "run.npz"
    with pytest.raises(FileNotFoundError, match="does not exist"):
        runner.execute(cfg, str(out))
    assert not (tmp_path / "a").exists()
    runner.execute(cfg, str(out), make_dirs=True)
    assert Result.from_arrays(io.load_result(out)[0]).ntraj == 10
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(OSError, match=re.escape(f"cannot create directory {blocker / 'sub'}")):
        runner.execute(cfg, str(blocker / "sub" / "run.npz"), make_dirs=True)
