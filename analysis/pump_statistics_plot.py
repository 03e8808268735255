"""The pump-statistics figure (``analysis/figures/pump_statistics.png``), from the rows of
``pump_statistics.py``.

Rows: n̄/Nex, field Q, atom-count Q_a against Θ; columns: the three cases.  Lines: the
stationary density matrix (dashed black: FJM).  Filled markers: stationary trajectory
estimates (circles: runs, diamonds: rare-event forward flux).  Hollow grey-edged markers:
finite runs that are not stationary (the stationarity warning fires), with small crosses for
the density matrix of their own protocol.  Q axes are linear in [−1, 1] (ticks every 0.5)
and logarithmic beyond (plain linear where all values lie in [−1, 1]).
"""

from __future__ import annotations

import numpy as np
from common import savefig
from matplotlib import pyplot as plt
from matplotlib.lines import Line2D
from matplotlib.ticker import FixedLocator, FuncFormatter

COLORS = {"regular": "C0", "binomial": "C2", "poisson": "C3"}
Q_TICKS = [-1.0, -0.5, 0.0, 0.5, 1.0, 10.0, 100.0]


def _q_axis(ax) -> None:
    lo, hi = ax.get_ylim()
    ax.axhline(0.0, color="gray", lw=0.7)
    ax.axhspan(-1.0, 0.0, color="0.93", zorder=0)
    if hi <= 1.0:  # all within [−1, 1]: a plain linear axis
        ax.set_ylim(max(lo, -1.05), hi)
        ax.grid(axis="y", color="0.85", lw=0.5)
        return
    ax.set_yscale("symlog", linthresh=1.0, linscale=3.0)
    ax.set_ylim(max(lo, -1.05), hi)
    ax.yaxis.set_major_locator(FixedLocator([t for t in Q_TICKS if t <= max(hi, 1.0)]))
    ax.yaxis.set_minor_locator(FixedLocator([-0.75, -0.25, 0.25, 0.75, *range(2, 10),
                                             *range(20, 100, 10)]))  # fmt: skip
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.grid(axis="y", which="major", color="0.85", lw=0.5)


def _points(ax, sel: list[dict], key: str, scale: float, color: str) -> None:
    for source, marker in (("finite run", "o"), ("long burn-in", "o"), ("rare event", "D")):
        pts = [r for r in sel if r["source"] == source and np.isfinite(r[key])]
        if pts:
            th = np.array([r["theta"] for r in pts])
            y = np.array([r[key] for r in pts]) / scale
            e = np.array([r[f"{key}_err"] for r in pts]) / scale
            ax.errorbar(th, y, e, fmt=marker, ms=4, capsize=2, color=color, mec="k", mew=0.4,
                        zorder=4)  # fmt: skip
    off = [r for r in sel if r["warned"]]
    if off:
        th = np.array([r["theta"] for r in off]) + 0.08
        y = np.array([r[f"finite_{key}"] for r in off]) / scale
        e = np.array([r[f"finite_{key}_err"] for r in off]) / scale
        ax.errorbar(th, y, e, fmt="o", ms=4, capsize=1.5, color=color, mfc="white", mec="0.45",
                    alpha=0.7, zorder=3)  # fmt: skip
        ref = np.array([r[f"dm_protocol_{key}"] for r in off]) / scale
        ax.plot(th, ref, "x", color="0.3", ms=3.5, mew=0.7, zorder=3)


def _legend(ax) -> None:
    handles = [
        Line2D([], [], color="k", lw=1, label="density matrix, stationary"),
        Line2D([], [], color="k", ls="--", lw=0.9, label="FJM (poisson, κτ → 0)"),
        Line2D([], [], marker="o", ls="", color="0.5", mec="k", label="trajectories, stationary"),
        Line2D(
            [],
            [],
            marker="D",
            ls="",
            color="0.5",
            mec="k",
            label="rare-event trajectories (forward flux)",
        ),  # fmt: skip
        Line2D(
            [],
            [],
            marker="o",
            ls="",
            mfc="white",
            mec="0.45",
            color="0.5",
            label="finite run, not stationary (warned)",
        ),  # fmt: skip
        Line2D([], [], marker="x", ls="", color="0.3", label="density matrix of that finite run"),
    ]
    handles += [Line2D([], [], color=c, lw=2, label=s) for s, c in COLORS.items()]
    ax.legend(handles=handles, fontsize=7, loc="lower right")


def plot(rows: list[dict], curves: dict, cases, stats, theta_dm) -> None:
    """Draw and save the figure."""
    fig, axes = plt.subplots(3, 3, figsize=(15, 12), sharex=True)
    for col, (case, title) in enumerate(cases):
        nex = 20.0 if case == "nex20" else 100.0
        for name, _ in stats:
            c = curves[f"{case}|{name}"]
            sel = [r for r in rows if r["case"] == case and r["stats"] == name]
            for i, key in enumerate(("n_mean", "mandel_q", "atom_q")):
                scale = nex if key == "n_mean" else 1.0
                axes[i, col].plot(theta_dm, c[:, i] / scale, color=COLORS[name], lw=1)
                _points(axes[i, col], sel, key, scale, COLORS[name])
        fjm = curves[f"fjm|{case}"]
        axes[0, col].plot(theta_dm, fjm[:, 0] / nex, "k--", lw=0.9)
        axes[1, col].plot(theta_dm, fjm[:, 1], "k--", lw=0.9)
        axes[0, col].set_title(title, fontsize=10)
        for i in (1, 2):
            _q_axis(axes[i, col])
        axes[2, col].set_xlabel("Θ = gτ√Nex")
    axes[0, 0].set_ylabel("n̄ / Nex (just before an atom)")
    axes[1, 0].set_ylabel("field Mandel Q (grey: sub-Poissonian)")
    axes[2, 0].set_ylabel("atom-count Mandel Q_a")
    _legend(axes[0, 2])
    fig.tight_layout()
    savefig(fig, "pump_statistics")
