"""A run from start to file: claim the output, reduce the blocks, write the result.

`run_to_file` is generic (any mergeable task; the MPI tests drive it with a toy task);
`execute` is `trajmaser run`: a configuration's plan through `run_to_file`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from typing import Any

from trajmaser import io
from trajmaser.config import Config
from trajmaser.run import backends
from trajmaser.run.backends.base import Backend, root_do
from trajmaser.run.checkpoint import Checkpoint
from trajmaser.run.compiling import CompilingBar
from trajmaser.run.estimate import Estimate, Limits
from trajmaser.run.output import Output
from trajmaser.run.packing import Codec, PackedTask
from trajmaser.run.plan import plan_run
from trajmaser.run.reduction import RunOutcome, reduce_blocks

EXIT_INTERRUPTED = 99
"""Exit status of ``trajmaser run`` after a signal: checkpoint written, rerun to resume."""


def _tqdm(total: int, initial: int) -> CompilingBar:
    from tqdm.auto import tqdm

    return CompilingBar(tqdm(total=total, initial=initial, unit="block"))


def run_to_file(
    task: Callable[[int], Any],
    nblocks: int,
    output: str | os.PathLike,
    *,
    from_arrays: Callable[[dict], Any],
    meta: Mapping | None = None,
    fingerprint: Mapping | None = None,
    force: bool = False,
    resume: bool = True,
    progress: bool = False,
    checkpoint_seconds: float = 60.0,
    batch_blocks: int | None = None,
    stop_when: Callable[[Any], bool] | None = None,
    backend: Backend | None = None,
    make_dirs: bool = False,
    need_bytes: int = 0,
    codec: Codec | None = None,
) -> RunOutcome:
    """Reduce ``nblocks`` blocks of ``task`` into the result file ``output``, resumably.

    Call it on every rank.  Rank 0 claims ``output`` before any work (`Output.claim`: an
    existing file needs ``force``; missing directories are created with ``make_dirs``;
    ``need_bytes`` of free space), resumes from ``OUT.ckpt.npz`` when it exists, ``resume`` is
    true and its ``fingerprint`` matches, checkpoints every ``checkpoint_seconds`` and on a
    signal, and on completion writes ``result.to_arrays()`` with ``meta`` plus
    ``blocks_done``, ``nblocks``, ``stopped_early``, ``ranks``, ``started``, ``finished``,
    ``wall_time_s`` and ``resumed_blocks``, then deletes the checkpoint.  ``fingerprint``
    defaults to ``meta`` without its execution keys (`io.EXECUTION_KEYS`) and versions.
    With a ``codec`` blocks are packed where they are computed and merged as flat vectors
    (`trajmaser.run.packing`: the same bits, a fraction of the cost on rank 0).

    Returns
    -------
    RunOutcome
        When ``complete`` is False the caller should exit with `EXIT_INTERRUPTED`.
    """
    backend = backend or backends.current()
    meta = dict(meta or {})
    if fingerprint is None:
        skip = io.EXECUTION_KEYS | {"versions"}
        fingerprint = {k: v for k, v in meta.items() if k not in skip}
    to_arrays = _to_arrays
    if codec is not None:
        task = PackedTask(task, codec)
        from_arrays = _compose(codec.pack, from_arrays)
        to_arrays = _compose(_to_arrays, codec.unpack)
        stop_when = stop_when and _compose(stop_when, codec.unpack)
    out = Output(output, force=force, make_dirs=make_dirs)
    root_do(backend, lambda: out.claim(need_bytes))
    try:
        started, t0 = io.now_iso(), time.perf_counter()
        ckpt = Checkpoint(path=out.checkpoint_path, from_arrays=from_arrays, to_arrays=to_arrays,
                          fingerprint=fingerprint, meta=meta, every_seconds=checkpoint_seconds,
                          resume=resume)  # fmt: skip
        outcome = reduce_blocks(task, nblocks, backend=backend, batch_blocks=batch_blocks,
                                stop_when=stop_when, store=ckpt,
                                progress=_tqdm if progress else None)  # fmt: skip

        def save() -> None:
            if outcome.complete:
                final = _final_meta(meta, outcome, started, time.perf_counter() - t0)
                out.write(ckpt.to_arrays(outcome.result), final)

        root_do(backend, save)
    finally:
        out.release()
    if codec is not None and outcome.result is not None:
        outcome.result = codec.unpack(outcome.result)
    return outcome


def _final_meta(meta: Mapping, outcome: RunOutcome, started: str, seconds: float) -> dict:
    """The metadata of a finished run: ``meta`` plus what happened."""
    return {
        **meta,
        "blocks_done": outcome.blocks_done,
        "nblocks": outcome.nblocks,
        "stopped_early": outcome.stopped_early,
        "ranks": outcome.ranks,
        "started": started,
        "finished": io.now_iso(),
        "wall_time_s": round(seconds, 3),
        "resumed_blocks": outcome.resumed_blocks,
    }


def _to_arrays(result: Any) -> Mapping:
    return result.to_arrays()


def _compose(f: Callable, g: Callable) -> Callable:
    return lambda x: f(g(x))


def execute(
    cfg: Config,
    output: str,
    *,
    force: bool = False,
    resume: bool = True,
    progress: bool = False,
    checkpoint_seconds: float = 60.0,
    target_err: float | None = None,
    max_ntraj: int | None = None,
    batch_blocks: int | None = None,
    make_dirs: bool = False,
    backend: Backend | None = None,
    limits: Limits | None = None,
    announce: Callable[[Estimate], None] | None = None,
) -> RunOutcome:
    """Run a configuration (on every rank) and write ``output`` on rank 0.

    The run is planned first: its `Estimate` must pass ``limits`` (default `Limits()`),
    ``announce(estimate)`` is called on rank 0, and the output is claimed with room for the
    estimated file and checkpoint, all before any work.  ``make_dirs`` creates the missing
    directories of ``output`` (a failure there ends every rank cleanly).

    Raises
    ------
    ConfigError
        Bad options, or a run past ``limits`` (the message holds the estimate).
    OSError
        The output cannot be claimed (see `Output.claim`).
    """
    backend = backend or backends.current()
    plan = plan_run(cfg, target_err=target_err, max_ntraj=max_ntraj)
    est = plan.estimate(backend.size)
    (limits or Limits()).check(est)
    if announce is not None and backend.is_root:
        announce(est)
    if plan.stop_when is not None and batch_blocks is None:
        batch_blocks = 4
    meta = io.run_metadata(
        cfg.raw,
        seed=cfg.run.seed,
        ntraj=cfg.run.ntraj,
        block_size=cfg.run.block_size,
        target_err=target_err,
        max_ntraj=max_ntraj,
        batch_blocks=batch_blocks,
    )
    return run_to_file(
        plan.task,
        plan.ntasks,
        output,
        from_arrays=plan.from_arrays,
        meta=meta,
        force=force,
        resume=resume,
        progress=progress,
        checkpoint_seconds=checkpoint_seconds,
        batch_blocks=batch_blocks,
        stop_when=plan.stop_when,
        make_dirs=make_dirs,
        backend=backend,
        codec=plan.codec,
        need_bytes=2 * est.file_bytes,
    )
