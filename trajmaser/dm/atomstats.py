"""Statistics of the detected atoms from the density-matrix maps (exact, diagonal models).

The per-atom map of :mod:`trajmaser.dm` traces the atom out after the interaction,
A = Tr_atom e^{Lτ}(· ⊗ ρ0).  Projecting the atom on |e⟩ or |g⟩ instead of tracing gives the
conditional maps A_e and A_g (A_e + A_g = A): 1ᵀA_e p is the probability that an atom meeting
the cavity distribution p leaves excited, and A_e p / 1ᵀA_e p the cavity after that outcome.

Between the end of one interaction and the next arrival the empty cavity evolves under the
gap map S, averaged over the pump statistics (the gaps are independent of the outcomes for
every statistics; S is :attr:`trajmaser.pump.AveragedMaps.gap`, e.g. e^{G(1/r − τ)} for
regular pumping and μ(μ − G)^{-1}, μ = 1/(1/r − τ), for Poisson pumping).

M = S A maps the cavity just before atom k to just before atom k + 1.  For W consecutive
atoms k0 … k0+W−1 with arrival distributions p_k = M^{k−k0} p_{k0},

    ⟨N_e⟩ = Σ_k 1ᵀA_e p_k,
    ⟨N_e(N_e − 1)⟩ = 2 Σ_{i<k} 1ᵀA_e M^{k−i−1} S A_e p_i,

evaluated in O(W) matrix–vector products through u_{k+1} = M u_k + S A_e p_k (u_{k0} = 0),
whose 1ᵀA_e u_k is Σ_{i<k} P(atom i and atom k excited).  In the steady state (p_k = p_ss)
the pair sum is Σ_{j=1}^{W−1} (W − j) C(j), C(j) = 1ᵀ A_e M^{j−1} S A_e p_ss.  A detector of
efficiency η counts an excited atom with probability η: A_e → η A_e in the counting, so
Q_a(η) = η Q_a(1).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.sparse.linalg import expm_multiply

from trajmaser.dm.cutoff import grow_nmax, nmax_estimate
from trajmaser.dm.diagonal import fixed_point, pump_maps
from trajmaser.dm.initial import initial_distribution, initial_support
from trajmaser.dm.photons import photon_stats, tail
from trajmaser.dm.populations import embed_trace, interaction_generator
from trajmaser.params import Model
from trajmaser.rules import check_detector_efficiency, check_model, check_nonnegative

__all__ = ["atom_q", "conditional_maps", "gap_map"]


def _check_diagonal(model: Model) -> None:
    if not model.is_diagonal:
        raise ValueError(
            "atom statistics need a diagonal model (atom coherence = 0 and a thermal, vacuum "
            "or Fock initial field); this model has coherence or a coherent field"
        )


def conditional_maps(model: Model, nmax: int) -> tuple[np.ndarray, np.ndarray]:
    """Conditional per-atom maps A_e, A_g on the cavity populations p(0 … nmax).

    Parameters
    ----------
    model : Model
        Diagonal model (no atomic coherence, diagonal initial field).
    nmax : int
        Fock cut-off.

    Returns
    -------
    (A_e, A_g) : ndarrays of shape (nmax+1, nmax+1)
        (A_e p)(n) = probability that the atom leaves excited and the cavity holds n photons,
        for a cavity p(n) just before the atom enters; A_e + A_g = dm.atom_maps(model)[0].
    """
    check_model(model)
    _check_diagonal(model)
    nmax = int(nmax)
    if nmax < 1:
        raise ValueError(f"nmax must be >= 1, got {nmax}")
    n1 = nmax + 1
    emb, _ = embed_trace(model, nmax)
    gen = interaction_generator(model, nmax).tocsc()
    prop = expm_multiply(gen * model.tau, emb)  # e^{Lτ} E without the dense exponential
    return prop[:n1].copy(), prop[n1 : 2 * n1].copy()


def gap_map(model: Model, nmax: int) -> tuple[np.ndarray, np.ndarray]:
    """Pump-averaged gap map S (end of an interaction → next arrival) and the first-arrival map.

    Returns
    -------
    (S, F) : ndarrays of shape (nmax+1, nmax+1)
        S as in the module docstring; F maps the initial cavity (t = 0) to the cavity just
        before atom 0 (identity for ``regular`` and ``poisson``; the geometric number of empty
        slots for ``binomial``).
    """
    check_model(model)
    m = pump_maps(model, int(nmax), atom_map=np.eye(int(nmax) + 1))
    return m.gap, m.first


def atom_q(
    model: Model,
    window: int,
    *,
    start: int | None = None,
    efficiency: float = 1.0,
    nmax: int | None = None,
    tol: float = 1e-12,
) -> dict:
    """Mandel Q of the number of atoms detected excited among ``window`` consecutive atoms.

    Q_a = Var(N_e)/⟨N_e⟩ − 1, exact for the repeated-interaction model (module docstring).

    Parameters
    ----------
    model : Model
        Diagonal model.
    window : int
        W, the number of consecutive atoms counted (W = atoms − burn_in for a run).
    start : int, optional
        Index of the first counted atom, the cavity starting in ``model.initial`` before
        atom 0 (the trajectory protocol with ``burn_in = start``).  ``None``: the steady state.
    efficiency : float
        Detector efficiency η in (0, 1]: each excited atom is counted with probability η.
    nmax : int, optional
        Fixed Fock cut-off.  Default: start from the density-matrix solver's estimate and grow
        (as :func:`trajmaser.dm.steady` does) until the top-level probability is below ``tol``.
    tol : float
        Tail tolerance when ``nmax`` is not given.

    Returns
    -------
    dict
        ``window``, ``p_e`` (mean fraction of counted atoms found excited, η included),
        ``n_mean`` (⟨N_e⟩), ``n_var``, ``mandel_q``, ``nmax``, ``tail`` (largest probability
        in the top Fock levels over the window), and ``field``: the
        :func:`trajmaser.dm.photon_stats` of the cavity just before the first counted atom
        (the steady arrival state when ``start`` is None); ``field_window``: the same for the
        cavity just before an atom, averaged over the W counted atoms (what a trajectory run's
        steady "arrival" block estimates).
    """
    check_model(model)
    _check_diagonal(model)
    window = int(window)
    if window < 1:
        raise ValueError(f"window must be >= 1 atom, got {window}")
    check_detector_efficiency(efficiency)
    if start is not None:
        check_nonnegative("start", start)
    if nmax is not None:
        return _atom_q(model, window, start, efficiency, int(nmax))
    return grow_nmax(
        lambda nm: _atom_q(model, window, start, efficiency, nm),
        lambda out: out["tail"],
        model,
        max(nmax_estimate(model, tol), initial_support(model)),
        tol,
    )


def _atom_q(model: Model, window: int, start: int | None, efficiency: float, nmax: int) -> dict:
    a_e, a_g = conditional_maps(model, nmax)
    maps = pump_maps(model, nmax, atom_map=a_e + a_g)
    s_map, step = maps.gap, maps.step
    if start is None:
        p = fixed_point(step)
    else:
        p = maps.first @ initial_distribution(model, nmax)
        for _ in range(int(start)):
            p = step @ p
    field = photon_stats(p, model.omega)
    ones_e = efficiency * a_e.sum(axis=0)  # 1ᵀ η A_e
    s_ae = efficiency * (s_map @ a_e)
    u = np.zeros_like(p)
    p_sum = np.zeros_like(p)
    mean, pairs, top = 0.0, 0.0, tail(p)
    for _ in range(window):
        p_sum += p
        mean += float(ones_e @ p)
        pairs += float(ones_e @ u)
        u = step @ u + s_ae @ p
        p = step @ p
        top = max(top, tail(p))
    fact2 = 2.0 * pairs  # ⟨N(N−1)⟩
    var = fact2 + mean - mean * mean
    return {
        "window": window,
        "p_e": mean / window,
        "n_mean": mean,
        "n_var": var,
        "mandel_q": var / mean - 1.0 if mean > 0 else math.nan,
        "nmax": nmax,
        "tail": top,
        "field": field,
        "field_window": photon_stats(p_sum, model.omega),
    }
