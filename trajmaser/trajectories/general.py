"""General-path trajectory kernel (docs/PHYSICS.md): coherent atoms, coherent field, detuning.

The atom–cavity state is a vector in a truncated Fock space, stored in *block layout*: two
complex arrays ``ce, cg`` of length nmax + 2 where ``cg[n]`` = ⟨g,n|ψ⟩ (n = 0 … nmax) and
``ce[k]`` = ⟨e,k−1|ψ⟩ (``ce[0]`` ≡ 0).  Entry k pairs {|e,k−1⟩, |g,k⟩}, the excitation blocks of
H_eff = (Δ/2)σz + g(σ+a + σ−a†) − (i/2)Σ c†c, c ∈ {√γ σ−, √(κ(1+n_b)) a, √(κ n_b) a†}, whose
analytic 2×2 propagators come from :mod:`trajmaser.blocks`.  The last entry holds |e,nmax⟩
alone: the Fock space is cut at nmax, its coupling to |g,nmax+1⟩ is dropped, and a run stops
with a :class:`~trajmaser.params.ConfigError` naming ``[run] nmax`` when the photon-number
probability at nmax, averaged over the block's arrivals, exceeds :data:`TOP_TOL`, or when it
exceeds :data:`TOP_MAX` in any one conditional state (checked before every atom and at every
record).

Between atoms the cavity alone is stored in ``cg`` (``ce`` ≡ 0) and evolves with the diagonal
H_eff = −(i/2)κ[(1+n_b)n + n_b(n+1)] and the jumps a, a†.  Jump times invert the analytic
no-jump norm exactly (:func:`trajmaser.blocks.jump_time_blocks`); the threshold u is carried
across segments as u / N(t) (the conditional uniform), so a passage without a jump costs one
pass over the cavity's occupied levels (the diagonal gap factor fused with the precomputed
full-τ block product) and the exit measurement.  The occupied levels [lo, hi] are tracked:
amplitudes outside are exactly zero and stay so (the blocks couple neighbouring levels only),
and after each exit the edge levels with p(n) ≤ :data:`SUPPORT_TOL` · ‖ψ‖² are set to zero, so a
passage costs O(hi − lo), not O(nmax).  Segments are split exactly at record times.  Atom
pure states are the eigenvectors of ρ0; one uniform per passage picks the atom's state and,
rescaled, decides its exit measurement.  As on the Fock path, atoms keep arriving until every
record (up to T) is taken, a record within a few ulps after an arrival (``SNAP``) is taken
before it, and the steady arrival window and the clicks count atoms k in [burn_in, atoms).
"""

from __future__ import annotations

import math

import numpy as np

from trajmaser import blocks, pump
from trajmaser.params import ConfigError, Model, RunParams
from trajmaser.rules import check_atom_state, check_detector_efficiency, check_model
from trajmaser.trajectories import cancel
from trajmaser.trajectories.general_kernel import (
    INIT_THERMAL,
    INIT_VECTOR,
    TOP_MAX,
    TOP_TOL,
    GeneralParams,
    run_general,
)
from trajmaser.trajectories.general_steps import (
    CUT_MEAN,
    CUT_STATE,
    ST_ARRIVALS,
    ST_CODE,
    ST_SIZE,
    ST_TOP,
    ST_TOP_SUM,
    ST_TRAJ,
)
from trajmaser.trajectories.records import STOP_NONFINITE, RawAccumulators, RecordPlan

__all__ = [
    "SUPPORT_TOL",
    "TOP_MAX",
    "TOP_TOL",
    "atom_eigenstates",
    "choose_nmax",
    "run_general_block",
]

_TAIL = 1e-14  # tail probability the automatic nmax aims for
SUPPORT_TOL = 1e-32  # edge levels with p(n) ≤ this · ‖ψ‖² (|amplitude| ≤ 1e-16) are dropped


