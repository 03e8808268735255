"""SIGTERM inside one long compiled block: the run stops within about a second with exit 99
and a checkpoint, and the rerun reaches the bits of an uninterrupted run (serial and on
``mpiexec -n 2``).

Blocks here are 1e8 atom passages or more (sized so that one lasts at least 4 s on this
machine, one compiled call each); the signal comes 1 s into the block after the first
checkpoint, so a run that waited for the block to end would take 3 s or more (issue 11,
item 3: the kernels poll a cancel flag).
"""

from __future__ import annotations

import importlib.util
import math
import os
import shutil
import time
from pathlib import Path

import pytest
from fuzz_exec import run_cli
from fuzz_faults import (
    BLOCK_PASSAGES,
    LONG_BLOCKS,
    interrupt_inside_block,
    reference,
    resume,
)

from trajmaser import io

LATENCY = 1.5  # s: "about a second", with room for a loaded 2-core machine
INTO_BLOCK = 1.0  # s into the second block when the signal comes
MPI_MISSING = importlib.util.find_spec("mpi4py") is None or shutil.which("mpiexec") is None
if MPI_MISSING and os.environ.get("CI"):
    raise RuntimeError("CI is set but mpi4py or mpiexec is missing: the MPI tests must run")


NEEDED = INTO_BLOCK + LATENCY + 1.5  # s: a block that outlasts the signal and the exit


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory) -> tuple[Path, float, int]:
    """The uninterrupted result, the length of one block (s) on this machine, now, and its
    atom passages: `BLOCK_PASSAGES`, or more where the kernel is fast enough to finish such a
    block before a stop could be told from the block's own end."""
    work = tmp_path_factory.mktemp("reference")
    startup = run_cli(["fuel"], work).elapsed
    passages = BLOCK_PASSAGES
    for _ in range(3):
        (work / "ref.npz").unlink(missing_ok=True)
        t0 = time.monotonic()
        path = reference(work, passages=passages)
        block_s = (time.monotonic() - t0 - startup) / LONG_BLOCKS
        if block_s >= NEEDED:
            break
        passages = int(math.ceil(passages * 1.3 * NEEDED / max(block_s, 0.05) / 1e6)) * 1000000
    return path, block_s, passages


@pytest.mark.parametrize(
    "ranks",
    [
        1,
        pytest.param(
            2, marks=(pytest.mark.mpi, pytest.mark.skipif(MPI_MISSING, reason="no mpiexec"))
        ),
    ],
)
def test_sigterm_inside_a_long_block_stops_at_once_and_resumes_to_the_same_bits(
    tmp_path, uninterrupted, ranks
):
    ref, block_s, passages = uninterrupted
    assert block_s >= NEEDED, f"blocks of {block_s:.1f} s cannot tell mid-block stops"
    hit = interrupt_inside_block(
        tmp_path, ranks, "SIGTERM", into_block=INTO_BLOCK, passages=passages
    )
    assert hit.returncode == 99, hit.stderr
    assert "Traceback" not in hit.stderr
    assert 1 <= hit.checkpoint_blocks < LONG_BLOCKS  # the finished blocks are kept
    rc, err = resume(tmp_path, ranks)
    assert rc == 0, err
    assert io.compare_results(ref, tmp_path / "out.npz") == []
    assert hit.latency < LATENCY, f"exit {hit.latency:.2f} s after SIGTERM"
