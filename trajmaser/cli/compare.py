"""`trajmaser compare`: trajectories against the density matrix or a user reference."""

from __future__ import annotations

from trajmaser.cli.render import emit


def add_parser(sub) -> None:
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
    p.set_defaults(func=run)


def run(args) -> int:
    from trajmaser import compare
    from trajmaser.cli.plots import plot_comparison
    from trajmaser.results.files import load_runs

    runs, _ = load_runs(args.result)
    if len(runs) > 1 or runs[0][0]:
        return _compare_sweep(args, runs)
    _, result, model, run = runs[0]
    if args.print_times:
        times = [float(t) for t in result.times]
        emit({"times": times}, args.json, "\n".join(f"{t:.17g}" for t in times))
        return 0
    reference = compare.load_reference(args.reference) if args.reference else None
    report = compare.compare_result(result, model, run, reference=reference, k=args.k)
    if args.plot:
        plot_comparison(report, result, args.plot)
    emit(report, args.json, compare.format_report(report))
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
    emit({"ok": ok, "points": reports}, args.json, "\n".join(texts))
    return 0 if ok else 1
