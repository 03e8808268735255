"""`trajmaser run` on the real trajectory engine, serially and under ``mpiexec -n 2``.

Small configurations written to tmp_path: two ranks give the bits of a serial run; SIGTERM
checkpoints (exit 99) and the rerun reaches the bits of an uninterrupted run; an error
target stops at the same block on 1 and 2 ranks and meets the target; a ``[sweep]`` file
lists every point under the right labels (each point equals its own single run); a failing
rank, an existing output and an unwritable directory end quickly with a clear message.

Tests that launch mpiexec are marked ``mpi``; they are skipped only when mpi4py or mpiexec is
missing, and never when the CI variable is set (then the missing tool is an error).
"""

from __future__ import annotations

import functools
import importlib.util
import json
import operator
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import cases
import pytest

from trajmaser import cli, io
from trajmaser.config import load_config
from trajmaser.results import Result, load_any
from trajmaser.run import plan

TIMEOUT = 120
MPI_MISSING = importlib.util.find_spec("mpi4py") is None or shutil.which("mpiexec") is None
if MPI_MISSING and os.environ.get("CI"):
    raise RuntimeError("CI is set but mpi4py or mpiexec is missing: the MPI tests must run")


MPI_MARKS = (
    pytest.mark.mpi,
    pytest.mark.skipif(MPI_MISSING, reason="mpi4py or mpiexec not available"),
)


def mpi(test):
    """Mark a test that launches ``mpiexec -n 2``."""
    for mark in MPI_MARKS:
        test = mark(test)
    return test


SMALL = cases.SMALL_RUN
LONG = cases.LONG_RUN  # 48 million passages in 80 blocks: SIGTERM lands mid-run

RANK_FAILURE = """
import sys
from trajmaser import cli
from trajmaser.run import plan

real = plan.simulate_block

def failing(model, run, block, **kwargs):
    if block == {block}:
        raise RuntimeError("injected failure in block {block}")
    return real(model, run, block, **kwargs)

plan.simulate_block = failing
sys.exit(cli.main(sys.argv[1:]))
"""


def _env() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PMI_", "TRAJMASER_MPI"))}
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _cmd(nranks: int, config: Path, out: Path, *extra: str, program=None) -> list[str]:
    program = program or [sys.executable, "-m", "trajmaser.cli"]
    base = [*program, "run", str(config), "-o", str(out), "--quiet", "--no-dm", *extra]
    return base if nranks == 1 else ["mpiexec", "-n", str(nranks), *base]


def _run(nranks, config, out, *extra, expect=0, program=None):
    proc = subprocess.run(_cmd(nranks, config, out, *extra, program=program),
                          capture_output=True, text=True, timeout=TIMEOUT, env=_env())  # fmt: skip
    assert proc.returncode == expect, proc.stderr
    return proc


def _write(path: Path, run: dict, sweep: dict | None = None, *, N=10, stats="regular"):
    path.write_text(cases.paper_toml(run, sweep=sweep, fuel__N=N, pump__statistics=stats))
    return path


@pytest.fixture
def small(tmp_path) -> Path:
    return _write(tmp_path / "small.toml", SMALL)


@pytest.fixture(scope="module")
def long_reference(tmp_path_factory) -> tuple[Path, Path]:
    """The LONG config and its uninterrupted serial result."""
    d = tmp_path_factory.mktemp("long")
    config = _write(d / "long.toml", LONG)
    _run(1, config, d / "ref.npz")
    return config, d / "ref.npz"


# ---------------------------------------------------------------- ranks do not change bits
@mpi
def test_two_ranks_write_the_file_of_a_serial_run(tmp_path, small):
    _run(1, small, tmp_path / "serial.npz")
    _run(2, small, tmp_path / "mpi.npz")
    assert io.compare_results(tmp_path / "serial.npz", tmp_path / "mpi.npz") == []
    # what does differ: execution metadata only (ranks, times, command line), no array
    every = io.compare_results(tmp_path / "serial.npz", tmp_path / "mpi.npz", ignore=())
    keys = {d.split("'")[1] for d in every}
    assert all(d.startswith("metadata") for d in every) and "ranks" in keys
    assert keys <= io.EXECUTION_KEYS, keys
    arrays, meta = io.load_result(tmp_path / "mpi.npz")
    assert meta["ranks"] == 2 and io.load_result(tmp_path / "serial.npz")[1]["ranks"] == 1
    assert int(arrays["ntraj"]) == 60 and meta["blocks_done"] == 6
    assert meta["wall_time_s"] > 0


