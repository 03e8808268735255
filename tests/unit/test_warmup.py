"""`trajmaser warmup` and the progress bar's "compiling" label.

The subprocess tests give numba an empty cache (``NUMBA_CACHE_DIR``), so they see what a fresh
install sees: the first run compiles (and its bar says so), a run after warmup does not.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from numba import njit

from trajmaser.cli.main import main
from trajmaser.cli.warmup import CASES, QUICK, case_config, warmup
from trajmaser.run.compiling import CompileWatch, CompilingBar, kernels
from trajmaser.trajectories import resolve_method

ROOT = Path(__file__).resolve().parents[2]

TINY = """\
[fuel]
model = "state"
pe = 0.3
omega = 6.0
[cavity]
kappa = 15.7
g = 157079.63267948966
gamma = 209.23
tau = 9.5e-6
[pump]
statistics = "regular"
Nex = 10
[run]
atoms = 12
ntraj = 4
samples = 4
burn_in = 6
seed = 1
block_size = 2
"""


def _cli(args: list[str], cache: Path, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    cmd = [sys.executable, "-m", "trajmaser.cli", *args]
    return subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=600)


def _run_tiny(tmp_path: Path, cache: Path) -> subprocess.CompletedProcess:
    config = tmp_path / "tiny.toml"
    config.write_text(TINY)
    out = _cli(["run", str(config), "-o", str(tmp_path / "t.npz"), "--force", "--no-dm"],
               cache, tmp_path)  # fmt: skip
    assert out.returncode == 0, out.stderr
    return out


# ----------------------------------------------------------------- in process
class _FakeBar:
    def __init__(self) -> None:
        self.desc, self.n, self.log = "", 0, []

    def set_description(self, desc, refresh=True) -> None:
        self.desc = desc or ""
        self.log.append(self.desc)

    def update(self, n: int) -> None:
        self.n += n

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        pass


def _fresh_jit(module: str):
    def f(x):
        return x + 1

    f.__module__ = module
    return njit(f)


def test_bar_says_compiling_from_a_compilation_to_the_next_block():
    bar = _FakeBar()
    with CompilingBar(bar) as wrapped:
        assert bar.desc == ""
        _fresh_jit("trajmaser._warmup_test")(1)
        assert bar.desc == "compiling"
        wrapped.update(1)
        assert (bar.desc, bar.n) == ("", 1)
        wrapped.update(1)
    assert bar.log == ["compiling", ""]


def test_bar_ignores_other_packages_and_cached_calls():
    bar = _FakeBar()
    g = _fresh_jit("trajmaser._warmup_test")
    g(1)  # compiled before the bar exists
    with CompilingBar(bar) as wrapped:
        g(2)  # same signature: no compilation
        _fresh_jit("somebody_else")(1)
        wrapped.update(1)
    assert bar.log == []


def test_watch_counts_nested_compilations_once_per_signature():
    inner = _fresh_jit("trajmaser._warmup_test")

    def outer(x):
        return inner(x) * 2

    outer.__module__ = "trajmaser._warmup_test"
    with CompileWatch() as watch:
        assert njit(outer)(1.5) == 5.0
    assert watch.compiled == 2
    assert watch.seconds > 0.0


def test_cases_are_valid_configs_covering_both_paths_and_all_statistics():
    seen = set()
    for _, changes in CASES:
        cfg = case_config(changes)
        model = cfg.model()
        seen.add((resolve_method(model, cfg.run), model.statistics))
    for method in ("fock", "general"):
        for stats in ("regular", "poisson", "binomial"):
            assert (method, stats) in seen


def test_warmup_quick_reports_the_fock_path_and_its_kernels():
    report = warmup(QUICK)
    assert [r["case"] for r in report["cases"]] == list(QUICK)
    assert report["cases"][0]["method"] == "fock"
    again = warmup(QUICK)  # everything is in memory now
    assert again["compiled"] == 0
    names = {k.name for k in kernels()}
    assert any(name.startswith("trajmaser.trajectories.") for name in names)


def test_warmup_unknown_case_names_the_valid_ones():
    with pytest.raises(ValueError, match="fock, regular"):
        warmup(("no such case",))


def test_warmup_cli_quick_json(capsys):
    assert main(["warmup", "--quick", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["cases"][0]["case"] == "fock, regular"
    assert report["cache_dirs"]


# ----------------------------------------------------------------- fresh numba caches
def test_first_run_with_a_cold_cache_says_compiling(tmp_path):
    cache = tmp_path / "numba_cache"
    first = _run_tiny(tmp_path, cache)
    assert "compiling" in first.stderr
    second = _run_tiny(tmp_path, cache)
    assert "compiling" not in second.stderr


@pytest.mark.slow
def test_full_warmup_then_a_run_compiles_nothing(tmp_path):
    cache = tmp_path / "numba_cache"
    out = _cli(["warmup", "--json"], cache, tmp_path)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert [r["case"] for r in report["cases"]] == [label for label, _ in CASES]
    assert {r["method"] for r in report["cases"]} == {"fock", "general"}
    assert report["compiled"] > 0
    assert all(d.startswith(str(cache)) for d in report["cache_dirs"])
    assert "compiling" not in _run_tiny(tmp_path, cache).stderr
    again = _cli(["warmup", "--json"], cache, tmp_path)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["compiled"] == 0
