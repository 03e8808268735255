"""Command-line front end: parse, load, call, save.  No physics here."""

from __future__ import annotations

import argparse
import os
import sys

from trajmaser.cli import compare, dm, fuel, run, warmup
from trajmaser.params import ConfigError


def build_parser() -> argparse.ArgumentParser:
    """The ``trajmaser`` argument parser with all subcommands."""
    parser = argparse.ArgumentParser(prog="trajmaser", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for add in (fuel.add_parser, dm.add_parser, run.add_run_parser, run.add_summary_parser,
                compare.add_parser, warmup.add_parser):  # fmt: skip
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
