"""Config loading: units, defaults and the errors a user sees for bad input."""

import math

import numpy as np
import pytest

from trajmaser.config import config_from_dict, load_config, parse_range
from trajmaser.params import ConfigError

PAPER = {
    "fuel": {"model": "star", "N": 10, "omega": 6.0, "J": 0.8, "lam": 1.0},
    "cavity": {
        "Omega": 2 * math.pi * 50e9,
        "Q": 2e10,
        "g": math.pi * 50e3,
        "gamma": 2 * math.pi * 33.3,
        "tau": 9.5e-6,
    },
    "pump": {"statistics": "regular", "Nex": 6500},
    "run": {"atoms": 100, "ntraj": 10, "samples": 10, "burn_in": 50, "seed": 1},
}


def cfg(**changes):
    raw = {k: dict(v) for k, v in PAPER.items()}
    for dotted, value in changes.items():
        sec, key = dotted.split("__")
        if value is None:
            raw[sec].pop(key, None)
        else:
            raw[sec][key] = value
    return raw


def test_paper_units():
    c = config_from_dict(cfg())
    m = c.model()
    assert m.kappa == pytest.approx(2 * math.pi * 50e9 / 2e10, rel=1e-15)
    assert m.rate == pytest.approx(6500 * m.kappa, rel=1e-15)
    assert m.nex == pytest.approx(6500)
    assert m.tq_over_tb == pytest.approx(3.46693, abs=5e-6)
    assert m.statistics == "regular" and m.p == 1.0
    assert m.initial.kind == "thermal"
    assert m.nbar_initial == pytest.approx(1 / math.expm1(6.0))


def test_kappa_and_rate_directly():
    raw = cfg(cavity__Q=None, cavity__kappa=10.0, pump__Nex=None, pump__rate=1000.0)
    m = config_from_dict(raw).model()
    assert (m.kappa, m.rate) == (10.0, 1000.0)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"cavity__bogus": 1}, "unknown key 'bogus' in [cavity]; valid keys"),
        ({"fuel__Tq": 2.0}, "not used by model 'star'"),
        ({"cavity__g": None}, "[cavity] give exactly one of g (rad/s) or theta"),
        ({"cavity__gamma": -1.0}, "[cavity] gamma = -1.0 is not allowed"),
        ({"cavity__kappa": 3.0}, "exactly one of Q"),
        ({"pump__Nex": 7000}, "r·tau < 1 is required"),
        ({"pump__statistics": "bursty"}, "allowed: regular, poisson, binomial"),
        ({"pump__p": 0.5}, "p is used only by statistics = 'binomial'"),
        ({"pump__statistics": "binomial", "pump__p": 0.5}, "binomial slots"),
        ({"pump__statistics": "binomial", "pump__p": 1.5}, "[pump] binomial pump needs 0 < p"),
        ({"pump__statistics": "jitter"}, "missing key 'jitter' in [pump]"),
        ({"pump__jitter": 0.1}, "jitter is used only by statistics = 'jitter', not 'regular'"),
        (
            {"pump__statistics": "jitter", "pump__jitter": 0.5, "pump__Nex": 6000},
            "[pump] jitter pump: the shortest interval",
        ),
        ({"run__burn_in": 100}, "[run] burn_in = 100 must be in [0, atoms = 100)"),
        ({"run__method": "rk4"}, "allowed: auto, fock, general"),
        ({"run__ntraj": 2.5}, "ntraj must be an integer"),
        ({"cavity__initial": "fock:x"}, "N must be an integer"),
        ({"cavity__initial": "squeezed"}, "allowed: 'thermal'"),
        ({"fuel__N": -3}, "[fuel] N must be an integer >= 0"),
        ({"fuel__Tb": 0.0}, "[fuel] Tb must be > 0"),
        ({"run__detector_efficiency": 0.0}, "[run] detector_efficiency must be in (0, 1]"),
        ({"fuel__omega": float("nan")}, "omega must be a finite number"),
    ],
)
def test_bad_configs(changes, message):
    with pytest.raises(ConfigError) as exc:
        config_from_dict(cfg(**changes))
    assert message in str(exc.value)


