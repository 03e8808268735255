"""Paper Fig. 3: Tf/Tb(t) of the cavity for Nex = 500, 1500, 2500, 4500, 6500.

Run ``python analysis/fig3.py [--fresh]``.  Configurations: ``runs/fig3_nex*.toml`` (star fuel
N = 10, λ = 1; Ω/2π = 50 GHz, Q = 2e10, g = π·50 kHz, γ/2π = 33.3 Hz, τ = 9.5 µs, regular
pumping, thermal start at Tb); this script sets the ``[run]`` sizes below.  Writes

* ``analysis/figures/fig3_tf_vs_time.png``: (a) Tf/Tb against Ωt (log axis; seconds on top):
  trajectories (±1 standard-error bands) over the density-matrix curves, and the
  coarse-grained master equation (paper Eq. 4, relaxing to Tf ≈ Tq); (b) the plateau:
  steady Tf/Tb against Nex, trajectories vs density matrix vs coarse-grained vs Tq;
* ``results/analysis/fig3.json``: steady values and the trajectory-vs-DM z-scores.

gτ ≈ 1.49 here, so every atom nearly swaps its excitation with the field and the field
reaches its plateau within ~200 atoms (DM: Tf at atom 200 is within 3e-4 of the steady value):
the run covers 400 atoms, the steady window is atoms 200…399.
"""

from __future__ import annotations

import numpy as np
from common import (
    OMEGA_CAV,
    band,
    derive,
    fresh_flag,
    raw_config,
    run_points,
    savefig,
    steady,
    write_json,
    write_text,
    z_summary,
    zscore,
)
from matplotlib import pyplot as plt

from trajmaser import dm
from trajmaser.compare import compare_result
from trajmaser.params import tf_from_nbar

NEX = (500, 1500, 2500, 4500, 6500)
RUN = {"run__atoms": 400, "run__samples": 400, "run__burn_in": 200, "run__ntraj": 100000}
RUN.update(run__block_size=5000)
PLOT_POINTS = 150  # log-spaced subset of the sample times drawn in (a); z-scores use all


def _entry(nex: int, pt, ax, col) -> dict:
    """Draw one Nex into panel (a) and return its steady values and z-scores."""
    model, res = pt.config.model(), pt.result
    omega = res.omega
    est = res.time.photon_estimates(omega)
    t = np.concatenate([[0.0], res.times])
    tf = np.concatenate([[1.0], est["Tf_over_Tb"]])
    tf_err = np.concatenate([[0.0], est["Tf_over_Tb_err"]])
    ref = dm.time_series(model, res.times)
    tf_dm = np.concatenate([[1.0], tf_from_nbar(ref["n_mean"], omega)])
    cg = dm.coarse_grained(model, t)
    x = OMEGA_CAV * t
    sel = np.unique(np.geomspace(1, t.size - 1, PLOT_POINTS).astype(int))
    band(ax, x[sel], tf[sel], tf_err[sel], color=col, lw=1.0, label=f"Nex = {nex}")
    ax.plot(x[sel], tf_dm[sel], "k-", lw=0.6)
    ax.plot(x[sel], tf_from_nbar(cg["n_mean_t"][sel], omega), ls=":", color=col, lw=1.2)
    rep = compare_result(res, model, pt.config.run)
    z_time = rep["series"]["time"]["n_mean"]
    s_dm = dm.steady(model)
    s_tr, s_ar = steady(pt, "time"), steady(pt, "arrival")
    return {
        "Nex": nex,
        "ntraj": res.ntraj,
        "atoms": pt.config.run.atoms,
        "seconds": pt.seconds,
        "atom_period_s": 1.0 / model.rate,
        "g_tau": model.g * model.tau,
        "Tq": model.tq_over_tb,
        "cg_Tf": cg.get("Tf_over_Tb"),
        "dm_time": s_dm["time"]["Tf_over_Tb"],
        "dm_arrival": s_dm["arrival"]["Tf_over_Tb"],
        "traj_time": s_tr["Tf_over_Tb"],
        "traj_time_err": s_tr["Tf_over_Tb_err"],
        "traj_arrival": s_ar["Tf_over_Tb"],
        "traj_arrival_err": s_ar["Tf_over_Tb_err"],
        "z_steady_time": zscore(
            s_tr["Tf_over_Tb"], s_tr["Tf_over_Tb_err"], s_dm["time"]["Tf_over_Tb"]
        ),  # fmt: skip
        "z_steady_arrival": zscore(
            s_ar["Tf_over_Tb"], s_ar["Tf_over_Tb_err"], s_dm["arrival"]["Tf_over_Tb"]
        ),  # fmt: skip
        "series_n_mean": z_summary(z_time["z"]),
        "series_chi2_p": z_time["p_value"],
        "compare_ok": rep["ok"],
    }


