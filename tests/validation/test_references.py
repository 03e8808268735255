"""Every bad reference is an error that names what is wrong; good ones load."""

import numpy as np
import pytest
import qutip as qt

from trajmaser.references import load_reference, state_to_distribution, states_to_rows

TIMES = np.array([0.5, 1.0, 1.5, 2.0])


def _csv(tmp_path, header, rows, name="ref.csv"):
    path = tmp_path / name
    lines = [header] + [",".join("nan" if v is None else repr(float(v)) for v in r) for r in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_moments_and_distributions_load(tmp_path):
    ref = load_reference(_csv(tmp_path, "time,n_mean,n_var", [[t, 1.0, 2.0] for t in TIMES]), TIMES)
    assert np.allclose(ref.n, 1.0) and np.allclose(ref.n2, 3.0) and ref.p is None
    rows = [[t, 0.5, 0.3, 0.2] for t in TIMES[::-1]]
    with pytest.raises(ValueError, match="times must increase"):
        load_reference(_csv(tmp_path, "time,p0,p1,p2", rows), TIMES)
    ref = load_reference(_csv(tmp_path, "time,p0,p1,p2", rows[::-1]), TIMES)
    assert np.allclose(ref.n, 0.7) and np.allclose(ref.n2, 1.1) and ref.p.shape == (4, 3)
    npy = tmp_path / "p.npy"
    np.save(npy, np.array(rows[::-1]))
    assert np.allclose(load_reference(npy, TIMES).p, ref.p)


@pytest.mark.parametrize(
    "rows, match",
    [
        ([[t, None, None] for t in TIMES], "every row holds NaN or inf"),
        (
            [[0.5, 1, 1], [1.0, None, 1], [1.5, 1, 1], [2.0, 1, float("inf")]],
            r"rows 2 \(t = 1\), 4 \(t = 2\) hold NaN or inf",
        ),
        ([[0.5, 1, 1], [1.5, 1, 1], [1.0, 1, 1], [2.0, 1, 1]], r"row 3 \(t = 1\) not after"),
        ([[0.5, 1, 1], [1.0, 1, 1], [2.0, 1, 1]], "no row for 1 sample time.*1.5"),
        (
            [[0.5, 1, 1], [1.0, 1, 1], [1.5, 1, 1], [2.0, 1, 1], [2.5, 1, 1]],
            r"row 5 \(t = 2.5\) match no sample time",
        ),
        ([[t, 1.0, -0.1] for t in TIMES], "n_var < 0"),
    ],
)
def test_bad_moment_references_name_the_rows(tmp_path, rows, match):
    with pytest.raises(ValueError, match=match):
        load_reference(_csv(tmp_path, "time,n_mean,n_var", rows), TIMES)


def test_bad_distributions_and_headers(tmp_path):
    rows = [[t, 0.5, 0.6] for t in TIMES]
    with pytest.raises(ValueError, match="does not sum to 1"):
        load_reference(_csv(tmp_path, "time,p0,p1", rows), TIMES)
    rows = [[t, 1.1, -0.1] for t in TIMES]
    with pytest.raises(ValueError, match="negative probabilities"):
        load_reference(_csv(tmp_path, "time,p0,p1", rows), TIMES)
    with pytest.raises(ValueError, match="header must be"):
        load_reference(_csv(tmp_path, "t,mean", [[0.5, 1]]), TIMES)
    with pytest.raises(ValueError, match="no data rows"):
        load_reference(_csv(tmp_path, "time,n_mean", []), TIMES)
    with pytest.raises(ValueError, match=".csv or .npy"):
        load_reference(_csv(tmp_path, "time,n_mean", [[0.5, 1]], name="ref.txt"), TIMES)


def test_states_from_qutip_and_arrays():
    rho = qt.thermal_dm(6, 0.4)
    assert np.allclose(state_to_distribution(rho, "s"), np.real(rho.diag()))
    ket = qt.coherent(12, 0.8)
    assert state_to_distribution(ket, "s") == pytest.approx(np.abs(ket.full().ravel()) ** 2)
    assert np.allclose(state_to_distribution(rho.full(), "s"), np.real(rho.diag()))
    rows = states_to_rows([rho, np.array([1.0, 0.0])], [0.1, 0.2])
    assert rows.shape == (2, 6) and rows[1, 0] == 1.0


@pytest.mark.parametrize(
    "state, match",
    [
        (qt.tensor(qt.fock_dm(2, 0), qt.fock_dm(4, 1)), "composite.*ptrace"),
        (qt.fock_dm(4, 1) * 2, "does not sum to 1"),
        (np.array([[0.5, 0.2], [0.0, 0.5]]), "not Hermitian"),
        (np.array([0.5, np.nan, 0.5]), "NaN"),
        (np.zeros((2, 3)), "shape"),
        (qt.basis(3, 0).dag(), "expected a ket or a density matrix"),
    ],
)
def test_bad_states_are_refused_with_the_reason(state, match):
    with pytest.raises(ValueError, match=match):
        state_to_distribution(state, "solver output 0")


def test_wrong_number_of_states():
    with pytest.raises(ValueError, match="3 states for 2 times"):
        states_to_rows([np.ones(1)] * 3, [0.1, 0.2])
