"""The ordered, checkpointed reduction of a run's blocks; it knows nothing of MPI or files.

A run is blocks ``0 .. nblocks-1``; ``task(block) -> result`` is deterministic (block ``b``
seeds its own generator) and results merge with ``+``.  Results are folded left in block
order, ``((r0 + r1) + r2) + ...``, whatever order a backend delivers them in, so the answer is
bitwise the same for any backend and any number of ranks.  A `Store` (see
`trajmaser.run.checkpoint`) saves the fold state now and then and on a signal; a rerun
resumes from it and reaches the same bits.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from trajmaser.run.backends.base import Backend, root_do
from trajmaser.run.signals import Guard


class OrderedReducer:
    """Left fold of block results in block order, accepting blocks in any order.

    ``prefix`` is ``r[0] + r[1] + ... + r[next_block - 1]`` (folded left to right); blocks that
    arrive early wait in ``pending`` until the gap before them closes.
    """

    def __init__(self, next_block: int = 0, prefix: Any = None, pending: dict | None = None):
        self.next_block = next_block
        self.prefix = prefix
        self.pending: dict[int, Any] = dict(pending or {})

    def add(self, block: int, result: Any) -> None:
        """Record the result of ``block`` and extend the prefix as far as possible."""
        if self.done(block):
            raise ValueError(f"block {block} was already recorded")
        self.pending[block] = result
        while self.next_block in self.pending:
            res = self.pending.pop(self.next_block)
            self.prefix = res if self.prefix is None else self.prefix + res
            self.next_block += 1

    def done(self, block: int) -> bool:
        """True when ``block`` has been recorded."""
        return block < self.next_block or block in self.pending

    @property
    def count(self) -> int:
        """Number of blocks recorded."""
        return self.next_block + len(self.pending)

    def to_arrays(self, encode: Callable[[Any], Mapping]) -> tuple[dict, dict]:
        """Arrays (``prefix/NAME``, ``block/B/NAME``) and the state (``next_block``,
        ``pending``) that `from_arrays` restores."""
        arrays = {}
        if self.prefix is not None:
            arrays.update({f"prefix/{k}": v for k, v in encode(self.prefix).items()})
        for block, res in self.pending.items():
            arrays.update({f"block/{block}/{k}": v for k, v in encode(res).items()})
        return arrays, {"next_block": self.next_block, "pending": sorted(self.pending)}

    @classmethod
    def from_arrays(
        cls, arrays: Mapping, state: Mapping, decode: Callable[[dict], Any]
    ) -> OrderedReducer:
        """Inverse of `to_arrays`."""

        def part(prefix: str) -> dict:
            return {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}

        next_block = int(state["next_block"])
        prefix = decode(part("prefix/")) if next_block > 0 else None
        pending = {int(b): decode(part(f"block/{b}/")) for b in state["pending"]}
        return cls(next_block, prefix, pending)


class Store(Protocol):
    """Where the fold state is kept between runs (rank 0 only)."""

    every_seconds: float
    every_blocks: int | None

    def open(self, spec: Mapping) -> OrderedReducer | None:
        """The saved state of the run described by ``spec``, or None to start afresh."""

    def save(self, reducer: OrderedReducer) -> None:
        """Save the state of ``reducer``."""


@dataclass
class RunOutcome:
    """What `reduce_blocks` did.  ``result`` is the merged result on rank 0 (None elsewhere,
    and None when the run was interrupted or no block was done)."""

    result: Any
    blocks_done: int
    nblocks: int
    ranks: int
    complete: bool
    interrupted: str | None = None
    stopped_early: bool = False
    resumed_blocks: int = 0


class _Saver:
    """Calls ``store.save`` when due: ``every_seconds`` or ``every_blocks`` since the last."""

    def __init__(self, store: Store | None, reducer: OrderedReducer) -> None:
        self.store, self.reducer = store, reducer
        self.time, self.count = time.monotonic(), reducer.count

    def __call__(self, always: bool = False) -> None:
        store, count = self.store, self.reducer.count
        if store is None or count == self.count:
            return
        due = always or time.monotonic() - self.time >= store.every_seconds
        due = due or (store.every_blocks is not None and count - self.count >= store.every_blocks)
        if due:
            store.save(self.reducer)
            self.time, self.count = time.monotonic(), count


def reduce_blocks(
    task: Callable[[int], Any],
    nblocks: int,
    *,
    backend: Backend,
    batch_blocks: int | None = None,
    stop_when: Callable[[Any], bool] | None = None,
    store: Store | None = None,
    progress: Callable[[int, int], Any] | None = None,
) -> RunOutcome:
    """Compute blocks ``0 .. nblocks-1`` on ``backend`` and fold them in block order.

    Parameters
    ----------
    task : callable
        ``task(block) -> result``, deterministic in ``block``; results support ``+``.
    nblocks : int
        Number of blocks (the cap when ``stop_when`` is given).
    backend : Backend
        Where blocks are computed; call on every rank.
    batch_blocks : int, optional
        With ``stop_when``: blocks run in batches ``[k B, (k+1) B)`` and ``stop_when(merged)``
        is asked only at batch ends, so where a run stops does not depend on the ranks.
        Default: one batch of ``nblocks``.
    stop_when : callable, optional
        ``stop_when(merged_result) -> bool``, evaluated on rank 0 (e.g. an error target).
    store : Store, optional
        Resume from and save to it (rank 0); saved when due and always after a signal.
    progress : callable, optional
        ``progress(total, initial)`` returning an object with ``update(n)`` and usable as a
        context manager (a tqdm bar); rank 0 only.

    Returns
    -------
    RunOutcome
        ``complete`` is False when a signal stopped the run (the store then holds the state).
    """
    if nblocks < 1:
        raise ValueError(f"nblocks must be at least 1, got {nblocks}")
    batch = nblocks if batch_blocks is None else int(batch_blocks)
    if batch < 1:
        raise ValueError(f"batch_blocks must be at least 1, got {batch_blocks}")
    spec = {"nblocks": nblocks, "batch_blocks": batch}
    reducer = root_do(backend, lambda: store and store.open(spec)) or OrderedReducer()
    resumed = reducer.count
    save = _Saver(store, reducer)
    bar = _bar(progress if backend.is_root else None, nblocks, resumed)

    def done(block: int, res: Any) -> None:
        reducer.add(block, res)
        bar.update(1)
        save()

    interrupted, stopped = None, False
    with Guard() as guard, bar, backend.errors():
        for lo in range(0, nblocks, batch):
            hi = min(lo + batch, nblocks)
            todo = [b for b in range(lo, hi) if not reducer.done(b)] if backend.is_root else None
            if backend.map_blocks(task, todo, done, guard):
                interrupted = guard.received or "signal"
                root_do(backend, lambda: save(always=True))
                break
            check = backend.is_root and stop_when is not None and reducer.next_block == hi
            stop = bool(check and hi < nblocks and stop_when(reducer.prefix))
            stopped = bool(backend.share(stop))
            if stopped:
                break
    return RunOutcome(
        result=reducer.prefix if backend.is_root and interrupted is None else None,
        blocks_done=reducer.count if backend.is_root else 0,
        nblocks=nblocks,
        ranks=backend.size,
        complete=interrupted is None,
        interrupted=interrupted,
        stopped_early=stopped,
        resumed_blocks=resumed,
    )


class _NoBar:
    def update(self, n: int) -> None:
        pass

    def __enter__(self) -> _NoBar:
        return self

    def __exit__(self, *exc) -> None:
        pass


def _bar(progress, total: int, initial: int):
    return _NoBar() if progress is None else progress(total, initial)