# ----------------------------------------------------------------- set-up (plain Python)
def atom_eigenstates(pe: float, coherence: complex) -> tuple[np.ndarray, np.ndarray]:
    """Eigen-decomposition of ρ0 = [[pe, c], [c*, 1 − pe]] in the {e, g} basis.

    Returns
    -------
    probs : ndarray, shape (2,)
        Eigenvalues (probabilities of the two pure states, summing to 1).
    amps : ndarray, shape (2, 2), complex
        Row i holds the amplitudes (⟨e|v_i⟩, ⟨g|v_i⟩) of eigenvector i.

    Raises
    ------
    ValueError
        If ρ0 is not a density matrix: pe outside [0, 1] or |c|² > pe(1 − pe).
    """
    check_atom_state(pe, coherence)
    c = complex(coherence)
    rho = np.array([[pe, c], [c.conjugate(), 1.0 - pe]], dtype=complex)
    w, v = np.linalg.eigh(rho)
    w = np.clip(w.real, 0.0, None)
    return w / w.sum(), np.ascontiguousarray(v.T)


def choose_nmax(model: Model, run: RunParams) -> int:
    """Fock cut-off of the general path: ``run.nmax`` if set, else an automatic estimate.

    The automatic choice takes the larger of the initial n̄ and the coarse-grained steady
    estimate n̄_ss = (α pe + κ n_b)/(α(1 − 2pe) + κ), α = r(gτ)² (paper Eq. 4, exact at
    κ = γ = 0 where the steady state is thermal at Tq), plus the coherent drive of atoms with
    coherence c, |⟨a⟩| ≈ 2 r gτ|c| / (α(1 − 2pe) + κ); it returns the n where a thermal tail at
    that n̄ falls below 1e-14 (and at least n̄ + 12√n̄ + 12, a Poisson-like margin).  The run
    still stops with a clear error if the cut-off is reached.

    Raises
    ------
    ConfigError
        If no steady state exists (gain ≥ loss) and ``[run] nmax`` is not given.
    """
    if run.nmax is not None:
        if int(run.nmax) < 1:
            raise ConfigError(f"[run] nmax must be >= 1, got {run.nmax}")
        return int(run.nmax)
    alpha = model.rate * (model.g * model.tau) ** 2
    relax = alpha * (1.0 - 2.0 * model.pe) + model.kappa
    if relax <= 0.0:
        raise ConfigError(
            "general path: no steady state (pe >= 1/2 and alpha(1-2pe)+kappa <= 0), so the "
            "Fock cut-off cannot be estimated; set [run] nmax explicitly"
        )
    n_ss = (alpha * model.pe + model.kappa * model.nbar_bath) / relax
    n_ss += (2.0 * model.rate * model.g * model.tau * abs(model.coherence) / relax) ** 2
    n_ref = max(n_ss, model.nbar_initial)
    n = n_ref + 12.0 * math.sqrt(n_ref) + 12.0
    if n_ref > 0.0:
        n = max(n, math.log(_TAIL) / math.log(n_ref / (1.0 + n_ref)))
    if model.initial.kind == "fock":
        n = max(n, model.initial.value + 12.0 * math.sqrt(model.initial.value + 1.0))
    if model.initial.kind in ("state", "ket"):
        n = max(n, len(model.initial.state) + 12.0)
    return int(math.ceil(n))


