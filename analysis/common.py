"""Shared helpers of the analysis scripts: cached trajectory runs, estimates, plots.

Trajectory runs are cached under ``results/analysis/cache/`` keyed by a hash of the full
configuration (all four tables, ``[run]`` included), so a script rerun only plots; pass
``--fresh`` to a script (or delete the folder) after the kernels change.  Each cached point
keeps the merged :class:`~trajmaser.results.Result` and the click sums of every trajectory
block, from which the Mandel Q of the detected atoms gets a jackknife error when the result
has no ``click_counts`` record.
"""

from __future__ import annotations

import copy
import hashlib
import json
import multiprocessing as mp
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from trajmaser.config import Config, config_from_dict, load_config  # noqa: E402
from trajmaser.results import Result  # noqa: E402
from trajmaser.trajectories import nblocks, simulate_block  # noqa: E402

FIGURES = ROOT / "analysis" / "figures"
RESULTS = ROOT / "results" / "analysis"
CACHE = RESULTS / "cache"
RUNS = ROOT / "runs"
WORKERS = int(os.environ.get("TRAJMASER_WORKERS", "2"))

# Paper constants (SPEC §1)
OMEGA_CAV = 2 * np.pi * 50e9  # Ω (rad/s)


@dataclass
class Point:
    """One cached trajectory run: merged result and per-block click sums (B, 3)."""

    config: Config
    result: Result
    block_clicks: np.ndarray  # rows: (trajectories, Σ N_e, Σ N_e²)
    seconds: float


# ------------------------------------------------------------------ configurations
def raw_config(path: str | Path) -> dict:
    """The parsed TOML of ``runs/<path>`` (or a path) as a plain nested dict."""
    p = Path(path)
    if not p.is_file():
        p = RUNS / path
    return copy.deepcopy(load_config(p).raw)


def derive(raw: dict, **changes) -> Config:
    """A validated config from ``raw`` with ``section__key=value`` changes (``None`` deletes).

    Example: ``derive(raw, fuel__N=4, run__ntraj=1000, pump__Nex=None, pump__rate=1e5)``.
    """
    new = copy.deepcopy(raw)
    new.pop("sweep", None)
    for name, value in changes.items():
        sec, key = name.split("__")
        table = new.setdefault(sec, {})
        if value is None:
            table.pop(key, None)
        else:
            table[key] = value
    return config_from_dict(new)


