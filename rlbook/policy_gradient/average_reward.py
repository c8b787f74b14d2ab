"""Stationary distributions and the average reward (chapter C9)."""
from __future__ import annotations

import numpy as np

from ..mdp import FiniteMDP, policy_matrices

__all__ = ["stationary_distribution", "average_reward"]


def stationary_distribution(mdp: FiniteMDP, pi) -> np.ndarray:
    r"""Stationary distribution ``d_pi`` of the chain ``P_pi``: ``d^T P_pi = d^T``, ``sum d = 1``.

    Solved as a least-squares system with the normalisation row appended; raises
    if the chain has no unique stationary distribution (several closed classes).
    """
    P_pi, _ = policy_matrices(mdp, pi)
    S = mdp.n_states
    M = np.vstack([P_pi.T - np.eye(S), np.ones((1, S))])
    rhs = np.zeros(S + 1)
    rhs[-1] = 1.0
    if np.linalg.matrix_rank(M) < S:
        raise ValueError("P_pi has several closed classes, so its stationary distribution "
                         "is not unique; expected an irreducible chain under pi")
    d, *_ = np.linalg.lstsq(M, rhs, rcond=None)
    d = np.clip(d, 0.0, None)
    return d / d.sum()


def average_reward(mdp: FiniteMDP, pi) -> float:
    r"""``r_bar = sum_s d_pi(s) r_pi(s)`` under the stationary distribution ``d_pi``.

    Notes
    -----
    Under ``d_pi``, ``r_bar = (1 - gamma) v_bar`` (chapter *The policy gradient
    theorem*), because ``d_pi^T (I - gamma P_pi)^{-1} = d_pi^T / (1 - gamma)``.
    """
    _, r_pi = policy_matrices(mdp, pi)
    return float(stationary_distribution(mdp, pi) @ r_pi)
