"""A toy mergeable result and block task for testing trajmaser.run without the kernels.

Run as a script (serially or under ``mpiexec -n K``), with the shape of ``trajmaser run``::

    python tests/mpi/toy.py run CONFIG.toml -o OUT.npz [--sleep S] [--fail-block B|--fail-rank R]

CONFIG may hold a ``[toy]`` table with ``nblocks``, ``seed``, ``target_err`` and ``batch``;
the same names as options override it.  ``slurm/run.sbatch`` runs it when ``TRAJMASER`` is
``python tests/mpi/toy.py``.

Exit status: 0 done, 99 interrupted (checkpoint written), 2 usage/file errors.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass

import numpy as np

try:
    import tomllib
except ModuleNotFoundError:  # python 3.10
    import tomli as tomllib

BLOCK_SIZE = 64
WIDTH = 5


@dataclass(frozen=True)
class ToyResult:
    """Running sums of ``n`` standard-normal vectors: count, Σx and Σx²."""

    n: int
    s1: np.ndarray
    s2: np.ndarray

    def __add__(self, other: ToyResult) -> ToyResult:
        return ToyResult(self.n + other.n, self.s1 + other.s1, self.s2 + other.s2)

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {"n": np.array(self.n), "s1": self.s1, "s2": self.s2}

    @classmethod
    def from_arrays(cls, arrays: dict) -> ToyResult:
        return cls(int(arrays["n"]), np.asarray(arrays["s1"]), np.asarray(arrays["s2"]))

    @property
    def stderr(self) -> float:
        """Largest standard error of the mean over the components."""
        mean = self.s1 / self.n
        var = (self.s2 / self.n - mean**2) * self.n / (self.n - 1)
        return float(np.sqrt(var.max() / self.n))


@dataclass(frozen=True)
class ToyTask:
    """Block ``b`` draws BLOCK_SIZE vectors from SeedSequence(seed, spawn_key=(b,))."""

    seed: int = 2024
    sleep: float = 0.0
    fail_block: int | None = None
    fail_rank: int | None = None

    def __call__(self, block: int) -> ToyResult:
        if block == self.fail_block or self.fail_rank == _rank():
            raise RuntimeError(f"toy failure in block {block}")
        rng = np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=(block,)))
        # a scale varying by block makes the float sums sensitive to the merge order
        x = rng.standard_normal((BLOCK_SIZE, WIDTH)) * (1.0 + 1e3 * rng.random())
        deadline = time.monotonic() + self.sleep
        while True:  # like a kernel: poll the cancel flag while working
            _stop_if_cancelled()
            if time.monotonic() >= deadline:
                break
            time.sleep(min(0.01, deadline - time.monotonic()))
        return ToyResult(BLOCK_SIZE, x.sum(axis=0), (x * x).sum(axis=0))


def _stop_if_cancelled() -> None:
    """Raise the kernels' ``Cancelled`` when a signal asked the run to stop."""
    from trajmaser.run import signals

    if signals.cancel is not None and signals.cancel.requested():
        raise signals.cancel.Cancelled()


def _rank() -> int:
    from trajmaser.run import current_backend

    return current_backend().rank


def main(argv: list[str] | None = None) -> int:
    from trajmaser import io
    from trajmaser import run as runpkg

    p = argparse.ArgumentParser()
    p.add_argument("command", choices=["run"])
    p.add_argument("config")
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--nblocks", type=int, default=None)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--sleep", type=float, default=0.0)
    p.add_argument("--fail-block", type=int, default=None)
    p.add_argument("--fail-rank", type=int, default=None, help="fail the first block on rank R")
    p.add_argument("--target-err", type=float, default=None)
    p.add_argument("--batch", type=int, default=None)
    p.add_argument("--checkpoint-seconds", type=float, default=60.0)
    p.add_argument("--force", action="store_true")
    p.add_argument("--progress", action="store_true")
    args = p.parse_args(argv)
    with open(args.config, "rb") as fh:
        conf = tomllib.load(fh).get("toy", {})
    for key, default in (("nblocks", 8), ("seed", 2024), ("target_err", None), ("batch", None)):
        if getattr(args, key) is None:
            setattr(args, key, conf.get(key, default))
    task = ToyTask(args.seed, args.sleep, args.fail_block, args.fail_rank)
    meta = io.run_metadata({"toy": conf}, seed=args.seed, block_size=BLOCK_SIZE)
    stop = None
    if args.target_err is not None:
        stop = lambda res: res.stderr <= args.target_err  # noqa: E731
    try:
        outcome = runpkg.run_to_file(
            task, args.nblocks, args.output, from_arrays=ToyResult.from_arrays, meta=meta,
            force=args.force, batch_blocks=args.batch, stop_when=stop,
            checkpoint_seconds=args.checkpoint_seconds, progress=args.progress,
        )  # fmt: skip
    except (OSError, ValueError) as exc:
        print(f"toy: error: {exc}", file=sys.stderr)
        return 2
    if not outcome.complete:
        if runpkg.current_backend().is_root:
            print(f"toy: interrupted by {outcome.interrupted}; checkpoint", file=sys.stderr)
        return runpkg.EXIT_INTERRUPTED
    return 0


if __name__ == "__main__":
    sys.exit(main())
