"""The registered pump statistics.  A new statistics is one module plus one line here.

The position in :data:`STATISTICS` is the integer code the numba kernels dispatch on.
"""

from __future__ import annotations

from trajmaser.params import ConfigError
from trajmaser.pump import binomial, jitter, poisson, regular
from trajmaser.pump.base import PumpStatistics

__all__ = ["NAMES", "STATISTICS", "get", "keys", "statistics_code"]

STATISTICS: tuple[PumpStatistics, ...] = (
    regular.STATISTICS,
    poisson.STATISTICS,
    binomial.STATISTICS,
    jitter.STATISTICS,
)
for _code, _entry in enumerate(STATISTICS):
    _entry.code = _code
NAMES = tuple(s.name for s in STATISTICS)
_BY_NAME = {s.name: s for s in STATISTICS}


def get(name: str) -> PumpStatistics:
    """The statistics called ``name``.

    Raises
    ------
    ConfigError
        If no statistics has that name (the message lists the allowed ones).
    """
    try:
        return _BY_NAME[name]
    except (KeyError, TypeError):
        raise ConfigError(
            f"unknown pump statistics {name!r}; allowed: {', '.join(NAMES)}"
        ) from None


def statistics_code(name: str) -> int:
    """Integer code of a statistics for the numba kernels."""
    return get(name).code


def keys() -> dict[str, tuple[str, ...]]:
    """Every extra ``[pump]`` key and the statistics that use it."""
    out: dict[str, tuple[str, ...]] = {}
    for s in STATISTICS:
        for k in s.keys:
            out[k.name] = (*out.get(k.name, ()), s.name)
    return out
