"""Atom-click correlations: P(atom k + j found excited | atom k found excited) against j.

Run ``python analysis/clicks.py [--fresh]`` after ``pump_statistics.py`` (it reuses that
script's cached runs).  Excited atoms at Nex = 20 (``runs/pumpstats_nex20.toml``), regular,
binomial (p = 0.5) and Poisson pumping, at Θ = 3 (strongly sub-Poissonian field) and Θ = 6
(two peaks, slow switching), each with a stationary burn-in.  Lines: the exact stationary
correlation (:func:`trajmaser.dm.clicks.click_correlation`); crosses: the exact value for the
run's window; points: the trajectories' click record (``summary()["clicks"]["correlation"]``,
±1 standard error) when the result carries it.

Writes ``analysis/figures/click_correlations.png`` and ``results/analysis/clicks.json``.
"""

from __future__ import annotations

import numpy as np
from common import fresh_flag, run_points, savefig, stationary_config, write_json, zscore
from matplotlib import pyplot as plt
from pump_statistics import STATS, config

from trajmaser.dm.clicks import NLAG, click_correlation

COLORS = {"regular": "C0", "binomial": "C2", "poisson": "C3"}
THETAS = (3.0, 6.0)


def main() -> None:
    jobs = [(t, s, p) for t in THETAS for s, p in STATS]
    cfgs = [stationary_config(config("nex20", t, s, p)) for t, s, p in jobs]
    points = run_points(cfgs, fresh=fresh_flag(), label="clicks")
    fig, axes = plt.subplots(1, len(THETAS), figsize=(12, 4.5))
    rows = []
    for (theta, stats, _), cfg, pt in zip(jobs, cfgs, points, strict=True):
        model, run = cfg.model(), cfg.run
        ax = axes[THETAS.index(theta)]
        lags = np.arange(1, NLAG + 1)
        stat = click_correlation(model, NLAG)
        prot = click_correlation(model, NLAG, efficiency=run.detector_efficiency,
                                 start=run.burn_in, window=run.atoms - run.burn_in)  # fmt: skip
        ax.plot(lags, stat["p_ee"], color=COLORS[stats], lw=1.2, label=stats)
        ax.plot(lags, prot["p_ee"], "x", color="0.3", ms=4)
        ax.axhline(stat["p_e"], color=COLORS[stats], lw=0.6, ls=":")
        row = {"theta": theta, "stats": stats, "lag": lags.tolist(), "dm": stat["p_ee"],
               "dm_window": prot["p_ee"], "p_e": stat["p_e"], "burn_in": run.burn_in}  # fmt: skip
        corr = pt.result.summary()["clicks"].get("correlation")
        if corr is not None:
            ax.errorbar(lags, corr["p_ee"], corr["p_ee_err"], fmt="o", ms=3.5, capsize=2,
                        color=COLORS[stats], mec="k", mew=0.4)  # fmt: skip
            trio = zip(corr["p_ee"], corr["p_ee_err"], prot["p_ee"], strict=True)
            row.update(traj=corr["p_ee"], traj_err=corr["p_ee_err"],
                       z=[zscore(v, e, r) for v, e, r in trio])  # fmt: skip
        rows.append(row)
        ax.set_title(f"Nex = 20, Θ = {theta:g}", fontsize=10)
        ax.set_xlabel("lag j (atoms)")
    axes[0].set_ylabel("P(atom k+j found excited | atom k found excited)")
    axes[0].plot([], [], "k-", label="density matrix, stationary")
    axes[0].plot([], [], "x", color="0.3", label="density matrix, the run's window")
    axes[0].plot([], [], "ko", ms=3.5, label="trajectories (±1σ)")
    axes[0].plot([], [], "k:", lw=0.6, label="p_e (uncorrelated)")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    savefig(fig, "click_correlations")
    write_json("clicks", {"rows": rows})


if __name__ == "__main__":
    main()
