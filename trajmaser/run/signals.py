"""SIGTERM, SIGUSR1 (SLURM's ``--signal``) and SIGINT turned into a clean stop of a run.

While a run is in progress the handlers record the signal and ask the trajectory kernels to
stop (`trajmaser.trajectories.cancel`, polled once per trajectory while the kernel runs
without the GIL), so a long block ends within about a second; the block is abandoned and the
reduction writes its checkpoint.  Where the cancel module is not available, the handler raises
`RunInterrupted` inside the running task instead (seen when the compiled code returns).  A
second Ctrl-C stops at once, without a checkpoint.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from typing import Any

from trajmaser.run.backends.base import RunInterrupted

try:  # the kernels' cancel flag (absent in builds whose kernels do not poll it)
    from trajmaser.trajectories import cancel
except ImportError:  # pragma: no cover - depends on the kernel version installed
    cancel = None

SIGNALS = ("SIGTERM", "SIGUSR1", "SIGINT")

__all__ = ["SIGNALS", "Guard", "RunInterrupted", "cancel"]


class Guard:
    """Context manager installing the handlers (main thread only) and running tasks.

    Attributes
    ----------
    received : str or None
        Name of the first signal received (or reported by another rank).
    """

    def __init__(self) -> None:
        self.received: str | None = None
        self._in_task = False
        self._old: dict = {}

    def __enter__(self) -> Guard:
        if cancel is not None:
            cancel.clear()
        if threading.current_thread() is threading.main_thread():
            for name in SIGNALS:
                signum = getattr(signal, name)
                self._old[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        for signum, old in self._old.items():
            signal.signal(signum, old)
        self._old.clear()
        if cancel is not None:
            cancel.clear()

    def _handle(self, signum, frame) -> None:
        if signum == signal.SIGINT and self.received == "SIGINT":
            raise KeyboardInterrupt  # second Ctrl-C: stop without a checkpoint
        self.received = signal.Signals(signum).name
        if cancel is not None:
            cancel.request()  # the kernel stops and the task raises cancel.Cancelled
        elif self._in_task:
            self._in_task = False
            raise RunInterrupted(self.received)

    def call(self, task: Callable[[int], Any], block: int) -> Any:
        """``task(block)``; raises `RunInterrupted` if a signal came before or during it."""
        if self.received:
            raise RunInterrupted(self.received)
        self._in_task = True
        try:
            return task(block)
        except Exception as exc:
            if cancel is not None and isinstance(exc, cancel.Cancelled):
                raise RunInterrupted(self.received or "cancel") from None
            raise
        finally:
            self._in_task = False
