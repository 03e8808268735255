"""Result files and checkpoints, made once with the real CLI and then broken by hypothesis.

`make_artifacts` runs ``trajmaser run`` for a small result, a small sweep result and a
checkpoint (a run with many tiny blocks stopped by SIGTERM, or SIGKILL if it ignores that),
and runs the general path once so that no later case pays for compiling its kernels.
The strategies corrupt those bytes (truncation, random bytes, flipped bytes, a zip without
the metadata entry, bad metadata, a missing or replaced array, one file given for the other)
and hand them to ``summary``, ``compare`` or a resuming ``run``.
"""

from __future__ import annotations

import io
import signal
import time
import zipfile
from pathlib import Path

import numpy as np
from fuzz_configs import BASE, to_toml
from fuzz_exec import Case, child_env, cli_command, run_cli, start
from hypothesis import strategies as st

CONFIG = to_toml(BASE).encode()
SWEEP = to_toml({**BASE, "sweep": {"fuel.N": [1, 2]}}).encode()
# many tiny blocks, so a checkpoint appears after the first one and the run lasts a while
CKPT_RAW = {**BASE, "run": {**BASE["run"], "ntraj": 20000, "block_size": 10}}
CKPT_CONFIG = to_toml(CKPT_RAW).encode()
META = "__meta__.npy"
BAD_META = (
    "",
    "null",
    "[]",
    "{}",
    "not json",
    '{"config": 5}',
    '{"config": {}}',
    '{"config": {"fuel": {}}}',
    '{"checkpoint": {}}',
    '{"format_version": 99}',
)
BAD_ARRAYS = (
    np.zeros(0),
    np.array("text"),
    np.zeros((3, 3, 3), dtype=np.int8),
    np.full(7, np.nan),
    np.array([1e308, -1e308]),
    np.zeros(1, dtype=complex),
)


