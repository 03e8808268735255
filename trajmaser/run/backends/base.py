"""The backend protocol: how a set of numbered blocks gets computed, on one process or many.

A backend runs ``task(block)`` for the blocks it is given and hands each result to rank 0
(``on_done``) in any order; the ordered reduction (`trajmaser.run.reduction`) does the rest.
Every process of a run calls the same methods in the same order (SPMD); a serial backend has
one process, rank 0.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class Backend(Protocol):
    """What the reduction needs from an engine (serial, MPI, ...).

    Attributes
    ----------
    name : str
        Registry name (``serial``, ``mpi``).
    rank, size : int
        This process and the number of processes; rank 0 merges, checkpoints and writes.
    """

    name: str
    rank: int
    size: int

    @property
    def is_root(self) -> bool:
        """True on rank 0."""

    def map_blocks(
        self,
        task: Callable[[int], Any],
        todo: Sequence[int] | None,
        on_done: Callable[[int, Any], None],
        guard: Any,
    ) -> bool:
        """Compute ``task(b)`` for every ``b`` in ``todo`` (rank 0's list; None elsewhere).

        ``on_done(b, result)`` is called on rank 0 as results come in (any order).
        ``guard.call(task, b)`` runs a task and raises `RunInterrupted` on a signal;
        ``guard.received`` holds the signal's name.  Returns True on every rank when a signal
        stopped the map (blocks not handed to ``on_done`` are simply not done).
        """

    def share(self, value: Any) -> Any:
        """Rank 0's ``value`` on every rank."""

    def errors(self) -> AbstractContextManager:
        """Context turning an exception on one rank into the end of the whole job."""


class RunInterrupted(Exception):
    """A signal asked the run to stop; completed blocks are kept."""


def root_do(backend: Backend, fn: Callable[[], Any]) -> Any:
    """``fn()`` on rank 0, shared with no rank; if it raises, raise on rank 0 and end the
    other ranks quietly (``SystemExit(2)``), so a refusal never leaves a rank waiting."""
    value, error = None, None
    if backend.is_root:
        try:
            value = fn()
        except Exception as exc:
            error = exc
    if backend.size > 1 and backend.share(error is not None) and not backend.is_root:
        raise SystemExit(2)
    if error is not None:
        raise error
    return value
