"""Block maps, serial or under MPI, with ordered merging, checkpoints and clean interrupts.

This is the only module that imports mpi4py, and only inside `mpi_context` when the process
was started by an MPI launcher (``mpiexec``/``srun``): a plain ``python`` run never
initialises MPI.

A run is a set of numbered blocks; ``task(block) -> result`` is deterministic (block ``b``
seeds its own generator) and results are mergeable with ``+``.  Under MPI, rank 0 hands block
ids to the other ranks on demand (each worker holds up to two ids, so it never waits while
rank 0 computes a block of its own) and merges results as a left fold in block order,
``((r0 + r1) + r2) + ...``, exactly as a serial run does: the answer is bitwise identical
whatever the number of ranks.

Interrupts: SIGTERM, SIGUSR1 (SLURM's ``--signal``) and SIGINT abandon the block in progress,
rank 0 writes a checkpoint (the merged contiguous prefix of blocks plus any later blocks
already done) and the run returns with ``complete=False``; the CLI then exits with
`EXIT_INTERRUPTED` (99).  Rerunning the same command resumes from the checkpoint and reaches
the same bits.  A task that raises under MPI prints the traceback with its rank and aborts
the whole job (``MPI_Abort``), so a failure never hangs.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trajmaser import io

EXIT_INTERRUPTED = 99
"""Exit status of ``trajmaser run`` after a signal: checkpoint written, rerun to resume."""

TAG_WORK, TAG_CTRL, TAG_RESULT = 11, 12, 13
POLL_SECONDS = 0.002
ABORT_GRACE_SECONDS = 0.5
PREFETCH = 2
_LAUNCHER_VARS = ("PMI_SIZE", "PMI_RANK", "PMIX_RANK", "OMPI_COMM_WORLD_SIZE", "MPI_LOCALNRANKS")
_SIGNALS = ("SIGTERM", "SIGUSR1", "SIGINT")

__all__ = [
    "EXIT_INTERRUPTED",
    "Checkpoint",
    "Context",
    "OrderedReducer",
    "RunInterrupted",
    "RunOutcome",
    "mpi_context",
    "reduce_blocks",
    "run_blocks",
    "run_to_file",
    "serial_map",
]


class RunInterrupted(Exception):
    """A signal asked the run to stop; completed blocks are kept."""


# ---------------------------------------------------------------- context
@dataclass(frozen=True)
class Context:
    """Where this process sits: ``rank`` of ``size``; ``comm`` is None for a serial run."""

    rank: int = 0
    size: int = 1
    comm: Any = None

    @property
    def is_root(self) -> bool:
        """True on rank 0, the rank that merges, shows progress and writes files."""
        return self.rank == 0


_CONTEXT: Context | None = None


def mpi_context() -> Context:
    """The process's `Context`, detected once.

    MPI is used when an MPI launcher started the process (``PMI_SIZE`` and similar variables)
    and ``COMM_WORLD`` has more than one rank.  ``TRAJMASER_MPI=0`` forces a serial run,
    ``TRAJMASER_MPI=1`` forces the mpi4py check.

    Raises
    ------
    RuntimeError
        Launched with several ranks but mpi4py cannot be imported (every rank would otherwise
        run the whole job and write the same file).
    """
    global _CONTEXT
    if _CONTEXT is None:
        _CONTEXT = _detect_context()
    return _CONTEXT


def _detect_context() -> Context:
    mode = os.environ.get("TRAJMASER_MPI", "auto")
    launched = any(name in os.environ for name in _LAUNCHER_VARS)
    if mode == "0" or (mode != "1" and not launched):
        return Context()
    try:
        from mpi4py import MPI
    except ImportError as exc:
        if int(os.environ.get("PMI_SIZE", os.environ.get("OMPI_COMM_WORLD_SIZE", "1"))) > 1:
            raise RuntimeError(
                "started by an MPI launcher with several ranks but mpi4py is not importable; "
                "install mpi4py (pip install 'trajmaser[mpi]') or run without mpiexec"
            ) from exc
        return Context()
    world = MPI.COMM_WORLD
    if world.Get_size() == 1:
        return Context()
    return Context(rank=world.Get_rank(), size=world.Get_size(), comm=world.Dup())


def serial_map(task: Callable[[Any], Any], items: Iterable) -> list:
    """``[task(item) for item in items]``: the reference every parallel map must match."""
    return [task(item) for item in items]


# ---------------------------------------------------------------- ordered merging
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
        """Arrays (``prefix/NAME``, ``block/B/NAME``) and state metadata for a checkpoint."""
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


# ---------------------------------------------------------------- signals
class _Signals:
    """Turn SIGTERM/SIGUSR1/SIGINT into a flag; abandon a running task with RunInterrupted."""

    def __init__(self) -> None:
        self.received: str | None = None
        self._in_task = False
        self._old: dict = {}

    def __enter__(self) -> _Signals:
        if threading.current_thread() is threading.main_thread():
            for name in _SIGNALS:
                signum = getattr(signal, name)
                self._old[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        for signum, old in self._old.items():
            signal.signal(signum, old)

    def _handle(self, signum, frame) -> None:
        if signum == signal.SIGINT and self.received == "SIGINT":
            raise KeyboardInterrupt  # second Ctrl-C: stop without a checkpoint
        self.received = signal.Signals(signum).name
        if self._in_task:
            self._in_task = False
            raise RunInterrupted(self.received)

    def call(self, task: Callable, block: int) -> Any:
        """``task(block)``, raising RunInterrupted if a signal arrives before or during it."""
        if self.received:
            raise RunInterrupted(self.received)
        self._in_task = True
        try:
            return task(block)
        finally:
            self._in_task = False


def _abort(ctx: Context, block: int | None, what: str = "failed on block") -> None:
    """Print the current traceback with the rank and abort every rank of the job."""
    where = f"{what} {block}" if block is not None else "failed"
    sys.stderr.write(
        f"trajmaser: rank {ctx.rank} of {ctx.size} {where}:\n{traceback.format_exc()}"
        "trajmaser: aborting all ranks\n"
    )
    sys.stderr.flush()
    # Hydra forwards each rank's stderr through its proxy; MPI_Abort tears the proxies down at
    # once and can drop output not yet forwarded, so give the message a moment to get out.
    time.sleep(ABORT_GRACE_SECONDS)
    from mpi4py import MPI

    MPI.COMM_WORLD.Abort(1)
    os._exit(1)  # MPICH's MPI_Abort may return once the launcher has been told


@contextmanager
def _abort_on_error(ctx: Context):
    """Under MPI, turn an exception on any rank into a printed traceback and MPI_Abort."""
    try:
        yield
    except Exception:
        if ctx.size == 1:
            raise
        _abort(ctx, None)


# ---------------------------------------------------------------- engines
def _engine(ctx: Context, task: Callable, todo: Sequence[int] | None, sig, on_done) -> bool:
    """Run the blocks ``todo`` (given on rank 0 only); True if interrupted (on every rank)."""
    if ctx.size == 1:
        for block in todo:
            try:
                res = sig.call(task, block)
            except RunInterrupted:
                return True
            except Exception as exc:
                exc.add_note(f"trajmaser: while computing block {block}")
                raise
            on_done(block, res)
        return False
    if ctx.is_root:
        interrupted = _master(ctx, task, todo, sig, on_done)
    else:
        interrupted = _worker(ctx, task, sig)
    return bool(ctx.comm.bcast(interrupted, root=0))


def _master(ctx: Context, task: Callable, todo: Sequence[int], sig, on_done) -> bool:
    from mpi4py import MPI

    comm = ctx.comm
    queue = deque(todo)
    remaining = set(todo)
    workers = set(range(1, ctx.size))
    running = set(workers)  # workers that have not said "stopped"
    halted: set[int] = set()
    draining = False
    for worker in range(1, ctx.size):
        for _ in range(PREFETCH):
            if queue:
                comm.send(queue.popleft(), dest=worker, tag=TAG_WORK)
    status = MPI.Status()

    def arrived() -> bool:
        # MPICH's Iprobe may pull a message in but report it only on the next call
        return any(comm.Iprobe(MPI.ANY_SOURCE, TAG_RESULT, status) for _ in range(2))

    while running:
        got = False
        while arrived():
            got = True
            worker = status.Get_source()
            kind, block, payload = comm.recv(source=worker, tag=TAG_RESULT)
            if kind == "done":
                remaining.discard(block)
                on_done(block, payload)
                if queue and not draining:
                    comm.send(queue.popleft(), dest=worker, tag=TAG_WORK)
            else:  # "stopped": payload is the worker's signal name or None
                running.discard(worker)
                if payload:
                    draining = True
                    sig.received = sig.received or payload
        draining = draining or sig.received is not None
        if draining or not remaining:  # every worker gets exactly one halt
            for worker in workers - halted:
                comm.send(None, dest=worker, tag=TAG_CTRL)
                halted.add(worker)
        if queue and not draining:
            block = queue.popleft()
            try:
                res = sig.call(task, block)
            except RunInterrupted:
                continue
            except Exception:
                _abort(ctx, block)
            remaining.discard(block)
            on_done(block, res)
        elif not got:
            time.sleep(POLL_SECONDS)
    return bool(remaining)


def _worker(ctx: Context, task: Callable, sig) -> bool:
    from mpi4py import MPI

    comm = ctx.comm
    queue: deque[int] = deque()
    sends = []
    halted = False
    status = MPI.Status()

    def receive() -> None:
        nonlocal halted
        while comm.Iprobe(source=0, tag=MPI.ANY_TAG, status=status):
            tag = status.Get_tag()
            msg = comm.recv(source=0, tag=tag)
            if tag == TAG_CTRL:
                halted = True
            else:
                queue.append(msg)

    while True:
        receive()
        if halted or sig.received:
            break
        if not queue:
            time.sleep(POLL_SECONDS)
            continue
        block = queue.popleft()
        try:
            res = sig.call(task, block)
        except RunInterrupted:
            break
        except Exception:
            _abort(ctx, block)
        sends.append(comm.isend(("done", block, res), dest=0, tag=TAG_RESULT))
        sends = [req for req in sends if not req.Test()]  # Test drives MPI progress
    sends.append(comm.isend(("stopped", None, sig.received), dest=0, tag=TAG_RESULT))
    while not halted:
        receive()
        if not halted:
            time.sleep(POLL_SECONDS)
    MPI.Request.waitall(sends)
    return False


def run_blocks(
    task: Callable[[int], Any],
    block_ids: Sequence[int],
    *,
    progress: bool = False,
    on_block_done: Callable[[int, Any], None] | None = None,
    context: Context | None = None,
) -> list | None:
    """Map ``task`` over ``block_ids`` serially or over all MPI ranks.

    Parameters
    ----------
    task : callable
        ``task(block_id) -> result``; must be deterministic in ``block_id``.
    block_ids : sequence of int
        Blocks to compute (only rank 0's value is used).
    progress : bool
        Show a tqdm bar on rank 0 counting blocks finished by all ranks.
    on_block_done : callable, optional
        ``on_block_done(block_id, result)``, called on rank 0 as each block arrives.
    context : Context, optional
        Defaults to `mpi_context()`.

    Returns
    -------
    list or None
        On rank 0, the results in the order of ``block_ids``; None on the other ranks.

    Raises
    ------
    RunInterrupted
        On every rank, when a signal stopped the run.
    """
    from tqdm.auto import tqdm

    ctx = context or mpi_context()
    todo = list(block_ids) if ctx.is_root else None
    results: dict[int, Any] = {}
    bar = tqdm(total=len(todo or ()), unit="block", disable=not (progress and ctx.is_root))

    def done(block: int, res: Any) -> None:
        results[block] = res
        bar.update(1)
        if on_block_done is not None:
            on_block_done(block, res)

    with _Signals() as sig, bar, _abort_on_error(ctx):
        interrupted = _engine(ctx, task, todo, sig, done)
    if interrupted:
        raise RunInterrupted(sig.received or "signal")
    return [results[b] for b in todo] if ctx.is_root else None


# ---------------------------------------------------------------- checkpointed reduction
def _to_arrays(result: Any) -> Mapping:
    return result.to_arrays()


@dataclass
class Checkpoint:
    """Where and how often rank 0 saves the state of a reduction.

    ``from_arrays``/``to_arrays`` convert one result to and from named arrays;
    ``fingerprint`` (JSON-serialisable) must match for a checkpoint to be resumed; ``meta``
    is stored alongside.  A checkpoint is written when ``every_seconds`` have passed or
    ``every_blocks`` blocks were added since the last one, and always on a signal.
    """

    path: Path
    from_arrays: Callable[[dict], Any]
    to_arrays: Callable[[Any], Mapping] = _to_arrays
    fingerprint: Mapping = field(default_factory=dict)
    meta: Mapping = field(default_factory=dict)
    every_seconds: float = 60.0
    every_blocks: int | None = None
    resume: bool = True


@dataclass
class RunOutcome:
    """What `reduce_blocks` did.  ``result`` is the merged result on rank 0 (None elsewhere,
    and None when no block was done)."""

    result: Any
    blocks_done: int
    nblocks: int
    ranks: int
    complete: bool
    interrupted: str | None = None
    stopped_early: bool = False
    resumed_blocks: int = 0


def _load_checkpoint(ckpt: Checkpoint, fingerprint: Mapping) -> OrderedReducer | None:
    path = Path(ckpt.path)
    if not (ckpt.resume and path.exists()):
        return None
    arrays, meta = io.load_result(path)
    saved = meta.get("fingerprint")
    if saved != fingerprint:
        keys = sorted(k for k in set(saved or {}) | set(fingerprint)
                      if (saved or {}).get(k) != fingerprint.get(k))  # fmt: skip
        raise ValueError(
            f"checkpoint {path} belongs to a different run (differs in: {', '.join(keys)}); "
            "delete it, or rerun with the settings it was written with"
        )
    return OrderedReducer.from_arrays(arrays, meta["checkpoint"], ckpt.from_arrays)


def _root_do(ctx: Context, fn: Callable[[], Any]) -> Any:
    """Run ``fn`` on rank 0; if it raises, raise there and exit quietly (status 2) elsewhere."""
    value, error = None, None
    if ctx.is_root:
        try:
            value = fn()
        except Exception as exc:
            error = exc
    if ctx.size > 1 and ctx.comm.bcast(error is not None, root=0) and not ctx.is_root:
        raise SystemExit(2)
    if error is not None:
        raise error
    return value


def reduce_blocks(
    task: Callable[[int], Any],
    nblocks: int,
    *,
    batch_blocks: int | None = None,
    stop_when: Callable[[Any], bool] | None = None,
    checkpoint: Checkpoint | None = None,
    progress: bool = False,
    context: Context | None = None,
) -> RunOutcome:
    """Compute blocks ``0 .. nblocks-1`` and merge them in block order, resumably.

    Parameters
    ----------
    task : callable
        ``task(block) -> result``, deterministic in ``block``; results support ``+``.
    nblocks : int
        Number of blocks (the cap when ``stop_when`` is given).
    batch_blocks : int, optional
        With ``stop_when``: blocks are run in batches ``[k B, (k+1) B)`` and
        ``stop_when(merged)`` is asked only at batch ends, so where a run stops does not
        depend on the number of ranks.  Default: one batch of ``nblocks``.
    stop_when : callable, optional
        ``stop_when(merged_result) -> bool``, evaluated on rank 0 (e.g. an error target).
    checkpoint : Checkpoint, optional
        Resume from and periodically save to ``checkpoint.path`` (rank 0 only).
    progress : bool
        tqdm bar on rank 0 counting blocks finished by all ranks.
    context : Context, optional
        Defaults to `mpi_context()`.

    Returns
    -------
    RunOutcome
        ``complete`` is False when a signal stopped the run (a checkpoint was written).
    """
    from tqdm.auto import tqdm

    if nblocks < 1:
        raise ValueError(f"nblocks must be at least 1, got {nblocks}")
    batch = nblocks if batch_blocks is None else int(batch_blocks)
    if batch < 1:
        raise ValueError(f"batch_blocks must be at least 1, got {batch_blocks}")
    ctx = context or mpi_context()
    fingerprint = None
    if checkpoint is not None:
        spec = {"nblocks": nblocks, "batch_blocks": batch, **checkpoint.fingerprint}
        fingerprint = json.loads(json.dumps(io.jsonable(spec), sort_keys=True))
    reducer = _root_do(ctx, lambda: checkpoint and _load_checkpoint(checkpoint, fingerprint))
    reducer = reducer or OrderedReducer()
    resumed = reducer.count
    last = {"time": time.monotonic(), "count": reducer.count}

    def save_checkpoint(always: bool) -> None:
        if checkpoint is None or reducer.count == last["count"]:
            return
        due = time.monotonic() - last["time"] >= checkpoint.every_seconds
        every = checkpoint.every_blocks
        due = due or (every is not None and reducer.count - last["count"] >= every)
        if always or due:
            arrays, state = reducer.to_arrays(checkpoint.to_arrays)
            meta = {**checkpoint.meta, "fingerprint": fingerprint, "checkpoint": state}
            io.save_result(checkpoint.path, arrays, meta, force=True)
            last.update(time=time.monotonic(), count=reducer.count)

    bar = tqdm(total=nblocks, initial=resumed, unit="block",
               disable=not (progress and ctx.is_root))  # fmt: skip

    def done(block: int, res: Any) -> None:
        reducer.add(block, res)
        bar.update(1)
        save_checkpoint(always=False)

    interrupted, stopped = None, False
    with _Signals() as sig, bar, _abort_on_error(ctx):
        for lo in range(0, nblocks, batch):
            hi = min(lo + batch, nblocks)
            todo = [b for b in range(lo, hi) if not reducer.done(b)] if ctx.is_root else None
            if _engine(ctx, task, todo, sig, done):
                interrupted = sig.received or "signal"
                _root_do(ctx, lambda: save_checkpoint(always=True))
                break
            check = ctx.is_root and stop_when is not None and reducer.next_block == hi
            stop = bool(check and hi < nblocks and stop_when(reducer.prefix))
            if ctx.size > 1:
                stop = ctx.comm.bcast(stop, root=0)
            if stop:
                stopped = True
                break
    blocks = reducer.count if ctx.is_root else 0
    return RunOutcome(
        result=reducer.prefix if ctx.is_root and interrupted is None else None,
        blocks_done=blocks,
        nblocks=nblocks,
        ranks=ctx.size,
        complete=interrupted is None,
        interrupted=interrupted,
        stopped_early=stopped,
        resumed_blocks=resumed,
    )


def run_to_file(
    task: Callable[[int], Any],
    nblocks: int,
    output: str | os.PathLike,
    *,
    from_arrays: Callable[[dict], Any],
    meta: Mapping | None = None,
    fingerprint: Mapping | None = None,
    force: bool = False,
    resume: bool = True,
    progress: bool = False,
    checkpoint_seconds: float = 60.0,
    batch_blocks: int | None = None,
    stop_when: Callable[[Any], bool] | None = None,
    context: Context | None = None,
    make_dirs: bool = False,
) -> RunOutcome:
    """`reduce_blocks` with checkpoints next to ``output`` and the final result saved there.

    Call it on every rank.  Rank 0 refuses an existing ``output`` before any work unless
    ``force`` (and creates its missing directories when ``make_dirs``); resumes from
    ``OUT.ckpt.npz`` when it exists, ``resume`` is true and its ``fingerprint`` matches;
    writes a checkpoint every ``checkpoint_seconds`` and on a signal; on completion saves
    ``result.to_arrays()`` with ``meta`` plus ``blocks_done``, ``nblocks``, ``stopped_early``,
    ``ranks``, ``started``, ``finished``, ``wall_time_s`` and ``resumed_blocks``, then deletes
    the checkpoint.  ``fingerprint`` defaults to ``meta`` without its execution keys
    (`io.EXECUTION_KEYS`) and versions.

    Returns
    -------
    RunOutcome
        When ``complete`` is False the caller should exit with `EXIT_INTERRUPTED`.
    """
    ctx = context or mpi_context()
    output = Path(output)
    meta = dict(meta or {})
    if fingerprint is None:
        skip = io.EXECUTION_KEYS | {"versions"}
        fingerprint = {k: v for k, v in meta.items() if k not in skip}
    _root_do(ctx, lambda: io.check_writable(output, force=force, make_dirs=make_dirs))
    started, t0 = io.now_iso(), time.perf_counter()
    ckpt = Checkpoint(
        path=io.checkpoint_path(output),
        from_arrays=from_arrays,
        fingerprint=fingerprint,
        meta=meta,
        every_seconds=checkpoint_seconds,
        resume=resume,
    )
    outcome = reduce_blocks(task, nblocks, batch_blocks=batch_blocks, stop_when=stop_when,
                            checkpoint=ckpt, progress=progress, context=ctx)  # fmt: skip

    def save() -> None:
        if not outcome.complete:
            return
        final = {
            **meta,
            "blocks_done": outcome.blocks_done,
            "nblocks": nblocks,
            "stopped_early": outcome.stopped_early,
            "ranks": ctx.size,
            "started": started,
            "finished": io.now_iso(),
            "wall_time_s": round(time.perf_counter() - t0, 3),
            "resumed_blocks": outcome.resumed_blocks,
        }
        io.save_result(output, ckpt.to_arrays(outcome.result), final, force=force)
        ckpt.path.unlink(missing_ok=True)

    _root_do(ctx, save)
    return outcome
