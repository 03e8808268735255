"""Result files read back as runs: (labels, Result, Model, RunParams) per point."""

from __future__ import annotations

from pathlib import Path

from trajmaser.config import config_from_dict
from trajmaser.io import load_result
from trajmaser.params import Model, RunParams
from trajmaser.results.result import Result
from trajmaser.results.sweep import SweepResult


def load_runs(path: str | Path) -> tuple[list[tuple[dict, Result, Model, RunParams]], dict]:
    """Result file → ([(sweep labels, Result, Model, RunParams), ...], metadata).

    A single run gives one entry with empty labels; a ``[sweep]`` file one entry per point.
    """

    arrays, meta = load_result(path)
    raw = meta.get("config")
    if not raw:
        raise ValueError(f"{path}: no configuration stored in the result metadata")
    cfg = config_from_dict(raw)
    if not cfg.sweep:
        return [({}, Result.from_arrays(arrays), cfg.model(), cfg.run)], meta
    sweep = SweepResult.from_arrays(arrays)
    points = zip(cfg.grid(), sweep.results, strict=True)
    return [(lab, res, c.model(), c.run) for (lab, c), res in points if res is not None], meta


def load_run(path: str | Path) -> tuple[Result, Model, RunParams, dict]:
    """Single-point result file → (Result, Model, RunParams, metadata)."""
    runs, meta = load_runs(path)
    if len(runs) != 1 or runs[0][0]:
        raise ValueError(f"{path}: this needs a single-point result, the file holds a sweep")
    return (*runs[0][1:], meta)
