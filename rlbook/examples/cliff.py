"""Sutton and Barto's cliff walking (Example 6.6), the layout of Gymnasium's
``CliffWalking-v1``.

A 4 x 12 grid, cell ``(row, col)`` is state ``12 row + col``; the start is the
bottom-left cell (state 36), the goal the bottom-right cell (state 47,
terminal). Actions ``0 = up, 1 = right, 2 = down, 3 = left`` (Gymnasium's
order). Every step earns -1; a step into the cliff (the bottom row between
start and goal) earns -100 and sends the agent back to the start. A move off
the grid leaves the agent in place. ``gamma = 1``.
"""
from __future__ import annotations

import numpy as np

from .._validate import check_gamma
from ..mdp import FiniteMDP

__all__ = ["cliff_walking", "CLIFF_START", "CLIFF_GOAL", "CLIFF_ACTIONS"]

#: Start state (row 3, column 0) and goal state (row 3, column 11).
CLIFF_START, CLIFF_GOAL = 36, 47
#: Action names, in Gymnasium's order.
CLIFF_ACTIONS = ("up", "right", "down", "left")
_MOVES = ((-1, 0), (0, 1), (1, 0), (0, -1))


def cliff_walking(gamma: float = 1.0) -> FiniteMDP:
    r"""The cliff-walking grid world of Sutton and Barto (2018), Example 6.6.

    Deterministic: ``P[s, a, s'] = 1`` for the cell ``s'`` the move reaches
    (the start if that cell is in the cliff); ``R[s, a] = -100`` for a move
    into the cliff and -1 otherwise. The goal (state 47) is terminal. It equals
    ``FiniteMDP.from_gymnasium(gymnasium.make("CliffWalking-v1"), gamma)``
    (the tests check it). Start in :data:`CLIFF_START`.
    """
    g = check_gamma(gamma)
    n_rows, n_cols = 4, 12
    S, A = n_rows * n_cols, 4
    P = np.zeros((S, A, S))
    R = np.full((S, A), -1.0)
    terminal = np.zeros(S, dtype=bool)
    terminal[CLIFF_GOAL] = True
    for s in range(S):
        r, c = divmod(s, n_cols)
        for a, (dr, dc) in enumerate(_MOVES):
            if terminal[s]:
                P[s, a, s], R[s, a] = 1.0, 0.0
                continue
            nr = min(max(r + dr, 0), n_rows - 1)
            nc = min(max(c + dc, 0), n_cols - 1)
            if nr == n_rows - 1 and 0 < nc < n_cols - 1:      # the cliff
                P[s, a, CLIFF_START], R[s, a] = 1.0, -100.0
            else:
                P[s, a, nr * n_cols + nc] = 1.0
    return FiniteMDP(P, R, g, terminal)
