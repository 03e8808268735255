"""What `trajmaser run` does: a config -> block tasks -> a result file.

A single configuration is a list of trajectory blocks; a ``[sweep]`` configuration is the
blocks of every grid point flattened into one task list (point-major), so ranks share the
whole sweep and each point's blocks still merge in block order.  The parallel layer
(:mod:`trajmaser.parallel`) maps the tasks, checkpoints and writes the file.
"""

from __future__ import annotations

import math
from dataclasses import replace

from trajmaser import io
from trajmaser.config import Config
from trajmaser.params import ConfigError
from trajmaser.results import Result, SweepResult
from trajmaser.run import engine as parallel
from trajmaser.trajectories.driver import nblocks, resolve_method, simulate_block


def _sweep_task(tasks: list, models: list, runs: list, axes: tuple, points: tuple, k: int):
    i, b = tasks[k]
    results = [None] * len(points)
    results[i] = simulate_block(models[i], runs[i], b)
    return SweepResult(axes, points, tuple(results))


class _Task:
    """Picklable task ``k -> block result`` (plain functions of module-level objects)."""

    def __init__(self, fn, *args):
        self.fn, self.args = fn, args

    def __call__(self, k: int):
        return self.fn(*self.args, k)


def plan_run(cfg: Config, *, target_err: float | None = None, max_ntraj: int | None = None):
    """Tasks of a configuration.

    Returns
    -------
    task : callable
        ``task(k) -> Result | SweepResult`` for k in range(ntasks).
    ntasks : int
    from_arrays : callable
        Reads the merged result back from a file or checkpoint.
    stop_when : callable or None
        Precision target on the merged result (``--target-err``), None otherwise.
    """
    if cfg.sweep:
        if target_err is not None:
            raise ConfigError("--target-err is for single runs, not for a [sweep]")
        grid = cfg.grid()
        axes = tuple(k for k, _ in cfg.sweep)
        points = tuple(tuple(labels[a] for a in axes) for labels, _ in grid)
        models = [c.model() for _, c in grid]
        runs = [c.run for _, c in grid]
        for m, r in zip(models, runs, strict=True):
            resolve_method(m, r)
        tasks = [(i, b) for i, r in enumerate(runs) for b in range(nblocks(r))]
        task = _Task(_sweep_task, tasks, models, runs, axes, points)
        return task, len(tasks), SweepResult.from_arrays, None
    model, run = cfg.model(), cfg.run
    resolve_method(model, run)
    stop = None
    if target_err is not None:
        if not 0 < target_err < 1:
            raise ConfigError(f"--target-err {target_err} must be in (0, 1) (a relative error)")
        cap = max_ntraj if max_ntraj is not None else 100 * run.ntraj
        run = replace(run, ntraj=max(cap, run.block_size))

        def stop(res: Result) -> bool:
            s = res.summary()["steady"]["time"]
            rel = s["Tf_over_Tb_err"] / abs(s["Tf_over_Tb"])
            return math.isfinite(rel) and rel <= target_err

    return _Task(simulate_block, model, run), nblocks(run), Result.from_arrays, stop


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
) -> parallel.RunOutcome:
    """Run a configuration (on every MPI rank) and write ``output`` on rank 0.

    ``make_dirs`` creates the missing directories of ``output`` (on rank 0, before any work;
    a failure there ends every rank cleanly).
    """
    task, ntasks, from_arrays, stop = plan_run(cfg, target_err=target_err, max_ntraj=max_ntraj)
    if stop is not None and batch_blocks is None:
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
    return parallel.run_to_file(
        task,
        ntasks,
        output,
        from_arrays=from_arrays,
        meta=meta,
        force=force,
        resume=resume,
        progress=progress,
        checkpoint_seconds=checkpoint_seconds,
        batch_blocks=batch_blocks,
        stop_when=stop,
        make_dirs=make_dirs,
    )
