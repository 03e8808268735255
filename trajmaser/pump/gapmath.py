"""Matrix functions of one generator block used by the averaged gap maps (Van Loan).

Every function takes a dense square generator block ``b`` (real or complex) and returns dense
matrices of the same dtype; integrals come from one augmented matrix exponential, so they are
exact to the accuracy of :func:`scipy.linalg.expm`.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import expm

__all__ = ["exp_int", "propagate_with_integral", "resolvent", "uniform_average"]


def propagate_with_integral(gen: np.ndarray, inp: np.ndarray, t: float):
    """(e^{gen t} inp, ∫_0^t e^{gen s} inp ds) by one augmented exponential."""
    a, b = gen.shape[0], inp.shape[1]
    aug = np.zeros((a + b, a + b), dtype=np.result_type(gen, inp, float))
    aug[:a, :a] = gen * t
    aug[:a, a:] = inp * t
    f = expm(aug)
    return f[:a, :a] @ inp, f[:a, a:]


def exp_int(b: np.ndarray, t: float) -> tuple[np.ndarray, np.ndarray]:
    """(e^{b t}, ∫_0^t e^{b s} ds)."""
    k = b.shape[0]
    aug = np.zeros((2 * k, 2 * k), dtype=np.result_type(b, float))
    aug[:k, :k] = b * t
    aug[:k, k:] = np.eye(k) * t
    f = expm(aug)
    return f[:k, :k], f[:k, k:]


def resolvent(b: np.ndarray, mu: float) -> np.ndarray:
    """(μ − b)^{-1} = ∫_0^∞ e^{−μs} e^{b s} ds."""
    eye = np.eye(b.shape[0])
    return np.linalg.solve(mu * eye - b, eye)


def uniform_average(b: np.ndarray, lo: float, width: float) -> tuple[np.ndarray, np.ndarray]:
    """Averages over t uniform in [lo, lo + width] of e^{b t} and of F(t) = ∫_0^t e^{b s} ds.

    With U1 = ∫_0^1 e^{b w u} du and U2 = w ∫_0^1 (1 − u) e^{b w u} du (w = width), both blocks
    of exp([[b w, 1, 0], [0, 0, 1], [0, 0, 0]]):

        ⟨e^{b t}⟩ = e^{b lo} U1,      ⟨F(t)⟩ = F(lo) + e^{b lo} U2,

    exact for every width, including w = 0 (U1 = 1, U2 = 0).
    """
    k = b.shape[0]
    e_lo, f_lo = exp_int(b, lo)
    aug = np.zeros((3 * k, 3 * k), dtype=np.result_type(b, float))
    aug[:k, :k] = b * width
    aug[:k, k : 2 * k] = np.eye(k)
    aug[k : 2 * k, 2 * k :] = np.eye(k)
    f = expm(aug)
    u1, u2 = f[:k, k : 2 * k], width * f[:k, 2 * k :]
    return e_lo @ u1, f_lo + e_lo @ u2
