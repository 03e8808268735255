"""The one home of every validity rule of a model and a run.

Every entry point (TOML config, the Python API, the density-matrix solvers, the trajectory
kernels) calls these functions, so a rule is written once and its message is the same
everywhere.  Each raises :class:`~trajmaser.params.ConfigError` (a ``ValueError``) that says what
is wrong and what is allowed; the TOML reader puts the table in front (``[pump] ...``).

The rule that belongs to one pump statistics (e.g. binomial slots p/r ≥ τ) is written in that
statistics' module (:meth:`trajmaser.pump.PumpStatistics.check`) and called only from
:func:`check_pump`; imports flow params → pump → rules → fuel, config, dm, trajectories.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from trajmaser import pump
from trajmaser.params import METHODS, ConfigError, FuelParams, Model, RunParams

__all__ = [
    "check_atom_state",
    "check_bath_temperature",
    "check_cavity",
    "check_cavity_rates",
    "check_detector_efficiency",
    "check_finite",
    "check_fuel",
    "check_interaction_time",
    "check_model",
    "check_nonnegative",
    "check_pump",
    "check_pump_params",
    "check_run",
    "check_spin_count",
]


def _finite(name: str, value: float) -> None:
    if not math.isfinite(value):
        raise ConfigError(f"{name} must be a finite number, got {value!r}")


def check_pump(
    statistics: str,
    rate: float,
    tau: float,
    params: Mapping[str, float] | None = None,
    kappa: float = 0.0,
) -> None:
    """Check that the pump parameters describe non-overlapping atoms.

    Parameters
    ----------
    statistics : str
        A registered statistics (:data:`trajmaser.pump.NAMES`).
    rate, tau : float
        Mean rate r (1/s) and interaction time τ (s).
    params : mapping, optional
        The statistics' extra keys (e.g. ``{"p": 0.5}``); keys of other statistics are
        ignored, ``pump_values`` of a model can be passed as it is.
    kappa : float
        Cavity loss rate; when positive, the overlap message also gives the bound on Nex.

    Raises
    ------
    ConfigError
        If the statistics is unknown, the rate or τ is not positive and finite, if rτ ≥ 1
        (atoms would overlap), or the statistics' own rule fails (e.g. binomial: p in (0, 1]
        and slots p/r ≥ τ; jitter: 0 ≤ j ≤ 1 and (1 − j)/r ≥ τ).
    """
    entry = pump.get(statistics)
    if not (rate > 0 and math.isfinite(rate)):
        raise ConfigError(f"pump rate must be positive and finite, got {rate}")
    check_interaction_time(tau)
    if rate * tau >= 1.0:
        hint = f", Nex < {1.0 / (tau * kappa):.6g}" if kappa > 0 else ""
        raise ConfigError(
            f"atoms overlap: pump rate r = {rate:.6g}/s with tau = {tau:.6g} s gives "
            f"r·tau = {rate * tau:.6g}, but r·tau < 1 is required (r < {1.0 / tau:.6g}/s{hint})"
        )
    entry.check(rate, tau, entry.values(dict(params or {})))


def check_pump_params(statistics: str, params: Mapping[str, float]) -> None:
    """Check that every key of ``params`` is one that ``statistics`` uses.

    Raises
    ------
    ConfigError
        Naming the key, the statistics that use it and the keys ``statistics`` takes.
    """
    entry = pump.get(statistics)
    own = [k.name for k in entry.keys]
    users = pump.keys()
    for key in params:
        if key not in own:
            by = users.get(key)
            which = f"used only by statistics {', '.join(map(repr, by))}" if by else "unknown"
            takes = ", ".join(own) if own else "no extra keys"
            raise ConfigError(
                f"pump parameter {key!r} is {which}, not by {statistics!r} (it takes {takes})"
            )


def check_atom_state(pe: float, coherence: complex = 0j) -> None:
    """Check that ρ0 = [[pe, c], [c*, 1 − pe]] is a density matrix.

    Raises
    ------
    ConfigError
        If pe is outside [0, 1] or |c|² > pe(1 − pe).
    """
    c = complex(coherence)
    if not 0.0 <= pe <= 1.0:
        raise ConfigError(f"pe must be in [0, 1], got {pe}")
    if not (math.isfinite(c.real) and math.isfinite(c.imag)):
        raise ConfigError(f"atom coherence must be finite, got {c}")
    if abs(c) ** 2 > pe * (1.0 - pe) * (1.0 + 1e-12) + 1e-300:
        raise ConfigError(
            f"atom state is not positive: |coherence|^2 = {abs(c) ** 2:.6g} must be "
            f"<= pe(1-pe) = {pe * (1.0 - pe):.6g}"
        )


def check_interaction_time(tau: float) -> None:
    """Check 0 < τ < ∞.

    Raises
    ------
    ConfigError
        If τ is not positive and finite.
    """
    if not (tau > 0 and math.isfinite(tau)):
        raise ConfigError(f"interaction time tau must be positive and finite, got {tau}")


MAX_SPINS = 10_000_000
"""Largest number of outer spins of the central-spin fuels."""
MAX_INITIAL_PHOTONS = 1e6
"""Largest mean photon number of an initial cavity field."""


def check_cavity_rates(
    g: float, gamma: float, kappa: float, nbar_bath: float = 0.0, detuning: float = 0.0
) -> None:
    """Check g, γ, κ, n_b finite and ≥ 0 and the detuning finite.

    Raises
    ------
    ConfigError
        Naming the first bad value.
    """
    for name, value in (("g", g), ("gamma", gamma), ("kappa", kappa), ("nbar_bath", nbar_bath)):
        if not (math.isfinite(value) and value >= 0):
            raise ConfigError(f"{name} = {value} is not allowed: it must be finite and >= 0")
    _finite("detuning", detuning)


def check_cavity(model: Model) -> None:
    """:func:`check_cavity_rates` of a model, and its initial field's mean photon number at
    most `MAX_INITIAL_PHOTONS`.

    Raises
    ------
    ConfigError
        Naming the first bad value.
    """
    check_cavity_rates(model.g, model.gamma, model.kappa, model.nbar_bath, model.detuning)
    nbar = model.nbar_initial
    if not nbar <= MAX_INITIAL_PHOTONS:  # also NaN
        thermal = model.initial.kind == "thermal"
        where = f" (thermal at omega = {model.omega:.4g})" if thermal else ""
        raise ConfigError(
            f"[cavity] initial field{where} holds {nbar:.3g} photons on average, more than "
            f"the {MAX_INITIAL_PHOTONS:.0e} allowed (each photon's decay is drawn one by one): "
            "use a smaller field, or 'vacuum'"
        )


def check_finite(name: str, value) -> np.ndarray:
    """``value`` as a float array, checked finite.

    Raises
    ------
    ConfigError
        If an entry is not a finite number.
    """
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be finite, got {value!r}") from None
    if not np.all(np.isfinite(arr)):
        raise ConfigError(f"{name} must be finite, got {value!r}")
    return arr


def check_bath_temperature(tb) -> np.ndarray:
    """Tb as a float array, checked finite and > 0.

    Raises
    ------
    ConfigError
        If an entry is not finite or not positive.
    """
    arr = check_finite("Tb", tb)
    if np.any(arr <= 0):
        raise ConfigError(f"Tb must be > 0, got {tb!r}")
    return arr


def check_spin_count(n) -> np.ndarray:
    """The number of outer spins N as an int64 array, checked integer ≥ 0 and at most
    `MAX_SPINS`.

    Raises
    ------
    ConfigError
        If an entry is not a non-negative integer or too large.
    """
    arr = np.asarray(n)
    msg = f"N must be an integer >= 0 (number of outer spins), got {n!r}"
    if arr.dtype == bool or not (
        np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)
    ):
        raise ConfigError(msg)
    farr = arr.astype(float)
    if not np.all(np.isfinite(farr)) or np.any(farr < 0) or np.any(farr != np.round(farr)):
        raise ConfigError(msg)
    if np.any(farr > MAX_SPINS):
        raise ConfigError(
            f"N = {farr.max():.6g} outer spins is more than the {MAX_SPINS:,} allowed (the "
            "central-spin tables grow like N: about 64 MB per million spins)"
        )
    return farr.astype(np.int64)


def check_fuel(params: FuelParams, needs: tuple[str, ...]) -> None:
    """Every rule of a :class:`~trajmaser.params.FuelParams` whose model uses ``needs``.

    Tb must be finite and > 0 and omega finite; then by key: N an integer ≥ 0, J and lam
    finite, Tq nonzero (±inf allowed), pe with the coherence a density matrix.

    Raises
    ------
    ConfigError
        Naming the first bad value and what is allowed.
    """
    check_bath_temperature(params.Tb)
    check_finite("omega", params.omega)
    for key in needs:
        value = getattr(params, key)
        if key == "N":
            check_spin_count(value)
        elif key in ("J", "lam"):
            check_finite(key, value)
        elif key == "Tq" and (value is None or value == 0 or math.isnan(value)):
            raise ConfigError(
                f"model {params.model!r} needs Tq (in units of Tb): nonzero, ±inf allowed; "
                f"got {value!r}"
            )
        elif key == "pe":
            if value is None:
                raise ConfigError(f"model {params.model!r} needs pe in [0, 1]")
            check_atom_state(value, complex(*params.coherence))


def check_model(model: Model) -> None:
    """Every rule of a :class:`~trajmaser.params.Model`: pump, atom state and cavity.

    Raises
    ------
    ConfigError
        The first rule the model breaks.
    """
    check_pump_params(model.statistics, dict(model.pump_params))
    check_pump(model.statistics, model.rate, model.tau, model.pump_values, model.kappa)
    check_atom_state(model.pe, model.coherence)
    check_cavity(model)


def check_nonnegative(name: str, values) -> None:
    """Check that every entry of ``values`` (atom indices, times) is finite and >= 0.

    Raises
    ------
    ConfigError
        Naming ``name`` and the first bad value.
    """
    arr = np.asarray(values, dtype=float).ravel()
    bad = ~(np.isfinite(arr) & (arr >= 0))
    if bad.any():
        raise ConfigError(f"{name} must be finite and >= 0, got {arr[bad][0]!r}")


def check_detector_efficiency(eta: float) -> None:
    """Check 0 < η ≤ 1.

    Raises
    ------
    ConfigError
        If η is outside (0, 1].
    """
    if not 0.0 < eta <= 1.0:
        raise ConfigError(f"detector_efficiency must be in (0, 1], got {eta}")


def check_run(run: RunParams) -> None:
    """Every rule of a :class:`~trajmaser.params.RunParams`.

    Raises
    ------
    ConfigError
        If atoms, ntraj or block_size is below 1, samples is outside [1, atoms], burn_in is
        outside [0, atoms), the seed is negative, nmax (when given) is below 1, the method is
        unknown or the detector efficiency is outside (0, 1].
    """
    for name in ("atoms", "ntraj", "block_size", "samples"):
        if getattr(run, name) < 1:
            raise ConfigError(f"[run] {name} must be >= 1, got {getattr(run, name)}")
    if run.seed < 0:
        raise ConfigError(f"[run] seed must be >= 0, got {run.seed}")
    if run.nmax is not None and run.nmax < 1:
        raise ConfigError(f"[run] nmax must be >= 1, got {run.nmax}")
    if run.samples > run.atoms:
        raise ConfigError(f"[run] samples = {run.samples} must be <= atoms = {run.atoms}")
    if not 0 <= run.burn_in < run.atoms:
        raise ConfigError(f"[run] burn_in = {run.burn_in} must be in [0, atoms = {run.atoms})")
    if run.method not in METHODS:
        raise ConfigError(f"[run] unknown method {run.method!r}; allowed: {', '.join(METHODS)}")
    try:
        check_detector_efficiency(run.detector_efficiency)
    except ConfigError as exc:
        raise ConfigError(f"[run] {exc}") from None
