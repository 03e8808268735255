"""Compile the trajectory kernels (or load them from numba's cache) before a run needs them.

numba compiles a kernel the first time it is called and keeps the machine code in its cache
(``__pycache__`` beside the sources, or the user-wide cache when those are read-only, or
``NUMBA_CACHE_DIR``), so only the first run after an install pays the compile time (about
20 s of CPU for the Fock path).  ``trajmaser warmup`` right after installing moves that cost
out of the first run; :func:`warmup` with a run's model and settings lets a progress display
say "compiling" while it happens.  A kernel's types do not depend on the parameter values
(all numbers enter as floats or ints), so one compile serves every run of that path.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

from numba.core import event

from trajmaser.params import Model, RunParams

#: Small models whose kernels are the Fock path's and the general path's.
FOCK_MODEL = Model(pe=0.3, omega=1.0, g=1.0, gamma=0.1, kappa=0.1, tau=1.0, rate=0.5)
GENERAL_MODEL = dataclasses.replace(FOCK_MODEL, coherence=0.1 + 0j)
_TINY = RunParams(atoms=2, ntraj=1, samples=1, burn_in=1, seed=0, block_size=1)


class _FirstCompile(event.Listener):
    """Calls ``callback`` once, at the first compilation numba starts (not at cache loads)."""

    def __init__(self, callback: Callable[[], None]):
        self.callback = callback
        self.fired = False

    def on_start(self, ev) -> None:
        if not self.fired:
            self.fired = True
            self.callback()

    def on_end(self, ev) -> None:
        pass


def warmup(
    model: Model | None = None,
    run: RunParams | None = None,
    *,
    on_compile: Callable[[], None] | None = None,
) -> float:
    """Compile or load the trajectory kernel(s); returns the seconds it took.

    Parameters
    ----------
    model, run : Model and RunParams, optional
        The kernel this run uses (one trajectory of two atoms with the same types).  Without
        them, the Fock-path and general-path kernels (what ``trajmaser warmup`` does).
    on_compile : callable, optional
        Called once, with no arguments, when numba starts compiling (for example to label a
        progress bar "compiling"); not called when every kernel comes from the cache.  It
        runs in the thread that compiles (the kernels run in a worker thread).
    """
    from trajmaser.trajectories.driver import simulate_block

    if (model is None) != (run is None):
        raise ValueError("warmup needs both model and run, or neither")
    if model is None:
        cases = [(FOCK_MODEL, _TINY), (GENERAL_MODEL, dataclasses.replace(_TINY, nmax=4))]
    else:
        tiny = dataclasses.replace(
            run, atoms=2, samples=1, burn_in=1, ntraj=1, block_size=1, seed=0
        )
        cases = [(model, tiny)]
    listener = _FirstCompile(on_compile) if on_compile is not None else None
    start = time.perf_counter()
    if listener is not None:
        event.register("numba:compile", listener)
    try:
        for m, r in cases:
            simulate_block(m, r, 0)
    finally:
        if listener is not None:
            event.unregister("numba:compile", listener)
    return time.perf_counter() - start


def main() -> int:
    """``python -m trajmaser.trajectories.warmup``: compile both paths, report the time."""
    seconds = warmup(on_compile=lambda: print("compiling the trajectory kernels ...", flush=True))
    print(f"trajectory kernels ready ({seconds:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
