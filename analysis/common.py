"""Shared helpers of the analysis scripts: cached computations through trajmaser's run layer.

Every heavy computation goes through the package: a trajectory point is
:func:`trajmaser.run.execute` into a cache file, a forward-flux point is
:func:`trajmaser.switching.simulate` into a cache file, and a list of density-matrix jobs is
a block map over the run layer (:func:`cached_map`, one block per job, rows merged in order).
The run layer writes every file atomically (:mod:`trajmaser.io`) and checkpoints long
computations; z-scores come from :func:`trajmaser.compare.z_series`.  Cache files live in
``results/analysis/cache/`` keyed by a hash of everything that determines them, so a rerun
only plots; ``--fresh`` recomputes.  Launched under ``mpiexec -n K`` (``make_all.sh`` does
this when ``mpiexec`` exists) the ranks share the blocks of every computation and only rank 0
writes figures and tables.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from trajmaser import io  # noqa: E402
from trajmaser.cli.render import finite  # noqa: E402
from trajmaser.compare import z_series  # noqa: E402
from trajmaser.config import Config, config_from_dict, load_config  # noqa: E402
from trajmaser.results import Result  # noqa: E402
from trajmaser.run import execute, mpi_context, run_to_file  # noqa: E402

FIGURES = ROOT / "analysis" / "figures"
RESULTS = ROOT / "results" / "analysis"
CACHE = RESULTS / "cache"
RUNS = ROOT / "runs"

# Paper constants (docs/PHYSICS.md)
OMEGA_CAV = 2 * np.pi * 50e9  # Ω (rad/s)


def is_root() -> bool:
    """True on the process that writes (rank 0, or the only process)."""
    return mpi_context().is_root


@dataclass
class Point:
    """One cached trajectory run: its configuration, merged result and wall time (s)."""

    config: Config
    result: Result
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


def stationary_config(cfg: Config) -> Config:
    """``cfg``, or with the burn-in ``trajmaser run`` would ask for (same window) when its
    steady window is not stationary (:func:`trajmaser.switching.stationarity.stationarity`)."""
    from trajmaser.switching.stationarity import stationarity

    s = stationarity(cfg.model(), cfg.run)
    if s["stationary"]:
        return cfg
    need = int(s["needed_burn_in"])
    return derive(cfg.raw, run__burn_in=need, run__atoms=need + s["window"])


def _hash(obj) -> str:
    text = json.dumps(obj, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _cached(path: Path, fresh: bool) -> bool:
    if fresh or not path.is_file():
        return False
    try:
        io.load_result(path)
    except (KeyError, ValueError, OSError):
        return False
    return True


# ------------------------------------------------------------------ computing
def run_points(cfgs: list[Config], *, fresh: bool = False, label: str = "") -> list[Point]:
    """Run (or load from the cache) every configuration through :func:`trajmaser.run.execute`.

    Call on every rank; every rank gets the points.
    """
    CACHE.mkdir(parents=True, exist_ok=True)
    paths = [CACHE / f"{_hash({k: v for k, v in c.raw.items() if k != 'sweep'})}.npz" for c in cfgs]
    todo = [i for i, p in enumerate(paths) if not _cached(p, fresh)]
    for i in todo:
        execute(cfgs[i], str(paths[i]), force=True, resume=not fresh)
    if is_root():
        print(f"[{label}] {len(cfgs)} points, {len(todo)} run", flush=True)
    out = []
    for cfg, path in zip(cfgs, paths, strict=True):
        arrays, meta = io.load_result(path)
        out.append(Point(cfg, Result.from_arrays(arrays), float(meta.get("wall_time_s", 0.0))))
    return out


@dataclass
class Rows:
    """Rows of results, one per job, merged by concatenation (a run-layer result)."""

    rows: np.ndarray

    def __add__(self, other: Rows) -> Rows:
        return Rows(np.concatenate([self.rows, other.rows]))

    def to_arrays(self) -> dict:
        return {"rows": self.rows}

    @classmethod
    def from_arrays(cls, arrays: dict) -> Rows:
        return cls(np.asarray(arrays["rows"], dtype=float))


class _RowTask:
    def __init__(self, func, items):
        self.func, self.items = func, items

    def __call__(self, k: int) -> Rows:
        return Rows(np.atleast_2d(np.asarray(self.func(self.items[k]), dtype=float)))


def cached_map(tag: str, func, items: list, *, fresh: bool = False, key=None) -> np.ndarray:
    """``[func(x) for x in items]`` as a float array, one run-layer block per item, cached.

    ``func(x)`` returns a fixed-length sequence of floats; ``key`` (default: the items and
    ``tag``) names the cache entry.  Call on every rank; every rank gets the array.
    """
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"{tag}_{_hash(key if key is not None else [tag, items])}.npz"
    if not _cached(path, fresh) and items:
        run_to_file(_RowTask(func, items), len(items), str(path), from_arrays=Rows.from_arrays,
                    force=True)  # fmt: skip
    return Rows.from_arrays(io.load_result(path)[0]).rows if items else np.zeros((0, 0))


def switching_points(models: list, budget, *, seed: int, fresh: bool = False) -> list[dict]:
    """The ``trajmaser switching`` document of every model (forward flux, cached), with the
    wall time of its run as ``seconds``.  Each model draws from its own root seed, derived
    from ``seed`` and the model (common random numbers across points would correlate their
    errors).

    Call on every rank; every rank gets the documents.
    """
    from dataclasses import asdict

    from trajmaser.switching import Replicas, plan_switching, report, simulate

    CACHE.mkdir(parents=True, exist_ok=True)
    docs = []
    for model in models:
        own = int(_hash([seed, asdict(model)])[:8], 16)
        plan, ref = plan_switching(model, own, budget)
        path = CACHE / f"switching_{_hash([asdict(model), asdict(budget), own, 'v2'])}.npz"
        if not _cached(path, fresh):
            simulate(plan, budget.replicas, path, force=True, resume=not fresh)
        arrays, meta = io.load_result(path)
        doc = report(plan, ref, Replicas.from_arrays(arrays))
        doc["seconds"] = float(meta.get("wall_time_s", math.nan))
        docs.append(doc)
    return docs


# ------------------------------------------------------------------ estimates
def steady(point: Point, block: str = "time") -> dict[str, float]:
    """Steady-state photon estimates with errors (``block`` = "time" or "arrival")."""
    mom = point.result.steady_time if block == "time" else point.result.steady_arrival
    return {k: float(v[0]) for k, v in mom.photon_estimates(point.result.omega).items()}


def click_q(point: Point) -> tuple[float, float]:
    """Mandel Q of the detected-excited count over the steady window (``Result.click_counts``)."""
    est = point.result.click_counts.photon_estimates(point.result.omega)
    return float(est["mandel_q"][0]), float(est["mandel_q_err"][0])


def zscore(value: float, err: float, ref: float) -> float:
    """(value − ref)/err by :func:`trajmaser.compare.z_series` (nan when err is 0 or nan)."""
    if not err > 0:
        return float("nan")
    return float(z_series([value], [err], [ref])["z"][0])


def z_summary(z: list[float] | np.ndarray, k: float = 4.0) -> dict:
    """Count, max |z|, χ² per degree of freedom, its p-value and whether every |z| < k."""
    z = np.asarray([v for v in np.ravel(z) if v is not None and np.isfinite(v)], dtype=float)
    s = z_series(z, np.ones_like(z), np.zeros_like(z))
    n = s["dof"]
    return {
        "n": n,
        "max_abs_z": s["max_abs_z"] if n else float("nan"),
        "chi2_per_dof": s["chi2"] / n if n else float("nan"),
        "p_value": s["p_value"],
        "ok": bool(np.all(np.abs(z) < k)),
    }


# ------------------------------------------------------------------ output (rank 0 only)
def band(ax, x, y, err, *, label=None, color=None, k: float = 1.0, **kw):
    """Line with a ±k·err shaded band (the trajectory curves)."""
    x, y, err = (np.asarray(a, dtype=float) for a in (x, y, err))
    (line,) = ax.plot(x, y, color=color, label=label, **kw)
    ax.fill_between(x, y - k * err, y + k * err, color=line.get_color(), alpha=0.3, lw=0)
    return line


def savefig(fig, name: str) -> Path:
    """Save ``fig`` as ``analysis/figures/<name>.png`` (rank 0) and close it."""
    path = FIGURES / f"{name}.png"
    if is_root():
        FIGURES.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=130, bbox_inches="tight")
        print(f"wrote {path.relative_to(ROOT)}", flush=True)
    plt.close(fig)
    return path


def write_json(name: str, data) -> Path:
    """Write ``results/analysis/<name>.json`` (rank 0; non-finite numbers as null)."""
    path = RESULTS / f"{name}.json"
    if is_root():
        RESULTS.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(finite(data), indent=1, allow_nan=False))
        print(f"wrote {path.relative_to(ROOT)}", flush=True)
    return path


def write_text(name: str, text: str) -> Path:
    """Write ``results/analysis/<name>`` (rank 0; markdown tables) and echo it."""
    path = RESULTS / name
    if is_root():
        RESULTS.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        print(text, flush=True)
    return path


def fresh_flag() -> bool:
    """True when the script was called with ``--fresh`` (recompute cached entries)."""
    return "--fresh" in sys.argv[1:]
