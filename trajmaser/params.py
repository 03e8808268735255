"""Frozen parameter objects and the one place where units are converted.

Conventions (docs/PHYSICS.md): hbar = k_B = 1; fuel energies in units of the bath temperature Tb;
cavity rates in rad/s and times in s.  Resonance makes Ω/Tb equal to the fuel's ``omega``,
so a mean photon number n̄ converts to a field temperature Tf/Tb = omega / ln(1 + 1/n̄).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

METHODS = ("auto", "fock", "general")
INITIAL_KINDS = ("thermal", "vacuum", "fock", "coherent", "state", "ket")


class ConfigError(ValueError):
    """A configuration value is missing, unknown or physically impossible."""


@dataclass(frozen=True)
class FuelParams:
    """How the pump atoms are prepared (docs/PHYSICS.md).

    ``model`` is ``"star"`` (spin-star with N outer spins-1/2), ``"spin"`` (central spin coupled
    to one spin S = N/2), ``"thermal"`` (atoms thermal at ``Tq`` in units of Tb) or ``"state"``
    (``pe`` and ``coherence`` = ⟨e|ρ0|g⟩ given directly).
    """

    model: str = "star"
    N: int = 10
    omega: float = 6.0
    J: float = 0.8
    lam: float = 1.0
    Tb: float = 1.0
    Tq: float | None = None
    pe: float | None = None
    coherence: tuple[float, float] = (0.0, 0.0)


@dataclass(frozen=True)
class InitialField:
    """Initial cavity state: ``thermal`` (at Tb), ``vacuum``, ``fock`` (n = value),
    ``coherent`` (α = value, real), ``state`` (``state`` = p(n), a diagonal mixture) or
    ``ket`` (``state`` = Fock amplitudes of a pure state); see
    :func:`trajmaser.references.initial_field` for building the last two from qutip states."""

    kind: str = "thermal"
    value: float = 0.0
    state: tuple = ()

    @property
    def is_diagonal(self) -> bool:
        """True when the initial cavity density matrix is diagonal in the Fock basis."""
        if self.kind == "ket":
            return sum(1 for a in self.state if a != 0) <= 1
        return self.kind != "coherent" or self.value == 0.0


@dataclass(frozen=True)
class Model:
    """Everything the solvers need: atom state, cavity, pump.  Physical units.

    Attributes
    ----------
    pe, coherence : float, complex
        Atom state ρ0 = [[pe, coherence], [conj(coherence), 1 - pe]] in the {e, g} basis.
    omega : float
        Ω/Tb (= ω/Tb at resonance): converts n̄ to Tf/Tb.
    g, gamma, kappa, tau, detuning : float
        Coupling (rad/s), atomic decay (1/s), cavity loss (1/s), interaction time (s),
        detuning ω − Ω (rad/s).
    nbar_bath : float
        Mean photon number of the cold bath (0 in the paper).
    initial : InitialField
        Cavity state at t = 0.
    statistics, rate : str, float
        Pump statistics (a name in :mod:`trajmaser.pump`) and mean arrival rate r (1/s).
    p : float
        The binomial slot probability (``pump_values["p"]``).
    pump_params : mapping or tuple of (str, float) pairs
        Further parameters of the pump statistics by their ``[pump]`` key (e.g.
        ``{"jitter": 0.3}``); stored as sorted ``(key, value)`` pairs.  A ``"p"`` given here
        is moved to :attr:`p`.
    """

    pe: float
    omega: float
    g: float
    gamma: float
    kappa: float
    tau: float
    rate: float
    coherence: complex = 0j
    detuning: float = 0.0
    nbar_bath: float = 0.0
    initial: InitialField = field(default_factory=InitialField)
    statistics: str = "regular"
    p: float = 1.0
    pump_params: tuple[tuple[str, float], ...] = ()

    def __post_init__(self) -> None:
        items = dict(self.pump_params)
        if "p" in items:
            p = float(items.pop("p"))
            if self.p != 1.0 and self.p != p:
                raise ConfigError(f"Model got p = {self.p} and pump_params p = {p}; give one")
            object.__setattr__(self, "p", p)
        pairs = tuple(sorted((str(k), float(v)) for k, v in items.items()))
        object.__setattr__(self, "pump_params", pairs)

    @property
    def pump_values(self) -> dict[str, float]:
        """Every pump-statistics parameter by its ``[pump]`` key: ``p`` and ``pump_params``."""
        return {"p": self.p, **dict(self.pump_params)}

    @property
    def nbar_initial(self) -> float:
        """Mean photon number of the initial cavity state."""
        return initial_nbar(self.initial, self.omega)

    @property
    def is_diagonal(self) -> bool:
        """True when ρ0 and the initial field are diagonal (detuning keeps them diagonal)."""
        return self.coherence == 0 and self.initial.is_diagonal

    @property
    def nex(self) -> float:
        """Atoms per photon lifetime, r/κ (infinite when κ = 0)."""
        return self.rate / self.kappa if self.kappa > 0 else math.inf

    @property
    def tq_over_tb(self) -> float:
        """Atom temperature Tq/Tb = −omega / ln(pe/(1−pe)); inf at pe = 1/2, < 0 if inverted."""
        return tq_from_pe(self.pe, self.omega)


@dataclass(frozen=True)
class RunParams:
    """Trajectory-run settings (``[run]`` table)."""

    atoms: int = 2000
    ntraj: int = 2000
    samples: int = 50
    burn_in: int = 1000
    seed: int = 12345
    method: str = "auto"
    block_size: int = 1000
    detector_efficiency: float = 1.0
    nmax: int | None = None


def initial_nbar(initial: InitialField, omega: float) -> float:
    """Mean photon number of an initial field; thermal means thermal at Tb (n̄ = 1/(e^ω − 1))."""
    if initial.kind == "thermal":
        return 1.0 / math.expm1(omega) if omega < 700.0 else math.exp(-omega)
    if initial.kind == "vacuum":
        return 0.0
    if initial.kind == "fock":
        return float(initial.value)
    if initial.kind in ("state", "ket"):
        w = [abs(a) ** 2 for a in initial.state] if initial.kind == "ket" else initial.state
        return float(sum(n * x for n, x in enumerate(w)))
    return float(initial.value) ** 2


def tq_from_pe(pe: float, omega: float) -> float:
    """Tq/Tb = −omega / ln(pe/(1−pe)).

    Returns ``inf`` at pe = 1/2 and a negative number for pe > 1/2 (population inversion);
    pe = 0 gives 0, pe = 1 gives −0.
    """
    if pe == 0.5:
        return math.inf
    if pe <= 0.0:
        return 0.0
    if pe >= 1.0:
        return -0.0
    return -omega / math.log(pe / (1.0 - pe))


def tf_from_nbar(nbar, omega):
    """Field temperature Tf/Tb = omega / ln(1 + 1/n̄) (array-friendly)."""
    import numpy as np

    nbar = np.asarray(nbar, dtype=float)
    with np.errstate(divide="ignore"):
        return omega / np.log1p(1.0 / nbar)
