"""Spin-star fuel: the central spin-1/2 coupled to N outer spins-1/2 (XXZ), thermal at Tb."""

from __future__ import annotations

from scipy.special import expit

from trajmaser.fuel.base import FuelModel, FuelResult
from trajmaser.fuel.central_spin import fuel_log_ratio, tq_from_log_ratio


class SpinFuel(FuelModel):
    """A central-spin model solved by :func:`trajmaser.fuel.central_spin.fuel_log_ratio`."""

    needs = ("N", "J", "lam")

    def resolve(self, params):
        x = float(
            fuel_log_ratio(self.name, params.N, params.omega, params.J, params.lam, params.Tb)
        )
        tq = float(tq_from_log_ratio(x, params.omega / params.Tb))
        return FuelResult(self.name, int(params.N), float(expit(x)), tq, bool(x > 0))


class Star(SpinFuel):
    name = "star"
    summary = "central spin-1/2 coupled to N outer spins-1/2 (all total-spin sectors)"


MODEL = Star()
