"""What one fuel model supplies, and the result every model returns.

A fuel model is a subclass of :class:`FuelModel` in its own module of this package, listed
once in :mod:`trajmaser.fuel.registry`: its name, the ``[fuel]`` keys it needs (beyond
``omega`` and ``Tb``, which every model takes) and how it resolves a
:class:`~trajmaser.params.FuelParams` to the central-spin state.  The rule of each key lives
in :func:`trajmaser.rules.check_fuel`.
"""

from __future__ import annotations

from dataclasses import dataclass

from trajmaser.params import FuelParams

__all__ = ["FuelModel", "FuelResult", "temperature_note"]


@dataclass(frozen=True)
class FuelResult:
    """Central-spin state of the fuel.

    Attributes
    ----------
    model : str
        ``"star"``, ``"spin"``, ``"thermal"`` or ``"state"``.
    N : int or None
        Number of outer spins (S = N/2 for ``"spin"``); None for ``"thermal"``/``"state"``.
    pe : float
        Excited-state population ⟨e|ρ0|e⟩.
    tq_over_tb : float
        Tq/Tb = −(ω/Tb)/ln(pe/(1−pe)): ``inf`` at pe = 1/2, negative when inverted.
    inverted : bool
        True when pe > 1/2 (population inversion: no thermal steady state of the field).
    """

    model: str
    N: int | None
    pe: float
    tq_over_tb: float
    inverted: bool

    @property
    def note(self) -> str:
        """Human-readable remark for infinite or negative temperatures ('' otherwise)."""
        return temperature_note(self.pe)


def temperature_note(pe: float) -> str:
    """Remark on pe >= 1/2: infinite temperature or population inversion; '' otherwise."""
    if pe > 0.5:
        return "population inversion (pe > 1/2): negative Tq, no thermal steady state of the field"
    if pe == 0.5:
        return "pe = 1/2: infinite Tq"
    return ""


class FuelModel:
    """Base class of one fuel model.

    Attributes
    ----------
    name : str
        The ``[fuel] model`` value.
    needs : tuple of str
        :class:`~trajmaser.params.FuelParams` fields the model uses besides omega and Tb.
    optional : tuple of str
        Fields it may use (e.g. ``coherence``).
    """

    name: str = ""
    needs: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    summary: str = ""

    def resolve(self, params: FuelParams) -> FuelResult:
        """The central-spin state of validated ``params``."""
        raise NotImplementedError
