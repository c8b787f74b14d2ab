"""Sutton and Barto's random walk (Example 6.2; the 19-state walk of Chapter 7).

States ``0`` and ``n_states + 1`` are terminal; the walk starts in the middle
state and moves left or right with probability 1/2 each. Entering the right end
pays ``+1``, entering the left end pays ``left_reward`` (0 in Example 6.2, -1 in
the 19-state walk of Example 7.1), every other step pays 0, ``gamma = 1``.
There is a single action: it is a Markov reward process, written as an MDP
with ``A = 1`` so that the learners of Chapter 7 run on it unchanged.
"""
from __future__ import annotations

import numbers

import numpy as np

from .._validate import check_gamma, check_int
from ..mdp import FiniteMDP

__all__ = ["random_walk", "random_walk_values", "RANDOM_WALK_START"]

#: Start state of the default five-state walk (state C; A..E are states 1..5).
RANDOM_WALK_START = 3


def random_walk(n_states: int = 5, *, left_reward: float = 0.0, gamma: float = 1.0) -> FiniteMDP:
    r"""The random walk of Sutton and Barto (2018), Example 6.2, as a FiniteMDP.

    ``P[s, 0, s - 1] = P[s, 0, s + 1] = 1/2`` for ``s = 1, ..., n_states``;
    the reward of a step is ``R_next[s, 0, s'] = 1`` if ``s' = n_states + 1``,
    ``left_reward`` if ``s' = 0``, and 0 otherwise. Start in the middle state
    ``(n_states + 1) // 2`` (:data:`RANDOM_WALK_START` for five states).

    Parameters
    ----------
    n_states : int
        Number of non-terminal states (5 in Example 6.2, 19 in Example 7.1).
    left_reward : float
        Reward of entering the left terminal state.
    gamma : float
        Discount factor (1 in both examples).

    Returns
    -------
    FiniteMDP
        ``n_states + 2`` states, one action; states 0 and ``n_states + 1``
        terminal. :func:`random_walk_values` gives the exact values.
    """
    n = check_int(n_states, "n_states", 1)
    if isinstance(left_reward, bool) or not isinstance(left_reward, numbers.Real) \
            or not np.isfinite(left_reward):
        raise ValueError(f"left_reward is {left_reward!r}, expected a finite number")
    g = check_gamma(gamma)
    S = n + 2
    P = np.zeros((S, 1, S))
    R_next = np.zeros((S, 1, S))
    for s in range(1, n + 1):
        P[s, 0, s - 1] = P[s, 0, s + 1] = 0.5
    P[0, 0, 0] = P[S - 1, 0, S - 1] = 1.0
    R_next[n, 0, S - 1] = 1.0
    R_next[1, 0, 0] = float(left_reward)
    terminal = np.zeros(S, dtype=bool)
    terminal[[0, S - 1]] = True
    return FiniteMDP(P, None, g, terminal, R_next=R_next)


def random_walk_values(n_states: int = 5, *, left_reward: float = 0.0) -> np.ndarray:
    r"""Exact values of the random walk with ``gamma = 1``, shape ``(n_states + 2,)``.

    The value of state ``i`` is the chance ``i / (n + 1)`` of leaving on the
    right times 1 plus the chance ``1 - i / (n + 1)`` of leaving on the left
    times ``left_reward`` (gambler's ruin); terminal states have value 0. For
    Example 6.2 these are ``1/6, ..., 5/6``.
    """
    n = check_int(n_states, "n_states", 1)
    i = np.arange(n + 2)
    p_right = i / (n + 1)
    v = p_right + (1 - p_right) * float(left_reward)
    v[[0, n + 1]] = 0.0
    return v
