"""General-path trajectory kernel (SPEC §5): coherent atoms, coherent field, detuning.

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
precomputed full-τ block product, the exit measurement and one diagonal gap factor: O(nmax).
Segments are split exactly at record times.  Atom pure states are the eigenvectors of ρ0.
As on the Fock path, atoms keep arriving until every record (up to T) is taken; the steady
arrival window and the clicks count atoms k in [burn_in, atoms).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from trajmaser import blocks, pump
from trajmaser.params import ConfigError, Model, RunParams
from trajmaser.rules import check_atom_state, check_detector_efficiency, check_model
from trajmaser.trajectories.fock import _add_pair
from trajmaser.trajectories.records import RawAccumulators, RecordPlan

__all__ = ["TOP_MAX", "TOP_TOL", "atom_eigenstates", "choose_nmax", "run_general_block"]

TOP_TOL = 1e-10  # largest mean photon-number probability at n = nmax (over arrivals)
TOP_MAX = 1e-6  # largest probability at n = nmax in any one conditional state
_TAIL = 1e-14  # tail probability the automatic nmax aims for
_INIT_VECTOR, _INIT_THERMAL = 0, 1


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
        return _INIT_THERMAL, amp, model.nbar_initial
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
    return _INIT_VECTOR, amp, 0.0


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


# ----------------------------------------------------------------- numba kernel
@njit(cache=True)
def _probs(ce, cg, nmax, out):
    """Photon-number probabilities of the (normalised) state into ``out``; returns ⟨n⟩, ⟨n²⟩."""
    tot = 0.0
    for n in range(nmax + 1):
        e = ce[n + 1]
        g = cg[n]
        out[n] = e.real * e.real + e.imag * e.imag + g.real * g.real + g.imag * g.imag
        tot += out[n]
    m1 = 0.0
    m2 = 0.0
    for n in range(nmax + 1):
        out[n] /= tot
        m1 += n * out[n]
        m2 += n * n * out[n]
    return m1, m2


@njit(cache=True)
def _gap_pass(src, shift, scale, x0, x1, cg, nmax):
    """cg[n] = src[n + shift] · scale · x0 · x1^n; returns Σp, Σnp, Σn²p and p at nmax."""
    f = x0 * scale
    s0 = 0.0
    s1 = 0.0
    s2 = 0.0
    p = 0.0
    for n in range(nmax + 1):
        y = src[n + shift] * f
        cg[n] = y
        p = y.real * y.real + y.imag * y.imag
        s0 += p
        s1 += n * p
        s2 += n * n * p
        f *= x1
    cg[nmax + 1] = 0.0
    return s0, s1, s2, p


@njit(cache=True)
def _jump(we, wg, ce, cg, gamma, down, up, rng):
    """Apply one jump (σ−, a or a†, chosen by rate × ⟨c†c⟩) to (we, wg); result in (ce, cg)."""
    size = we.shape[0]
    pe = 0.0
    r_down = 0.0
    r_up = 0.0
    for k in range(size):
        e = we[k].real ** 2 + we[k].imag ** 2
        g = wg[k].real ** 2 + wg[k].imag ** 2
        pe += e
        r_down += (k - 1) * e + k * g if k > 0 else k * g
        r_up += k * e + (k + 1) * g
    r_at = gamma * pe
    r_down *= down
    r_up *= up
    x = rng.random() * (r_at + r_down + r_up)
    ce[:] = 0.0
    cg[:] = 0.0
    if x < r_at:  # σ−: |e,k−1> -> |g,k−1>
        for k in range(1, size):
            cg[k - 1] = we[k]
    elif x < r_at + r_down:  # a
        for k in range(1, size - 1):
            ce[k] = math.sqrt(k) * we[k + 1]
        for k in range(size - 2):
            cg[k] = math.sqrt(k + 1.0) * wg[k + 1]
    else:  # a†; amplitude pushed above the cut is lost (bounded by the cut-off checks)
        for k in range(2, size):
            ce[k] = math.sqrt(k - 1.0) * we[k - 1]
        for k in range(1, size - 1):
            cg[k] = math.sqrt(k) * wg[k - 1]
    nrm = 0.0
    for k in range(size):
        nrm += ce[k].real ** 2 + ce[k].imag ** 2 + cg[k].real ** 2 + cg[k].imag ** 2
    if nrm > 0.0:
        s = 1.0 / math.sqrt(nrm)
        for k in range(size):
            ce[k] *= s
            cg[k] *= s


@njit(cache=True)
def _evolve(t, t_stop, u, ir, a, b, d, ce, cg, we, wg, jr, recs, nrec, out, acc, rng):
    """Exact evolution of the normalised state (ce, cg) from t to t_stop, records included.

    ``recs`` = (rec_t, rec_j); ``out`` = (time, time_hist, probe_hist, probs, status);
    ``acc`` holds the trajectory's probe sums at [0], [1].  Returns (t, u, ir).
    """
    rec_t, rec_j = recs
    time, time_hist, probe_hist, probs, status = out
    nmax = probs.shape[0] - 1
    while True:
        is_rec = ir < nrec and rec_t[ir] <= t_stop
        ts = max(rec_t[ir], t) if is_rec else t_stop
        s = ts - t
        if s > 0.0:
            n2 = blocks.propagate_blocks(a, b, d, ce, cg, s, we, wg)
            if n2 > u:
                u /= n2
                r = 1.0 / math.sqrt(n2)
                for k in range(ce.shape[0]):
                    ce[k] = we[k] * r
                    cg[k] = wg[k] * r
            else:
                tj = blocks.jump_time_blocks(a, b, d, ce, cg, u, s, we, wg)
                blocks.propagate_blocks(a, b, d, ce, cg, tj, we, wg)
                _jump(we, wg, ce, cg, jr[0], jr[1], jr[2], rng)
                u = rng.random()
                t += tj
                continue
        t = max(t, ts)
        if not is_rec:
            return t, u, ir
        m1, m2 = _probs(ce, cg, nmax, probs)
        if probs[nmax] > status[1]:
            status[1] = probs[nmax]
        j = rec_j[ir]
        if j >= 0:
            _add_pair(time[j], m1, m2)
            time_hist[j, : nmax + 1] += probs
        else:
            acc[0] += m1
            acc[1] += m2
            probe_hist[: nmax + 1] += probs
        ir += 1


@njit(cache=True)
def _kernel(ntraj, rng, coeffs, wfull, atom, jr, pumpp, initp, plan, raw, status):
    """All trajectories of one block; sums into the ``raw`` arrays (see run_general_block)."""
    a, b, d, gap_a, gap_b = coeffs
    p0, amps = atom
    code, pump_pars, tau, eta = pumpp
    init_kind, init_amp, nbar0 = initp
    times, strata, arrival_index, first, atoms, burn_in, t_end = plan
    time, time_hist, arrival, arrival_hist, st, st_hist, sa, sa_hist, clicks, passages = raw
    size = a.shape[0]
    nmax = size - 2
    S = times.shape[0]
    ce = np.zeros(size, dtype=np.complex128)
    cg = np.zeros(size, dtype=np.complex128)
    we = np.zeros(size, dtype=np.complex128)
    wg = np.zeros(size, dtype=np.complex128)
    zero = np.zeros(size, dtype=np.complex128)
    probs = np.zeros(nmax + 1)
    probe_hist = np.zeros(nmax + 1)
    arr_hist = np.zeros(nmax + 1)
    rec_t = np.zeros(2 * S)
    rec_j = np.zeros(2 * S, dtype=np.int64)
    acc = np.zeros(2)
    out = (time, time_hist, probe_hist, probs, status)
    n_steady = atoms - burn_in
    n_probe = S - first
    q0 = nbar0 / (1.0 + nbar0)
    for itr in range(ntraj):
        nrec = 0
        for j in range(S):
            if j >= first:
                rec_t[nrec] = strata[j] + rng.random() * (strata[j + 1] - strata[j])
                rec_j[nrec] = -1
                nrec += 1
            rec_t[nrec] = times[j]
            rec_j[nrec] = j
            nrec += 1
        recs = (rec_t, rec_j)
        cg[:] = 0.0
        if init_kind == _INIT_THERMAL:
            n0 = rng.geometric(1.0 - q0) - 1 if q0 > 0.0 else 0
            if n0 > nmax:
                status[0] = 1
                status[1] = 1.0
                status[2] = itr
                return
            cg[n0] = 1.0
        else:
            cg[:] = init_amp
        probe_hist[:] = 0.0
        arr_hist[:] = 0.0
        acc[:] = 0.0
        sa_x = 0.0
        sa_y = 0.0
        n_ex = 0.0
        n_det = 0.0
        u = rng.random()
        slot, t_next = pump.first_arrival(code, pump_pars, rng)
        t = 0.0
        ir = 0
        ia = 0
        k = 0
        # the cavity after an exit (or at t = 0) is src[n + shift] * scale; src is never cg,
        # so a rejected fast gap can be redone from it
        wg[:] = cg
        src = wg
        shift = 0
        nrm = 0.0
        for n in range(nmax + 1):
            nrm += cg[n].real ** 2 + cg[n].imag ** 2
        scale = 1.0 / math.sqrt(nrm)
        while k < atoms or ir < nrec:  # atoms keep arriving until every record is taken
            # ---- empty cavity until the next atom
            t_stop = t_next
            fast = ir >= nrec or rec_t[ir] > t_stop
            x0 = 1.0
            x1 = 1.0
            if fast:
                x0 = math.exp(gap_a[0].imag * (t_stop - t))
                x1 = math.exp((gap_a[1].imag - gap_a[0].imag) * (t_stop - t))
            nc, s1, s2, ptop = _gap_pass(src, shift, scale, x0, x1, cg, nmax)
            if fast and nc > u:
                u /= nc
                t = t_stop
            else:  # exact slow path: records inside the gap, or a jump
                if fast:
                    _gap_pass(src, shift, scale, 1.0, 1.0, cg, nmax)
                t, u, ir = _evolve(
                    t, t_stop, u, ir, gap_a, gap_b, gap_a, zero, cg, we, wg, jr, recs, nrec,
                    out, acc, rng,
                )  # fmt: skip
                nc, s1, s2, ptop = _gap_pass(cg, 0, 1.0, 1.0, 1.0, cg, nmax)
            if k >= atoms and ir >= nrec:
                break
            # ---- arrival of atom k (cavity cg with squared norm nc): records, cut-off check
            m1 = s1 / nc
            m2 = s2 / nc
            ptop /= nc
            status[1] = max(status[1], ptop)
            status[3] += ptop
            status[4] += 1.0
            if status[1] > TOP_MAX:
                status[0] = 1
                status[2] = itr
                return
            while ia < S and arrival_index[ia] == k:
                for n in range(nmax + 1):
                    probs[n] = (cg[n].real ** 2 + cg[n].imag ** 2) / nc
                _add_pair(arrival[ia], m1, m2)
                arrival_hist[ia, : nmax + 1] += probs
                ia += 1
            steady = burn_in <= k < atoms
            if steady:
                sa_x += m1
                sa_y += m2
            i = 0 if rng.random() < p0 else 1
            t_arr = t
            t_out = t + tau
            n2 = 0.0
            n_e = 0.0
            hist_done = False
            if ir >= nrec or rec_t[ir] > t_out:  # fast path: precomputed full-tau blocks
                w = wfull[i]
                prev = 0j
                inv = 1.0 / nc
                for kk in range(size):
                    cur = cg[kk]
                    if steady and kk <= nmax:
                        arr_hist[kk] += (cur.real * cur.real + cur.imag * cur.imag) * inv
                    e = w[kk, 0] * prev + w[kk, 1] * cur
                    g = w[kk, 2] * prev + w[kk, 3] * cur
                    we[kk] = e
                    wg[kk] = g
                    pe_k = e.real * e.real + e.imag * e.imag
                    n_e += pe_k
                    n2 += pe_k + g.real * g.real + g.imag * g.imag
                    prev = cur
                hist_done = True
            src_e = we
            src_g = wg
            if n2 > u * nc:
                u /= n2 / nc
            else:  # exact slow path: records inside the interaction, or a jump
                r = 1.0 / math.sqrt(nc)
                ae, ag = amps[i, 0] * r, amps[i, 1] * r
                if steady and not hist_done:
                    for n in range(nmax + 1):
                        arr_hist[n] += (cg[n].real ** 2 + cg[n].imag ** 2) / nc
                ce[0] = 0.0
                for kk in range(size - 1, 0, -1):
                    ce[kk] = ae * cg[kk - 1]
                for kk in range(size):
                    cg[kk] = ag * cg[kk]
                t, u, ir = _evolve(
                    t, t_out, u, ir, a, b, d, ce, cg, we, wg, jr, recs, nrec, out, acc, rng
                )
                n2 = 0.0
                n_e = 0.0
                for kk in range(size):
                    pe_k = ce[kk].real ** 2 + ce[kk].imag ** 2
                    n_e += pe_k
                    n2 += pe_k + cg[kk].real ** 2 + cg[kk].imag ** 2
                wg[:] = cg
                src_e = ce
                src_g = wg
            t = t_out
            # ---- exit measurement in {e, g}: projects the cavity; eta thins the record
            excited = rng.random() * n2 < n_e
            if excited:
                src, shift, scale = src_e, 1, 1.0 / math.sqrt(n_e)
            else:
                src, shift, scale = src_g, 0, 1.0 / math.sqrt(n2 - n_e)
            if steady and (eta >= 1.0 or rng.random() < eta):
                n_det += 1.0
                if excited:
                    n_ex += 1.0
            k += 1
            slot, t_next = pump.next_arrival(code, slot, t_arr, pump_pars, rng)
        passages[0] += k
        if n_steady > 0:
            _add_pair(sa, sa_x / n_steady, sa_y / n_steady)
            sa_hist[: nmax + 1] += arr_hist / n_steady
        if n_probe > 0:
            _add_pair(st, acc[0] / n_probe, acc[1] / n_probe)
            st_hist[: nmax + 1] += probe_hist / n_probe
        _add_pair(clicks, n_ex, n_det)
        _add_pair(clicks[6:], n_ex, n_ex * n_ex)
        if status[1] > TOP_MAX:
            status[0] = 1
            status[2] = itr
            return
    if status[3] > TOP_TOL * status[4]:
        status[0] = 2


# ----------------------------------------------------------------- public entry point
def run_general_block(
    model: Model,
    run: RunParams,
    ntraj: int,
    rng: np.random.Generator,
    plan: RecordPlan,
    levels: int | None = None,
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

    Returns
    -------
    RawAccumulators

    Raises
    ------
    ConfigError
        If the probability at nmax exceeds :data:`TOP_TOL` (initial field, or mean over the
        block's arrivals) or :data:`TOP_MAX` (one conditional state), or a thermal start
        samples a Fock state above nmax; the message names ``[run] nmax``.
    ValueError
        For an impossible atom state or pump.
    """
    check_model(model)
    check_detector_efficiency(run.detector_efficiency)
    probs, amps = atom_eigenstates(model.pe, model.coherence)
    nmax = choose_nmax(model, run)
    init_kind, init_amp, nbar0 = _initial_vector(model, nmax)
    top = abs(init_amp[nmax]) ** 2
    if top > TOP_TOL:
        raise ConfigError(_cut_message(nmax, top, f"the initial field; limit {TOP_TOL:g}"))
    a, b, d, gap_a, gap_b = _block_arrays(model, nmax)
    wfull = np.zeros((2, nmax + 2, 4), dtype=complex)
    for k in range(nmax + 2):
        u11, u12, u22 = blocks.propagator(a[k], b[k], d[k], model.tau)
        for i in range(2):
            ae, ag = amps[i]
            wfull[i, k] = (u11 * ae, u12 * ag, u12 * ae, u22 * ag)
    nlev = max(int(levels or 0), nmax + 1)
    raw = RawAccumulators.zeros(plan.samples, nlev)
    status = np.zeros(5)  # code, max top probability, trajectory, Σ top prob, arrivals
    kappa_down = model.kappa * (1.0 + model.nbar_bath)
    pump_args = (*pump.kernel_args(model), float(model.tau), float(run.detector_efficiency))
    plan_args = (plan.times, plan.strata, plan.arrival_index, int(plan.first_steady_stratum))
    plan_args += (int(plan.atoms), int(plan.burn_in), float(plan.t_end))
    names = ("time", "time_hist", "arrival", "arrival_hist", "steady_time", "steady_time_hist")
    names += ("steady_arrival", "steady_arrival_hist", "clicks", "passages")
    rates = np.array([model.gamma, kappa_down, model.kappa * model.nbar_bath])
    atom = (float(probs[0]), amps)
    init = (init_kind, init_amp, float(nbar0))
    outs = tuple(getattr(raw, k) for k in names)
    coeffs = (a, b, d, gap_a, gap_b)
    _kernel(int(ntraj), rng, coeffs, wfull, atom, rates, pump_args, init, plan_args, outs, status)
    if status[0] == 1:
        where = f"trajectory {int(status[2])} of this block; limit {TOP_MAX:g}"
        raise ConfigError(_cut_message(nmax, status[1], where))
    if status[0] == 2:
        where = f"the mean over arrivals; limit {TOP_TOL:g}"
        raise ConfigError(_cut_message(nmax, status[3] / status[4], where))
    return raw


def _cut_message(nmax: int, prob: float, where: str) -> str:
    return (
        f"general path: photon-number probability {prob:.3g} at the Fock cut-off nmax = {nmax} "
        f"(in {where}); raise [run] nmax (e.g. nmax = {2 * nmax + 10})"
    )
