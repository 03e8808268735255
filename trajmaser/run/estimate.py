"""What a run will cost, known before it starts: passages, wall time, memory, file size.

The figures are estimates (a kernel speed measured on a 2-core laptop-class machine, the
photon histogram at its usual width), meant to catch runs that would take years or fill a
disk, not to predict to the second.  `Limits` refuses a run past any limit with the
estimate and the option or key to change.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np

from trajmaser.params import ConfigError, Model, RunParams
from trajmaser.results import Result

FOCK_RATE = 1.5e7
"""Atom passages per second per core on the Fock path (conservative)."""
GENERAL_RATE_X_NMAX = 1.3e8
"""General path: passages per second per core times the Fock cut-off (O(nmax) per passage)."""
LEVELS = 32
"""Usual photon-histogram width of a Fock-path result (it grows only for large fields)."""
PROCESS_BYTES = 250e6
"""Resident size of a Python process with numpy, scipy, numba and the kernels loaded."""


def result_bytes(samples: int, levels: int = LEVELS) -> int:
    """Bytes of one point's result: the arrays of a `Result` with ``samples`` records and
    ``levels`` histogram bins (linear in both; measured on results of 1 and 2 records)."""

    def nbytes(s: int) -> int:
        arrays = Result.empty(np.zeros(s), np.zeros(s, dtype=np.int64), 1.0).to_arrays()
        return sum(np.asarray(v).nbytes * (levels if k.endswith("hist") else 1)
                   for k, v in arrays.items())  # fmt: skip

    one, two = nbytes(1), nbytes(2)
    return int(one + (two - one) * (samples - 1))


def _levels_and_rate(model: Model, run: RunParams, method: str) -> tuple[int, float]:
    if method == "fock":
        return LEVELS, FOCK_RATE
    try:
        from trajmaser.trajectories.general import choose_nmax

        nmax = int(choose_nmax(model, run))
    except (ImportError, ValueError, ArithmeticError):
        nmax = run.nmax or 40
    return max(LEVELS, nmax + 1), GENERAL_RATE_X_NMAX / max(nmax, 1)


@dataclass(frozen=True)
class Estimate:
    """Cost of a run on ``ranks`` ranks (all sizes in bytes, times in seconds)."""

    passages: int
    blocks: int
    block_seconds: float
    wall_seconds: float
    file_bytes: int
    memory_bytes: int
    ranks: int

    def text(self) -> str:
        """One line for people: ``plan: ... passages in ... blocks, ...``."""
        return (
            f"plan: {self.passages:,} atom passages in {self.blocks:,} blocks (about "
            f"{duration(self.block_seconds)} each), about {duration(self.wall_seconds)} on "
            f"{self.ranks} rank{'s' if self.ranks > 1 else ''}; result file about "
            f"{size(self.file_bytes)}, memory about {size(self.memory_bytes)} per rank"
        )


def estimate(points: list[tuple[Model, RunParams, str]], ranks: int = 1) -> Estimate:
    """Estimate the run of ``points`` (model, run, method: one per sweep point)."""
    passages = blocks = 0
    seconds = block_seconds = 0.0
    file_bytes = 0
    for model, run, method in points:
        levels, rate = _levels_and_rate(model, run, method)
        passages += run.ntraj * run.atoms
        blocks += math.ceil(run.ntraj / run.block_size)
        seconds += run.ntraj * run.atoms / rate
        block_seconds = max(block_seconds, run.block_size * run.atoms / rate)
        file_bytes += result_bytes(run.samples, levels)
    point = file_bytes / len(points)
    held = file_bytes + point * (4 + 2 * ranks)  # merged sums, blocks in flight and pending
    workers = ranks - 1 if ranks > 4 else ranks  # beyond 4 ranks rank 0 only merges
    return Estimate(
        passages=passages,
        blocks=blocks,
        block_seconds=block_seconds,
        wall_seconds=max(seconds / workers, block_seconds),
        file_bytes=int(file_bytes),
        memory_bytes=int(PROCESS_BYTES + held),
        ranks=ranks,
    )


def warnings(est: Estimate, checkpoint_seconds: float) -> list[str]:
    """Things worth a line before a run starts (a block longer than the checkpoint interval,
    a large file)."""
    out = []
    if est.block_seconds > checkpoint_seconds:
        out.append(
            f"one block takes about {duration(est.block_seconds)}, longer than the checkpoint "
            f"interval ({duration(checkpoint_seconds)}): checkpoints come only between blocks "
            "and a killed run loses up to a block per rank; a smaller [run] block_size helps "
            "(it changes the random streams, not the statistics)"
        )
    if est.file_bytes > 100e6:
        out.append(f"the result file will be large: about {size(est.file_bytes)}")
    return out


@dataclass(frozen=True)
class Limits:
    """Largest run accepted without asking: wall time, result file size, memory per rank."""

    hours: float = 72.0
    file_gb: float = 4.0
    memory_gb: float = 16.0

    def check(self, est: Estimate) -> None:
        """Raise ConfigError naming the estimate and the option to change, past a limit."""
        fix = "reduce [run] ntraj, atoms or samples"
        if est.wall_seconds > self.hours * 3600:
            raise ConfigError(
                f"this run would take about {duration(est.wall_seconds)} on {est.ranks} "
                f"rank(s) ({est.passages:,} atom passages), over the limit of "
                f"{self.hours:g} h: {fix}, use more ranks, or raise --max-hours"
            )
        if est.file_bytes > self.file_gb * 1e9:
            raise ConfigError(
                f"the result file would be about {size(est.file_bytes)}, over the limit of "
                f"{self.file_gb:g} GB: reduce [run] samples or the [sweep], or raise --max-file-gb"
            )
        room = machine_memory()
        if est.memory_bytes > room:
            raise ConfigError(
                f"this run would need about {size(est.memory_bytes)} of memory per rank, more "
                f"than this process may use ({size(room)}): reduce [run] samples or the "
                "[sweep], or run where there is more memory"
            )
        if est.memory_bytes > self.memory_gb * 1e9:
            raise ConfigError(
                f"this run would need about {size(est.memory_bytes)} of memory per rank, over "
                f"the limit of {self.memory_gb:g} GB: reduce [run] samples or the [sweep], "
                "or raise --max-memory-gb"
            )


def machine_memory() -> float:
    """Bytes this process may use: the physical memory, or less under an address-space limit
    (``ulimit -v``); infinity where neither is known."""
    room = math.inf
    try:
        room = float(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        pass
    try:
        import resource

        soft = resource.getrlimit(resource.RLIMIT_AS)[0]
        if soft != resource.RLIM_INFINITY:
            room = min(room, float(soft))
    except (ImportError, OSError, ValueError):
        pass
    return room


def duration(seconds: float) -> str:
    """``0.8 s``, ``12 min``, ``3.1 h``, ``41 days``, ``2e+06 years``."""
    if seconds < 60:
        return f"{seconds:.2g} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 86400 * 3:
        return f"{seconds / 3600:.1f} h"
    if seconds < 86400 * 365:
        return f"{seconds / 86400:.0f} days"
    return f"{seconds / (86400 * 365):.2g} years"


def size(nbytes: float) -> str:
    """``512 B``, ``1.3 MB``, ``4.2 GB`` (decimal units)."""
    for unit in ("B", "kB", "MB", "GB", "TB", "PB"):
        if nbytes < 1000 or unit == "PB":
            return f"{nbytes:.0f} {unit}" if unit == "B" else f"{nbytes:.3g} {unit}"
        nbytes /= 1000
    raise AssertionError("unreachable")
