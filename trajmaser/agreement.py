"""Trajectories against a reference: a calibrated family-wise test on raw moments.

What is compared (docs/VALIDATION.md): at every record point of every family (``time``
samples, ``arrival`` records, the ``steady_time`` and ``steady_arrival`` blocks) the raw
moments E[n], E[n²] and p(n).  Each is a mean over trajectories of a per-trajectory
quantity, so it is unbiased and linear in the trajectories: no delta method.  A quantity is
tested only when its trajectory mean is nearly symmetric (:data:`SKEW_MAX`).  The dependence
between all compared quantities is estimated from B independent batch means.

The test: per quantity j the batch-means t statistic t_j = √B d̄_j / s_j (B − 1 degrees of
freedom) of the differences d_bj = (batch mean − reference); at the sample times and arrival
records it is corrected for the skewness of one sample (Hall 1992, :func:`hall`).
Statistics: max_j |t_j| over everything and over the steady blocks, and the mean of t_j²
over the sample times and over the arrival records; they are combined by a weighted minimum
p-value (:data:`WEIGHTS`) calibrated by sign flips of whole batch vectors (a randomisation
test: exact when batch means are symmetric about the reference, whatever the number of
quantities and their correlation).  The verdict is
DISAGREE when that p-value is ≤ α (family-wise false-alarm level) or when a quantity with no
spread over batches, where the reference says spread was due, differs from the reference.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from trajmaser.batchmeans import (
    FAMILIES,
    BatchMeans,
    FamilyReference,
)
from trajmaser.signflip import FLIPS, critical_t, flip_test, hall

ALPHA = 0.01
#: A quantity is compared when the skewness of its trajectory mean, |γ|/√ntraj, is at most
#: this: γ the skewness of one sample under the reference p(n) at that point (Bernoulli for
#: p(n); the trajectories' own p(n) for a reference without p(n)).
SKEW_MAX = 0.1
#: A quantity without spread over batches agrees only if equal to the reference to this.
ZERO_TOL = 1e-9
MIN_BATCHES = 16


# ------------------------------------------------------------------ assembling quantities
def _pad(p: np.ndarray, levels: int) -> np.ndarray:
    if p.shape[-1] >= levels:
        return p[..., :levels]
    return np.concatenate([p, np.zeros(p.shape[:-1] + (levels - p.shape[-1],))], axis=-1)


def _skewness(rows: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Variance and skewness of ``values`` (per level) under each distribution row."""
    w = np.maximum(rows, 0.0)
    w = w / np.maximum(w.sum(axis=1, keepdims=True), 1e-300)
    v = values[: w.shape[1]]
    m = w @ v
    c = v[None, :] - m[:, None]
    c2 = np.einsum("jl,jl->j", w, c * c)
    c3 = np.einsum("jl,jl->j", w, c * c * c)
    with np.errstate(divide="ignore", invalid="ignore"):
        g = np.where(c2 > 0, c3 / c2**1.5, 0.0)
    return c2, g


def _quantities(data: BatchMeans, ref: FamilyReference):
    """Candidate quantities of one family: (name, batch values (B, K), reference (K,),
    point (K,), level (K,), skewness of one sample (K,), variance of one sample (K,))."""
    npts = data.n.shape[1]
    pts = np.arange(npts)
    none = np.full(npts, -1)
    if ref.p is not None:
        dist = np.asarray(ref.p, float)
    else:  # moments-only reference: the trajectories' own p(n) stands in for the skewness
        w = data.count / data.count.sum()
        dist = np.einsum("b,bjl->jl", w, data.p)
    levels = np.arange(dist.shape[1], dtype=float)
    var_n, g_n = _skewness(dist, levels)
    out = [("n", data.n, np.asarray(ref.n, float), pts, none, g_n, var_n)]
    if ref.n2 is not None:
        var2, g2 = _skewness(dist, levels * levels)
        out.append(("n2", data.n2, np.asarray(ref.n2, float), pts, none, g2, var2))
    if ref.p is not None:
        rp = np.asarray(ref.p, float)
        q = np.clip(rp, 0.0, 1.0)
        var_p = q * (1.0 - q)
        with np.errstate(divide="ignore", invalid="ignore"):
            g_p = np.where(var_p > 0, (1.0 - 2.0 * q) / np.sqrt(var_p), np.inf)
        j, lev = np.nonzero(var_p > 0)
        yp = _pad(data.p, rp.shape[1])[:, j, lev]
        out.append(("p", yp, rp[j, lev], j, lev, g_p[j, lev], var_p[j, lev]))
    return out


