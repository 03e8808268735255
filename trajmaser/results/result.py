"""The mergeable outcome of a set of trajectories: every record point's running sums."""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from trajmaser.results.moments import NLAG, Q_SUPPORT_MIN, Batches, Moments


@dataclass
class Result:
    """Mergeable outcome of a set of trajectories.

    Attributes
    ----------
    times : ndarray
        Sample times (s).
    arrival_index : ndarray of int
        Atom indices whose arrival records are kept.
    omega : float
        Ω/Tb, converts n̄ to Tf/Tb.
    time, arrival : Moments
        Conditional ⟨n⟩, ⟨n²⟩ and photon histograms at the sample times / just before atoms.
    steady_time, steady_arrival : Moments
        One point: each trajectory's own steady-state averages (one batch per trajectory).
    clicks : Moments
        One point: per trajectory x = detected atoms found excited, y = detected atoms, over
        the steady window.
    click_counts : Moments
        One point: per trajectory x = N_e (detected atoms found excited in the steady
        window) and y = N_e², so ``photon_estimates`` gives the atoms' Mandel Q_a.
    ntraj, passages : int
        Trajectories and atom passages summed in.
    click_pairs : Moments or None
        NLAG points, lag j = 1 … NLAG: per trajectory x_j = atom pairs (k, k + j) of the
        steady window with k detected excited and k + j detected excited, y_j = pairs with k
        detected excited and k + j detected.  None in files that predate it.
    batches : Batches or None
        The time, arrival and steady records split into NBATCH batches of trajectories.
        None in files that predate it, or after merging with a result without batches.
    """

    times: np.ndarray
    arrival_index: np.ndarray
    omega: float
    time: Moments
    arrival: Moments
    steady_time: Moments
    steady_arrival: Moments
    clicks: Moments
    click_counts: Moments
    ntraj: int = 0
    passages: int = 0
    click_pairs: Moments | None = None
    batches: Batches | None = None

    @classmethod
    def empty(cls, times: np.ndarray, arrival_index: np.ndarray, omega: float) -> Result:
        """A result with no trajectories yet."""
        s = len(times)
        return cls(
            times=np.asarray(times, dtype=float),
            arrival_index=np.asarray(arrival_index, dtype=np.int64),
            omega=float(omega),
            time=Moments.zeros(s),
            arrival=Moments.zeros(s),
            steady_time=Moments.zeros(1),
            steady_arrival=Moments.zeros(1),
            clicks=Moments.zeros(1),
            click_counts=Moments.zeros(1),
        )

    def __add__(self, other: Result) -> Result:
        if not (
            np.array_equal(self.times, other.times)
            and np.array_equal(self.arrival_index, other.arrival_index)
            and self.omega == other.omega
        ):
            raise ValueError("cannot merge results with different record grids")
        return Result(
            times=self.times,
            arrival_index=self.arrival_index,
            omega=self.omega,
            ntraj=self.ntraj + other.ntraj,
            passages=self.passages + other.passages,
            click_pairs=_add_optional(self.click_pairs, other.click_pairs),
            batches=_add_optional(self.batches, other.batches),
            **{k: getattr(self, k) + getattr(other, k) for k in _MOMENTS},
        )

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Flat mapping of numpy arrays (for ``.npz`` files)."""
        out = {
            "times": self.times,
            "arrival_index": self.arrival_index,
            "omega": np.array(self.omega),
            "ntraj": np.array(self.ntraj),
            "passages": np.array(self.passages),
        }
        for k in _MOMENTS:
            out.update(getattr(self, k).to_arrays(k))
        if self.click_pairs is not None:
            out.update(self.click_pairs.to_arrays("click_pairs"))
        if self.batches is not None:
            out.update(self.batches.to_arrays())
        return out

    @classmethod
    def from_arrays(cls, arrays: dict) -> Result:
        """Inverse of :meth:`to_arrays`."""
        return cls(
            times=np.asarray(arrays["times"], dtype=float),
            arrival_index=np.asarray(arrays["arrival_index"], dtype=np.int64),
            omega=float(arrays["omega"]),
            ntraj=int(arrays["ntraj"]),
            passages=int(arrays["passages"]),
            click_pairs=(
                Moments.from_arrays(arrays, "click_pairs")
                if "click_pairs_count" in arrays
                else None
            ),
            batches=Batches.from_arrays(arrays),
            **{k: Moments.from_arrays(arrays, k) for k in _MOMENTS},
        )

    def batch_means(self, which: str) -> dict[str, np.ndarray]:
        """Per-batch means of ⟨n⟩, ⟨n²⟩ and p(n) of one record block (see
        :meth:`Batches.means`); ``which`` in {"time", "arrival", "steady_time",
        "steady_arrival"}.

        Raises
        ------
        ValueError
            If the result holds no batch sums, or ``which`` is unknown.
        """
        if self.batches is None:
            raise ValueError("this result holds no batch sums (a file from trajmaser 0.1)")
        return self.batches.means(which)

    def series(self) -> dict:
        """Time series with errors: ``{"time": {"t", ...}, "arrival": {"atom", ...}}``.

        Each block holds the :meth:`Moments.photon_estimates` quantities as lists, at the
        sample times ``t`` (s) and just before the atoms with index ``atom``.
        """

        def block(m: Moments) -> dict:
            return {k: v.tolist() for k, v in m.photon_estimates(self.omega).items()}

        return {
            "time": {"t": self.times.tolist(), **block(self.time)},
            "arrival": {"atom": self.arrival_index.tolist(), **block(self.arrival)},
        }

    def summary(self) -> dict:
        """Steady-state summary: both steady blocks and the clicks, as plain floats."""

        def block(m: Moments) -> dict:
            est = {k: float(v[0]) for k, v in m.photon_estimates(self.omega).items()}
            est["q_support"] = float(m.hist[0, 2:].sum())
            est["q_reliable"] = est["q_support"] >= Q_SUPPORT_MIN
            return est

        p_e, p_e_err = self.clicks.ratio_estimate()
        counts = self.click_counts.photon_estimates(self.omega)
        out = {
            "ntraj": int(self.ntraj),
            "passages": int(self.passages),
            "steady": {"arrival": block(self.steady_arrival), "time": block(self.steady_time)},
            "clicks": {
                "p_e": float(p_e[0]),
                "p_e_err": float(p_e_err[0]),
                "detected": float(self.clicks.sy[0]),
                "mandel_q": float(counts["mandel_q"][0]),
                "mandel_q_err": float(counts["mandel_q_err"][0]),
            },
        }
        if self.click_pairs is not None:
            p_ee, p_ee_err = self.click_pairs.ratio_estimate()
            out["clicks"]["correlation"] = {
                "lag": list(range(1, NLAG + 1)),
                "p_ee": [float(v) for v in p_ee],
                "p_ee_err": [float(v) for v in p_ee_err],
            }
        return out


_MOMENTS = tuple(f.name for f in fields(Result) if f.type in ("Moments", Moments))


def _add_optional(a, b):
    """a + b, or None when either is None."""
    return None if a is None or b is None else a + b
