"""Benchmark: calibration and power of the trajectory-vs-reference verdict, old rule vs new.

(a) Calibration: with an exact reference (the density matrix), how often does the verdict
say DISAGREE?  ``--cal-seeds`` independent runs per regime at the regime's ``ntraj``; the
rate with its Wilson 95 % interval next to α.  (b) Power: references with planted solver
bugs; the detection rate against the trajectory count.  Every run is tested by both rules:

- OLD: the rule of trajmaser ≤ 2026-11 (kept here verbatim): |z| < 4 at every point and
  χ² p > 1e-3 per series, for ⟨n⟩ and Var(n) (delta method) at the sample times and arrival
  records and the steady n̄ and Tf/Tb;
- NEW: :func:`trajmaser.compare.compare_result` (batch sign-flip test on raw moments,
  family-wise α).

Trajectories of one (regime, ntraj, seed) are shared by all references.  Prints two markdown
tables; ``--out FILE`` keeps the raw outcomes (JSON) and ``--tables FILE`` reprints them.

Run:  python benchmarks/bench_validation.py [--cal-seeds 200] [--power-seeds 8] [--procs 2]
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import functools  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import operator  # noqa: E402
import time  # noqa: E402
from dataclasses import replace  # noqa: E402
from multiprocessing import Pool  # noqa: E402

import numpy as np  # noqa: E402
from scipy.linalg import expm  # noqa: E402
from scipy.stats import chi2  # noqa: E402

from trajmaser import dm  # noqa: E402
from trajmaser.batchmeans import FAMILIES, BatchMeans  # noqa: E402
from trajmaser.compare import compare_result, dm_references, reference_from_rows  # noqa: E402
from trajmaser.params import InitialField, Model, RunParams, tf_from_nbar  # noqa: E402
from trajmaser.validate import run_batches  # noqa: E402

ALPHA = 0.01
VAC = InitialField("vacuum")
REGIMES = {
    "thermal-like (n̄ = 0.49, 150 times)": (
        Model(
            pe=0.3, omega=1, g=1, gamma=0.1, kappa=0.05, tau=1, rate=0.5, nbar_bath=0.1, initial=VAC
        ),
        RunParams(atoms=1100, burn_in=100, samples=150, ntraj=1024, block_size=1024),
    ),
    "g = 0, n_b = 5": (
        Model(
            pe=0.3, omega=1, g=0, gamma=0.1, kappa=0.05, tau=1, rate=0.5, nbar_bath=5, initial=VAC
        ),
        RunParams(atoms=800, burn_in=300, samples=100, ntraj=1024, block_size=1024),
    ),
    "sub-Poissonian maser (n̄ = 8.4, Q = −0.63)": (
        Model(
            pe=1, omega=1, g=2 / math.sqrt(10), gamma=0, kappa=0.05, tau=1, rate=0.5, initial=VAC
        ),
        RunParams(atoms=800, burn_in=300, samples=100, ntraj=1024, block_size=1024),
    ),
    "Poisson pump, κτ = 0.3, γτ = 0.5": (
        Model(
            pe=0.4,
            omega=1,
            g=1.2,
            gamma=0.5,
            kappa=0.3,
            tau=1,
            rate=0.4,
            nbar_bath=0.2,
            statistics="poisson",
            initial=VAC,
        ),
        RunParams(atoms=600, burn_in=100, samples=100, ntraj=1024, block_size=1024),
    ),
}
#: Trajectories per independent chunk of the power runs, and the largest ntraj per regime
#: (beyond it every applicable bug is caught by both rules, or by neither).
CHUNK = 1024
MAX_NTRAJ = dict(zip(REGIMES, (65536, 16384, 4096, 65536), strict=True))
BUGS = (
    "κ +1 %",
    "κ −1 %",
    "g +1 %",
    "g −1 %",
    "n_b +10 %",
    "no dissipation during τ",
    "Poisson gaps (regular pump)",
    "steady state + 1 % vacuum",
)


# ---------------------------------------------------------------- the OLD rule, verbatim
def _var_estimate(m):
    mx, my, vx, vy, cxy = m.mean_cov()
    return my - mx * mx, np.sqrt(np.maximum(vy + 4.0 * mx * mx * vx - 4.0 * mx * cxy, 0.0))


def _z_series(value, err, ref):
    value, err, ref = (np.asarray(a, dtype=float) for a in (value, err, ref))
    diff = value - ref
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(err > 0, diff / err, np.where(diff == 0, np.nan, np.inf * np.sign(diff)))
    zz = z[np.isfinite(z) | np.isinf(z)]
    stat = float(np.sum(zz * zz)) if zz.size else 0.0
    pval = float(chi2.sf(stat, zz.size)) if zz.size and np.isfinite(stat) else float(not zz.size)
    return (float(np.max(np.abs(zz))) if zz.size else 0.0), pval


def old_rule(result, refs: dict) -> bool:
    """True when the pre-2026-12 rule says AGREE."""
    checks = []
    for fam in ("time", "arrival"):
        if fam not in refs:
            continue
        m, ref = getattr(result, fam), refs[fam]
        est = m.photon_estimates(result.omega)
        checks.append(_z_series(est["n_mean"], est["n_mean_err"], ref.n))
        var, verr = _var_estimate(m)
        checks.append(_z_series(var, verr, ref.n2 - ref.n**2))
    for fam in ("steady_arrival", "steady_time"):
        est = getattr(result, fam).photon_estimates(result.omega)
        nbar = float(refs[fam].n[0])
        checks.append(_z_series(est["n_mean"][:1], est["n_mean_err"][:1], [nbar]))
        tf = float(tf_from_nbar(nbar, result.omega))
        checks.append(_z_series(est["Tf_over_Tb"][:1], est["Tf_over_Tb_err"][:1], [tf]))
    return all(zmax < 4.0 and p > 1e-3 for zmax, p in checks)


# ---------------------------------------------------------------- planted bugs
def _split_solver(m: Model, m_int: Model, times, arrival_index, nmax: int) -> dict:
    """References of a solver that uses ``m_int`` during the interaction and ``m`` in gaps
    (regular: all families; poisson: no time series)."""
    a, a_int = dm.atom_maps(m_int, nmax)
    gen = dm.gap_generator(m, nmax)
    r, tau, eye = m.rate, m.tau, np.eye(nmax + 1)
    if m.statistics == "regular":
        aug = np.zeros((2 * (nmax + 1), 2 * (nmax + 1)))
        aug[: nmax + 1, : nmax + 1] = gen * (1 / r - tau)
        aug[: nmax + 1, nmax + 1 :] = eye * (1 / r - tau)
        f = expm(aug)
        gmap, gint = f[: nmax + 1, : nmax + 1], f[: nmax + 1, nmax + 1 :]
        step, occ = gmap @ a, r * (a_int + gint @ a)
    else:
        mu = 1 / (1 / r - tau)
        res = np.linalg.solve(mu * eye - gen, eye)
        step, occ = mu * res @ a, r * (a_int + res @ a)
    p0 = dm.initial_distribution(m, nmax)
    w, v = np.linalg.eig(step)
    p_arr = np.real(v[:, np.argmin(np.abs(w - 1))])
    p_arr /= p_arr.sum()
    arrivals, p, rows = {}, p0.copy(), []
    for k in range(int(max(arrival_index)) + 1):
        arrivals[k] = p
        p = step @ p
    refs = {
        "arrival": reference_from_rows([arrivals[int(k)] for k in arrival_index], arrival_index),
        "steady_arrival": reference_from_rows([p_arr]),
        "steady_time": reference_from_rows([occ @ p_arr]),
    }
    if m.statistics == "regular":
        for t in times:
            k = int(math.floor(t * r + 1e-12))
            s = t - k / r
            pk = arrivals[k] if k in arrivals else np.linalg.matrix_power(step, k) @ p0
            if s <= 1e-12 / r:
                rows.append(pk)
            elif s < tau:
                rows.append(dm.atom_maps(m_int, nmax, s)[0] @ pk)
            else:
                rows.append(expm(gen * (s - tau)) @ (a @ pk))
        refs["time"] = reference_from_rows(rows, times)
    return refs


def bug_references(name: str, m: Model, run: RunParams, grid) -> dict | None:
    """References of the planted bug ``name`` (None when it cannot matter in this regime)."""
    times, arrival_index = grid
    if name.startswith("κ"):
        return dm_references(replace(m, kappa=m.kappa * (1.01 if "+" in name else 0.99)), *grid)
    if name.startswith("g "):
        if m.g == 0:
            return None
        return dm_references(replace(m, g=m.g * (1.01 if "+" in name else 0.99)), *grid)
    if name.startswith("n_b"):
        return (
            None
            if m.nbar_bath == 0
            else dm_references(replace(m, nbar_bath=m.nbar_bath * 1.1), *grid)
        )
    if name.startswith("no dissipation"):
        nmax = dm.steady(m)["nmax"] + 5
        return _split_solver(m, replace(m, kappa=0.0, gamma=0.0), times, arrival_index, nmax)
    if name.startswith("Poisson"):
        if m.statistics != "regular":
            return None
        return dm_references(replace(m, statistics="poisson"), *grid)
    refs = dict(dm_references(m, *grid))
    for fam in ("steady_arrival", "steady_time"):
        p = refs[fam].p.copy()
        p *= 0.99
        p[0, 0] += 0.01
        refs[fam] = reference_from_rows(p)
    return refs


def exact_references(m: Model, grid) -> dict:
    """The density-matrix references (the exact answer)."""
    return dm_references(m, *grid)


# ---------------------------------------------------------------- runs
def record_grid(m: Model, run: RunParams):
    """Sample times and arrival indices of a regime."""
    from trajmaser.trajectories.records import record_plan

    plan = record_plan(m, run)
    return plan.times, plan.arrival_index


def _references(name: str) -> dict:
    m, run = REGIMES[name]
    grid = record_grid(m, run)
    out = {"exact": exact_references(m, grid)}
    for bug in BUGS:
        refs = bug_references(bug, m, run, grid)
        if refs is not None and all(
            np.allclose(
                _pad(refs[f].p, out["exact"][f].p),
                _pad(out["exact"][f].p, refs[f].p),
                rtol=0,
                atol=1e-12,
            )
            for f in refs
        ):
            refs = None  # identical to the exact answer: this bug cannot matter here
        out[bug] = refs
    return name, out


def _pad(a, b):
    return np.pad(a, ((0, 0), (0, max(0, b.shape[1] - a.shape[1]))))


_REFS: dict = {}


def _init(refs: dict) -> None:
    global _REFS
    _REFS = refs


def _evaluate(name: str, ntraj: int, seed: int, result, data, keys) -> dict:
    """Verdicts of the OLD rule and the NEW test against the references ``keys``."""
    out = {"regime": name, "ntraj": ntraj, "seed": seed}
    for key in keys:
        refs = _REFS[name][key]
        if refs is None:
            continue
        new = compare_result(result, reference=refs, alpha=ALPHA, batches=data)
        out[key] = [not old_rule(result, refs), not new["ok"]]
    return out


def _cal_task(args) -> dict:
    """One calibration run: the exact reference only."""
    name, seed = args
    m, run = REGIMES[name]
    result, data = run_batches(m, replace(run, seed=seed))
    return _evaluate(name, run.ntraj, seed, result, data, ["exact"]) | {"part": "cal"}


def _merge(parts: list):
    """Disjoint independent chunks as one run: results summed, batch b of every chunk pooled
    into batch b (count-weighted means)."""
    result = functools.reduce(operator.add, (r for r, _ in parts))
    data = {}
    for fam in FAMILIES:
        bms = [d[fam] for _, d in parts]
        count = sum(bm.count for bm in bms)
        levels = max(bm.p.shape[2] for bm in bms)
        w = [bm.count / count for bm in bms]
        n = sum(wi[:, None] * bm.n for wi, bm in zip(w, bms, strict=True))
        n2 = sum(wi[:, None] * bm.n2 for wi, bm in zip(w, bms, strict=True))
        p = sum(
            wi[:, None, None] * np.pad(bm.p, ((0, 0), (0, 0), (0, levels - bm.p.shape[2])))
            for wi, bm in zip(w, bms, strict=True)
        )
        data[fam] = BatchMeans(count, n, n2, p)
    return result, data


def _power_task(args) -> list[dict]:
    """One power seed: chunks of ``CHUNK`` trajectories, tested at every ntraj of the grid
    (the runs at smaller ntraj are subsets of those at larger ntraj)."""
    name, seed, grid = args
    m, run = REGIMES[name]
    parts, rows = [], []
    for ntraj in grid:
        while len(parts) * CHUNK < ntraj:
            chunk_run = replace(run, ntraj=CHUNK, seed=20_000 + 1000 * seed + len(parts))
            parts.append(run_batches(m, chunk_run))
        result, data = _merge(parts)
        rows.append(
            _evaluate(name, ntraj, seed, result, data, list(_REFS[name])) | {"part": "power"}
        )
    return rows


def run_all(args) -> list[dict]:
    """Calibration runs, then the power runs (each seed up to the regime's largest ntraj)."""
    names = [n for n in REGIMES if args.regimes is None or any(r in n for r in args.regimes)]
    with Pool(args.procs) as pool:
        refs = dict(pool.map(_references, names))
    rows = []
    with Pool(args.procs, initializer=_init, initargs=(refs,)) as pool:
        if args.part in ("all", "cal"):
            cal = [(n, 10_000 + s) for n in names for s in range(args.cal_from, args.cal_seeds)]
            t0 = time.time()
            for i, out in enumerate(pool.imap_unordered(_cal_task, cal, chunksize=4)):
                rows.append(out)
                if (i + 1) % 10 == 0:
                    _save(args.out, rows, args.ntraj_grid)
                    print(f"# calibration: {i + 1} of {len(cal)} runs", flush=True)
            print(f"# calibration: {len(cal)} runs in {time.time() - t0:.0f} s", flush=True)
        if args.part in ("all", "power"):
            tasks = [
                (n, s, [g for g in args.ntraj_grid if g <= MAX_NTRAJ[n]])
                for s in range(args.power_seeds)
                for n in names
            ]
            t0 = time.time()
            for i, out in enumerate(pool.imap_unordered(_power_task, tasks)):
                rows += out
                _save(args.out, rows, args.ntraj_grid)  # partial results survive an interrupt
                print(
                    f"# power: {i + 1} of {len(tasks)} seeds, {time.time() - t0:.0f} s", flush=True
                )
    return rows


# ---------------------------------------------------------------- tables
def _wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    p = k / n
    c = (p + z * z / (2 * n)) / (1 + z * z / n)
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, c - h), min(1.0, c + h)


