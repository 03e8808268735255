"""The initial cavity state on a Fock cut-off: populations, density matrix, support."""

from __future__ import annotations

import math

import numpy as np

from trajmaser.params import Model

__all__ = ["initial_density", "initial_distribution", "initial_support"]


def initial_distribution(model: Model, nmax: int) -> np.ndarray:
    """p(n) of the initial cavity (thermal at Tb, vacuum, Fock) on 0 … nmax.

    Raises
    ------
    ValueError
        For a coherent field with α ≠ 0 (use :func:`initial_density`) or a Fock state above
        nmax.
    """
    kind, val = model.initial.kind, model.initial.value
    p = np.zeros(nmax + 1)
    if kind == "state" or (kind == "ket" and model.initial.is_diagonal):
        given = np.abs(np.asarray(model.initial.state)) ** (2 if kind == "ket" else 1)
        if given[nmax + 1 :].sum() > 1e-12:
            above = given[nmax + 1 :].sum()
            raise ValueError(f"initial state has probability {above:.3g} above nmax={nmax}")
        p[: min(given.size, nmax + 1)] = given[: nmax + 1]
    elif kind == "thermal":
        q = math.exp(-model.omega)
        p[:] = (1.0 - q) * q ** np.arange(nmax + 1)
    elif kind == "vacuum" or (kind == "coherent" and val == 0.0):
        p[0] = 1.0
    elif kind == "fock":
        if int(val) > nmax:
            raise ValueError(f"initial Fock state {int(val)} above nmax={nmax}")
        p[int(val)] = 1.0
    else:
        raise ValueError(
            f"initial field {kind!r} is not diagonal: use initial_density (general path)"
        )
    return p / p.sum()


def initial_density(model: Model, nmax: int) -> np.ndarray:
    """Initial cavity density matrix (thermal at Tb, vacuum, Fock or real coherent α)."""
    n1 = nmax + 1
    kind, val = model.initial.kind, model.initial.value
    if kind == "ket":
        amp = np.zeros(n1, dtype=complex)
        given = np.asarray(model.initial.state, dtype=complex)
        if np.sum(np.abs(given[n1:]) ** 2) > 1e-12:
            raise ValueError(f"initial ket has weight above nmax={nmax}")
        amp[: min(given.size, n1)] = given[:n1]
        return np.outer(amp, amp.conj())
    if kind != "coherent":
        return np.diag(initial_distribution(model, nmax)).astype(complex)
    n = np.arange(n1)
    if val == 0:
        amp = (n == 0).astype(float)
    else:
        logs = n * math.log(abs(val)) - 0.5 * np.array([math.lgamma(k + 1) for k in n])
        amp = np.exp(logs - 0.5 * val * val) * np.sign(val) ** n
    amp = amp / np.linalg.norm(amp)
    return np.outer(amp, amp).astype(complex)


def initial_support(model: Model) -> int:
    """Smallest nmax that holds the initial field to ~1e-15 (coherent: n̄ + 10√n̄ + 25)."""
    kind, val = model.initial.kind, model.initial.value
    if kind in ("state", "ket"):
        return len(model.initial.state) + 4
    if kind == "fock":
        return int(val) + 5
    if kind == "thermal":
        return int(math.ceil(36.0 / model.omega)) + 5 if model.omega > 0 else 50
    if kind == "coherent" and val != 0.0:
        a2 = val**2
        return int(a2 + 10.0 * math.sqrt(a2) + 25)
    return 5
