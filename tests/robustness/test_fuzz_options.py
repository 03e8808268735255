"""Generated command-line options of every subcommand: exit status 0 or 2 without a traceback
within the timeout; nonsense values are refused (2), valid ones work (0)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from fuzz_exec import fuzz_settings, run_case
from fuzz_options import dm_options, fuel_options, result_options, run_options
from hypothesis import given
from hypothesis import strategies as st


def _check(case) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        outcome = run_case(case, Path(tmp))
    assert not outcome.failed, outcome.report()


@fuzz_settings(3)
@given(case=run_options())
def test_run_options(case):
    _check(case)


@fuzz_settings(2)
@given(case=dm_options())
def test_dm_options(case):
    _check(case)


@fuzz_settings(2)
@given(case=fuel_options())
def test_fuel_options(case):
    _check(case)


@fuzz_settings(2)
@given(data=st.data())
def test_summary_and_compare_options(artifacts, data):
    _check(data.draw(result_options(artifacts["result"]), label="case"))
