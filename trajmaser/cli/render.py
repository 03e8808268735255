"""Output of the command line: JSON (strict, non-finite as null) or text."""

from __future__ import annotations

import json
import math


def emit(payload, as_json: bool, text: str) -> None:
    """Print ``payload`` as strict JSON (NaN and ±inf become null) or ``text`` for people."""
    if as_json:
        print(json.dumps(finite(payload), indent=2, allow_nan=False))
    else:
        print(text)


def finite(obj):
    """``obj`` with numpy scalars made plain and non-finite floats replaced by None."""
    if isinstance(obj, dict):
        return {k: finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [finite(v) for v in obj]
    if hasattr(obj, "tolist"):  # numpy scalar or array
        obj = obj.tolist()
        if isinstance(obj, list):
            return [finite(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj
