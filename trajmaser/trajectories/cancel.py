"""Cooperative cancellation of the compiled trajectory kernels.

A signal handler (or any thread) calls :func:`request`; the kernels poll :data:`FLAG` once per
trajectory (and every :data:`POLL_PASSAGES` atom passages inside one) and stop, and
:func:`~trajmaser.trajectories.simulate_block` then raises :class:`Cancelled`.  The kernels run
without the GIL in a worker thread while the calling thread waits in short joins
(:func:`run_in_worker`), so Python signal handlers run within about :data:`JOIN_INTERVAL`.
The flag stays set until :func:`clear`: a request made between blocks stops the next block.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

import numpy as np

#: Set to a nonzero value to stop the kernels (pass it to them; numba would freeze a global).
FLAG = np.zeros(1, dtype=np.int64)
#: Seconds between the waiting thread's wake-ups (signal handlers run at these points).
JOIN_INTERVAL = 0.02
#: Atom passages between two polls inside one trajectory (a power of two).
POLL_PASSAGES = 1 << 16

_T = TypeVar("_T")


class Cancelled(Exception):
    """The run was stopped by :func:`request` before the block finished."""


def request() -> None:
    """Ask the running and all later kernel calls to stop (safe in a signal handler)."""
    FLAG[0] = 1


def clear() -> None:
    """Withdraw a stop request."""
    FLAG[0] = 0


def requested() -> bool:
    """True while a stop request is pending."""
    return bool(FLAG[0])


def run_in_worker(func: Callable[[], _T]) -> _T:
    """Call ``func()`` in a worker thread; wait in short waits so signal handlers run.

    If the waiting thread is interrupted (say ``KeyboardInterrupt`` from the default SIGINT
    handler), a stop is requested, the worker's end is awaited and the exception propagates.
    The worker's own exception, if any, is re-raised here.  The wait uses an event, not
    ``Thread.join``: an exception raised inside ``join`` can mark a running thread as
    stopped (CPython 3.11), and the kernel would then run on unwaited.
    """
    box: dict = {}
    done = threading.Event()

    def target() -> None:
        try:
            box["out"] = func()
        except BaseException as exc:  # handed to the waiting thread
            box["err"] = exc
        finally:
            done.set()

    worker = threading.Thread(target=target, name="trajmaser-kernel", daemon=True)
    try:
        worker.start()
        while not done.wait(JOIN_INTERVAL):
            pass
    except BaseException:  # also while starting: never leave a kernel running unwaited
        request()
        if worker.ident is not None:
            done.wait()
        raise
    if "err" in box:
        raise box["err"]
    return box["out"]