def _initial_vector(model: Model, nmax: int) -> tuple[int, np.ndarray, float]:
    """Initial cavity as (kind code, amplitude vector of length nmax + 2, thermal n̄)."""
    init = model.initial
    amp = np.zeros(nmax + 2, dtype=complex)
    if init.kind == "thermal":
        return INIT_THERMAL, amp, model.nbar_initial
    if init.kind == "vacuum":
        amp[0] = 1.0
    elif init.kind == "fock":
        n0 = int(init.value)
        if n0 > nmax:
            raise ConfigError(f"initial fock:{n0} lies above the cut-off; raise [run] nmax")
        amp[n0] = 1.0
    elif init.kind == "coherent":
        alpha = float(init.value)
        amp[0] = math.exp(-0.5 * alpha * alpha)
        for n in range(1, nmax + 1):
            amp[n] = amp[n - 1] * alpha / math.sqrt(n)
    elif init.kind == "ket":
        given = np.asarray(init.state, dtype=complex)
        if np.sum(np.abs(given[nmax + 1 :]) ** 2) > 1e-12:
            raise ConfigError("the initial ket has weight above the cut-off; raise [run] nmax")
        amp[: min(given.size, nmax + 1)] = given[: nmax + 1]
    elif init.kind == "state":
        raise ConfigError(
            "an initial p(n) mixture runs on the Fock path only (diagonal atoms); with "
            "coherent atoms give a pure initial state (a ket)"
        )
    else:
        raise ConfigError(f"unknown initial field {init.kind!r}")
    return INIT_VECTOR, amp, 0.0


def _block_arrays(model: Model, nmax: int):
    """H_eff block entries (a, b, d) for k = 0 … nmax+1 (k = m + 1) and the gap's diagonal."""
    size = nmax + 2
    a = np.zeros(size, dtype=complex)
    b = np.zeros(size)
    d = np.zeros(size, dtype=complex)
    args = (model.g, model.gamma, model.kappa, model.nbar_bath, model.detuning)
    for k in range(size):
        a[k], b[k], d[k] = blocks.block_coeffs(k - 1, *args)
    b[-1] = 0.0  # |e,nmax> alone: the cut drops |g,nmax+1>
    n = np.arange(size, dtype=float)
    gap = -0.5j * model.kappa * ((1.0 + model.nbar_bath) * n + model.nbar_bath * (n + 1.0))
    return a, b, d, gap, np.zeros(size)


def _full_tau_blocks(a, b, d, amps: np.ndarray, tau: float) -> np.ndarray:
    """Block products of the full-τ propagator with each atom pure state, shape (2, size, 4).

    Entry (i, k) = (u11·ae, u12·ag, u12·ae, u22·ag) for atom state i = (ae, ag), so that block
    k maps (cg[k−1], cg[k]) to (ce[k], cg[k]).
    """
    wfull = np.zeros((2, a.shape[0], 4), dtype=complex)
    for k in range(a.shape[0]):
        u11, u12, u22 = blocks.propagator(a[k], b[k], d[k], tau)
        for i in range(2):
            ae, ag = amps[i]
            wfull[i, k] = (u11 * ae, u12 * ag, u12 * ae, u22 * ag)
    return wfull


