"""Validate a density-matrix solver against exact quantum trajectories, from Python.

::

    import trajmaser
    report = trajmaser.validate("runs/quick.toml", my_solver)   # my_solver(times) -> [Qobj]
    print(report.verdict); report.plot("check.png")

See :func:`validate` and docs/VALIDATION.md for the statistics.
"""

from __future__ import annotations

import functools
import operator
from dataclasses import replace

import numpy as np

from trajmaser.compare import FAMILIES, BatchMeans, batch_means_from_moments, batch_means_of
from trajmaser.params import Model, RunParams
from trajmaser.results import Result

BATCHES = 32


def batch_seeds(seed: int, batches: int) -> list[int]:
    """Root seeds of the independent batch runs, spawned from ``seed``."""
    ss = np.random.SeedSequence(seed, spawn_key=(0x7A11D,))
    return [int(s) for s in ss.generate_state(batches, dtype=np.uint32)]


def run_batches(
    model: Model, run: RunParams, batches: int = BATCHES, *, map=map
) -> tuple[Result, dict[str, BatchMeans]]:
    """Run the trajectories of ``run`` and return the total and the per-batch means.

    A result that carries batch sums gives them directly (one run).  Otherwise the
    ``run.ntraj`` trajectories are split into ``batches`` independent runs with seeds
    spawned from ``run.seed`` (:func:`batch_seeds`).

    Returns
    -------
    (Result, dict)
        The summed result and family name → :class:`~trajmaser.compare.BatchMeans`.
    """
    from trajmaser.trajectories import simulate

    if run.ntraj < batches:
        raise ValueError(f"need ntraj >= {batches} (one trajectory per batch), got {run.ntraj}")
    if batches == BATCHES:
        res = simulate(model, run, map=map)
        found = batch_means_of(res)
        if found is not None:
            return res, found
    sizes = np.full(batches, run.ntraj // batches)
    sizes[: run.ntraj % batches] += 1
    parts = [
        simulate(
            model,
            replace(run, ntraj=int(n), seed=s, block_size=min(run.block_size, int(n))),
            map=map,
        )  # fmt: skip
        for n, s in zip(sizes, batch_seeds(run.seed, batches), strict=True)
    ]
    data = {f: batch_means_from_moments([getattr(r, f) for r in parts]) for f in FAMILIES}
    total = functools.reduce(operator.add, parts)
    return total, data
