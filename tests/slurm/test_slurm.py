"""slurm/*.sbatch on a real (single-node) SLURM: results equal a direct ``mpiexec -n 2`` run,
a job warned of its time limit checkpoints, requeues and resumes to the same bits, and a sweep
array writes one result per config.

Needs a running SLURM (``bash ci/slurm-up.sh`` as root).  Without one the tests are skipped,
except when the CI variable is set: then they fail, so CI can never skip them silently.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import cases
import pytest

from trajmaser import io

pytestmark = pytest.mark.slurm

ROOT = Path(__file__).resolve().parents[2]
RUN = ROOT / "slurm" / "run.sbatch"
SWEEP = ROOT / "slurm" / "sweep.sbatch"
TOY = ROOT / "tests" / "mpi" / "toy.py"
TIMEOUT = 300

SMALL_RUN = cases.paper_toml({**cases.SMALL_RUN, "ntraj": 40, "burn_in": 100}, pump__Nex=500)


def _slurm_problem() -> str | None:
    if shutil.which("sinfo") is None or shutil.which("sbatch") is None:
        return "SLURM client commands (sinfo, sbatch) not found"
    try:
        out = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True,
                             timeout=30)  # fmt: skip
    except subprocess.TimeoutExpired:
        return "sinfo timed out: slurmctld not answering"
    states = out.stdout.split()
    if out.returncode != 0 or not any(s.rstrip("*") in ("idle", "mixed") for s in states):
        return f"no idle SLURM node (sinfo: {out.stdout.strip() or out.stderr.strip()})"
    return None


@pytest.fixture(scope="module", autouse=True)
def _need_slurm():
    problem = _slurm_problem()
    if problem is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI is set but SLURM is not usable: {problem} (run ci/slurm-up.sh)")
    pytest.skip(f"{problem}; start one with `sudo bash ci/slurm-up.sh`")


def _env(program: str | None = None) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PMI_", "SLURM_"))}
    env["SLURM_SCRIPTS"] = str(ROOT / "slurm")
    env["PYTHONUNBUFFERED"] = "1"
    if program is not None:
        env["TRAJMASER"] = program
    return env


TOY_PROGRAM = f"{sys.executable} {TOY}"


def _sbatch(tmp_path, *args, env, wait=True):
    cmd = ["sbatch", "--parsable", f"--chdir={tmp_path}", f"--output={tmp_path}/job-%j.out"]
    cmd += ["--wait", *args] if wait else list(args)
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=TIMEOUT)
    return proc, proc.stdout.strip().split(";")[0]


def _log(tmp_path, job):
    path = tmp_path / f"job-{job}.out"
    return path.read_text() if path.exists() else "(no job log)"


def _toy_config(tmp_path, name="toy.toml", seed=5):
    path = tmp_path / name
    path.write_text(f"[toy]\nnblocks = 24\nseed = {seed}\n")
    return path


def _direct(nranks, program, config, out, *extra):
    base = [*program.split(), "run", str(config), "-o", str(out), *extra]
    cmd = base if nranks == 1 else ["mpiexec", "-n", str(nranks), *base]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=_env(), timeout=TIMEOUT,
                          cwd=config.parent)  # fmt: skip
    assert proc.returncode == 0, proc.stderr


def test_run_sbatch_equals_a_direct_mpiexec_run(tmp_path):
    config = _toy_config(tmp_path)
    proc, job = _sbatch(tmp_path, str(RUN), str(config), str(tmp_path / "slurm.npz"),
                        env=_env(TOY_PROGRAM))  # fmt: skip
    log = _log(tmp_path, job)
    assert proc.returncode == 0, proc.stderr + log
    assert "2 ranks" in log and "finished with status 0" in log
    _direct(2, TOY_PROGRAM, config, tmp_path / "direct.npz")
    assert io.load_result(tmp_path / "slurm.npz")[1]["ranks"] == 2
    assert io.compare_results(tmp_path / "slurm.npz", tmp_path / "direct.npz") == []


def test_time_limit_warning_checkpoints_requeues_and_resumes_to_the_same_bits(tmp_path):
    config = _toy_config(tmp_path)
    out = tmp_path / "q.npz"
    proc, job = _sbatch(tmp_path, str(RUN), str(config), str(out), "--nblocks", "40",
                        "--sleep", "0.15", "--checkpoint-seconds", "0",
                        env=_env(TOY_PROGRAM), wait=False)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    try:
        deadline = time.monotonic() + TIMEOUT
        while not io.checkpoint_path(out).exists():
            assert time.monotonic() < deadline, "no checkpoint: " + _log(tmp_path, job)
            time.sleep(0.2)
        # what --signal=B:USR1@120 does 120 s before the time limit
        subprocess.run(["scancel", "--signal=USR1", "--batch", job], check=True, timeout=30)
        while "requeueing" not in _log(tmp_path, job):
            assert time.monotonic() < deadline, "job was not requeued: " + _log(tmp_path, job)
            time.sleep(0.2)
        while True:  # a requeued job waits ~2 min (BeginTime): release it now
            subprocess.run(["scontrol", "update", f"JobId={job}", "StartTime=now"],
                           capture_output=True, timeout=30)  # fmt: skip
            state = subprocess.run(["squeue", "-h", "-j", job, "-o", "%T"], capture_output=True,
                                   text=True, timeout=30).stdout.strip()  # fmt: skip
            if not state and out.exists():
                break
            assert time.monotonic() < deadline, f"job stuck in state {state!r}"
            time.sleep(0.5)
    finally:
        subprocess.run(["scancel", job], capture_output=True, timeout=30)
    log = _log(tmp_path, job)
    assert "resuming from checkpoint" in log and "finished with status 0" in log, log
    assert io.load_result(out)[1]["resumed_blocks"] > 0
    assert not io.checkpoint_path(out).exists()
    _direct(1, TOY_PROGRAM, config, tmp_path / "ref.npz", "--nblocks", "40")
    assert io.compare_results(out, tmp_path / "ref.npz") == []


def test_sweep_array_writes_one_result_per_config(tmp_path):
    configs = [_toy_config(tmp_path, f"p{i}.toml", seed=10 + i) for i in range(2)]
    proc, job = _sbatch(tmp_path, "--array=0-1", str(SWEEP), str(tmp_path / "out"),
                        *map(str, configs), env=_env(TOY_PROGRAM))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    for config in configs:
        _direct(1, TOY_PROGRAM, config, tmp_path / f"ref-{config.stem}.npz")
        got = tmp_path / "out" / f"{config.stem}.npz"
        assert got.exists(), sorted(p.name for p in tmp_path.iterdir())
        assert io.compare_results(got, tmp_path / f"ref-{config.stem}.npz") == []


def test_trajmaser_run_through_sbatch_equals_direct_mpiexec(tmp_path):
    config = tmp_path / "small.toml"
    config.write_text(SMALL_RUN)
    program = f"{sys.executable} -m trajmaser.cli"
    proc, job = _sbatch(tmp_path, str(RUN), str(config), str(tmp_path / "slurm.npz"),
                        env=_env(program))  # fmt: skip
    assert proc.returncode == 0, proc.stderr + _log(tmp_path, job)
    _direct(2, program, config, tmp_path / "direct.npz")
    assert io.compare_results(tmp_path / "slurm.npz", tmp_path / "direct.npz") == []
    _direct(1, program, config, tmp_path / "serial.npz")
    assert io.compare_results(tmp_path / "slurm.npz", tmp_path / "serial.npz") == []
