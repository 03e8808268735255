"""The output of a run, checked and claimed before any work and written once at the end.

This module and `trajmaser.run.checkpoint` are the only writers of result files.  Claiming
an output (rank 0) refuses a directory, an existing file without ``force``, an unwritable or
missing directory (created with ``make_dirs``), a run already writing the same output (an
``flock`` on ``.OUT.lock``, released by the system when a process dies), and too little free
disk space for the estimated file and checkpoint; it then removes temporary files left by
writes that were killed (``kill -9``) to this output or its checkpoint.
"""

from __future__ import annotations

import errno
import os
import shutil
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from trajmaser import io
from trajmaser.run.estimate import size

try:
    import fcntl
except ImportError:  # pragma: no cover - not on POSIX
    fcntl = None


class Output:
    """The result file ``path`` of one run (use on rank 0; `claim` before any work)."""

    def __init__(self, path: str | os.PathLike, *, force: bool = False, make_dirs: bool = False):
        self.path = Path(path)
        self.force = force
        self.make_dirs = make_dirs
        self._lock_fd: int | None = None

    @property
    def checkpoint_path(self) -> Path:
        """``OUT.ckpt.npz`` next to the output."""
        return io.checkpoint_path(self.path)

    def claim(self, need_bytes: int = 0) -> None:
        """Check the output, lock it, clean stale temporary files, check the free space.

        Raises
        ------
        FileExistsError, IsADirectoryError, FileNotFoundError, NotADirectoryError,
        PermissionError
            See `trajmaser.io.check_writable`.
        BlockingIOError
            Another run holds the lock of this output.
        OSError
            Less free disk space than ``need_bytes`` (errno ENOSPC).
        """
        io.check_writable(self.path, force=self.force, make_dirs=self.make_dirs)
        self._lock()
        for target in (self.path, self.checkpoint_path):
            io.remove_stale_temporaries(target)
        free = shutil.disk_usage(self.path.parent).free
        if need_bytes > free:
            err = OSError(
                f"not enough disk space for {self.path}: the run needs about "
                f"{size(need_bytes)} (result file and checkpoint) and {self.path.parent} has "
                f"{size(free)} free; free some space or write elsewhere with -o"
            )
            err.errno = errno.ENOSPC
            raise err

    def _lock(self) -> None:
        if fcntl is None:
            return
        lock = io.sidecar_path(self.path, ".lock")
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise BlockingIOError(
                errno.EWOULDBLOCK,
                f"another trajmaser run is writing {self.path} (it holds {lock}); wait for it "
                "to finish or choose another output with -o",
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._lock_fd = fd

    def release(self) -> None:
        """Drop the lock (and its file)."""
        if self._lock_fd is not None:
            io.sidecar_path(self.path, ".lock").unlink(missing_ok=True)
            os.close(self._lock_fd)
            self._lock_fd = None

    def write(self, arrays: Mapping[str, np.ndarray], meta: Mapping) -> Path:
        """Write the result atomically and remove the checkpoint."""
        path = io.save_result(self.path, arrays, meta, force=self.force)
        self.checkpoint_path.unlink(missing_ok=True)
        return path
