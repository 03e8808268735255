"""Switching of the micromaser field between its two peaks against Θ, for three pump statistics.

Run ``python analysis/switching_times.py [--fresh]``.  Excited atoms at Nex = 100 (the
pump-statistics study's ``runs/pumpstats_nex100.toml``: κτ = 1e-3, γ = 0, n_b = 0.15),
regular, binomial (p = 0.5) and Poisson pumping.  Lines: the exact mean first-passage times
up (lower → upper peak) and down, and the weight of the lower peak, from the density matrix
(:func:`trajmaser.dm.switching.switching`; drawn where the stationary p(n) has two peaks).
Points: forward-flux trajectories (``trajmaser switching``, default budget, 32 replicas),
±1 standard error.

Writes ``analysis/figures/switching_times.png``, ``analysis/figures/p_n_bistable.png``
(p(n) just before an atom at Θ = 7: density matrix and the forward-flux estimate),
``results/analysis/switching.json`` and ``results/analysis/switching_table.md``.
"""

from __future__ import annotations

import math

import numpy as np
from common import (
    cached_map,
    fresh_flag,
    savefig,
    switching_points,
    write_json,
    write_text,
    zscore,
)
from matplotlib import pyplot as plt
from pump_statistics import BUDGET, SEED, STATS, config

from trajmaser.dm.switching import switching

COLORS = {"regular": "C0", "binomial": "C2", "poisson": "C3"}
THETA_DM = np.round(np.arange(5.0, 12.5001, 0.1), 4)
THETA_FFS = (5.5, 6.0, 6.5, 7.0, 7.5, 10.5, 11.0, 11.5, 12.0)
THETA_PN = 7.0
K = 4.0


def _exact(job) -> list[float]:
    theta, stats, p = job
    ref = switching(config("nex100", theta, stats, p).model())
    if ref["n_lo"] is None:
        return [math.nan] * 5
    w_lo = next(q["weight"] for q in ref["peaks"] if q["n_mode"] == ref["n_lo"])
    return [ref["mfpt_up_atoms"], ref["mfpt_down_atoms"], w_lo, ref["n_lo"], ref["n_hi"]]


def _row(theta: float, stats: str, doc: dict) -> dict:
    ref = doc["dm"]
    row = {"theta": theta, "stats": stats, "peaks": len(doc["peaks"]), "n_lo": doc["n_lo"],
           "n_hi": doc["n_hi"], "atoms_simulated": doc["atoms_simulated"],
           "seconds": doc["seconds"], "relaxation_atoms": ref["relaxation_atoms"]}  # fmt: skip
    for k in ("mfpt_up_atoms", "mfpt_down_atoms"):
        row[k], row[f"{k}_err"], row[f"dm_{k}"] = doc[k], doc[f"{k}_err"], ref[k]
        if doc[k] is not None:
            row[f"z_{k}"] = zscore(doc[k], doc[f"{k}_err"], ref[k])
            row[f"rel_err_{k}"] = doc[f"{k}_err"] / doc[k]
    lo = [i for i, q in enumerate(ref["peaks"]) if q["n_mode"] == doc["n_lo"]]
    if lo:
        p = doc["peaks"][lo[0]]
        row["w_lo"], row["w_lo_err"] = p["weight"], p["weight_err"]
        row["dm_w_lo"] = ref["peaks"][lo[0]]["weight"]
        row["z_w_lo"] = zscore(p["weight"], p["weight_err"], row["dm_w_lo"])
    for k in ("n_mean", "mandel_q"):
        s = doc["steady"]
        row[k], row[f"{k}_err"], row[f"dm_{k}"] = s[k], s[f"{k}_err"], ref["steady"][k]
        row[f"z_{k}"] = zscore(s[k], s[f"{k}_err"], ref["steady"][k])
    return row


def _segments(c: np.ndarray):
    """Index ranges without a jump of the switching pair (a mode moving by > 3 photons)."""
    pair = c[:, 3:5]
    start = 0
    for j in range(1, len(pair) + 1):
        if j == len(pair) or not np.all(np.abs(pair[j] - pair[j - 1]) <= 3):
            yield slice(start, j)
            start = j


def _times_figure(curves: dict, rows: list[dict]) -> None:
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.8))
    keys = (("mfpt_up_atoms", 0, "up: lower → upper peak (atoms)"),
            ("mfpt_down_atoms", 1, "down: upper → lower peak (atoms)"),
            ("w_lo", 2, "weight of the lower peak"))  # fmt: skip
    for stats, _ in STATS:
        c = curves[stats]
        for ax, (key, i, label) in zip(axes, keys, strict=True):
            for k, seg in enumerate(_segments(c)):  # no line across a jump of the pair
                ax.plot(THETA_DM[seg], c[seg, i], color=COLORS[stats], lw=1.2,
                        label=None if k else
                        f"{stats}{' (p = 0.5)' if stats == 'binomial' else ''}")  # fmt: skip
            sel = [r for r in rows if r["stats"] == stats and r.get(key) is not None]
            th = np.array([r["theta"] for r in sel])
            ax.errorbar(th, [r[key] for r in sel], [r[f"{key}_err"] for r in sel], fmt="D",
                        ms=4, capsize=2.5, color=COLORS[stats], mec="k", mew=0.4)  # fmt: skip
            ax.set_yscale("log")
            ax.set_title(label, fontsize=10)
            ax.set_xlabel("Θ = gτ√Nex")
    axes[0].plot([], [], "kD", ms=4, label="forward-flux trajectories (±1σ)")
    axes[0].plot([], [], "k-", label="density matrix (exact)")
    axes[0].legend(fontsize=8)
    axes[0].set_ylabel("mean first-passage time (atoms)")
    fig.suptitle("Excited atoms, Nex = 100, κτ = 1e-3, n_b = 0.15: switching between the peaks "
                 "of p(n) just before an atom", fontsize=11)  # fmt: skip
    fig.tight_layout()
    savefig(fig, "switching_times")


