"""The MPI backend: the only module of trajmaser that imports mpi4py.

mpi4py is imported only when an MPI launcher (``mpiexec``/``srun``) started the process with
several ranks, so a plain ``python`` run never initialises MPI.  Rank 0 hands chunks of
blocks to the other ranks on demand (see `_Master`), receives their results
(several blocks per message; a task with ``join``/``split`` packs them compactly) and passes
each result to the reduction as it arrives.
A task that raises prints the traceback with its rank and aborts the whole job
(``MPI_Abort``), so a failure never hangs.
"""

from __future__ import annotations

import os
import sys
import time
import traceback
from collections import deque
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from typing import Any

from trajmaser.run.backends.base import RunInterrupted

TAG_WORK, TAG_CTRL, TAG_RESULT = 11, 12, 13
POLL_SECONDS = 0.002
ABORT_GRACE_SECONDS = 0.5
PREFETCH = 2
GUIDE = 2
MAX_CHUNK = 64
FLUSH_SECONDS = 1.0
ROOT_COMPUTES_UP_TO = 4
LAUNCHER_VARS = ("PMI_SIZE", "PMI_RANK", "PMIX_RANK", "OMPI_COMM_WORLD_SIZE", "MPI_LOCALNRANKS")


class MPIBackend:
    """Rank ``rank`` of ``size`` on the communicator ``comm`` (a duplicate of COMM_WORLD).

    ``chunked=False`` hands out one block per message (the protocol before chunks; kept for
    ``benchmarks/bench_reduction.py``).
    """

    name = "mpi"

    def __init__(self, comm: Any, *, chunked: bool = True) -> None:
        self.comm = comm
        self.chunked = chunked
        self.rank = comm.Get_rank()
        self.size = comm.Get_size()

    @property
    def is_root(self) -> bool:
        """True on rank 0, the rank that merges, shows progress and writes files."""
        return self.rank == 0

    def share(self, value: Any) -> Any:
        """Broadcast rank 0's ``value``."""
        return self.comm.bcast(value, root=0)

    @contextmanager
    def errors(self):
        """An exception on any rank: print it with the rank and abort every rank."""
        try:
            yield
        except Exception:
            self.abort(None)

    def abort(self, block: int | None) -> None:
        """Print the current traceback with the rank (and block) and abort the job."""
        where = f"failed on block {block}" if block is not None else "failed"
        sys.stderr.write(
            f"trajmaser: rank {self.rank} of {self.size} {where}:\n{traceback.format_exc()}"
            "trajmaser: aborting all ranks\n"
        )
        sys.stderr.flush()
        # Hydra forwards each rank's stderr through its proxy; MPI_Abort tears the proxies down
        # at once and can drop output not yet forwarded, so give the message a moment.
        time.sleep(ABORT_GRACE_SECONDS)
        from mpi4py import MPI

        MPI.COMM_WORLD.Abort(1)
        os._exit(1)  # MPICH's MPI_Abort may return once the launcher has been told

    def map_blocks(
        self,
        task: Callable[[int], Any],
        todo: Sequence[int] | None,
        on_done: Callable[[int, Any], None],
        guard: Any,
    ) -> bool:
        """Blocks shared on demand; True on every rank if a signal stopped the map."""
        if self.is_root:
            interrupted = _Master(self, task, todo, on_done, guard).run()
        else:
            interrupted = _worker(self, task, guard)
        return bool(self.share(interrupted))


