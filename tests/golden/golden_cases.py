"""The golden-number cases: every config in ``runs/`` at a reduced size, plus seeded cases.

Used by ``test_golden.py`` (which compares with ``tests/data/golden.json``) and by
``make_golden.py`` (which writes that file).  Only public names of :mod:`trajmaser` are used,
so a reorganisation of the package cannot change what is checked.
"""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path

import numpy as np

import trajmaser

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "data" / "golden.json"


def _reduced(raw: dict) -> dict:
    """A small version of a run config: 48 trajectories in 3 blocks, at most 120 atoms."""
    raw = copy.deepcopy(raw)
    run = raw.setdefault("run", {})
    atoms = min(int(run.get("atoms", 2000)), 120)
    run.update(atoms=atoms, ntraj=48, block_size=16)
    run["samples"] = min(int(run.get("samples", 50)), 12, atoms)
    run["burn_in"] = min(int(run.get("burn_in", atoms // 2)), atoms // 2)
    if "sweep" in raw:
        # first and last value of each axis (a range string "a..b" becomes [a, b])
        raw["sweep"] = {
            k: ([int(x) for x in v.split("..")] if isinstance(v, str) else [v[0], v[-1]])
            for k, v in raw["sweep"].items()
        }
    return raw


def cases() -> dict[str, dict]:
    """Name -> raw config mapping of every golden case."""
    import tomllib

    out = {}
    for path in sorted((ROOT / "runs").glob("*.toml")):
        with path.open("rb") as fh:
            out[f"runs/{path.name}"] = _reduced(tomllib.load(fh))
    base = out["runs/quick.toml"]
    for stats in ("poisson", "binomial"):
        raw = copy.deepcopy(base)
        raw["pump"]["statistics"] = stats
        if stats == "binomial":
            raw["pump"].update(p=0.5, Nex=1500)
        raw["cavity"]["nbar_bath"] = 0.3
        out[f"quick-{stats}-nb"] = raw
    raw = copy.deepcopy(base)  # the detector's draws, a jittered pump, a Fock field
    raw["pump"].update(statistics="jitter", jitter=0.3, Nex=1500)
    raw["cavity"]["initial"] = "fock:3"
    raw["run"]["detector_efficiency"] = 0.6
    out["quick-jitter-detector"] = raw
    raw = copy.deepcopy(base)
    raw["fuel"] = {"model": "state", "pe": 0.4, "coherence": [0.2, 0.1], "omega": 1.0}
    raw["cavity"].update(initial="coherent:1.5", nbar_bath=0.2)
    raw["run"]["nmax"] = 30
    out["general-coherent"] = raw
    return out


def _digest(arrays: dict) -> dict[str, str]:
    """sha256 of every array (dtype, shape and bytes), by name."""
    out = {}
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h = hashlib.sha256(str(a.dtype).encode() + str(a.shape).encode())
        h.update(a.tobytes())
        out[name] = h.hexdigest()[:32]
    return out


def _floats(obj):
    """JSON-stable form with exact float reprs."""
    if isinstance(obj, dict):
        return {str(k): _floats(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_floats(v) for v in obj]
    if isinstance(obj, float | np.floating):
        return repr(float(obj))
    if isinstance(obj, np.integer):
        return int(obj)
    return obj


def evaluate(raw: dict) -> dict:
    """Trajectory summary + array digest (+ density-matrix steady state) of one case."""
    cfg = trajmaser.config_from_dict(raw)
    out = {}
    for i, (labels, point) in enumerate(cfg.grid()):
        model = point.model()
        res = trajmaser.simulate(model, point.run)
        steady = trajmaser.steady(model)
        dm = {b: {k: v for k, v in steady[b].items() if k != "p"} for b in ("arrival", "time")}
        out[f"point{i}"] = {
            "labels": _floats(labels),
            "summary": _floats(res.summary()),
            "arrays": _digest(res.to_arrays()),
            "dm": _floats(dm),
        }
    return out


def load_golden() -> dict:
    """The stored golden values."""
    return json.loads(GOLDEN.read_text())
