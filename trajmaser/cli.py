"""Command-line front end: parse, load, call, save.  No physics here."""

from __future__ import annotations

import argparse
import json
import sys

from .params import ConfigError


def _emit(payload: dict, as_json: bool, text: str) -> None:
    """Print ``payload`` as JSON or ``text`` for people."""
    if as_json:
        print(json.dumps(payload, indent=2, default=float))
    else:
        print(text)


# ---------------------------------------------------------------- fuel (owner: fuel)
def _add_fuel(sub) -> None:
    p = sub.add_parser("fuel", help="central-spin fuel: pe and Tq/Tb")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_cmd_fuel)


def _cmd_fuel(args) -> int:
    raise NotImplementedError


# ---------------------------------------------------------------- dm (owner: dm)
def _add_dm(sub) -> None:
    p = sub.add_parser("dm", help="density-matrix steady state")
    p.add_argument("config", help="TOML run configuration")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_cmd_dm)


def _cmd_dm(args) -> int:
    raise NotImplementedError


# ---------------------------------------------------------------- run/summary (owner: parallel)
def _add_run(sub) -> None:
    p = sub.add_parser("run", help="quantum-trajectory run (serial or under mpiexec)")
    p.add_argument("config", help="TOML run configuration")
    p.add_argument("-o", "--output", required=True, help="result file (.npz)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_cmd_run)


def _cmd_run(args) -> int:
    raise NotImplementedError


def _add_summary(sub) -> None:
    p = sub.add_parser("summary", help="steady-state summary of a result file")
    p.add_argument("result", help="result file written by `trajmaser run`")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_cmd_summary)


def _cmd_summary(args) -> int:
    raise NotImplementedError


# ---------------------------------------------------------------- compare (owner: trajectories)
def _add_compare(sub) -> None:
    p = sub.add_parser("compare", help="trajectories vs density matrix")
    p.add_argument("result", help="result file written by `trajmaser run`")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_cmd_compare)


def _cmd_compare(args) -> int:
    raise NotImplementedError


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
    except (ConfigError, ValueError, FileExistsError, FileNotFoundError) as exc:
        print(f"trajmaser {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
