"""Arrival processes of the pump atoms."""

from trajmaser.pump.processes import (
    BINOMIAL,
    POISSON,
    REGULAR,
    arrival_times,
    first_arrival,
    intervals,
    mean_rate,
    next_arrival,
    slot_length,
    statistics_code,
    validate_pump,
)

__all__ = [
    "BINOMIAL",
    "POISSON",
    "REGULAR",
    "arrival_times",
    "first_arrival",
    "intervals",
    "mean_rate",
    "next_arrival",
    "slot_length",
    "statistics_code",
    "validate_pump",
]
