"""Running sums over trajectories, mergeable results and their error estimates."""

from trajmaser.results.moments import NBATCH, NLAG, Q_SUPPORT_MIN, Batches, Moments
from trajmaser.results.result import Result
from trajmaser.results.sweep import SweepResult, load_any

__all__ = [
    "NBATCH",
    "NLAG",
    "Q_SUPPORT_MIN",
    "Batches",
    "Moments",
    "Result",
    "SweepResult",
    "load_any",
]
