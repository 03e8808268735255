"""Unit tests of trajmaser.fuel and the `trajmaser fuel` command."""

import json
import math

import numpy as np
import pytest
from scipy.special import comb

from trajmaser.cli import main
from trajmaser.fuel import FuelResult, fuel, fuel_pe, fuel_tq, spin_blocks
from trajmaser.params import FuelParams

PAPER = {"omega": 6.0, "J": 0.8, "lam": 1.0}


# ---------------------------------------------------------------- validation
@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"N": -1}, "integer >= 0"),
        ({"N": 2.5}, "integer >= 0"),
        ({"N": [1, 2.5]}, "integer >= 0"),
        ({"N": "ten"}, "integer >= 0"),
        ({"Tb": 0.0}, "Tb must be > 0"),
        ({"Tb": -1.0}, "Tb must be > 0"),
        ({"omega": math.nan}, "omega must be finite"),
        ({"J": math.inf}, "J must be finite"),
        ({"lam": [1.0, math.nan]}, "lam must be finite"),
        ({"Tb": 1e-300}, r"omega/Tb = 6e\+300 is beyond"),
        ({"J": 1e160}, r"\|J/Tb\| must be <= 1e\+150"),
    ],
)
def test_invalid_numbers_raise(kwargs, fragment):
    args = {"N": 4, "omega": 6.0, "J": 0.8, "lam": 1.0, "Tb": 1.0, **kwargs}
    with pytest.raises(ValueError, match=fragment):
        fuel_pe("star", **args)


def test_unknown_model_names_allowed_values():
    with pytest.raises(ValueError, match="allowed: star, spin"):
        fuel_pe("ring", 4, 6.0, 0.8, 1.0)
    with pytest.raises(ValueError, match="star, spin, thermal, state"):
        fuel(FuelParams(model="ring"))


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        (FuelParams(model="thermal"), "needs Tq"),
        (FuelParams(model="thermal", Tq=0.0), "needs Tq"),
        (FuelParams(model="state"), r"needs pe in \[0, 1\]"),
        (FuelParams(model="state", pe=1.2), r"pe must be in \[0, 1\]"),
        (FuelParams(model="state", pe=0.1, coherence=(0.4, 0.0)), "not positive"),
        (FuelParams(model="thermal", Tq=2.0, Tb=0.0), "Tb must be > 0"),
        (FuelParams(model="star", N=-3), "integer >= 0"),
    ],
)
def test_fuel_params_validation(params, fragment):
    with pytest.raises(ValueError, match=fragment):
        fuel(params)


# ---------------------------------------------------------------- physics sanity
def test_sector_multiplicities_count_all_states():
    """Σ_{S'} d(N, S') (2S'+1) = 2^N and d equals the textbook C(N,k) − C(N,k−1)."""
    for n in (0, 1, 2, 7, 40):
        R, log_d = spin_blocks.sector_tables("star", n)
        d = np.exp(log_d)
        assert np.sum(d * 2 * R) == pytest.approx(2.0**n, rel=1e-12)
        k = np.arange(R.size)
        assert np.allclose(d, comb(n, k) - comb(n, k - 1), rtol=1e-12)


@pytest.mark.parametrize("model", ["star", "spin"])
@pytest.mark.parametrize("Tb", [1.0, 2.5])
def test_no_coupling_gives_bath_temperature(model, Tb):
    N = np.array([0, 1, 2, 5, 30, 1000, 100_000])
    tq = fuel_tq(model, N, 6.0 * Tb, 0.0, 0.7, Tb)
    assert np.allclose(tq, 1.0, rtol=1e-12, atol=0)


def test_star_equals_spin_for_one_outer_spin_only():
    for lam in (-0.5, 0.0, 0.75, 1.0, 1.3):
        star = fuel_pe("star", 1, 6.0, 0.8, lam)
        assert fuel_pe("spin", 1, 6.0, 0.8, lam) == pytest.approx(star, rel=1e-13)
    N = np.arange(2, 12)
    star, spin = fuel_pe("star", N, **PAPER), fuel_pe("spin", N, **PAPER)
    assert np.all(np.abs(star - spin) > 1e-6 * spin)


def test_acceptance_numbers_from_spec():
    assert round(float(fuel_tq("star", 10, **PAPER)), 5) == 3.46693
    assert round(float(fuel_tq("spin", 10, **PAPER)), 5) == 3.50398


