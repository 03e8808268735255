"""trajmaser.run on the serial backend: ordered fold, checkpoints, resume, error target."""

from __future__ import annotations

import functools
import importlib.util
import operator
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from trajmaser import io
from trajmaser.run import backends, reduction, runner, signals
from trajmaser.run.backends import mpi as mpi_backend
from trajmaser.run.backends.serial import SerialBackend
from trajmaser.run.checkpoint import Checkpoint, CheckpointError
from trajmaser.run.reduction import OrderedReducer

_TOY_PATH = Path(__file__).resolve().parents[1] / "mpi" / "toy.py"
_spec = importlib.util.spec_from_file_location("trajmaser_toy", _TOY_PATH)
toy = importlib.util.module_from_spec(_spec)
sys.modules["trajmaser_toy"] = toy
_spec.loader.exec_module(toy)

SERIAL = SerialBackend()


def _same(a, b) -> bool:
    return a.n == b.n and a.s1.tobytes() == b.s1.tobytes() and a.s2.tobytes() == b.s2.tobytes()


def _fold(task, nblocks):
    return functools.reduce(operator.add, [task(b) for b in range(nblocks)])


class _Guard:
    received = None

    def call(self, task, block):
        return task(block)


def test_backends_implement_the_protocol_and_the_serial_one_keeps_the_order():
    task = toy.ToyTask(seed=5)
    assert isinstance(SERIAL, backends.Backend) and SERIAL.is_root and SERIAL.share(7) == 7
    seen = []
    assert not SERIAL.map_blocks(task, [3, 0, 2], lambda b, r: seen.append((b, r)), _Guard())
    assert [b for b, _ in seen] == [3, 0, 2]
    assert all(_same(r, task(b)) for b, r in seen)
    assert backends.load("serial").name == "serial"
    with pytest.raises(ValueError, match="no backend named 'ray'"):
        backends.load("ray")


def test_merge_order_matters_so_the_bitwise_tests_have_teeth():
    results = [toy.ToyTask(seed=5)(b) for b in range(6)]
    forward = functools.reduce(operator.add, results)
    backward = functools.reduce(operator.add, results[::-1])
    assert not _same(forward, backward)


def test_ordered_reducer_folds_in_block_order_whatever_the_arrival_order():
    task = toy.ToyTask(seed=9)
    results = {b: task(b) for b in range(7)}
    reducer = OrderedReducer()
    for b in (4, 1, 0, 6, 2, 5, 3):
        reducer.add(b, results[b])
    assert reducer.next_block == 7 and not reducer.pending
    assert _same(reducer.prefix, functools.reduce(operator.add, results.values()))
    with pytest.raises(ValueError, match="already recorded"):
        reducer.add(3, results[3])


def test_ordered_reducer_survives_a_checkpoint_with_out_of_order_blocks(tmp_path):
    task = toy.ToyTask(seed=9)
    reducer = OrderedReducer()
    for b in (0, 1, 3, 5):
        reducer.add(b, task(b))
    arrays, state = reducer.to_arrays(lambda r: r.to_arrays())
    assert state == {"next_block": 2, "pending": [3, 5]}
    io.save_result(tmp_path / "c.npz", arrays, {"checkpoint": state})
    arrays, meta = io.load_result(tmp_path / "c.npz")
    back = OrderedReducer.from_arrays(arrays, meta["checkpoint"], toy.ToyResult.from_arrays)
    for b in (4, 2, 6):
        back.add(b, task(b))
    assert _same(back.prefix, _fold(task, 7))


def test_reduce_blocks_serial_equals_the_plain_fold():
    task = toy.ToyTask(seed=11)
    out = _reduce(task, 9)
    assert out.complete and out.blocks_done == 9 and out.ranks == 1
    assert _same(out.result, _fold(task, 9))


def test_task_errors_name_the_block():
    with pytest.raises(RuntimeError, match="toy failure") as info:
        _reduce(toy.ToyTask(fail_block=2), 4)
    assert any("block 2" in note for note in info.value.__notes__)


