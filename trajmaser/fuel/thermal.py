"""Thermal atoms: pe = 1/(1 + e^{ω/Tq}) at a given Tq (units of Tb; negative Tq: inverted)."""

from __future__ import annotations

from scipy.special import expit

from trajmaser.fuel.base import FuelModel, FuelResult
from trajmaser.fuel.central_spin import tq_from_log_ratio


class Thermal(FuelModel):
    name = "thermal"
    needs = ("Tq",)
    summary = "atoms thermal at Tq (units of Tb)"

    def resolve(self, params):
        w = params.omega / params.Tb
        x = -w / params.Tq
        tq = float(tq_from_log_ratio(x, w))
        return FuelResult(self.name, None, float(expit(x)), tq, bool(x > 0))


MODEL = Thermal()
