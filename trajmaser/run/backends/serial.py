"""The serial backend: every block in this process, in the order given."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import nullcontext
from typing import Any

from trajmaser.run.backends.base import RunInterrupted


class SerialBackend:
    """One process, rank 0 of 1."""

    name = "serial"
    rank = 0
    size = 1

    @property
    def is_root(self) -> bool:
        """Always True."""
        return True

    def map_blocks(
        self,
        task: Callable[[int], Any],
        todo: Sequence[int] | None,
        on_done: Callable[[int, Any], None],
        guard: Any,
    ) -> bool:
        """``on_done(b, task(b))`` for each block in order; True if a signal stopped it."""
        for block in todo or ():
            try:
                res = guard.call(task, block)
            except RunInterrupted:
                return True
            except Exception as exc:
                exc.add_note(f"trajmaser: while computing block {block}")
                raise
            on_done(block, res)
        return False

    def share(self, value: Any) -> Any:
        """``value`` itself."""
        return value

    def errors(self) -> nullcontext:
        """Exceptions propagate unchanged."""
        return nullcontext()


def detect() -> SerialBackend:
    """Always applies."""
    return SerialBackend()