def test_unknown_table():
    raw = cfg()
    raw["cavty"] = {}
    with pytest.raises(ConfigError, match=r"unknown table \[cavty\]"):
        config_from_dict(raw)


def test_state_fuel_coherence_bounds():
    raw = cfg()
    raw["fuel"] = {"model": "state", "omega": 6.0, "pe": 0.2, "coherence": [0.45, 0.0]}
    with pytest.raises(ConfigError, match="coherence"):
        config_from_dict(raw)
    raw["fuel"]["coherence"] = [0.3, 0.1]
    raw["fuel"]["pe"] = 0.5
    m = config_from_dict(raw).model()
    assert m.coherence == complex(0.3, 0.1) and not m.is_diagonal


def test_binomial_ok_and_sweep_grid():
    raw = cfg(pump__statistics="binomial", pump__p=1.0, pump__Nex=100)
    raw["sweep"] = {"N": "1..3", "pump.p": [0.5, 1.0]}
    c = config_from_dict(raw)
    grid = c.grid()
    assert [labels for labels, _ in grid] == [
        {"fuel.N": n, "pump.p": p} for n in (1, 2, 3) for p in (0.5, 1.0)
    ]
    assert grid[-1][1].fuel.N == 3 and grid[-1][1].pump.p == 1.0
    with pytest.raises(ConfigError, match="section.key"):
        config_from_dict({**raw, "sweep": {"omega2": [1]}})


def test_jitter_pump_and_its_sweep():
    raw = cfg(pump__statistics="jitter", pump__jitter=0.2, pump__Nex=100)
    raw["sweep"] = {"pump.jitter": [0.0, 0.3]}
    grid = config_from_dict(raw).grid()
    models = [point.model() for _, point in grid]
    assert [m.pump_values["jitter"] for m in models] == [0.0, 0.3]
    assert models[1].statistics == "jitter" and models[1].p == 1.0


def test_load_config_file_errors(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[fuel\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(bad)


def test_invalid_sweep_point_is_named_at_load_time():
    raw = cfg()
    raw["sweep"] = {"pump.Nex": [100, 7000]}
    with pytest.raises(ConfigError, match=r"\[sweep\] point pump.Nex = 7000: .*r·tau < 1"):
        config_from_dict(raw)


def test_theta_gives_g():
    raw = cfg(cavity__g=None, cavity__theta=1.5)
    m = config_from_dict(raw).model()
    tau = PAPER["cavity"]["tau"]
    assert m.g == pytest.approx(1.5 / (tau * math.sqrt(m.nex)), rel=1e-15)
    assert m.g * m.tau * math.sqrt(m.nex) == pytest.approx(1.5, rel=1e-14)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"cavity__theta": 1.0}, "[cavity] give exactly one of g (rad/s) or theta"),
        ({"cavity__g": None, "cavity__theta": -1.0}, "[cavity] theta = -1.0 is not allowed"),
        (
            {"cavity__g": None, "cavity__theta": 1.0, "cavity__Q": None, "cavity__kappa": 0.0,
             "pump__Nex": None, "pump__rate": 10.0},
            "[cavity] theta needs κ > 0",
        ),
    ],
)  # fmt: skip
def test_theta_errors(changes, message):
    with pytest.raises(ConfigError) as exc:
        config_from_dict(cfg(**changes))
    assert message in str(exc.value)


def test_theta_sweep_replaces_g():
    raw = cfg(pump__Nex=100)
    raw["sweep"] = {"cavity.theta": "1..3"}  # the table gives g: each point drops it
    grid = config_from_dict(raw).grid()
    thetas = [p.model().g * p.model().tau * math.sqrt(p.model().nex) for _, p in grid]
    assert np.allclose(thetas, [1, 2, 3], rtol=1e-14)
    assert [labels["cavity.theta"] for labels, _ in grid] == [1, 2, 3]


def test_one_range_parser():
    assert parse_range("1..4") == [1, 2, 3, 4]
    assert parse_range("0..1:0.25") == [0.0, 0.25, 0.5, 0.75, 1.0]
    for bad, why in (("3..1", "empty"), ("1..2:0", "step must be > 0"), ("a..b", "ranges are")):
        with pytest.raises(ValueError, match=why):
            parse_range(bad)