def _power(rows, name, ntraj) -> dict:
    sel = [r for r in rows if r["regime"] == name and r["ntraj"] == ntraj and r["part"] == "power"]
    out = {}
    for bug in BUGS:
        hits = [r[bug] for r in sel if bug in r]
        if hits:
            out[bug] = [float(np.mean([h[0] for h in hits])), float(np.mean([h[1] for h in hits]))]
    return out


def tables(rows: list[dict], grid: list[int]) -> str:
    """The calibration and power tables (markdown)."""
    merged: dict = {}
    for r in rows:  # the same run may come from a calibration and a power file
        r.setdefault("part", "cal")  # files written before the field existed
        merged.setdefault((r["part"], r["regime"], r["ntraj"], r["seed"]), {}).update(r)
    rows = list(merged.values())
    names = list(dict.fromkeys(r["regime"] for r in rows))
    out = [
        f"(a) False alarms with the exact reference (alpha = {ALPHA}); Wilson 95 % intervals",
        "",
        "| regime | runs × ntraj | OLD rule | NEW test |",
        "|---|---|---|---|",
    ]
    for n in names:
        m, run = REGIMES[n]
        sel = [r for r in rows if r["regime"] == n and r["part"] == "cal"]
        if not sel:
            continue
        cells = []
        for i in (0, 1):
            k = sum(r["exact"][i] for r in sel)
            lo, hi = _wilson(k, len(sel))
            cells.append(f"{k / len(sel):.3f} ({k}/{len(sel)}; {lo:.3f}–{hi:.3f})")
        out.append(f"| {n} | {len(sel)} × {run.ntraj} | {cells[0]} | {cells[1]} |")
    out += [
        "",
        "(b) Detection rate of planted solver bugs, OLD / NEW, against ntraj",
        "(— : the bug leaves this regime's reference unchanged or the regime lacks the "
        "parameter; · : not run, beyond the ntraj run for the regime)",
        "",
    ]
    for n in names:
        if not any(r["regime"] == n and r["part"] == "power" for r in rows):
            continue
        out += [
            f"**{n}**",
            "",
            "| bug | " + " | ".join(f"{g:,}" for g in grid) + " |",
            "|---|" + "---|" * len(grid),
        ]
        ran = {r["ntraj"] for r in rows if r["regime"] == n and r["part"] == "power"}
        for bug in BUGS:
            cells = []
            for g in grid:
                rate = _power(rows, n, g).get(bug)
                if g > MAX_NTRAJ[n] or g not in ran:
                    cells.append("·")
                elif rate is None:
                    cells.append("—")
                else:
                    cells.append(f"{100 * rate[0]:.0f} / {100 * rate[1]:.0f} %")
            out.append(f"| {bug} | " + " | ".join(cells) + " |")
        nseeds = len({r["seed"] for r in rows if r["regime"] == n and r["part"] == "power"})
        out += ["", f"({nseeds} seeds per cell)", ""]
    return "\n".join(out)