class _SignalAt:
    """A toy task that sends itself ``signum`` while computing block ``at``."""

    def __init__(self, task, at, signum=signal.SIGUSR1):
        self.task, self.at, self.signum = task, at, signum

    def __call__(self, block):
        if block == self.at:
            os.kill(os.getpid(), self.signum)
        return self.task(block)


def _checkpoint(path, **kw):
    return Checkpoint(path=path, from_arrays=toy.ToyResult.from_arrays, **kw)


def _reduce(task, nblocks, **kw):
    return reduction.reduce_blocks(task, nblocks, backend=SERIAL, **kw)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGUSR1])
def test_signal_checkpoints_and_resume_reaches_the_same_bits(tmp_path, signum):
    task = toy.ToyTask(seed=3)
    ckpt = _checkpoint(tmp_path / "run.ckpt.npz", fingerprint={"seed": 3})
    first = _reduce(_SignalAt(task, 4, signum), 10, store=ckpt)
    assert not first.complete and first.result is None
    assert first.interrupted == signal.Signals(signum).name
    assert first.blocks_done == 4  # block 4 was abandoned mid-way
    assert io.load_result(ckpt.path)[1]["checkpoint"] == {"next_block": 4, "pending": []}
    assert signal.getsignal(signum) is not None  # handlers restored, not left installed

    calls = []

    def counting(block):
        calls.append(block)
        return task(block)

    second = _reduce(counting, 10, store=ckpt)
    assert second.complete and second.resumed_blocks == 4
    assert calls == list(range(4, 10))
    assert _same(second.result, _fold(task, 10))


class _FakeCancel:
    """The kernels' cancel API (trajmaser.trajectories.cancel), for the signal handler."""

    class Cancelled(Exception):
        pass

    def __init__(self) -> None:
        self.FLAG = np.zeros(1, dtype=np.int64)

    def request(self) -> None:
        self.FLAG[0] = 1

    def clear(self) -> None:
        self.FLAG[0] = 0

    def requested(self) -> bool:
        return bool(self.FLAG[0])


def test_a_signal_inside_a_long_block_stops_it_through_the_cancel_flag(tmp_path, monkeypatch):
    fake = _FakeCancel()
    monkeypatch.setattr(signals, "cancel", fake)
    task = toy.ToyTask(seed=3)

    def long_block(block):  # block 2 runs for a minute unless cancelled
        if block == 2:
            threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGTERM)).start()
            deadline = time.monotonic() + 60
            while not fake.FLAG[0] and time.monotonic() < deadline:
                time.sleep(0.005)
            if fake.FLAG[0]:
                raise fake.Cancelled()
        return task(block)

    ckpt = _checkpoint(tmp_path / "c.npz")
    t0 = time.monotonic()
    out = _reduce(long_block, 6, store=ckpt)
    assert time.monotonic() - t0 < 5 and not out.complete and out.interrupted == "SIGTERM"
    assert io.load_result(ckpt.path)[1]["checkpoint"] == {"next_block": 2, "pending": []}
    assert not fake.requested()  # cleared for the next run
    assert _reduce(task, 6, store=ckpt).complete


def test_periodic_checkpoint_every_n_blocks(tmp_path):
    task = toy.ToyTask(seed=3)
    ckpt = _checkpoint(tmp_path / "c.npz", every_seconds=float("inf"), every_blocks=3)
    states = []

    def watching(block):
        if ckpt.path.exists():
            states.append(io.load_result(ckpt.path)[1]["checkpoint"]["next_block"])
        return task(block)

    _reduce(watching, 8, store=ckpt)
    assert states == [3, 3, 3, 6, 6]


def test_a_checkpoint_of_another_run_is_refused(tmp_path):
    task = toy.ToyTask(seed=3)
    ckpt = _checkpoint(tmp_path / "c.npz", fingerprint={"seed": 3})
    _reduce(_SignalAt(task, 2), 6, store=ckpt)
    other = _checkpoint(tmp_path / "c.npz", fingerprint={"seed": 4})
    with pytest.raises(CheckpointError, match="different run.*seed"):
        _reduce(task, 6, store=other)
    with pytest.raises(CheckpointError, match="different run.*nblocks"):
        _reduce(task, 7, store=ckpt)


