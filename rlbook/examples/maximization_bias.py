"""Sutton and Barto's maximisation-bias MDP (Example 6.7, Figure 6.5)."""
from __future__ import annotations

import numbers

import numpy as np

from .._validate import check_int
from ..mdp import FiniteMDP

__all__ = ["maximization_bias_mdp"]

#: The two actions of state A.
LEFT, RIGHT = 0, 1


def maximization_bias_mdp(n_actions_b: int = 10, *, mean_b: float = -0.1,
                          std_b: float = 1.0) -> FiniteMDP:
    r"""The MDP of Sutton and Barto (2018), Example 6.7.

    State ``A = 0`` (the start) allows two actions: ``LEFT = 0`` moves to
    ``B = 1`` and ``RIGHT = 1`` ends the episode, both with reward 0. State
    ``B`` allows ``n_actions_b`` actions; each ends the episode with a reward
    drawn from ``N(mean_b, std_b^2)`` (``N(-0.1, 1)`` in the book). State 2 is
    terminal, ``gamma = 1``. So ``q*(A, left) = mean_b < 0 = q*(A, right)``.

    The MDP has ``max(2, n_actions_b)`` actions; ``mdp.allowed`` marks which
    are available in each state (only the first two in ``A``). The noise is
    the reward law's ``reward_std``: ``mdp.step`` draws it, ``mdp.R`` holds the
    mean.
    """
    nb = check_int(n_actions_b, "n_actions_b", 1)
    for name, x in (("mean_b", mean_b), ("std_b", std_b)):
        if isinstance(x, bool) or not isinstance(x, numbers.Real) or not np.isfinite(x):
            raise ValueError(f"{name} is {x!r}, expected a finite number")
    if std_b < 0:
        raise ValueError(f"std_b is {std_b!r}, expected a standard deviation >= 0")
    A = max(2, nb)
    S = 3
    P = np.zeros((S, A, S))
    P[0, :, 2] = 1.0
    P[0, LEFT, :] = [0.0, 1.0, 0.0]
    P[1, :, 2] = 1.0
    P[2, :, 2] = 1.0
    R = np.zeros((S, A))
    R[1, :nb] = float(mean_b)
    reward_std = np.zeros((S, A))
    reward_std[1, :nb] = float(std_b)
    allowed = np.zeros((S, A), dtype=bool)
    allowed[0, :2] = True
    allowed[1, :nb] = True
    allowed[2, :] = True
    return FiniteMDP(P, R, 1.0, np.array([False, False, True]), allowed=allowed,
                     reward_std=reward_std)
