"""The MPI backend: the only module of trajmaser that imports mpi4py.

mpi4py is imported only when an MPI launcher (``mpiexec``/``srun``) started the process with
several ranks, so a plain ``python`` run never initialises MPI.  Rank 0 hands block ids to
the other ranks on demand (each worker holds up to `PREFETCH` ids, so it never waits while
rank 0 computes a block of its own) and passes each result to the reduction as it arrives.
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
LAUNCHER_VARS = ("PMI_SIZE", "PMI_RANK", "PMIX_RANK", "OMPI_COMM_WORLD_SIZE", "MPI_LOCALNRANKS")


class MPIBackend:
    """Rank ``rank`` of ``size`` on the communicator ``comm`` (a duplicate of COMM_WORLD)."""

    name = "mpi"

    def __init__(self, comm: Any) -> None:
        self.comm = comm
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
            interrupted = self._master(task, todo, on_done, guard)
        else:
            interrupted = self._worker(task, guard)
        return bool(self.share(interrupted))

    def _master(self, task, todo, on_done, guard) -> bool:
        from mpi4py import MPI

        comm = self.comm
        queue = deque(todo)
        remaining = set(todo)
        workers = set(range(1, self.size))
        running = set(workers)  # workers that have not said "stopped"
        halted: set[int] = set()
        draining = False
        for worker in sorted(workers):
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
                        guard.received = guard.received or payload
            draining = draining or guard.received is not None
            if draining or not remaining:  # every worker gets exactly one halt
                for worker in workers - halted:
                    comm.send(None, dest=worker, tag=TAG_CTRL)
                    halted.add(worker)
            if queue and not draining:
                block = queue.popleft()
                try:
                    res = guard.call(task, block)
                except RunInterrupted:
                    continue
                except Exception:
                    self.abort(block)
                remaining.discard(block)
                on_done(block, res)
            elif not got:
                time.sleep(POLL_SECONDS)
        return bool(remaining)

    def _worker(self, task, guard) -> bool:
        from mpi4py import MPI

        comm = self.comm
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
            if halted or guard.received:
                break
            if not queue:
                time.sleep(POLL_SECONDS)
                continue
            block = queue.popleft()
            try:
                res = guard.call(task, block)
            except RunInterrupted:
                break
            except Exception:
                self.abort(block)
            sends.append(comm.isend(("done", block, res), dest=0, tag=TAG_RESULT))
            sends = [req for req in sends if not req.Test()]  # Test drives MPI progress
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
