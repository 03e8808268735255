"""Generated TOML configurations through ``trajmaser run`` / ``trajmaser dm``: every one ends
with exit status 0 or 2, without a traceback, within the timeout; valid ones run correctly."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from fuzz_configs import CONFIG_STRATEGIES
from fuzz_exec import fuzz_settings, run_case
from hypothesis import given
from hypothesis import strategies as st


@pytest.mark.parametrize("kind", sorted(CONFIG_STRATEGIES))
@fuzz_settings(2)
@given(data=st.data())
def test_a_generated_config_gets_a_result_or_a_clear_error(kind, data):
    case = data.draw(CONFIG_STRATEGIES[kind], label="case")
    with tempfile.TemporaryDirectory() as tmp:
        outcome = run_case(case, Path(tmp))
    assert not outcome.failed, outcome.report()
