"""Shared test data: the paper's configuration as TOML text and as a dict, small run sizes,
and small `Model` cases.  Test files import from here instead of repeating them.

The physics tables are the paper's Fig. 3 case (star fuel N = 10, λ = 1, ω/Tb = 6,
J/Tb = 0.8; Ω/2π = 50 GHz, Q = 2e10, g = π·50 kHz, γ/2π = 33.3 Hz, τ = 9.5 µs; regular
pumping, Nex = 6500), as in ``runs/quick.toml``; only ``[run]`` differs between tests.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping

from trajmaser.params import InitialField, Model

PAPER: dict[str, dict] = {
    "fuel": {"model": "star", "N": 10, "omega": 6.0, "J": 0.8, "lam": 1.0},
    "cavity": {
        "Omega": 314159265358.9793,  # 2π·50e9 rad/s
        "Q": 2e10,
        "g": 157079.63267948966,  # π·50e3 rad/s
        "gamma": 209.2300707290802,  # 2π·33.3 rad/s
        "tau": 9.5e-6,
        "initial": "thermal",
    },
    "pump": {"statistics": "regular", "Nex": 6500},
}
"""The paper's physics tables (no ``[run]``)."""

SMALL_RUN = {"atoms": 300, "ntraj": 60, "block_size": 10, "samples": 10, "burn_in": 150,
             "seed": 4242}  # fmt: skip
"""A run of a few hundred thousand passages (well under a second)."""

LONG_RUN = {"atoms": 300, "ntraj": 160000, "block_size": 2000, "samples": 10, "burn_in": 150,
            "seed": 77}  # fmt: skip
"""48 million passages in 80 blocks: a few seconds, long enough to be interrupted mid-run."""


def paper_raw(run: Mapping | None = None, *, sweep: Mapping | None = None, **changes) -> dict:
    """The paper's configuration as a dict (for `config_from_dict`).

    ``run`` is the ``[run]`` table (default `SMALL_RUN`); ``changes`` are ``"table.key"``
    overrides with dots written as double underscores (``fuel__N=4``, ``pump__Nex=500``).
    """
    raw = copy.deepcopy(PAPER)
    raw["run"] = dict(SMALL_RUN if run is None else run)
    for name, value in changes.items():
        table, key = name.split("__")
        raw[table][key] = value
    if sweep:
        raw["sweep"] = dict(sweep)
    return raw


def paper_toml(run: Mapping | None = None, *, sweep: Mapping | None = None, **changes) -> str:
    """`paper_raw` written as TOML text (what ``trajmaser run`` reads)."""
    raw = paper_raw(run, sweep=sweep, **changes)
    lines = []
    for table, entries in raw.items():
        lines.append(f"[{table}]")
        for key, value in entries.items():
            name = f'"{key}"' if "." in key else key
            lines.append(f"{name} = {_toml(value)}")
        lines.append("")
    return "\n".join(lines)


def _toml(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return repr(value)


#: Small models with short, lossy dynamics (units where τ = 1), one per pump statistics.
MODELS: dict[str, Model] = {
    "regular": Model(pe=0.4, omega=1.0, g=1.2, gamma=0.3, kappa=0.4, tau=1.0, rate=0.5),
    "poisson": Model(
        pe=0.3,
        omega=1.0,
        g=0.9,
        gamma=0.8,
        kappa=0.2,
        tau=1.0,
        rate=0.4,
        statistics="poisson",
        nbar_bath=0.3,
        detuning=0.5,
        initial=InitialField("fock", 2),
    ),  # fmt: skip
    "binomial": Model(
        pe=0.6,
        omega=1.0,
        g=1.5,
        gamma=0.1,
        kappa=1.0,
        tau=1.0,
        rate=0.5,
        statistics="binomial",
        p=0.7,
        initial=InitialField("vacuum"),
    ),  # fmt: skip
}
