"""A given atom state: pe and the coherence ⟨e|ρ0|g⟩ directly."""

from __future__ import annotations

from trajmaser.fuel.base import FuelModel, FuelResult
from trajmaser.params import tq_from_pe


class State(FuelModel):
    name = "state"
    needs = ("pe",)
    optional = ("coherence",)
    summary = "pe and coherence given directly"

    def resolve(self, params):
        pe = float(params.pe)
        return FuelResult(self.name, None, pe, tq_from_pe(pe, params.omega / params.Tb), pe > 0.5)


MODEL = State()
