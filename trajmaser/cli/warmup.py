"""`trajmaser warmup`: compile the trajectory kernels once, right after installing."""

from __future__ import annotations


def add_parser(sub) -> None:
    p = sub.add_parser(
        "warmup",
        help="compile the trajectory kernels (run once after installing)",
        description="Compile the Fock-path and general-path trajectory kernels into numba's "
        "cache, so that the first `trajmaser run` does not spend ~20 s compiling.",
    )
    p.set_defaults(func=run)


def run(args) -> int:
    from trajmaser.trajectories.warmup import main

    return main()
