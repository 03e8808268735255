"""Valid physics anywhere in parameter space (strong damping, g = 0, detuning, inverted atoms,
baths, every pump and initial field) runs, simulates exactly ``atoms`` atoms per trajectory
and agrees with the density matrix (``trajmaser compare``, |z| < 5, chi2 p > 1e-3)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from fuzz_exec import fuzz_settings, run_case
from fuzz_physics import valid_physics
from hypothesis import given


@fuzz_settings(3)
@given(case=valid_physics())
def test_valid_physics_runs_and_agrees_with_the_density_matrix(case):
    with tempfile.TemporaryDirectory() as tmp:
        outcome = run_case(case, Path(tmp))
    assert not outcome.failed, outcome.report()