def _finish_a(ax, tq: float) -> None:
    ax.plot([], [], "k-", lw=0.6, label="density matrix")
    ax.plot([], [], "k:", lw=1.2, label="coarse-grained (Eq. 4)")
    ax.axhline(tq, color="gray", lw=0.8, ls="--", label=f"Tq/Tb = {tq:.4f}")
    ax.set_xscale("log")
    ax.set_xlabel("Ω t")
    ax.set_ylabel("Tf / Tb")
    ax.set_title("(a) cavity temperature: trajectories (±1σ bands) over density matrix")
    ax.legend(fontsize=8, loc="lower right")
    top = ax.secondary_xaxis("top", functions=(lambda v: v / OMEGA_CAV, lambda v: v * OMEGA_CAV))
    top.set_xlabel("t (s)")


def _panel_b(bx, rows: list[dict], tq: float) -> None:
    nex = np.array(NEX, dtype=float)
    for key, lab, mk in (("time", "continuous time", "o"), ("arrival", "just before atoms", "s")):
        val = np.array([r[f"traj_{key}"] for r in rows])
        err = np.array([r[f"traj_{key}_err"] for r in rows])
        bx.errorbar(nex, val, err, fmt=mk, ms=4, capsize=3, label=f"trajectories, {lab}")
        bx.plot(nex, [r[f"dm_{key}"] for r in rows], "k-" if key == "time" else "k--", lw=0.8)
    bx.plot([], [], "k-", lw=0.8, label="density matrix")
    bx.plot(nex, [r["cg_Tf"] for r in rows], "C3:", marker="x", label="coarse-grained")
    bx.axhline(tq, color="gray", ls="--", lw=0.8, label="Tq/Tb")
    bx.set_xlabel("Nex")
    bx.set_ylabel("steady Tf / Tb")
    bx.set_title("(b) plateau (atoms 200–399)")
    bx.legend(fontsize=8)


def _table(rows: list[dict]) -> str:
    lines = [
        "| Nex | 1/r (µs) | Tf/Tb traj (time) | DM (time) | z | Tf/Tb traj (arrival) | DM "
        "(arrival) | z | coarse-grained | series max abs z (n=400) | χ² p |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['Nex']} | {1e6 * r['atom_period_s']:.2f} | {r['traj_time']:.4f} ± "
            f"{r['traj_time_err']:.4f} | {r['dm_time']:.4f} | {r['z_steady_time']:+.2f} | "
            f"{r['traj_arrival']:.4f} ± {r['traj_arrival_err']:.4f} | {r['dm_arrival']:.4f} | "
            f"{r['z_steady_arrival']:+.2f} | {r['cg_Tf']:.4f} | "
            f"{r['series_n_mean']['max_abs_z']:.2f} | {r['series_chi2_p']:.3f} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    cfgs = [derive(raw_config(f"fig3_nex{n}.toml"), **RUN) for n in NEX]
    points = run_points(cfgs, fresh=fresh_flag(), label="fig3")
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(13, 5), gridspec_kw={"width_ratios": [3, 2]})
    colors = plt.cm.viridis(np.linspace(0.0, 0.85, len(NEX)))
    rows = [_entry(n, pt, ax, c) for n, pt, c in zip(NEX, points, colors, strict=True)]
    _finish_a(ax, rows[0]["Tq"])
    _panel_b(bx, rows, rows[0]["Tq"])
    fig.tight_layout()
    savefig(fig, "fig3_tf_vs_time")
    write_json("fig3", {"runs": rows})
    write_text("fig3_table.md", _table(rows))


if __name__ == "__main__":
    main()
