"""No lost work: an output that cannot be written (a directory, a full disk) is refused before
any work, two runs to one output do not both compute, litter of killed writes is cleaned up,
and kill -9 after a checkpoint loses only the blocks since it (issue 11, item 4)."""

from __future__ import annotations

import pytest
from fuzz_faults import SCENARIOS


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_no_work_is_lost(tmp_path, name):
    verdict, detail = SCENARIOS[name](tmp_path)
    if verdict == "skipped":
        pytest.skip(detail)
    assert verdict in ("ok", "clear error"), f"{name}: {verdict}: {detail}"
