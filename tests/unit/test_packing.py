"""trajmaser.run.packing: packed merging gives the bits of ``Result.__add__``."""

from __future__ import annotations

import functools
import operator
from dataclasses import dataclass

import cases
import numpy as np
import pytest

from trajmaser.config import config_from_dict
from trajmaser.params import RunParams
from trajmaser.results import Result
from trajmaser.run import plan
from trajmaser.run.packing import Codec, Packed, PackedTask, Parts
from trajmaser.trajectories import simulate_block

RUN = RunParams(atoms=40, ntraj=60, samples=5, burn_in=10, seed=5, block_size=10)


def _bits(res) -> dict:
    return {
        k: (np.asarray(v).dtype.str, np.asarray(v).tobytes()) for k, v in res.to_arrays().items()
    }


@pytest.fixture(scope="module")
def blocks() -> list[Result]:
    # histogram widths differ between blocks: the padded path is taken where they change
    model = cases.MODELS["poisson"]
    return [simulate_block(model, RUN, b, levels=L) for b, L in enumerate((8, 8, 16, 8, 24, 24))]


def test_packed_fold_equals_the_object_fold_bit_for_bit(blocks):
    codec = Codec(Result.from_arrays)
    packed = [codec.pack(r) for r in blocks]
    assert {p[0].layout for p in packed[:2]} != {p[0].layout for p in packed[2:3]}
    want = functools.reduce(operator.add, blocks)
    assert _bits(codec.unpack(functools.reduce(operator.add, packed))) == _bits(want)
    assert _bits(codec.unpack(packed[0])) == _bits(blocks[0])


def test_join_and_split_round_trip_a_message_of_mixed_layouts(blocks):
    codec = Codec(Result.from_arrays)
    items = [(b, codec.pack(r)) for b, r in enumerate(blocks)]
    runs = PackedTask.join(items)
    assert len(runs) == 4  # consecutive blocks of one layout share a run: 8 8 | 16 | 8 | 24 24
    back = PackedTask.split(runs)
    assert [b for b, _ in back] == list(range(6))
    for (_, p), (_, q) in zip(items, back, strict=True):
        assert p[0].layout == q[0].layout and p[0].floats.tobytes() == q[0].floats.tobytes()


def test_sweep_parts_merge_point_by_point_as_the_sweep_does():
    raw = cases.paper_raw({**cases.SMALL_RUN, "ntraj": 20, "atoms": 60, "burn_in": 20},
                          sweep={"fuel.N": [1, 4]})  # fmt: skip
    p = plan.plan_run(config_from_dict(raw))
    results = [p.task(k) for k in range(p.ntasks)]
    packed = [p.codec.pack(r) for r in results]
    assert sorted(packed[0]) == [0] and sorted(packed[-1]) == [1]
    got = p.codec.unpack(functools.reduce(operator.add, packed))
    want = functools.reduce(operator.add, results)
    for a, b in zip(got.results, want.results, strict=True):
        assert _bits(a) == _bits(b)


def test_different_record_grids_do_not_merge(blocks):
    other = simulate_block(cases.MODELS["poisson"], RunParams(**{**RUN.__dict__, "samples": 4}), 0)
    codec = Codec(Result.from_arrays)
    with pytest.raises(ValueError, match="different record grids"):
        codec.pack(blocks[0]) + codec.pack(other)


@dataclass
class _MaxResult:
    """Merges by maximum, not by sum: packing must refuse it."""

    x: np.ndarray

    def __add__(self, other):
        return _MaxResult(np.maximum(self.x, other.x))

    def to_arrays(self):
        return {"x": self.x}

    @classmethod
    def from_arrays(cls, arrays):
        return cls(np.asarray(arrays["x"]))


def test_a_result_that_is_not_a_sum_is_refused():
    with pytest.raises(RuntimeError, match="no longer merge by elementwise addition"):
        Codec(_MaxResult.from_arrays).pack(_MaxResult(np.array([1.0, 2.0])))
    assert isinstance(Parts({0: Packed.of({"x": np.ones(2)}, ())}), dict)