def _check_shapes(name: str, data: BatchMeans, ref: FamilyReference) -> None:
    npts = data.n.shape[1]
    for key in ("n", "n2"):
        v = getattr(ref, key)
        if v is not None and np.shape(v) != (npts,):
            raise ValueError(f"{name} reference {key}: expected {npts} points, got {np.shape(v)}")
    if ref.p is not None and (np.ndim(ref.p) != 2 or np.shape(ref.p)[0] != npts):
        raise ValueError(f"{name} reference p: expected ({npts}, L), got {np.shape(ref.p)}")


# ------------------------------------------------------------------ the comparison
@dataclass
class _Assembled:
    """The compared quantities of all families, flattened."""

    cols: list = field(default_factory=list)  # (B, k) residual blocks
    meta: list = field(default_factory=list)  # (family, quantity, index in points[f][q])
    skew: list = field(default_factory=list)  # (k,) Hall coefficients γ/(6√N) of the columns
    points: dict = field(default_factory=dict)
    zero_fail: list = field(default_factory=list)
    zero_equal: int = 0
    skipped: int = 0


def _assemble(data, refs, fams, nb: int, skew_max: float, errors=None) -> _Assembled:
    """Residuals, standard errors and the zero-spread / skewness decisions per quantity.

    ``errors`` (fallback without batches): family → (se of E n, se of E n², se of p(n))
    replacing the batch standard errors.
    """
    out = _Assembled()
    for fam in fams:
        _check_shapes(fam, data[fam], refs[fam])
        total = float(data[fam].count.sum())
        w = data[fam].count / data[fam].count.mean()
        out.points[fam] = {"at": _labels(refs[fam])}
        for q, y, mu, pt, lev, gam, var1 in _quantities(data[fam], refs[fam]):
            d = w[:, None] * (y - mu[None, :])
            dbar = d.mean(axis=0)
            if errors is None:
                flat = np.ptp(y, axis=0) <= 1e-12 * np.max(np.abs(y), axis=0)
                se = np.sqrt(
                    np.maximum(np.einsum("bk,bk->k", d, d) - nb * dbar**2, 0.0) / (nb * (nb - 1))
                )
                se[flat] = 0.0
            else:
                se_n, se_n2, se_p = errors[fam]
                se = {"n": se_n, "n2": se_n2}.get(q)
                se = (se_p[pt, lev] if se is None else se[pt]).copy()
                flat = se <= 0
            clt = np.abs(gam) / np.sqrt(total) <= skew_max
            exact = flat & ((var1 <= 0) | clt)  # no spread where spread was due: exact check
            equal = exact & (np.abs(dbar) <= ZERO_TOL * np.maximum(1.0, np.abs(mu)))
            out.zero_equal += int(equal.sum())
            for k in np.nonzero(exact & ~equal)[0]:
                out.zero_fail.append(
                    _where(fam, q, pt[k], lev[k], refs[fam])
                    | {"traj": float(mu[k] + dbar[k]), "ref": float(mu[k]), "diff": float(dbar[k])}
                )
            use = ~flat & clt
            seen = var1 * total >= 5.0  # a level expected fewer than ~5 times is not counted
            out.skipped += int((~exact & ~use & seen).sum())
            out.points[fam][q] = {
                "point": pt,
                "level": lev,
                "traj": mu + dbar,
                "err": se,
                "ref": mu,
                "z": np.full(mu.size, np.nan),
            }
            out.cols.append(d[:, use])
            out.meta.extend((fam, q, k) for k in np.nonzero(use)[0])
            # per-record quantities are single samples of p(n): their skewness is known; the
            # steady blocks are time averages, far more symmetric than one sample
            c = 0.0 if fam.startswith("steady") else gam[use] / (6.0 * np.sqrt(total))
            out.skew.append(np.broadcast_to(c, (int(use.sum()),)))
    return out


