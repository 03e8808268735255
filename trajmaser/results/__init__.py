"""Running sums over trajectories, mergeable results and their error estimates."""

from trajmaser.results.moments import Q_SUPPORT_MIN, Moments
from trajmaser.results.result import Result
from trajmaser.results.sweep import SweepResult, load_any

__all__ = ["Q_SUPPORT_MIN", "Moments", "Result", "SweepResult", "load_any"]
