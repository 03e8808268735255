"""The ``[sweep]`` table and the one parser of ranges "a..b" (integers) and "a..b:step"."""

from __future__ import annotations

import math

from trajmaser.params import ConfigError

__all__ = ["EXCLUSIVE", "MAX_POINTS", "parse_range", "sweep_table"]

MAX_POINTS = 10_000
"""Largest number of points of a ``[sweep]`` grid (each point is validated on loading, about
2 ms a point)."""

# keys that replace each other: sweeping one removes the other from the swept table
EXCLUSIVE = {
    "cavity.g": "theta",
    "cavity.theta": "g",
    "pump.Nex": "rate",
    "pump.rate": "Nex",
}


def parse_range(spec: str, limit: int | None = None) -> list:
    """Values of an inclusive range: ``"a..b"`` with integers a ≤ b gives a, a+1, …, b;
    ``"a..b:step"`` (or non-integer ends) gives a, a + step, … ≤ b (floats).

    Raises
    ------
    ValueError
        If ``spec`` is not such a range, the step is not positive, the range is empty or
        it has more than ``limit`` values.
    """
    allowed = "ranges are 'a..b' (integers) or 'a..b:step'"
    lo, sep, hi = spec.partition("..")
    if not sep:
        raise ValueError(f"{spec!r}: {allowed}")
    hi, _, step = hi.partition(":")
    try:
        if not step and lo.strip().lstrip("-").isdigit() and hi.strip().lstrip("-").isdigit():
            n = int(hi) - int(lo) + 1
            _check_count(spec, n, limit)
            values = list(range(int(lo), int(hi) + 1))
        else:
            a, b, s = float(lo), float(hi), float(step or 1.0)
            if not s > 0:
                raise ValueError(f"{spec!r}: step must be > 0")
            n = int(math.floor((b - a) / s + 1e-9)) + 1
            _check_count(spec, n, limit)
            values = [a + i * s for i in range(max(n, 0))]
    except ValueError as exc:
        known = "step" in str(exc) or "values" in str(exc)
        raise ValueError(str(exc) if known else f"{spec!r}: {allowed}") from None
    if not values:
        raise ValueError(f"{spec!r}: the range is empty (the end is below the start)")
    return values


def _check_count(spec: str, n: int, limit: int | None) -> None:
    if limit is not None and n > limit:
        raise ValueError(f"{spec!r} has {n:,} values, more than the {limit:,} allowed")


def sweep_table(t: dict, keys: dict[str, tuple]) -> tuple:
    """``[sweep]`` entries as ``(("section.key", values), ...)`` in file order.

    Each entry is ``"section.key"`` or a bare key that only one table has, with a list of
    values or a range string (:func:`parse_range`); the grid has at most `MAX_POINTS` points.
    """
    if not isinstance(t, dict):
        raise ConfigError(
            f"sweep = {t!r} is not allowed: [sweep] is a table of section.key = values "
            "(a list, 'a..b' or 'a..b:step')"
        )
    out = []
    points = 1
    for name, spec in t.items():
        full = _sweep_key(name, keys)
        values = _sweep_values(name, spec)
        if not values:
            raise ConfigError(f"[sweep] {name} has no values")
        out.append((full, tuple(values)))
        points *= len(values)
    if points > MAX_POINTS:
        raise ConfigError(
            f"[sweep] has {points:,} points, more than the {MAX_POINTS:,} allowed: split it "
            "into several runs or use coarser steps"
        )
    return tuple(out)


def _sweep_key(name: str, keys: dict[str, tuple]) -> str:
    if "." in name:
        sec, _, key = name.partition(".")
        if sec not in keys or key not in keys[sec]:
            raise ConfigError(f"[sweep] {name!r} is not a config key (use section.key)")
        return name
    owners = [s for s, ks in keys.items() if name in ks]
    if len(owners) != 1:
        raise ConfigError(f"[sweep] {name!r} must be written as section.key (e.g. fuel.N)")
    return f"{owners[0]}.{name}"


def _sweep_values(name: str, spec) -> list:
    if isinstance(spec, list):
        return spec
    if isinstance(spec, str) and ".." in spec:
        try:
            return parse_range(spec, limit=MAX_POINTS)
        except ValueError as exc:
            raise ConfigError(f"[sweep] {name} = {exc}") from None
    raise ConfigError(
        f"[sweep] {name} = {spec!r}: give a list of values, 'a..b' (integers) or 'a..b:step'"
    )
