"""`trajmaser compare`: trajectories against the density matrix or a user reference."""

from __future__ import annotations

import argparse

from trajmaser.cli.render import emit


def add_parser(sub) -> None:
    p = sub.add_parser(
        "compare",
        help="trajectories vs density matrix (or your solver): a calibrated verdict",
        description="Test a trajectory result against the density matrix (or a user "
        "reference) at family-wise false-alarm level alpha: <n>, <n^2> and p(n) at every "
        "sample time, arrival record and steady block, with batch-means t statistics "
        "calibrated by sign flips (docs/VALIDATION.md). Exit status 0 agree, 1 disagree, "
        "2 bad input.",
    )
    p.add_argument("result", help="result file written by `trajmaser run`")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument(
        "--alpha",
        type=float,
        default=0.01,
        help="family-wise false-alarm level (default 0.01): with an exact reference the "
        "verdict says DISAGREE in about this fraction of runs",
    )
    # --k (|z| bound of earlier versions) is accepted and ignored
    p.add_argument("--k", type=float, default=None, help=argparse.SUPPRESS)
    p.add_argument(
        "--reference",
        metavar="FILE",
        help="own solver's values at the sample times instead of the density matrix: CSV with "
        "header 'time,n_mean[,n_var]' or 'time,p0,p1,...', or .npy with columns (time, n_mean"
        "[, n_var]) or (time, p0, p1, ...) (>= 4 columns)",
    )
    p.add_argument(
        "--plot",
        metavar="PNG",
        help="figure: <n> with its 1-sigma band and the reference, per-point t, p(n) panels",
    )
    p.add_argument("--print-times", action="store_true", help="print the sample times (s) and exit")
    p.set_defaults(func=run)


def run(args) -> int:
    from trajmaser import compare
    from trajmaser.references import load_reference
    from trajmaser.results.files import load_runs

    if not 0.0 < args.alpha < 1.0:
        raise ValueError(f"--alpha must lie in (0, 1), got {args.alpha}")
    runs, _ = load_runs(args.result)
    if len(runs) > 1 or runs[0][0]:
        return _compare_sweep(args, runs)
    _, result, model, run = runs[0]
    if args.print_times:
        times = [float(t) for t in result.times]
        emit({"times": times}, args.json, "\n".join(f"{t:.17g}" for t in times))
        return 0
    reference, label = None, "density matrix"
    if args.reference:
        reference = {"time": load_reference(args.reference, result.times)}
        label = f"reference ({args.reference})"
    report = compare.compare_result(result, model, run, reference=reference, alpha=args.alpha)
    if args.plot:
        from trajmaser.report_plot import plot_report

        plot_report(report, label=label).savefig(args.plot, dpi=120)
    emit(report, args.json, compare.format_report(report))
    return 0 if report["ok"] else 1


def _compare_sweep(args, runs) -> int:
    """Every point of a sweep against its own density matrix, each at alpha / points
    (Bonferroni), so the sweep's family-wise false-alarm level is alpha."""
    from trajmaser import compare

    if args.reference or args.plot or args.print_times:
        raise ValueError("--reference, --plot and --print-times need a single-point result")
    each = args.alpha / len(runs)
    reports, texts = [], []
    for labels, result, model, run in runs:
        report = compare.compare_result(result, model, run, alpha=each)
        report.pop("points")
        reports.append({"point": labels, **report})
        where = ", ".join(f"{k} = {v}" for k, v in labels.items())
        texts.append(f"== {where}\n{compare.format_report(report)}")
    ok = all(r["ok"] for r in reports)
    texts.append(
        f"{sum(r['ok'] for r in reports)} of {len(reports)} points agree "
        f"(each at alpha/{len(reports)} = {each:.3g}: family-wise alpha = {args.alpha:g})"
    )
    emit({"ok": ok, "alpha": args.alpha, "points": reports}, args.json, "\n".join(texts))
    return 0 if ok else 1
