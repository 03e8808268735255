"""Density-matrix reference solvers: diagonal fast path, general path, Poisson series, atoms."""

from trajmaser.dm.diagonal import (
    arrival_series,
    atom_maps,
    coarse_grained,
    fjm_distribution,
    gap_generator,
    initial_distribution,
    interaction_generator,
    photon_stats,
    steady,
    time_series,
    transient,
)

__all__ = [
    "arrival_series",
    "atom_maps",
    "coarse_grained",
    "fjm_distribution",
    "gap_generator",
    "initial_distribution",
    "interaction_generator",
    "photon_stats",
    "steady",
    "time_series",
    "transient",
]
