"""trajmaser: exact quantum trajectories of a spin-star-fuelled micromaser Carnot engine.

The public surface::

    from trajmaser import load_config, simulate, steady
    cfg = load_config("runs/quick.toml")
    result = simulate(cfg.model(), cfg.run)      # mergeable running sums
    print(result.summary()["steady"]["time"]["Tf_over_Tb"], steady(cfg.model())["time"])
"""

from importlib.metadata import PackageNotFoundError, version

from trajmaser.config import Config, config_from_dict, load_config
from trajmaser.dm import arrival_series, steady, time_series
from trajmaser.fuel import FuelResult, fuel_pe, fuel_tq
from trajmaser.params import ConfigError, InitialField, Model, RunParams
from trajmaser.results import Result
from trajmaser.trajectories.driver import simulate, simulate_block
from trajmaser.validate import validate  # the function; it shadows the module's name


def __getattr__(name: str):
    # compare pulls in scipy.stats (seconds of import time): load it only when asked for
    if name == "compare_result":
        from trajmaser.compare import compare_result

        return compare_result
    raise AttributeError(f"module 'trajmaser' has no attribute {name!r}")


try:
    __version__ = version("trajmaser")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"

__all__ = [
    "Config",
    "ConfigError",
    "FuelResult",
    "InitialField",
    "Model",
    "Result",
    "RunParams",
    "__version__",
    "arrival_series",
    "compare_result",
    "config_from_dict",
    "fuel_pe",
    "fuel_tq",
    "load_config",
    "simulate",
    "simulate_block",
    "steady",
    "time_series",
    "validate",
]
