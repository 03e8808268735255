"""Running sums over trajectories, mergeable results, and error propagation.

Every record point keeps the sums of per-trajectory pairs (x, y) — for photon statistics the
conditional ⟨n⟩ and ⟨n²⟩ of each trajectory's state — so means, variances and the covariance
of the two means follow, and derived quantities (Mandel Q, g2(0), Tf/Tb, efficiency) get
delta-method standard errors.  Sums add exactly, so results of blocks merge with ``+``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_SUMS = ("count", "sx", "sy", "sxx", "syy", "sxy")
#: Trajectory with global index i (block · block_size + its index in the block) also adds its
#: record contributions into batch i % NBATCH (:class:`Batches`).
NBATCH = 32
#: Click correlations are kept for atom pairs (k, k + j), j = 1 … NLAG.
NLAG = 16
#: Mandel Q and g2 rest on ⟨n(n−1)⟩, i.e. on states with n ≥ 2.  ``q_support`` = Σ over
#: trajectories of the fraction of their steady-state probability at n ≥ 2 ("trajectories'
#: worth" of two-photon samples); below this many, the batch-means error of Q is not trusted.
Q_SUPPORT_MIN = 20.0


@dataclass
class Moments:
    """Sums of independent per-trajectory pairs (x, y) at ``P`` record points.

    Attributes
    ----------
    count, sx, sy, sxx, syy, sxy : ndarray, shape (P,) or (B, P)
        Number of pairs and the sums of x, y, x², y², x·y (with a leading batch axis B in
        :class:`Batches`).
    hist : ndarray, shape (P, L) or (B, P, L)
        Summed photon-number probabilities of the conditional states; ``L`` grows on demand.
    """

    count: np.ndarray
    sx: np.ndarray
    sy: np.ndarray
    sxx: np.ndarray
    syy: np.ndarray
    sxy: np.ndarray
    hist: np.ndarray

    @classmethod
    def zeros(cls, points: int, levels: int = 1) -> Moments:
        """Empty sums for ``points`` record points and ``levels`` histogram bins."""
        z = [np.zeros(points) for _ in _SUMS]
        return cls(*z, hist=np.zeros((points, levels)))

    @property
    def points(self) -> int:
        """Number of record points."""
        return self.count.shape[-1]

    def add(self, j: int, x: np.ndarray, y: np.ndarray) -> None:
        """Add the pairs ``(x[i], y[i])`` of several trajectories at record point ``j``."""
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        self.count[j] += x.size
        self.sx[j] += x.sum()
        self.sy[j] += y.sum()
        self.sxx[j] += (x * x).sum()
        self.syy[j] += (y * y).sum()
        self.sxy[j] += (x * y).sum()

    def add_hist(self, j: int, n: np.ndarray, weights: np.ndarray | None = None) -> None:
        """Add probability ``weights`` (default 1) at photon numbers ``n`` to point ``j``."""
        n = np.asarray(n, dtype=np.int64)
        if n.size == 0:
            return
        counts = np.bincount(n, weights=weights)
        self._grow(counts.size)
        self.hist[j, : counts.size] += counts

    def add_hist_dense(self, j: int, probs: np.ndarray) -> None:
        """Add photon-number distributions ``probs`` (shape (B, L)) summed over B at ``j``."""
        total = np.asarray(probs, dtype=float).reshape(-1, np.shape(probs)[-1]).sum(axis=0)
        self._grow(total.size)
        self.hist[j, : total.size] += total

    def add_fock_mixture(self, j: int, n: np.ndarray, w_up: np.ndarray) -> None:
        """Add states that hold ``n`` photons with probability 1 − w_up and n + 1 with w_up.

        This is the cavity of a Fock-path trajectory (a Fock state between atoms, a
        two-level mixture during an interaction); pass ``w_up = 0`` for Fock states.
        """
        n = np.asarray(n, dtype=float)
        w = np.asarray(w_up, dtype=float)
        self.add(j, n + w, n * n + w * (2.0 * n + 1.0))
        ni = n.astype(np.int64)
        self.add_hist(j, ni, 1.0 - w)
        self.add_hist(j, ni + 1, w)

    def _grow(self, levels: int) -> None:
        if levels > self.hist.shape[-1]:
            pad = [(0, 0)] * (self.hist.ndim - 1) + [(0, levels - self.hist.shape[-1])]
            self.hist = np.pad(self.hist, pad)

    def __add__(self, other: Moments) -> Moments:
        if self.count.shape != other.count.shape:
            raise ValueError(
                f"cannot merge {self.count.shape} with {other.count.shape} record points"
            )
        levels = max(self.hist.shape[-1], other.hist.shape[-1])
        h = np.zeros((*self.count.shape, levels))
        h[..., : self.hist.shape[-1]] += self.hist
        h[..., : other.hist.shape[-1]] += other.hist
        return Moments(*(getattr(self, k) + getattr(other, k) for k in _SUMS), hist=h)

    def to_arrays(self, prefix: str) -> dict[str, np.ndarray]:
        """Flat ``{prefix_name: array}`` mapping for file storage."""
        out = {f"{prefix}_{k}": getattr(self, k) for k in _SUMS}
        out[f"{prefix}_hist"] = self.hist
        return out

    @classmethod
    def from_arrays(cls, arrays: dict, prefix: str) -> Moments:
        """Inverse of :meth:`to_arrays`."""
        return cls(
            *(np.asarray(arrays[f"{prefix}_{k}"], dtype=float) for k in _SUMS),
            hist=np.asarray(arrays[f"{prefix}_hist"], dtype=float),
        )

    def mean_cov(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Means of x and y and the variances / covariance of those means (per point)."""
        n = self.count
        with np.errstate(invalid="ignore", divide="ignore"):
            mx, my = self.sx / n, self.sy / n
            dof = n * (n - 1.0)
            vx = (self.sxx - n * mx * mx) / dof
            vy = (self.syy - n * my * my) / dof
            cxy = (self.sxy - n * mx * my) / dof
        return mx, my, np.maximum(vx, 0.0), np.maximum(vy, 0.0), cxy

    def photon_estimates(self, omega: float) -> dict[str, np.ndarray]:
        """Photon statistics with standard errors, from x = ⟨n⟩ and y = ⟨n²⟩ per trajectory.

        Returns n_mean, n_mean_err, n_var, mandel_q, mandel_q_err, g2, g2_err, Tf_over_Tb,
        Tf_over_Tb_err, efficiency, efficiency_err (arrays over record points).
        Derived errors use the delta method with the covariance of the two means.
        """
        m, s, vm, vs, c = self.mean_cov()

        def err(dm, ds):
            return np.sqrt(np.maximum(dm * dm * vm + ds * ds * vs + 2.0 * dm * ds * c, 0.0))

        with np.errstate(invalid="ignore", divide="ignore"):
            var = s - m * m
            q = s / m - m - 1.0
            g2 = (s - m) / (m * m)
            log1 = np.log1p(1.0 / m)
            tf = omega / log1
            dtf = omega / (log1 * log1) / (m * (m + 1.0))
            eff = 1.0 - log1 / omega
            deff = 1.0 / (omega * m * (m + 1.0))
            return {
                "n_mean": m,
                "n_mean_err": np.sqrt(vm),
                "n_var": var,
                "mandel_q": q,
                "mandel_q_err": err(-s / (m * m) - 1.0, 1.0 / m),
                "g2": g2,
                "g2_err": err((-1.0 * m * m - 2.0 * m * (s - m)) / m**4, 1.0 / (m * m)),
                "Tf_over_Tb": tf,
                "Tf_over_Tb_err": np.abs(dtf) * np.sqrt(vm),
                "efficiency": eff,
                "efficiency_err": np.abs(deff) * np.sqrt(vm),
            }

    def ratio_estimate(self) -> tuple[np.ndarray, np.ndarray]:
        """Ratio Σx/Σy with its delta-method standard error (e.g. clicks excited / detected)."""
        mx, my, vx, vy, c = self.mean_cov()
        with np.errstate(invalid="ignore", divide="ignore"):
            r = mx / my
            e = np.sqrt(np.maximum(vx / my**2 + r * r * vy / my**2 - 2 * r * c / my**2, 0.0))
        return r, e