# ---------------------------------------------------------------- interrupt and resume
def _interrupt(cmd: list[str], ckpt: Path, nblocks: int) -> str:
    """Start ``cmd``, SIGTERM it once ``ckpt`` exists; return its stderr (exit must be 99)."""
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
                            env=_env())  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not ckpt.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert ckpt.exists(), "no checkpoint appeared"
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=TIMEOUT)
    finally:
        proc.kill()
    assert proc.returncode == 99, f"exit {proc.returncode} (run too short?)\n{err}"
    assert "interrupted by SIGTERM" in err and "rerun the same command" in err
    arrays, meta = io.load_result(ckpt)
    done = meta["checkpoint"]["next_block"] + len(meta["checkpoint"]["pending"])
    assert 0 < done < nblocks
    assert meta["config"]["run"]["ntraj"] == 160000
    return err


@pytest.mark.parametrize("nranks", [1, pytest.param(2, marks=MPI_MARKS)])
def test_sigterm_checkpoints_and_the_rerun_equals_an_uninterrupted_run(
    tmp_path, long_reference, nranks
):
    config, ref = long_reference
    out = tmp_path / "r.npz"
    ckpt = io.checkpoint_path(out)
    cmd = _cmd(nranks, config, out, "--checkpoint-every", "0.2")
    _interrupt(cmd, ckpt, nblocks=80)
    assert not out.exists()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT, env=_env())
    assert proc.returncode == 0, proc.stderr
    assert not ckpt.exists()
    meta = io.load_result(out)[1]
    assert 0 < meta["resumed_blocks"] < 80 and meta["ranks"] == nranks
    assert io.compare_results(ref, out) == []


# ---------------------------------------------------------------- error target
@mpi
def test_target_err_stops_at_the_same_block_on_one_and_two_ranks_and_meets_it(tmp_path):
    config = _write(tmp_path / "t.toml", {**SMALL, "ntraj": 40})
    target = 0.015
    extra = ("--target-err", str(target))
    _run(1, config, tmp_path / "serial.npz", *extra)
    _run(2, config, tmp_path / "mpi.npz", *extra)
    assert io.compare_results(tmp_path / "serial.npz", tmp_path / "mpi.npz") == []
    arrays, meta = io.load_result(tmp_path / "mpi.npz")
    batch = meta["batch_blocks"]
    assert batch == 4 and meta["stopped_early"] and meta["target_err"] == target
    done = meta["blocks_done"]
    assert done % batch == 0 and 2 * batch <= done < meta["nblocks"] == 400

    def rel_err(res: Result) -> float:
        s = res.summary()["steady"]["time"]
        return s["Tf_over_Tb_err"] / s["Tf_over_Tb"]

    result = Result.from_arrays(arrays)
    assert result.ntraj == 10 * done and rel_err(result) <= target
    # the batch before did not meet it: the run stopped at the first check that passed
    task, _, _, stop = plan.plan_run(load_config(config), target_err=target)
    before = functools.reduce(operator.add, map(task, range(done - batch)))
    assert rel_err(before) > target and not stop(before) and stop(result)


# ---------------------------------------------------------------- sweeps
SWEEP = {"fuel.N": [1, 4], "pump.statistics": ["regular", "poisson"]}


