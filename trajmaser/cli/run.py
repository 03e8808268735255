"""`trajmaser run` and `trajmaser summary`: trajectories to a result file, and its steady state."""

from __future__ import annotations

import sys

from trajmaser.cli.render import emit


def add_run_parser(sub) -> None:
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
    p.set_defaults(func=run)


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


def run(args) -> int:
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
        emit(rows, as_json, _sweep_text(result.axes, rows))
        return 0
    summary = result.summary()
    summary["atoms"] = cfg.run.atoms if cfg is not None else None
    ref = None
    if with_dm and cfg is not None:
        from trajmaser import dm

        try:
            steady = dm.steady(cfg.model())
        except ValueError as exc:  # e.g. inverted atoms: the trajectories still stand
            summary["density_matrix"] = {"error": str(exc)}
            print(f"density matrix not available: {exc}", file=sys.stderr)
        else:
            ref = {b: steady[b] for b in ("arrival", "time")}
            keys = ("n_mean", "n_var", "mandel_q", "Tf_over_Tb", "efficiency")
            summary["density_matrix"] = {b: {k: ref[b][k] for k in keys} for b in ref}
    emit(summary, as_json, _steady_text(summary, ref))
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


def add_summary_parser(sub) -> None:
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
    p.set_defaults(func=summary)


def summary(args) -> int:
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
        emit(series, args.json, _series_text(series))
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
