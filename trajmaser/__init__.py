"""trajmaser: exact quantum trajectories of a spin-star-fuelled micromaser Carnot engine."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("trajmaser")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
