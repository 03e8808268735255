"""The mergeable outcome of a set of trajectories: every record point's running sums."""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from trajmaser.results.moments import Q_SUPPORT_MIN, Moments


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
            **{k: Moments.from_arrays(arrays, k) for k in _MOMENTS},
        )

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
        """Steady-state summary in the SPEC §7 layout (plain floats)."""

        def block(m: Moments) -> dict:
            est = {k: float(v[0]) for k, v in m.photon_estimates(self.omega).items()}
            est["q_support"] = float(m.hist[0, 2:].sum())
            est["q_reliable"] = est["q_support"] >= Q_SUPPORT_MIN
            return est

        p_e, p_e_err = self.clicks.ratio_estimate()
        counts = self.click_counts.photon_estimates(self.omega)
        return {
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


_MOMENTS = tuple(f.name for f in fields(Result) if f.type in ("Moments", Moments))
