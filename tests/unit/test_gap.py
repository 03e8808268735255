"""The empty-cavity step of the Fock path against its exact photon-number law."""

import math

import numpy as np
import pytest
from scipy.stats import binom, chisquare

from trajmaser.params import Model, RunParams
from trajmaser.trajectories import driver, simulate_block
from trajmaser.trajectories.fock_time import (
    gap_evolve,
    gap_losses,
    gap_timed,
    gap_timed_after,
    survival_table,
)
from trajmaser.trajectories.records import TR_SIZE


def _samples(n, dt, kappa, nbar, size, seed):
    rng = np.random.default_rng(seed)
    return np.array([gap_evolve(n, dt, kappa, nbar, rng) for _ in range(size)])


@pytest.mark.parametrize(("n", "kdt"), [(1, 0.05), (6, 0.02), (6, 0.4), (40, 0.01)])
def test_zero_temperature_gap_is_binomial(n, kdt):
    """n → Binomial(n, e^{−κt}), including the direct draw conditioned on a loss."""
    out = _samples(n, kdt, 1.0, 0.0, 40000, seed=n)
    k = np.arange(n + 1)
    expected = binom.pmf(k, n, math.exp(-kdt)) * out.size
    observed = np.bincount(out, minlength=n + 1)
    keep = expected > 5  # chi-square needs populated bins; pool the rest
    obs = np.append(observed[keep], observed[~keep].sum())
    exp = np.append(expected[keep], expected[~keep].sum())
    if exp[-1] == 0:
        obs, exp = obs[:-1], exp[:-1]
    assert chisquare(obs, exp * obs.sum() / exp.sum()).pvalue > 1e-3


def test_thermal_bath_gap_mean():
    """With n_b > 0 the mean follows n̄(t) = n_b + (n0 − n_b) e^{−κt} (birth–death ME)."""
    n0, kdt, nb = 3, 0.7, 0.5
    out = _samples(n0, kdt, 1.0, nb, 40000, seed=3)
    exact = nb + (n0 - nb) * math.exp(-kdt)
    assert abs(out.mean() - exact) < 4 * out.std(ddof=1) / math.sqrt(out.size)


@pytest.mark.parametrize("nbar", [0.0, 0.4])
def test_survival_table_draws_as_the_computed_survival(nbar):
    """A gap decided by the table's survival (then :func:`gap_losses` or
    :func:`gap_timed_after` on an event) takes the same draws and gives the same photon
    numbers and occupation times as :func:`gap_evolve` and :func:`gap_timed`."""
    kappa, dt, size = 0.7, 0.9, 2000
    stay = survival_table(12, kappa, nbar, dt)
    assert (stay[0] == -1.0) == (nbar == 0.0)  # no event possible: nothing to draw
    for n in (1, 5, 11) if nbar == 0.0 else (0, 1, 5, 11):
        rngs = np.random.default_rng(n), np.random.default_rng(n)
        occs = np.zeros(65), np.zeros(65)
        events = 0
        for _ in range(size):
            if nbar == 0.0:
                a = gap_evolve(n, dt, kappa, nbar, rngs[0])
                b = n if rngs[1].random() < stay[n] else gap_losses(n, dt, kappa, rngs[1])
            else:
                a = gap_timed(n, dt, kappa, nbar, rngs[0], np.zeros(TR_SIZE), occs[0])
                u = rngs[1].random()
                if u < stay[n]:
                    occs[1][n] += dt
                    b = n
                else:
                    b = gap_timed_after(n, dt, u, kappa, nbar, rngs[1], np.zeros(TR_SIZE), occs[1])
            assert a == b
            events += a != n
        assert np.array_equal(occs[0], occs[1])
        assert rngs[0].random() == rngs[1].random()
        assert 0 < events < size  # both branches taken


def test_regular_pumping_reads_the_gap_survival_from_a_table(monkeypatch):
    """Regular pumping (every gap 1/r − τ) tabulates the gap survival per n: the trajectories
    are those of computing it gap by gap, bit for bit (survival per photon e^{−κ·gap} = 0.55)."""
    model = Model(pe=0.6, omega=1.0, g=1.0, gamma=0.1, kappa=0.4, tau=1.0, rate=0.4)
    run = RunParams(atoms=3000, ntraj=8, samples=9, burn_in=1000, seed=3, block_size=8)
    gaps = []
    tables = driver.passage_tables

    def spy(*args):
        gaps.append(args[4])
        return tables(*args)

    monkeypatch.setattr(driver, "passage_tables", spy)
    with_table = simulate_block(model, run, 0).to_arrays()
    monkeypatch.setattr(driver, "passage_tables", lambda *args: tables(*args[:4]))
    computed = simulate_block(model, run, 0).to_arrays()
    assert gaps == [pytest.approx(1.0 / model.rate - model.tau, rel=1e-15)]
    assert with_table.keys() == computed.keys()
    assert all(np.array_equal(with_table[k], computed[k]) for k in computed)
