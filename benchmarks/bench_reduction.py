"""Rank 0's cost per block, before (one pickled `Result` per message, object merge) and after
(chunks of packed blocks, one vector addition per merge), side by side in one run.

1. In this process, for several record sizes (``samples`` S, histogram width L): the bytes a
   block adds to a message and rank 0's time per block (unpickle + merge; after: messages of
   16 blocks, and of one block).  The merged bits are checked equal.
2. ``mpiexec -n K`` (K = 16 and 32 by default, oversubscribed on a small machine) with tiny
   blocks (the task returns a premade result, so rank 0 is the bottleneck): blocks per second
   through the whole run, before and after, and a digest of the merged result, which must be
   the same for every K and both protocols (and equal to the serial fold), and rank 0's CPU
   time per block.
3. The projected parallel efficiency of the paper's run at 10², 10³ and 10⁴ ranks from
   these constants (see docs/SCALING.md for the model).

Results are synthetic `Result` objects with random sums of the right shapes (no kernel).
Times are CPU times (rank 0's own), which a shared machine disturbs far less than wall times;
blocks per second are wall-clock figures and vary with the load (the 1-minute load average
is printed).

Usage: ``python benchmarks/bench_reduction.py [--ranks 16 32] [--blocks 3000] [--samples 50]
[--levels 32] [--rate 2e7]``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import pickle
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import fields
from pathlib import Path

import numpy as np

from trajmaser.results import Moments, Result
from trajmaser.run.packing import Codec, PackedTask

VARIANTS = 8  # distinct premade block results, cycled over the blocks
CHUNK = 16


def synthetic(block: int, samples: int, levels: int) -> Result:
    """A `Result` with random sums of realistic shapes (S record points, L histogram bins)."""
    rng = np.random.default_rng(block)
    res = Result.empty(np.linspace(0.1, 1.0, samples), np.arange(samples), 6.0)
    scale = 10.0 ** rng.uniform(-3, 3)  # merge order then changes the bits
    for f in fields(res):
        m = getattr(res, f.name)
        if isinstance(m, Moments):
            for name in ("count", "sx", "sy", "sxx", "syy", "sxy"):
                getattr(m, name)[:] = rng.random(m.points) * scale
            m.hist = rng.random((m.points, levels)) * scale
    res.ntraj, res.passages = 4, 400
    return res


def digest(res: Result) -> str:
    h = hashlib.sha256()
    for k, v in sorted(res.to_arrays().items()):
        h.update(k.encode() + np.asarray(v).tobytes())
    return h.hexdigest()[:16]


def _per_call(fn, repeat: int) -> float:
    """CPU seconds per call (CPU time, not wall time: robust on a shared machine)."""
    fn()
    t0 = time.process_time()
    for _ in range(repeat):
        fn()
    return (time.process_time() - t0) / repeat


def root_cost(samples: int, levels: int, repeat: int = 200) -> dict:
    """Bytes per block and rank 0's seconds per block, before and after."""
    base = [synthetic(b, samples, levels) for b in range(CHUNK)]
    codec = Codec(Result.from_arrays)
    packed = [codec.pack(r) for r in base]
    old_msgs = [pickle.dumps(("done", b, r)) for b, r in enumerate(base)]
    new_msg = pickle.dumps(("done", PackedTask.join(list(enumerate(packed))), True))
    prefix, pprefix = base[0] + base[1], packed[0] + packed[1]

    def before():
        acc = prefix
        for msg in old_msgs:
            acc = acc + pickle.loads(msg)[2]
        return acc

    def after():
        acc = pprefix
        for _, p in PackedTask.split(pickle.loads(new_msg)[1]):
            acc = acc + p
        return acc

    one_msg = pickle.dumps(("done", PackedTask.join([(0, packed[0])]), True))

    def after_one():  # a message holding one block
        return pprefix + PackedTask.split(pickle.loads(one_msg)[1])[0][1]

    same = digest(before()) == digest(codec.unpack(after()))
    return {
        "bytes_before": sum(map(len, old_msgs)) / CHUNK,
        "bytes_after": len(new_msg) / CHUNK,
        "s_before": _per_call(before, repeat) / CHUNK,
        "s_after": _per_call(after, repeat) / CHUNK,
        "s_after_one": _per_call(after_one, repeat * 4),
        "same": same,
    }


