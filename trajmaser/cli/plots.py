"""Figures of the command line (matplotlib, Agg backend)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from trajmaser.results import Result


def plot_comparison(report: dict, result: Result, png: str | Path) -> None:
    """Trajectory ⟨n⟩(t) with a ±1 standard-error band and the reference curve."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    s = report["series"]["time"]["n_mean"]
    t = np.asarray(result.times)
    traj, err, ref = (np.asarray(s[k]) for k in ("traj", "err", "ref"))
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.fill_between(t, traj - err, traj + err, alpha=0.3, label="trajectories ± 1 SE")
    ax.plot(t, traj, "o-", ms=3, label="trajectories")
    ax.plot(t, ref, "k--", label="reference")
    ax.set_xlabel("t (s)")
    ax.set_ylabel("⟨n⟩")
    ax.legend()
    fig.tight_layout()
    fig.savefig(png, dpi=120)
    plt.close(fig)