def _key(cfg: Config) -> str:
    raw = {k: v for k, v in cfg.raw.items() if k != "sweep"}
    text = json.dumps(raw, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


# ------------------------------------------------------------------ running
def _run_one(cfg: Config) -> tuple[dict, np.ndarray, float]:
    t0 = time.perf_counter()
    model, run = cfg.model(), cfg.run
    total, clicks = None, []
    for b in range(nblocks(run)):
        res = simulate_block(model, run, b)
        c = res.clicks
        clicks.append([c.count[0], c.sx[0], c.sxx[0]])
        total = res if total is None else total + res
    return total.to_arrays(), np.array(clicks), time.perf_counter() - t0


def _load(path: Path, cfg: Config) -> Point:
    with np.load(path) as f:
        arrays = {k: f[k] for k in f.files}
    clicks = arrays.pop("_block_clicks")
    secs = float(arrays.pop("_seconds"))
    return Point(cfg, Result.from_arrays(arrays), clicks, secs)


def _loadable(path: Path, cfg: Config) -> bool:
    """True when a cache entry exists and still matches the current Result layout."""
    if not path.is_file():
        return False
    try:
        _load(path, cfg)
    except (KeyError, ValueError, OSError):
        return False
    return True


def run_points(cfgs: list[Config], *, fresh: bool = False, label: str = "") -> list[Point]:
    """Run (or load from the cache) every configuration; ``WORKERS`` processes in parallel.

    Parameters
    ----------
    cfgs : list of Config
        Configurations with their ``[run]`` sizes; identical configurations share a cache
        entry.
    fresh : bool
        Ignore and overwrite cached entries.
    label : str
        Printed with the progress line.
    """
    CACHE.mkdir(parents=True, exist_ok=True)
    paths = [CACHE / f"{_key(c)}.npz" for c in cfgs]
    todo = [i for i, p in enumerate(paths) if fresh or not _loadable(p, cfgs[i])]
    t0 = time.perf_counter()
    if todo:
        jobs = [cfgs[i] for i in todo]
        if WORKERS > 1 and len(jobs) > 1:
            with mp.get_context("fork").Pool(WORKERS) as pool:
                outs = pool.map(_run_one, jobs, chunksize=1)
        else:
            outs = [_run_one(c) for c in jobs]
        for i, (arrays, clicks, secs) in zip(todo, outs, strict=True):
            tmp = paths[i].with_suffix(".tmp.npz")
            np.savez(tmp, _block_clicks=clicks, _seconds=secs, **arrays)
            os.replace(tmp, paths[i])
    print(
        f"[{label}] {len(cfgs)} points, {len(todo)} run, {time.perf_counter() - t0:.1f} s",
        flush=True,
    )
    return [_load(p, c) for p, c in zip(paths, cfgs, strict=True)]


# ------------------------------------------------------------------ estimates
def steady(point: Point, block: str = "time") -> dict[str, float]:
    """Steady-state photon estimates with errors (``block`` = "time" or "arrival")."""
    mom = point.result.steady_time if block == "time" else point.result.steady_arrival
    return {k: float(v[0]) for k, v in mom.photon_estimates(point.result.omega).items()}


def click_q(point: Point, method: str = "auto") -> tuple[float, float]:
    """Mandel Q of the detected-excited count N_e over the steady window, with its error.

    With ``method="auto"``, uses ``Result.click_counts`` (x = N_e, y = N_e² per trajectory;
    delta-method error) when the result has it; with ``method="blocks"`` (or when it has
    not) the per-block click sums (requires every atom detected, η = 1, so that the click
    record's x is N_e over a fixed window), jackknifed over blocks: an independent check.
    """
    if method not in ("auto", "blocks"):
        raise ValueError(f"method must be 'auto' or 'blocks', got {method!r}")
    cc = getattr(point.result, "click_counts", None)
    if cc is not None and method == "auto":
        est = cc.photon_estimates(point.result.omega)
        return float(est["mandel_q"][0]), float(est["mandel_q_err"][0])
    if point.config.run.detector_efficiency != 1.0:
        raise ValueError("block-click estimate of Q_a needs detector_efficiency = 1")
    sums = point.block_clicks

    def q_of(s):
        n, sx, sxx = s
        mean = sx / n
        return (sxx - n * mean * mean) / (n - 1) / mean - 1.0

    total = sums.sum(axis=0)
    q = q_of(total)
    nb = len(sums)
    if nb < 2:
        return float(q), float("nan")
    loo = np.array([q_of(total - row) for row in sums])
    err = np.sqrt((nb - 1) / nb * np.sum((loo - loo.mean()) ** 2))
    return float(q), float(err)


def zscore(value: float, err: float, ref: float) -> float:
    """(value − ref)/err (nan when err is 0 or nan)."""
    return (value - ref) / err if err > 0 else float("nan")


def z_summary(z: list[float] | np.ndarray, k: float = 4.0) -> dict:
    """Count, max |z|, χ² per degree of freedom and whether every |z| < k."""
    z = np.asarray([v for v in np.ravel(z) if np.isfinite(v)], dtype=float)
    if z.size == 0:
        return {"n": 0, "max_abs_z": float("nan"), "chi2_per_dof": float("nan"), "ok": True}
    return {
        "n": int(z.size),
        "max_abs_z": float(np.max(np.abs(z))),
        "chi2_per_dof": float(np.mean(z * z)),
        "ok": bool(np.all(np.abs(z) < k)),
    }


# ------------------------------------------------------------------ output
def band(ax, x, y, err, *, label=None, color=None, k: float = 1.0, **kw):
    """Line with a ±k·err shaded band (the trajectory curves)."""
    x, y, err = (np.asarray(a, dtype=float) for a in (x, y, err))
    (line,) = ax.plot(x, y, color=color, label=label, **kw)
    ax.fill_between(x, y - k * err, y + k * err, color=line.get_color(), alpha=0.3, lw=0)
    return line


def savefig(fig, name: str) -> Path:
    """Save ``fig`` as ``analysis/figures/<name>.png`` and close it."""
    FIGURES.mkdir(parents=True, exist_ok=True)
    path = FIGURES / f"{name}.png"
    fig.savefig(path, dpi=130, bbox_inches="tight")
    plt.close(fig)
    print(f"wrote {path.relative_to(ROOT)}", flush=True)
    return path


def write_json(name: str, data) -> Path:
    """Write ``results/analysis/<name>.json`` (numbers quoted in REPRODUCTION.md)."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(data, indent=1, default=float))
    print(f"wrote {path.relative_to(ROOT)}", flush=True)
    return path


def write_text(name: str, text: str) -> Path:
    """Write ``results/analysis/<name>`` (markdown tables) and echo it."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / name
    path.write_text(text)
    print(text, flush=True)
    return path


def fresh_flag() -> bool:
    """True when the script was called with ``--fresh`` (rerun cached trajectories)."""
    return "--fresh" in sys.argv[1:]


def cached_npz(tag: str, key_obj, compute, *, fresh: bool = False) -> dict:
    """``compute()`` (a dict of arrays) cached in ``results/analysis/cache/<tag>_<hash>.npz``."""
    CACHE.mkdir(parents=True, exist_ok=True)
    text = json.dumps(key_obj, sort_keys=True, default=str)
    path = CACHE / f"{tag}_{hashlib.sha256(text.encode()).hexdigest()[:16]}.npz"
    if path.is_file() and not fresh:
        with np.load(path) as f:
            return {k: f[k] for k in f.files}
    out = compute()
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, **out)
    os.replace(tmp, path)
    return out


def pool_map(func, items: list) -> list:
    """``map`` over ``WORKERS`` forked processes (serial when WORKERS = 1)."""
    if WORKERS > 1 and len(items) > 1:
        with mp.get_context("fork").Pool(WORKERS) as pool:
            return pool.map(func, items, chunksize=max(1, len(items) // (8 * WORKERS)))
    return [func(x) for x in items]
