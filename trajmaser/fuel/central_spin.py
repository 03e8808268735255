"""Thermal central-spin fuel: excited population pe and temperature Tq (docs/PHYSICS.md).

Two fuels are modelled, both exactly:

* ``"spin"``: the central spin-1/2 coupled to one spin S = N/2,
  H = (ω/2)σ0z + ω Sz + (J/2)(σ0x Sx + σ0y Sy + λ σ0z Sz);
* ``"star"``: the central spin coupled to N outer spins-1/2,
  H = (ω/2)Σ_{i=0..N} σiz + (J/4)Σ_{i=1..N}(σ0x σix + σ0y σiy + λ σ0z σiz).

The exact block sums are in :mod:`trajmaser.fuel.spin_blocks`.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit

from trajmaser.fuel.spin_blocks import log_ratio
from trajmaser.params import ConfigError
from trajmaser.rules import check_bath_temperature, check_finite, check_spin_count

__all__ = ["SPIN_MODELS", "fuel_log_ratio", "fuel_pe", "fuel_tq", "tq_from_log_ratio"]

SPIN_MODELS = ("star", "spin")


#: Largest |omega/Tb| and |J/Tb| (their squares must stay finite in the block solution).
RATIO_MAX = 1e150


def fuel_log_ratio(model: str, N, omega, J, lam, Tb=1.0) -> np.ndarray:
    """ln(pe/(1−pe)) of the central spin, exact, broadcasting over all numeric arguments.

    Parameters
    ----------
    model : {"star", "spin"}
        Spin-star with N outer spins-1/2, or one spin S = N/2.
    N : int or array_like of int
        Number of outer spins, >= 0.
    omega, J, lam : float or array_like
        Bohr frequency, coupling and anisotropy λ; omega and J in the units of Tb.
    Tb : float or array_like, optional
        Bath temperature (> 0); β = 1/Tb.

    Returns
    -------
    numpy.ndarray
        ln(pe/pg) with the broadcast shape of the inputs (0-d for scalars).
    """
    if model not in SPIN_MODELS:
        raise ConfigError(f"unknown fuel model {model!r}; allowed: {', '.join(SPIN_MODELS)}")
    N = check_spin_count(N)
    omega, J, lam = (check_finite(k, v) for k, v in (("omega", omega), ("J", J), ("lam", lam)))
    Tb = check_bath_temperature(Tb)
    Nb, wb, Jb, lb, Tbb = np.broadcast_arrays(N, omega, J, lam, Tb)
    for name, x in (("omega", wb), ("J", Jb)):
        with np.errstate(over="ignore"):
            ratio = np.abs(x / Tbb)
        if np.any(ratio > RATIO_MAX):
            raise ConfigError(
                f"{name}/Tb = {float(np.max(ratio)):.3g} is beyond the fuel's range: |{name}/Tb| "
                f"must be <= {RATIO_MAX:g} (energies in units of the bath temperature Tb)"
            )
    out = np.empty(Nb.shape)
    cache: dict[tuple, float] = {}
    for i in np.ndindex(Nb.shape):
        key = (int(Nb[i]), float(wb[i] / Tbb[i]), float(Jb[i] / Tbb[i]), float(lb[i]))
        if key not in cache:
            cache[key] = log_ratio(model, *key)
        out[i] = cache[key]
    return out


def fuel_pe(model: str, N, omega, J, lam, Tb=1.0) -> np.ndarray:
    """Excited population pe of the central spin in the thermal state at Tb (exact).

    Parameters
    ----------
    model : {"star", "spin"}
        Spin-star with N outer spins-1/2, or one spin S = N/2 (S may be half-integer).
    N : int or array_like of int
        Number of outer spins, >= 0.
    omega, J, lam : float or array_like
        Bohr frequency, coupling and anisotropy λ; omega and J in the units of Tb.
    Tb : float or array_like, optional
        Bath temperature (> 0); β = 1/Tb.

    Returns
    -------
    numpy.ndarray
        pe with the broadcast shape of the inputs (0-d for scalars).

    Raises
    ------
    ValueError
        Unknown model, N negative or fractional, Tb <= 0, or a non-finite number.
    """
    return expit(fuel_log_ratio(model, N, omega, J, lam, Tb))


def tq_from_log_ratio(log_ratio, omega_over_tb) -> np.ndarray:
    """Tq/Tb = −(ω/Tb)/ln(pe/pg): ``inf`` when pe = 1/2, negative when pe > 1/2."""
    x = np.asarray(log_ratio, dtype=float)
    w = np.asarray(omega_over_tb, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x == 0, np.inf, -w / np.where(x == 0, 1.0, x))


def fuel_tq(model: str, N, omega, J, lam, Tb=1.0) -> np.ndarray:
    """Central-spin temperature Tq/Tb = −(ω/Tb)/ln(pe/(1−pe)), broadcasting like `fuel_pe`.

    Returns ``inf`` at pe = 1/2 and a negative number when the populations are inverted
    (pe > 1/2).  Computed from ln(pe/pg) directly, so it stays accurate for tiny pe.
    """
    x = fuel_log_ratio(model, N, omega, J, lam, Tb)
    return tq_from_log_ratio(x, np.asarray(omega, float) / np.asarray(Tb, float))