# ----------------------------------------------------------------- public entry point
def run_general_block(
    model: Model,
    run: RunParams,
    ntraj: int,
    rng: np.random.Generator,
    plan: RecordPlan,
    levels: int | None = None,
    *,
    first_index: int = 0,
    support_tol: float = SUPPORT_TOL,
) -> RawAccumulators:
    """Run ``ntraj`` general-path trajectories and return their raw record sums.

    Parameters
    ----------
    model : Model
        Physics; any atom coherence, initial field and detuning.
    run : RunParams
        ``nmax`` (Fock cut-off; automatic when None, see :func:`choose_nmax`) and
        ``detector_efficiency`` are used here.
    ntraj : int
        Number of trajectories.
    rng : numpy.random.Generator
        Source of all randomness (advanced in place).
    plan : RecordPlan
        Record grid (sample times, arrival indices, steady window).
    levels : int, optional
        Requested histogram bins; the accumulators get max(levels, nmax + 1) bins, so no
        weight ever overflows.
    first_index : int
        Global index of the first trajectory (trajectory i goes to batch
        (first_index + i) % NBATCH of the batch sums).
    support_tol : float
        After each exit measurement, photon-number levels at the edges of the cavity's
        occupied range whose probability is at most ``support_tol`` are set to zero and the
        kernel works only on the levels in between.  0 keeps every nonzero amplitude.

    Returns
    -------
    RawAccumulators
        With ``stop`` = (STOP_CANCELLED, trajectory) if :data:`trajmaser.trajectories.cancel.FLAG`
        was raised (the driver turns that into :class:`~trajmaser.trajectories.cancel.Cancelled`).

    Raises
    ------
    ConfigError
        If the probability at nmax exceeds :data:`TOP_TOL` (initial field, or mean over the
        block's arrivals) or :data:`TOP_MAX` (one conditional state), or a thermal start
        samples a Fock state above nmax (the message names ``[run] nmax``); if the state
        stops being finite (parameters beyond double range).
    ValueError
        For an impossible atom state or pump.
    """
    check_model(model)
    check_detector_efficiency(run.detector_efficiency)
    if not 0.0 <= support_tol < 1e-12:
        raise ValueError(f"support_tol must be in [0, 1e-12), got {support_tol!r}")
    nmax = choose_nmax(model, run)
    par = _kernel_params(model, run, nmax, support_tol)
    raw = RawAccumulators.zeros(plan.samples, max(int(levels or 0), nmax + 1))
    status = np.zeros(ST_SIZE)
    run_general(int(ntraj), int(first_index), rng, par, plan.kernel_plan(), raw, status,
                cancel.FLAG)  # fmt: skip
    if raw.stop[0] == STOP_NONFINITE:
        raise ConfigError(
            f"general path: the quantum state became NaN/inf in trajectory {int(raw.stop[1])} "
            "of this block: g, gamma, kappa·(1 + nbar_bath)·nmax and detuning (rad/s), times "
            "tau, must stay well below 1e150"
        )
    if status[ST_CODE] == CUT_STATE:
        where = f"trajectory {int(status[ST_TRAJ])} of this block; limit {TOP_MAX:g}"
        raise ConfigError(_cut_message(nmax, status[ST_TOP], where))
    if status[ST_CODE] == CUT_MEAN:
        where = f"the mean over arrivals; limit {TOP_TOL:g}"
        raise ConfigError(_cut_message(nmax, status[ST_TOP_SUM] / status[ST_ARRIVALS], where))
    return raw


def _kernel_params(model: Model, run: RunParams, nmax: int, support_tol: float) -> GeneralParams:
    """The kernel's :class:`GeneralParams`; raises ConfigError for an initial field at nmax."""
    probs, amps = atom_eigenstates(model.pe, model.coherence)
    init_kind, init_amp, nbar0 = _initial_vector(model, nmax)
    top = abs(init_amp[nmax]) ** 2
    if top > TOP_TOL:
        raise ConfigError(_cut_message(nmax, top, f"the initial field; limit {TOP_TOL:g}"))
    a, b, d, gap_a, gap_b = _block_arrays(model, nmax)
    down, up = model.kappa * (1.0 + model.nbar_bath), model.kappa * model.nbar_bath
    return GeneralParams(
        p0=float(probs[0]),
        amps=amps,
        wfull=_full_tau_blocks(a, b, d, amps, model.tau),
        blk=(a, b, d),
        gap_a=gap_a,
        gap_b=gap_b,
        rates=(float(model.gamma), float(down), float(up)),
        pump=pump.kernel_args(model),
        tau=float(model.tau),
        eta=float(run.detector_efficiency),
        init_kind=init_kind,
        init_amp=init_amp,
        init_q=float(nbar0 / (1.0 + nbar0)),
        support_tol=float(support_tol),
    )


def _cut_message(nmax: int, prob: float, where: str) -> str:
    return (
        f"general path: photon-number probability {prob:.3g} at the Fock cut-off nmax = {nmax} "
        f"(in {where}); raise [run] nmax (e.g. nmax = {2 * nmax + 10})"
    )
