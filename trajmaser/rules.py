"""The one home of every validity rule of a model and a run.

Every entry point (TOML config, the Python API, the density-matrix solvers, the trajectory
kernels) calls these functions, so a rule is written once and its message is the same
everywhere.  Each raises :class:`~trajmaser.params.ConfigError` (a ``ValueError``) that says what
is wrong and what is allowed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from trajmaser import pump
from trajmaser.params import METHODS, ConfigError, Model, RunParams

__all__ = [
    "check_atom_state",
    "check_cavity",
    "check_detector_efficiency",
    "check_model",
    "check_nonnegative",
    "check_pump",
    "check_pump_params",
    "check_run",
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
    if not (tau > 0 and math.isfinite(tau)):
        raise ConfigError(f"interaction time tau must be positive and finite, got {tau}")
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
        raise ConfigError(f"pe must lie in [0, 1], got {pe}")
    if not (math.isfinite(c.real) and math.isfinite(c.imag)):
        raise ConfigError(f"atom coherence must be finite, got {c}")
    if abs(c) ** 2 > pe * (1.0 - pe) * (1.0 + 1e-12) + 1e-300:
        raise ConfigError(
            f"atom state is not positive: |coherence|^2 = {abs(c) ** 2:.6g} must be "
            f"<= pe(1-pe) = {pe * (1.0 - pe):.6g}"
        )


def check_cavity(model: Model) -> None:
    """Check the cavity rates: g, γ, κ, n_b finite and ≥ 0, detuning finite.

    Raises
    ------
    ConfigError
        If a rate is negative or not finite.
    """
    for name in ("g", "gamma", "kappa", "nbar_bath", "detuning"):
        _finite(name, getattr(model, name))
    if model.kappa < 0 or model.gamma < 0 or model.nbar_bath < 0:
        raise ConfigError("kappa, gamma and nbar_bath must be >= 0")
    if model.g < 0:
        raise ConfigError(f"g must be >= 0, got {model.g}")


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
        outside [0, atoms), the method is unknown or the detector efficiency is outside (0, 1].
    """
    for name in ("atoms", "ntraj", "block_size", "samples"):
        if getattr(run, name) < 1:
            raise ConfigError(f"[run] {name} must be >= 1, got {getattr(run, name)}")
    if run.samples > run.atoms:
        raise ConfigError(f"[run] samples = {run.samples} must be <= atoms = {run.atoms}")
    if not 0 <= run.burn_in < run.atoms:
        raise ConfigError(f"[run] burn_in = {run.burn_in} must be in [0, atoms = {run.atoms})")
    if run.method not in METHODS:
        raise ConfigError(f"unknown method {run.method!r}; allowed: {', '.join(METHODS)}")
    check_detector_efficiency(run.detector_efficiency)
