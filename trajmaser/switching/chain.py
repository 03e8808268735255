"""One atom of the photon-number chain X_k, sampled exactly (numba).

With a diagonal atom state and a Fock state in the cavity, one atom passage is: the atom
enters in |e⟩ (probability pe) or |g⟩; the interaction of length τ runs in one excitation
block of H_eff (:mod:`trajmaser.blocks`) with atomic-decay and cavity jumps drawn by exact
inversion of the no-jump norm; the atom is measured at exit, which leaves a Fock state; the
empty cavity then evolves exactly (:func:`trajmaser.trajectories.fock_time.gap_evolve`) over the
interval to the next atom (drawn by the pump's sampler) minus τ.  :func:`atom_step` maps the
photon number just before one atom to that just before the next, the step of the chain whose
exact transition matrix is :func:`trajmaser.dm.switching.step_matrix`.

Per entry photon number n below the table size, the no-jump probability over τ and the exit
probability of |e⟩ decide a passage without jumps with one uniform draw, as the Fock-path
trajectory kernel does; passages with a jump take the exact slow path.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from trajmaser import pump
from trajmaser.blocks import block_coeffs, jump_time, norm2, propagate
from trajmaser.params import Model
from trajmaser.trajectories.fock_interaction import entry_probs, fock_tables, jump
from trajmaser.trajectories.fock_time import gap_evolve

__all__ = ["ChainArgs", "atom_step", "chain_args", "run_chain"]


@njit(cache=True)
def interval(code, pars, rng):
    """Time from one arrival to the next (s), drawn by the pump's sampler."""
    return pump.next_arrival(code, 0, 0.0, pars, rng)[1]


ChainArgs = tuple  # (pe, consts, tau, code, pars, tables): see chain_args


def chain_args(model: Model, size: int = 512) -> ChainArgs:
    """Arguments of :func:`atom_step` for a diagonal model (tables for n < ``size``)."""
    consts = (model.g, model.gamma, model.kappa, model.nbar_bath, model.detuning)
    tables = np.vstack(fock_tables(int(size), *consts, model.tau))
    code, pars = pump.kernel_args(model)
    return (float(model.pe), consts, float(model.tau), int(code), pars, tables)


@njit(cache=True)
def _interaction(m, ce, cg, u, tau, consts, rng):
    """Exact interaction of length τ from block m, first jump threshold ``u``: photons after."""
    g, gamma, kappa, nbar_bath, detuning = consts
    s = 0.0
    while True:
        a, b, d = block_coeffs(m, g, gamma, kappa, nbar_bath, detuning)
        ce1, cg1 = propagate(a, b, d, ce, cg, tau - s)
        nrm = norm2(ce1, cg1)
        if nrm > u:  # no further jump: measure the atom (u / nrm is a fresh uniform)
            found_e = u < ce1.real * ce1.real + ce1.imag * ce1.imag
            return m if found_e else m + 1
        tj = jump_time(a, b, d, ce, cg, u, tau - s)
        ce1, cg1 = propagate(a, b, d, ce, cg, tj)
        s += tj
        m, ce, cg = jump(m, ce1, cg1, gamma, kappa, nbar_bath, rng)
        u = rng.random()


@njit(cache=True)
def atom_step(n, pe, consts, tau, code, pars, tables, rng):
    """Photon number just before the next atom, given ``n`` just before this one."""
    u = rng.random()
    excited = u < pe
    if excited:
        m, ce, cg, u = n, 1.0 + 0j, 0j, u / pe
    else:
        m, ce, cg, u = n - 1, 0j, 1.0 + 0j, (u - pe) / (1.0 - pe)
    k = 0 if excited else 2
    if n < tables.shape[1]:
        pnj, qe = tables[k, n], tables[k + 1, n]
    else:
        pnj, qe = entry_probs(m, ce, cg, consts, tau)
    if u < pnj:
        n = m if u < qe * pnj else m + 1
    else:
        n = _interaction(m, ce, cg, u, tau, consts, rng)
    return gap_evolve(n, interval(code, pars, rng) - tau, consts[2], consts[3], rng)


@njit(cache=True)
def run_chain(n, atoms, pe, consts, tau, code, pars, tables, rng, hist):
    """``atoms`` steps from X_0 = n, adding each X_k (k < atoms) to ``hist``; returns X_atoms.

    Photon numbers beyond the histogram go into its last bin.
    """
    top = hist.shape[0] - 1
    for _ in range(atoms):
        hist[min(n, top)] += 1
        n = atom_step(n, pe, consts, tau, code, pars, tables, rng)
    return n
