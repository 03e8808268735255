"""The qutip full-Liouvillian reference against `trajmaser dm` (the block solver) to 1e-8."""

import json
from dataclasses import replace

import numpy as np
import pytest

from trajmaser import dm
from trajmaser.cli import main
from trajmaser.dm import qutip_reference as qr
from trajmaser.params import InitialField, Model

BASE = Model(
    pe=0.3,
    omega=1.3,
    g=1.1,
    gamma=0.4,
    kappa=0.5,
    tau=0.8,
    rate=0.3,
    detuning=0.7,
    nbar_bath=0.3,
    initial=InitialField("thermal"),
    p=0.5,
)
NMAX = 14


@pytest.mark.parametrize("stats", ["regular", "poisson", "binomial"])
def test_steady_states_and_arrival_series_agree(stats):
    m = replace(BASE, statistics=stats)
    a, b = qr.steady(m, nmax=NMAX), dm.steady(m, nmax=NMAX)
    for block in ("arrival", "time"):
        assert np.abs(np.array(a[block]["p"]) - b[block]["p"]).max() < 1e-8
        assert a[block]["n_mean"] == pytest.approx(b[block]["n_mean"], abs=1e-8)
    idx = [0, 1, 4, 9]
    a, b = qr.arrival_series(m, idx, nmax=NMAX), dm.arrival_series(m, idx, nmax=NMAX)
    assert np.abs(a["p"] - b["p"]).max() < 1e-8


@pytest.mark.parametrize("stats", ["regular", "binomial"])
def test_time_series_agree_inside_and_between_interactions(stats):
    m = replace(BASE, statistics=stats)
    times = [0.0, 0.3, 0.8, 2.0, 3.5, 7.9, 12.4]
    a, b = qr.time_series(m, times, nmax=NMAX), dm.time_series(m, times, nmax=NMAX)
    assert np.abs(a["p"] - b["p"]).max() < 1e-8


def test_coherent_atoms_and_field_agree_with_the_general_path():
    m = replace(BASE, coherence=0.2 + 0.1j, initial=InitialField("coherent", 0.6), nbar_bath=0.0)
    a, b = qr.steady(m, nmax=8), dm.steady(m, nmax=8)
    assert a["arrival"]["n_mean"] == pytest.approx(b["arrival"]["n_mean"], abs=1e-8)
    a, b = qr.time_series(m, [0.4, 5.0], nmax=8), dm.time_series(m, [0.4, 5.0], nmax=8)
    assert np.abs(a["p"] - b["p"]).max() < 1e-8


def test_poisson_time_series_is_a_clear_error():
    with pytest.raises(ValueError, match="no Poisson time series"):
        qr.time_series(replace(BASE, statistics="poisson"), [1.0])


def test_cli_dm_with_the_qutip_solver_matches_the_block_solver(tmp_path, capsys):
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        '[fuel]\nmodel = "thermal"\nomega = 1.0\nTq = 2.0\n[cavity]\nkappa = 0.4\ng = 1.1\n'
        'gamma = 0.5\ntau = 1.0\nnbar_bath = 0.1\n[pump]\nstatistics = "poisson"\nrate = 0.5\n'
        "[run]\natoms = 60\nntraj = 100\nsamples = 12\nburn_in = 30\n"
    )
    out = {}
    for solver in ("trajmaser", "qutip"):
        assert main(["dm", str(cfg), "--json", "--solver", solver]) == 0
        out[solver] = json.loads(capsys.readouterr().out)["steady"]
    for block in ("arrival", "time"):
        for key in ("n_mean", "n_var", "Tf_over_Tb"):
            assert out["qutip"][block][key] == pytest.approx(out["trajmaser"][block][key], abs=1e-8)


def test_steady_state_as_a_qobj():
    rho = qr.cavity_qobj(qr.steady(BASE, nmax=NMAX)["time"]["p"])
    assert rho.isoper and abs(rho.tr() - 1) < 1e-12
    assert qt_expect_n(rho) == pytest.approx(dm.steady(BASE, nmax=NMAX)["time"]["n_mean"])


def qt_expect_n(rho):
    import qutip as qt

    return qt.expect(qt.num(rho.shape[0]), rho)
