"""Pump statistics: Mandel Q of the field and of the detected atoms against Θ = gτ√Nex.

Run ``python analysis/pump_statistics.py [--fresh]``.  Configurations ``runs/pumpstats_nex20.toml``,
``runs/pumpstats_nex100.toml`` (excited atoms, pe = 1) and ``runs/pumpstats_star.toml`` (the
spin-star fuel N = 10, λ = 1, pe = 0.1505, Nex = 100): κτ = 1e-3, γ = 0, n_b = 0.15, vacuum
start.  Θ is swept through ``[cavity] theta``-equivalent g; pump statistics regular, binomial
(p = 0.5), poisson.

* Field: Q = Var(n)/n̄ − 1 just before an atom enters (the steady "arrival" state).
* Atoms: Q_a = Var(N_e)/⟨N_e⟩ − 1 of the number found excited among the W = atoms − burn_in
  atoms of the window (η = 1).

Every point is first run with the configuration's protocol (vacuum start, ``burn_in``,
window W): the *finite run*.  The exact stationarity check of ``trajmaser run``
(:mod:`trajmaser.switching.stationarity`) decides what the stationary estimate is:

* stationary protocol: the finite run itself;
* not stationary, and the burn-in the warning names is at most ``LONG_BURN_MAX`` atoms: the
  same run again with that burn-in (same window and trajectories);
* longer: the rare-event estimate of ``trajmaser switching`` (forward flux between the two
  peaks, or a basin run from the mode with one peak), which gives n̄ and Q, not Q_a.

Stationary estimates are compared with the stationary density matrix (curves), finite runs
with the density matrix of their own protocol.  A point of the finite study is called
non-stationary when its protocol and the stationary density matrix differ by more than
max(its standard error, 1e-3 relative) in n̄, Q or Q_a; the script checks that the
stationarity warning fires at each of them.

Writes ``analysis/figures/pump_statistics.png``, ``results/analysis/pump_statistics.json``
and ``results/analysis/pump_statistics_table.md``.
"""

from __future__ import annotations

import math

import numpy as np
from common import (
    cached_map,
    click_q,
    derive,
    fresh_flag,
    raw_config,
    run_points,
    steady,
    switching_points,
    write_json,
    write_text,
    z_summary,
    zscore,
)
from pump_statistics_plot import plot

from trajmaser import dm
from trajmaser.dm.atomstats import atom_q
from trajmaser.switching import Budget
from trajmaser.switching.stationarity import stationarity

CASES = (
    ("nex20", "excited atoms, Nex = 20"),
    ("nex100", "excited atoms, Nex = 100"),
    ("star", "spin-star fuel (N = 10, λ = 1), Nex = 100"),
)
STATS = (("regular", None), ("binomial", 0.5), ("poisson", None))
THETA_DM = np.round(np.arange(0.1, 12.0001, 0.1), 4)
THETA_TRAJ = {
    "nex20": (0.5, 1, 1.5, 2, 3, 4, 5, 6, 6.5, 7, 8, 9, 10, 11, 12),
    "nex100": (0.5, 1, 1.5, 2, 3, 4, 5, 6, 6.5, 7, 8, 9, 10, 11, 12),
    "star": (1, 2, 4, 6, 8, 10, 12),
}
LONG_BURN_MAX = 20000  # longest burn-in rerun by brute force (atoms)
BUDGET = Budget()  # forward flux (shared with switching_times.py: same cache entries)
SEED = 5300
KEYS = ("n_mean", "mandel_q", "atom_q")


def config(case: str, theta: float, stats: str, p, **run):
    """The study's configuration of one point (``run`` overrides ``[run]`` keys)."""
    raw = raw_config(f"pumpstats_{case}.toml")
    nex, tau = raw["pump"]["Nex"], raw["cavity"]["tau"]
    extra = {f"run__{k}": v for k, v in run.items()}
    return derive(raw, cavity__g=theta / (tau * math.sqrt(nex)), pump__statistics=stats,
                  pump__p=p, **extra)  # fmt: skip


