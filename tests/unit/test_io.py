"""Result files: atomic writes, no silent overwrite, clear errors, round trips, metadata."""

from __future__ import annotations

import json
import os
import tempfile

import numpy as np
import pytest

from trajmaser import io


def _arrays():
    return {
        "n_mean": np.linspace(0.0, 1.0, 7),
        "hist": np.arange(12, dtype=np.int64).reshape(3, 4),
        "amp": np.array([1 + 2j, -0.5j]),
        "flag": np.array(True),
        "count": np.array(5),
    }


def test_round_trip_keeps_every_array_bit_for_bit_and_the_metadata(tmp_path):
    arrays = _arrays()
    meta = {"seed": np.int64(7), "rate": np.float64(2.5), "vec": np.arange(3), "inf": np.inf}
    path = io.save_result(tmp_path / "r.npz", arrays, meta)
    got, got_meta = io.load_result(path)
    assert set(got) == set(arrays)
    for name, value in arrays.items():
        assert got[name].dtype == value.dtype and got[name].shape == value.shape
        assert got[name].tobytes() == value.tobytes()
    assert got_meta == {"seed": 7, "rate": 2.5, "vec": [0, 1, 2], "inf": "inf"}


def test_refuses_to_overwrite_without_force_and_says_how(tmp_path):
    path = tmp_path / "r.npz"
    io.save_result(path, {"x": np.zeros(2)}, {"v": 1})
    with pytest.raises(FileExistsError, match="--force"):
        io.save_result(path, {"x": np.ones(2)}, {"v": 2})
    assert io.load_result(path)[1] == {"v": 1}
    io.save_result(path, {"x": np.ones(2)}, {"v": 2}, force=True)
    arrays, meta = io.load_result(path)
    assert meta == {"v": 2} and arrays["x"].tolist() == [1.0, 1.0]


def test_a_failed_write_leaves_the_old_file_intact_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "r.npz"
    io.save_result(path, {"x": np.zeros(3)}, {"v": 1})

    def broken_savez(fh, **arrays):
        fh.write(b"partial garbage")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez", broken_savez)
    with pytest.raises(OSError, match="No space"):
        io.save_result(path, {"x": np.ones(3)}, {"v": 2}, force=True)
    assert sorted(os.listdir(tmp_path)) == ["r.npz"]
    assert io.load_result(path)[1] == {"v": 1}


def test_missing_directory_is_a_clear_error(tmp_path):
    target = tmp_path / "no" / "such" / "dir" / "r.npz"
    with pytest.raises(FileNotFoundError, match="does not exist"):
        io.save_result(target, {"x": np.zeros(1)}, {})


def test_unwritable_directory_is_a_clear_error(tmp_path, monkeypatch):
    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", denied)
    with pytest.raises(PermissionError, match="not writable"):
        io.save_result(tmp_path / "r.npz", {"x": np.zeros(1)}, {})


def test_reserved_and_object_arrays_are_refused(tmp_path):
    with pytest.raises(ValueError, match="reserved"):
        io.save_result(tmp_path / "a.npz", {io.META_KEY: np.zeros(1)}, {})
    with pytest.raises(ValueError, match="object"):
        io.save_result(tmp_path / "b.npz", {"x": np.array([{}, None], dtype=object)}, {})
    assert not os.listdir(tmp_path)


def test_loading_something_else_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        io.load_result(tmp_path / "missing.npz")
    (tmp_path / "text.npz").write_text("not a zip")
    with pytest.raises(ValueError, match="not a readable"):
        io.load_result(tmp_path / "text.npz")
    np.savez(tmp_path / "plain.npz", x=np.zeros(2))
    with pytest.raises(ValueError, match="not a trajmaser result"):
        io.load_result(tmp_path / "plain.npz")


def test_run_metadata_records_config_run_and_software():
    config = {"run": {"seed": 3, "ntraj": 10}, "cavity": {"tau": 9.5e-6}}
    meta = io.run_metadata(config, seed=3, ntraj=10, block_size=5, blocks_done=2, ranks=4)
    assert meta["config"] == config
    assert (meta["seed"], meta["ntraj"], meta["block_size"]) == (3, 10, 5)
    assert (meta["blocks_done"], meta["ranks"]) == (2, 4)
    for name in ("python", "numpy", "scipy", "qutip", "mpi4py", "trajmaser"):
        assert name in meta["versions"]
    assert meta["versions"]["numpy"] == np.__version__
    assert meta["hostname"]
    json.dumps(meta)  # plain JSON


def test_compare_ignores_execution_metadata_but_not_bits_or_settings(tmp_path):
    base = io.run_metadata({"a": 1}, seed=1, ntraj=4, block_size=2)
    arrays = _arrays()
    a = io.save_result(tmp_path / "a.npz", arrays, {**base, "started": "t0", "ranks": 1})
    b = io.save_result(tmp_path / "b.npz", arrays, {**base, "started": "t1", "ranks": 2})
    assert io.compare_results(a, b) == []
    assert any("started" in d for d in io.compare_results(a, b, ignore=()))

    changed = dict(arrays, n_mean=arrays["n_mean"].copy())
    changed["n_mean"][3] = np.nextafter(changed["n_mean"][3], 2.0)  # one ulp
    c = io.save_result(tmp_path / "c.npz", changed, {**base, "started": "t2"})
    assert io.compare_results(a, c) == ["array 'n_mean': 1 of 7 elements differ"]

    zeros = io.save_result(tmp_path / "z0.npz", {"x": np.array([0.0])}, base)
    negzeros = io.save_result(tmp_path / "z1.npz", {"x": np.array([-0.0])}, base)
    assert io.compare_results(zeros, negzeros)  # -0.0 is not the same bits as 0.0

    d = io.save_result(tmp_path / "d.npz", arrays, {**base, "seed": 2})
    assert any("metadata 'seed'" in line for line in io.compare_results(a, d))


def test_checkpoint_path_sits_next_to_the_result(tmp_path):
    assert io.checkpoint_path(tmp_path / "run.npz") == tmp_path / "run.ckpt.npz"
    assert io.checkpoint_path("out") == io.checkpoint_path("out.npz").with_name("out.ckpt.npz")
