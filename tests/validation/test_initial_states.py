"""Initial cavity states from qutip objects, arrays and .npy files (TOML), on both paths."""

import numpy as np
import pytest
import qutip as qt

from trajmaser import dm
from trajmaser.config import config_from_dict
from trajmaser.params import InitialField, Model, RunParams
from trajmaser.references import initial_field
from trajmaser.trajectories import simulate

P0 = np.array([0.2, 0.5, 0.3])
MODEL = Model(pe=0.3, omega=1.0, g=1.0, gamma=0.2, kappa=0.3, tau=1.0, rate=0.4)


def test_states_become_initial_fields():
    assert initial_field(P0) == InitialField("state", state=(0.2, 0.5, 0.3))
    assert initial_field(qt.Qobj(np.diag(P0))).kind == "state"
    ket = (qt.basis(4, 0) + 1j * qt.basis(4, 2)).unit()
    field = initial_field(ket)
    assert field.kind == "ket" and not field.is_diagonal
    pure = initial_field(ket * ket.dag())  # a pure density matrix is its eigenvector
    assert pure.kind == "ket" and abs(abs(pure.state[2]) ** 2 - 0.5) < 1e-12
    assert initial_field(qt.basis(5, 3)).is_diagonal  # a Fock ket needs no state vector
    with pytest.raises(ValueError, match="mixed density matrix with coherences"):
        initial_field(0.5 * ket * ket.dag() + 0.5 * qt.fock_dm(4, 1))
    with pytest.raises(ValueError, match="does not sum to 1"):
        initial_field(np.array([0.5, 0.2]))


def test_density_matrix_and_trajectories_start_from_p_of_n():
    m = Model(**{**MODEL.__dict__, "initial": initial_field(P0)})
    assert m.nbar_initial == pytest.approx(1.1)
    assert np.allclose(dm.arrival_series(m, [0], nmax=10)["p"][0][:3], P0)
    run = RunParams(atoms=4, ntraj=4000, samples=2, burn_in=2, seed=3, block_size=2000)
    res = simulate(m, run)
    hist = res.arrival.hist[0, :3] / res.arrival.count[0]
    se = np.sqrt(P0 * (1 - P0) / run.ntraj)
    assert np.all(np.abs(hist - P0) < 4 * se), (hist, P0)


def test_a_ket_runs_on_the_general_path():
    ket = (qt.basis(6, 1) + qt.basis(6, 2)).unit()
    m = Model(**{**MODEL.__dict__, "initial": initial_field(ket)})
    run = RunParams(atoms=4, ntraj=200, samples=2, burn_in=2, seed=4, block_size=200, nmax=12)
    res = simulate(m, run)
    assert res.arrival.sx[0] / res.arrival.count[0] == pytest.approx(1.5, abs=1e-12)


def test_toml_initial_from_an_npy_file(tmp_path, monkeypatch):
    np.save(tmp_path / "p.npy", P0)
    monkeypatch.chdir(tmp_path)
    cfg = config_from_dict(
        {
            "fuel": {"model": "thermal", "Tq": 2.0, "omega": 1.0},
            "cavity": {"kappa": 0.3, "g": 1.0, "gamma": 0.2, "tau": 1.0, "initial": "p.npy"},
            "pump": {"statistics": "regular", "rate": 0.4},
            "run": {"atoms": 10, "ntraj": 10, "samples": 2, "burn_in": 5},
        }
    )
    assert cfg.model().initial == InitialField("state", state=(0.2, 0.5, 0.3))
    with pytest.raises(FileNotFoundError, match="missing.npy"):
        config_from_dict(
            {
                "fuel": {"model": "thermal", "Tq": 2.0, "omega": 1.0},
                "cavity": {
                    "kappa": 0.3,
                    "g": 1.0,
                    "gamma": 0.2,
                    "tau": 1.0,
                    "initial": "missing.npy",
                },
                "pump": {"statistics": "regular", "rate": 0.4},
            }
        )
