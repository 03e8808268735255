"""TOML run configurations -> frozen parameter objects (SPEC §7).

Unknown keys, missing keys and physically impossible values raise :class:`ConfigError` with a
message naming the problem and what is allowed.  Units are converted here and nowhere else:
``Q`` -> κ = Omega / Q, ``Nex`` -> r = Nex · κ.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field, replace
from pathlib import Path

try:  # Python >= 3.11
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib

from trajmaser import pump as pump_registry
from trajmaser.params import (
    FUEL_MODELS,
    INITIAL_KINDS,
    METHODS,
    ConfigError,
    FuelParams,
    InitialField,
    Model,
    RunParams,
)
from trajmaser.rules import check_pump

SECTIONS = ("fuel", "cavity", "pump", "run", "sweep")
KEYS = {
    "fuel": ("model", "N", "omega", "J", "lam", "Tb", "Tq", "pe", "coherence"),
    "cavity": (
        "Omega",
        "Q",
        "kappa",
        "g",
        "gamma",
        "tau",
        "detuning",
        "nbar_bath",
        "initial",
    ),
    "pump": ("statistics", "Nex", "rate", *pump_registry.keys()),
    "run": (
        "atoms",
        "ntraj",
        "samples",
        "burn_in",
        "seed",
        "method",
        "block_size",
        "detector_efficiency",
        "nmax",
    ),
}
# keys a fuel model needs (beyond omega, which every model needs) and the ones it refuses
_FUEL_NEEDS = {
    "star": ("N", "J", "lam"),
    "spin": ("N", "J", "lam"),
    "thermal": ("Tq",),
    "state": ("pe",),
}


@dataclass(frozen=True)
class CavityParams:
    """The ``[cavity]`` table with κ resolved (rates in 1/s, times in s)."""

    kappa: float
    g: float
    gamma: float
    tau: float
    Omega: float | None = None
    detuning: float = 0.0
    nbar_bath: float = 0.0
    initial: InitialField = field(default_factory=InitialField)


@dataclass(frozen=True)
class PumpParams:
    """The ``[pump]`` table with the mean rate r resolved (1/s).

    ``params`` holds the statistics' own keys as sorted ``(key, value)`` pairs.
    """

    statistics: str
    rate: float
    params: tuple[tuple[str, float], ...] = ()

    @property
    def p(self) -> float:
        """The binomial slot probability (1 when not given)."""
        return dict(self.params).get("p", 1.0)


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
        """Every sweep point as ``({"section.key": value, ...}, Config)``; one point if no sweep."""
        if not self.sweep:
            return [({}, self)]
        names = [k for k, _ in self.sweep]
        points = []
        for values in itertools.product(*(v for _, v in self.sweep)):
            raw = {s: dict(t) for s, t in self.raw.items() if s != "sweep"}
            for name, value in zip(names, values, strict=True):
                sec, key = name.split(".")
                raw.setdefault(sec, {})[key] = value
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
        with path.open("rb") as fh:
            raw = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
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
    fuel = _fuel(raw["fuel"])
    cavity = _cavity(raw["cavity"])
    pump = _pump(raw["pump"], cavity)
    run = _run(raw.get("run", {}))
    sweep = _sweep(raw.get("sweep", {}))
    cfg = Config(fuel=fuel, cavity=cavity, pump=pump, run=run, sweep=sweep, raw=raw)
    if sweep:
        cfg.grid()  # every sweep point must be a valid configuration
    else:
        cfg.model()  # resolve the fuel now so a bad fuel fails at load time
    return cfg


# ------------------------------------------------------------------ tables
def _num(table: dict, sec: str, key: str, default=None, *, lo=None, lo_open=False, hi=None):
    """A finite real number from ``table[key]`` (or ``default``), range-checked."""
    if key not in table:
        if default is None:
            raise ConfigError(f"missing key {key!r} in [{sec}]")
        return default
    v = table[key]
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise ConfigError(f"[{sec}] {key} must be a finite number, got {v!r}")
    v = float(v)
    if lo is not None and (v < lo or (lo_open and v == lo)):
        op = ">" if lo_open else ">="
        raise ConfigError(f"[{sec}] {key} = {v} is not allowed: it must be {op} {lo}")
    if hi is not None and v > hi:
        raise ConfigError(f"[{sec}] {key} = {v} is not allowed: it must be <= {hi}")
    return v


def _int(table: dict, sec: str, key: str, default=None, *, lo=None):
    """An integer from ``table[key]`` (or ``default``), at least ``lo``."""
    if key not in table:
        if default is None:
            raise ConfigError(f"missing key {key!r} in [{sec}]")
        return default
    v = table[key]
    if isinstance(v, bool) or not isinstance(v, int):
        raise ConfigError(f"[{sec}] {key} must be an integer, got {v!r}")
    if lo is not None and v < lo:
        raise ConfigError(f"[{sec}] {key} = {v} is not allowed: it must be >= {lo}")
    return v


def _choice(table: dict, sec: str, key: str, allowed: tuple, default=None) -> str:
    v = table.get(key, default)
    if v is None:
        raise ConfigError(f"missing key {key!r} in [{sec}]; allowed: {', '.join(allowed)}")
    if v not in allowed:
        raise ConfigError(f"[{sec}] {key} = {v!r} is not allowed; allowed: {', '.join(allowed)}")
    return v


def _fuel(t: dict) -> FuelParams:
    model = _choice(t, "fuel", "model", FUEL_MODELS)
    needs = _FUEL_NEEDS[model]
    optional = {"model", "omega", "Tb", *needs, *(("coherence",) if model == "state" else ())}
    for key in t:
        if key not in optional:
            raise ConfigError(
                f"[fuel] {key} is not used by model {model!r}; "
                f"that model takes: {', '.join(sorted(optional))}"
            )
    kw = {"model": model, "omega": _num(t, "fuel", "omega", lo=0.0, lo_open=True)}
    kw["Tb"] = _num(t, "fuel", "Tb", 1.0, lo=0.0, lo_open=True)
    if model in ("star", "spin"):
        kw["N"] = _int(t, "fuel", "N", lo=0)
        kw["J"] = _num(t, "fuel", "J")
        kw["lam"] = _num(t, "fuel", "lam")
    elif model == "thermal":
        kw["Tq"] = _num(t, "fuel", "Tq")
        if kw["Tq"] == 0:
            raise ConfigError("[fuel] Tq = 0 is not allowed: use model 'state' with pe = 0")
    else:
        kw["pe"] = _num(t, "fuel", "pe", lo=0.0, hi=1.0)
        c = t.get("coherence", [0.0, 0.0])
        if not (isinstance(c, list) and len(c) == 2 and all(_is_real(x) for x in c)):
            raise ConfigError(f"[fuel] coherence must be [re, im] (two numbers), got {c!r}")
        pe = kw["pe"]
        if c[0] ** 2 + c[1] ** 2 > pe * (1 - pe) * (1 + 1e-12):
            raise ConfigError(
                f"[fuel] coherence {c} is too large: |⟨e|ρ0|g⟩|² must be <= pe(1−pe) = "
                f"{pe * (1 - pe):.6g} for a positive density matrix"
            )
        kw["coherence"] = (float(c[0]), float(c[1]))
    return FuelParams(**kw)


def _is_real(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _initial(v) -> InitialField:
    if not isinstance(v, str):
        raise ConfigError(f"[cavity] initial must be a string, got {v!r}")
    kind, _, arg = v.partition(":")
    allowed = "'thermal', 'vacuum', 'fock:N' (N >= 0 integer) or 'coherent:ALPHA' (real)"
    if kind not in INITIAL_KINDS or (kind in ("thermal", "vacuum")) == bool(arg):
        raise ConfigError(f"[cavity] initial = {v!r} is not allowed; allowed: {allowed}")
    if kind == "fock":
        if not arg.isdigit():
            raise ConfigError(f"[cavity] initial = {v!r}: N must be an integer >= 0")
        return InitialField("fock", float(int(arg)))
    if kind == "coherent":
        try:
            alpha = float(arg)
        except ValueError:
            raise ConfigError(f"[cavity] initial = {v!r}: ALPHA must be a real number") from None
        if not math.isfinite(alpha):
            raise ConfigError(f"[cavity] initial = {v!r}: ALPHA must be finite")
        return InitialField("coherent", alpha)
    return InitialField(kind)


def _cavity(t: dict) -> CavityParams:
    if ("Q" in t) == ("kappa" in t):
        raise ConfigError("[cavity] give exactly one of Q (with Omega; κ = Omega/Q) or kappa")
    omega_c = _num(t, "cavity", "Omega", lo=0.0, lo_open=True) if "Omega" in t else None
    if "Q" in t:
        if omega_c is None:
            raise ConfigError("[cavity] Q needs Omega (rad/s) to give κ = Omega/Q")
        kappa = omega_c / _num(t, "cavity", "Q", lo=0.0, lo_open=True)
    else:
        kappa = _num(t, "cavity", "kappa", lo=0.0)
    return CavityParams(
        kappa=kappa,
        g=_num(t, "cavity", "g", lo=0.0),
        gamma=_num(t, "cavity", "gamma", lo=0.0),
        tau=_num(t, "cavity", "tau", lo=0.0, lo_open=True),
        Omega=omega_c,
        detuning=_num(t, "cavity", "detuning", 0.0),
        nbar_bath=_num(t, "cavity", "nbar_bath", 0.0, lo=0.0),
        initial=_initial(t.get("initial", "thermal")),
    )


def _pump(t: dict, cav: CavityParams) -> PumpParams:
    stats = _choice(t, "pump", "statistics", pump_registry.NAMES, "regular")
    if ("Nex" in t) == ("rate" in t):
        raise ConfigError("[pump] give exactly one of Nex (r = Nex·κ) or rate (1/s)")
    if "Nex" in t:
        if cav.kappa == 0:
            raise ConfigError("[pump] Nex needs κ > 0 (r = Nex·κ); with κ = 0 give rate")
        rate = _num(t, "pump", "Nex", lo=0.0, lo_open=True) * cav.kappa
    else:
        rate = _num(t, "pump", "rate", lo=0.0, lo_open=True)
    own = [k.name for k in pump_registry.get(stats).keys]
    for key, users in pump_registry.keys().items():
        if key in t and key not in own:
            which = ", ".join(repr(u) for u in users)
            raise ConfigError(f"[pump] {key} is used only by statistics = {which}, not {stats!r}")
    params = {key: _num(t, "pump", key) for key in own}
    try:
        check_pump(stats, rate, cav.tau, params, kappa=cav.kappa)
    except ConfigError as exc:
        raise ConfigError(f"[pump] {exc}") from None
    return PumpParams(statistics=stats, rate=rate, params=tuple(sorted(params.items())))


def _run(t: dict) -> RunParams:
    d = RunParams()
    atoms = _int(t, "run", "atoms", d.atoms, lo=1)
    samples = _int(t, "run", "samples", min(d.samples, atoms), lo=1)
    if samples > atoms:
        raise ConfigError(f"[run] samples = {samples} must be <= atoms = {atoms}")
    burn_in = _int(t, "run", "burn_in", atoms // 2, lo=0)
    if burn_in >= atoms:
        raise ConfigError(f"[run] burn_in = {burn_in} must be < atoms = {atoms}")
    nmax = t.get("nmax")
    return RunParams(
        atoms=atoms,
        ntraj=_int(t, "run", "ntraj", d.ntraj, lo=1),
        samples=samples,
        burn_in=burn_in,
        seed=_int(t, "run", "seed", d.seed, lo=0),
        method=_choice(t, "run", "method", METHODS, d.method),
        block_size=_int(t, "run", "block_size", d.block_size, lo=1),
        detector_efficiency=_num(
            t, "run", "detector_efficiency", 1.0, lo=0.0, lo_open=True, hi=1.0
        ),
        nmax=None if nmax is None else _int(t, "run", "nmax", lo=1),
    )


def _sweep(t: dict) -> tuple:
    """``[sweep]`` entries: ``"section.key"`` or a unique bare key -> list or "a..b" range."""
    out = []
    for name, spec in t.items():
        full = _sweep_key(name)
        values = _sweep_values(name, spec)
        if not values:
            raise ConfigError(f"[sweep] {name} has no values")
        out.append((full, tuple(values)))
    return tuple(out)


def _sweep_key(name: str) -> str:
    if "." in name:
        sec, _, key = name.partition(".")
        if sec not in KEYS or key not in KEYS[sec]:
            raise ConfigError(f"[sweep] {name!r} is not a config key (use section.key)")
        return name
    owners = [s for s, keys in KEYS.items() if name in keys]
    if len(owners) != 1:
        raise ConfigError(f"[sweep] {name!r} must be written as section.key (e.g. fuel.N)")
    return f"{owners[0]}.{name}"


def _sweep_values(name: str, spec) -> list:
    if isinstance(spec, list):
        return spec
    if isinstance(spec, str) and ".." in spec:
        lo, _, hi = spec.partition("..")
        hi, _, step = hi.partition(":")
        try:
            if not step and lo.strip().lstrip("-").isdigit() and hi.strip().lstrip("-").isdigit():
                return list(range(int(lo), int(hi) + 1))
            a, b, s = float(lo), float(hi), float(step or 1.0)
        except ValueError:
            raise ConfigError(
                f"[sweep] {name} = {spec!r}: ranges are 'a..b' or 'a..b:step'"
            ) from None
        if s <= 0:
            raise ConfigError(f"[sweep] {name} = {spec!r}: step must be > 0")
        n = int(math.floor((b - a) / s + 1e-9)) + 1
        return [a + i * s for i in range(max(n, 0))]
    raise ConfigError(
        f"[sweep] {name} = {spec!r}: give a list of values, 'a..b' (integers) or 'a..b:step'"
    )


def with_run(cfg: Config, **changes) -> Config:
    """A copy of ``cfg`` with some ``[run]`` settings changed (e.g. ``ntraj``)."""
    return replace(cfg, run=replace(cfg.run, **changes))
