"""Corrupted result files and checkpoints (truncated, empty, random bytes, a zip without
metadata, bad metadata, a missing or replaced array, a checkpoint given to ``summary``):
a clear error (exit 2) or a correct answer, never a traceback or a hang; a corrupt
checkpoint is named with the fix (``--restart``), and ``--restart`` gets past it."""

from __future__ import annotations

import tempfile
from pathlib import Path

from fuzz_exec import fuzz_settings, run_case
from fuzz_files import broken_checkpoints, broken_results
from hypothesis import given
from hypothesis import strategies as st


def _check(case) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        outcome = run_case(case, Path(tmp))
    assert not outcome.failed, outcome.report()


@fuzz_settings(4)
@given(data=st.data())
def test_a_broken_result_file_gets_a_clear_error(artifacts, data):
    _check(data.draw(broken_results(artifacts), label="case"))


@fuzz_settings(3)
@given(data=st.data())
def test_a_broken_checkpoint_is_named_with_the_fix(artifacts, data):
    _check(data.draw(broken_checkpoints(artifacts), label="case"))
