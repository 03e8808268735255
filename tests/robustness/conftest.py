"""Fixtures of the robustness suite (the example counts are in `fuzz_exec.fuzz_settings`)."""

from __future__ import annotations

import pytest
from fuzz_files import make_artifacts


@pytest.fixture(scope="session")
def artifacts(tmp_path_factory) -> dict[str, bytes]:
    """A result, a sweep result and a checkpoint, made once by the CLI."""
    return make_artifacts(tmp_path_factory.mktemp("artifacts"))
