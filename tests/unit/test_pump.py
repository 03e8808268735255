"""Arrival processes: the registry, mean rates, interval laws, numba scalars, validation."""

import numpy as np
import pytest
from numba import njit
from scipy import stats

from trajmaser import pump
from trajmaser.params import ConfigError, Model
from trajmaser.rules import check_model, check_pump

RATE, TAU = 2.0, 0.3


@njit
def _scalar_arrivals(code, pars, count, seed_rng):
    out = np.empty(count)
    slot, t = pump.first_arrival(code, pars, seed_rng)
    out[0] = t
    for k in range(1, count):
        slot, t = pump.next_arrival(code, slot, t, pars, seed_rng)
        out[k] = t
    return out


def _model(statistics, _p=1.0, **params):
    return Model(
        pe=0.3, omega=1.0, g=1.0, gamma=0.0, kappa=1.0, tau=TAU, rate=RATE,
        statistics=statistics, p=_p, pump_params=params,
    )  # fmt: skip


def _arrivals(statistics, p, count, rng, scalar):
    params = {"p": p}
    if not scalar:
        return pump.arrival_times(statistics, RATE, TAU, params, count, rng)
    code, pars = pump.kernel_args(_model(statistics, p))
    return _scalar_arrivals(code, pars, count, rng)


@pytest.mark.parametrize("scalar", [False, True])
@pytest.mark.parametrize(
    ("statistics", "p"), [("regular", 1.0), ("poisson", 1.0), ("binomial", 0.8), ("binomial", 0.6)]
)
def test_mean_rate_within_four_standard_errors(statistics, p, scalar):
    rng = np.random.default_rng(5)
    t = _arrivals(statistics, p, 20001, rng, scalar)
    gaps = np.diff(t)
    assert np.all(gaps >= TAU - 1e-14 * t[-1])  # atoms never overlap
    se = gaps.std(ddof=1) / np.sqrt(gaps.size)
    assert abs(gaps.mean() - 1 / RATE) < 4 * se + 1e-12
    assert pump.mean_rate(statistics, RATE, TAU, {"p": p}) == pytest.approx(RATE, rel=1e-14)


@pytest.mark.parametrize("scalar", [False, True])
def test_poisson_gaps_are_dead_time_plus_exponential(scalar):
    t = _arrivals("poisson", 1.0, 5001, np.random.default_rng(8), scalar)
    assert t[0] == 0.0
    law = stats.expon(scale=1 / RATE - TAU)
    assert stats.kstest(np.diff(t) - TAU, law.cdf).pvalue > 1e-3
    # the test has power: a plain exponential of the full mean is rejected
    assert stats.kstest(np.diff(t), stats.expon(scale=1 / RATE).cdf).pvalue < 1e-3


@pytest.mark.parametrize("scalar", [False, True])
def test_binomial_intervals_are_geometric_slots(scalar):
    p = 0.7
    slot = p / RATE
    t = _arrivals("binomial", p, 20001, np.random.default_rng(9), scalar)
    k = np.diff(t) / slot
    assert np.allclose(k, np.round(k), atol=1e-9)
    k = np.round(k).astype(int)
    top = 6
    observed = np.array([np.sum(k == j) for j in range(1, top)] + [np.sum(k >= top)])
    pmf = stats.geom(p).pmf(np.arange(1, top))
    expected = k.size * np.append(pmf, 1 - pmf.sum())
    assert stats.chisquare(observed, expected).pvalue > 1e-3


@pytest.mark.parametrize("scalar", [False, True])
def test_binomial_first_slot_occupied_with_probability_p(scalar):
    p = 0.65
    rng = np.random.default_rng(10)
    first = np.array([_arrivals("binomial", p, 1, rng, scalar)[0] for _ in range(4000)])
    slot0 = np.mean(first == 0.0)
    assert abs(slot0 - p) < 4 * np.sqrt(p * (1 - p) / first.size)
    # first slot index is Geometric(p) - 1
    idx = np.round(first / (p / RATE)).astype(int)
    assert abs(idx.mean() - (1 - p) / p) < 4 * np.sqrt((1 - p) / p**2 / idx.size)


def test_binomial_with_p_one_is_regular():
    rng = np.random.default_rng(1)
    reg = pump.arrival_times("regular", RATE, TAU, None, 50, rng)
    binom = pump.arrival_times("binomial", RATE, TAU, {"p": 1.0}, 50, rng)
    assert np.array_equal(reg, binom)
    sc = _arrivals("binomial", 1.0, 50, rng, True)
    assert np.array_equal(reg, sc)


def test_regular_arrivals_at_k_over_r():
    t = pump.arrival_times("regular", RATE, TAU, None, 7, np.random.default_rng(0))
    assert np.array_equal(t, np.arange(7) * (1 / RATE))


@pytest.mark.parametrize(
    ("statistics", "rate", "tau", "params", "match"),
    [
        ("regular", 2.0, 0.5, {}, "overlap"),
        ("poisson", 4.0, 0.3, {}, "overlap"),
        ("binomial", 2.0, 0.3, {"p": 0.5}, "shorter than tau"),
        ("binomial", 2.0, 0.3, {"p": 0.0}, "0 < p <= 1"),
        ("binomial", 2.0, 0.3, {"p": 1.5}, "0 < p <= 1"),
        ("jitter", 2.0, 0.3, {"jitter": 0.5}, "jitter <= 1 - r·tau = 0.4"),
        ("jitter", 2.0, 0.3, {"jitter": -0.1}, "0 <= jitter <= 1"),
        ("jitter", 2.0, 0.3, {}, "needs 'jitter'"),
        ("bursty", 2.0, 0.3, {}, "allowed: regular, poisson, binomial, jitter"),
        ("regular", -1.0, 0.3, {}, "rate must be positive"),
        ("regular", 1.0, 0.0, {}, "tau must be positive"),
    ],
)
def test_invalid_pump_is_a_clear_error(statistics, rate, tau, params, match):
    with pytest.raises(ConfigError, match=match):
        check_pump(statistics, rate, tau, params)


def test_model_pump_parameters_belong_to_the_statistics():
    m = _model("jitter", jitter=0.2)
    assert m.pump_values == {"p": 1.0, "jitter": 0.2}
    check_model(m)
    with pytest.raises(ConfigError, match="'jitter' is used only by statistics 'jitter'"):
        check_model(_model("poisson", jitter=0.2))
    assert _model("binomial", 0.7) == _model("binomial", p=0.7)  # pump_params p -> Model.p


def test_registry_codes_and_keys():
    assert pump.NAMES == tuple(s.name for s in pump.STATISTICS)
    assert [pump.statistics_code(n) for n in pump.NAMES] == list(range(len(pump.NAMES)))
    assert pump.keys() == {"p": ("binomial",), "jitter": ("jitter",)}