#: The record blocks that keep batch sums (:class:`Batches`).
BATCHED = ("time", "arrival", "steady_time", "steady_arrival")


@dataclass
class Batches:
    """Record sums split into :data:`NBATCH` batches of trajectories (i → batch i % NBATCH).

    Each attribute is a :class:`Moments` with a leading batch axis: sums of shape (NB, P) and
    a histogram of shape (NB, P, L), P = samples for ``time`` / ``arrival`` and 1 for the
    steady blocks.  The batch sums of a record add up to its totals (to rounding).
    """

    time: Moments
    arrival: Moments
    steady_time: Moments
    steady_arrival: Moments

    def __add__(self, other: Batches) -> Batches:
        return Batches(**{k: getattr(self, k) + getattr(other, k) for k in BATCHED})

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Flat ``{batch_<block>_<sum>: array}`` mapping for file storage."""
        out = {}
        for k in BATCHED:
            out.update(getattr(self, k).to_arrays(f"batch_{k}"))
        return out

    @classmethod
    def from_arrays(cls, arrays: dict) -> Batches | None:
        """Inverse of :meth:`to_arrays`; None when the arrays are absent (older files)."""
        if any(f"batch_{k}_count" not in arrays for k in BATCHED):
            return None
        return cls(**{k: Moments.from_arrays(arrays, f"batch_{k}") for k in BATCHED})

    def means(self, which: str) -> dict[str, np.ndarray]:
        """Per-batch means of x = ⟨n⟩, y = ⟨n²⟩ and p(n) over the batch's trajectories.

        Returns ``{"count": (NB,), "n": (NB, P), "n2": (NB, P), "p": (NB, P, L)}``; a batch
        without trajectories gives NaN means.

        Raises
        ------
        ValueError
            If ``which`` is not one of time, arrival, steady_time, steady_arrival.
        """
        if which not in BATCHED:
            raise ValueError(f"unknown record block {which!r}; allowed: {', '.join(BATCHED)}")
        m = getattr(self, which)
        with np.errstate(invalid="ignore", divide="ignore"):
            return {
                "count": m.count[:, 0].copy(),
                "n": m.sx / m.count,
                "n2": m.sy / m.count,
                "p": m.hist / m.count[..., None],
            }
