"""`trajmaser run` and `trajmaser summary`: trajectories to a result file, and its steady state."""

from __future__ import annotations

import math
import sys
import threading
import time

from trajmaser.cli.render import DM_KEYS, emit, series_text, steady_text, sweep_text
from trajmaser.cli.switching import annotate_stationarity

DM_SECONDS = 20.0
"""Default time allowed to the density-matrix reference after a run (``--dm-timeout``)."""
DM_NMAX = 300
"""Largest Fock cut-off the reference after a run may grow to (memory and time bound)."""


def add_run_parser(sub) -> None:
    p = sub.add_parser(
        "run",
        help="quantum-trajectory run (serial, or under mpiexec -n K)",
        description="Run the trajectories of CONFIG (or every point of its [sweep]) and write "
        "one result file, then print the steady state beside the density matrix. The run is "
        "planned first (passages, time, memory, file size) and refused past the limits below. "
        "Under `mpiexec -n K` the blocks are shared by the ranks; the result is the same for "
        "any K. SIGTERM/SIGUSR1/SIGINT checkpoint and exit 99; rerunning the same command "
        "resumes from OUT.ckpt.npz.",
    )
    p.add_argument("config", help="TOML run configuration")
    p.add_argument("-o", "--output", required=True, help="result file (.npz)")
    p.add_argument("--json", action="store_true", help="machine-readable summary on stdout")
    p.add_argument("--force", action="store_true", help="overwrite an existing result file")
    p.add_argument("--restart", action="store_true", help="ignore a checkpoint, start afresh")
    p.add_argument("--quiet", action="store_true", help="no plan line, no progress bar")
    p.add_argument("--checkpoint-every", type=float, default=60.0, metavar="S",
                   help="seconds between checkpoints, > 0 (60)")  # fmt: skip
    p.add_argument("--target-err", type=float, metavar="X",
                   help="add blocks until the relative standard error of steady-state Tf is "
                   "<= X, 0 < X < 1")  # fmt: skip
    p.add_argument("--max-ntraj", type=int, metavar="N",
                   help="with --target-err: cap on trajectories (default 100 x ntraj)")  # fmt: skip
    p.add_argument("--batch-blocks", type=int, metavar="B",
                   help="with --target-err: blocks between checks (4); fixed, so results do "
                   "not depend on ranks")  # fmt: skip
    p.add_argument("--max-hours", type=float, default=72.0, metavar="H",
                   help="refuse runs estimated to take longer (72)")  # fmt: skip
    p.add_argument("--max-file-gb", type=float, default=4.0, metavar="G",
                   help="refuse runs whose result file would be larger (4)")  # fmt: skip
    p.add_argument("--max-memory-gb", type=float, default=16.0, metavar="G",
                   help="refuse runs that would need more memory per rank (16)")  # fmt: skip
    p.add_argument("--no-dm", action="store_true", help="skip the density-matrix comparison")
    p.add_argument(
        "--dm-timeout",
        type=float,
        default=DM_SECONDS,
        metavar="S",
        help="time allowed to the density matrix and the stationarity check after a run "
        f"({DM_SECONDS:g})",
    )
    p.set_defaults(func=run)


def _check_options(args) -> None:
    """One clear error per option out of range (ConfigError names the option)."""
    from trajmaser.params import ConfigError

    def positive(name: str, value, allow_inf: bool = False) -> None:
        if value is not None and not (value > 0 and (allow_inf or math.isfinite(value))):
            raise ConfigError(f"{name} {value} must be a positive number")

    positive("--checkpoint-every", args.checkpoint_every, allow_inf=True)
    positive("--dm-timeout", args.dm_timeout, allow_inf=True)
    for name in ("max_hours", "max_file_gb", "max_memory_gb"):
        positive("--" + name.replace("_", "-"), getattr(args, name), allow_inf=True)
    for name in ("max_ntraj", "batch_blocks"):
        value = getattr(args, name)
        if value is not None and args.target_err is None:
            raise ConfigError(f"--{name.replace('_', '-')} only applies with --target-err")
        if value is not None and value < 1:
            raise ConfigError(f"--{name.replace('_', '-')} {value} must be at least 1")


def run(args) -> int:
    from trajmaser.config import load_config
    from trajmaser.run import EXIT_INTERRUPTED, current_backend, execute
    from trajmaser.run.estimate import Limits, warnings

    _check_options(args)
    ctx = current_backend()
    cfg = load_config(args.config)

    def announce(est) -> None:
        lines = ([] if args.quiet else [est.text()]) + warnings(est, args.checkpoint_every)
        for line in lines:
            print(f"trajmaser run: {line}", file=sys.stderr)

    outcome = execute(
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
        limits=Limits(args.max_hours, args.max_file_gb, args.max_memory_gb),
        announce=announce,
    )
    if not outcome.complete:
        if ctx.is_root:
            print(f"trajmaser run: interrupted by {outcome.interrupted}; checkpoint kept: "
                  "rerun the same command to resume", file=sys.stderr)  # fmt: skip
        return EXIT_INTERRUPTED
    if not ctx.is_root:
        return 0
    print(f"wrote {args.output}", file=sys.stderr)
    # a sweep's table stays trajectories only (`summary --dm` adds the density matrices)
    dm_seconds = None if args.no_dm or cfg.sweep else args.dm_timeout
    return _report(outcome.result, cfg, args.json, dm_seconds=dm_seconds)


