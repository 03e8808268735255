"""Results packed into flat vectors, so that merging a block costs one vector addition.

A `Result` merges with ``+`` array by array (histograms zero-padded to the wider one).
`Packed` holds the same sums as two contiguous vectors (float64 and int64) plus the layout
(names and shapes) and the arrays every block shares (the record grid); adding two packed
results with the same layout is one ``numpy.add`` per vector, element by element in the same
order as the arrays' own additions, so the merged bits are those of ``Result.__add__``.  A
different layout (a block whose histogram grew) takes the padded, array-by-array path.

`Codec` packs the results of a plan (a `Result` or a `SweepResult`, one part per point) and
unpacks the merged sum; on its first use in a process it checks on a real block that packing
changes no bit, and refuses to run if the result type stopped being a sum of arrays.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

RECORD_GRID = ("times", "arrival_index", "omega")
"""Arrays of a `Result` that every block shares (checked equal, never added)."""


class Packed:
    """One result as flat sums: ``floats`` and ``ints`` laid out as ``layout`` says.

    ``layout`` (a string, compared in one step) lists the summed arrays with their kind and
    shape; ``grid`` holds the shared arrays (names, dtypes, shapes and bytes).
    """

    __slots__ = ("layout", "grid", "floats", "ints")

    def __init__(self, layout: str, grid: bytes, floats: np.ndarray, ints: np.ndarray):
        self.layout, self.grid, self.floats, self.ints = layout, grid, floats, ints

    @classmethod
    def of(cls, arrays: Mapping[str, np.ndarray], shared: tuple[str, ...]) -> Packed:
        """Pack the mapping ``arrays``; names in ``shared`` are kept aside, not summed."""
        fl, it, layout = [], [], []
        for name, value in arrays.items():
            if name in shared:
                continue
            v = np.asarray(value)
            if v.dtype.kind not in "fiub":
                raise TypeError(f"array {name!r} of dtype {v.dtype} cannot be summed")
            (fl if v.dtype.kind == "f" else it).append(v.ravel())
            layout.append([name, v.dtype.kind == "f", list(v.shape)])
        grid = [(k, np.asarray(arrays[k])) for k in shared if k in arrays]
        head = json.dumps([layout, [[k, v.dtype.str, list(v.shape)] for k, v in grid]])
        floats = np.concatenate(fl).astype(np.float64, copy=False) if fl else np.zeros(0)
        ints = np.concatenate(it).astype(np.int64, copy=False) if it else np.zeros(0, np.int64)
        return cls(head, b"".join(v.tobytes() for _, v in grid), floats, ints)

    def arrays(self) -> dict[str, np.ndarray]:
        """The mapping `of` was given (ints as int64, floats as float64)."""
        layout, grid = json.loads(self.layout)
        out, pos = {}, 0
        for name, dtype, shape in grid:
            dt = np.dtype(dtype)
            size = dt.itemsize * int(np.prod(shape, dtype=np.int64))
            out[name] = np.frombuffer(self.grid[pos : pos + size], dtype=dt).reshape(shape)
            pos += size
        fpos = ipos = 0
        for name, is_float, shape in layout:
            size = int(np.prod(shape, dtype=np.int64))
            if is_float:
                out[name] = self.floats[fpos : fpos + size].reshape(shape)
                fpos += size
            else:
                out[name] = self.ints[ipos : ipos + size].reshape(shape)
                ipos += size
        return out

    @property
    def shared(self) -> tuple[str, ...]:
        """Names of the shared arrays."""
        return tuple(name for name, _, _ in json.loads(self.layout)[1])

    def __add__(self, other: Packed) -> Packed:
        if self.grid != other.grid:
            raise ValueError("cannot merge results with different record grids")
        if self.layout == other.layout:
            floats, ints = self.floats + other.floats, self.ints + other.ints
            return Packed(self.layout, self.grid, floats, ints)
        return _padded_sum(self, other)


def _padded_sum(a: Packed, b: Packed) -> Packed:
    """Array-by-array sum, each pair zero-padded to the larger shape (as `Moments` does)."""
    x, y = a.arrays(), b.arrays()
    shared = a.shared
    if set(x) != set(y):
        raise ValueError(f"cannot merge results holding different arrays: {set(x) ^ set(y)}")
    out = {}
    for name in x:
        if name in shared:
            out[name] = x[name]
            continue
        u, v = x[name], y[name]
        shape = tuple(max(p, q) for p, q in zip(u.shape, v.shape, strict=True))
        out[name] = _pad(u, shape) + _pad(v, shape)
    return Packed.of(out, shared)


def _pad(v: np.ndarray, shape: tuple) -> np.ndarray:
    if v.shape == shape:
        return v
    z = np.zeros(shape, dtype=v.dtype)
    z[tuple(slice(0, n) for n in v.shape)] = v
    return z


class Parts(dict):
    """Packed parts of one result, keyed by sweep point (one key ``0`` for a single run).

    ``+`` adds matching parts and keeps the others, as a sweep's ``None + r = r``.
    """

    def __add__(self, other: Parts) -> Parts:
        out = Parts(self)
        for key, part in other.items():
            out[key] = out[key] + part if key in out else part
        return out


class Codec:
    """Packs the block results of a plan and unpacks their sum.

    ``from_arrays`` reads one point's result; ``sweep`` is ``(axes, points)`` for a
    `SweepResult` (None for a single run); ``make_sweep(axes, points, results)`` builds it.
    """

    def __init__(self, from_arrays: Callable, *, sweep: tuple | None = None,
                 make_sweep: Callable | None = None, shared: tuple = RECORD_GRID):  # fmt: skip
        self.from_arrays, self.sweep, self.make_sweep, self.shared = (
            from_arrays, sweep, make_sweep, shared)  # fmt: skip
        self._checked = False

    def pack(self, result: Any) -> Parts:
        """``result`` as `Parts` (checked once per process: see `check`)."""
        points = result.results if self.sweep else (result,)
        parts = Parts({i: Packed.of(r.to_arrays(), self.shared)
                       for i, r in enumerate(points) if r is not None})  # fmt: skip
        if not self._checked:
            self.check(result, parts)
        return parts

    def unpack(self, parts: Parts) -> Any:
        """The result whose packed form is ``parts``."""
        if not self.sweep:
            return self.from_arrays(parts[0].arrays())
        results = tuple(self.from_arrays(parts[i].arrays()) if i in parts else None
                        for i in range(len(self.sweep[1])))  # fmt: skip
        return self.make_sweep(*self.sweep, results)

    def check(self, result: Any, parts: Parts) -> None:
        """Raise RuntimeError unless unpack(pack(r) + pack(r)) is ``r + r`` bit for bit."""
        want = (result + result).to_arrays()
        got = self.unpack(parts + parts).to_arrays()
        same = want.keys() == got.keys() and all(
            np.asarray(want[k]).dtype == np.asarray(got[k]).dtype
            and np.asarray(want[k]).tobytes() == np.asarray(got[k]).tobytes()
            for k in want
        )
        if not same:
            raise RuntimeError(
                "packed merging changes the bits of this result type: its arrays no longer "
                "merge by elementwise addition (update trajmaser.run.packing)"
            )
        self._checked = True


class PackedTask:
    """``task(b)`` packed by ``codec``; `join`/`split` turn several block results into one
    compact message (consecutive single-part results of one layout stacked into 2-D arrays),
    which a backend uses when present."""

    def __init__(self, task: Callable[[int], Any], codec: Codec) -> None:
        self.task, self.codec = task, codec

    def __call__(self, block: int) -> Parts:
        return self.codec.pack(self.task(block))

    @staticmethod
    def join(items: list[tuple[int, Parts]]) -> list:
        """``[(block, parts), ...]`` as runs ``(blocks, key, layout, grid, floats, ints)``."""
        runs: list = []
        for block, parts in items:
            (key, p), *more = parts.items()
            last = runs[-1] if runs else None
            if not more and last and (last[1], last[2], last[3]) == (key, p.layout, p.grid):
                last[0].append(block)
                last[4].append(p.floats)
                last[5].append(p.ints)
            elif not more:
                runs.append([[block], key, p.layout, p.grid, [p.floats], [p.ints]])
            else:
                runs.append([[block], None, None, None, parts, None])
        for run in runs:
            if run[1] is not None:
                run[4], run[5] = np.stack(run[4]), np.stack(run[5])
        return runs

    @staticmethod
    def split(runs: list) -> list[tuple[int, Parts]]:
        """Inverse of `join`."""
        items = []
        for blocks, key, layout, grid, floats, ints in runs:
            if key is None:
                items.append((blocks[0], floats))
                continue
            for i, block in enumerate(blocks):
                items.append((block, Parts({key: Packed(layout, grid, floats[i], ints[i])})))
        return items
