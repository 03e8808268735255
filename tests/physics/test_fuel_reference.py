"""Fuel block solution vs brute force (validation ladder, rung 1).

* Spin-star: the full 2^(N+1)-dimensional Hamiltonian built from tensor products of Pauli
  matrices and diagonalised densely (numpy eigh), N <= 10.
* Spin-S model: qutip with ``qutip.jmat(S)``, S = 1/2 … 5.
Agreement to 1e-10 in pe.
"""

from functools import reduce

import numpy as np
import pytest
import qutip
import scipy.sparse as sp

from trajmaser.fuel import fuel_pe

SX = sp.csr_matrix(np.array([[0, 1], [1, 0]], dtype=complex))
SY = sp.csr_matrix(np.array([[0, -1j], [1j, 0]]))
SZ = sp.csr_matrix(np.array([[1, 0], [0, -1]], dtype=complex))  # |e> = index 0
EYE = sp.identity(2, dtype=complex, format="csr")


def _site(ops: dict[int, sp.csr_matrix], n_sites: int) -> sp.csr_matrix:
    """Tensor product with ``ops[i]`` on site i and the identity elsewhere."""
    return reduce(
        lambda a, b: sp.kron(a, b, format="csr"), [ops.get(i, EYE) for i in range(n_sites)]
    )


def star_hamiltonian(N: int, omega: float, J: float, lam: float) -> np.ndarray:
    """H = (ω/2)Σ_{i=0..N} σiz + (J/4)Σ_{i=1..N}(σ0x σix + σ0y σiy + λ σ0z σiz), site 0 central."""
    n = N + 1
    H = sum(0.5 * omega * _site({i: SZ}, n) for i in range(n))
    for i in range(1, n):
        H = H + 0.25 * J * (
            _site({0: SX, i: SX}, n) + _site({0: SY, i: SY}, n) + lam * _site({0: SZ, i: SZ}, n)
        )
    H = H.toarray()
    assert np.abs(H.imag).max() == 0.0
    return H.real


def brute_pe(H: np.ndarray, Tb: float) -> float:
    """⟨e|Tr_outer e^{−H/Tb}|e⟩ / Z with the central spin as the leading tensor factor."""
    energies, vecs = np.linalg.eigh(H)
    weights = np.exp(-(energies - energies.min()) / Tb)
    half = H.shape[0] // 2  # leading factor: first half of the basis is |e>
    excited = np.sum(np.abs(vecs[:half]) ** 2, axis=0)
    return float(weights @ excited / weights.sum())


def _random_params(seed: int, count: int):
    rng = np.random.default_rng(seed)
    return [
        (rng.uniform(0.5, 8.0), rng.uniform(-3.0, 3.0), rng.uniform(-1.6, 1.6), rng.uniform(0.5, 2))
        for _ in range(count)
    ]


FIXED = [
    (6.0, 0.8, 1.0, 1.0),  # paper values
    (6.0, 0.8, 0.75, 1.0),
    (0.3, 2.5, 1.0, 1.0),  # strong coupling: populations inverted
    (2.0, -1.5, -0.7, 1.3),  # J < 0 and λ < 0, Tb != 1
    (1.0, 1.0, 0.0, 1.0),  # XX model
    (1.0, 3.0, 0.0, 1.0),  # pe close to 1/2: the log1p(D/Zg) branch
]


@pytest.mark.parametrize("N", [0, 1, 2, 3, 4, 6, 8])
@pytest.mark.parametrize("pars", FIXED + _random_params(7, 4))
def test_star_equals_tensor_product(N, pars):
    omega, J, lam, Tb = pars
    expected = brute_pe(star_hamiltonian(N, omega, J, lam), Tb)
    got = fuel_pe("star", N, omega, J, lam, Tb)
    assert abs(got - expected) < 1e-10


@pytest.mark.parametrize("pars", [FIXED[0], FIXED[3]])
def test_star_equals_tensor_product_n10(pars):
    omega, J, lam, Tb = pars
    expected = brute_pe(star_hamiltonian(10, omega, J, lam), Tb)
    assert abs(fuel_pe("star", 10, omega, J, lam, Tb) - expected) < 1e-10


def test_brute_force_sees_inversion():
    """The strong-coupling fixed set really tests pe > 1/2."""
    assert brute_pe(star_hamiltonian(6, 0.3, 2.5, 1.0), 1.0) > 0.5


def qutip_spin_pe(S: float, omega: float, J: float, lam: float, Tb: float) -> float:
    """pe of the central spin for H = (ω/2)σ0z + ω Sz + (J/2)(σ0x Sx + σ0y Sy + λ σ0z Sz)."""
    sx, sy, sz = qutip.jmat(S)
    one_s = qutip.qeye(int(round(2 * S + 1)))
    one_2 = qutip.qeye(2)
    H = (
        0.5 * omega * qutip.tensor(qutip.sigmaz(), one_s)
        + omega * qutip.tensor(one_2, sz)
        + 0.5
        * J
        * (
            qutip.tensor(qutip.sigmax(), sx)
            + qutip.tensor(qutip.sigmay(), sy)
            + lam * qutip.tensor(qutip.sigmaz(), sz)
        )
    )
    rho = (-H / Tb).expm()
    rho0 = (rho / rho.tr()).ptrace(0)
    return float(np.real(rho0.full()[0, 0]))  # qutip basis(2, 0) is σz = +1, i.e. |e>


@pytest.mark.parametrize("two_s", range(1, 11))
@pytest.mark.parametrize("pars", FIXED + _random_params(3, 3))
def test_spin_equals_qutip(two_s, pars):
    omega, J, lam, Tb = pars
    expected = qutip_spin_pe(two_s / 2, omega, J, lam, Tb)
    assert abs(fuel_pe("spin", two_s, omega, J, lam, Tb) - expected) < 1e-10


@pytest.mark.parametrize("pars", FIXED + _random_params(5, 3))
def test_pruned_path_equals_tensor_product(pars):
    """The block pruning used at large N, forced on at N = 8, against the brute force."""
    from scipy.special import expit

    from trajmaser.fuel.spin_blocks import log_ratio

    omega, J, lam, Tb = pars
    expected = brute_pe(star_hamiltonian(8, omega, J, lam), Tb)
    assert abs(expit(log_ratio("star", 8, omega / Tb, J / Tb, lam, prune=True)) - expected) < 1e-10
