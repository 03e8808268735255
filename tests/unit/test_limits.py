"""Inputs past the package's limits get a clear error before any work (reliability census).

Each case here was a hang, an unforeseen exception or an out-of-memory in the census of
`benchmarks/reliability_report.py`: a [sweep] of millions of points, a top-level ``sweep``
that is not a table, an initial field of 1e11 photons, N = 1e9 spins, a thermal initial field
at omega = 710, ``dm --tol 1e-300``, a run that needs more memory than the process may use.
"""

from __future__ import annotations

import math
import time
from dataclasses import replace

import cases
import pytest

from trajmaser import dm
from trajmaser.config import config_from_dict, parse_range
from trajmaser.config import sweep as sweep_mod
from trajmaser.config.sweep import MAX_POINTS
from trajmaser.params import ConfigError, InitialField, initial_nbar
from trajmaser.rules import MAX_INITIAL_PHOTONS, MAX_SPINS
from trajmaser.run import estimate as est_mod

RUN = {"atoms": 20, "ntraj": 20, "samples": 5, "burn_in": 10, "seed": 1}


def raw(**tables) -> dict:
    """The paper's configuration (`cases.paper_raw`) with RUN and ``section={key: value}``
    changes; a non-dict replaces the whole entry."""
    out = cases.paper_raw(RUN)
    for sec, changes in tables.items():
        if isinstance(changes, dict):
            out.setdefault(sec, {}).update(changes)
        else:
            out[sec] = changes
    return out


def test_a_sweep_that_is_not_a_table_is_named():
    with pytest.raises(ConfigError, match=r"sweep = 5 is not allowed: \[sweep\] is a table"):
        config_from_dict(raw(sweep=5))


def test_a_sweep_grid_past_the_limit_is_refused_at_once(monkeypatch):
    t0 = time.monotonic()
    with pytest.raises(ConfigError, match=r"4,000,000 points, more than the 10,000 allowed"):
        config_from_dict(raw(sweep={"run.seed": "1..2000", "fuel.N": "1..2000"}))
    with pytest.raises(ConfigError, match=r"100,000,001 values, more than the 10,000"):
        config_from_dict(raw(sweep={"run.seed": "0..100000000"}))
    assert time.monotonic() - t0 < 1.0  # neither grid is built
    assert MAX_POINTS == 10_000
    monkeypatch.setattr(sweep_mod, "MAX_POINTS", 6)  # the limit itself is allowed
    assert len(config_from_dict(raw(sweep={"run.seed": "1..3", "fuel.N": [1, 2]})).grid()) == 6
    with pytest.raises(ConfigError, match=r"7 values, more than the 6 allowed"):
        config_from_dict(raw(sweep={"run.seed": "1..7"}))
    with pytest.raises(ConfigError, match=r"9 points, more than the 6 allowed"):
        config_from_dict(raw(sweep={"run.seed": [1, 2, 3], "fuel.N": [1, 2, 3]}))


def test_parse_range_limit_counts_before_building():
    assert parse_range("1..3", limit=3) == [1, 2, 3]
    with pytest.raises(ValueError, match="more than the 2 allowed"):
        parse_range("0..1:0.25", limit=2)
    assert len(parse_range("1..1000000")) == 1_000_000  # no limit by default (fuel --N)


@pytest.mark.parametrize(
    ("cavity", "fuel", "message"),
    [
        ({"initial": "fock:100000000000"}, {}, r"holds 1e\+11 photons on average"),
        ({}, {"omega": 1e-300}, r"thermal at omega = 1e-300\) holds 1e\+300 photons"),
    ],
)
def test_initial_fields_beyond_the_photon_limit_are_refused(cavity, fuel, message):
    cfg = config_from_dict(raw(cavity=cavity, fuel=fuel))
    with pytest.raises(ConfigError, match=message):
        dm.steady(cfg.model())
    ok = config_from_dict(raw(cavity={"initial": f"fock:{int(MAX_INITIAL_PHOTONS)}"}))
    assert ok.model().nbar_initial == MAX_INITIAL_PHOTONS


def test_thermal_initial_field_at_large_omega_is_empty_not_an_overflow():
    thermal = InitialField()
    assert initial_nbar(thermal, 710.0) == math.exp(-710.0)
    assert initial_nbar(thermal, 1e300) == 0.0
    assert initial_nbar(thermal, 6.0) == 1.0 / math.expm1(6.0)  # unchanged below


def test_spin_count_past_the_limit_is_refused():
    with pytest.raises(ConfigError, match=r"N = 1e\+09 outer spins is more than the 10,000,000"):
        config_from_dict(raw(fuel={"N": 10**9})).model()
    assert MAX_SPINS == 10_000_000


@pytest.mark.parametrize("tol", [1e-300, 1e-16, 0.0, math.nan, 1.0])
def test_dm_tolerance_below_rounding_is_refused(tol):
    model = config_from_dict(raw()).model()
    with pytest.raises(ConfigError, match=r"must be in \[1e-15, 1\)"):
        dm.steady(model, tol=tol)


def test_steady_state_stops_growing_when_the_tail_is_rounding():
    """Detuning 1e8 rad/s: one atom barely changes the field, the chain is the identity to
    1e-5, and the solve's populations carry rounding errors of ~1e-12 in every level."""
    model = config_from_dict(raw(cavity={"detuning": 1e8})).model()
    t0 = time.monotonic()
    st = dm.steady(model)
    assert time.monotonic() - t0 < 5.0  # it used to grow nmax to 1500 (minutes)
    assert st["nmax"] < 100
    fine = dm.steady(model, nmax=200)  # a larger cut-off gives the same field
    for block in ("arrival", "time"):
        assert st[block]["n_mean"] == pytest.approx(fine[block]["n_mean"], rel=1e-6)


def test_a_run_needing_more_memory_than_allowed_is_refused(monkeypatch):
    cfg = config_from_dict(raw())
    model, run = cfg.model(), cfg.run
    big = replace(run, atoms=10**6, samples=10**6)
    est = est_mod.estimate([(model, big, "fock")])
    monkeypatch.setattr(est_mod, "machine_memory", lambda: est.memory_bytes / 2)
    with pytest.raises(ConfigError, match="more than this process may use"):
        est_mod.Limits().check(est)
    monkeypatch.setattr(est_mod, "machine_memory", lambda: est.memory_bytes * 2)
    est_mod.Limits(memory_gb=1e3).check(est)


def _inverted():
    table = raw()
    table["fuel"] = {"model": "state", "omega": 6.0, "pe": 0.8}
    return config_from_dict(table).model()


def test_series_of_an_inverted_medium_need_only_one_level_per_atom():
    """No bath: at most one photon per atom, so 30 atoms need the initial support + 31
    levels, not the cut-off of the unbounded steady state (minutes of exponentials)."""
    from trajmaser.dm.initial import initial_support

    model = _inverted()
    t0 = time.monotonic()
    arr = dm.arrival_series(model, range(31))
    series = dm.time_series(model, [0.0, 29.5 / model.rate])
    assert time.monotonic() - t0 < 10.0
    assert arr["nmax"] == series["nmax"] == initial_support(model) + 31
    assert arr["tail"] < 1e-12 and series["tail"] < 1e-12


def test_compare_leaves_out_the_steady_blocks_without_a_steady_state(monkeypatch):
    from trajmaser import compare

    monkeypatch.setattr(compare, "STEADY_NMAX", 40)
    refs = compare.dm_references(_inverted(), [0.0, 1e-4], [0, 5])
    assert sorted(refs) == ["arrival", "time"]