def _window(cfg) -> int:
    return cfg.run.atoms - cfg.run.burn_in


def _dm_curve(job) -> list[float]:
    case, theta, stats, p = job
    cfg = config(case, theta, stats, p)
    res = atom_q(cfg.model(), _window(cfg))
    return [res["field"]["n_mean"], res["field"]["mandel_q"], res["mandel_q"]]


def _exact(job) -> list[float]:
    """Protocol and stationary (n̄, Q, Q_a), and the protocol's stationarity."""
    cfg = config(*job)
    model = cfg.model()
    prot = atom_q(model, _window(cfg), start=cfg.run.burn_in)
    stat = atom_q(model, _window(cfg))
    st = stationarity(model, cfg.run)
    return [prot["field_window"]["n_mean"], prot["field_window"]["mandel_q"], prot["mandel_q"],
            stat["field"]["n_mean"], stat["field"]["mandel_q"], stat["mandel_q"],
            st["relaxation_atoms"], st["distance"], st["needed_burn_in"]]  # fmt: skip


def _fjm(case: str) -> np.ndarray:
    m = config(case, 1.0, "poisson", None).model()
    rows = []
    for t in THETA_DM:
        pn = dm.fjm_distribution(m.nex, m.pe, t / math.sqrt(m.nex), m.nbar_bath, 1500)
        st = dm.photon_stats(pn, m.omega)
        rows.append((st["n_mean"], st["mandel_q"]))
    return np.array(rows)


def _estimates(point) -> dict:
    est = steady(point, "arrival")
    qa, qa_err = click_q(point)
    return {"n_mean": est["n_mean"], "n_mean_err": est["n_mean_err"],
            "mandel_q": est["mandel_q"], "mandel_q_err": est["mandel_q_err"],
            "atom_q": qa, "atom_q_err": qa_err}  # fmt: skip


def _rare(doc: dict) -> dict:
    s = doc["steady"]
    return {"n_mean": s["n_mean"], "n_mean_err": s["n_mean_err"], "mandel_q": s["mandel_q"],
            "mandel_q_err": s["mandel_q_err"], "atom_q": math.nan, "atom_q_err": math.nan,
            "peaks": len(doc["peaks"]), "atoms_simulated": doc["atoms_simulated"]}  # fmt: skip


def _row(job, cfg, exact, finite, stat_est, source) -> dict:
    case, theta, stats, _ = job
    row = {"case": case, "theta": theta, "stats": stats, "ntraj": cfg.run.ntraj,
           "atoms": cfg.run.atoms, "burn_in": cfg.run.burn_in, "window": _window(cfg),
           "relaxation_atoms": exact[6], "distance": exact[7], "needed_burn_in": int(exact[8]),
           "warned": bool(exact[7] > 1e-3), "source": source}  # fmt: skip
    for i, k in enumerate(KEYS):
        row[f"dm_protocol_{k}"], row[f"dm_{k}"] = exact[i], exact[3 + i]
        row[f"finite_{k}"], row[f"finite_{k}_err"] = finite[k], finite[f"{k}_err"]
        row[f"z_finite_{k}"] = zscore(finite[k], finite[f"{k}_err"], exact[i])
        row[k], row[f"{k}_err"] = stat_est[k], stat_est[f"{k}_err"]
        row[f"z_{k}"] = zscore(stat_est[k], stat_est[f"{k}_err"], exact[3 + i])
    row["nonstationary_old"] = any(
        abs(exact[3 + i] - exact[i]) > max(finite[f"{k}_err"], 1e-3 * abs(exact[3 + i]))
        for i, k in enumerate(KEYS)
    )
    for k in ("peaks", "atoms_simulated"):
        if k in stat_est:
            row[k] = stat_est[k]
    return row


