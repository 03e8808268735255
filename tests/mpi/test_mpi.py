"""trajmaser.run on the MPI backend (``mpiexec -n 2``): bitwise equality with serial runs, failures
that abort quickly, and signals that checkpoint and resume to the same bits.

Each test launches subprocesses running tests/mpi/toy.py (a mergeable toy task).  Skipped
only when mpi4py or mpiexec is missing, and never when the CI variable is set.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from trajmaser import io

pytestmark = pytest.mark.mpi

TOY = Path(__file__).resolve().parent / "toy.py"
TIMEOUT = 120

if importlib.util.find_spec("mpi4py") is None or shutil.which("mpiexec") is None:
    if os.environ.get("CI"):
        raise RuntimeError("CI is set but mpi4py or mpiexec is missing: the MPI tests must run")
    pytest.skip("mpi4py or mpiexec not available", allow_module_level=True)


def _env() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PMI_", "TRAJMASER_MPI"))}
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _cmd(nranks: int, config: Path, out: Path, *extra: str) -> list[str]:
    base = [sys.executable, str(TOY), "run", str(config), "-o", str(out), *extra]
    return base if nranks == 1 else ["mpiexec", "-n", str(nranks), *base]


def _run(nranks, config, out, *extra, expect=0):
    proc = subprocess.run(_cmd(nranks, config, out, *extra), capture_output=True, text=True,
                          timeout=TIMEOUT, env=_env())  # fmt: skip
    assert proc.returncode == expect, proc.stderr
    return proc


@pytest.fixture
def config(tmp_path):
    path = tmp_path / "toy.toml"
    path.write_text("[toy]\nnblocks = 13\nseed = 77\n")
    return path


def test_two_ranks_give_the_same_bits_as_one(tmp_path, config):
    _run(1, config, tmp_path / "serial.npz")
    proc = _run(2, config, tmp_path / "mpi.npz", "--progress")
    assert io.compare_results(tmp_path / "serial.npz", tmp_path / "mpi.npz") == []
    # one progress bar (rank 0's), counting the blocks of both ranks
    assert proc.stderr.count(" 0/13 ") == 1 and "13/13" in proc.stderr
    assert io.load_result(tmp_path / "mpi.npz")[1]["ranks"] == 2
    # slow blocks on one side change which rank does what, not the answer
    _run(2, config, tmp_path / "slow.npz", "--sleep", "0.05")
    assert io.compare_results(tmp_path / "serial.npz", tmp_path / "slow.npz") == []


def test_five_ranks_where_rank_0_only_merges_give_the_same_bits(tmp_path, config):
    # beyond 4 ranks rank 0 computes nothing and blocks go out in interleaved chunks
    _run(1, config, tmp_path / "serial.npz", "--nblocks", "60")
    _run(5, config, tmp_path / "mpi.npz", "--nblocks", "60")
    assert io.compare_results(tmp_path / "serial.npz", tmp_path / "mpi.npz") == []


def test_error_target_stops_at_the_same_block_on_one_and_two_ranks(tmp_path, config):
    extra = ("--nblocks", "60", "--batch", "3", "--target-err", "30")
    _run(1, config, tmp_path / "serial.npz", *extra)
    _run(2, config, tmp_path / "mpi.npz", *extra)
    meta = io.load_result(tmp_path / "serial.npz")[1]
    assert meta["stopped_early"] and meta["blocks_done"] % 3 == 0 and meta["blocks_done"] < 60
    assert io.compare_results(tmp_path / "serial.npz", tmp_path / "mpi.npz") == []


@pytest.mark.parametrize("rank", [0, 1])
def test_a_failing_rank_aborts_the_job_quickly_with_its_traceback(tmp_path, config, rank):
    t0 = time.monotonic()
    proc = subprocess.run(
        _cmd(2, config, tmp_path / "r.npz", "--fail-rank", str(rank), "--sleep", "0.2"),
        capture_output=True, text=True, timeout=TIMEOUT, env=_env(),
    )  # fmt: skip
    assert proc.returncode != 0
    assert time.monotonic() - t0 < 30
    found = re.search(rf"rank {rank} of 2 failed on block (\d+)", proc.stderr)
    assert found, proc.stderr
    assert f"RuntimeError: toy failure in block {found[1]}" in proc.stderr
    assert not (tmp_path / "r.npz").exists()


def test_an_existing_output_is_refused_on_every_rank_without_a_hang(tmp_path, config):
    out = tmp_path / "r.npz"
    out.write_bytes(b"keep")
    proc = _run(2, config, out, expect=2)
    assert proc.stderr.count("--force") == 1  # said once, by rank 0
    assert out.read_bytes() == b"keep"


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGUSR1])
def test_signal_mid_run_then_resume_equals_an_uninterrupted_run(tmp_path, config, signum):
    _run(1, config, tmp_path / "ref.npz", "--nblocks", "40")
    out = tmp_path / "r.npz"
    ckpt = io.checkpoint_path(out)
    extra = ("--nblocks", "40", "--sleep", "0.1", "--checkpoint-seconds", "0")
    proc = subprocess.Popen(_cmd(2, config, out, *extra), stderr=subprocess.PIPE, text=True,
                            env=_env())  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not ckpt.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert ckpt.exists(), "no checkpoint appeared"
        proc.send_signal(signum)  # to mpiexec, which forwards it to the ranks
        _, err = proc.communicate(timeout=TIMEOUT)
    finally:
        proc.kill()
    assert proc.returncode == 99, err
    assert "checkpoint" in err and not out.exists()
    state = io.load_result(ckpt)[1]["checkpoint"]
    assert 0 < state["next_block"] + len(state["pending"]) < 40
    _run(2, config, out, *extra[:2])
    assert not ckpt.exists()
    assert io.load_result(out)[1]["resumed_blocks"] > 0
    assert io.compare_results(tmp_path / "ref.npz", out) == []
