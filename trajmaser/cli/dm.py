"""`trajmaser dm`: the density-matrix steady state of a configuration (or of every sweep point)."""

from __future__ import annotations

from trajmaser.cli.render import emit


def add_parser(sub) -> None:
    p = sub.add_parser("dm", help="density-matrix steady state")
    p.add_argument("config", help="TOML run configuration")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--distribution", action="store_true", help="include p(n) in the output")
    p.add_argument("--tol", type=float, default=1e-12, help="Fock-tail tolerance (1e-12)")
    p.set_defaults(func=run)


def run(args) -> int:
    from trajmaser import dm
    from trajmaser.config import load_config

    cfg = load_config(args.config)
    if cfg.sweep:  # one steady state per sweep point
        keys = ("n_mean", "n_var", "mandel_q", "Tf_over_Tb", "efficiency")
        rows = []
        for labels, point in cfg.grid():
            steady = dm.steady(point.model(), tol=args.tol)
            row = dict(labels)
            for b in ("arrival", "time"):
                row[b] = {k: steady[b][k] for k in keys}
            rows.append(row)
        text = "\n".join(
            ", ".join(f"{k} = {r[k]}" for k, _ in cfg.sweep)
            + f": Tf/Tb = {r['time']['Tf_over_Tb']:.6f} (time), "
            f"{r['arrival']['Tf_over_Tb']:.6f} (arrival), Q = {r['time']['mandel_q']:.4f}"
            for r in rows
        )
        emit(rows, args.json, text)
        return 0
    model = cfg.model()
    res = dm.steady(model, tol=args.tol)
    blocks = {k: dict(res[k]) for k in ("arrival", "time")}
    if not args.distribution:
        for b in blocks.values():
            b.pop("p", None)
    cg = dm.coarse_grained(model)
    payload = {"steady": blocks, "nmax": res["nmax"], "tail": res["tail"], "coarse_grained": cg}
    lines = [
        f"density-matrix steady state ({model.statistics} pumping, nmax={res['nmax']}, "
        f"tail={res['tail']:.2e})"
    ]
    for k, b in blocks.items():
        lines.append(
            f"  {k:8s} n_mean={b['n_mean']:.10g} n_var={b['n_var']:.6g} "
            f"Q={b['mandel_q']:.6g} Tf/Tb={b['Tf_over_Tb']:.8g} eta={b['efficiency']:.6g}"
        )
    if cg["below_threshold"]:
        lines.append(f"  c.g.     n_mean={cg['n_mean']:.10g} Tf/Tb={cg['Tf_over_Tb']:.8g}")
    else:
        lines.append(f"  c.g.     {cg['message']}")
    emit(payload, args.json, "\n".join(lines))
    return 0
