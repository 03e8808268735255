"""Fixtures of the robustness suite (the example counts are in `fuzz_exec.fuzz_settings`)."""

from __future__ import annotations

import pytest
from fuzz_files import make_artifacts


class Artifacts(dict):
    """File contents by name, with a short repr (hypothesis prints the test's arguments)."""

    def __repr__(self) -> str:
        return f"Artifacts({', '.join(f'{k}: {len(v)} bytes' for k, v in self.items())})"


@pytest.fixture(scope="session")
def artifacts(tmp_path_factory) -> dict[str, bytes]:
    """A result, a sweep result and a checkpoint, made once by the CLI."""
    return Artifacts(make_artifacts(tmp_path_factory.mktemp("artifacts")))
