"""`trajmaser run` and `summary` facing bad options, files and outputs: each fault gives one
line on stderr naming what is wrong and the fix, exit status 2, no traceback and no work;
the plan, the bounded density-matrix step and the summary's contents."""

from __future__ import annotations

import json
import time

import cases
import numpy as np
import pytest

from trajmaser import __version__, cli, io
from trajmaser.results import Result
from trajmaser.run import output as output_module
from trajmaser.run.output import Output

TINY = {"atoms": 40, "ntraj": 40, "block_size": 10, "samples": 4, "burn_in": 20, "seed": 3}


@pytest.fixture
def config(tmp_path):
    path = tmp_path / "tiny.toml"
    path.write_text(cases.paper_toml(TINY, pump__Nex=500))
    return path


def _main(capsys, *argv) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def _one_error(code: int, err: str, *needles: str) -> None:
    """Exit 2 with exactly one error line holding every needle, no traceback."""
    assert code == 2, err
    errors = [line for line in err.splitlines() if "error:" in line]
    assert len(errors) == 1 and "Traceback" not in err, err
    for needle in needles:
        assert needle in errors[0], errors[0]


def _run(capsys, config, out, *extra):
    return _main(capsys, "run", config, "-o", out, "--quiet", "--no-dm", *extra)


# ---------------------------------------------------------------- options
@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (("--checkpoint-every", "0"), "--checkpoint-every 0.0 must be a positive number"),
        (("--checkpoint-every", "-5"), "--checkpoint-every -5.0 must be a positive number"),
        (("--checkpoint-every", "nan"), "--checkpoint-every nan must be a positive number"),
        (("--target-err", "0.1", "--max-ntraj", "0"), "--max-ntraj 0 must be at least 1"),
        (("--target-err", "0.1", "--max-ntraj", "-10"), "--max-ntraj -10 must be at least 1"),
        (("--max-ntraj", "100"), "--max-ntraj only applies with --target-err"),
        (("--target-err", "0.1", "--batch-blocks", "0"), "--batch-blocks 0 must be at least 1"),
        (("--target-err", "nan"), "--target-err nan must be in (0, 1)"),
        (("--max-hours", "0"), "--max-hours 0.0 must be a positive number"),
    ],
)
def test_bad_options_are_refused_before_any_work(tmp_path, capsys, config, extra, needle):
    code, _, err = _run(capsys, config, tmp_path / "r.npz", *extra)
    _one_error(code, err, needle)
    assert not list(tmp_path.glob("r*.npz"))


# ---------------------------------------------------------------- the plan and its limits
def test_runs_past_the_limits_are_refused_with_the_estimate_and_the_option(tmp_path, capsys):
    huge = tmp_path / "huge.toml"
    huge.write_text(cases.paper_toml({**TINY, "ntraj": 10**15}))
    code, _, err = _run(capsys, huge, tmp_path / "r.npz")
    _one_error(code, err, "would take about", "years", "--max-hours")
    wide = tmp_path / "wide.toml"
    wide.write_text(cases.paper_toml({**TINY, "atoms": 10**6, "samples": 10**6, "ntraj": 1}))
    code, _, err = _run(capsys, wide, tmp_path / "r.npz", "--max-file-gb", "0.5")
    _one_error(code, err, "result file would be about 624 MB", "--max-file-gb")
    assert not list(tmp_path.glob("*.npz"))


def test_the_plan_is_announced_and_warns_of_blocks_longer_than_the_checkpoint_interval(
    tmp_path, capsys, config
):
    code, _, err = _main(capsys, "run", config, "-o", tmp_path / "r.npz", "--no-dm",
                         "--checkpoint-every", "1e-9")  # fmt: skip
    assert code == 0
    assert "plan: 1,600 atom passages in 4 blocks" in err
    assert "longer than the checkpoint interval" in err and "block_size" in err


# ---------------------------------------------------------------- the output, claimed first
def test_a_directory_as_output_fails_at_the_start(tmp_path, capsys, config):
    (tmp_path / "d").mkdir()
    for extra in ((), ("--force",)):
        code, _, err = _run(capsys, config, tmp_path / "d", *extra)
        _one_error(code, err, "is a directory")
    assert not list(tmp_path.glob("*.npz"))


