"""The one home of every validity rule of a model and a run.

Every entry point (TOML config, the Python API, the density-matrix solvers, the trajectory
kernels) calls these functions, so a rule is written once and its message is the same
everywhere.  Each raises :class:`~trajmaser.params.ConfigError` (a ``ValueError``) that says what
is wrong and what is allowed.
"""

from __future__ import annotations

import math

from trajmaser.params import METHODS, PUMP_STATISTICS, ConfigError, Model, RunParams

__all__ = [
    "check_atom_state",
    "check_cavity",
    "check_detector_efficiency",
    "check_model",
    "check_pump",
    "check_run",
]


def _finite(name: str, value: float) -> None:
    if not math.isfinite(value):
        raise ConfigError(f"{name} must be a finite number, got {value!r}")


def check_pump(statistics: str, rate: float, tau: float, p: float = 1.0) -> None:
    """Check that the pump parameters describe non-overlapping atoms.

    Raises
    ------
    ConfigError
        If the statistics is unknown, the rate or τ is not positive and finite, if rτ ≥ 1
        (atoms would overlap), or for binomial pumping if p is outside (0, 1] or the slot p/r
        is shorter than τ.
    """
    if statistics not in PUMP_STATISTICS:
        raise ConfigError(
            f"unknown pump statistics {statistics!r}; allowed: {', '.join(PUMP_STATISTICS)}"
        )
    if not (rate > 0 and math.isfinite(rate)):
        raise ConfigError(f"pump rate must be positive and finite, got {rate}")
    if not (tau > 0 and math.isfinite(tau)):
        raise ConfigError(f"interaction time tau must be positive and finite, got {tau}")
    if rate * tau >= 1.0:
        raise ConfigError(
            f"atoms overlap: rate*tau = {rate * tau:.6g} must be < 1 "
            f"(rate = {rate:.6g} /s, tau = {tau:.6g} s)"
        )
    if statistics == "binomial":
        if not (0.0 < p <= 1.0):
            raise ConfigError(f"binomial pump needs 0 < p <= 1, got p = {p}")
        if p / rate < tau * (1.0 - 1e-12):
            raise ConfigError(
                f"binomial slot p/rate = {p / rate:.6g} s is shorter than tau = {tau:.6g} s; "
                f"need p >= rate*tau = {rate * tau:.6g}"
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
    check_pump(model.statistics, model.rate, model.tau, model.p)
    check_atom_state(model.pe, model.coherence)
    check_cavity(model)


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
