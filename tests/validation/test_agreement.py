"""The calibrated batch test on synthetic batch means: level, power, zero spread, bad input."""

import numpy as np
import pytest

from trajmaser.agreement import compare_batches
from trajmaser.batchmeans import BatchMeans, FamilyReference
from trajmaser.signflip import flip_test, hall

B = 32


def _family(rng, npts=40, levels=4, shift=0.0, corr=0.7):
    """Gaussian batch means with AR(1) correlation across points; reference = true mean."""
    e = rng.standard_normal((B, npts))
    x = np.empty_like(e)
    x[:, 0] = e[:, 0]
    for j in range(1, npts):
        x[:, j] = corr * x[:, j - 1] + np.sqrt(1 - corr**2) * e[:, j]
    n = 2.0 + 0.05 * x + shift
    p = np.full((B, npts, levels), 1.0 / levels) + 0.01 * x[:, :, None] * [1, -1, 0, 0]
    data = BatchMeans(np.full(B, 100.0), n, n**2, p)
    ref = FamilyReference(
        n=np.full(npts, 2.0),
        n2=None,
        p=np.full((npts, levels), 1 / levels),
        label=np.arange(npts) * 0.5,
    )
    return data, ref


def test_false_alarm_rate_is_alpha_within_binomial_error():
    rng = np.random.default_rng(7)
    alpha, runs = 0.1, 150
    alarms = 0
    for _ in range(runs):
        data, ref = _family(rng)
        alarms += not compare_batches({"time": data}, {"time": ref}, alpha=alpha, flips=500)["ok"]
    sd = np.sqrt(runs * alpha * (1 - alpha))
    assert abs(alarms - runs * alpha) < 3 * sd, alarms


def test_a_shift_of_a_few_standard_errors_is_caught_and_named():
    rng = np.random.default_rng(8)
    data, ref = _family(rng, shift=0.06)  # 0.06 / (0.05 / sqrt(32)) ≈ 7 standard errors
    rep = compare_batches({"time": data}, {"time": ref})
    assert not rep["ok"] and rep["p_value"] < 1e-3
    assert rep["worst"]["quantity"] == "n" and rep["n_beyond"] > 0


@pytest.mark.parametrize("kind", ["max", "mean"])
def test_sign_flip_p_values_are_uniform_for_symmetric_data(kind):
    rng = np.random.default_rng(9)
    ps = [
        flip_test(
            rng.standard_normal((B, 50)), [(kind, np.arange(50))], [0.5, 0.5], flips=400, seed=s
        )["p_value"]
        for s in range(120)
    ]
    from scipy.stats import kstest

    assert kstest(ps, "uniform").pvalue > 1e-3


def test_hall_is_the_identity_at_c_zero_monotone_and_odd():
    t = np.linspace(-8.0, 8.0, 161)
    assert np.array_equal(hall(t, 0.0), t)
    for c in (0.005, 0.02, -0.02):
        h = hall(t, c)
        assert np.all(np.diff(h) > 0)
        assert np.allclose(hall(-t, -c), -h, rtol=0, atol=1e-12)


def test_hall_restores_the_tails_of_a_skewed_bernoulli_batch_t():
    """Batch t of a rare level (p = 0.07, 32 batches of 32): the plain t has a heavy left
    tail; the corrected one has the two-sided tail of Student's t (31 dof) within 4 standard
    errors of the count, where the plain one is far off."""
    from scipy.stats import t as student

    rng = np.random.default_rng(2026)
    reps, m, p = 200_000, 32, 0.07
    d = rng.binomial(m, p, size=(reps, B)) / m - p
    sd = d.std(axis=1, ddof=1)
    ok = sd > 0
    t = np.sqrt(B) * d.mean(axis=1)[ok] / sd[ok]
    c = (1 - 2 * p) / np.sqrt(p * (1 - p)) / (6 * np.sqrt(B * m))
    for x in (3.0, 4.0):
        expect = t.size * 2 * student.sf(x, B - 1)
        tol = 4 * np.sqrt(expect)
        assert abs(np.sum(np.abs(hall(t, c)) > x) - expect) < tol
        assert np.sum(np.abs(t) > x) - expect > tol


def _vacuum(value=0.0):
    zeros = np.zeros((B, 3))
    p = np.zeros((B, 3, 2))
    p[:, :, 0] = 1.0
    data = BatchMeans(np.full(B, 10.0), zeros, zeros, p)
    ref = FamilyReference(
        n=np.full(3, value),
        n2=np.full(3, value),
        p=np.tile([1.0 - value, value], (3, 1)),
        label=np.arange(3.0),
    )
    return data, ref


def test_zero_spread_points_agree_only_when_equal_and_never_crash():
    data, ref = _vacuum()
    rep = compare_batches({"time": data}, {"time": ref})
    assert rep["ok"] and rep["tested"] == 0 and rep["zero_spread"]["equal"] > 0
    data, ref = _vacuum(0.5)  # 320 trajectories that never see a photon: p(1) = 0.5 is wrong
    rep = compare_batches({"time": data}, {"time": ref})
    assert not rep["ok"]
    fail = rep["zero_spread"]["failing"][0]
    assert fail["traj"] == 0.0 and fail["ref"] == pytest.approx(0.5)
    data, ref = _vacuum(0.001)  # too rare to be seen in 320 trajectories: no evidence
    assert compare_batches({"time": data}, {"time": ref})["ok"]


def test_too_few_batches_and_bad_alpha_are_errors():
    data, ref = _family(np.random.default_rng(1))
    few = BatchMeans(data.count[:8], data.n[:8], data.n2[:8], data.p[:8])
    with pytest.raises(ValueError, match="at least 16 batches"):
        compare_batches({"time": few}, {"time": ref})
    with pytest.raises(ValueError, match="alpha"):
        compare_batches({"time": data}, {"time": ref}, alpha=1.5)
    with pytest.raises(ValueError, match="expected 40 points"):
        compare_batches({"time": data}, {"time": FamilyReference(n=np.zeros(3))})
