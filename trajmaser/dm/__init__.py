"""Exact density-matrix references (the public entry points live in :mod:`.solve`).

Modules: ``solve`` (validate, choose path and cut-off), ``diagonal`` / ``populations``
(diagonal path on p(n)), ``general`` / ``sectors`` (general path on ρ_c), ``poisson`` (Poisson
delay-equation series), ``atomstats`` (detected-atom statistics), ``analytic`` (coarse-grained
and FJM references), ``photons``, ``initial``, ``cutoff`` (shared helpers).  The pump-averaged
gap maps come from the statistics in :mod:`trajmaser.pump`.
"""

from trajmaser.dm.analytic import coarse_grained, fjm_distribution
from trajmaser.dm.cutoff import NMAX_LIMIT
from trajmaser.dm.diagonal import pump_maps
from trajmaser.dm.initial import initial_density, initial_distribution
from trajmaser.dm.photons import photon_stats
from trajmaser.dm.populations import atom_maps, gap_generator, interaction_generator
from trajmaser.dm.solve import arrival_series, steady, time_series, transient

__all__ = [
    "NMAX_LIMIT",
    "arrival_series",
    "atom_maps",
    "coarse_grained",
    "fjm_distribution",
    "gap_generator",
    "initial_density",
    "initial_distribution",
    "interaction_generator",
    "photon_stats",
    "pump_maps",
    "steady",
    "time_series",
    "transient",
]