class _Premade:
    """Tiny task: block b returns premade result ``b % VARIANTS`` (packed when ``codec``)."""

    def __init__(self, samples: int, levels: int, codec: Codec | None) -> None:
        base = [synthetic(b, samples, levels) for b in range(VARIANTS)]
        self.results = [codec.pack(r) for r in base] if codec else base
        if codec:
            self.join, self.split = PackedTask.join, PackedTask.split

    def __call__(self, block: int):
        return self.results[block % VARIANTS]


def rank_job(args) -> int:
    """Inside ``mpiexec``: reduce tiny blocks with the ``args.protocol`` protocol."""
    from mpi4py import MPI

    from trajmaser.run.backends.mpi import MPIBackend
    from trajmaser.run.reduction import reduce_blocks

    after = args.protocol == "after"
    codec = Codec(Result.from_arrays) if after else None
    task = _Premade(args.samples, args.levels, codec)
    backend = MPIBackend(MPI.COMM_WORLD.Dup(), chunked=after)
    backend.share(None)  # every rank ready
    t0, cpu0 = time.perf_counter(), time.process_time()
    out = reduce_blocks(task, args.blocks, backend=backend)
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    if backend.is_root:
        res = codec.unpack(out.result) if after else out.result
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        record = {"blocks_per_s": args.blocks / wall, "digest": digest(res),
                  "root_cpu_per_block": cpu / args.blocks, "root_rss_mb": rss}  # fmt: skip
        Path(args.record).write_text(json.dumps(record))
    return 0


