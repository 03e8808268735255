"""Placeholders of the pump-statistics and switching sections of REPRODUCTION.md.

Read from ``results/analysis/pump_statistics.json`` and ``results/analysis/switching.json``
(written by ``pump_statistics.py`` and ``switching_times.py``); used by ``report.py``.  Every
agreement sentence is generated from the z-scores: a value that misses its density-matrix
reference by 4 standard errors or more is named.
"""

from __future__ import annotations

import math

K = 4.0
PUMP_KEYS = (("n_mean", "n̄"), ("mandel_q", "field Q"), ("atom_q", "atom Q_a"))
CASE_NAMES = {"nex20": "Nex = 20", "nex100": "Nex = 100", "star": "star fuel"}
STAT_NAMES = {"regular": "regular", "binomial": "binomial (p = 0.5)", "poisson": "Poisson"}


def num(x: float, fmt: str = ".4f") -> str:
    """``x`` formatted with a typographic minus sign."""
    return format(x, fmt).replace("-", "−")


def zsum(z: list) -> dict:
    """Count, max |z|, mean z² and the number of |z| ≥ K of the finite values of ``z``."""
    z = [v for v in z if v is not None and math.isfinite(v)]
    return {
        "n": len(z),
        "max": max((abs(v) for v in z), default=float("nan")),
        "chi2": sum(v * v for v in z) / len(z) if z else float("nan"),
        "bad": sum(abs(v) >= K for v in z),
    }


def _where(r: dict) -> str:
    return f"{CASE_NAMES[r['case']]} {r['stats']} Θ = {r['theta']:g}"


def _misses(rows: list[dict], prefix: str) -> list[str]:
    out = []
    for r in rows:
        bad = [f"{lab} {num(r[f'{prefix}{k}'], '+.1f')}" for k, lab in PUMP_KEYS
               if r[f"{prefix}{k}"] is not None and math.isfinite(r[f"{prefix}{k}"])
               and abs(r[f"{prefix}{k}"]) >= K]  # fmt: skip
        if bad:
            out.append(f"{_where(r)} ({', '.join(bad)})")
    return out


def _summary_table(rows: list[dict]) -> str:
    lines = ["| comparison | quantity | points | max abs z | mean z² | \\|z\\| ≥ 4 |",
             "|---|---|---|---|---|---|"]  # fmt: skip
    for prefix, what in (("z_", "stationary estimate vs stationary DM"),
                         ("z_finite_", "finite run vs the DM of its protocol")):  # fmt: skip
        for k, lab in PUMP_KEYS:
            s = zsum([r[f"{prefix}{k}"] for r in rows])
            lines.append(f"| {what} | {lab} | {s['n']} | {s['max']:.2f} | {s['chi2']:.2f} | "
                         f"{s['bad']} |")  # fmt: skip
    return "\n".join(lines)


def pump_fields(d: dict) -> dict[str, str]:
    """Placeholders of the pump-statistics section."""
    rows = d["rows"]
    w = d["z"]["warning"]
    src = {s: [r for r in rows if r["source"] == s]
           for s in ("finite run", "long burn-in", "rare event")}  # fmt: skip
    missed = _misses(rows, "z_")
    stat = zsum([r[f"z_{k}"] for r in rows for k, _ in PUMP_KEYS])
    agree = (
        f"All {len(rows)} points agree with the stationary DM within {K:g}σ in every compared "
        f"quantity (max |z| = {stat['max']:.2f}, mean z² = {stat['chi2']:.2f} over "
        f"{stat['n']} values)"
        if not missed
        else f"**{len(missed)} point(s) miss the stationary DM by {K:g}σ or more:** "
        f"{'; '.join(missed)}"
    )
    fin_missed = _misses(rows, "z_finite_")
    fin = (
        "and every finite run agrees with the DM of its own protocol"
        if not fin_missed
        else f"finite runs missing the DM of their protocol: {'; '.join(fin_missed)}"
    )
    needs = sorted({r["needed_burn_in"] for r in src["long burn-in"]})
    warn = (
        f"Of the {w['points']} points of the study, {w['nonstationary_old']} are not "
        f"stationary with their configured burn-in (protocol and stationary DM differ by more "
        f"than the run's standard error or 1e-3 relative in n̄, Q or Q_a); the relaxation "
        f"warning of `trajmaser run`/`summary` fires at **{w['warned_among_them']} of these "
        f"{w['nonstationary_old']}**, and at {w['warned_total']} points in all (the others "
        f"are within the statistical error of their runs, but more than 1e-3 from "
        f"stationary in n̄ or Var n).  Stationary estimates: {len(src['finite run'])} points "
        f"are their finite run; {len(src['long burn-in'])} are rerun with the burn-in the "
        f"warning names ({min(needs, default=0)}–{max(needs, default=0)} atoms); "
        f"{len(src['rare event'])} (Nex = 100, Θ ≥ 6, burn-ins of 10⁵–10¹¹ atoms) come from "
        f"`trajmaser switching` (forward flux between the peaks, or a basin run from the mode "
        f"where one peak carries all the weight), which gives n̄ and Q but not Q_a."
    )
    th3 = {r["stats"]: r for r in rows if r["case"] == "nex20" and r["theta"] == 3}
    star = [r for r in rows if r["case"] == "star"]
    return {
        "pumpstats_summary": _summary_table(rows),
        "pumpstats_agreement": f"**Agreement.** {agree}; {fin}.",
        "pumpstats_stationarity": warn,
        "pumpstats_theta3_dm": ", ".join(
            num(th3[s]["dm_mandel_q"], ".3f") for s in ("regular", "binomial", "poisson")
        ),
        "pumpstats_star_q_range": f"{min(r['dm_mandel_q'] for r in star):.2f}–"
        f"{max(r['dm_mandel_q'] for r in star):.2f}",
        "pumpstats_star_qa_range": f"{num(min(r['dm_atom_q'] for r in star), '.3f')} … "
        f"{num(max(r['dm_atom_q'] for r in star), '.3f')}",
        "pumpstats_ntraj": " resp. ".join(
            str(next(r["ntraj"] for r in rows if r["case"] == c)) for c in ("nex20", "nex100")
        ),
    }