def _save(path, rows: list, grid: list) -> None:
    if path:
        with open(path, "w") as fh:
            json.dump({"rows": rows, "grid": grid}, fh)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cal-seeds", type=int, default=200)
    ap.add_argument(
        "--cal-from",
        type=int,
        default=0,
        help="first calibration seed index (continue an interrupted run into another --out)",
    )
    ap.add_argument("--power-seeds", type=int, default=8)
    ap.add_argument(
        "--ntraj-grid",
        type=lambda s: [int(x) for x in s.split(",")],
        default=[1024, 4096, 16384, 65536],
    )
    ap.add_argument("--procs", type=int, default=2)
    ap.add_argument(
        "--part",
        choices=("all", "cal", "power"),
        default="all",
        help="calibration only, power only (its smallest ntraj included), or both",
    )
    ap.add_argument("--regimes", nargs="*", help="substrings of regime names (default: all)")
    ap.add_argument("--out", help="write the raw outcomes (JSON) here")
    ap.add_argument("--tables", help="reprint the tables of --out files (comma-separated)")
    args = ap.parse_args()
    if args.tables:
        rows, grid = [], []
        for path in args.tables.split(","):
            with open(path) as fh:
                saved = json.load(fh)
            rows += saved["rows"]
            grid = sorted(set(grid) | set(saved["grid"]))
        print(tables(rows, grid))
        return
    t0 = time.time()
    rows = run_all(args)
    _save(args.out, rows, args.ntraj_grid)
    print(tables(rows, args.ntraj_grid))
    print(f"\n(total {time.time() - t0:.0f} s on {args.procs} processes)")


if __name__ == "__main__":
    main()
