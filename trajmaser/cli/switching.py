"""`trajmaser switching`: peaks of the field and the switching times between them."""

from __future__ import annotations

import sys

from trajmaser.cli.render import emit


def add_parser(sub) -> None:
    p = sub.add_parser(
        "switching",
        help="peaks of p(n) and switching times: forward-flux trajectories vs density matrix",
        description="Mean first-passage times between the two heaviest peaks of the stationary "
        "photon-number distribution just before arrivals (in atoms), the peak weights and the "
        "stationary n and Mandel Q, estimated by forward-flux sampling of exact trajectories "
        "in independent replicas (errors: jackknife over replicas), beside the exact density-"
        "matrix values. Under `mpiexec -n K` the replicas are shared by the ranks (same "
        "numbers for any K). With -o the replica counts are written there, checkpointed to "
        "OUT.ckpt.npz (SIGTERM/SIGUSR1: exit 99) and resumed by the same command.",
    )
    p.add_argument("config", help="TOML configuration (one point; [run] seed is the root seed)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("-o", "--output", help="replica counts (.npz); enables checkpoints")
    p.add_argument("--force", action="store_true", help="overwrite an existing output file")
    p.add_argument("--restart", action="store_true", help="ignore an existing checkpoint")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--replicas", type=int, default=16, help="independent replicas (16)")
    p.add_argument("--trials", type=int, default=1000, help="trials per interface (1000)")
    p.add_argument("--basin-atoms", type=int, default=200_000, help="atoms per basin run (200000)")
    p.add_argument("--spacing", type=int, default=1, help="photons between interfaces (1)")
    p.add_argument(
        "--distribution", action="store_true", help="include the estimated p(n) with errors"
    )
    p.set_defaults(func=run)


def _text(doc: dict) -> str:
    ref = doc["dm"]
    lines = ["peaks of p(n) just before arrivals (weight: trajectories | density matrix):"]
    for p, q in zip(doc["peaks"], ref["peaks"], strict=True):
        w = f"{p['weight']:.4g} +- {p['weight_err']:.2g}"
        lines.append(f"  n = {p['n_mode']:4d}: {w} | {q['weight']:.4g}")
    if doc["message"]:
        lines.append(doc["message"])
    else:
        lo, hi = doc["n_lo"], doc["n_hi"]
        for key, name in (("up", f"up   (n <= {lo} -> n >= {hi})"),
                          ("down", f"down (n >= {hi} -> n <= {lo})")):  # fmt: skip
            v, e, r = (doc[f"mfpt_{key}_atoms"], doc[f"mfpt_{key}_atoms_err"],
                       ref[f"mfpt_{key}_atoms"])  # fmt: skip
            lines.append(f"mean first passage {name}: {v:.4g} +- {e:.2g} atoms | {r:.4g}")
    s, r = doc["steady"], ref["steady"]
    lines.append(
        f"stationary (arrival): n = {s['n_mean']:.5f} +- {s['n_mean_err']:.5f} | "
        f"{r['n_mean']:.5f};  Q = {s['mandel_q']:.5f} +- {s['mandel_q_err']:.5f} | "
        f"{r['mandel_q']:.5f}"
    )
    lines.append(
        f"relaxation (density matrix): {ref['relaxation_atoms']:.4g} atoms;  simulated "
        f"{doc['atoms_simulated']:.3g} atoms in {doc['replicas']} replicas"
    )
    return "\n".join(lines)


def run(args) -> int:
    from trajmaser import io
    from trajmaser.config import load_config
    from trajmaser.params import ConfigError
    from trajmaser.switching import Budget, plan_switching, report, simulate

    cfg = load_config(args.config)
    if cfg.sweep:
        raise ConfigError("switching takes one point: remove [sweep] (or run each point)")
    budget = Budget(replicas=args.replicas, basin_atoms=args.basin_atoms, trials=args.trials,
                    spacing=args.spacing)  # fmt: skip
    plan, ref = plan_switching(cfg.model(), cfg.run.seed, budget)
    meta = io.run_metadata(cfg.raw, seed=cfg.run.seed, replicas=budget.replicas)
    outcome = simulate(plan, budget.replicas, args.output, meta=meta, force=args.force,
                       resume=not args.restart, progress=not args.quiet)  # fmt: skip
    if not outcome.complete:
        from trajmaser.run import EXIT_INTERRUPTED

        kept = "; checkpoint kept: rerun the same command to resume" if args.output else ""
        print(f"trajmaser switching: interrupted{kept}", file=sys.stderr)
        return EXIT_INTERRUPTED
    if outcome.result is None:  # not rank 0
        return 0
    doc = report(plan, ref, outcome.result)
    if not args.distribution:
        doc.pop("distribution")
    emit(doc, args.json, _text(doc))
    return 0


def annotate_stationarity(cfg, payload) -> None:
    """Warn on stderr when a run's steady window is not stationary, and flag it in ``payload``.

    ``payload`` is a run summary (dict) or the rows of a sweep table (list, in the order of
    ``cfg.grid()``); each gets ``stationarity_warning`` (the text, or None).  Models with
    coherent atoms or fields are not checked (their general density matrix is slow), nor
    models without a steady state.
    """
    from trajmaser.switching.stationarity import stationarity_warning

    if cfg is None:
        return
    points = cfg.grid() if isinstance(payload, list) else [({}, cfg)]
    rows = payload if isinstance(payload, list) else [payload]
    for (labels, point), row in zip(points, rows, strict=True):
        model = point.model()
        try:
            text = stationarity_warning(model, point.run) if model.is_diagonal else None
        except ValueError:  # no steady state (e.g. inverted atoms)
            text = None
        except MemoryError:  # a check that fails must not fail a finished run
            text = None
            print("stationarity check skipped: not enough memory", file=sys.stderr)
        except Exception as exc:  # noqa: BLE001 (e.g. a numerical failure: say it, go on)
            text = None
            why = " ".join(str(exc).split()) or type(exc).__name__
            print(f"stationarity check skipped: {why}", file=sys.stderr)
        row["stationarity_warning"] = text
        if text:
            where = ", ".join(f"{k} = {v}" for k, v in dict(labels).items())
            print(f"warning{f' ({where})' if where else ''}: {text}", file=sys.stderr)
