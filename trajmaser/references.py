"""User references: files (CSV / .npy) and solver outputs (qutip ``Qobj`` or arrays), checked.

Everything a user hands in is validated here with errors that name the offending rows or
states and say what is allowed; the result is a
:class:`~trajmaser.agreement.FamilyReference` (moments and, when given, p(n)).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from trajmaser.batchmeans import FamilyReference, reference_from_rows

TIME_RTOL = 1e-9
SUM_TOL = 1e-6
NEG_TOL = 1e-10
_LIST = 8  # rows named in a message


def _rows_text(rows, times=None) -> str:
    rows = list(rows)

    def one(r):
        if times is None or not np.isfinite(times[r]):
            return f"{r + 1}"
        return f"{r + 1} (t = {times[r]:.6g})"

    shown = ", ".join(one(r) for r in rows[:_LIST])
    more = f" and {len(rows) - _LIST} more" if len(rows) > _LIST else ""
    return f"row{'s' if len(rows) > 1 else ''} {shown}{more}"


# ---------------------------------------------------------------- distributions
def check_distributions(p: np.ndarray, what: str, names=None) -> np.ndarray:
    """Check rows of p(n): finite, non-negative (to 1e-10) and summing to 1 (to 1e-6).

    ``names(i)`` words row i in messages (default "row i+1").  Returns p clipped at 0.
    """
    p = np.atleast_2d(np.asarray(p, dtype=float))
    name = names or (lambda i: f"row {i + 1}")
    finite = np.where(np.isfinite(p), p, 0.0)
    checks = (
        (~np.isfinite(p).all(axis=1), "holds NaN or inf"),
        (finite.min(axis=1) < -NEG_TOL, "has negative probabilities"),
        (np.abs(finite.sum(axis=1) - 1.0) > SUM_TOL, f"does not sum to 1 (to {SUM_TOL:g})"),
    )
    for bad, why in checks:
        if bad.any():
            idx = np.nonzero(bad)[0]
            listed = ", ".join(name(i) for i in idx[:_LIST])
            more = f" and {idx.size - _LIST} more" if idx.size > _LIST else ""
            raise ValueError(f"{what}: {listed}{more} {why}; p(n) rows must be probabilities")
    return np.clip(p, 0.0, None)


def state_to_distribution(state, what: str) -> np.ndarray:
    """p(n) of a cavity state: a qutip ket or density matrix, or an array.

    Arrays: 1-D is p(n); 2-D square is a density matrix.  A density matrix must be square,
    Hermitian (to 1e-8), of unit trace (to 1e-6) with a non-negative diagonal; a ket must be
    normalised.  Composite (atom ⊗ cavity) qutip states are refused with the fix.
    """
    if hasattr(state, "full") and hasattr(state, "dims"):  # qutip Qobj
        dims = state.dims
        if len(dims[0]) > 1:
            raise ValueError(
                f"{what}: a composite state with dims {dims}; pass the cavity state alone, "
                "e.g. rho.ptrace(1) for atom ⊗ cavity"
            )
        if state.isket:
            vec = state.full().ravel()
            return check_distributions(np.abs(vec) ** 2, what, lambda i: "the ket's |amplitudes|²")[
                0
            ]
        if not state.isoper:
            raise ValueError(f"{what}: a qutip {state.type}; expected a ket or a density matrix")
        arr = state.full()
    else:
        arr = np.asarray(state)
        if arr.ndim == 1:
            return check_distributions(arr.real if np.iscomplexobj(arr) else arr, what)[0]
        if arr.ndim != 2 or arr.shape[0] != arr.shape[1]:
            raise ValueError(
                f"{what}: an array of shape {arr.shape}; expected p(n) (1-D), a density "
                "matrix (square) or a qutip Qobj"
            )
    if not np.isfinite(arr).all():
        raise ValueError(f"{what}: the density matrix holds NaN or inf")
    scale = max(1.0, float(np.abs(arr).max()))
    if np.abs(arr - arr.conj().T).max() > 1e-8 * scale:
        raise ValueError(f"{what}: the density matrix is not Hermitian")
    return check_distributions(np.real(np.diag(arr)), what, lambda i: "its diagonal")[0]


def states_to_rows(states, times, what: str = "solver output") -> np.ndarray:
    """Stack the p(n) of ``states`` (one per time) into rows padded to a common length."""
    times = np.asarray(times, dtype=float)
    if isinstance(states, np.ndarray) and states.ndim == 2 and states.shape[0] == times.size:
        rows = [states[i] for i in range(times.size)]
    else:
        rows = list(states)
    if len(rows) != times.size:
        raise ValueError(f"{what}: {len(rows)} states for {times.size} times; one per time")
    dists = [
        state_to_distribution(s, f"{what} {i} (t = {times[i]:.6g})") for i, s in enumerate(rows)
    ]
    width = max(d.size for d in dists)
    out = np.zeros((len(dists), width))
    for i, d in enumerate(dists):
        out[i, : d.size] = d
    return out


# ---------------------------------------------------------------- files
def _read_table(path: Path) -> tuple[list[str], np.ndarray]:
    if path.suffix == ".npy":
        data = np.load(path, allow_pickle=False)
        if data.ndim != 2 or data.shape[1] < 2:
            raise ValueError(
                f"{path}: expected a 2-D array with columns (time, n_mean[, n_var]) or "
                f"(time, p0, p1, ...), got shape {data.shape}"
            )
        if data.shape[1] <= 3:
            head = ["time", "n_mean", "n_var"][: data.shape[1]]
        else:
            head = ["time"] + [f"p{i}" for i in range(data.shape[1] - 1)]
        return head, np.asarray(data, dtype=float)
    if path.suffix != ".csv":
        raise ValueError(f"{path}: reference must be a .csv or .npy file")
    with open(path) as fh:
        head = [h.strip() for h in fh.readline().strip().split(",")]
    plist = ["time"] + [f"p{i}" for i in range(len(head) - 1)]
    if head not in (["time", "n_mean"], ["time", "n_mean", "n_var"]) and head != plist:
        raise ValueError(
            f"{path}: CSV header must be 'time,n_mean[,n_var]' or 'time,p0,p1,...', got {head}"
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # empty file: reported below
            data = np.genfromtxt(path, delimiter=",", skip_header=1, ndmin=2)
    except ValueError as exc:
        raise ValueError(f"{path}: rows must have {len(head)} numbers: {exc}") from None
    if data.size == 0:
        raise ValueError(f"{path}: no data rows")
    if data.shape[1] != len(head):
        raise ValueError(f"{path}: {data.shape[1]} columns for a {len(head)}-column header")
    return head, data


def _align(path: Path, t: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Row of the reference for every sample time; errors name unsorted/missing/extra rows."""
    down = np.nonzero(np.diff(t) <= 0)[0]
    if down.size:
        raise ValueError(
            f"{path}: times must increase; {_rows_text(down + 1, t)} not after the row before"
        )
    near = np.abs(t[:, None] - times[None, :]) <= TIME_RTOL * np.abs(times)[None, :]
    missing = np.nonzero(~near.any(axis=0))[0]
    extra = np.nonzero(~near.any(axis=1))[0]
    if missing.size or extra.size:
        msg = [
            f"{path}: reference times do not match the {times.size} sample times "
            f"(to {TIME_RTOL:g} relative; nothing is interpolated)"
        ]
        if missing.size:
            listed = ", ".join(f"{times[j]:.17g}" for j in missing[:_LIST])
            msg.append(f"no row for {missing.size} sample time(s): {listed}")
        if extra.size:
            msg.append(f"{_rows_text(extra, t)} match no sample time")
        msg.append("print the sample times with `trajmaser compare OUT --print-times`")
        raise ValueError("; ".join(msg))
    return np.argmax(near, axis=0)


