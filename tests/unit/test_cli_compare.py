"""End to end: `trajmaser run`, then `compare` against the density matrix and a user's file."""

import json

import numpy as np
import pytest

from trajmaser import dm
from trajmaser.cli import main
from trajmaser.config import load_config

CONFIG = """
[fuel]
model = "thermal"
omega = 1.0
Tq = 2.0
[cavity]
kappa = 0.4
g = 1.1
gamma = 0.5
tau = 1.0
nbar_bath = 0.1
[pump]
statistics = "poisson"
rate = 0.5
[run]
atoms = 60
ntraj = 3000
samples = 12
burn_in = 30
seed = 11
block_size = 500
"""


@pytest.fixture(scope="module")
def run_file(tmp_path_factory):
    d = tmp_path_factory.mktemp("cmp")
    cfg = d / "small.toml"
    cfg.write_text(CONFIG)
    out = d / "out.npz"
    assert main(["run", str(cfg), "-o", str(out), "--quiet", "--no-dm"]) == 0
    return cfg, out


def _times(out, capsys):
    capsys.readouterr()
    assert main(["compare", str(out), "--print-times", "--json"]) == 0
    return np.array(json.loads(capsys.readouterr().out)["times"])


def test_compare_against_the_density_matrix_agrees(run_file, capsys, tmp_path):
    _, out = run_file
    png = tmp_path / "cmp.png"
    assert main(["compare", str(out), "--json", "--plot", str(png)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] and set(report["series"]) == {"time", "arrival"}
    assert report["alpha"] == 0.01 and report["verdict"].startswith("AGREE")
    assert set(report["points"]) == {"time", "arrival", "steady_time", "steady_arrival"}
    assert png.stat().st_size > 0
    assert main(["compare", str(out), "--alpha", "2"]) == 2


def test_user_reference_right_wrong_and_misaligned(run_file, capsys, tmp_path):
    cfg, out = run_file
    times = _times(out, capsys)
    ref = dm.time_series(load_config(cfg).model(), times)
    good = tmp_path / "good.csv"
    rows = np.column_stack([times, ref["n_mean"], ref["n_var"]])
    np.savetxt(good, rows, delimiter=",", header="time,n_mean,n_var", comments="", fmt="%.17g")
    assert main(["compare", str(out), "--reference", str(good)]) == 0
    wrong = tmp_path / "wrong.npy"
    np.save(wrong, np.column_stack([times, 1.2 * ref["n_mean"]]))
    capsys.readouterr()
    assert main(["compare", str(out), "--reference", str(wrong)]) == 1
    verdict = capsys.readouterr().out.strip().splitlines()[-1]
    assert verdict.startswith("DISAGREE") and "time n at t = " in verdict and "(t = -" in verdict
    shifted = tmp_path / "shifted.npy"
    np.save(shifted, np.column_stack([times * 1.01, ref["n_mean"]]))
    capsys.readouterr()
    assert main(["compare", str(out), "--reference", str(shifted)]) == 2
    assert "--print-times" in capsys.readouterr().err


def test_distribution_reference_and_broken_ones(run_file, capsys, tmp_path):
    cfg, out = run_file
    times = _times(out, capsys)
    p = dm.time_series(load_config(cfg).model(), times)["p"]
    good = tmp_path / "p.csv"
    head = "time," + ",".join(f"p{i}" for i in range(p.shape[1]))
    np.savetxt(
        good, np.column_stack([times, p]), delimiter=",", header=head, comments="", fmt="%.17g"
    )
    png = tmp_path / "p.png"
    assert main(["compare", str(out), "--reference", str(good), "--plot", str(png)]) == 0
    assert png.stat().st_size > 0
    np.save(tmp_path / "p.npy", np.column_stack([times, p]))
    assert main(["compare", str(out), "--reference", str(tmp_path / "p.npy")]) == 0
    rows = np.column_stack([times, p])
    broken = {
        "nan": (np.where(np.arange(len(times))[:, None] == 3, np.nan, rows), "row 4"),
        "allnan": (np.full_like(rows, np.nan), "every row"),
        "unsorted": (rows[[1, 0] + list(range(2, len(times)))], "increase"),
        "missing": (rows[:-1], "no row for 1 sample time"),
    }
    for name, (arr, msg) in broken.items():
        path = tmp_path / f"{name}.npy"
        np.save(path, arr)
        capsys.readouterr()
        assert main(["compare", str(out), "--reference", str(path)]) == 2, name
        assert msg in capsys.readouterr().err, name


def test_a_field_that_stays_vacuum_has_zero_spread_and_never_crashes(tmp_path, capsys):
    cfg = tmp_path / "vac.toml"
    text = CONFIG.replace("g = 1.1", "g = 0.0").replace("nbar_bath = 0.1", "nbar_bath = 0.0")
    cfg.write_text(text.replace("[cavity]", '[cavity]\ninitial = "vacuum"'))
    out = tmp_path / "vac.npz"
    assert main(["run", str(cfg), "-o", str(out), "--quiet", "--no-dm"]) == 0
    times = _times(out, capsys)
    assert main(["compare", str(out)]) == 0
    ref = tmp_path / "ref.csv"
    for value, status in ((0.0, 0), (0.01, 1)):
        rows = np.column_stack([times, np.full(times.size, value)])
        np.savetxt(ref, rows, delimiter=",", header="time,n_mean", comments="", fmt="%.17g")
        capsys.readouterr()
        assert main(["compare", str(out), "--reference", str(ref)]) == status
    assert "without spread" in capsys.readouterr().out


def test_summary_series_is_strict_json(run_file, capsys):
    _, out = run_file
    capsys.readouterr()
    assert main(["summary", str(out), "--series", "--json"]) == 0
    text = capsys.readouterr().out
    series = json.loads(text, parse_constant=lambda c: pytest.fail(f"non-JSON constant {c}"))
    assert len(series["time"]["t"]) == 12 and len(series["arrival"]["atom"]) == 12
    assert all(e is None or e >= 0 for e in series["time"]["Tf_over_Tb_err"])


def test_dm_on_a_sweep_gives_one_steady_state_per_point(tmp_path, capsys):
    cfg = tmp_path / "sweep.toml"
    cfg.write_text(CONFIG + '\n[sweep]\n"fuel.Tq" = [1.5, 2.0]\n')
    assert main(["dm", str(cfg), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["fuel.Tq"] for r in rows] == [1.5, 2.0]
    single = load_config(tmp_path / "sweep.toml").grid()[1][1].model()
    assert rows[1]["time"]["n_mean"] == pytest.approx(dm.steady(single)["time"]["n_mean"])


def test_compare_a_sweep_point_by_point_at_alpha_over_points(tmp_path, capsys):
    cfg = tmp_path / "sweep.toml"
    text = CONFIG.replace("ntraj = 3000", "ntraj = 1000").replace("atoms = 60", "atoms = 40")
    cfg.write_text(
        text.replace("burn_in = 30", "burn_in = 20") + '\n[sweep]\n"fuel.Tq" = [1.5, 2.0]\n'
    )
    out = tmp_path / "sweep.npz"
    assert main(["run", str(cfg), "-o", str(out), "--quiet", "--no-dm"]) == 0
    capsys.readouterr()
    assert main(["compare", str(out), "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["ok"] and len(rep["points"]) == 2
    assert all(p["alpha"] == pytest.approx(0.005) for p in rep["points"])