def test_a_concurrent_run_on_the_same_output_fails_at_the_start(tmp_path, capsys, config):
    out = tmp_path / "r.npz"
    other = Output(out)
    other.claim()  # another process's run, holding the lock
    try:
        code, _, err = _run(capsys, config, out)
        _one_error(code, err, "another trajmaser run is writing", str(out))
    finally:
        other.release()
    assert _run(capsys, config, out)[0] == 0


def test_too_little_disk_fails_at_the_start(tmp_path, capsys, config, monkeypatch):
    class Usage:
        free = 1000

    monkeypatch.setattr(output_module.shutil, "disk_usage", lambda path: Usage)
    code, _, err = _run(capsys, config, tmp_path / "r.npz")
    _one_error(code, err, "not enough disk space", "1 kB free")


def test_temporary_files_of_killed_writes_are_cleaned_on_the_next_run(tmp_path, capsys, config):
    out = tmp_path / "r.npz"
    stale = [tmp_path / ".r.npz.x1y2.tmp", tmp_path / ".r.ckpt.npz.z3.tmp"]
    other = tmp_path / ".other.npz.q.tmp"
    for path in (*stale, other):
        path.write_bytes(b"half a file")
    assert _run(capsys, config, out)[0] == 0
    assert not any(p.exists() for p in stale) and other.exists()


def test_a_long_output_name_is_written(tmp_path, capsys, config):
    out = tmp_path / ("x" * 251 + ".npz")
    assert _run(capsys, config, out)[0] == 0
    assert Result.from_arrays(io.load_result(out)[0]).ntraj == 40