def test_error_target_stops_at_the_first_batch_boundary_that_meets_it():
    task = toy.ToyTask(seed=21)
    target = 1.5 * _fold(task, 40).stderr  # reached after some, not all, of 40 blocks
    out = _reduce(task, 40, batch_blocks=4, stop_when=lambda r: r.stderr <= target)  # fmt: skip
    expected = next(k for k in range(4, 41, 4) if _fold(task, k).stderr <= target)
    assert 4 < expected < 40
    assert out.stopped_early and out.blocks_done == expected
    assert _same(out.result, _fold(task, expected))
    again = _reduce(task, 40, batch_blocks=4, stop_when=lambda r: r.stderr <= target)  # fmt: skip
    assert _same(again.result, out.result)


def test_error_target_run_resumed_after_a_signal_stops_at_the_same_block(tmp_path):
    task = toy.ToyTask(seed=21)
    target = 1.5 * _fold(task, 40).stderr
    stop = lambda r: r.stderr <= target  # noqa: E731
    ckpt = _checkpoint(tmp_path / "c.npz")
    whole = _reduce(task, 40, batch_blocks=4, stop_when=stop)
    part = _reduce(_SignalAt(task, 6), 40, batch_blocks=4, stop_when=stop,
                                  store=ckpt)  # fmt: skip
    assert not part.complete
    rest = _reduce(task, 40, batch_blocks=4, stop_when=stop, store=ckpt)  # fmt: skip
    assert rest.blocks_done == whole.blocks_done and _same(rest.result, whole.result)


def test_run_to_file_refuses_an_existing_output_before_any_work(tmp_path):
    out = tmp_path / "r.npz"
    out.write_bytes(b"precious")

    def never(block):
        raise AssertionError("computed a block although the output exists")

    with pytest.raises(FileExistsError, match="--force"):
        runner.run_to_file(never, 3, out, from_arrays=toy.ToyResult.from_arrays)
    assert out.read_bytes() == b"precious"
    with pytest.raises(FileNotFoundError, match="does not exist"):
        runner.run_to_file(never, 3, tmp_path / "nodir" / "r.npz",
                             from_arrays=toy.ToyResult.from_arrays)  # fmt: skip


def test_run_to_file_writes_result_and_metadata_and_removes_the_checkpoint(tmp_path):
    task = toy.ToyTask(seed=8)
    out = tmp_path / "r.npz"
    meta = io.run_metadata({"toy": {"nblocks": 5}}, seed=8, ntraj=5 * 64, block_size=64)
    runner.run_to_file(_SignalAt(task, 3), 5, out, from_arrays=toy.ToyResult.from_arrays,
                         meta=meta)  # fmt: skip
    assert not out.exists() and io.checkpoint_path(out).exists()
    done = runner.run_to_file(task, 5, out, from_arrays=toy.ToyResult.from_arrays, meta=meta,
                                backend=SERIAL)  # fmt: skip
    assert done.complete and not io.checkpoint_path(out).exists()
    arrays, got = io.load_result(out)
    assert _same(toy.ToyResult.from_arrays(arrays), _fold(task, 5))
    assert got["config"] == {"toy": {"nblocks": 5}} and got["seed"] == 8
    assert (got["blocks_done"], got["nblocks"], got["ranks"], got["resumed_blocks"]) == (5, 5, 1, 3)
    assert got["wall_time_s"] >= 0 and got["started"] <= got["finished"]


def test_a_serial_run_never_imports_mpi4py():
    env = {k: v for k, v in os.environ.items() if k not in mpi_backend.LAUNCHER_VARS}
    env.pop("TRAJMASER_MPI", None)
    code = (
        "import sys, trajmaser.run as r; c = r.current_backend();"
        "assert (c.name, c.rank, c.size) == ('serial', 0, 1);"
        "assert 'mpi4py' not in sys.modules, 'mpi4py imported'"
    )
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=60)
