"""Where blocks are computed: a registry of backends implementing one small protocol.

A backend is a module of this package with a ``detect()`` function returning a
`~trajmaser.run.backends.base.Backend` (or None when it does not apply to this process).
`current()` picks the first that applies, in the order of `ORDER`, unless the environment
variable ``TRAJMASER_BACKEND`` names one: ``TRAJMASER_BACKEND=dask`` imports
``trajmaser/run/backends/dask.py``, so a new engine is one new file.
"""

from __future__ import annotations

import importlib
import os

from trajmaser.run.backends.base import Backend

ORDER = ("mpi", "serial")
"""Backends tried by `current`, first match wins (``serial`` always applies)."""

_CURRENT: Backend | None = None

__all__ = ["ORDER", "Backend", "current", "load"]


def load(name: str) -> Backend:
    """The backend ``name`` (module ``trajmaser.run.backends.<name>``), for this process.

    Raises
    ------
    ValueError
        No such backend module, or the backend does not apply to this process.
    """
    if not name.isidentifier() or name == "base":
        raise ValueError(f"TRAJMASER_BACKEND={name!r} is not a backend name; known: {ORDER}")
    try:
        module = importlib.import_module(f"trajmaser.run.backends.{name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"trajmaser.run.backends.{name}":
            raise
        raise ValueError(f"no backend named {name!r}; known: {', '.join(ORDER)}") from None
    backend = module.detect()
    if backend is None:
        raise ValueError(f"backend {name!r} does not apply to this process")
    return backend


def current() -> Backend:
    """The process's backend, chosen once (``TRAJMASER_BACKEND``, else the first of `ORDER`
    whose ``detect()`` applies)."""
    global _CURRENT
    if _CURRENT is None:
        name = os.environ.get("TRAJMASER_BACKEND")
        if name:
            _CURRENT = load(name)
        else:
            for candidate in ORDER:
                module = importlib.import_module(f"trajmaser.run.backends.{candidate}")
                found = module.detect()
                if found is not None:
                    _CURRENT = found
                    break
    return _CURRENT
