"""Results of a parameter sweep: one :class:`~trajmaser.results.Result` per grid point."""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from trajmaser.results.result import Result


@dataclass
class SweepResult:
    """Results of a parameter sweep: one :class:`Result` (or None, not yet run) per point.

    Attributes
    ----------
    axes : tuple of str
        Swept keys, e.g. ``("fuel.N", "pump.p")``.
    points : tuple of tuple
        The values of the axes at each point (grid order: last axis fastest).
    results : tuple of Result or None
    """

    axes: tuple
    points: tuple
    results: tuple

    def __add__(self, other: SweepResult) -> SweepResult:
        if (self.axes, self.points) != (other.axes, other.points):
            raise ValueError("cannot merge results of different sweeps")
        merged = tuple(
            b if a is None else a if b is None else a + b
            for a, b in zip(self.results, other.results, strict=True)
        )
        return SweepResult(self.axes, self.points, merged)

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Flat arrays: ``sweep`` (JSON of axes and points) and ``p{i}.{name}`` per point."""
        out = {"sweep": np.array(json.dumps({"axes": self.axes, "points": self.points}))}
        for i, res in enumerate(self.results):
            if res is not None:
                out.update({f"p{i}.{k}": v for k, v in res.to_arrays().items()})
        return out

    @classmethod
    def from_arrays(cls, arrays: dict) -> SweepResult:
        """Inverse of :meth:`to_arrays`."""
        desc = json.loads(str(arrays["sweep"]))
        points = tuple(tuple(p) for p in desc["points"])
        results = []
        for i in range(len(points)):
            pre = f"p{i}."
            sub = {k[len(pre) :]: v for k, v in arrays.items() if k.startswith(pre)}
            results.append(Result.from_arrays(sub) if sub else None)
        return cls(tuple(desc["axes"]), points, tuple(results))

    def table(self) -> list[dict]:
        """One summary row per point: the axis values and the steady-state summary."""
        rows = []
        for values, res in zip(self.points, self.results, strict=True):
            row = dict(zip(self.axes, values, strict=True))
            row.update(res.summary() if res is not None else {"ntraj": 0})
            rows.append(row)
        return rows


def load_any(arrays: dict) -> Result | SweepResult:
    """The result stored in a file's arrays: a sweep or a single run."""
    return SweepResult.from_arrays(arrays) if "sweep" in arrays else Result.from_arrays(arrays)
