"""Spin-S fuel: the central spin-1/2 coupled to one spin S = N/2 (XXZ), thermal at Tb."""

from __future__ import annotations

from trajmaser.fuel.star import SpinFuel


class Spin(SpinFuel):
    name = "spin"
    summary = "central spin-1/2 coupled to one spin S = N/2"


MODEL = Spin()