def load_reference(path: str | Path, times) -> FamilyReference:
    """Read a user reference at the sample ``times`` of a result.

    Parameters
    ----------
    path : str or Path
        ``.csv`` with header ``time,n_mean[,n_var]`` or ``time,p0,p1,…``; or ``.npy`` with
        columns (time, n_mean[, n_var]) (2 or 3 columns) or (time, p0, p1, …) (≥ 4 columns).
    times : array_like
        The result's sample times; every one needs a row (to 1e-9 relative).

    Returns
    -------
    FamilyReference
        Of the ``time`` family: ``n``, ``n2`` (from n_var or p) and ``p`` when given.

    Raises
    ------
    ValueError
        Naming the rows that hold NaN/inf, are out of order, match no sample time, or are not
        probabilities; and the sample times without a row.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"reference file {path} does not exist")
    head, data = _read_table(path)
    times = np.asarray(times, dtype=float)
    bad = np.nonzero(~np.isfinite(data).all(axis=1))[0]
    if bad.size:
        what = (
            "every row holds"
            if bad.size == data.shape[0]
            else f"{_rows_text(bad, data[:, 0])} hold"
        )
        raise ValueError(f"{path}: {what} NaN or inf; a reference needs finite numbers")
    t_file = data[:, 0].copy()
    order = _align(path, t_file, times)
    data = data[order]
    if head[1] != "n_mean":
        p = check_distributions(data[:, 1:], str(path), lambda i: _rows_text([order[i]], t_file))
        return reference_from_rows(p, times)
    n = data[:, 1]
    if (n < 0).any():
        raise ValueError(f"{path}: {_rows_text(np.nonzero(n < 0)[0], times)} have n_mean < 0")
    n2 = None
    if len(head) == 3:
        if (data[:, 2] < 0).any():
            raise ValueError(
                f"{path}: {_rows_text(np.nonzero(data[:, 2] < 0)[0], times)} have n_var < 0"
            )
        n2 = data[:, 2] + n * n
    return FamilyReference(n=n, n2=n2, p=None, label=times)


# ---------------------------------------------------------------- initial states
def initial_field(state, what: str = "initial state"):
    """An :class:`~trajmaser.params.InitialField` from a qutip state or an array.

    A ket (qutip or 1-D complex amplitudes via ``Qobj``) becomes ``ket``; p(n) (1-D real
    array) or a diagonal density matrix becomes ``state`` (a mixture of Fock states); a pure
    density matrix with coherences becomes the ``ket`` of its eigenvector.  A mixed density
    matrix with coherences is refused: trajectories start from a ket or from Fock states.
    """
    from trajmaser.params import InitialField

    if hasattr(state, "full") and getattr(state, "isket", False):
        if len(state.dims[0]) > 1:
            state_to_distribution(state, what)  # raises the composite-state message
        amp = state.full().ravel()
        check_distributions(np.abs(amp) ** 2, what, lambda i: "the ket's |amplitudes|²")
        return InitialField("ket", state=tuple(complex(a) for a in _trim(amp)))
    p = state_to_distribution(state, what)  # validates Qobj / arrays
    arr = state.full() if hasattr(state, "full") else np.asarray(state)
    if arr.ndim == 1 or np.abs(arr - np.diag(np.diag(arr))).max() <= 1e-12:
        return InitialField("state", state=tuple(float(x) for x in _trim(p)))
    w, v = np.linalg.eigh(arr)
    if w[-1] < 1.0 - 1e-9:
        raise ValueError(
            f"{what}: a mixed density matrix with coherences (largest eigenvalue {w[-1]:.6g}); "
            "trajectories start from a pure state (ket) or a diagonal p(n)"
        )
    amp = v[:, -1] * np.exp(-1j * np.angle(v[np.argmax(np.abs(v[:, -1])), -1]))
    return InitialField("ket", state=tuple(complex(a) for a in _trim(amp)))


def _trim(x: np.ndarray) -> np.ndarray:
    nz = np.nonzero(np.abs(x) > 0)[0]
    return x[: nz[-1] + 1] if nz.size else x[:1]


def load_initial(path: str | Path):
    """The initial cavity state of a ``.npy`` file: p(n) (1-D) or a density matrix (2-D)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"initial state file {path} does not exist")
    return initial_field(np.load(path, allow_pickle=False), f"initial state {path}")