@mpi
def test_sweep_file_lists_every_point_with_its_labels_and_each_equals_its_own_run(tmp_path, capsys):
    run = {**SMALL, "ntraj": 30}
    config = _write(tmp_path / "sweep.toml", run, SWEEP)
    _run(2, config, tmp_path / "sweep.npz")
    assert cli.main(["summary", str(tmp_path / "sweep.npz"), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    labels = [(r["fuel.N"], r["pump.statistics"]) for r in rows]
    assert labels == [(1, "regular"), (1, "poisson"), (4, "regular"), (4, "poisson")]
    sweep = load_any(io.load_result(tmp_path / "sweep.npz")[0])
    for i, (n, stats) in enumerate(labels):
        single = _write(tmp_path / f"N{n}-{stats}.toml", run, N=n, stats=stats)
        out = tmp_path / f"N{n}-{stats}.npz"
        assert cli.main(["run", str(single), "-o", str(out), "--quiet", "--no-dm", "--json"]) == 0
        capsys.readouterr()
        arrays = io.load_result(out)[0]
        point = sweep.results[i].to_arrays()
        assert point.keys() == arrays.keys()
        assert all(point[k].tobytes() == arrays[k].tobytes() for k in arrays), (n, stats)
        assert cli.main(["summary", str(out), "--json"]) == 0
        alone = json.loads(capsys.readouterr().out)
        same = [json.dumps(x, sort_keys=True) for x in (rows[i]["steady"], alone["steady"])]
        assert same[0] == same[1] and rows[i]["ntraj"] == 30  # as text: NaN == NaN
    # the points differ (the labels are not attached to copies of one result)
    assert len({r["steady"]["time"]["n_mean"] for r in rows}) == 4


@mpi
def test_a_sweep_with_an_invalid_point_fails_before_any_work(tmp_path):
    bad = {"pump.Nex": [500, 200000]}  # r·tau ≈ 30 at the second point
    config = _write(tmp_path / "bad.toml", SMALL, bad)
    proc = _run(2, config, tmp_path / "bad.npz", expect=2)
    assert proc.stderr.count("error:") == 1 and "overlap" in proc.stderr
    assert "Traceback" not in proc.stderr and not (tmp_path / "bad.npz").exists()


# ---------------------------------------------------------------- failures and refusals
@mpi
def test_a_failing_rank_aborts_the_run_quickly_with_rank_block_and_traceback(tmp_path, small):
    # rank 0 hands blocks 0 and 1 to rank 1 before computing block 2 itself
    program = [sys.executable, "-c", RANK_FAILURE.format(block=0)]
    t0 = time.monotonic()
    proc = subprocess.run(_cmd(2, small, tmp_path / "r.npz", program=program),
                          capture_output=True, text=True, timeout=TIMEOUT, env=_env())  # fmt: skip
    assert proc.returncode != 0
    assert time.monotonic() - t0 < 30
    assert "rank 1 of 2 failed on block 0" in proc.stderr
    assert "RuntimeError: injected failure in block 0" in proc.stderr
    assert not (tmp_path / "r.npz").exists()


@mpi
def test_an_existing_output_is_refused_once_naming_force(tmp_path, small):
    out = tmp_path / "r.npz"
    out.write_bytes(b"keep")
    for nranks in (1, 2):
        proc = _run(nranks, small, out, expect=2)
        assert proc.stderr.count("--force") == 1, proc.stderr
        assert "already exists" in proc.stderr and "Traceback" not in proc.stderr
    assert out.read_bytes() == b"keep"
    _run(1, small, out, "--force")
    assert Result.from_arrays(io.load_result(out)[0]).ntraj == 60


def _unwritable_dir(tmp_path: Path) -> Path:
    """A directory in which nothing can be created (root ignores modes: use /proc)."""
    d = tmp_path / "ro"
    d.mkdir()
    d.chmod(0o555)
    if os.access(d, os.W_OK):
        return Path("/proc")
    return d


def test_missing_directories_are_created_and_an_unwritable_one_is_a_clear_error(tmp_path, small):
    out = tmp_path / "new" / "sub" / "r.npz"
    _run(1, small, out)
    assert Result.from_arrays(io.load_result(out)[0]).ntraj == 60
    out = _unwritable_dir(tmp_path) / "r.npz"
    proc = _run(1, small, out, expect=2)
    assert f"cannot write {out}" in proc.stderr and "is not writable" in proc.stderr
    assert "Traceback" not in proc.stderr and "[Errno" not in proc.stderr, proc.stderr


@mpi
def test_a_directory_that_cannot_be_created_ends_every_rank_quickly(tmp_path, small):
    out = _unwritable_dir(tmp_path) / "sub" / "r.npz"
    t0 = time.monotonic()
    proc = _run(2, small, out, expect=2)
    assert time.monotonic() - t0 < 30  # rank 1 must not wait for rank 0 forever
    assert proc.stderr.count("error:") == 1, proc.stderr
    assert f"cannot write {out}: cannot create directory {out.parent}" in proc.stderr
    assert "Traceback" not in proc.stderr and "[Errno" not in proc.stderr
