"""Running sums, merging and delta-method errors of :mod:`trajmaser.results`."""

import numpy as np
import pytest

from trajmaser.results import Q_SUPPORT_MIN, Moments, Result


def poisson_moments(rng, mean, size):
    n = rng.poisson(mean, size=size)
    m = Moments.zeros(1)
    m.add_fock_mixture(0, n, np.zeros(size))
    return m, n


def test_means_and_errors_equal_direct_numpy():
    rng = np.random.default_rng(1)
    m, n = poisson_moments(rng, 2.5, 5000)
    est = m.photon_estimates(omega=6.0)
    assert est["n_mean"][0] == pytest.approx(n.mean(), rel=1e-12)
    assert est["n_mean_err"][0] == pytest.approx(n.std(ddof=1) / np.sqrt(n.size), rel=1e-9)
    assert est["n_var"][0] == pytest.approx(n.var(), rel=1e-9)
    q = n.var() / n.mean() - 1.0
    assert est["mandel_q"][0] == pytest.approx(q, rel=1e-9, abs=1e-12)
    tf = 6.0 / np.log1p(1.0 / n.mean())
    assert est["Tf_over_Tb"][0] == pytest.approx(tf, rel=1e-12)
    hist = np.bincount(n) / 1.0
    assert np.allclose(m.hist[0, : hist.size], hist)


@pytest.mark.parametrize("key", ["mandel_q", "g2", "Tf_over_Tb", "efficiency"])
def test_delta_method_errors_match_the_spread_of_replicas(key):
    """The predicted error equals the replica standard deviation within 4 of its own SEs."""
    rng = np.random.default_rng(7)
    values, errors = [], []
    for _ in range(400):
        m, _ = poisson_moments(rng, 1.3, 400)
        est = m.photon_estimates(omega=6.0)
        values.append(est[key][0])
        errors.append(est[f"{key}_err"][0])
    spread = np.std(values, ddof=1)
    predicted = np.mean(errors)
    se_of_spread = spread / np.sqrt(2 * (len(values) - 1))  # normal-theory SE of an SD
    assert abs(predicted - spread) < 4 * se_of_spread


def test_ratio_error_matches_replicas():
    rng = np.random.default_rng(3)
    ratios, errors = [], []
    for _ in range(400):
        d = rng.integers(50, 150, size=300).astype(float)
        e = rng.binomial(d.astype(int), 0.3).astype(float)
        m = Moments.zeros(1)
        m.add(0, e, d)
        r, err = m.ratio_estimate()
        ratios.append(r[0])
        errors.append(err[0])
    spread = np.std(ratios, ddof=1)
    assert abs(np.mean(errors) - spread) < 4 * spread / np.sqrt(2 * 399)


def test_merge_is_the_sum_and_pads_histograms():
    rng = np.random.default_rng(2)
    a, na = poisson_moments(rng, 0.5, 100)
    b, nb = poisson_moments(rng, 6.0, 100)
    whole = Moments.zeros(1)
    whole.add_fock_mixture(0, np.concatenate([na, nb]), np.zeros(200))
    merged = a + b
    for k in ("count", "sx", "sy", "sxx", "syy", "sxy"):
        assert getattr(merged, k) == pytest.approx(getattr(whole, k), rel=1e-14)
    assert merged.hist.shape[1] == max(a.hist.shape[1], b.hist.shape[1])
    assert np.allclose(merged.hist, whole.hist)
    with pytest.raises(ValueError, match="record points"):
        a + Moments.zeros(2)


def test_fock_mixture_moments():
    m = Moments.zeros(1)
    m.add_fock_mixture(0, np.array([3]), np.array([0.25]))  # 3 w.p. 0.75, 4 w.p. 0.25
    assert m.sx[0] == pytest.approx(3.25)
    assert m.sy[0] == pytest.approx(0.75 * 9 + 0.25 * 16)
    assert m.hist[0, 3:5] == pytest.approx([0.75, 0.25])


def test_result_round_trip_merge_and_q_support():
    times, idx = np.array([1.0, 2.0]), np.array([0, 5])
    rng = np.random.default_rng(5)
    r = Result.empty(times, idx, omega=6.0)
    r.steady_time.add_fock_mixture(0, rng.poisson(0.001, 1000), np.zeros(1000))
    r.steady_arrival.add_fock_mixture(0, rng.poisson(2.0, 1000), np.zeros(1000))
    r.ntraj = 1000
    s = r.summary()
    assert s["steady"]["time"]["q_support"] < Q_SUPPORT_MIN
    assert s["steady"]["time"]["q_reliable"] is False
    assert s["steady"]["arrival"]["q_reliable"] is True
    back = Result.from_arrays(r.to_arrays())
    assert all(np.array_equal(v, back.to_arrays()[k]) for k, v in r.to_arrays().items())
    assert (r + r).ntraj == 2000
    with pytest.raises(ValueError, match="record grids"):
        r + Result.empty(times * 2, idx, omega=6.0)
