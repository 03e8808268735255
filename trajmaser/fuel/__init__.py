"""Fuel: the thermal central spin of a spin-star network (or a spin-S model) feeding the maser."""

from trajmaser.fuel.central_spin import (
    FuelResult,
    fuel,
    fuel_log_ratio,
    fuel_pe,
    fuel_tq,
    temperature_note,
    tq_from_log_ratio,
)

__all__ = [
    "FuelResult",
    "fuel",
    "fuel_log_ratio",
    "fuel_pe",
    "fuel_tq",
    "temperature_note",
    "tq_from_log_ratio",
]
