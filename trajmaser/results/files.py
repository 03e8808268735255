"""Result files read back: the merged result, its configuration, its runs per point.

A checkpoint (``OUT.ckpt.npz``) or a file whose arrays do not make a result is refused with
one line naming the file.
"""

from __future__ import annotations

from pathlib import Path

from trajmaser.config import Config, config_from_dict
from trajmaser.io import load_result
from trajmaser.params import Model, RunParams
from trajmaser.results.result import Result
from trajmaser.results.sweep import SweepResult, load_any


def read(path: str | Path) -> tuple[Result | SweepResult, Config | None, dict]:
    """Result file → (result, its configuration or None, metadata).

    Raises
    ------
    ValueError
        A checkpoint, a file of another program, or arrays missing from a result.
    """
    arrays, meta = load_result(path)
    if "checkpoint" in meta:
        raise ValueError(
            f"{path} is the checkpoint of an unfinished run, not a result: rerun the same "
            "`trajmaser run` command to finish it (it resumes from this file)"
        )
    if meta.get("format") not in (None, "trajmaser-result"):
        raise ValueError(f"{path} is not a trajmaser result file (format {meta['format']!r})")
    try:
        result = load_any(arrays)
    except (KeyError, ValueError, TypeError) as exc:
        raise ValueError(f"{path} is not a complete result file (missing or bad {exc})") from None
    raw = meta.get("config")
    return result, config_from_dict(raw) if raw else None, meta


def load_runs(path: str | Path) -> tuple[list[tuple[dict, Result, Model, RunParams]], dict]:
    """Result file → ([(sweep labels, Result, Model, RunParams), ...], metadata).

    A single run gives one entry with empty labels; a ``[sweep]`` file one entry per point.
    """

    result, cfg, meta = read(path)
    if cfg is None:
        raise ValueError(f"{path}: no configuration stored in the result metadata")
    if not cfg.sweep:
        return [({}, result, cfg.model(), cfg.run)], meta
    points = zip(cfg.grid(), result.results, strict=True)
    return [(lab, res, c.model(), c.run) for (lab, c), res in points if res is not None], meta


def load_run(path: str | Path) -> tuple[Result, Model, RunParams, dict]:
    """Single-point result file → (Result, Model, RunParams, metadata)."""
    runs, meta = load_runs(path)
    if len(runs) != 1 or runs[0][0]:
        raise ValueError(f"{path}: this needs a single-point result, the file holds a sweep")
    return (*runs[0][1:], meta)
