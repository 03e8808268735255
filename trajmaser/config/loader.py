"""TOML run configurations -> a validated :class:`Config` (tables in :mod:`.tables`).

Unknown tables and keys, missing keys and physically impossible values raise
:class:`~trajmaser.params.ConfigError` with a message naming the problem and what is allowed.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace
from pathlib import Path

try:  # Python >= 3.11
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib

from trajmaser.config.sweep import EXCLUSIVE, sweep_table
from trajmaser.config.tables import (
    KEYS,
    SECTIONS,
    CavityParams,
    PumpParams,
    read_cavity,
    read_fuel,
    read_pump,
    read_run,
)
from trajmaser.params import ConfigError, FuelParams, Model, RunParams

__all__ = ["Config", "config_from_dict", "load_config", "with_run"]


@dataclass(frozen=True)
class Config:
    """A validated run configuration.

    Attributes
    ----------
    fuel, cavity, pump, run
        The four tables as frozen parameter objects.
    sweep : tuple of (str, tuple)
        Swept keys (``"section.key"``) and their values, in file order.
    raw : dict
        The parsed TOML, kept for result metadata.
    """

    fuel: FuelParams
    cavity: CavityParams
    pump: PumpParams
    run: RunParams
    sweep: tuple = ()
    raw: dict = field(default_factory=dict, compare=False, hash=False)

    def model(self) -> Model:
        """The physical model: the fuel resolved to the atom state ρ0."""
        from trajmaser.fuel import fuel as resolve_fuel

        res = resolve_fuel(self.fuel)
        c = self.fuel.coherence if self.fuel.model == "state" else (0.0, 0.0)
        return Model(
            pe=float(res.pe),
            coherence=complex(c[0], c[1]),
            omega=self.fuel.omega / self.fuel.Tb,
            g=self.cavity.g,
            gamma=self.cavity.gamma,
            kappa=self.cavity.kappa,
            tau=self.cavity.tau,
            rate=self.pump.rate,
            detuning=self.cavity.detuning,
            nbar_bath=self.cavity.nbar_bath,
            initial=self.cavity.initial,
            statistics=self.pump.statistics,
            pump_params=self.pump.params,
        )

    def grid(self) -> list[tuple[dict, Config]]:
        """Every sweep point as ``({"section.key": value, ...}, Config)``; one point if no sweep.

        A swept key replaces its alternative at each point (``cavity.theta`` removes ``g``,
        ``pump.Nex`` removes ``rate`` and the reverse).
        """
        if not self.sweep:
            return [({}, self)]
        names = [k for k, _ in self.sweep]
        points = []
        for values in itertools.product(*(v for _, v in self.sweep)):
            raw = {s: dict(t) for s, t in self.raw.items() if s != "sweep"}
            for name, value in zip(names, values, strict=True):
                sec, key = name.split(".")
                raw.setdefault(sec, {})[key] = value
                if name in EXCLUSIVE and EXCLUSIVE[name] not in (k.split(".")[1] for k in names):
                    raw[sec].pop(EXCLUSIVE[name], None)
            labels = dict(zip(names, values, strict=True))
            try:
                cfg = config_from_dict(raw)
                cfg.model()
            except (ConfigError, ValueError) as exc:
                where = ", ".join(f"{k} = {v!r}" for k, v in labels.items())
                raise ConfigError(f"[sweep] point {where}: {exc}") from None
            points.append((labels, cfg))
        return points


def load_config(path: str | Path) -> Config:
    """Read and validate a TOML configuration file."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"configuration file {str(path)!r} not found")
    try:
        text = path.read_bytes().decode("utf-8-sig")  # a byte-order mark is not TOML's business
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path}: not a UTF-8 text file ({exc.reason} at byte {exc.start})"
        ) from None
    try:
        return config_from_dict(raw)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None


def config_from_dict(raw: dict) -> Config:
    """Validate a parsed TOML mapping (as from :func:`load_config`) into a :class:`Config`."""
    for sec in raw:
        if sec not in SECTIONS:
            raise ConfigError(f"unknown table [{sec}]; allowed tables: {', '.join(SECTIONS)}")
    for sec in ("fuel", "cavity", "pump"):
        if sec not in raw:
            raise ConfigError(f"missing table [{sec}]")
    for sec, keys in KEYS.items():
        table = raw.get(sec, {})
        if not isinstance(table, dict):
            raise ConfigError(f"[{sec}] must be a table")
        for key in table:
            if key not in keys:
                raise ConfigError(f"unknown key {key!r} in [{sec}]; valid keys: {', '.join(keys)}")
    fuel = read_fuel(raw["fuel"])
    pump, cavity = read_pump(raw["pump"], read_cavity(raw["cavity"]))
    run = read_run(raw.get("run", {}))
    sweep = sweep_table(raw.get("sweep", {}), KEYS)
    cfg = Config(fuel=fuel, cavity=cavity, pump=pump, run=run, sweep=sweep, raw=raw)
    if sweep:
        cfg.grid()  # every sweep point must be a valid configuration
    else:
        cfg.model()  # resolve the fuel now so a bad fuel fails at load time
    return cfg


def with_run(cfg: Config, **changes) -> Config:
    """A copy of ``cfg`` with some ``[run]`` settings changed (e.g. ``ntraj``)."""
    return replace(cfg, run=replace(cfg.run, **changes))