def compute(fresh: bool) -> tuple[list[dict], dict]:
    """Every point's finite and stationary estimates (all ranks), and the DM curves."""
    jobs_dm = [(c, float(t), s, p) for c, _ in CASES for s, p in STATS for t in THETA_DM]
    vals = cached_map("pumpstats_dm", _dm_curve, jobs_dm, fresh=fresh)
    curves = {}
    for (c, _, s, _), v in zip(jobs_dm, vals, strict=True):
        curves.setdefault(f"{c}|{s}", []).append(v)
    jobs = [(c, float(t), s, p) for c, _ in CASES for s, p in STATS for t in THETA_TRAJ[c]]
    exact = cached_map("pumpstats_exact", _exact, jobs, fresh=fresh)
    cfgs = [config(*j) for j in jobs]
    finite = [_estimates(pt) for pt in run_points(cfgs, fresh=fresh, label="finite runs")]
    stationary = [e[7] <= 1e-3 for e in exact]
    long_i = [i for i, e in enumerate(exact) if not stationary[i] and e[8] <= LONG_BURN_MAX]
    rare_i = [i for i, e in enumerate(exact) if not stationary[i] and e[8] > LONG_BURN_MAX]
    long_cfgs = [config(*jobs[i], burn_in=int(exact[i][8]),
                        atoms=int(exact[i][8]) + _window(cfgs[i])) for i in long_i]  # fmt: skip
    long_pts = run_points(long_cfgs, fresh=fresh, label="long burn-in")
    docs = switching_points([cfgs[i].model() for i in rare_i], BUDGET, seed=SEED, fresh=fresh)
    stat_est = {i: (finite[i], "finite run") for i in range(len(jobs)) if stationary[i]}
    for i, pt in zip(long_i, long_pts, strict=True):
        stat_est[i] = (_estimates(pt), "long burn-in")
    stat_est.update({i: (_rare(d), "rare event") for i, d in zip(rare_i, docs, strict=True)})
    rows = [_row(jobs[i], cfgs[i], exact[i], finite[i], *stat_est[i]) for i in range(len(jobs))]
    for i, pt in zip(long_i, long_pts, strict=True):
        rows[i]["burn_in_long"] = pt.config.run.burn_in
    curves = {k: np.array(v) for k, v in curves.items()}
    curves.update({f"fjm|{c}": _fjm(c) for c, _ in CASES})
    return rows, curves


def _table(rows: list[dict]) -> str:
    lines = [
        "| case | statistics | Θ | relaxation (atoms) | warning | stationary estimate | "
        "field Q | DM | z | Q_a | DM | z | finite-run Q | its DM | z |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        qa = (f"{r['atom_q']:.3f} ± {r['atom_q_err']:.3f} | {r['dm_atom_q']:.3f} | "
              f"{r['z_atom_q']:+.2f}" if math.isfinite(r["atom_q"]) else "– | – | –")  # fmt: skip
        lines.append(
            f"| {r['case']} | {r['stats']} | {r['theta']:g} | {r['relaxation_atoms']:.3g} | "
            f"{'burn_in ≥ ' + str(r['needed_burn_in']) if r['warned'] else '–'} | "
            f"{r['source']} | {r['mandel_q']:.4f} ± {r['mandel_q_err']:.4f} | "
            f"{r['dm_mandel_q']:.4f} | {r['z_mandel_q']:+.2f} | {qa} | "
            f"{r['finite_mandel_q']:.4f} ± {r['finite_mandel_q_err']:.4f} | "
            f"{r['dm_protocol_mandel_q']:.4f} | {r['z_finite_mandel_q']:+.2f} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    rows, curves = compute(fresh_flag())
    plot(rows, curves, CASES, STATS, THETA_DM)
    summary = {}
    for k in KEYS:
        summary[k] = z_summary([r[f"z_{k}"] for r in rows])
        summary[f"finite_{k}"] = z_summary([r[f"z_finite_{k}"] for r in rows])
    old = [r for r in rows if r["nonstationary_old"]]
    summary["warning"] = {
        "nonstationary_old": len(old),
        "warned_among_them": sum(r["warned"] for r in old),
        "warned_total": sum(r["warned"] for r in rows),
        "points": len(rows),
    }
    write_json("pump_statistics", {"rows": rows, "z": summary})
    write_text("pump_statistics_table.md", _table(rows))


if __name__ == "__main__":
    main()