def switching_fields(d: dict) -> dict[str, str]:
    """Placeholders of the switching section."""
    rows = [r for r in d["rows"] if r["mfpt_up_atoms"] is not None]
    s = d["summary"]
    bad = [f"{STAT_NAMES[r['stats']]} Θ = {r['theta']:g}" for r in rows
           if any(abs(r[f"z_{k}"]) >= K for k in ("mfpt_up_atoms", "mfpt_down_atoms",
                                                   "n_mean", "mandel_q"))]  # fmt: skip
    big = [f"{STAT_NAMES[r['stats']]} Θ = {r['theta']:g}" for r in rows
           if max(r["rel_err_mfpt_up_atoms"], r["rel_err_mfpt_down_atoms"]) >= 0.25]  # fmt: skip
    mz = s["max_abs_z"]
    text = (
        f"At all {s['points']} points the forward-flux estimates of both first-passage times "
        f"and of the stationary n̄ and Q agree with the density matrix within {K:g} standard "
        f"errors (max |z| = {mz['mfpt_up_atoms']:.2f} up, {mz['mfpt_down_atoms']:.2f} down, "
        f"{mz['n_mean']:.2f} n̄, {mz['mandel_q']:.2f} Q; lower-peak weight "
        f"{mz['w_lo']:.2f})"
        if not bad
        else f"**Misses by {K:g}σ or more:** {'; '.join(bad)}"
    )
    text += (
        f", with relative errors of the times of at most {100 * s['max_rel_err']:.0f} %"
        if not big
        else f"; **relative error ≥ 25 %:** {'; '.join(big)}"
    )
    text += (
        f".  Each point took at most {s['max_seconds']:.0f} s of wall time "
        f"({s['total_seconds'] / 60:.1f} min for all {s['points']})."
    )
    t7 = [r for r in rows if r["theta"] == 7.0]
    lines = []
    for r in t7:
        lines.append(
            f"| {STAT_NAMES[r['stats']]} | {r['n_lo']} → {r['n_hi']} | "
            f"{r['mfpt_up_atoms']:.3g} ± {r['mfpt_up_atoms_err']:.2g} | "
            f"{r['dm_mfpt_up_atoms']:.3g} | "
            f"{r['mfpt_down_atoms']:.3g} ± {r['mfpt_down_atoms_err']:.2g} | "
            f"{r['dm_mfpt_down_atoms']:.3g} | {r['w_lo']:.3g} ± {r['w_lo_err']:.2g} | "
            f"{r['dm_w_lo']:.3g} | {r['n_mean']:.3f} ± {r['n_mean_err']:.3f} | "
            f"{r['dm_n_mean']:.3f} | {num(r['mandel_q'])} ± {r['mandel_q_err']:.4f} | "
            f"{num(r['dm_mandel_q'])} | {r['atoms_simulated']:.2g} | {r['seconds']:.0f} |"
        )
    head = ("| pump | n_lo → n_hi | up (atoms) | DM | down (atoms) | DM | lower-peak weight | DM "
            "| n̄ | DM | Q | DM | atoms simulated | s |\n"
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")  # fmt: skip
    return {"switching_agreement": text, "switching_theta7": head + "\n" + "\n".join(lines)}


def clicks_fields(d: dict) -> dict[str, str]:
    """Placeholder of the click-correlation paragraph."""
    rows = d["rows"]
    z = [v for r in rows for v in r.get("z", [])]
    if not z:
        return {"clicks_agreement": "The trajectory results used here carry no click "
                "correlation record, so only the exact curves are shown."}  # fmt: skip
    s = zsum(z)
    text = (f"The trajectories' click record agrees with the exact value for its window at all "
            f"{s['n']} (point, lag) values: max |z| = {s['max']:.2f}, mean z² = {s['chi2']:.2f}."
            if not s["bad"] else f"**{s['bad']} of {s['n']} (point, lag) values miss the exact "
            f"window value by {K:g}σ or more** (max |z| = {s['max']:.2f}).")  # fmt: skip
    return {"clicks_agreement": text}