def _report(asm: _Assembled, refs, t: np.ndarray, tcrit: float, **fields) -> dict:
    """The report layout shared by the calibrated test and the fallback."""
    for i, (fam, q, k) in enumerate(asm.meta):
        asm.points[fam][q]["z"][k] = t[i]
    info = [_point_info(asm.points, refs, m, t[i]) for i, m in enumerate(asm.meta)]
    beyond = sorted((x for x in info if abs(x["z"]) > tcrit), key=lambda x: -abs(x["z"]))
    ok = fields["p_value"] > fields["alpha"] and not asm.zero_fail
    return {
        "ok": bool(ok),
        **fields,
        "t_crit": float(tcrit),
        "tested": len(asm.meta),
        "skipped_skewed": asm.skipped,
        "zero_spread": {"equal": asm.zero_equal, "failing": asm.zero_fail},
        "worst": max(info, key=lambda x: abs(x["z"])) if info else None,
        "beyond": beyond[:20],
        "n_beyond": len(beyond),
        "points": asm.points,
    }


def compare_batches(
    data: dict[str, BatchMeans],
    refs: dict[str, FamilyReference],
    *,
    alpha: float = ALPHA,
    skew_max: float = SKEW_MAX,
    flips: int = FLIPS,
) -> dict:
    """Calibrated comparison of batch means with reference values.

    Parameters
    ----------
    data : dict
        Family name → :class:`BatchMeans` (all with the same B ≥ ``MIN_BATCHES``).
    refs : dict
        Family name → :class:`FamilyReference`; only families present here are compared.
    alpha : float
        Family-wise false-alarm level.
    skew_max, flips : float, int
        See :data:`SKEW_MAX`, :data:`FLIPS`.

    Returns
    -------
    dict
        ``ok``, ``alpha``, ``method`` ("batch sign-flip"), ``batches``, ``p_value``,
        ``statistics`` (name → value, p, weight), ``t_crit`` (bound on |t| at the max
        statistic's share of α), ``tested``, ``skipped_skewed``, ``zero_spread`` (equal count
        and failing points), ``worst``, ``beyond`` (points past ``t_crit``, worst first),
        ``n_beyond``, ``points`` (family → ``at`` labels and quantity → point, level, traj,
        err, ref, z arrays).
    """
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha}")
    fams = [f for f in FAMILIES if f in refs]
    nb = {data[f].n.shape[0] for f in fams}
    if len(nb) != 1:
        raise ValueError(f"families have different numbers of batches: {sorted(nb)}")
    nb = nb.pop()
    if nb < MIN_BATCHES:
        raise ValueError(f"need at least {MIN_BATCHES} batches, got {nb}")
    asm = _assemble(data, refs, fams, nb, skew_max)
    names, groups, weights = _statistics(asm.meta)
    if asm.meta:
        ft = flip_test(
            np.concatenate(asm.cols, axis=1),
            groups,
            weights,
            skew=np.concatenate(asm.skew),
            flips=flips,
        )
    else:
        ft = {
            "t": np.zeros(0),
            "stats": np.zeros(len(names)),
            "p_each": np.ones(len(names)),
            "p_value": 1.0,
            "max_null": np.zeros(1),
        }
    statistics = {
        n: {"value": float(v), "p": float(p), "weight": float(w)}
        for n, v, p, w in zip(names, ft["stats"], ft["p_each"], weights, strict=True)
    }
    tcrit = critical_t(ft["max_null"], alpha * weights[0])
    return _report(
        asm,
        refs,
        ft["t"],
        tcrit,
        alpha=float(alpha),
        method="batch sign-flip",
        batches=int(nb),
        p_value=float(ft["p_value"]),
        statistics=statistics,
    )


