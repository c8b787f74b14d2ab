"""Policy gradients for tabular softmax policies (Chapter 9 and *The policy
gradient theorem*).

The objective is ``J(theta) = sum_s rho0(s) v_pi(s)`` and the policy gradient
theorem gives

.. math:: \\nabla_\\theta J = \\sum_s \\eta(s) \\sum_a \\nabla_\\theta \\pi(a|s)\\, q_\\pi(s, a),

with the unnormalised discounted visitation ``eta(s) = sum_t gamma^t Pr(S_t = s)``.
"""
from __future__ import annotations

import numpy as np

from ._validate import as_float_array, check_distribution
from .bellman import _proper_check, _q_from_v, _solve_v
from .mdp import FiniteMDP, _check_mdp, policy_matrices

__all__ = [
    "softmax_policy",
    "discounted_visitation",
    "policy_objective",
    "exact_policy_gradient",
]


def softmax_policy(theta) -> np.ndarray:
    r"""Tabular softmax policy ``pi(a|s) = exp(theta[s, a]) / sum_b exp(theta[s, b])``.

    Numerically stable: the row maximum is subtracted before exponentiating,
    which leaves the policy unchanged.

    Parameters
    ----------
    theta : array_like, shape (S, A)
        Action preferences.
    """
    theta = as_float_array(theta, "theta", ndim=2)
    if theta.shape[1] == 0:
        raise ValueError(f"theta has shape {theta.shape}, expected at least one action")
    z = theta - theta.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _check_theta(mdp, theta):
    return as_float_array(theta, "theta", shape=(mdp.n_states, mdp.n_actions))


def discounted_visitation(mdp: FiniteMDP, pi, rho0) -> np.ndarray:
    r"""Unnormalised discounted state visitation
    ``eta(s) = sum_t gamma^t Pr(S_t = s | S_0 ~ rho0, pi)``.

    Computed exactly as ``eta^T = rho0^T (I - gamma P_pi)^{-1}`` over the
    non-terminal states; terminal states, where no decision is taken, get 0.
    ``sum_s eta(s) = 1 / (1 - gamma)`` when no state is terminal, and
    ``(1 - gamma) eta`` is then a distribution.

    Parameters
    ----------
    mdp : FiniteMDP
    pi : array_like (S, A)
    rho0 : array_like (S,)
        Initial-state distribution.
    """
    P_pi, _ = policy_matrices(mdp, pi)
    rho0 = check_distribution(rho0, mdp.n_states, "rho0")
    return _visitation(mdp, P_pi, rho0)


def _visitation(mdp, P_pi, rho0):
    if mdp.gamma == 1.0:
        _proper_check(mdp, P_pi)
    live = ~mdp.terminal
    eta = np.zeros(mdp.n_states)
    M = np.eye(int(live.sum())) - mdp.gamma * P_pi[np.ix_(live, live)]
    eta[live] = np.linalg.solve(M.T, rho0[live])
    return eta


def policy_objective(mdp: FiniteMDP, pi, rho0) -> float:
    r"""``J = sum_s rho0(s) v_pi(s)``, the expected discounted return from ``rho0``."""
    P_pi, r_pi = policy_matrices(mdp, pi)
    rho0 = check_distribution(rho0, mdp.n_states, "rho0")
    return float(rho0 @ _solve_v(mdp, P_pi, r_pi))


def exact_policy_gradient(mdp: FiniteMDP, theta, rho0) -> np.ndarray:
    r"""Exact ``grad_theta J`` of a tabular softmax policy, by the policy gradient theorem.

    For the tabular softmax, ``d pi(b|s) / d theta[s, a] = pi(b|s) (1[a = b] - pi(a|s))``,
    so the theorem reduces to

    .. math:: \frac{\partial J}{\partial \theta_{s,a}} = \eta(s)\,\pi(a|s)\,\big(q_\pi(s,a) - v_\pi(s)\big).

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
