"""Command-line front end: parse, load, call, save.  No physics here."""

from __future__ import annotations

import argparse
import json
import math
import os
import sys

from trajmaser.params import ConfigError


def _emit(payload, as_json: bool, text: str) -> None:
    """Print ``payload`` as strict JSON (NaN and ±inf become null) or ``text`` for people."""
    if as_json:
        print(json.dumps(_finite(payload), indent=2, allow_nan=False))
    else:
        print(text)


def _finite(obj):
    """``obj`` with numpy scalars made plain and non-finite floats replaced by None."""
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    if hasattr(obj, "tolist"):  # numpy scalar or array
        obj = obj.tolist()
        if isinstance(obj, list):
            return [_finite(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


# ---------------------------------------------------------------- fuel
def _add_fuel(sub) -> None:
    p = sub.add_parser(
        "fuel",
        help="central-spin fuel: pe and Tq/Tb",
        description=(
            "Excited population pe and temperature Tq/Tb = -omega/ln(pe/(1-pe)) of the central "
            "spin of a spin-star (N outer spins-1/2) or of a spin-1/2 coupled to one spin "
            "S = N/2, in the thermal state at Tb (exact block solution).  pe > 1/2 means "
            "population inversion (negative Tq), pe = 1/2 an infinite Tq."
        ),
    )
    p.add_argument("--model", choices=("star", "spin"), default="star", help="fuel model (star)")
    p.add_argument(
        "--N",
        default="10",
        help="number of outer spins (S = N/2): one value '10', a list '1,2,5' "
        "or an inclusive range '1..10' (default 10)",
    )
    p.add_argument("--omega", type=float, default=6.0, help="Bohr frequency, units of Tb (6)")
    p.add_argument("--J", type=float, default=0.8, help="spin-spin coupling, units of Tb (0.8)")
    p.add_argument("--lam", type=float, default=1.0, help="anisotropy lambda (1)")
    p.add_argument("--Tb", type=float, default=1.0, help="bath temperature (1)")
    p.add_argument(
        "--json",
        action="store_true",
        help='machine-readable output: {"model", "N", "pe", "Tq_over_Tb", "inverted"} for one N, '
        "a JSON list of such objects for several N.  An infinite Tq (pe = 1/2) is written as "
        'null (JSON has no Infinity) and a "note" field explains it and any inversion',
    )
    p.set_defaults(func=_cmd_fuel)


def _cmd_fuel(args) -> int:
    import math

    from trajmaser.fuel import fuel
    from trajmaser.params import FuelParams

    def parse_n(text: str) -> list[int]:
        allowed = "N must be integers >= 0: '10', '1,2,5' or an inclusive range '1..10'"
        values: list[int] = []
        try:
            for item in text.split(","):
                if ".." in item:
                    first, last = (int(v) for v in item.split(".."))
                    if last < first:
                        raise ValueError
                    values.extend(range(first, last + 1))
                else:
                    values.append(int(item))
        except ValueError:
            raise ValueError(f"{allowed}; got {text!r}") from None
        if not values or min(values) < 0:
            raise ValueError(f"{allowed}; got {text!r}")
        return values

    pars = {"omega": args.omega, "J": args.J, "lam": args.lam, "Tb": args.Tb}
    results = [fuel(FuelParams(model=args.model, N=n, **pars)) for n in parse_n(args.N)]
    if args.json:
        rows = []
        for r in results:
            tq = r.tq_over_tb if math.isfinite(r.tq_over_tb) else None
            row = {"model": r.model, "N": r.N, "pe": r.pe, "Tq_over_Tb": tq, "inverted": r.inverted}
            if r.note:
                row["note"] = r.note
            rows.append(row)
        print(json.dumps(rows[0] if len(rows) == 1 else rows, indent=2, allow_nan=False))
        return 0
    print(
        f"{args.model} model: omega = {args.omega:g}, J = {args.J:g}, lam = {args.lam:g}, "
        f"Tb = {args.Tb:g} (omega and J in units of Tb)"
    )
    print(f"{'N':>7} {'S':>7} {'pe':>14} {'Tq/Tb':>12}  note")
    for r in results:
        print(f"{r.N:>7d} {r.N / 2:>7g} {r.pe:>14.8g} {r.tq_over_tb:>12.6g}  {r.note}".rstrip())
    return 0


# ---------------------------------------------------------------- dm
def _add_dm(sub) -> None:
    p = sub.add_parser("dm", help="density-matrix steady state")
    p.add_argument("config", help="TOML run configuration")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--distribution", action="store_true", help="include p(n) in the output")
    p.add_argument("--tol", type=float, default=1e-12, help="Fock-tail tolerance (1e-12)")
    p.set_defaults(func=_cmd_dm)


def _cmd_dm(args) -> int:
    from trajmaser.config import load_config
    from trajmaser.dm import diagonal as dm

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
        _emit(rows, args.json, text)
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
    _emit(payload, args.json, "\n".join(lines))
    return 0


# ---------------------------------------------------------------- run/summary
def _add_run(sub) -> None:
    p = sub.add_parser(
        "run",
        help="quantum-trajectory run (serial, or under mpiexec -n K)",
        description="Run the trajectories of CONFIG (or every point of its [sweep]) and write "
        "one result file. Under `mpiexec -n K` the trajectory blocks are shared by the ranks; "
        "the file is bitwise the same for any K. SIGTERM/SIGUSR1 checkpoint and exit 99; "
        "rerunning the same command resumes from OUT.ckpt.npz.",
    )
    p.add_argument("config", help="TOML run configuration")
    p.add_argument("-o", "--output", required=True, help="result file (.npz)")
    p.add_argument("--json", action="store_true", help="machine-readable summary on stdout")
    p.add_argument("--force", action="store_true", help="overwrite an existing result file")
    p.add_argument(
        "--restart", action="store_true", help="ignore an existing checkpoint, start afresh"
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument(
        "--checkpoint-every",
        type=float,
        default=60.0,
        metavar="S",
        help="seconds between checkpoints (60)",
    )
    p.add_argument(
        "--target-err",
        type=float,
        metavar="X",
        help="add blocks until the relative standard error of steady-state Tf is <= X",
    )
    p.add_argument(
        "--max-ntraj",
        type=int,
        metavar="N",
        help="cap on trajectories with --target-err (default 100 x ntraj)",
    )
    p.add_argument(
        "--batch-blocks",
        type=int,
        metavar="B",
        help="blocks between --target-err checks (4); fixed, so results do not depend on ranks",
    )
    p.add_argument("--no-dm", action="store_true", help="skip the density-matrix comparison")
    p.set_defaults(func=_cmd_run)


def _steady_text(summary: dict, ref: dict | None) -> str:
    """Human-readable steady-state lines, with the density-matrix values beside."""
    lines = [f"trajectories: {summary['ntraj']}   atom passages: {summary['passages']}"]
    for block in ("time", "arrival"):
        s = summary["steady"][block]
        line = (
            f"steady ({block:7s}): Tf/Tb = {s['Tf_over_Tb']:.5f} +- {s['Tf_over_Tb_err']:.5f}"
            f"   n = {s['n_mean']:.5f} +- {s['n_mean_err']:.5f}"
            f"   Q = {s['mandel_q']:.4f} +- {s['mandel_q_err']:.4f}"
        )
        if not s["q_reliable"]:
            line += " (Q unreliable: two-photon states barely sampled)"
        if ref is not None:
            r = ref[block]
            z = (s["Tf_over_Tb"] - r["Tf_over_Tb"]) / s["Tf_over_Tb_err"]
            line += f"   | density matrix: Tf/Tb = {r['Tf_over_Tb']:.5f} (z = {z:+.2f})"
        lines.append(line)
    c = summary["clicks"]
    lines.append(f"detected atoms found excited: p_e = {c['p_e']:.5f} +- {c['p_e_err']:.5f}")
    return "\n".join(lines)


def _cmd_run(args) -> int:
    from trajmaser.config import load_config
    from trajmaser.run import engine as parallel
    from trajmaser.run import runner

    ctx = parallel.mpi_context()
    cfg = load_config(args.config)
    outcome = runner.execute(
        cfg,
        args.output,
        make_dirs=True,  # `-o results/run.npz` creates results/ (rank 0, before any work)
        force=args.force,
        resume=not args.restart,
        progress=not args.quiet and ctx.is_root,
        checkpoint_seconds=args.checkpoint_every,
        target_err=args.target_err,
        max_ntraj=args.max_ntraj,
        batch_blocks=args.batch_blocks,
    )
    if not outcome.complete:
        if ctx.is_root:
            print(
                f"trajmaser run: interrupted by {outcome.interrupted}; checkpoint kept: "
                "rerun the same command to resume",
                file=sys.stderr,
            )
        return parallel.EXIT_INTERRUPTED
    if not ctx.is_root:
        return 0
    print(f"wrote {args.output}", file=sys.stderr)
    return _report(outcome.result, cfg, args.json, with_dm=not args.no_dm)


def _report(result, cfg, as_json: bool, *, with_dm: bool) -> int:
    """Print the steady-state summary (single run) or the sweep table."""
    from trajmaser.results import SweepResult

    if isinstance(result, SweepResult):
        rows = result.table()
        _emit(rows, as_json, _sweep_text(result.axes, rows))
        return 0
    summary = result.summary()
    summary["atoms"] = cfg.run.atoms if cfg is not None else None
    ref = None
    if with_dm and cfg is not None:
        from trajmaser.dm import diagonal as dm

        try:
            steady = dm.steady(cfg.model())
        except ValueError as exc:  # e.g. inverted atoms: the trajectories still stand
            summary["density_matrix"] = {"error": str(exc)}
            print(f"density matrix not available: {exc}", file=sys.stderr)
        else:
            ref = {b: steady[b] for b in ("arrival", "time")}
            keys = ("n_mean", "n_var", "mandel_q", "Tf_over_Tb", "efficiency")
            summary["density_matrix"] = {b: {k: ref[b][k] for k in keys} for b in ref}
    _emit(summary, as_json, _steady_text(summary, ref))
    return 0


def _sweep_text(axes, rows: list[dict]) -> str:
    head = "".join(f"{a:>14s}" for a in axes)
    head += f"{'ntraj':>9s}{'Tf/Tb (time)':>24s}{'Tf/Tb (arrival)':>24s}{'Mandel Q':>20s}"
    out = [head]
    for r in rows:
        line = "".join(f"{r[a]!s:>14s}" for a in axes) + f"{r['ntraj']:>9d}"
        if r["ntraj"]:
            t, a = r["steady"]["time"], r["steady"]["arrival"]
            line += f"{t['Tf_over_Tb']:>13.5f} +- {t['Tf_over_Tb_err']:<7.5f}"
            line += f"{a['Tf_over_Tb']:>13.5f} +- {a['Tf_over_Tb_err']:<7.5f}"
            line += f"{t['mandel_q']:>10.4f} +- {t['mandel_q_err']:<6.4f}"
            line += "" if t["q_reliable"] else " (Q unreliable: n >= 2 barely sampled)"
        out.append(line)
    return "\n".join(out)


def _add_summary(sub) -> None:
    p = sub.add_parser("summary", help="steady-state summary of a result file")
    p.add_argument("result", help="result file written by `trajmaser run`")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--dm", action="store_true", help="add the density-matrix steady state")
    p.add_argument(
        "--series",
        action="store_true",
        help="the time series instead: n, Var, Mandel Q, g2, Tf/Tb, efficiency with errors "
        "at every sample time and arrival record",
    )
    p.set_defaults(func=_cmd_summary)


def _cmd_summary(args) -> int:
    from trajmaser import io
    from trajmaser.config import config_from_dict
    from trajmaser.results import SweepResult, load_any

    arrays, meta = io.load_result(args.result)
    result = load_any(arrays)
    cfg = config_from_dict(meta["config"]) if meta.get("config") else None
    if args.series:
        if isinstance(result, SweepResult):
            raise ValueError("--series needs a single-point result, this file holds a sweep")
        series = result.series()
        _emit(series, args.json, _series_text(series))
        return 0
    return _report(result, cfg, args.json, with_dm=args.dm)


def _series_text(series: dict) -> str:
    out = []
    for block, key, label in (("time", "t", "t (s)"), ("arrival", "atom", "atom")):
        s = series[block]
        out.append(f"{label:>12s} {'n':>20s} {'Tf/Tb':>22s} {'Mandel Q':>20s}")
        for i, x in enumerate(s[key]):
            out.append(
                f"{x:>12.6g} {s['n_mean'][i]:>10.5f} +- {s['n_mean_err'][i]:<7.5f}"
                f"{s['Tf_over_Tb'][i]:>12.5f} +- {s['Tf_over_Tb_err'][i]:<7.5f}"
                f"{s['mandel_q'][i]:>10.4f} +- {s['mandel_q_err'][i]:<7.4f}"
            )
        out.append("")
    return "\n".join(out)


# ---------------------------------------------------------------- compare
def _add_compare(sub) -> None:
    p = sub.add_parser(
        "compare",
        help="trajectories vs density matrix",
        description="z-scores and chi2 of a trajectory result against the density matrix "
        "(or a user reference); exit status 0 only when they agree.",
    )
    p.add_argument("result", help="result file written by `trajmaser run`")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--k", type=float, default=4.0, help="largest |z| accepted (default 4)")
    p.add_argument(
        "--reference",
        metavar="FILE",
        help="own time series instead of the density matrix: CSV with header "
        "'time,n_mean[,n_var]' or .npy columns (time, n_mean[, n_var]) at the sample times",
    )
    p.add_argument("--plot", metavar="PNG", help="plot <n>(t) with error band and reference")
    p.add_argument("--print-times", action="store_true", help="print the sample times (s) and exit")
    p.set_defaults(func=_cmd_compare)


def _cmd_compare(args) -> int:
    from trajmaser import compare
    from trajmaser.cli.plots import plot_comparison
    from trajmaser.results.files import load_runs

    runs, _ = load_runs(args.result)
    if len(runs) > 1 or runs[0][0]:
        return _compare_sweep(args, runs)
    _, result, model, run = runs[0]
    if args.print_times:
        times = [float(t) for t in result.times]
        _emit({"times": times}, args.json, "\n".join(f"{t:.17g}" for t in times))
        return 0
    reference = compare.load_reference(args.reference) if args.reference else None
    report = compare.compare_result(result, model, run, reference=reference, k=args.k)
    if args.plot:
        plot_comparison(report, result, args.plot)
    _emit(report, args.json, compare.format_report(report))
    return 0 if report["ok"] else 1


def _compare_sweep(args, runs) -> int:
    """Every point of a sweep against its own density matrix; exit 0 only if all agree."""
    from trajmaser import compare

    if args.reference or args.plot or args.print_times:
        raise ValueError("--reference, --plot and --print-times need a single-point result")
    reports, texts = [], []
    for labels, result, model, run in runs:
        report = compare.compare_result(result, model, run, k=args.k)
        reports.append({"point": labels, **report})
        where = ", ".join(f"{k} = {v}" for k, v in labels.items())
        texts.append(f"== {where}\n{compare.format_report(report)}")
    ok = all(r["ok"] for r in reports)
    texts.append(f"{sum(r['ok'] for r in reports)} of {len(reports)} points agree")
    _emit({"ok": ok, "points": reports}, args.json, "\n".join(texts))
    return 0 if ok else 1


# ---------------------------------------------------------------- entry point
def build_parser() -> argparse.ArgumentParser:
    """The ``trajmaser`` argument parser with all subcommands."""
    parser = argparse.ArgumentParser(prog="trajmaser", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for add in (_add_fuel, _add_dm, _add_run, _add_summary, _add_compare):
        add(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the process exit status."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except BrokenPipeError:  # e.g. `trajmaser fuel --N 1..100 | head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (ConfigError, ValueError, OSError) as exc:
        if os.environ.get("PMI_RANK", "0") == "0":  # one message, not one per MPI rank
            print(f"trajmaser {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