#: Share of α given to each statistic (renormalised over those present).  The steady blocks
#: average every trajectory over the whole steady window and carry most of the information
#: about a solver's steady state: their max |t| comes first.  The series get the mean of
#: t² (diffuse shifts of many points), the overall max |t| catches a few outlying points.
WEIGHTS = {"steady": 0.5, "max": 0.25, "time": 0.125, "arrival": 0.125}
_GROUPS = (
    ("steady", "max", ("steady_time", "steady_arrival")),
    ("time", "mean", ("time",)),
    ("arrival", "mean", ("arrival",)),
)


def _statistics(meta: list) -> tuple[list[str], list[tuple[str, np.ndarray]], list[float]]:
    """Names, (kind, column group) and weights of the statistics for the compared quantities."""
    fams = np.array([m[0] for m in meta])
    names, groups, weights = ["max|t|"], [], [WEIGHTS["max"]]
    for key, kind, members in _GROUPS:
        idx = np.nonzero(np.isin(fams, members))[0] if fams.size else np.zeros(0, int)
        if idx.size:
            names.append(f"max|t| ({key})" if kind == "max" else f"mean t^2 ({key})")
            groups.append((kind, idx))
            weights.append(WEIGHTS[key])
    total = sum(weights)
    return names, groups, [w / total for w in weights]


def _where(fam: str, q: str, point: int, level: int, ref: FamilyReference) -> dict:
    out = {"family": fam, "quantity": q if q != "p" else f"p({int(level)})", "point": int(point)}
    if ref.label is not None and fam in ("time", "arrival"):
        out["at"] = float(np.asarray(ref.label)[int(point)])
    return out


def _point_info(points, refs, m, t) -> dict:
    fam, q, k = m
    rec = points[fam][q]
    info = _where(fam, q, rec["point"][k], rec["level"][k], refs[fam])
    info.update(
        traj=float(rec["traj"][k]), err=float(rec["err"][k]), ref=float(rec["ref"][k]), z=float(t)
    )
    return info


def fallback_test(result, refs: dict[str, FamilyReference], *, alpha: float = ALPHA) -> dict:
    """Test without batch sums (older result files): Bonferroni over per-point z.

    z uses the trajectories' own standard errors (E n, E n² from the per-trajectory sums;
    p(n) from the bound sqrt(p(1 − p)/N), valid for per-trajectory weights in [0, 1]).
    Conservative under any dependence between points.  Same output layout as
    :func:`compare_batches` (``method`` "bonferroni", ``batches`` 0).
    """
    fams = [f for f in FAMILIES if f in refs]
    data, errors = {}, {}
    for fam in fams:
        m = getattr(result, fam)
        mx, my, vx, vy, _ = m.mean_cov()
        p = m.hist / m.count[:, None]
        data[fam] = BatchMeans(m.count[:1].copy(), mx[None], my[None], p[None])
        bound = np.sqrt(np.clip(p * (1 - p), 0, None) / m.count[:, None])
        errors[fam] = (
            np.sqrt(vx),
            np.sqrt(vy),
            _pad(
                bound,
                1
                + max(
                    (np.asarray(refs[fam].p).shape[1] if refs[fam].p is not None else 0), p.shape[1]
                ),
            ),
        )
    asm = _assemble(data, refs, fams, 1, SKEW_MAX, errors)
    z = []
    for fam, q, k in asm.meta:
        rec = asm.points[fam][q]
        z.append((rec["traj"][k] - rec["ref"][k]) / rec["err"][k])
    z = hall(np.asarray(z, dtype=float), np.concatenate(asm.skew) if asm.skew else 0.0)
    from scipy.stats import norm  # imported here: scipy.stats costs seconds at CLI start

    zc = float(norm.isf(alpha / (2 * max(z.size, 1))))
    zmax = float(np.max(np.abs(z))) if z.size else 0.0
    p_value = min(1.0, 2 * z.size * float(norm.sf(zmax))) if z.size else 1.0
    return _report(
        asm,
        refs,
        z,
        zc,
        alpha=float(alpha),
        method="bonferroni",
        batches=0,
        p_value=p_value,
        statistics={"max|z|": {"value": zmax, "p": p_value}},
    )


def _labels(ref: FamilyReference):
    """The record points' labels (times or atom indices) of a reference, or None."""
    return None if ref.label is None else np.asarray(ref.label, dtype=float)
