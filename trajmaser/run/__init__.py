"""Running a configuration: tasks, ordered reduction, checkpoints, signals, serial or MPI."""

from trajmaser.run.engine import EXIT_INTERRUPTED, RunOutcome, mpi_context
from trajmaser.run.runner import execute, plan_run

__all__ = ["EXIT_INTERRUPTED", "RunOutcome", "execute", "mpi_context", "plan_run"]
