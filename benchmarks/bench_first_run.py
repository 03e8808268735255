"""The default job's first run after install: cold, after `trajmaser warmup`, and warm.

Each command runs in a subprocess with its own empty numba cache (``NUMBA_CACHE_DIR``), so
the package's own cache never takes part:

- **start**: ``trajmaser --version`` (interpreter start, ``import trajmaser``, the parser);
- **cold**: ``trajmaser run CONFIG`` with an empty cache (a fresh install, no warmup): numba
  compiles the kernels before the first block;
- **warmup**: ``trajmaser warmup`` into a second empty cache (what the install instructions
  run, once);
- **after warmup**: ``trajmaser run CONFIG`` with that cache (the first run a user sees);
- **warm**: the same command again (the steady state).

Printed side by side: wall time, CPU time (user + system of the child: less sensitive to a
shared machine than wall time), the ratio to the warm run, and whether the progress bar said
"compiling".  The 1-minute load average is printed before and after: rerun when the machine
is idle for clean numbers.

Usage: ``python benchmarks/bench_first_run.py [--config runs/quick.toml] [--no-dm]``.
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

ROOT = Path(__file__).resolve().parents[1]


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(args: list[str], cache: Path) -> dict:
    """Run ``trajmaser ARGS`` with ``NUMBA_CACHE_DIR=cache``; wall and CPU seconds, stderr."""
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    cmd = [sys.executable, "-m", "trajmaser.cli", *args]
    cpu0, t0 = _children_cpu(), time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=ROOT)
    wall, cpu = time.perf_counter() - t0, _children_cpu() - cpu0
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr}")
    return {"wall": wall, "cpu": cpu, "compiling": "compiling" in proc.stderr}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default="runs/quick.toml", help="run configuration")
    ap.add_argument("--no-dm", action="store_true", help="skip the density matrix after runs")
    opts = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench_first_run_") as tmp:
        tmp = Path(tmp)
        cold_cache, warm_cache = tmp / "cache_cold", tmp / "cache_warm"
        run = ["run", opts.config, "-o", str(tmp / "out.npz"), "--force"]
        run += ["--no-dm"] if opts.no_dm else []
        print(f"config {opts.config}; load average before: {os.getloadavg()[0]:.2f}")
        rows = [("start (trajmaser --version)", timed(["--version"], tmp / "cache_start"))]
        rows.append(("cold: first run, no warmup", timed(run, cold_cache)))
        rows.append(("trajmaser warmup", timed(["warmup"], warm_cache)))
        rows.append(("first run after warmup", timed(run, warm_cache)))
        rows.append(("warm: second run", timed(run, warm_cache)))
    warm = rows[-1][1]
    print(f"{'command':<30} {'wall s':>8} {'CPU s':>8} {'wall/warm':>10} {'CPU/warm':>9}  bar")
    for name, r in rows:
        bar = "compiling" if r["compiling"] else ""
        print(f"{name:<30} {r['wall']:8.2f} {r['cpu']:8.2f} {r['wall'] / warm['wall']:10.2f} "
              f"{r['cpu'] / warm['cpu']:9.2f}  {bar}")  # fmt: skip
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