def _pn_figure(docs: dict) -> None:
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.5), sharey=True)
    for ax, (stats, _) in zip(axes, STATS, strict=True):
        doc = docs[stats]
        ref = switching(config("nex100", THETA_PN, stats, 0.5 if stats == "binomial" else None)
                        .model())  # fmt: skip
        p = np.array(ref["p"])
        ax.semilogy(np.arange(p.size), p, color=COLORS[stats], lw=1.2, label="density matrix")
        est = np.array(doc["distribution"]["p"][: p.size])
        err = np.array(doc["distribution"]["p_err"][: p.size])
        ok = est > 0
        ax.errorbar(np.flatnonzero(ok), est[ok], err[ok], fmt="o", ms=2.5, color="k",
                    elinewidth=0.6, label="forward-flux trajectories (±1σ)")  # fmt: skip
        for lo, _ in ref["basins"][1:]:
            ax.axvline(lo - 0.5, color="0.6", ls=":", lw=0.8)
        text = "\n".join(
            f"n = {q['n_mode']}: {q['weight']:.3g} (DM), {e['weight']:.3g} ± {e['weight_err']:.2g}"
            for q, e in zip(ref["peaks"], doc["peaks"], strict=True)
        )
        ax.text(0.02, 0.02, text, transform=ax.transAxes, fontsize=7.5, va="bottom")
        ax.set_ylim(1e-16, 1)
        ax.set_title(f"{stats}{' (p = 0.5)' if stats == 'binomial' else ''}, Θ = {THETA_PN:g}")
        ax.set_xlabel("n (photons just before an atom)")
    axes[0].set_ylabel("p(n)")
    axes[0].legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    savefig(fig, "p_n_bistable")


def _table(rows: list[dict]) -> str:
    lines = ["| statistics | Θ | n_lo → n_hi | up (atoms) | DM | z | down (atoms) | DM | z | "
             "w_lo | DM | n̄ z | Q z | atoms simulated | s |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for r in rows:
        if r["mfpt_up_atoms"] is None:
            continue
        cells = [r["stats"], f"{r['theta']:g}", f"{r['n_lo']} → {r['n_hi']}"]
        for k in ("mfpt_up_atoms", "mfpt_down_atoms"):
            cells += [f"{r[k]:.3g} ± {100 * r[f'rel_err_{k}']:.0f} %", f"{r[f'dm_{k}']:.3g}",
                      f"{r[f'z_{k}']:+.2f}"]  # fmt: skip
        cells += [f"{r['w_lo']:.3g} ± {r['w_lo_err']:.2g}", f"{r['dm_w_lo']:.3g}",
                  f"{r['z_n_mean']:+.2f}", f"{r['z_mandel_q']:+.2f}",
                  f"{r['atoms_simulated']:.2g}", f"{r['seconds']:.0f}"]  # fmt: skip
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    fresh = fresh_flag()
    jobs = [(float(t), s, p) for s, p in STATS for t in THETA_DM]
    vals = cached_map("switching_dm", _exact, jobs, fresh=fresh)
    curves = {
        s: vals[i * THETA_DM.size : (i + 1) * THETA_DM.size] for i, (s, _) in enumerate(STATS)
    }
    pts = [(t, s, p) for s, p in STATS for t in THETA_FFS]
    models = [config("nex100", t, s, p).model() for t, s, p in pts]
    docs = switching_points(models, BUDGET, seed=SEED, fresh=fresh)
    rows = [_row(t, s, d) for (t, s, _), d in zip(pts, docs, strict=True)]
    _times_figure(curves, rows)
    _pn_figure({s: d for (t, s, _), d in zip(pts, docs, strict=True) if t == THETA_PN})
    two = [r for r in rows if r["mfpt_up_atoms"] is not None]
    zkeys = ("mfpt_up_atoms", "mfpt_down_atoms", "n_mean", "mandel_q")
    done = [r for r in two if all(abs(r[f"z_{k}"]) < K for k in zkeys)
            and max(r["rel_err_mfpt_up_atoms"], r["rel_err_mfpt_down_atoms"]) < 0.25]  # fmt: skip
    summary = {
        "points": len(two),
        "agree_4sigma_and_rel_err_below_25pct": len(done),
        "max_abs_z": {k: max(abs(r[f"z_{k}"]) for r in two) for k in (*zkeys, "w_lo")},
        "max_rel_err": max(
            max(r["rel_err_mfpt_up_atoms"], r["rel_err_mfpt_down_atoms"]) for r in two
        ),  # fmt: skip
        "max_seconds": max(r["seconds"] for r in two),
        "total_seconds": sum(r["seconds"] for r in two),
    }
    write_json("switching", {"rows": rows, "summary": summary,
                             "curves": {s: c.tolist() for s, c in curves.items()},
                             "theta_dm": THETA_DM.tolist()})  # fmt: skip
    write_text("switching_table.md", _table(rows))


if __name__ == "__main__":
    main()
