"""SIGTERM inside one long compiled block: the run stops within about a second with exit 99
and a checkpoint, and the rerun reaches the bits of an uninterrupted run (serial and on
``mpiexec -n 2``).

Blocks here are 2e7 atom passages (seconds each); the signal comes 1 s into the second
block.  Until the kernels poll a cancel flag, a signal waits for the block to end: these
tests are expected to fail on the latency until then (issue 11, item 3).
"""

from __future__ import annotations

import importlib.util
import os
import shutil

import pytest
from fuzz_faults import LONG_BLOCKS, interrupt_inside_block, reference, resume

from trajmaser import io

LATENCY = 2.0  # s: "about a second", with room for a loaded 2-core machine
MPI_MISSING = importlib.util.find_spec("mpi4py") is None or shutil.which("mpiexec") is None
if MPI_MISSING and os.environ.get("CI"):
    raise RuntimeError("CI is set but mpi4py or mpiexec is missing: the MPI tests must run")
MID_BLOCK = pytest.mark.xfail(
    strict=False,
    reason="signals are seen only between blocks until the kernels poll a "
    "cancel flag (issue 11, item 3)",
)


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    return reference(tmp_path_factory.mktemp("reference"))


@MID_BLOCK
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
    hit = interrupt_inside_block(tmp_path, ranks, "SIGTERM", into_block=1.0)
    assert hit.returncode == 99, hit.stderr
    assert "Traceback" not in hit.stderr
    assert 1 <= hit.checkpoint_blocks < LONG_BLOCKS  # the finished blocks are kept
    rc, err = resume(tmp_path, ranks)
    assert rc == 0, err
    assert io.compare_results(uninterrupted, tmp_path / "out.npz") == []
    assert hit.latency < LATENCY, f"exit {hit.latency:.2f} s after SIGTERM"
