"""Trajectory ensemble vs density-matrix reference: z-scores and χ² tests (SPEC §6 rung 4).

For every record point z = (traj − dm) / err, with err the trajectory result's own standard
error; χ² = Σ z² over a series with its p-value (``scipy.stats.chi2.sf``).  Series compared:
⟨n⟩ and Var(n) at the sample times and at the arrival records, and the steady-state n̄ and
Tf/Tb of both steady blocks.  Agreement means every |z| < k and every χ² p-value > 1e-3.

A user reference (``--reference FILE``) replaces the density-matrix time series: a CSV with
header ``time,n_mean[,n_var]`` or a ``.npy`` array with columns (time, n_mean[, n_var]);
its times must equal the result's sample times to 1e-9 relative (nothing is interpolated).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy.stats import chi2

from trajmaser.params import Model, RunParams
from trajmaser.results import Moments, Result

P_MIN = 1e-3
TIME_RTOL = 1e-9


def var_estimate(m: Moments) -> tuple[np.ndarray, np.ndarray]:
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
    pval = float(chi2.sf(stat, dof)) if dof and np.isfinite(stat) else (1.0 if not dof else 0.0)
    return {
        "z": [None if not np.isfinite(v) and not np.isinf(v) else float(v) for v in z],
        "max_abs_z": float(np.max(np.abs(zz))) if zz.size else 0.0,
        "chi2": stat,
        "dof": dof,
        "p_value": pval,
    }


def _series_block(m: Moments, ref: dict, omega: float) -> dict:
    est = m.photon_estimates(omega)
    out = {"n_mean": z_series(est["n_mean"], est["n_mean_err"], ref["n_mean"])}
    out["n_mean"].update(
        traj=est["n_mean"].tolist(),
        err=est["n_mean_err"].tolist(),
        ref=np.asarray(ref["n_mean"], dtype=float).tolist(),
    )
    if ref.get("n_var") is not None:
        var, verr = var_estimate(m)
        out["n_var"] = z_series(var, verr, ref["n_var"])
    return out


def _steady_block(m: Moments, ref: dict, omega: float) -> dict:
    est = m.photon_estimates(omega)
    out = {}
    for key in ("n_mean", "Tf_over_Tb"):
        val, err, dm = float(est[key][0]), float(est[f"{key}_err"][0]), float(ref[key])
        zs = z_series([val], [err], [dm])
        out[key] = {
            "traj": val,
            "err": err,
            "dm": dm,
            "z": zs["z"][0],
            "chi2": zs["chi2"],
            "dof": zs["dof"],
            "p_value": zs["p_value"],
            "max_abs_z": zs["max_abs_z"],
        }
    return out


def compare_result(
    result: Result,
    model: Model,
    run: RunParams,
    *,
    reference: dict | None = None,
    k: float = 4.0,
) -> dict:
    """Compare a trajectory result with the density-matrix reference.

    Parameters
    ----------
    result : Result
        Trajectory sums (e.g. from :func:`trajmaser.trajectories.simulate`).
    model, run : Model, RunParams
        The configuration that produced ``result``.
    reference : dict, optional
        User time series (``time``, ``n_mean``, optional ``n_var``) replacing the density
        matrix; then only the time series is compared.  See :func:`load_reference`.
    k : float
        Largest |z| accepted.

    Returns
    -------
    dict
        ``ok``, ``k``, ``series`` (``time`` / ``arrival`` → quantity → z, chi2, dof,
        p_value, max_abs_z), ``steady`` (block → n_mean / Tf_over_Tb), ``warnings``.
    """
    omega = result.omega
    warnings: list[str] = []
    series: dict = {}
    steady: dict = {}
    if reference is not None:
        check_reference_times(reference["time"], result.times)
        series["time"] = _series_block(result.time, reference, omega)
    else:
        from trajmaser import dm

        series["time"] = _series_block(result.time, dm.time_series(model, result.times), omega)
        series["arrival"] = _series_block(
            result.arrival, dm.arrival_series(model, result.arrival_index), omega
        )
        st = dm.steady(model)
        steady["arrival"] = _steady_block(result.steady_arrival, st["arrival"], omega)
        steady["time"] = _steady_block(result.steady_time, st["time"], omega)
        if 0 < run.burn_in < run.atoms:
            at_burn = float(dm.arrival_series(model, [run.burn_in])["n_mean"][0])
            se = steady["arrival"]["n_mean"]["err"]
            gap = abs(at_burn - st["arrival"]["n_mean"])
            if gap > 0.1 * se:
                warnings.append(
                    f"burn-in too short: the density-matrix <n> at atom {run.burn_in} differs "
                    f"from the steady state by {gap:.3g} = {gap / se:.2g} standard errors "
                    f"(> 0.1); steady-state z-scores include this transient"
                )
    ok = True
    for blocks in (series, steady):
        for quantities in blocks.values():
            for q in quantities.values():
                ok &= q["max_abs_z"] < k and q["p_value"] > P_MIN
    return {"ok": bool(ok), "k": float(k), "series": series, "steady": steady, "warnings": warnings}


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


def format_report(report: dict) -> str:
    """Human-readable summary of :func:`compare_result`."""
    lines = []
    for name, block in report["series"].items():
        for q, s in block.items():
            lines.append(
                f"{name:8s} {q:7s} max|z| = {s['max_abs_z']:6.2f}  "
                f"chi2 = {s['chi2']:8.2f} / {s['dof']:3d}  p = {s['p_value']:.3g}"
            )
    for name, block in report["steady"].items():
        for q, s in block.items():
            lines.append(
                f"steady {name:7s} {q:10s} traj = {s['traj']:.6g} ± {s['err']:.2g}  "
                f"dm = {s['dm']:.6g}  z = {s['z']:+.2f}"
            )
    lines.extend(f"warning: {w}" for w in report["warnings"])
    lines.append(
        ("AGREE" if report["ok"] else "DISAGREE") + f" (|z| < {report['k']:g}, chi2 p > {P_MIN:g})"
    )
    return "\n".join(lines)
