"""Fill ``analysis/REPRODUCTION.template.md`` into ``analysis/REPRODUCTION.md``.

Run ``python analysis/report.py`` (the last step of ``analysis/make_all.sh``).  Every number
that comes from a trajectory run (values, errors, z-scores, agreement counts, timing) is read
from what the figure scripts and ``make_all.sh`` wrote to ``results/analysis/``:
``fig3.json``, ``fig4.json``, ``pump_statistics.json``, ``switching.json``, ``clicks.json``
and ``timing.json`` (the pump-statistics and switching sections are in ``report_pump.py``).
The template holds the prose, with ``{{name}}`` placeholders; an unknown or unfilled
placeholder is an error, so the report cannot silently keep a stale number.  The agreement
paragraphs are generated from the z-scores themselves: a trajectory value that misses the
density matrix by 4 standard errors or more is named as such.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from report_pump import clicks_fields, pump_fields, switching_fields

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "results" / "analysis"
TEMPLATE = ROOT / "analysis" / "REPRODUCTION.template.md"
OUTPUT = ROOT / "analysis" / "REPRODUCTION.md"
K = 4.0  # agreement threshold in standard errors


def num(x: float, fmt: str = ".4f") -> str:
    """``x`` formatted with a typographic minus sign."""
    return format(x, fmt).replace("-", "−")


def _load(name: str) -> dict:
    path = RESULTS / name
    if not path.is_file():
        sys.exit(f"report.py: {path} is missing; run bash analysis/make_all.sh first")
    return json.loads(path.read_text())


def _zsum(z: list[float]) -> dict:
    z = [v for v in z if v == v]  # drop nan
    return {
        "n": len(z),
        "max": max(abs(v) for v in z) if z else float("nan"),
        "chi2": sum(v * v for v in z) / len(z) if z else float("nan"),
        "bad": sum(abs(v) >= K for v in z),
    }


# ------------------------------------------------------------------ Fig. 3
def fig3_fields(d: dict) -> dict[str, str]:
    """Placeholders of the Fig. 3 section (and the paper table's Nex = 6500 plateau)."""
    runs = d["runs"]
    rows = [
        "| Nex | 1/r (µs) | Tf/Tb traj (time avg) | DM | z | traj (before atoms) | DM | z | "
        "coarse-grained | time series: max abs z over {n} points | χ² p |".format(
            n=runs[0]["series_n_mean"]["n"]
        ),
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in runs:
        rows.append(
            f"| {r['Nex']} | {1e6 * r['atom_period_s']:.2f} | {num(r['traj_time'])} ± "
            f"{r['traj_time_err']:.4f} | {num(r['dm_time'])} | {num(r['z_steady_time'], '+.2f')} | "
            f"{num(r['traj_arrival'])} ± {r['traj_arrival_err']:.4f} | {num(r['dm_arrival'])} | "
            f"{num(r['z_steady_arrival'], '+.2f')} | {num(r['cg_Tf'])} | "
            f"{r['series_n_mean']['max_abs_z']:.2f} | {r['series_chi2_p']:.3f} |"
        )
    nser = sum(r["series_n_mean"]["n"] for r in runs)
    zmax = max(r["series_n_mean"]["max_abs_z"] for r in runs)
    pmin = min(r["series_chi2_p"] for r in runs)
    plateau = [(abs(r[f"z_steady_{k}"]), r["Nex"], k) for r in runs for k in ("time", "arrival")]
    pz, pnex, pkind = max(plateau)
    bad_series = [r["Nex"] for r in runs if r["series_n_mean"]["max_abs_z"] >= K]
    bad_plateau = sorted({nex for z, nex, _ in plateau if z >= K})
    parts = []
    if not bad_series and not bad_plateau:
        parts.append(
            f"Every trajectory point lies within {K:g} standard errors of the DM: the largest "
            f"|z| is {zmax:.2f} among the {nser} time-series points (as expected for that many "
            f"points), and the largest of the {len(plateau)} plateau |z| is {pz:.2f} "
            f"(Nex = {pnex}, {'time average' if pkind == 'time' else 'before atoms'})."
        )
    else:
        parts.append(
            f"**Not every point agrees within {K:g}σ:** largest time-series |z| = {zmax:.2f} "
            f"(over {nser} points; ≥ {K:g}σ at Nex = {', '.join(map(str, bad_series)) or '–'}), "
            f"largest plateau |z| = {pz:.2f} (Nex = {pnex}; plateau values ≥ {K:g}σ at "
            f"Nex = {', '.join(map(str, bad_plateau)) or '–'})."
        )
    if pmin >= 1e-3:
        parts.append(f"The χ² tests of the time series pass (p ≥ {pmin:.3f}).")
    else:
        parts.append(f"**A χ² test of the time series fails** (smallest p = {pmin:.2g}).")
    failed = [str(r["Nex"]) for r in runs if not r["compare_ok"]]
    parts.append(
        "The full check of `trajmaser.compare.compare_result` (its calibrated family-wise "
        "test over the time and arrival series of every compared quantity and the steady "
        "values, false-alarm level 0.01) "
        + (
            "passes for every Nex."
            if not failed
            else f"**fails for Nex = {', '.join(failed)}** (see `results/analysis/fig3.json`)."
        )
    )
    cg_gap = [100 * (r["cg_Tf"] - r["dm_time"]) / r["dm_time"] for r in runs]
    dm_plateau = [r["dm_time"] for r in runs]
    tq_gap = [100 * (r["Tq"] - r["dm_time"]) / r["Tq"] for r in runs]
    by_nex = {r["Nex"]: r for r in runs}
    r65 = by_nex[6500]
    return {
        "g_tau": f"{runs[0]['g_tau']:.3f}",
        "fig3_table": "\n".join(rows),
        "fig3_agreement": " ".join(parts),
        "fig3_cg_range": f"{min(r['cg_Tf'] for r in runs):.4f}–{max(r['cg_Tf'] for r in runs):.4f}",
        "fig3_cg_gap_range": f"{min(cg_gap):.1f}–{max(cg_gap):.1f} %",
        "fig3_tq_gap_first": f"{tq_gap[0]:.2f} % at Nex = {runs[0]['Nex']}",
        "fig3_tq_gap_last": f"{tq_gap[-1]:.2f} % at {runs[-1]['Nex']}",
        "fig3_nex_spread": f"{100 * (max(dm_plateau) / min(dm_plateau) - 1):.1f} %",
        "plateau_6500_dm": f"{r65['dm_time']:.4f}",
        "plateau_6500_traj": f"{r65['traj_time']:.4f} ± {r65['traj_time_err']:.4f}",
        "tq": f"{runs[0]['Tq']:.4f}",
    }


# ------------------------------------------------------------------ Fig. 4
def fig4_fields(d: dict) -> dict[str, str]:
    """Placeholders of the Fig. 4 / efficiency section."""
    series = d["kappa"] + d["gamma"]
    i10 = series[0]["N"].index(10)
    rows = [
        "| variant | Tf/Tb (N = 10) traj | DM | z | η (N = 10) traj | DM η | "
        "max abs z over N = {a}…{b} |".format(a=series[0]["N"][0], b=series[0]["N"][-1]),
        "|---|---|---|---|---|---|---|",
    ]
    for s in series:
        t, m = s["traj"], s["dm"]
        rows.append(
            f"| {s['label']} | {num(t['Tf_over_Tb'][i10])} ± {t['Tf_over_Tb_err'][i10]:.4f} | "
            f"{num(m['Tf_over_Tb'][i10])} | {num(s['z'][i10], '+.2f')} | "
            f"{num(t['efficiency'][i10])} ± {t['efficiency_err'][i10]:.4f} | "
            f"{num(m['efficiency'][i10])} | {s['z_summary']['max_abs_z']:.2f} |"
        )
    tq10 = series[0]["Tq"][i10]
    rows.append(f"| coarse-grained (Tf = Tq, star) | {tq10:.4f} | | | | {1 - 1 / tq10:.4f} | |")
    zs = _zsum([z for s in series for z in s["z"]])
    if zs["bad"] == 0:
        agree = (
            f"All {zs['n']} (variant, N) points agree with the DM within {K:g}σ: "
            f"max |z| = {zs['max']:.2f}, mean z² = {zs['chi2']:.2f}."
        )
    else:
        bad = [
            f"{s['label']}, N = {n} (z = {num(z, '+.2f')})"
            for s in series
            for n, z in zip(s["N"], s["z"], strict=True)
            if abs(z) >= K
        ]
        agree = (
            f"**{zs['bad']} of {zs['n']} (variant, N) points miss the DM by {K:g}σ or more:** "
            f"{'; '.join(bad)}.  Max |z| = {zs['max']:.2f}, mean z² = {zs['chi2']:.2f}."
        )
    q0, q_last, g_last = d["kappa"][0], d["kappa"][-1], d["gamma"][-1]
    lit = d["paper_literal_dm_N10"]
    eta1 = g_last["dm"]["efficiency"][g_last["N"].index(1)]
    burns = [b for s in series for b in s["burn_ins"]]
    return {
        "fig4_burn_ins": f"{min(burns)}–{max(burns)}",
        "fig4_table": "\n".join(rows),
        "fig4_agreement": agree,
        "fig4_literal_dm": ", ".join(f"{v:.4f}" for v in lit.values()),
        "eta_q_last_dm": f"{q_last['dm']['efficiency'][i10]:.2f}",
        "eta_gamma_last_n1_dm": num(eta1, ".3f"),
        "eta_gamma_last_n1_sign": "< 0" if eta1 < 0 else "≥ 0",
        "eta_paper_dm": f"{q0['dm']['efficiency'][i10]:.4f}",
        "eta_paper_dm_pct": f"{100 * q0['dm']['efficiency'][i10]:.2f} %",
        "eta_paper_traj_pct": f"{100 * q0['traj']['efficiency'][i10]:.2f} ± "
        f"{100 * q0['traj']['efficiency_err'][i10]:.2f} %",
    }


# ------------------------------------------------------------------ timing
def timing_fields(t: dict, f3: dict, f4: dict, ps: dict, sw: dict) -> dict[str, str]:
    """The timing paragraph, from ``results/analysis/timing.json`` (written by make_all.sh)."""
    st = t["steps"]
    names = {
        "fuel": "fuel",
        "fig3": "Fig. 3",
        "fig4": "Fig. 4",
        "pump_statistics": "pump statistics",
        "switching": "switching",
        "clicks": "click correlations",
    }
    steps = ", ".join(f"{names.get(k, k)} {v:.0f} s" for k, v in st.items())
    passages = sum(r["ntraj"] * r["atoms"] for r in f3["runs"])
    passages += sum(s["ntraj"] * (b + s["window"]) for s in f4["kappa"] + f4["gamma"]
                    for b in s["burn_ins"])  # fmt: skip
    passages += sum(r["ntraj"] * r["atoms"] for r in ps["rows"])
    passages += sum(r["ntraj"] * (r["burn_in_long"] + r["window"]) for r in ps["rows"]
                    if "burn_in_long" in r)  # fmt: skip
    passages += sum(r.get("atoms_simulated", 0) for r in ps["rows"] + sw["rows"])
    mant, exp = f"{passages:.1e}".split("e")
    how = (
        "`bash analysis/make_all.sh --fresh` (every trajectory rerun)"
        if t["fresh"]
        else (
            "`bash analysis/make_all.sh` (cached trajectory runs reused, so this is NOT "
            "the cost of a full regeneration)"
        )
    )
    return {
        "timing": (
            f"**Timing.** The numbers below are from the run of {t['date']}: {how} took "
            f"**{t['total']:.0f} s ({t['total'] / 60:.1f} min)** wall clock on this "
            f"{t['cores']}-core machine with {t['workers']} worker processes, as measured by "
            f"`make_all.sh` itself: {steps}.  Load average (1 min) {t['load_start']:.1f} at the "
            f"start and {t['load_end']:.1f} at the end; the machine is shared, so these timings "
            f"are pessimistic.  In all, about {mant}·10^{int(exp)} atom passages are simulated."
        )
    }


def fill(template: str, fields: dict[str, str]) -> str:
    """Replace every ``{{name}}`` of ``template``; unknown or unused names raise ValueError."""
    used = set(re.findall(r"\{\{(\w+)\}\}", template))
    missing = used - fields.keys()
    if missing:
        raise ValueError(f"template placeholders without a value: {sorted(missing)}")
    unused = fields.keys() - used
    if unused:
        raise ValueError(f"values not used by the template: {sorted(unused)}")
    return re.sub(r"\{\{(\w+)\}\}", lambda m: fields[m.group(1)], template)


def main() -> None:
    f3, f4 = _load("fig3.json"), _load("fig4.json")
    ps, t = _load("pump_statistics.json"), _load("timing.json")
    sw, ck = _load("switching.json"), _load("clicks.json")
    fields = {}
    fields.update(fig3_fields(f3))
    fields.update(fig4_fields(f4))
    fields.update(pump_fields(ps))
    fields.update(switching_fields(sw))
    fields.update(clicks_fields(ck))
    fields.update(timing_fields(t, f3, f4, ps, sw))
    OUTPUT.write_text(fill(TEMPLATE.read_text(), fields))
    print(f"wrote {OUTPUT.relative_to(ROOT)}", flush=True)


if __name__ == "__main__":
    main()
