"""The registered fuel models.  A new model is one module plus one line here."""

from __future__ import annotations

from trajmaser.fuel import spin, star, state, thermal
from trajmaser.fuel.base import FuelModel
from trajmaser.params import ConfigError

__all__ = ["MODELS", "NAMES", "get"]

MODELS: tuple[FuelModel, ...] = (star.MODEL, spin.MODEL, thermal.MODEL, state.MODEL)
NAMES = tuple(m.name for m in MODELS)
_BY_NAME = {m.name: m for m in MODELS}


def get(name: str) -> FuelModel:
    """The fuel model called ``name``.

    Raises
    ------
    ConfigError
        If no model has that name (the message lists the allowed ones).
    """
    try:
        return _BY_NAME[name]
    except (KeyError, TypeError):
        raise ConfigError(f"unknown fuel model {name!r}; allowed: {', '.join(NAMES)}") from None
