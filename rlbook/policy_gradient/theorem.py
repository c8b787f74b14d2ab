"""The policy gradient theorem for tabular and linear-softmax policies
(chapter *The policy gradient theorem*).

.. math:: \\nabla_\\theta J = \\sum_s \\eta(s) \\sum_a \\nabla_\\theta \\pi(a|s)\\, q_\\pi(s, a),

with the unnormalised discounted visitation ``eta(s) = sum_t gamma^t Pr(S_t = s)``.
"""
from __future__ import annotations

import numpy as np

from .._validate import check_distribution
from ..dp.bellman import _q_from_v, _solve_v
from ..mdp import FiniteMDP, _check_mdp, policy_matrices
from .objectives import _check_phi, _check_theta, _visitation, softmax_policy

__all__ = ["exact_policy_gradient", "exact_linear_policy_gradient"]


def exact_policy_gradient(mdp: FiniteMDP, theta, rho0) -> np.ndarray:
    r"""Exact ``grad_theta J`` of a tabular softmax policy, by the policy gradient theorem.

    For the tabular softmax, ``d pi(b|s) / d theta[s, a] = pi(b|s) (1[a = b] - pi(a|s))``,
    so the theorem reduces to

    .. math:: \frac{\partial J}{\partial \theta_{s,a}} = \eta(s)\,\pi(a|s)\,\big(q_\pi(s,a) - v_\pi(s)\big),

    with the *unnormalised* visitation ``eta`` of :func:`discounted_visitation`
    (a normalised ``(1 - gamma) eta`` would give ``(1 - gamma) grad J``). Valid for a
    finite MDP with ``gamma < 1``, or ``gamma = 1`` and a proper policy (checked).

    Parameters
    ----------
    mdp : FiniteMDP
    theta : array_like (S, A)
    rho0 : array_like (S,)

    Returns
    -------
    grad : ndarray (S, A)
    """
    _check_mdp(mdp)
    theta = _check_theta(mdp, theta)
    rho0 = check_distribution(rho0, mdp.n_states, "rho0")
    pi = softmax_policy(theta)
    P_pi, r_pi = policy_matrices(mdp, pi)
    v = _solve_v(mdp, P_pi, r_pi)
    q = _q_from_v(mdp, v)
    eta = _visitation(mdp, P_pi, rho0)
    return eta[:, None] * pi * (q - v[:, None])


def exact_linear_policy_gradient(mdp: FiniteMDP, theta, rho0, phi) -> np.ndarray:
    r"""Exact ``grad_theta J`` of a linear-softmax policy by the policy gradient theorem.

    .. math:: \nabla_\theta J = \sum_s \eta(s) \sum_a \pi(a|s)\, q_\pi(s, a)\,
              \big(\phi(s, a) - \mathbb E_\pi[\phi(s, \cdot)]\big),

    with the unnormalised discounted visitation ``eta``. With
    ``phi = tabular_features(S, A)`` it is ``exact_policy_gradient`` flattened.

    Parameters
    ----------
    mdp : FiniteMDP
    theta : array_like (d,)
    rho0 : array_like (S,)
    phi : array_like (S, A, d)
        The features come last, as everywhere in the package.  The earlier order
        ``(mdp, theta, phi, rho0)`` is still accepted: it is recognised by the
        shapes (``phi`` has three axes, ``rho0`` one).

    Returns
    -------
    grad : ndarray (d,)
    """
    _check_mdp(mdp)
    if np.ndim(rho0) == 3 and np.ndim(phi) == 1:  # the earlier argument order
        rho0, phi = phi, rho0
    pi, q, eta, score = _linear_softmax_terms(mdp, theta, rho0, phi)
    return np.einsum("s,sa,sa,sad->d", eta, pi, q, score)


def _linear_softmax_terms(mdp, theta, rho0, phi):
    """Validated ``(pi, q_pi, eta, score)`` of the linear-softmax policy ``softmax(phi theta)``:
    its probabilities, exact action values, unnormalised discounted visitation and the
    score ``phi(s, a) - E_pi[phi(s, .)]`` (shared by the theorem and the compatible critic)."""
    phi, theta = _check_phi(phi, theta)
    if phi.shape[:2] != (mdp.n_states, mdp.n_actions):
        raise ValueError(f"phi has shape {phi.shape}, expected ({mdp.n_states}, {mdp.n_actions}, d) "
                         "for this MDP")
    rho0 = check_distribution(rho0, mdp.n_states, "rho0")
    pi = softmax_policy(phi @ theta)
    P_pi, r_pi = policy_matrices(mdp, pi)
    q = _q_from_v(mdp, _solve_v(mdp, P_pi, r_pi))
    eta = _visitation(mdp, P_pi, rho0)
    return pi, q, eta, phi - np.einsum("sb,sbd->sd", pi, phi)[:, None, :]