def make_artifacts(workdir: Path) -> dict[str, bytes]:
    """``{"result", "sweep", "checkpoint"}`` file contents made by the CLI in ``workdir``."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "cfg.toml").write_bytes(CONFIG)
    (workdir / "sweep.toml").write_bytes(SWEEP)
    (workdir / "ckpt.toml").write_bytes(CKPT_CONFIG)
    out = {}
    for name, cfg in (("result", "cfg.toml"), ("sweep", "sweep.toml")):
        ran = run_cli(
            ["run", cfg, "-o", f"{name}.npz", "--quiet", "--no-dm", "--force"], workdir, timeout=120
        )
        if ran.returncode != 0:
            raise RuntimeError(f"could not make {name}.npz:\n{ran.stderr}")
        out[name] = (workdir / f"{name}.npz").read_bytes()
    out["checkpoint"] = make_checkpoint(workdir)
    warm = to_toml({**BASE, "cavity": {**BASE["cavity"], "initial": "coherent:0.5"}}).encode()
    (workdir / "warm.toml").write_bytes(warm)  # compiles the general-path kernels once
    run_cli(["run", "warm.toml", "-o", "warm.npz", "--quiet", "--no-dm"], workdir, timeout=300)
    return out


def make_checkpoint(workdir: Path) -> bytes:
    """A genuine checkpoint of ``ckpt.toml``: run, stop after the first checkpoint, read it."""
    ckpt = workdir / "c.ckpt.npz"
    cmd = cli_command(
        [
            "run",
            "ckpt.toml",
            "-o",
            "c.npz",
            "--quiet",
            "--no-dm",
            "--force",
            "--restart",
            "--checkpoint-every",
            "1e-6",
        ]
    )
    proc = start(cmd, workdir, env=child_env())
    try:
        deadline = time.monotonic() + 120
        while not ckpt.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        proc.send_signal(signal.SIGTERM)
        try:
            proc.communicate(timeout=10)
        except Exception:
            proc.kill()
            proc.communicate()
    finally:
        if proc.poll() is None:
            proc.kill()
    if not ckpt.exists():
        raise RuntimeError(f"no checkpoint appeared (exit {proc.returncode})")
    return ckpt.read_bytes()


# ---------------------------------------------------------------- corruptions
def _members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, blob in members.items():
            zf.writestr(name, blob)
    return buf.getvalue()


def _npy(arr) -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.asarray(arr), allow_pickle=False)
    return buf.getvalue()


@st.composite
def corrupt(draw, data: bytes) -> tuple[bytes, str, bool]:
    """(corrupted bytes, what was done, surely invalid?) for an ``.npz`` result file."""
    kind = draw(
        st.sampled_from(
            (
                "empty",
                "truncated",
                "random bytes",
                "flipped bytes",
                "not a zip",
                "no metadata",
                "bad metadata",
                "array dropped",
                "array replaced",
            )
        )
    )
    if kind == "empty":
        return b"", kind, True
    if kind == "truncated":
        n = draw(st.integers(0, len(data) - 1))
        return data[:n], f"truncated to {n} of {len(data)} bytes", True
    if kind == "random bytes":
        blob = draw(st.binary(min_size=1, max_size=2000))
        return blob, f"{len(blob)} random bytes", True
    if kind == "flipped bytes":
        buf = bytearray(data)
        where = draw(st.lists(st.integers(0, len(data) - 1), min_size=1, max_size=4))
        for i in where:
            buf[i] ^= 0xFF
        return bytes(buf), f"bytes flipped at {where}", False
    if kind == "not a zip":
        return b"hello, I am not a zip file\n", kind, True
    members = _members(data)
    if kind == "no metadata":
        members.pop(META)
        return _zip(members), "valid zip without metadata", True
    if kind == "bad metadata":
        text = draw(st.one_of(st.sampled_from(BAD_META), st.text(max_size=30)))
        members[META] = _npy(np.array(text))
        return _zip(members), f"metadata = {text!r}", True
    name = draw(st.sampled_from(sorted(m for m in members if m != META)))
    if kind == "array dropped":
        members.pop(name)
        return _zip(members), f"array {name} dropped", True
    i = draw(st.integers(0, len(BAD_ARRAYS) - 1))
    members[name] = _npy(BAD_ARRAYS[i])
    arr = BAD_ARRAYS[i]
    return _zip(members), f"array {name} := {arr.dtype}{arr.shape}", False


@st.composite
def broken_results(draw, artifacts: dict[str, bytes]) -> Case:
    """``summary`` / ``compare`` on a corrupted result, sweep result or on a checkpoint."""
    source = draw(st.sampled_from(("result", "sweep", "checkpoint")))
    if source == "checkpoint" and draw(st.booleans()):
        data, what, invalid = artifacts["checkpoint"], "a checkpoint, intact", False
    else:
        data, what, invalid = draw(corrupt(artifacts[source]))
    command = draw(
        st.sampled_from(
            (
                ("summary",),
                ("summary", "--json"),
                ("summary", "--dm"),
                ("summary", "--series"),
                ("compare",),
            )
        )
    )
    name = "res.ckpt.npz" if source == "checkpoint" else "res.npz"
    argv = (command[0], name, *command[1:])
    return Case(
        "files: broken result",
        f"{' '.join(command)} on {source}: {what}",
        argv,
        ((name, data),),
        "error" if invalid else "any",
        statuses=frozenset({0, 1, 2}) if command[0] == "compare" else frozenset({0, 2}),
    )


@st.composite
def broken_checkpoints(draw, artifacts: dict[str, bytes]) -> Case:
    """A resuming ``run`` whose ``OUT.ckpt.npz`` is corrupt, foreign or a result file."""
    source = draw(st.sampled_from(("checkpoint", "checkpoint", "checkpoint", "result")))
    data, what, invalid = draw(corrupt(artifacts[source]))
    if source == "result" and draw(st.booleans()):
        data, what, invalid = artifacts["result"], "intact", True
    restart = draw(st.booleans())
    argv = (
        "run",
        "ckpt.toml",
        "-o",
        "out.npz",
        "--quiet",
        "--no-dm",
        *(("--restart",) if restart else ()),
    )
    files = (("ckpt.toml", CKPT_CONFIG), ("out.ckpt.npz", data))
    what = f"resume from a {source} file as checkpoint: {what}" + (
        " (--restart)" if restart else ""
    )
    expect = "ok" if restart else ("error" if invalid else "any")
    return Case(
        "files: broken checkpoint",
        what,
        argv,
        files,
        expect,
        mentions=("out.ckpt.npz", "--restart"),
        timeout=60,
    )