class _Master:
    """Rank 0: hands out chunks of blocks, receives results, tells the workers to stop.

    Blocks go out in rounds of ``m`` blocks per worker, ``m = unassigned // (GUIDE ×
    workers)`` between 1 and `MAX_CHUNK` (1 when the backend is not ``chunked``): early
    rounds are long (few messages), the last ones short (a balanced end).  A round's chunks
    interleave (chunk j holds blocks j, j + W, j + 2W, ... of the round, W workers), so all
    workers advance through the block order together and the blocks rank 0 must hold until
    the gap before them closes stay about one per worker.  Each worker holds `PREFETCH`
    chunks.  Rank 0 computes blocks itself only when there are at most `ROOT_COMPUTES_UP_TO`
    ranks (beyond that it only merges, so results never wait behind a block of its own).
    """

    def __init__(self, backend: MPIBackend, task, todo, on_done, guard) -> None:
        self.b, self.task, self.on_done, self.guard = backend, task, on_done, guard
        self.queue = deque(todo)
        self.chunks: deque[list[int]] = deque()  # the current round's chunks not handed out
        self.remaining = set(todo)
        self.workers = set(range(1, backend.size))
        self.running = set(self.workers)  # workers that have not said "stopped"
        self.halted: set[int] = set()
        self.draining = False
        self.split = getattr(task, "split", None)
        self.computes = backend.size <= ROOT_COMPUTES_UP_TO or not backend.chunked

    def chunk(self) -> list[int]:
        if not self.chunks:
            nw = len(self.workers)
            m = max(1, min(MAX_CHUNK, len(self.queue) // (GUIDE * nw))) if self.b.chunked else 1
            blocks = [self.queue.popleft() for _ in range(min(len(self.queue), m * nw))]
            self.chunks.extend(c for c in (blocks[j::nw] for j in range(nw)) if c)
        return self.chunks.popleft()

    def give(self, worker: int) -> None:
        if (self.queue or self.chunks) and not self.draining:
            self.b.comm.send(self.chunk(), dest=worker, tag=TAG_WORK)

    def receive(self, worker: int) -> None:
        kind, payload, extra = self.b.comm.recv(source=worker, tag=TAG_RESULT)
        if kind == "done":  # payload: results, extra: True when the chunk is complete
            items = self.split(payload) if self.split is not None else payload
            for block, res in items:
                self.remaining.discard(block)
                self.on_done(block, res)
            if extra:
                self.give(worker)
        else:  # "stopped": extra is the worker's signal name or None
            self.running.discard(worker)
            if extra:
                self.draining = True
                self.guard.received = self.guard.received or extra

    def run(self) -> bool:
        from mpi4py import MPI

        comm, status = self.b.comm, MPI.Status()
        for worker in sorted(self.workers):
            for _ in range(PREFETCH):
                self.give(worker)

        def arrived() -> bool:
            # MPICH's Iprobe may pull a message in but report it only on the next call
            return any(comm.Iprobe(MPI.ANY_SOURCE, TAG_RESULT, status) for _ in range(2))

        while self.running:
            got = False
            while arrived():
                got = True
                self.receive(status.Get_source())
            self.draining = self.draining or self.guard.received is not None
            if self.draining or not self.remaining:  # every worker gets exactly one halt
                for worker in self.workers - self.halted:
                    comm.send(None, dest=worker, tag=TAG_CTRL)
                    self.halted.add(worker)
            if self.computes and self.queue and not self.draining:
                self.compute(self.queue.popleft())
            elif not got:
                time.sleep(POLL_SECONDS)
        return bool(self.remaining)

    def compute(self, block: int) -> None:
        try:
            res = self.guard.call(self.task, block)
        except RunInterrupted:
            self.queue.appendleft(block)
            return
        except Exception:
            self.b.abort(block)
        self.remaining.discard(block)
        self.on_done(block, res)


def _worker(backend: MPIBackend, task, guard) -> bool:
    """A worker rank: compute the chunks rank 0 sends, return results by chunk (or every
    `FLUSH_SECONDS` within a long chunk), stop on a halt or a signal."""
    from mpi4py import MPI

    comm = backend.comm
    queue: deque[list[int]] = deque()
    sends, done = [], []
    halted = False
    status = MPI.Status()
    join = getattr(task, "join", None)
    flushed = time.monotonic()

    def receive() -> None:
        nonlocal halted
        while comm.Iprobe(source=0, tag=MPI.ANY_TAG, status=status):
            tag = status.Get_tag()
            msg = comm.recv(source=0, tag=tag)
            if tag == TAG_CTRL:
                halted = True
            else:
                queue.append(list(msg))

    def flush(complete: bool) -> None:
        nonlocal done, sends, flushed
        payload = join(done) if join is not None else done
        sends.append(comm.isend(("done", payload, complete), dest=0, tag=TAG_RESULT))
        sends = [req for req in sends if not req.Test()]  # Test drives MPI progress
        done, flushed = [], time.monotonic()

    while True:
        receive()
        if halted or guard.received:
            break
        if not queue:
            time.sleep(POLL_SECONDS)
            continue
        block = queue[0].pop(0)
        try:
            done.append((block, guard.call(task, block)))
        except RunInterrupted:
            break
        except Exception:
            backend.abort(block)
        if not queue[0]:
            queue.popleft()
            flush(complete=True)
        elif time.monotonic() - flushed >= FLUSH_SECONDS:
            flush(complete=False)
    if done:
        flush(complete=False)
    sends.append(comm.isend(("stopped", None, guard.received), dest=0, tag=TAG_RESULT))
    while not halted:
        receive()
        if not halted:
            time.sleep(POLL_SECONDS)
    MPI.Request.waitall(sends)
    return False


def detect() -> MPIBackend | None:
    """An `MPIBackend` when an MPI launcher started this process with several ranks.

    ``TRAJMASER_MPI=0`` forces None (serial), ``TRAJMASER_MPI=1`` forces the mpi4py check.

    Raises
    ------
    RuntimeError
        Launched with several ranks but mpi4py cannot be imported (every rank would otherwise
        run the whole job and write the same file).
    """
    mode = os.environ.get("TRAJMASER_MPI", "auto")
    launched = any(name in os.environ for name in LAUNCHER_VARS)
    if mode == "0" or (mode != "1" and not launched):
        return None
    try:
        from mpi4py import MPI
    except ImportError as exc:
        if int(os.environ.get("PMI_SIZE", os.environ.get("OMPI_COMM_WORLD_SIZE", "1"))) > 1:
            raise RuntimeError(
                "started by an MPI launcher with several ranks but mpi4py is not importable; "
                "install mpi4py (pip install 'trajmaser[mpi]') or run without mpiexec"
            ) from exc
        return None
    world = MPI.COMM_WORLD
    if world.Get_size() == 1:
        return None
    return MPIBackend(world.Dup())