def density_matrix(model, result, seconds: float) -> tuple[dict | None, str | None]:
    """The density-matrix steady state beside a trajectory result, bounded in time and size.

    Returns ``(reference, None)``, or ``(None, reason)`` when it is skipped: no converged
    state within `DM_NMAX` levels (or the trajectories' own cut-off on the general path),
    not done within ``seconds``, out of memory or a numerical failure.  Never raises.
    """
    from trajmaser import dm

    box: dict = {}

    def work() -> None:
        try:
            if model.is_diagonal:
                steady = dm.steady(model, nmax_limit=DM_NMAX)
            else:  # the general path's cut-off: the trajectories' own
                steady = dm.steady(model, nmax=max(int(result.time.hist.shape[1]) - 1, 1))
            box["ref"] = {b: {k: steady[b][k] for k in DM_KEYS} for b in ("arrival", "time")}
        except MemoryError:
            box["why"] = "not enough memory"
        except Exception as exc:  # a reference that fails must not fail a finished run
            box["why"] = " ".join(str(exc).split()) or type(exc).__name__

    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        return None, f"not computed within {seconds:g} s (--dm-timeout; or `trajmaser dm`)"
    return box.get("ref"), box.get("why")


def _stationarity(cfg, payload, seconds: float | None) -> None:
    """`annotate_stationarity` bounded in time like the density matrix (skipped without one).

    Each row (or the summary) gets ``stationarity_warning``: the warning, None, or a note
    that the check was skipped.
    """
    rows = payload if isinstance(payload, list) else [payload]
    if cfg is None or seconds is None:
        return
    probe = [{} for _ in rows]
    if seconds <= 0.0:
        for row in rows:
            row["stationarity_warning"] = None
        print("stationarity check skipped: no time left (--dm-timeout)", file=sys.stderr)
        return
    worker = threading.Thread(
        target=annotate_stationarity, args=(cfg, probe if isinstance(payload, list) else probe[0]),
        daemon=True,
    )  # fmt: skip
    worker.start()
    worker.join(seconds)
    for row, got in zip(rows, probe, strict=True):
        if worker.is_alive():
            row["stationarity_warning"] = None
        else:
            row["stationarity_warning"] = got.get("stationarity_warning")
    if worker.is_alive():
        print(f"stationarity check skipped: not done within {seconds:g} s (--dm-timeout)",
              file=sys.stderr)  # fmt: skip


def _report(result, cfg, as_json: bool, *, dm_seconds: float | None) -> int:
    """Print the steady-state summary (single run) or the sweep table; exit status 0."""
    from trajmaser.results import SweepResult

    if isinstance(result, SweepResult):
        rows = result.table()
        refs = None
        if dm_seconds is not None and cfg is not None:
            refs = []
            for (_, point), res in zip(cfg.grid(), result.results, strict=True):
                ref = density_matrix(point.model(), res, dm_seconds)[0] if res else None
                refs.append(ref)
            for row, ref in zip(rows, refs, strict=True):
                row["density_matrix"] = ref
        _stationarity(cfg, rows, dm_seconds)
        emit(rows, as_json, sweep_text(result.axes, rows, refs))
        return 0
    summary = result.summary()
    summary["atoms"] = cfg.run.atoms if cfg is not None else None
    ref = note = None
    start = time.monotonic()  # the density matrix and the stationarity check share the budget
    if dm_seconds is not None and cfg is not None:
        ref, note = density_matrix(cfg.model(), result, dm_seconds)
        summary["density_matrix"] = ref if ref is not None else {"error": note}
    left = None if dm_seconds is None else max(dm_seconds - (time.monotonic() - start), 0.0)
    if dm_seconds is not None and cfg is not None and ref is None:
        # the check solves the same steady state without the reference's bounds: it would
        # only spend the rest of the budget failing again
        summary["stationarity_warning"] = None
        print("stationarity check skipped: it needs the density-matrix steady state",
              file=sys.stderr)  # fmt: skip
    else:
        _stationarity(cfg, summary, left)
    emit(summary, as_json, steady_text(summary, ref, note))
    return 0


def add_summary_parser(sub) -> None:
    p = sub.add_parser(
        "summary",
        help="steady-state summary of a result file",
        description="The steady state of a result file: both blocks (time average and just "
        "before atoms) with n, Var n, Mandel Q, g2(0), Tf/Tb and efficiency with errors, and "
        "the detected atoms' p_e and Mandel Q_a; a table for a [sweep].",
    )
    p.add_argument("result", help="result file written by `trajmaser run`")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--dm", action="store_true", help="add the density-matrix steady state")
    p.add_argument("--dm-timeout", type=float, default=DM_SECONDS, metavar="S",
                   help=f"time allowed to each density matrix ({DM_SECONDS:g})")  # fmt: skip
    p.add_argument(
        "--series",
        action="store_true",
        help="the time series instead: n, Var, Mandel Q, g2, Tf/Tb, efficiency with errors "
        "at every sample time and arrival record",
    )
    p.set_defaults(func=summary)


def summary(args) -> int:
    from trajmaser.results import SweepResult
    from trajmaser.results.files import read

    if not args.dm_timeout > 0:
        from trajmaser.params import ConfigError

        raise ConfigError(f"--dm-timeout {args.dm_timeout} must be a positive number")
    result, cfg, _ = read(args.result)
    if args.series:
        if isinstance(result, SweepResult):
            raise ValueError("--series needs a single-point result, this file holds a sweep")
        series = result.series()
        emit(series, args.json, series_text(series))
        return 0
    return _report(result, cfg, args.json, dm_seconds=args.dm_timeout if args.dm else None)
