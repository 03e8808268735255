"""Trajectories against the density matrix or a user reference: the verdict users read.

The statistics live in :mod:`trajmaser.agreement`; this module builds the references (the
density matrix of the configuration, or reference values given by the user), chooses the
calibrated batch test or the fallback, and words the verdict.
"""

from __future__ import annotations

import numpy as np

from trajmaser.agreement import (
    ALPHA,
    BatchMeans,
    FamilyReference,
    batch_means_of,
    compare_batches,
    fallback_test,
)

__all__ = [
    "compare_result",
    "dm_references",
    "format_report",
    "reference_from_rows",
    "verdict_line",
]


# ------------------------------------------------------------------ references
def reference_from_rows(p_rows, label=None) -> FamilyReference:
    """A :class:`FamilyReference` from p(n) rows (moments computed from the rows)."""
    p = np.atleast_2d(np.asarray(p_rows, dtype=float))
    lev = np.arange(p.shape[1], dtype=float)
    return FamilyReference(n=p @ lev, n2=p @ (lev * lev), p=p, label=label)


def dm_references(model, times, arrival_index) -> dict[str, FamilyReference]:
    """Density-matrix references of every family: p(n) (and its moments) at the sample
    ``times``, just before the atoms ``arrival_index``, and the two steady states."""
    from trajmaser import dm

    times = np.asarray(times, dtype=float)
    arrival_index = np.asarray(arrival_index, dtype=np.int64)
    refs = {
        "time": reference_from_rows(dm.time_series(model, times)["p"], times),
        "arrival": reference_from_rows(dm.arrival_series(model, arrival_index)["p"], arrival_index),
    }
    st = dm.steady(model)
    for fam in ("arrival", "time"):
        refs[f"steady_{fam}"] = reference_from_rows([st[fam]["p"]])
    return refs


def burn_in_warnings(model, run, result) -> list[str]:
    """A warning when the steady window still holds a visible transient.

    The density-matrix ⟨n⟩ just before atoms burn_in … atoms − 1, averaged, is compared with
    the steady state; more than 0.1 of the trajectories' standard error is reported.
    """
    from trajmaser import dm

    if not 0 < run.burn_in < run.atoms:
        return []
    window = dm.arrival_series(model, np.arange(run.burn_in, run.atoms))["n_mean"].mean()
    se = float(np.sqrt(max(result.steady_arrival.mean_cov()[2][0], 0.0)))
    gap = abs(window - dm.steady(model)["arrival"]["n_mean"])
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
        warnings = burn_in_warnings(model, run, result)
    else:
        refs = reference
    data = batches if batches is not None else batch_means_of(result)
    if data is None:
        rep = fallback_test(result, refs, alpha=alpha)
        warnings.append(
            "the result holds no batch sums (written by an older trajmaser): conservative "
            "Bonferroni test with the trajectories' own standard errors"
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
            f"{rep['skipped_skewed']} quantities not tested (trajectory mean too "
            f"skewed for a {rep['alpha']:g}-level test at this ntraj)"
        )
    lines.extend(f"warning: {w}" for w in rep["warnings"])
    lines.append(rep["verdict"])
    return "\n".join(lines)
