"""`trajmaser dm`: the density-matrix steady state of a configuration (or of every sweep point)."""

from __future__ import annotations

from trajmaser.cli.render import emit


def add_parser(sub) -> None:
    p = sub.add_parser("dm", help="density-matrix steady state")
    p.add_argument("config", help="TOML run configuration")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--distribution", action="store_true", help="include p(n) in the output")
    p.add_argument("--tol", type=float, default=1e-12, help="Fock-tail tolerance (1e-12)")
    p.add_argument(
        "--solver",
        choices=("trajmaser", "qutip"),
        default="trajmaser",
        help="qutip: the full atom-cavity Liouvillian built with qutip (small fields)",
    )
    p.set_defaults(func=run)


def run(args) -> int:
    from trajmaser import dm
    from trajmaser.config import load_config
    from trajmaser.dm.clicks import click_correlation
    from trajmaser.dm.switching import relaxation_atoms

    solve = dm.steady
    if args.solver == "qutip":
        from trajmaser.dm.qutip_reference import steady as solve
    cfg = load_config(args.config)
    if cfg.sweep:  # one steady state per sweep point
        keys = ("n_mean", "n_var", "mandel_q", "Tf_over_Tb", "efficiency")
        rows = []
        for labels, point in cfg.grid():
            model = point.model()
            steady = solve(model, tol=args.tol)
            row = dict(labels)
            for b in ("arrival", "time"):
                row[b] = {k: steady[b][k] for k in keys}
            row["relaxation_atoms"] = relaxation_atoms(
                model, tol=args.tol, nmax=_known_cutoff(model, steady, args.solver)
            )
            rows.append(row)
        text = "\n".join(
            ", ".join(f"{k} = {r[k]}" for k, _ in cfg.sweep)
            + f": Tf/Tb = {r['time']['Tf_over_Tb']:.6f} (time), "
            f"{r['arrival']['Tf_over_Tb']:.6f} (arrival), Q = {r['time']['mandel_q']:.4f}, "
            f"relaxation {r['relaxation_atoms']:.4g} atoms"
            for r in rows
        )
        emit(rows, args.json, text)
        return 0
    model = cfg.model()
    res = solve(model, tol=args.tol)
    blocks = {k: dict(res[k]) for k in ("arrival", "time")}
    if not args.distribution:
        for b in blocks.values():
            b.pop("p", None)
    cg = dm.coarse_grained(model)
    relax = relaxation_atoms(model, tol=args.tol, nmax=_known_cutoff(model, res, args.solver))
    clicks = None
    if model.is_diagonal:  # stationary P(atom k+j excited | atom k excited), j = 1 … 16
        c = click_correlation(model, efficiency=cfg.run.detector_efficiency, tol=args.tol)
        clicks = {"p_e": c["p_e"], "correlation": {"lag": c["lag"], "p_ee": c["p_ee"]}}
    payload = {
        "steady": blocks,
        "relaxation_atoms": relax,
        "clicks": clicks,
        "nmax": res["nmax"],
        "tail": res["tail"],
        "coarse_grained": cg,
    }
    lines = [
        f"density-matrix steady state ({model.statistics} pumping, nmax={res['nmax']}, "
        f"tail={res['tail']:.2e})"
    ]
    for k, b in blocks.items():
        lines.append(
            f"  {k:8s} n_mean={b['n_mean']:.10g} n_var={b['n_var']:.6g} "
            f"Q={b['mandel_q']:.6g} Tf/Tb={b['Tf_over_Tb']:.8g} eta={b['efficiency']:.6g}"
        )
    lines.append(f"  slowest relaxation of the atom-to-atom map: {relax:.6g} atoms")
    if clicks is not None:
        corr = ", ".join(f"{v:.4f}" for v in clicks["correlation"]["p_ee"][:4])
        lines.append(
            f"  atoms found excited: p_e = {clicks['p_e']:.6f}; P(k+j excited | k excited), "
            f"j = 1..4: {corr}"
        )
    if cg["below_threshold"]:
        lines.append(f"  c.g.     n_mean={cg['n_mean']:.10g} Tf/Tb={cg['Tf_over_Tb']:.8g}")
    else:
        lines.append(f"  c.g.     {cg['message']}")
    emit(payload, args.json, "\n".join(lines))
    return 0


def _known_cutoff(model, steady: dict, solver: str) -> int | None:
    """The cut-off the relaxation can reuse: that of the general-path steady state just
    solved (the diagonal chain has its own cache; the qutip solver's cut-off may differ)."""
    return steady["nmax"] if solver == "trajmaser" and not model.is_diagonal else None
