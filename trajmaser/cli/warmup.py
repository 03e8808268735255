"""`trajmaser warmup`: compile every trajectory kernel into numba's on-disk cache, once.

A fresh install has no compiled kernels, so the first `trajmaser run` spends seconds in numba
before its first block.  Warmup runs a few tiny simulations through the public entry point
(`trajmaser.simulate`) that between them take every kernel variant a run can use: the Fock
and the general path, each pump statistics, bath photons and detuning, every initial field,
a lossy detector.  Numba caches what it compiles (``cache=True``), so later runs in any
process load it instead.  A second warmup compiles nothing and takes about a second.

Where the cache goes: next to the package's sources when that directory is writable, else the
user-wide ``~/.cache/numba`` (``$XDG_CACHE_HOME/numba``); ``NUMBA_CACHE_DIR`` overrides both
(it must then be set for the runs too).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import asdict

from trajmaser.cli.render import emit

BASE = {
    "fuel": {"model": "state", "pe": 0.3, "omega": 6.0},
    "cavity": {"kappa": 15.7, "g": 157079.63267948966, "gamma": 209.23, "tau": 9.5e-6},
    "pump": {"statistics": "regular", "Nex": 10},
    "run": {"atoms": 12, "ntraj": 2, "samples": 4, "burn_in": 6, "seed": 1, "block_size": 2},
}
"""A tiny configuration (a few hundred passages); each case below changes a few keys of it."""

_COHERENT = {"fuel": {"coherence": [0.1, 0.0]}}
_BATH = {"cavity": {"nbar_bath": 0.5, "detuning": 1e4}}
_LOSSY = {"run": {"detector_efficiency": 0.5}}
CASES = (
    ("fock, regular", {}),
    ("fock, poisson", {"pump": {"statistics": "poisson"}}),
    ("fock, binomial", {"pump": {"statistics": "binomial", "p": 0.5}}),
    ("fock, bath + detuning", _BATH),
    ("fock, fock:2 field", {"cavity": {"initial": "fock:2"}}),
    ("fock, vacuum, detector 0.5", {"cavity": {"initial": "vacuum"}, **_LOSSY}),
    ("general, regular", _COHERENT),
    ("general, poisson", {**_COHERENT, "pump": {"statistics": "poisson"}}),
    ("general, binomial", {**_COHERENT, "pump": {"statistics": "binomial", "p": 0.5}}),
    ("general, coherent field", {"cavity": {"initial": "coherent:0.5"}}),
    ("general, bath + detuning", {**_COHERENT, **_BATH}),
    (
        "general, fock:2, detector 0.5",
        {"cavity": {"initial": "fock:2"}, "run": {"method": "general", "detector_efficiency": 0.5}},
    ),
)
"""(label, changes to `BASE`): together they take every kernel variant a run can use."""

QUICK = ("fock, regular",)
"""``--quick``: only the Fock path (the kernel of the default job and of every diagonal run)."""


def case_config(changes: dict):
    """`BASE` with ``changes`` (table → keys) applied, as a validated `Config`."""
    from trajmaser.config import config_from_dict

    raw = copy.deepcopy(BASE)
    for table, keys in changes.items():
        raw.setdefault(table, {}).update(keys)
    return config_from_dict(raw)


def warmup(
    labels: tuple[str, ...] | None = None, on_case: Callable[[dict], None] | None = None
) -> dict:
    """Run the tiny simulations of `CASES` (those named in ``labels``, default all).

    Parameters
    ----------
    labels : tuple of str, optional
        Case labels to run; all of `CASES` when None.
    on_case : callable, optional
        ``on_case(row)`` after each case, with the row described below.

    Returns
    -------
    dict
        ``cases``: one row per case (``case``, ``method``, ``seconds``, ``compiled``: numba
        compilations it caused); ``compiled`` and ``seconds`` in total; ``kernels``: every
        numba function now in memory (``name``, ``signatures``, ``loaded`` from the cache,
        ``compiled``); ``cache_dirs``: where their caches are.

    Raises
    ------
    ValueError
        An unknown case label.
    """
    from trajmaser.run.compiling import CompileWatch, kernels
    from trajmaser.trajectories import resolve_method, simulate

    known = [label for label, _ in CASES]
    for label in labels or ():
        if label not in known:
            raise ValueError(f"unknown warmup case {label!r}; cases: {', '.join(known)}")
    rows = []
    t_all = time.perf_counter()
    for label, changes in CASES:
        if labels is not None and label not in labels:
            continue
        cfg = case_config(changes)
        model = cfg.model()
        t0 = time.perf_counter()
        with CompileWatch() as watch:
            simulate(model, cfg.run)
        row = {
            "case": label,
            "method": resolve_method(model, cfg.run),
            "seconds": round(time.perf_counter() - t0, 3),
            "compiled": watch.compiled,
        }
        rows.append(row)
        if on_case is not None:
            on_case(row)
    info = kernels()
    return {
        "cases": rows,
        "compiled": sum(r["compiled"] for r in rows),
        "seconds": round(time.perf_counter() - t_all, 3),
        "kernels": [asdict(k) for k in info],
        "cache_dirs": sorted({k.cache_dir for k in info if k.cache_dir}),
    }


def add_parser(sub) -> None:
    p = sub.add_parser(
        "warmup",
        help="compile the trajectory kernels once (run after installing)",
        description="Compile every trajectory kernel (Fock and general path, each pump "
        "statistics, every initial field) into numba's on-disk cache by running tiny "
        "simulations, so that no later run waits for the compiler. The cache sits next to "
        "the package when it is writable, else in ~/.cache/numba; NUMBA_CACHE_DIR overrides "
        "both (set it for the runs too). Rerunning it compiles nothing.",
    )
    p.add_argument("--json", action="store_true", help="machine-readable report on stdout")
    p.add_argument("--quick", action="store_true",
                   help="the Fock path only (the default job's kernel)")  # fmt: skip
    p.add_argument("--kernels", action="store_true", help="list every numba function too")
    p.set_defaults(func=run)


def run(args) -> int:
    def say(row: dict) -> None:
        if not args.json:
            print(f"  {row['case']:<30} {row['method']:<8} {row['seconds']:7.2f} s   "
                  f"{row['compiled']:3d} compiled", flush=True)  # fmt: skip

    if not args.json:
        print("trajmaser warmup: a tiny run through every kernel variant", flush=True)
    report = warmup(QUICK if args.quick else None, on_case=say)
    loaded = sum(k["loaded"] for k in report["kernels"])
    lines = [
        f"{report['compiled']} numba compilations, {loaded} loaded from the cache, "
        f"{report['seconds']:.1f} s in all",
        "numba cache (NUMBA_CACHE_DIR overrides):",
        *(f"  {d}" for d in report["cache_dirs"]),
    ]
    if args.kernels:
        lines += [f"  {k['name']:<52} {k['signatures']} signature(s), {k['compiled']} compiled, "
                  f"{k['loaded']} loaded" for k in report["kernels"]]  # fmt: skip
    emit(report, args.json, "\n".join(lines))
    return 0
