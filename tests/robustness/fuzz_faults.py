"""Faults around a run: outputs that cannot be written, concurrent runs, a full disk, litter from
killed writes, kill -9 and resume; and signals delivered inside one long compiled block.

Each scenario returns ``(verdict, detail)`` with a verdict from `fuzz_exec.VERDICTS`.  Work is
"lost" when a run computes and only then finds it cannot keep the result (or throws away
what it had).  The jobs that must be refused up front are long (minutes of work), so a
refusal that comes only after the work shows up as a run still going at the timeout.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from fuzz_configs import BASE, to_toml
from fuzz_exec import Case, child_env, classify, cli_command, finish, run_cli, start

from trajmaser import io

REFUSE_WITHIN = 20.0  # s: a job of minutes that is refused must be refused by then
# about 2e9 atom passages: minutes of work on any machine
HUGE = to_toml(
    {
        **BASE,
        "run": {
            **BASE["run"],
            "atoms": 1000,
            "ntraj": 2_000_000,
            "block_size": 20000,
            "burn_in": 500,
        },
    }
).encode()
# a few seconds (8e7 passages), in blocks of a fraction of a second
MEDIUM = to_toml(
    {
        **BASE,
        "run": {**BASE["run"], "atoms": 200, "ntraj": 400000, "block_size": 1000, "burn_in": 100},
    }
).encode()
SMALL = to_toml(BASE).encode()


def _case(what: str, argv, timeout: float, mentions=()) -> Case:
    return Case(
        "faults: work lost", what, tuple(argv), expect="error", mentions=mentions, timeout=timeout
    )


def _refused_up_front(workdir: Path, what: str, argv, mentions=()) -> tuple[str, str]:
    """Run a minutes-long job that must be refused at once; still running = work lost."""
    case = _case(what, argv, REFUSE_WITHIN, mentions)
    ran = run_cli(list(argv), workdir, timeout=REFUSE_WITHIN)
    verdict, detail = classify(case, ran, workdir)
    if verdict == "hang":
        return "work lost", f"computing a result it cannot write ({detail})"
    return verdict, detail


def output_is_directory(workdir: Path) -> tuple[str, str]:
    """``-o DIR --force``: must fail before any work."""
    (workdir / "cfg.toml").write_bytes(HUGE)
    (workdir / "outdir").mkdir()
    return _refused_up_front(
        workdir,
        "-o an existing directory --force",
        ["run", "cfg.toml", "-o", "outdir", "--force", "--quiet"],
    )


def disk_full(workdir: Path) -> tuple[str, str]:
    """Output on a filesystem with 8 KiB free (a tmpfs; needs root): must fail before work."""
    mnt = workdir / "full"
    mnt.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=8k", "tmpfs", str(mnt)], capture_output=True
    )
    if mounted.returncode != 0:
        return "skipped", "cannot mount a small tmpfs (needs root)"
    try:
        (workdir / "cfg.toml").write_bytes(HUGE)
        return _refused_up_front(
            workdir, "output on a full disk", ["run", "cfg.toml", "-o", "full/out.npz", "--quiet"]
        )
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def concurrent_runs(workdir: Path) -> tuple[str, str]:
    """Two identical runs to one output at once: the second must stop at the start."""
    (workdir / "cfg.toml").write_bytes(MEDIUM)
    argv = ["run", "cfg.toml", "-o", "out.npz", "--quiet", "--no-dm"]
    starts = [time.monotonic()]
    procs = [start(cli_command(argv), workdir)]
    time.sleep(0.3)
    starts.append(time.monotonic())
    procs.append(start(cli_command(argv), workdir))
    with ThreadPoolExecutor(max_workers=2) as pool:  # each run's own exit time
        rans = list(pool.map(finish, procs, starts, [180, 180]))
    codes = [r.returncode for r in rans]
    for r in rans:
        if r.timed_out or "Traceback" in r.stderr:
            return classify(_case("two runs at once", argv, 180), r, workdir)
    if sorted(codes) != [0, 2]:
        return "work lost", f"exit statuses {codes}: both wrote, or neither"
    win, lose = (rans[0], rans[1]) if codes[0] == 0 else (rans[1], rans[0])
    # "At the start": no later than a run that fails at the same check for another reason
    # (the output exists now), i.e. program start-up alone, with room for a loaded machine.
    startup = run_cli(argv, workdir).elapsed
    if lose.elapsed > 2.0 * startup + 1.0:
        return "work lost", (
            f"the losing run took {lose.elapsed:.1f} s (the winner {win.elapsed:.1f} s; a run "
            f"refused at the start takes {startup:.1f} s): {lose.stderr.strip()[-160:]}"
        )
    return "clear error", lose.stderr.strip()[-160:]


def stale_temporaries(workdir: Path) -> tuple[str, str]:
    """Temporary files left by writes killed with -9 must be gone after the next run."""
    (workdir / "cfg.toml").write_bytes(SMALL)
    litter = [workdir / ".out.npz.k9x2abcd.tmp", workdir / ".out.ckpt.npz.k9x2efgh.tmp"]
    for path in litter:
        path.write_bytes(b"PK\x03\x04 half a file")
    ran = run_cli(["run", "cfg.toml", "-o", "out.npz", "--quiet", "--no-dm"], workdir)
    verdict, detail = classify(_case("stale .tmp files", [], 30), ran, workdir)
    if ran.returncode != 0:
        return verdict, detail
    left = [p.name for p in litter if p.exists()]
    if left:
        return "work lost", f"stale temporary files of killed writes kept: {', '.join(left)}"
    return "ok", ""


def kill9_and_resume(workdir: Path) -> tuple[str, str]:
    """SIGKILL after a checkpoint; the rerun resumes from it and equals an uninterrupted run."""
    (workdir / "cfg.toml").write_bytes(MEDIUM)
    ref = run_cli(["run", "cfg.toml", "-o", "ref.npz", "--quiet", "--no-dm"], workdir, timeout=180)
    if ref.returncode != 0:
        return classify(_case("reference run", [], 180), ref, workdir)
    argv = ["run", "cfg.toml", "-o", "out.npz", "--quiet", "--no-dm", "--checkpoint-every=0.2"]
    proc = start(cli_command(argv), workdir)
    ckpt = workdir / "out.ckpt.npz"
    deadline = time.monotonic() + 120
    while not ckpt.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    with contextlib.suppress(ProcessLookupError):
        proc.kill()
    proc.communicate()
    again = run_cli(argv, workdir, timeout=180)
    if again.returncode != 0:
        return classify(_case("resume after kill -9", argv, 180), again, workdir)
    meta = io.load_result(workdir / "out.npz")[1]
    diffs = io.compare_results(workdir / "ref.npz", workdir / "out.npz")
    left = sorted(p.name for p in workdir.glob(".*.tmp"))
    if diffs:
        return "wrong answer", f"resumed file differs from the uninterrupted one: {diffs[:2]}"
    if not meta.get("resumed_blocks"):
        return "work lost", "the rerun did not resume from the checkpoint"
    if left:
        return "work lost", f"stale temporary files kept: {', '.join(left)}"
    return "ok", f"resumed {meta['resumed_blocks']} of {meta['nblocks']} blocks"


SCENARIOS = {
    "-o existing directory --force": output_is_directory,
    "output on a full disk (8 KiB tmpfs)": disk_full,
    "two identical runs to one output at once": concurrent_runs,
    "stale .tmp files of a killed write": stale_temporaries,
    "kill -9 after a checkpoint, then rerun": kill9_and_resume,
}


# ---------------------------------------------------------------- signals inside a block
# 5 blocks: on 2 ranks rank 0 computes too, so its first checkpoint (after its own block)
# comes at the end of the first round; 3 blocks would leave no round after it to interrupt
LONG_BLOCKS = 5
BLOCK_PASSAGES = 100_000_000  # 1000 atoms x 100,000 trajectories


def long_block_config(passages: int = BLOCK_PASSAGES) -> bytes:
    """`LONG_BLOCKS` blocks of ``passages`` atom passages each, one compiled call per block
    (the default lasts about 2 s at 5e7 passages/s; ``test_interrupt`` sizes its blocks to the
    machine)."""
    run = {
        **BASE["run"],
        "atoms": 1000,
        "ntraj": passages // 1000 * LONG_BLOCKS,
        "block_size": passages // 1000,
        "samples": 10,
        "burn_in": 500,
        "seed": 99,
    }
    return to_toml({**BASE, "run": run}).encode()


@dataclass
class Interrupt:
    """One signal delivered inside a block: how long the run took to stop, and how."""

    returncode: int | None
    latency: float  # s from the signal to the exit of the run
    into_block: float  # s the block had been running when the signal came
    checkpoint_blocks: int  # blocks kept in the checkpoint
    stderr: str


def interrupt_inside_block(
    workdir: Path,
    ranks: int,
    signame: str = "SIGTERM",
    into_block: float = 1.0,
    timeout: float = 300,
    passages: int = BLOCK_PASSAGES,
) -> Interrupt:
    """Start ``run`` (a checkpoint after every block), wait for the first checkpoint, wait
    ``into_block`` seconds more (inside the next block), signal the launcher, time the exit."""
    (workdir / "long.toml").write_bytes(long_block_config(passages))
    argv = ["run", "long.toml", "-o", "out.npz", "--no-dm", "--quiet", "--checkpoint-every=0.01"]
    proc = start(cli_command(argv, ranks), workdir, env=child_env())
    ckpt = workdir / "out.ckpt.npz"
    deadline = time.monotonic() + timeout
    while not ckpt.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(into_block)
    sent = time.monotonic()
    proc.send_signal(getattr(signal, signame))
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        _, err = proc.communicate()
    latency = time.monotonic() - sent
    kept = 0
    if ckpt.exists():
        state = io.load_result(ckpt)[1]["checkpoint"]
        kept = state["next_block"] + len(state["pending"])
    return Interrupt(proc.returncode, latency, into_block, kept, err)


def resume(workdir: Path, ranks: int, timeout: float = 300) -> tuple[int | None, str]:
    """Rerun the interrupted command of `interrupt_inside_block`; (exit status, stderr)."""
    argv = ["run", "long.toml", "-o", "out.npz", "--no-dm", "--quiet", "--checkpoint-every=0.01"]
    ran = run_cli(argv, workdir, timeout=timeout, ranks=ranks)
    return ran.returncode, ran.stderr


def reference(workdir: Path, timeout: float = 600, passages: int = BLOCK_PASSAGES) -> Path:
    """The uninterrupted serial result of `long_block_config`."""
    (workdir / "long.toml").write_bytes(long_block_config(passages))
    ran = run_cli(
        ["run", "long.toml", "-o", "ref.npz", "--no-dm", "--quiet"], workdir, timeout=timeout
    )
    if ran.returncode != 0:
        raise RuntimeError(f"reference run failed:\n{ran.stderr}")
    return workdir / "ref.npz"
