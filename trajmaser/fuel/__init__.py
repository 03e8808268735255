"""Fuel: the atoms' state before they enter, from a registry of models (see :mod:`.base`).

``star`` and ``spin`` are the thermal central spin of a spin-star network or of a spin-S
model (exact block sums, :mod:`.central_spin`); ``thermal`` and ``state`` give the atom state
directly.
"""

from __future__ import annotations

from trajmaser.fuel.base import FuelModel, FuelResult, temperature_note
from trajmaser.fuel.central_spin import fuel_log_ratio, fuel_pe, fuel_tq, tq_from_log_ratio
from trajmaser.fuel.registry import MODELS, NAMES, get
from trajmaser.params import FuelParams
from trajmaser.rules import check_fuel

__all__ = [
    "MODELS",
    "NAMES",
    "FuelModel",
    "FuelResult",
    "fuel",
    "fuel_log_ratio",
    "fuel_pe",
    "fuel_tq",
    "get",
    "temperature_note",
    "tq_from_log_ratio",
    "validate",
]


def validate(params: FuelParams) -> None:
    """Check ``params`` against its model's keys (:func:`trajmaser.rules.check_fuel`).

    Raises
    ------
    ConfigError
        Unknown model or a value its rule refuses.
    """
    check_fuel(params, get(params.model).needs)


def fuel(params: FuelParams) -> FuelResult:
    """Central-spin state for a :class:`~trajmaser.params.FuelParams` of any model.

    ``star``/``spin`` use N, omega, J, lam, Tb; ``thermal`` uses omega and Tq (in units of Tb;
    negative Tq means an inverted atom); ``state`` uses pe (and coherence).  pe >= 1/2 is
    reported (``inverted``, ``note``), never an error.

    Raises
    ------
    ConfigError
        Unknown model or invalid values (the message names what is allowed).
    """
    validate(params)
    return get(params.model).resolve(params)