# ---------------------------------------------------------------- broken files
def _broken(tmp_path, kind: str, good) -> object:
    path = tmp_path / f"{kind}.npz"
    data = good.read_bytes()
    path.write_bytes({"empty": b"", "truncated": data[: len(data) // 2],
                      "text": b"not a result\n"}[kind])  # fmt: skip
    return path


@pytest.mark.parametrize("kind", ["empty", "truncated", "text"])
def test_a_broken_checkpoint_names_the_file_and_restart(tmp_path, capsys, config, kind):
    out = tmp_path / "r.npz"
    good = tmp_path / "good.npz"
    assert _run(capsys, config, good)[0] == 0
    ckpt = io.checkpoint_path(out)
    ckpt.write_bytes(_broken(tmp_path, kind, good).read_bytes())
    code, _, err = _run(capsys, config, out)
    _one_error(code, err, f"checkpoint {ckpt} cannot be read", "--restart")
    assert _run(capsys, config, out, "--restart")[0] == 0
    assert io.compare_results(out, good) == []


@pytest.mark.parametrize("kind", ["empty", "truncated", "text", "checkpoint", "directory"])
def test_summary_of_a_broken_file_is_one_line_naming_it(tmp_path, capsys, config, kind):
    good = tmp_path / "good.npz"
    assert _run(capsys, config, good)[0] == 0
    if kind == "checkpoint":
        path = tmp_path / "c.npz"
        arrays, meta = io.load_result(good)
        io.save_result(path, arrays, {**meta, "checkpoint": {"next_block": 1, "pending": []}})
        needle = "checkpoint of an unfinished run"
    elif kind == "directory":
        path, needle = tmp_path, "is a directory"
    else:
        path, needle = _broken(tmp_path, kind, good), "not a readable .npz result file"
    for command in ("summary", "compare"):
        code, _, err = _main(capsys, command, path)
        _one_error(code, err, str(path), needle)


# ---------------------------------------------------------------- the density-matrix step
def test_a_slow_or_failing_density_matrix_never_fails_a_finished_run(
    tmp_path, capsys, config, monkeypatch
):
    from trajmaser import dm

    monkeypatch.setattr(dm, "steady", lambda *a, **k: time.sleep(5))
    t0 = time.monotonic()
    code, out, _ = _main(capsys, "run", config, "-o", tmp_path / "a.npz", "--quiet",
                         "--dm-timeout", "0.2")  # fmt: skip
    assert code == 0 and time.monotonic() - t0 < 4
    assert "density matrix: not computed within 0.2 s" in out

    def no_memory(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(dm, "steady", no_memory)
    code, out, _ = _main(capsys, "summary", tmp_path / "a.npz", "--dm", "--json")
    assert code == 0 and json.loads(out)["density_matrix"] == {"error": "not enough memory"}


def test_no_density_matrix_no_stationarity_check(tmp_path, capsys, config, monkeypatch):
    """The check solves the same steady state with a larger cut-off: it would only spend the
    rest of the budget failing again (detuning 1e8 rad/s once took 20 s after the run)."""
    import importlib

    from trajmaser import dm

    run_module = importlib.import_module("trajmaser.cli.run")
    checked = []
    monkeypatch.setattr(run_module, "annotate_stationarity", lambda *a: checked.append(a))

    def no_steady(*args, **kwargs):
        raise ValueError("no converged steady state within nmax_limit=300 photons")

    monkeypatch.setattr(dm, "steady", no_steady)
    code, out, err = _main(capsys, "run", config, "-o", tmp_path / "a.npz", "--quiet", "--json")
    summary = json.loads(out)
    assert code == 0 and checked == [] and summary["stationarity_warning"] is None
    assert "no converged steady state" in summary["density_matrix"]["error"]
    assert "stationarity check skipped: it needs the density-matrix steady state" in err


# ---------------------------------------------------------------- what the summary shows
def test_summary_shows_both_blocks_with_errors_and_the_clicks(tmp_path, capsys, config):
    out = tmp_path / "r.npz"
    assert _run(capsys, config, out)[0] == 0
    code, text, _ = _main(capsys, "summary", out, "--dm")
    assert code == 0
    for label in ("time block", "arrival block", "Var n", "Mandel Q", "g2(0)", "Tf/Tb",
                  "efficiency", "p_e", "Mandel Q_a", "density matrix"):  # fmt: skip
        assert label in text, label
    assert text.count("+-") == 2 * 5 + 2


def test_sweep_tables_have_labelled_columns_and_the_density_matrix(tmp_path, capsys):
    config = tmp_path / "sweep.toml"
    config.write_text(cases.paper_toml(TINY, pump__Nex=500, sweep={"fuel.N": [1, 4]}))
    out = tmp_path / "s.npz"
    assert _run(capsys, config, out)[0] == 0
    code, text, _ = _main(capsys, "summary", out, "--dm")
    head = text.splitlines()[0]
    for label in ("fuel.N", "ntraj", "n (time)", "Tf/Tb (time)", "Tf/Tb (arrival)",
                  "Mandel Q (time)", "p_e", "Tf/Tb (dm, time)"):  # fmt: skip
        assert label in head, label
    assert code == 0 and len(text.splitlines()) == 3
    code, js, _ = _main(capsys, "summary", out, "--dm", "--json")
    rows = json.loads(js)
    assert [r["fuel.N"] for r in rows] == [1, 4]
    assert all(np.isfinite(r["density_matrix"]["time"]["Tf_over_Tb"]) for r in rows)


def test_version_and_top_level_help(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["--version"])
    assert info.value.code == 0 and capsys.readouterr().out.strip() == f"trajmaser {__version__}"
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    text = capsys.readouterr().out
    for command in ("fuel", "dm", "run", "summary", "compare", "Exit status"):
        assert command in text


def test_an_unexpected_failure_is_one_line_too(tmp_path, capsys, config, monkeypatch):
    from trajmaser.run import plan

    def broken(*args, **kwargs):
        raise ZeroDivisionError("float division by zero")

    monkeypatch.setattr(plan, "simulate_block", broken)
    code, _, err = _run(capsys, config, tmp_path / "r.npz")
    _one_error(code, err, "ZeroDivisionError: float division by zero", "TRAJMASER_TRACEBACK")


@pytest.mark.parametrize(
    ("argv", "needle"),
    [(("--omega", "-6"), "--omega -6.0 is not allowed: it must be >= 0"),
     (("--Tb", "0"), "--Tb 0.0 is not allowed"), (("--J", "nan"), "--J nan is not allowed")],
)  # fmt: skip
def test_fuel_options_follow_the_config_ranges(capsys, argv, needle):
    code, _, err = _main(capsys, "fuel", *argv)
    _one_error(code, err, needle)
