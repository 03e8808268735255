"""Command-line front end: parse, load, call, save.  No physics here."""

from __future__ import annotations

import argparse
import os
import sys
import traceback

from trajmaser.cli import compare, dm, fuel, run, switching, warmup
from trajmaser.params import ConfigError

DESCRIPTION = """\
Exact quantum trajectories of a micromaser pumped by atoms from a spin-star "quantum fuel",
next to the exact density-matrix result.

  trajmaser fuel --N 1..10              the fuel: pe and Tq/Tb of the central spin
  trajmaser dm CONFIG.toml              density-matrix steady state of a configuration
  trajmaser run CONFIG.toml -o OUT.npz  trajectories (serial or mpiexec -n K) to a result file
  trajmaser summary OUT.npz             steady state of a result: Tf/Tb, n, Q, g2, clicks
  trajmaser compare OUT.npz             trajectories vs density matrix at every record
  trajmaser switching CONFIG.toml       peaks of p(n) and switching times (rare-event method)
  trajmaser warmup                      compile the kernels once, after installing

Every command takes --json; `trajmaser COMMAND --help` lists its options.  Exit status:
0 success, 1 disagreement (compare), 2 a bad input or file (one line on stderr),
99 a run interrupted by a signal (checkpoint kept: rerun to resume)."""


def _version() -> str:
    from trajmaser import __version__

    return f"trajmaser {__version__}"


def build_parser() -> argparse.ArgumentParser:
    """The ``trajmaser`` argument parser with all subcommands."""
    parser = argparse.ArgumentParser(
        prog="trajmaser", description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in (fuel.add_parser, dm.add_parser, run.add_run_parser, run.add_summary_parser,
                compare.add_parser, switching.add_parser, warmup.add_parser):  # fmt: skip
        add(sub)
    return parser


def _say(command: str, text: str) -> None:
    if os.environ.get("PMI_RANK", "0") == "0":  # one message, not one per MPI rank
        print(f"trajmaser {command}: error: {text}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the process exit status (0, 1 from compare, 2 on errors)."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except BrokenPipeError:  # e.g. `trajmaser fuel --N 1..100 | head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        _say(args.command, "interrupted")
        return 130
    except (ConfigError, ValueError, OSError) as exc:
        _say(args.command, " ".join(str(exc).split()) or type(exc).__name__)
        return 2
    except MemoryError:
        _say(args.command, "out of memory; make the problem smaller (see --help)")
        return 2
    except Exception as exc:  # an unforeseen failure: still one line, the traceback on demand
        if os.environ.get("TRAJMASER_TRACEBACK"):
            traceback.print_exc()
        _say(args.command, f"{type(exc).__name__}: {' '.join(str(exc).split())} (unexpected; "
             "TRAJMASER_TRACEBACK=1 shows where, please report it)")  # fmt: skip
        return 2


if __name__ == "__main__":
    sys.exit(main())