def test_vectorisation_broadcasts_and_matches_scalars():
    N = np.arange(1, 6)[:, None]
    omega = np.array([5.0, 6.0, 7.0])
    pe = fuel_pe("star", N, omega, 0.8, 0.75)
    tq = fuel_tq("spin", N, omega, 0.8, 0.75)
    assert pe.shape == tq.shape == (5, 3)
    assert fuel_pe("star", 4, 6.0, 0.8, 0.75).shape == ()
    for i, n in enumerate(range(1, 6)):
        for k, w in enumerate(omega):
            assert pe[i, k] == fuel_pe("star", n, w, 0.8, 0.75)
            assert tq[i, k] == fuel_tq("spin", n, w, 0.8, 0.75)


@pytest.mark.parametrize("model", ["star", "spin"])
@pytest.mark.parametrize(
    ("omega", "J", "lam"),
    [(6.0, 0.8, 0.75), (0.4, 2.0, 0.3), (-1.0, 0.5, 1.0), (0.0, 3.0, 1.7), (2.0, -1.0, -2.0)],
)
def test_pruned_sum_equals_full_sum(model, omega, J, lam):
    """The bounded block pruning used at large N changes nothing at double precision."""
    full = spin_blocks.log_ratio(model, 1500, omega, J, lam, prune=False)
    pruned = spin_blocks.log_ratio(model, 1500, omega, J, lam, prune=True)
    assert pruned == pytest.approx(full, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("model", ["star", "spin"])
def test_large_n_is_finite(model):
    pe = fuel_pe(model, 100_000, 6.0, 0.8, [0.0, 0.75, 1.0])
    assert np.all(np.isfinite(pe)) and np.all((pe > 0) & (pe < 1))


# ---------------------------------------------------------------- FuelResult
def test_fuel_result_models():
    star = fuel(FuelParams(model="star", N=10, **PAPER))
    assert isinstance(star, FuelResult) and star.N == 10 and not star.inverted
    assert star.tq_over_tb == pytest.approx(float(fuel_tq("star", 10, **PAPER)), rel=1e-15)
    thermal = fuel(FuelParams(model="thermal", omega=6.0, Tq=2.0))
    assert thermal.pe == pytest.approx(1.0 / (1.0 + math.exp(3.0)), rel=1e-14)
    assert thermal.tq_over_tb == pytest.approx(2.0, rel=1e-14)
    state = fuel(FuelParams(model="state", pe=0.2, coherence=(0.1, 0.1)))
    assert state.pe == 0.2 and state.tq_over_tb == pytest.approx(-6.0 / math.log(0.25))


def test_inversion_and_infinite_temperature_are_reported():
    big = fuel(FuelParams(model="star", N=100_000, omega=6.0, J=0.8, lam=0.75))
    assert big.inverted and big.pe > 0.5 and big.tq_over_tb < 0 and "inversion" in big.note
    hot = fuel(FuelParams(model="thermal", omega=6.0, Tq=-3.0))
    assert hot.inverted and hot.tq_over_tb == pytest.approx(-3.0)
    half = fuel(FuelParams(model="state", pe=0.5))
    assert not half.inverted and half.tq_over_tb == math.inf and "infinite" in half.note
    flat = fuel(FuelParams(model="spin", N=4, omega=0.0, J=0.0))
    assert flat.pe == 0.5 and flat.tq_over_tb == math.inf


# ---------------------------------------------------------------- CLI
def _run_json(capsys, *argv):
    assert main(["fuel", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_cli_acceptance_json(capsys):
    base = ["--N", "10", "--omega", "6", "--J", "0.8", "--lam", "1"]
    star = _run_json(capsys, "--model", "star", *base)
    spin = _run_json(capsys, "--model", "spin", *base)
    assert {"model", "N", "pe", "Tq_over_Tb"} <= set(star)
    assert star["model"] == "star" and star["N"] == 10
    assert round(star["Tq_over_Tb"], 5) == 3.46693
    assert round(spin["Tq_over_Tb"], 5) == 3.50398


def test_cli_lists_ranges_and_infinite_temperature(capsys):
    rows = _run_json(capsys, "--N", "0,2..4", "--J", "0", "--omega", "0")
    assert [r["N"] for r in rows] == [0, 2, 3, 4]
    assert all(r["Tq_over_Tb"] is None and "infinite" in r["note"] for r in rows)
    rows = _run_json(capsys, "--N", "1..3", "--model", "spin")
    assert [r["N"] for r in rows] == [1, 2, 3] and all("note" not in r for r in rows)


def test_cli_text_table_notes_inversion(capsys):
    assert main(["fuel", "--N", "4,40", "--lam", "0.75"]) == 0
    out = capsys.readouterr().out
    assert "population inversion" in out and "Tq/Tb" in out


@pytest.mark.parametrize("bad", ["-1", "3..1", "1.5", "a,b", ""])
def test_cli_bad_n_is_a_clear_error(capsys, bad):
    assert main(["fuel", "--N", bad]) == 2
    assert "N must be integers >= 0" in capsys.readouterr().err
