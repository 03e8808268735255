"""Figure of a comparison report: ⟨n⟩ with its ±1σ band and the reference, z, and p(n).

Uses ``matplotlib.figure.Figure`` directly (no pyplot state), so it works in scripts, under
the Agg backend of the command line and inline in notebooks (a returned Figure displays).
"""

from __future__ import annotations

import numpy as np

XLABEL = {"time": "t (s)", "arrival": "atom index k (just before atom k)"}


def _main_family(points: dict) -> str | None:
    for fam in ("time", "arrival", "steady_arrival", "steady_time"):
        if fam in points:
            return fam
    return None


def _x(points: dict, fam: str) -> np.ndarray:
    at = points[fam].get("at")
    n = len(points[fam]["n"]["traj"])
    return np.arange(n, dtype=float) if at is None else np.asarray(at, dtype=float)


def _p_panel(ax, rec: dict, j: int, label: str, title: str) -> None:
    sel = np.asarray(rec["point"]) == j
    lev = np.asarray(rec["level"])[sel]
    traj, err, ref = (np.asarray(rec[k])[sel] for k in ("traj", "err", "ref"))
    ax.bar(lev, traj, yerr=err, color="C0", alpha=0.6, capsize=2, label="trajectories ± 1σ")
    ax.plot(lev, ref, "k_", ms=14, mew=2, label=label)
    ax.set_xlabel("n")
    ax.set_title(title, fontsize=9)


def plot_report(rep: dict, *, label: str = "reference", title: str | None = None):
    """Figure of a :func:`trajmaser.compare.compare_result` report.

    Top: trajectory ⟨n⟩ with a ±1 standard-error band and the reference curve (labelled
    ``label``).  Middle: the per-point t statistics of ⟨n⟩, ⟨n²⟩ and p(n) with the
    simultaneous bound ±``t_crit``.  Bottom: p(n) at two record points and in the steady
    block, trajectories ± 1σ against the reference.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.figure import Figure

    pts = rep["points"]
    fam = _main_family(pts)
    fig = Figure(figsize=(10, 9), layout="constrained")
    grid = fig.add_gridspec(3, 3, height_ratios=[1.3, 1.0, 1.0])
    ax_n = fig.add_subplot(grid[0, :])
    ax_z = fig.add_subplot(grid[1, :], sharex=ax_n)
    fig.suptitle(f"{title + ': ' if title else ''}{rep['verdict']}", fontsize=9)
    if fam is None:
        return fig
    x = _x(pts, fam)
    n = pts[fam]["n"]
    traj, err, ref = (np.asarray(n[k], dtype=float) for k in ("traj", "err", "ref"))
    ax_n.fill_between(x, traj - err, traj + err, color="C0", alpha=0.3, label="trajectories ± 1σ")
    ax_n.plot(x, traj, "o", color="C0", ms=2.5, label="trajectories")
    ax_n.plot(x, ref, "k-", lw=1.2, label=label)
    ax_n.set_ylabel("⟨n⟩")
    ax_n.legend(fontsize=8)
    marks = {"n": ("o", "⟨n⟩"), "n2": ("s", "⟨n²⟩"), "p": (".", "p(n)")}
    for q, (mk, name) in marks.items():
        if q in pts[fam]:
            rec = pts[fam][q]
            xs = x[np.asarray(rec["point"], dtype=int)]
            ax_z.plot(xs, np.asarray(rec["z"], dtype=float), mk, ms=3, label=name)
    tc = rep["t_crit"]
    ax_z.axhline(tc, color="r", lw=0.8, label=f"±{tc:.2f}: simultaneous α = {rep['alpha']:g}")
    ax_z.axhline(-tc, color="r", lw=0.8)
    ax_z.axhline(0, color="k", lw=0.5)
    ax_z.set_ylabel("t (batch means)")
    ax_z.set_xlabel(XLABEL.get(fam, "record"))
    ax_z.legend(fontsize=7, ncol=4)
    panels = []
    if "p" in pts[fam]:
        npts = len(x)
        panels += [
            (fam, npts // 2, f"{fam} at {x[npts // 2]:.4g}"),
            (fam, npts - 1, f"{fam} at {x[-1]:.4g}"),
        ]
    for steady in ("steady_arrival", "steady_time"):
        if steady in pts and "p" in pts[steady] and len(panels) < 3:
            panels.append((steady, 0, steady.replace("_", " ")))
    for i, (f, j, name) in enumerate(panels[:3]):
        ax = fig.add_subplot(grid[2, i])
        _p_panel(ax, pts[f]["p"], j, label, name)
        if i == 0:
            ax.set_ylabel("p(n)")
            ax.legend(fontsize=7)
    return fig
