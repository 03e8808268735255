"""Typed reads of TOML values; each error names the table and the key."""

from __future__ import annotations

import math

from trajmaser.params import ConfigError

__all__ = ["choice", "integer", "is_real", "number", "prefixed"]


def is_real(x) -> bool:
    """True for a finite int or float (not a bool)."""
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def number(table: dict, sec: str, key: str, default=None, *, lo=None, lo_open=False, hi=None):
    """A finite real number from ``table[key]`` (or ``default``), optionally range-checked."""
    if key not in table:
        if default is None:
            raise ConfigError(f"missing key {key!r} in [{sec}]")
        return default
    v = table[key]
    if not is_real(v):
        raise ConfigError(f"[{sec}] {key} must be a finite number, got {v!r}")
    v = float(v)
    if lo is not None and (v < lo or (lo_open and v == lo)):
        op = ">" if lo_open else ">="
        raise ConfigError(f"[{sec}] {key} = {v} is not allowed: it must be {op} {lo}")
    if hi is not None and v > hi:
        raise ConfigError(f"[{sec}] {key} = {v} is not allowed: it must be <= {hi}")
    return v


def integer(table: dict, sec: str, key: str, default=None):
    """An integer from ``table[key]`` (or ``default``)."""
    if key not in table:
        if default is None:
            raise ConfigError(f"missing key {key!r} in [{sec}]")
        return default
    v = table[key]
    if isinstance(v, bool) or not isinstance(v, int):
        raise ConfigError(f"[{sec}] {key} must be an integer, got {v!r}")
    return v


def choice(table: dict, sec: str, key: str, allowed: tuple, default=None) -> str:
    """One of ``allowed`` from ``table[key]`` (or ``default``)."""
    v = table.get(key, default)
    if v is None:
        raise ConfigError(f"missing key {key!r} in [{sec}]; allowed: {', '.join(allowed)}")
    if v not in allowed:
        raise ConfigError(f"[{sec}] {key} = {v!r} is not allowed; allowed: {', '.join(allowed)}")
    return v


class prefixed:
    """Context manager: re-raise a ConfigError with ``"[sec] "`` (and a note) in front."""

    def __init__(self, sec: str, note: str = ""):
        self.sec, self.note = sec, note

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        if kind is not None and issubclass(kind, ConfigError):
            msg = str(exc)
            if not msg.startswith("["):
                msg = f"[{self.sec}] {msg}"
            raise ConfigError(msg + self.note) from None
        return False
