"""numba entry points of the pump for the trajectory kernels (one dispatch on an integer code).

``first_arrival(code, pars, rng)`` and ``next_arrival(code, slot, t, pars, rng)`` call the
samplers of the statistics with that code; ``kernel_args(model)`` gives ``(code, pars)``.
The dispatch is generated from :data:`trajmaser.pump.registry.STATISTICS` (one
``if code == k`` branch per statistics), so registering a statistics is all it takes.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from trajmaser.params import Model
from trajmaser.pump.registry import STATISTICS, get

__all__ = ["first_arrival", "kernel_args", "next_arrival"]


def _dispatch(name: str, args: str, attr: str):
    """An @njit function ``name(code, args)`` branching to each statistics' ``attr``."""
    lines = [f"def {name}(code, {args}):"]
    env = {}
    for s in STATISTICS:
        env[f"_{s.code}"] = getattr(s, attr)
        lines += [f"    if code == {s.code}:", f"        return _{s.code}({args})"]
    lines.append("    raise ValueError('unknown pump statistics code')")
    exec(compile("\n".join(lines), f"<trajmaser.pump.{name}>", "exec"), env)
    func = env[name]
    func.__doc__ = f"``{attr}`` of the statistics with this code: ``(slot, t)``."
    return njit(func)


first_arrival = _dispatch("first_arrival", "pars, rng", "first_kernel")
next_arrival = _dispatch("next_arrival", "slot, t, pars, rng", "next_kernel")


def kernel_args(model: Model) -> tuple[int, np.ndarray]:
    """``(code, pars)`` of the model's pump for :func:`first_arrival` / :func:`next_arrival`."""
    s = get(model.statistics)
    pars = s.kernel_pars(model.rate, model.tau, s.values(model.pump_values))
    return s.code, np.ascontiguousarray(pars, dtype=np.float64)
