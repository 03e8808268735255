"""TOML run configurations -> validated frozen parameter objects.

``loader`` (Config, load_config), ``tables`` (one reader per table), ``sweep`` ([sweep] and
the one range parser), ``values`` (typed reads).
"""

from trajmaser.config.loader import Config, config_from_dict, load_config, with_run
from trajmaser.config.sweep import parse_range
from trajmaser.config.tables import KEYS, SECTIONS, CavityParams, PumpParams

__all__ = [
    "KEYS",
    "SECTIONS",
    "CavityParams",
    "Config",
    "PumpParams",
    "config_from_dict",
    "load_config",
    "parse_range",
    "with_run",
]
