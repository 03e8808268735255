"""trajmaser.validate end to end with qutip solvers: series and stationarity, right and wrong."""

from dataclasses import replace

import numpy as np
import pytest
import qutip as qt

import trajmaser
from trajmaser.dm import qutip_reference as qr
from trajmaser.params import InitialField, Model

MODEL = Model(
    pe=0.35,
    omega=1.0,
    g=1.0,
    gamma=0.2,
    kappa=0.3,
    tau=1.0,
    rate=0.4,
    nbar_bath=0.2,
    initial=InitialField("vacuum"),
)
RUN = dict(ntraj=1024, atoms=60, samples=12, burn_in=30, seed=5)


def qutip_solver(model):
    """A user's solver: cavity density matrices (qutip) at the requested times."""

    def solver(times):
        return [qt.Qobj(np.diag(p)) for p in qr.time_series(model, times, nmax=25)["p"]]

    return solver


def test_a_right_solver_agrees_and_a_wrong_one_is_named(tmp_path):
    report = trajmaser.validate(MODEL, qutip_solver(MODEL), **RUN)
    assert report.ok, report.verdict
    assert report.verdict.startswith("AGREE") and report.alpha == 0.01
    z = report.tests["series"]["points"]["time"]["n"]["z"]
    assert np.isfinite(z).sum() >= 10
    fig = report.plot(tmp_path / "v.png")
    assert (tmp_path / "v.png").stat().st_size > 0 and len(fig.axes) >= 3
    wrong = trajmaser.validate(MODEL, qutip_solver(replace(MODEL, kappa=0.6)), **RUN)
    assert not wrong.ok and "DISAGREE" in wrong.verdict and "time" in wrong.verdict


def test_stationarity_of_a_claimed_steady_state():
    p = np.array(qr.steady(MODEL, nmax=25)["arrival"]["p"])
    run = dict(RUN, atoms=40)
    good = trajmaser.validate(MODEL, steady=qt.Qobj(np.diag(p)), **run)
    assert good.ok, good.verdict
    off = 0.9 * p
    off[0] += 0.1  # a solver that left 10 % of the vacuum in its "steady state"
    bad = trajmaser.validate(MODEL, steady=off, **run)
    assert not bad.ok and "stationarity" in bad.tests


def test_bad_solver_output_is_a_clear_error():
    with pytest.raises(ValueError, match="composite"):
        trajmaser.validate(
            MODEL, lambda t: [qt.tensor(qt.fock_dm(2, 0), qt.fock_dm(5, 0))] * len(t), **RUN
        )
    with pytest.raises(ValueError, match="solver .* steady"):
        trajmaser.validate(MODEL, **RUN)
