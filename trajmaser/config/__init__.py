"""TOML run configurations -> validated frozen parameter objects."""

from trajmaser.config.loader import (
    KEYS,
    SECTIONS,
    CavityParams,
    Config,
    PumpParams,
    config_from_dict,
    load_config,
    with_run,
)

__all__ = [
    "KEYS",
    "SECTIONS",
    "CavityParams",
    "Config",
    "PumpParams",
    "config_from_dict",
    "load_config",
    "with_run",
]
