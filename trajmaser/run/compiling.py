"""Watching numba compile trajmaser's kernels: for the progress bar and `trajmaser warmup`.

The trajectory kernels are numba functions with ``cache=True``: the first call with a new
type signature compiles them (seconds) and writes the machine code to numba's on-disk cache;
later processes load it (milliseconds).  Numba announces every real compilation (not a cache
load) as a ``numba:compile`` event; `CompileWatch` listens to them, so nothing here depends on
which kernels exist or what they are called.

The cache lives next to the sources (``__pycache__``) when that directory is writable, else in
the user-wide cache directory (``~/.cache/numba``, or ``$XDG_CACHE_HOME/numba``);
``NUMBA_CACHE_DIR`` overrides both.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from numba.core import event

PACKAGE = "trajmaser"


def _ours(ev: event.Event) -> bool:
    disp = (ev.data or {}).get("dispatcher")
    module = getattr(getattr(disp, "py_func", None), "__module__", "") or ""
    return module == PACKAGE or module.startswith(PACKAGE + ".")


class CompileWatch(event.Listener):
    """Context manager counting numba compilations of trajmaser functions while it is active.

    Parameters
    ----------
    on_start : callable, optional
        Called with no argument whenever an outermost compilation starts (a kernel's
        compilation compiles the functions it calls inside it).

    Attributes
    ----------
    compiled : int
        Compilations (one per function and type signature, nested ones included).
    seconds : float
        Wall time spent in outermost compilations.
    """

    def __init__(self, on_start: Callable[[], None] | None = None) -> None:
        self.on_start_cb = on_start
        self.compiled = 0
        self.seconds = 0.0
        self._depth = 0
        self._t0 = 0.0

    def on_start(self, ev: event.Event) -> None:
        """Numba hook: a compilation starts."""
        if not _ours(ev):
            return
        self.compiled += 1
        self._depth += 1
        if self._depth == 1:
            self._t0 = time.perf_counter()
            if self.on_start_cb is not None:
                self.on_start_cb()

    def on_end(self, ev: event.Event) -> None:
        """Numba hook: a compilation ends."""
        if not _ours(ev) or self._depth == 0:
            return
        self._depth -= 1
        if self._depth == 0:
            self.seconds += time.perf_counter() - self._t0

    def __enter__(self) -> CompileWatch:
        event.register("numba:compile", self)
        return self

    def __exit__(self, *exc) -> None:
        event.unregister("numba:compile", self)


class CompilingBar:
    """A progress bar whose description reads ``compiling`` while this process compiles.

    The label appears when numba starts compiling a trajmaser function (a cold cache: a first
    run, or a kernel variant not compiled before) and stays until the next block completes.
    Only compilations in this process show: under MPI with more ranks than rank 0 computes
    with, rank 0 does not compile and the bar stays unlabelled.

    Parameters
    ----------
    bar
        A tqdm-like bar (``update``, ``set_description``, context manager).
    label : str
        The description shown while compiling.
    """

    def __init__(self, bar, label: str = "compiling") -> None:
        self.bar = bar
        self.label = label
        self.labelled = False
        self.watch = CompileWatch(on_start=self._compiling)

    def _compiling(self) -> None:
        if not self.labelled:
            self.labelled = True
            self.bar.set_description(self.label, refresh=True)

    def update(self, n: int = 1) -> None:
        """Advance the bar by ``n`` blocks (and drop the label)."""
        if self.labelled:
            self.labelled = False
            self.bar.set_description(None, refresh=False)
        self.bar.update(n)

    def __enter__(self) -> CompilingBar:
        self.bar.__enter__()
        self.watch.__enter__()
        return self

    def __exit__(self, *exc):
        self.watch.__exit__(*exc)
        return self.bar.__exit__(*exc)


@dataclass(frozen=True)
class KernelInfo:
    """One numba function of trajmaser and what this process did with it.

    Attributes
    ----------
    name : str
        ``module.function``.
    signatures : int
        Type signatures in memory (compiled or loaded).
    loaded, compiled : int
        Signatures loaded from the on-disk cache / compiled in this process.
    cache_dir : str
        Where its cache lives ('' when it has no on-disk cache).
    """

    name: str
    signatures: int
    loaded: int
    compiled: int
    cache_dir: str


def kernels() -> list[KernelInfo]:
    """The numba functions of the imported trajmaser modules that have at least one signature."""
    from numba.core.dispatcher import Dispatcher

    out = []
    for modname, mod in sorted(sys.modules.items()):
        if mod is None or not (modname == PACKAGE or modname.startswith(PACKAGE + ".")):
            continue
        for attr, obj in sorted(vars(mod).items()):
            if not isinstance(obj, Dispatcher) or obj.py_func.__module__ != modname:
                continue
            if not obj.signatures:
                continue
            stats = obj.stats
            out.append(
                KernelInfo(
                    name=f"{modname}.{attr}",
                    signatures=len(obj.signatures),
                    loaded=sum(stats.cache_hits.values()),
                    compiled=sum(stats.cache_misses.values()),
                    cache_dir=str(stats.cache_path or ""),
                )
            )
    return out
