"""Exact real-space mutual information on a torus small enough to enumerate (L <= 4).

The oracle the RSMI estimator is tested against. Over all 2^(L^2) states of the L x L torus with
their exact Boltzmann weights at coupling K (:mod:`ising_rg.exact.enumeration`), for the block
at the origin and its environment (:mod:`ising_rg.rg.rsmi_geometry`; every block gives the same
numbers by translation invariance):

* :func:`exact_environment_information`: I(H; E) = H(H) - sum_e P(e) H_b(P(H = +1 | e)), exact.
* :func:`exact_block_information`: I(H; V) = H(H) - E_V[H_b(P(H = +1 | V))], exact (the
  compression term of :mod:`ising_rg.rg.rsmi`).
* :func:`exact_logistic_bound`: the Barber-Agakov bound with the *best* logistic-regression
  decoder for the exact distribution (Newton's method on the concave objective). It is the value
  the sampled estimator converges to with unlimited data; the gap to the exact I(H; E) is the
  price of a decoder linear in the environment spins.
"""

from __future__ import annotations

import numpy as np

from ising_rg.errors import IsingRGError
from ising_rg.exact.enumeration import boltzmann_state_probabilities
from ising_rg.rg.rsmi_bound import CoarseRule, Decoder, binary_entropy, bits
from ising_rg.rg.rsmi_geometry import RSMIGeometry, rsmi_geometry

__all__ = ["exact_block_information", "exact_environment_information", "exact_logistic_bound",
           "state_spins"]


def state_spins(size: int) -> np.ndarray:
    """Every state of the L x L torus as flattened spins, int8 (2^(L^2), L*L).

    Row j is the state whose bit ``i = row*L + col`` is 1 for spin +1 (the convention of
    :func:`ising_rg.exact.enumeration.boltzmann_state_probabilities`).
    """
    n_sites = size * size
    states = np.arange(1 << n_sites, dtype=np.int64)
    return (2 * ((states[:, None] >> np.arange(n_sites)) & 1) - 1).astype(np.int8)


def _setup(coupling: float, size: int, rule: CoarseRule, buffer: int, environment: int
           ) -> tuple[RSMIGeometry, np.ndarray, np.ndarray, np.ndarray]:
    """Geometry, state probabilities (2^N,), P(H=+1|V) per state, environment spins."""
    if not isinstance(rule, CoarseRule):
        raise IsingRGError("rule must be a CoarseRule")
    geometry = rsmi_geometry(size, rule.block_size, buffer, environment)
    probabilities = boltzmann_state_probabilities(coupling, size)
    spins = state_spins(size)
    p_plus = rule.probabilities(spins[:, geometry.block_index[0]])
    return geometry, probabilities, p_plus, spins[:, geometry.environment_index[0]]


def exact_environment_information(coupling: float, size: int, rule: CoarseRule, buffer: int,
                                  environment: int) -> float:
    """Exact I(H; E) in bits between a block's coarse variable and its environment.

    Parameters
    ----------
    coupling : float, K
    size : int, L <= 4 (enumeration)
    rule : CoarseRule, P(H = +1 | V)
    buffer, environment : int, L_B and L_E (:mod:`ising_rg.rg.rsmi_geometry`)

    Returns
    -------
    float, bits, in [0, 1].
    """
    _, probabilities, p_plus, env_spins = _setup(coupling, size, rule, buffer, environment)
    n_env = env_spins.shape[1]
    key = (((env_spins > 0).astype(np.int64)) << np.arange(n_env)).sum(axis=1)
    p_env = np.bincount(key, probabilities, minlength=1 << n_env)
    p_joint = np.bincount(key, probabilities * p_plus, minlength=1 << n_env)
    seen = p_env > 0
    conditional = p_joint[seen] / p_env[seen]
    h_marginal = binary_entropy(p_joint.sum())
    h_conditional = float(np.sum(p_env[seen] * binary_entropy(conditional)))
    return float(bits(float(h_marginal) - h_conditional))


def exact_block_information(coupling: float, size: int, rule: CoarseRule) -> float:
    """Exact I(H; V) in bits between a block's coarse variable and the block itself.

    Parameters
    ----------
    coupling : float, K
    size : int, L <= 4
    rule : CoarseRule

    Returns
    -------
    float, bits: 1 - P(tie) for majority rule at zero field, 1 for any rule without ties.
    """
    if not isinstance(rule, CoarseRule):
        raise IsingRGError("rule must be a CoarseRule")
    geometry = rsmi_geometry(size, rule.block_size, 0, 1)
    probabilities = boltzmann_state_probabilities(coupling, size)
    p_plus = rule.probabilities(state_spins(size)[:, geometry.block_index[0]])
    nats = binary_entropy(float(probabilities @ p_plus)) - float(
        probabilities @ binary_entropy(p_plus))
    return float(bits(nats))


def exact_logistic_bound(coupling: float, size: int, rule: CoarseRule, buffer: int,
                         environment: int, tolerance: float = 1e-12,
                         max_iterations: int = 100) -> tuple[float, Decoder]:
    """The Barber-Agakov bound with the best logistic decoder, for the exact distribution.

    Maximizes ``sum_states P (p u - softplus(u))``, u = w . s_E + c, by Newton's method (the
    objective is concave in (w, c)); stops when the step's largest entry is below
    ``tolerance`` times the largest parameter (at least 1).

    Returns
    -------
    (bound, decoder): the bound in bits, and the optimal decoder.

    Raises
    ------
    IsingRGError
        If Newton's method does not converge in ``max_iterations`` steps.
    """
    _, probabilities, p_plus, env_spins = _setup(coupling, size, rule, buffer, environment)
    x = np.concatenate([env_spins.astype(np.float64), np.ones((env_spins.shape[0], 1))], axis=1)
    theta = np.zeros(x.shape[1])
    for _ in range(max_iterations):
        u = x @ theta
        q = 0.5 * (1.0 + np.tanh(0.5 * u))
        gradient = x.T @ (probabilities * (p_plus - q))
        hessian = (x * (probabilities * q * (1.0 - q))[:, None]).T @ x
        step = np.linalg.solve(hessian, gradient)
        theta = theta + step
        if np.max(np.abs(step)) < tolerance * max(1.0, float(np.max(np.abs(theta)))):
            break
    else:
        raise IsingRGError(f"Newton's method did not converge in {max_iterations} steps")
    u = x @ theta
    softplus = np.logaddexp(0.0, u)
    cross = float(probabilities @ (p_plus * u - softplus))
    bound = binary_entropy(float(probabilities @ p_plus)) + cross
    return float(bits(bound)), Decoder(theta[:-1].copy(), float(theta[-1]))
