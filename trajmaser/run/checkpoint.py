"""Checkpoint files: the state of an ordered reduction saved next to the result file.

``OUT.ckpt.npz`` holds the merged prefix of blocks and the later blocks already done (see
`OrderedReducer.to_arrays`) plus a fingerprint of the run (configuration, seed, block count,
...).  A checkpoint is resumed only when its fingerprint matches; one that cannot be read is
refused with a message naming it and ``--restart``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trajmaser import io
from trajmaser.run.reduction import OrderedReducer


class CheckpointError(ValueError):
    """A checkpoint exists but cannot be resumed (corrupt, or from another run)."""


def _to_arrays(result: Any) -> Mapping:
    return result.to_arrays()


@dataclass
class Checkpoint:
    """A `~trajmaser.run.reduction.Store` in the file ``path``.

    ``from_arrays``/``to_arrays`` convert one result to and from named arrays;
    ``fingerprint`` (JSON-serialisable) must match for a checkpoint to be resumed; ``meta`` is
    stored alongside.  Saved every ``every_seconds`` or ``every_blocks`` blocks, and always
    after a signal.  ``resume=False`` ignores an existing file (``--restart``).
    """

    path: Path
    from_arrays: Callable[[dict], Any]
    to_arrays: Callable[[Any], Mapping] = _to_arrays
    fingerprint: Mapping = field(default_factory=dict)
    meta: Mapping = field(default_factory=dict)
    every_seconds: float = 60.0
    every_blocks: int | None = None
    resume: bool = True
    _full: dict | None = field(default=None, init=False, repr=False)

    def open(self, spec: Mapping) -> OrderedReducer | None:
        """The saved fold of the run ``spec`` + ``fingerprint`` describe, or None.

        Raises
        ------
        CheckpointError
            The file cannot be read, or it belongs to a run with other settings.
        """
        full = json.loads(json.dumps(io.jsonable({**spec, **self.fingerprint}), sort_keys=True))
        self._full = full
        path = Path(self.path)
        if not (self.resume and path.exists()):
            return None
        try:
            arrays, meta = io.load_result(path)
            saved = meta.get("fingerprint")
            if saved == full:
                return OrderedReducer.from_arrays(arrays, meta["checkpoint"], self.from_arrays)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            reason = str(exc).replace(str(path), "").strip(" :") or type(exc).__name__
            raise CheckpointError(
                f"checkpoint {path} cannot be read ({reason}); rerun with --restart to "
                "ignore it and start afresh"
            ) from None
        keys = sorted(k for k in set(saved or {}) | set(full)
                      if (saved or {}).get(k) != full.get(k))  # fmt: skip
        raise CheckpointError(
            f"checkpoint {path} belongs to a different run (differs in: {', '.join(keys)}); "
            "rerun with the settings it was written with, or with --restart to start afresh"
        )

    def save(self, reducer: OrderedReducer) -> None:
        """Write the state of ``reducer`` atomically (replacing the previous checkpoint)."""
        arrays, state = reducer.to_arrays(self.to_arrays)
        meta = {**self.meta, "fingerprint": self._full, "checkpoint": state}
        io.save_result(self.path, arrays, meta, force=True)

    def remove(self) -> None:
        """Delete the checkpoint file (after the result is written)."""
        Path(self.path).unlink(missing_ok=True)