def mpi_run(ranks: int, protocol: str, args, tmp: Path) -> dict:
    record = tmp / f"{protocol}-{ranks}.json"
    cmd = ["mpiexec", "-n", str(ranks), sys.executable, __file__, "--rank-job", protocol,
           "--record", str(record), "--blocks", str(args.blocks), "--samples",
           str(args.samples), "--levels", str(args.levels)]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PMI_", "TRAJMASER_MPI"))}
    env.update(OMP_NUM_THREADS="1", NUMBA_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr}")
    return json.loads(record.read_text())


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--ranks", type=int, nargs="+", default=[16, 32])
    p.add_argument("--blocks", type=int, default=3000, help="blocks per MPI run (3000)")
    p.add_argument("--samples", type=int, default=50, help="S of the MPI runs (50, Fig. 3)")
    p.add_argument("--levels", type=int, default=32, help="L of the MPI runs (32)")
    p.add_argument("--rate", type=float, default=2e7, help="passages/s/core for part 3 (2e7)")
    hidden = argparse.SUPPRESS
    p.add_argument("--rank-job", dest="protocol", choices=["before", "after"], help=hidden)
    p.add_argument("--record", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.protocol:
        return rank_job(args)
    print(f"host cores: {os.cpu_count()}, load average (1 min): {os.getloadavg()[0]:.2f}")
    print("1. rank 0 per block, CPU (unpickle + merge; after: messages of 16 packed blocks)")
    print(f"{'S':>5s}{'L':>5s}{'kB before':>11s}{'kB after':>10s}{'us before':>11s}"
          f"{'us after':>10s}{'ratio':>8s}{'us after, 1/msg':>17s}  same bits")  # fmt: skip
    ok = True
    one = root_cost(args.samples, args.levels)["s_after_one"]  # the paper's grid
    for samples in (10, 50, 200):
        for levels in (32, 128):
            c = root_cost(samples, levels)
            ok &= c["same"]
            print(f"{samples:>5d}{levels:>5d}{c['bytes_before'] / 1e3:>11.1f}"
                  f"{c['bytes_after'] / 1e3:>10.1f}{c['s_before'] * 1e6:>11.1f}"
                  f"{c['s_after'] * 1e6:>10.1f}{c['s_before'] / c['s_after']:>7.1f}x"
                  f"{c['s_after_one'] * 1e6:>17.1f}  "
                  f"{'yes' if c['same'] else 'NO'}")  # fmt: skip
    serial = digest(_serial_fold(args))
    print(f"\n2. mpiexec, tiny blocks: {args.blocks} blocks, S = {args.samples}, "
          f"L = {args.levels} (serial fold digest {serial})")  # fmt: skip
    print(f"{'ranks':>6s}{'blocks/s before':>17s}{'blocks/s after':>16s}{'ratio':>8s}"
          f"{'rank-0 CPU us/block':>21s}{'rank-0 peak MB':>17s}  {'load':>5s}"
          "  digests")  # fmt: skip
    worst = {"before": 0.0, "after": 0.0}
    with tempfile.TemporaryDirectory() as tmp:
        for ranks in args.ranks:
            r = {k: mpi_run(ranks, k, args, Path(tmp)) for k in ("before", "after")}
            same = r["before"]["digest"] == r["after"]["digest"] == serial
            ok &= same
            for k in worst:
                worst[k] = max(worst[k], r[k]["root_cpu_per_block"])
            b, a = r["before"], r["after"]
            cpu = f"{b['root_cpu_per_block'] * 1e6:.0f} -> {a['root_cpu_per_block'] * 1e6:.0f}"
            rss = f"{b['root_rss_mb']:.0f} -> {a['root_rss_mb']:.0f}"
            print(f"{ranks:>6d}{b['blocks_per_s']:>17.0f}{a['blocks_per_s']:>16.0f}"
                  f"{a['blocks_per_s'] / b['blocks_per_s']:>7.1f}x{cpu:>21s}{rss:>17s}  "
                  f"{os.getloadavg()[0]:>5.2f}  "
                  f"{'equal to serial' if same else (b['digest'], a['digest'])}")  # fmt: skip
    # after: every block counted as a message of its own as well (blocks of >= 1 s do that)
    project(args, worst["before"], worst["after"] + one)
    return 0 if ok else 1


def project(args, t_before: float, t_after: float) -> None:
    """Part 3: projected efficiency of the paper's run from the measured constants."""
    codec = Codec(Result.from_arrays)
    res = synthetic(0, args.samples, args.levels)
    t_pack = _per_call(lambda: PackedTask.join([(0, codec.pack(res))]), 200)
    atoms, per_rank = 2000, 100
    print(
        f"\n3. projected efficiency, Fig. 3 record grid (atoms = {atoms}, S = {args.samples}, "
        f"L = {args.levels}), {per_rank} blocks per rank, {args.rate:.1e} passages/s/core"
    )
    print(
        f"   rank-0 CPU per block: before {t_before * 1e6:.0f} us, after {t_after * 1e6:.0f} "
        f"us (part 2's largest, plus one message per block); packing {t_pack * 1e6:.0f} us"
    )
    print(f"{'block_size':>11s}{'block (s)':>11s}{'ranks':>8s}{'rank-0 load':>20s}"
          f"{'efficiency':>20s}")  # fmt: skip
    for block_size in (1000, 10000):
        t_block = block_size * atoms / args.rate
        for ranks in (100, 1000, 10000):
            cells = []
            for t_root, pack in ((t_before, 0.0), (t_after, t_pack)):
                load = (ranks - 1) * t_root / t_block
                eff = efficiency(load, per_rank, t_block, pack, ranks)
                cells.append((load, eff))
            loads = " -> ".join(f"{x:.0%}" for x, _ in cells)
            effs = " -> ".join(f"{e:.1%}" for _, e in cells)
            print(f"{block_size:>11d}{t_block:>11.2f}{ranks:>8d}{loads:>20s}{effs:>20s}")


def efficiency(load: float, per_rank: int, t_block: float, t_pack: float, ranks: int) -> float:
    """Rank 0 keeps up (or caps the rate at 1/load) × the end (half a block idle per rank) ×
    the packing overhead × rank 0 not computing."""
    return (min(1.0, 1.0 / load) * per_rank / (per_rank + 0.5) * t_block / (t_block + t_pack)
            * (ranks - 1) / ranks)  # fmt: skip


def _serial_fold(args) -> Result:
    task = _Premade(args.samples, args.levels, None)
    acc = task(0)
    for b in range(1, args.blocks):
        acc = acc + task(b)
    return acc


if __name__ == "__main__":
    sys.exit(main())
