"""Trajectories against the density matrix or a user reference: the verdict users read.

The statistics live in :mod:`trajmaser.agreement`; this module builds the references (the
density matrix of the configuration, or reference values given by the user), chooses the
calibrated batch test or the fallback, and words the verdict.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from trajmaser.agreement import ALPHA, compare_batches, fallback_test
from trajmaser.batchmeans import (
    BatchMeans,
    FamilyReference,
    batch_means_of,
    reference_from_rows,
)
from trajmaser.references import TIME_RTOL

__all__ = [
    "compare_result",
    "dm_references",
    "format_report",
    "reference_from_rows",
    "verdict_line",
]


# ------------------------------------------------------------------ references
STEADY_NMAX = 300
"""Largest Fock cut-off of the steady-state reference (beyond it: no steady families)."""


def dm_references(model, times, arrival_index) -> dict[str, FamilyReference]:
    """Density-matrix references of every family: p(n) (and its moments) at the sample
    ``times``, just before the atoms ``arrival_index``, and the two steady states (left out
    when there is none within `STEADY_NMAX` levels, e.g. an inverted medium that masers)."""
    from trajmaser import dm

    times = np.asarray(times, dtype=float)
    arrival_index = np.asarray(arrival_index, dtype=np.int64)
    refs = {
        "time": reference_from_rows(dm.time_series(model, times)["p"], times),
        "arrival": reference_from_rows(dm.arrival_series(model, arrival_index)["p"], arrival_index),
    }
    try:
        st = dm.steady(model, nmax_limit=STEADY_NMAX)
    except ValueError:
        return refs
    for fam in ("arrival", "time"):
        refs[f"steady_{fam}"] = reference_from_rows([st[fam]["p"]])
    return refs


def burn_in_warnings(model, run, result, steady_n: float) -> list[str]:
    """A warning when the steady window still holds a visible transient.

    The density-matrix ⟨n⟩ just before atoms burn_in … atoms − 1, averaged, is compared with
    the steady state's ``steady_n`` (arrival block); more than 0.1 of the trajectories'
    standard error is reported.
    """
    from trajmaser import dm

    if not 0 < run.burn_in < run.atoms:
        return []
    window = dm.arrival_series(model, np.arange(run.burn_in, run.atoms))["n_mean"].mean()
    se = float(np.sqrt(max(result.steady_arrival.mean_cov()[2][0], 0.0)))
    gap = abs(window - steady_n)
    if gap <= 0.1 * se:
        return []
    return [
        f"burn-in too short: the density-matrix <n> averaged over atoms {run.burn_in}.."
        f"{run.atoms - 1} differs from the steady state by {gap:.3g} = "
        f"{gap / se if se > 0 else np.inf:.2g} standard errors (> 0.1); the steady blocks "
        f"include this transient"
    ]


# ------------------------------------------------------------------ the public comparison
def compare_result(
    result,
    model=None,
    run=None,
    *,
    reference: dict[str, FamilyReference] | None = None,
    alpha: float = ALPHA,
    batches: dict[str, BatchMeans] | None = None,
) -> dict:
    """Compare a trajectory result with the density matrix or a user reference.

    Parameters
    ----------
    result : Result
        Trajectory sums.  Its batch sums (or ``batches``) give the calibrated test; without
        either, the conservative Bonferroni fallback (:func:`fallback_test`) is used.
    model, run : Model, RunParams
        The configuration of ``result`` (needed for the density-matrix reference).
    reference : dict, optional
        Family name → :class:`FamilyReference` replacing the density matrix; only those
        families are compared.
    alpha : float
        Family-wise false-alarm level.
    batches : dict, optional
        Family name → :class:`BatchMeans` (e.g. from independent runs).

    Returns
    -------
    dict
        The :func:`compare_batches` report plus ``verdict`` (one line), ``warnings``, ``k``
        (the simultaneous |t| bound) and, as before, ``series`` (``time`` / ``arrival`` →
        ``n_mean`` → z, traj, err, ref, max_abs_z, chi2, dof) and ``steady``.
    """
    warnings: list[str] = []
    if reference is None:
        refs = dm_references(model, result.times, result.arrival_index)
        if "steady_arrival" in refs:
            warnings = burn_in_warnings(model, run, result, float(refs["steady_arrival"].n[0]))
        else:
            warnings = [
                f"no density-matrix steady state within {STEADY_NMAX} photons: the steady "
                "blocks are not compared (the time and arrival series are)"
            ]
    else:
        refs = reference
    data = batches if batches is not None else batch_means_of(result)
    if data is None:
        rep = fallback_test(result, refs, alpha=alpha)
        warnings.append(
            "the result holds no batch sums (an older result file): conservative Bonferroni "
            "test with the trajectories' own standard errors"
        )
    else:
        rep = compare_batches(data, refs, alpha=alpha)
    rep["warnings"] = warnings
    rep["k"] = rep["t_crit"]
    rep["series"], rep["steady"] = _legacy_views(rep["points"])
    rep["verdict"] = verdict_line(rep)
    return rep


def _legacy_views(points: dict) -> tuple[dict, dict]:
    """The n_mean series and steady values in the layout of earlier versions."""
    series, steady = {}, {}
    for fam, qs in points.items():
        rec = qs.get("n")
        if rec is None:
            continue
        z = np.asarray(rec["z"], float)
        zz = z[np.isfinite(z)]
        view = {
            "z": z,
            "traj": rec["traj"],
            "err": rec["err"],
            "ref": rec["ref"],
            "max_abs_z": float(np.max(np.abs(zz))) if zz.size else 0.0,
            "chi2": float(np.sum(zz * zz)),
            "dof": int(zz.size),
        }
        if fam.startswith("steady_"):
            steady[fam[7:]] = {
                "n_mean": {
                    "traj": float(rec["traj"][0]),
                    "err": float(rec["err"][0]),
                    "dm": float(rec["ref"][0]),
                    "z": float(z[0]),
                }
            }
        else:
            series[fam] = {"n_mean": view}
    return series, steady


def _describe(x: dict) -> str:
    where = f"{x['family']} {x['quantity']}"
    if "at" in x:
        where += f" at {'t = ' if x['family'] == 'time' else 'atom '}{x['at']:.6g}"
        where += " s" if x["family"] == "time" else ""
    if "err" in x:
        return (
            f"{where}: {x['traj']:.6g} ± {x['err']:.2g} vs reference {x['ref']:.6g} "
            f"(t = {x['z']:+.2f})"
        )
    return f"{where}: {x['traj']:.6g} (no spread) vs reference {x['ref']:.6g}"


def verdict_line(rep: dict) -> str:
    """One line: the verdict, its p-value and, on disagreement, what failed and by how much."""
    head = ("AGREE" if rep["ok"] else "DISAGREE") + (
        f" at family-wise alpha = {rep['alpha']:g}: p = {rep['p_value']:.3g} "
        f"({rep['tested']} quantities, {rep['method']}"
        + (f", {rep['batches']} batches" if rep["batches"] else "")
        + ")"
    )
    if rep["ok"]:
        if rep["worst"] is not None:
            head += f"; largest |t| = {abs(rep['worst']['z']):.2f} < bound {rep['t_crit']:.2f}"
        return head
    parts = []
    zf = rep["zero_spread"]["failing"]
    if zf:
        parts.append(
            f"{len(zf)} quantities without spread differ from the reference, "
            f"first {_describe(zf[0])}"
        )
    if rep["p_value"] <= rep["alpha"]:
        if rep["n_beyond"]:
            parts.append(
                f"{rep['n_beyond']} quantities beyond the simultaneous bound "
                f"|t| = {rep['t_crit']:.2f}, worst {_describe(rep['beyond'][0])}"
            )
        else:
            name, s = min(rep["statistics"].items(), key=lambda kv: kv[1]["p"])
            parts.append(
                f"{name} = {s['value']:.3g} (p = {s['p']:.3g}); worst {_describe(rep['worst'])}"
            )
    return head + "; " + "; ".join(parts)


def format_report(rep: dict) -> str:
    """Human-readable summary of :func:`compare_result`."""
    lines = []
    for name, s in rep["statistics"].items():
        lines.append(f"{name:28s} = {s['value']:10.4g}   p = {s['p']:.3g}")
    for x in rep["beyond"][:10]:
        lines.append(f"beyond bound: {_describe(x)}")
    for x in rep["zero_spread"]["failing"][:10]:
        lines.append(f"no spread, differs: {_describe(x)}")
    if rep["skipped_skewed"]:
        lines.append(
            f"{rep['skipped_skewed']} quantities not tested: too few trajectories for their "
            "skewness g (a quantity needs ntraj >= (g / 0.1)^2; docs/VALIDATION.md)"
        )
    lines.extend(f"warning: {w}" for w in rep["warnings"])
    lines.append(rep["verdict"])
    return "\n".join(lines)


# ------------------------------------------------------------------ earlier helpers, kept
# Per-point z and χ² of a single series, Var(n) with its delta-method error, and the
# moments-only reference reader of earlier versions: used by tests of the trajectory
# kernels; the verdict above does not use them.
def var_estimate(m) -> tuple[np.ndarray, np.ndarray]:
    """Var(n) = ⟨n²⟩ − ⟨n⟩² per record point with its delta-method standard error."""
    mx, my, vx, vy, cxy = m.mean_cov()
    var = my - mx * mx
    err2 = vy + 4.0 * mx * mx * vx - 4.0 * mx * cxy
    return var, np.sqrt(np.maximum(err2, 0.0))


def z_series(value, err, ref) -> dict:
    """z-scores of ``value ± err`` against ``ref`` and the χ² test over the usable points.

    Points with zero error and zero difference (deterministic records such as a Fock initial
    state) are skipped; a zero error with a nonzero difference gives z = ±inf.
    """
    value, err, ref = (np.asarray(a, dtype=float) for a in (value, err, ref))
    diff = value - ref
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(err > 0, diff / err, np.where(diff == 0, np.nan, np.inf * np.sign(diff)))
    used = np.isfinite(z) | np.isinf(z)
    zz = z[used]
    stat = float(np.sum(zz * zz)) if zz.size else 0.0
    dof = int(zz.size)
    from scipy.stats import chi2  # (only this legacy χ²: the CLI's start does not pay for it)

    pval = float(chi2.sf(stat, dof)) if dof and np.isfinite(stat) else (1.0 if not dof else 0.0)
    return {
        "z": [None if not np.isfinite(v) and not np.isinf(v) else float(v) for v in z],
        "max_abs_z": float(np.max(np.abs(zz))) if zz.size else 0.0,
        "chi2": stat,
        "dof": dof,
        "p_value": pval,
    }


def check_reference_times(ref_times, times) -> None:
    """Raise ValueError unless ``ref_times`` equal the sample ``times`` to 1e-9 relative."""
    ref_times = np.asarray(ref_times, dtype=float)
    times = np.asarray(times, dtype=float)
    if ref_times.shape != times.shape or not np.allclose(ref_times, times, rtol=TIME_RTOL, atol=0):
        listing = ", ".join(f"{t:.17g}" for t in times)
        raise ValueError(
            f"reference times do not match the {times.size} sample times of the result "
            f"(to {TIME_RTOL:g} relative; nothing is interpolated). Expected times (s): "
            f"{listing}. Print them with `trajmaser compare OUT --print-times`."
        )


def load_reference(path: str | Path) -> dict:
    """Read a user reference time series.

    Parameters
    ----------
    path : str or Path
        ``.csv`` with header ``time,n_mean[,n_var]`` or ``.npy`` with 2 or 3 columns
        (time, n_mean[, n_var]).

    Returns
    -------
    dict
        ``time``, ``n_mean`` and ``n_var`` (None when absent) arrays.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"reference file {path} does not exist")
    if path.suffix == ".npy":
        data = np.load(path, allow_pickle=False)
        if data.ndim != 2 or data.shape[1] not in (2, 3):
            raise ValueError(
                f"{path}: expected a 2-D array with columns (time, n_mean[, n_var]), "
                f"got shape {data.shape}"
            )
        cols = {"time": data[:, 0], "n_mean": data[:, 1]}
        cols["n_var"] = data[:, 2] if data.shape[1] == 3 else None
        return cols
    if path.suffix != ".csv":
        raise ValueError(f"{path}: reference must be a .csv or .npy file")
    with open(path) as fh:
        header = [h.strip() for h in fh.readline().strip().split(",")]
    if header not in (["time", "n_mean"], ["time", "n_mean", "n_var"]):
        raise ValueError(f"{path}: CSV header must be 'time,n_mean[,n_var]', got {header}")
    data = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
    cols = {name: data[:, i] for i, name in enumerate(header)}
    cols.setdefault("n_var", None)
    return cols
