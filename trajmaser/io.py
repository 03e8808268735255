"""Result files: ``.npz`` archives of named arrays plus one JSON metadata string.

A result file holds every array of a result (``Result.to_arrays()``) and, under the reserved
key ``__meta__``, a JSON object describing the run: the parsed configuration, seed, ntraj,
block size, blocks done, versions of the software stack, host, number of MPI ranks and
timestamps.  Files are written atomically (a temporary file in the same directory, then
``os.replace``), so a reader never sees a half-written file and a crash never destroys an
earlier result.  Checkpoints (``OUT.ckpt.npz``) use the same machinery.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import platform
import socket
import sys
import tempfile
import zipfile
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

META_KEY = "__meta__"
FORMAT = "trajmaser-result"
FORMAT_VERSION = 1

#: Metadata keys that depend on when the run happened, not on what it computed.
TIMING_KEYS = frozenset({"started", "finished", "wall_time_s"})
#: Metadata keys that describe how and where a run was executed (ignored by default when
#: comparing two result files): timing, host, ranks, resume history, command line.
EXECUTION_KEYS = TIMING_KEYS | {"hostname", "ranks", "resumed_blocks", "checkpoint", "argv"}

__all__ = [
    "EXECUTION_KEYS",
    "TIMING_KEYS",
    "check_writable",
    "checkpoint_path",
    "compare_results",
    "jsonable",
    "load_result",
    "now_iso",
    "remove_stale_temporaries",
    "run_metadata",
    "save_result",
    "sidecar_path",
    "software_versions",
]


def checkpoint_path(output: str | os.PathLike) -> Path:
    """Checkpoint file belonging to the result file ``output``: ``OUT.ckpt.npz``.

    ``run.npz`` gives ``run.ckpt.npz``; a name without ``.npz`` gets ``.ckpt.npz`` appended
    (a name too long for that is shortened first).
    """
    out = Path(output)
    stem = out.name[: -len(".npz")] if out.name.endswith(".npz") else out.name
    if len(stem.encode()) > _NAME_KEEP:  # keep the name within the 255-byte limit
        stem = _short(stem)
    return out.with_name(stem + ".ckpt.npz")


_NAME_KEEP = 200  # file names are at most 255 bytes: leave room for ".", "~" and suffixes


def _short(name: str) -> str:
    """A long file name cut to 40 characters plus ``~`` and 8 hex digits of its hash."""
    return name[:40] + "~" + hashlib.sha1(name.encode()).hexdigest()[:8]


def _hidden_stem(path: Path) -> str:
    """``.NAME`` for the hidden files belonging to ``path`` (a long NAME shortened)."""
    name = path.name
    return "." + (name if len(name.encode()) <= _NAME_KEEP else _short(name))


def sidecar_path(path: str | os.PathLike, suffix: str) -> Path:
    """A hidden file next to ``path``: ``.NAME<suffix>`` (e.g. the lock ``.run.npz.lock``)."""
    path = Path(path)
    return path.with_name(_hidden_stem(path) + suffix)


def remove_stale_temporaries(path: str | os.PathLike) -> list[Path]:
    """Delete the temporary files a killed write to ``path`` left behind; return them.

    Only call it while no other process writes ``path`` (a run holds its output's lock).
    """
    path = Path(path)
    prefix = _hidden_stem(path) + "."
    removed = []
    if path.parent.is_dir():
        for entry in path.parent.iterdir():
            if entry.name.startswith(prefix) and entry.name.endswith(".tmp") and entry.is_file():
                entry.unlink(missing_ok=True)
                removed.append(entry)
    return removed


def now_iso() -> str:
    """Current UTC time as an ISO-8601 string with a ``Z``-free ``+00:00`` offset."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def software_versions() -> dict[str, str | None]:
    """Versions of python, trajmaser and the numerical stack (``None`` when not installed).

    mpi4py is looked up in the installed-package metadata, so this never initialises MPI.
    """
    from importlib.metadata import PackageNotFoundError, version

    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in ("trajmaser", "numpy", "scipy", "qutip", "mpi4py", "numba"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = None
    return out


def run_metadata(
    config: Mapping | None,
    *,
    seed: int | None = None,
    ntraj: int | None = None,
    block_size: int | None = None,
    **extra,
) -> dict:
    """Metadata common to every result file.

    Parameters
    ----------
    config : mapping or None
        The parsed TOML configuration (``Config.raw``), stored verbatim.
    seed, ntraj, block_size : int, optional
        Root seed, number of trajectories and trajectories per block.
    **extra
        Further JSON-serialisable entries (e.g. ``blocks_done``, ``ranks``, ``started``).

    Returns
    -------
    dict
        ``format``, ``format_version``, ``config``, ``seed``, ``ntraj``, ``block_size``,
        ``versions`` (see `software_versions`), ``hostname`` and the ``extra`` entries.
    """
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "config": jsonable(config) if config is not None else None,
        "seed": seed,
        "ntraj": ntraj,
        "block_size": block_size,
        "versions": software_versions(),
        "hostname": socket.gethostname(),
        "argv": list(sys.argv),
    }
    meta.update(jsonable(extra))
    return meta


def save_result(
    path: str | os.PathLike,
    arrays: Mapping[str, np.ndarray],
    meta: Mapping,
    *,
    force: bool = False,
) -> Path:
    """Write ``arrays`` and ``meta`` to the ``.npz`` file ``path`` atomically.

    Parameters
    ----------
    path : path-like
        Destination.  Its directory must exist and be writable.
    arrays : mapping of str to array_like
        Named arrays; the name ``__meta__`` is reserved.  Object arrays are refused
        (files are loaded without pickle).
    meta : mapping
        JSON-serialisable metadata (numpy scalars and arrays are converted).
    force : bool
        Overwrite an existing file.  Without it an existing file is an error.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    FileExistsError
        ``path`` exists and ``force`` is false.
    FileNotFoundError, NotADirectoryError, PermissionError
        The directory of ``path`` is missing, not a directory or not writable.
    ValueError
        A reserved or object-dtype array.
    """
    path = Path(path)
    check_writable(path, force=force)
    payload = {}
    for name, value in arrays.items():
        if name == META_KEY:
            raise ValueError(f"array name {META_KEY!r} is reserved for the metadata")
        arr = np.asarray(value)
        if arr.dtype == object:
            raise ValueError(f"array {name!r} has dtype object; only numeric/str arrays allowed")
        payload[name] = arr
    payload[META_KEY] = np.array(json.dumps(jsonable(meta), sort_keys=True))

    fd, tmp = _mkstemp(path)
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, **payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return path


def check_writable(
    path: str | os.PathLike, *, force: bool = False, make_dirs: bool = False
) -> None:
    """Raise the error `save_result` would raise for ``path``, before any work is done.

    Parameters
    ----------
    path : path-like
        The file to be written.
    force : bool
        An existing ``path`` may be overwritten.
    make_dirs : bool
        Create the missing directories of ``path`` (like ``mkdir -p``) instead of failing.

    Raises
    ------
    FileExistsError
        ``path`` exists and ``force`` is false (the message names ``--force``).
    IsADirectoryError
        ``path`` is a directory.
    FileNotFoundError, NotADirectoryError, PermissionError
        The directory of ``path`` is missing (and not created), not a directory, cannot be
        created or is not writable (probed by creating and deleting a temporary file).
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(
            f"{path} is a directory; give a file name for the result, e.g. {path / 'run.npz'}"
        )
    if path.exists() and not force:
        raise FileExistsError(
            f"{path} already exists; refusing to overwrite it (pass --force to replace it)"
        )
    directory = path.parent
    if make_dirs and not directory.exists():
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            err = type(exc)(f"cannot write {path}: cannot create directory {directory} "
                            f"({exc.strerror})")  # fmt: skip
            err.errno = exc.errno
            raise err from exc
    if not directory.exists():
        raise FileNotFoundError(f"cannot write {path}: directory {directory} does not exist")
    if not directory.is_dir():
        raise NotADirectoryError(f"cannot write {path}: {directory} is not a directory")
    fd, probe = _mkstemp(path)
    os.close(fd)
    os.unlink(probe)


def _mkstemp(path: Path) -> tuple[int, str]:
    try:
        return tempfile.mkstemp(dir=path.parent, prefix=_hidden_stem(path) + ".", suffix=".tmp")
    except OSError as exc:
        # one-argument form: str() is the message alone, without an "[Errno N]" prefix
        err = PermissionError(
            f"cannot write {path}: directory {path.parent} is not writable ({exc.strerror})"
        )
        err.errno = exc.errno
        raise err from exc


def load_result(path: str | os.PathLike) -> tuple[dict[str, np.ndarray], dict]:
    """Read a file written by `save_result`.

    Returns
    -------
    arrays : dict of str to numpy.ndarray
        All arrays except the metadata.
    meta : dict
        The decoded JSON metadata.

    Raises
    ------
    FileNotFoundError
        No such file.
    IsADirectoryError
        ``path`` is a directory.
    ValueError
        The file is not a readable trajmaser result file (empty, truncated, corrupt, not an
        npz, or no metadata); the message is one line naming the file.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"result file {path} does not exist")
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a directory, not a result file")
    with open(path, "rb") as fh:
        head = fh.read(4)
    if not head:
        raise ValueError(f"{path} is not a readable .npz result file: it is empty (0 bytes)")
    if head != b"PK\x03\x04":
        raise ValueError(f"{path} is not a readable .npz result file: not a zip archive")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
        meta = json.loads(str(arrays.pop(META_KEY))) if META_KEY in arrays else None
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as exc:
        what = " ".join(str(exc).split())[:120] or type(exc).__name__
        raise ValueError(
            f"{path} is not a readable .npz result file: truncated or corrupt ({what})"
        ) from None
    if not isinstance(meta, dict):
        raise ValueError(f"{path} has no {META_KEY!r} record: not a trajmaser result file")
    return arrays, meta


