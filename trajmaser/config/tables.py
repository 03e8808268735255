"""The ``[fuel]``, ``[cavity]``, ``[pump]`` and ``[run]`` tables -> frozen parameter objects.

Types are checked here and units converted (``Q`` -> κ = Omega/Q, ``Nex`` -> r = Nex·κ,
``theta`` -> g = Θ/(τ√Nex)); every physical rule comes from :mod:`trajmaser.rules`, its
message prefixed with the table.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

from trajmaser import fuel as fuel_registry
from trajmaser import pump as pump_registry
from trajmaser.config.values import choice, integer, is_real, number, prefixed
from trajmaser.params import (
    INITIAL_KINDS,
    METHODS,
    ConfigError,
    FuelParams,
    InitialField,
    RunParams,
)
from trajmaser.rules import check_cavity_rates, check_interaction_time, check_pump
from trajmaser.rules import check_run as check_run_rules

__all__ = [
    "KEYS",
    "SECTIONS",
    "CavityParams",
    "PumpParams",
    "read_cavity",
    "read_fuel",
    "read_pump",
    "read_run",
]

SECTIONS = ("fuel", "cavity", "pump", "run", "sweep")
KEYS = {
    "fuel": (
        "model",
        "omega",
        "Tb",
        *dict.fromkeys(k for m in fuel_registry.MODELS for k in (*m.needs, *m.optional)),
    ),  # fmt: skip
    "cavity": (
        "Omega",
        "Q",
        "kappa",
        "g",
        "theta",
        "gamma",
        "tau",
        "detuning",
        "nbar_bath",
        "initial",
    ),  # fmt: skip
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
    ),  # fmt: skip
}


@dataclass(frozen=True)
class CavityParams:
    """The ``[cavity]`` table with κ and g resolved (rates in 1/s, times in s).

    ``theta`` is the pump parameter Θ = gτ√Nex when the table gave it instead of g.
    """

    kappa: float
    g: float
    gamma: float
    tau: float
    Omega: float | None = None
    detuning: float = 0.0
    nbar_bath: float = 0.0
    initial: InitialField = field(default_factory=InitialField)
    theta: float | None = None


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


def read_fuel(t: dict) -> FuelParams:
    """The ``[fuel]`` table; keys the model does not use are errors."""
    model = choice(t, "fuel", "model", fuel_registry.NAMES)
    entry = fuel_registry.get(model)
    optional = {"model", "omega", "Tb", *entry.needs, *entry.optional}
    for key in t:
        if key not in optional:
            raise ConfigError(
                f"[fuel] {key} is not used by model {model!r}; "
                f"that model takes: {', '.join(sorted(optional))}"
            )
    kw = {"model": model, "omega": number(t, "fuel", "omega", lo=0.0, lo_open=True)}
    kw["Tb"] = number(t, "fuel", "Tb", 1.0)
    for key in (*entry.needs, *entry.optional):
        if key == "N":
            kw["N"] = integer(t, "fuel", "N")
        elif key == "coherence":
            c = t.get("coherence", [0.0, 0.0])
            if not (isinstance(c, list) and len(c) == 2 and all(is_real(x) for x in c)):
                raise ConfigError(f"[fuel] coherence must be [re, im] (two numbers), got {c!r}")
            kw["coherence"] = (float(c[0]), float(c[1]))
        else:
            kw[key] = number(t, "fuel", key)
    params = FuelParams(**kw)
    with prefixed("fuel"):
        fuel_registry.validate(params)
    return params


def _initial(v) -> InitialField:
    if not isinstance(v, str):
        raise ConfigError(f"[cavity] initial must be a string, got {v!r}")
    if v.endswith(".npy"):  # p(n) (1-D) or a density matrix (2-D), path relative to the cwd
        from trajmaser.references import load_initial

        return load_initial(v)
    kind, _, arg = v.partition(":")
    allowed = (
        "'thermal', 'vacuum', 'fock:N' (N >= 0 integer), 'coherent:ALPHA' (real) or a .npy "
        "file holding p(n) or a density matrix"
    )
    if kind not in INITIAL_KINDS[:4] or (kind in ("thermal", "vacuum")) == bool(arg):
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


def read_cavity(t: dict) -> CavityParams:
    """The ``[cavity]`` table; with ``theta`` the coupling g is resolved by :func:`read_pump`."""
    if ("Q" in t) == ("kappa" in t):
        raise ConfigError("[cavity] give exactly one of Q (with Omega; κ = Omega/Q) or kappa")
    if ("g" in t) == ("theta" in t):
        raise ConfigError("[cavity] give exactly one of g (rad/s) or theta (Θ = gτ√Nex)")
    omega_c = number(t, "cavity", "Omega", lo=0.0, lo_open=True) if "Omega" in t else None
    if "Q" in t:
        if omega_c is None:
            raise ConfigError("[cavity] Q needs Omega (rad/s) to give κ = Omega/Q")
        kappa = omega_c / number(t, "cavity", "Q", lo=0.0, lo_open=True)
    else:
        kappa = number(t, "cavity", "kappa")
    theta = number(t, "cavity", "theta") if "theta" in t else None
    cav = CavityParams(
        kappa=kappa,
        g=number(t, "cavity", "g") if theta is None else 0.0,
        gamma=number(t, "cavity", "gamma"),
        tau=number(t, "cavity", "tau"),
        Omega=omega_c,
        detuning=number(t, "cavity", "detuning", 0.0),
        nbar_bath=number(t, "cavity", "nbar_bath", 0.0),
        initial=_initial(t.get("initial", "thermal")),
        theta=theta,
    )
    with prefixed("cavity"):
        check_interaction_time(cav.tau)
        check_cavity_rates(cav.g, cav.gamma, cav.kappa, cav.nbar_bath, cav.detuning)
        if theta is not None and not theta >= 0:
            raise ConfigError(f"theta = {theta} is not allowed: it must be >= 0")
    return cav


def read_pump(t: dict, cav: CavityParams) -> tuple[PumpParams, CavityParams]:
    """The ``[pump]`` table, and the cavity with g resolved from Θ when it was given."""
    stats = choice(t, "pump", "statistics", pump_registry.NAMES, "regular")
    if ("Nex" in t) == ("rate" in t):
        raise ConfigError("[pump] give exactly one of Nex (r = Nex·κ) or rate (1/s)")
    if "Nex" in t:
        if cav.kappa == 0:
            raise ConfigError("[pump] Nex needs κ > 0 (r = Nex·κ); with κ = 0 give rate")
        rate = number(t, "pump", "Nex", lo=0.0, lo_open=True) * cav.kappa
    else:
        rate = number(t, "pump", "rate")
    own = [k.name for k in pump_registry.get(stats).keys]
    for key, users in pump_registry.keys().items():
        if key in t and key not in own:
            which = ", ".join(repr(u) for u in users)
            raise ConfigError(f"[pump] {key} is used only by statistics = {which}, not {stats!r}")
    params = {key: number(t, "pump", key) for key in own}
    with prefixed("pump"):
        check_pump(stats, rate, cav.tau, params, kappa=cav.kappa)
    if cav.theta is not None:
        if cav.kappa == 0:
            raise ConfigError("[cavity] theta needs κ > 0 (Θ = gτ√Nex, Nex = r/κ); give g")
        cav = replace(cav, g=cav.theta / (cav.tau * math.sqrt(rate / cav.kappa)))
    return PumpParams(statistics=stats, rate=rate, params=tuple(sorted(params.items()))), cav


def read_run(t: dict) -> RunParams:
    """The ``[run]`` table (defaults: :class:`~trajmaser.params.RunParams`, burn_in = atoms/2)."""
    d = RunParams()
    atoms = integer(t, "run", "atoms", d.atoms)
    nmax = t.get("nmax")
    run = RunParams(
        atoms=atoms,
        ntraj=integer(t, "run", "ntraj", d.ntraj),
        samples=integer(t, "run", "samples", min(d.samples, atoms)),
        burn_in=integer(t, "run", "burn_in", atoms // 2),
        seed=integer(t, "run", "seed", d.seed),
        method=choice(t, "run", "method", METHODS, d.method),
        block_size=integer(t, "run", "block_size", d.block_size),
        detector_efficiency=number(t, "run", "detector_efficiency", 1.0),
        nmax=None if nmax is None else integer(t, "run", "nmax"),
    )
    check_run_rules(run)
    return run
