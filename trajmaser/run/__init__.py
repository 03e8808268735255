"""Running a configuration: plan, ordered reduction, checkpoints, signals; serial or MPI.

``plan`` (the tasks of a config) → ``reduction`` (ordered fold, resumable) on a backend
(``backends/serial.py``, ``backends/mpi.py``) → ``output``/``checkpoint`` (the files) →
``runner`` (the whole run); ``compiling`` labels the progress bar while numba compiles.
"""

from trajmaser.run.backends import current as current_backend
from trajmaser.run.plan import Plan, plan_run
from trajmaser.run.reduction import RunOutcome
from trajmaser.run.runner import EXIT_INTERRUPTED, execute, run_to_file

mpi_context = current_backend  # the name used before backends existed

__all__ = [
    "EXIT_INTERRUPTED",
    "Plan",
    "RunOutcome",
    "current_backend",
    "execute",
    "mpi_context",
    "plan_run",
    "run_to_file",
]
