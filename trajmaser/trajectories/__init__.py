"""Quantum trajectories: record plans, the Fock-path and general-path kernels, the block driver."""

from trajmaser.trajectories.driver import (
    block_rng,
    nblocks,
    resolve_method,
    simulate,
    simulate_block,
)

__all__ = ["block_rng", "nblocks", "resolve_method", "simulate", "simulate_block"]
