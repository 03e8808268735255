"""Strong scaling of `trajmaser run`: the same run serially and under ``mpiexec -n K``.

The run is ``runs/quick.toml`` (paper Fig. 3, Nex = 6500, star fuel N = 10) with more
trajectories: by default 2,000,000 trajectories of 400 atoms in blocks of 10,000 (800 million
atom passages, about 1.5 minutes on one idle core).  An untimed tiny run first fills the numba
cache.  Both runs write a result file into a temporary directory; the script checks that the
two files are identical apart from execution metadata and prints, side by side, the wall time
of the whole command (interpreter start, numba cache load; density-matrix reference skipped),
the in-run time recorded in the file (``wall_time_s``: from the first block to the last
merge), the speed-up and the atom passages per second.  Nothing is subtracted.  The 1-minute
load average before and after each run and the cores each command obtained (its CPU time
over its wall time) are printed: on a shared machine the speed-up means little, rerun when
it is idle.

Usage: ``python benchmarks/bench_mpi.py [--ntraj 2000000] [--block-size 10000] [--ranks 2]``.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from trajmaser import io

ROOT = Path(__file__).resolve().parents[1]
BASE = ROOT / "runs" / "quick.toml"


def scaled_config(path: Path, ntraj: int, block_size: int) -> Path:
    """``runs/quick.toml`` with ``ntraj`` and ``block_size`` replaced, written to ``path``."""
    lines = []
    for line in BASE.read_text().splitlines():
        key = line.split("=")[0].strip()
        if key == "ntraj":
            line = f"ntraj = {ntraj}"
        elif key == "block_size":
            line = f"block_size = {block_size}"
        lines.append(line)
    path.write_text("\n".join(lines) + "\n")
    return path


def _children_cpu() -> float:
    """User + system CPU seconds of all finished child processes (ranks included)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed_run(ranks: int, config: Path, out: Path) -> dict:
    """Run ``trajmaser run`` on ``ranks`` ranks; wall time of the command and file metadata."""
    cmd = [sys.executable, "-m", "trajmaser.cli", "run", str(config), "-o", str(out)]
    cmd += ["--quiet", "--no-dm", "--force"]
    if ranks > 1:
        cmd = ["mpiexec", "-n", str(ranks), *cmd]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PMI_", "TRAJMASER_MPI"))}
    env.update(OMP_NUM_THREADS="1", NUMBA_NUM_THREADS="1")
    load0, cpu0 = os.getloadavg()[0], _children_cpu()
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall, cpu = time.perf_counter() - t0, _children_cpu() - cpu0
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr}")
    arrays, meta = io.load_result(out)
    return {
        "ranks": ranks,
        "command_s": wall,
        "cpu_s": cpu,
        "in_run_s": float(meta["wall_time_s"]),
        "passages": int(arrays["passages"]),
        "load": (load0, os.getloadavg()[0]),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--ntraj", type=int, default=2_000_000, help="trajectories (2000000)")
    p.add_argument("--block-size", type=int, default=10_000, help="trajectories/block (10000)")
    p.add_argument("--ranks", type=int, default=2, help="MPI ranks of the parallel run (2)")
    args = p.parse_args(argv)
    print(f"host cores: {os.cpu_count()}, ranks: {args.ranks}, ntraj: {args.ntraj}, "
          f"block_size: {args.block_size}, atoms/trajectory: 400")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        # untimed warm-up: compiles the numba kernels into their cache if it is stale
        timed_run(1, scaled_config(tmp / "warm.toml", 10, 10), tmp / "warm.npz")
        config = scaled_config(tmp / "bench.toml", args.ntraj, args.block_size)
        serial = timed_run(1, config, tmp / "serial.npz")
        par = timed_run(args.ranks, config, tmp / "mpi.npz")
        diffs = io.compare_results(tmp / "serial.npz", tmp / "mpi.npz")
    print(f"{'':24s}{'serial':>14s}{f'mpiexec -n {args.ranks}':>14s}{'speed-up':>10s}")
    for key, label in (("command_s", "whole command (s)"), ("in_run_s", "in-run wall_time_s")):
        a, b = serial[key], par[key]
        print(f"{label:24s}{a:>14.2f}{b:>14.2f}{a / b:>9.2f}x")
    for key, label in (("command_s", "passages/s (command)"), ("in_run_s", "passages/s (in-run)")):
        a, b = serial["passages"] / serial[key], par["passages"] / par[key]
        print(f"{label:24s}{a:>14.3e}{b:>14.3e}")
    cpu = [f"{r['cpu_s']:.1f}" for r in (serial, par)]
    print(f"{'CPU time, all ranks (s)':24s}{cpu[0]:>14s}{cpu[1]:>14s}")
    cores = [f"{r['cpu_s'] / r['command_s']:.2f}" for r in (serial, par)]
    print(f"{'cores obtained (CPU/wall)':24s}{cores[0]:>14s}{cores[1]:>14s}")
    loads = ["{:.2f}/{:.2f}".format(*r["load"]) for r in (serial, par)]
    print(f"{'load avg 1 min (start/end)':24s}{loads[0]:>14s}{loads[1]:>14s}")
    print(f"atom passages per run: {serial['passages']:,}")
    print("result files identical apart from execution metadata:", "yes" if not diffs else diffs)
    return 0 if not diffs else 1


if __name__ == "__main__":
    sys.exit(main())
