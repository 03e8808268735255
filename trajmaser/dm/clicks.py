"""Correlations of the atom clicks, exact (diagonal models): P(atom k + j excited | atom k excited).

With the conditional maps A_e, A_g of :mod:`trajmaser.dm.atomstats` (A_e p = the cavity after
an atom that leaves excited, times that probability), the pump-averaged gap map S and the step
M = S (A_e + A_g), the probability that atoms k and k + j (j ≥ 1) both leave excited is

    P(e_k, e_{k+j}) = 1ᵀ A_e M^{j−1} S A_e p_k,

p_k the cavity just before atom k, and P(e_k) = 1ᵀ A_e p_k.  A detector of efficiency η
records each atom independently with probability η and leaves the dynamics alone, so among
pairs whose two atoms are both recorded the fraction with atom k + j found excited, given atom k
was, is η² P(e_k, e_{k+j}) / (η² P(e_k)): η cancels from the ratio (it only thins the record).

The trajectory estimator of :mod:`trajmaser.results` (``summary()["clicks"]["correlation"]``)
sums, over the pairs (k, k + j) inside the steady window [burn_in, atoms), the pairs with both
detected excited and the pairs with k detected excited and k + j detected; its expectation is
Σ_k P(e_k, e_{k+j}) / Σ_k P(e_k) over k = burn_in … atoms − 1 − j, which
:func:`click_correlation` gives with ``start`` and ``window``; without them, the stationary
value C(j) / p_e.
"""

from __future__ import annotations

import numpy as np

from trajmaser.params import Model

__all__ = ["NLAG", "click_correlation"]

NLAG = 16  # lags j = 1 … NLAG, as in the trajectory record


def click_correlation(
    model: Model,
    lags: int = NLAG,
    *,
    efficiency: float = 1.0,
    start: int | None = None,
    window: int | None = None,
    nmax: int | None = None,
    tol: float = 1e-12,
) -> dict:
    """P(atom k + j found excited | atom k found excited), j = 1 … ``lags`` (module docstring).

    Parameters
    ----------
    model : Model
        Diagonal model.
    lags : int
        Largest lag j.
    efficiency : float
        Detector efficiency η in (0, 1]; it thins the record and cancels from the ratio
        (checked, then reported back).
    start, window : int, optional
        The run protocol: the cavity starts in ``model.initial`` before atom 0 and pairs lie in
        [start, start + window).  Both or neither; neither gives the stationary value.
    nmax : int, optional
        Fock cut-off (default: that of :func:`trajmaser.dm.steady` at ``tol``).
    tol : float
        Tail tolerance of the default cut-off.

    Returns
    -------
    dict
        ``lag`` (list 1 … lags), ``p_ee`` (list), ``p_e`` (fraction of atoms found excited,
        stationary or over the window), ``efficiency``.
    """
    from trajmaser.dm.atomstats import conditional_maps, gap_map
    from trajmaser.dm.switching import chain

    lags = int(lags)
    if lags < 1:
        raise ValueError(f"lags must be >= 1, got {lags}")
    if not 0.0 < efficiency <= 1.0:
        raise ValueError(f"efficiency must be in (0, 1], got {efficiency}")
    if (start is None) != (window is None):
        raise ValueError("give both start and window (the run protocol) or neither (stationary)")
    if window is not None and (int(window) <= lags or int(start) < 0):
        raise ValueError(f"need start >= 0 and window > lags = {lags}, got {start}, {window}")
    if not model.is_diagonal:
        raise ValueError("click correlations need a diagonal model (no atom coherence, a "
                         "thermal, vacuum or Fock initial field)")  # fmt: skip
    st = chain(model, tol, nmax)[0]  # dm.steady(model, tol=tol, nmax=nmax), cached
    nm = st["nmax"]
    a_e, a_g = conditional_maps(model, nm)
    s_map, first = gap_map(model, nm)
    step = s_map @ (a_e + a_g)
    ones_e = a_e.sum(axis=0)  # 1ᵀ A_e
    if start is None:
        pi = np.asarray(st["arrival"]["p"])
        p_e = float(ones_e @ pi)
        v = s_map @ (a_e @ pi)
        num = []
        for _ in range(lags):
            num.append(float(ones_e @ v))
            v = step @ v
        return _out(np.array(num) / p_e, p_e, efficiency)
    return _protocol(model, lags, efficiency, int(start), int(window), nm, step, s_map, a_e,
                     first)  # fmt: skip


def _protocol(model, lags, efficiency, start, window, nm, step, s_map, a_e, first) -> dict:
    from trajmaser import dm

    ones_e = a_e.sum(axis=0)
    p = first @ dm.initial_distribution(model, nm)
    for _ in range(start):
        p = step @ p
    # v_k = S A_e p_k for k = start … start + window − 1, and P(e_k)
    vs, pes = [], []
    for _ in range(window):
        vs.append(s_map @ (a_e @ p))
        pes.append(float(ones_e @ p))
        p = step @ p
    cum_v = np.cumsum(np.array(vs), axis=0)
    cum_e = np.cumsum(pes)
    out = []
    for j in range(1, lags + 1):
        u = cum_v[window - 1 - j]  # Σ_{k < start + window − j} v_k
        for _ in range(j - 1):
            u = step @ u
        out.append(float(ones_e @ u) / cum_e[window - 1 - j])
    return _out(np.array(out), float(cum_e[-1] / window), efficiency)


def _out(p_ee: np.ndarray, p_e: float, efficiency: float) -> dict:
    return {
        "lag": list(range(1, p_ee.size + 1)),
        "p_ee": p_ee.tolist(),
        "p_e": p_e,
        "efficiency": efficiency,
    }