def compare_results(
    a: str | os.PathLike,
    b: str | os.PathLike,
    *,
    ignore: Iterable[str] = EXECUTION_KEYS,
) -> list[str]:
    """Differences between two result files, apart from execution metadata.

    Arrays are compared bit for bit (names, dtypes, shapes and bytes, so NaN equals NaN and
    -0.0 differs from 0.0).  Metadata is compared as JSON after dropping the top-level keys in
    ``ignore`` (by default timing, host, ranks and resume history: `EXECUTION_KEYS`).

    Returns
    -------
    list of str
        One human-readable line per difference; empty when the files agree.
    """
    arr_a, meta_a = load_result(a)
    arr_b, meta_b = load_result(b)
    diffs = []
    for name in sorted(set(arr_a) | set(arr_b)):
        if name not in arr_a or name not in arr_b:
            where = a if name not in arr_a else b
            diffs.append(f"array {name!r} missing from {where}")
            continue
        x, y = arr_a[name], arr_b[name]
        if x.dtype != y.dtype or x.shape != y.shape:
            diffs.append(f"array {name!r}: {x.dtype}{x.shape} vs {y.dtype}{y.shape}")
        elif x.tobytes() != y.tobytes():
            if x.dtype.kind in "fc":
                nbad = int(np.count_nonzero(~((x == y) | (np.isnan(x) & np.isnan(y)))))
            else:
                nbad = int(np.count_nonzero(x != y))
            diffs.append(f"array {name!r}: {nbad} of {x.size} elements differ")
    skip = set(ignore)
    for key in sorted((set(meta_a) | set(meta_b)) - skip):
        if meta_a.get(key, _MISSING) != meta_b.get(key, _MISSING):
            diffs.append(f"metadata {key!r}: {meta_a.get(key)!r} vs {meta_b.get(key)!r}")
    return diffs


_MISSING = object()


def jsonable(obj: Any) -> Any:
    """Convert numpy scalars/arrays, tuples, paths and datetimes into JSON-ready values."""
    if isinstance(obj, Mapping):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        return jsonable(obj.item())
    if isinstance(obj, float) and not math.isfinite(obj):
        return repr(obj)  # "inf", "-inf", "nan": keep the file strict JSON
    if isinstance(obj, complex):
        return [obj.real, obj.imag]
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    if hasattr(obj, "isoformat"):
        return obj.isoformat()
    return obj
