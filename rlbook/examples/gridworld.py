"""The book's grid world and the published grid-world examples (Chapter 1).

:class:`GridWorld` follows the grid world of Zhao, *Mathematical Foundations of
Reinforcement Learning*, Chapter 1: cells indexed row-major, five actions (up,
right, down, left, stay), deterministic moves. :func:`sutton_barto_gridworld`
and :func:`sutton_barto_small_gridworld` build Examples 3.5 and 4.1 of Sutton
and Barto (2018).
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

from .._validate import check_gamma, check_int
from ..mdp import FiniteMDP

__all__ = [
    "GridWorld",
    "ACTIONS",
    "ACTION_NAMES",
    "zhao_gridworld",
    "sutton_barto_gridworld",
    "sutton_barto_small_gridworld",
]

#: Moves ``(d_row, d_col)`` of the five actions, in the book's order.
ACTIONS = ((-1, 0), (0, 1), (1, 0), (0, -1), (0, 0))
#: Names of the five actions.
ACTION_NAMES = ("up", "right", "down", "left", "stay")


def _move(r: int, c: int, a: int, n_rows: int, n_cols: int) -> tuple[int, bool]:
    """The cell index that action ``a`` leads to from ``(r, c)``, and whether
    the move stays on the grid (a move off the grid leaves the agent in place)."""
    nr, nc = r + ACTIONS[a][0], c + ACTIONS[a][1]
    if 0 <= nr < n_rows and 0 <= nc < n_cols:
        return nr * n_cols + nc, True
    return r * n_cols + c, False


def _cell(value, name: str, n_rows: int, n_cols: int) -> tuple[int, int]:
    try:
        r, c = value
    except (TypeError, ValueError):
        raise ValueError(f"{name} is {value!r}, expected a (row, col) pair") from None
    for v in (r, c):
        if isinstance(v, bool) or not isinstance(v, numbers.Integral):
            raise ValueError(f"{name} is {value!r}, expected integer (row, col)")
    if not (0 <= r < n_rows and 0 <= c < n_cols):
        raise ValueError(f"{name} is {value!r}, outside the {n_rows} x {n_cols} grid")
    return int(r), int(c)


@dataclass(frozen=True)
class GridWorld:
    """Zhao's grid world.

    Parameters
    ----------
    n_rows, n_cols : int
        Size of the grid. Cell ``(row, col)`` is state ``row * n_cols + col``.
    target : (int, int)
        The target cell. Entering it, or staying in it, earns ``r_target``; it
        is not terminal (the task is continuing) unless ``terminal_target``.
    forbidden : sequence of (int, int)
        Forbidden cells. Entering one (or staying in one) is allowed and earns
        ``r_forbidden``.
    r_boundary, r_forbidden, r_target, r_other : float
        A move off the grid leaves the agent in place and earns
        ``r_boundary``; every other move earns ``r_other``.
    gamma : float
        Discount factor of :meth:`to_mdp`.
    terminal_target : bool
        If true the target is an absorbing terminal state of value 0 (the
        episodic variant); entering it still earns ``r_target``.
    """

    n_rows: int = 5
    n_cols: int = 5
    target: tuple = (3, 2)
    forbidden: tuple = ((1, 1), (1, 2), (2, 2), (3, 1), (3, 3), (4, 1))
    r_boundary: float = -1.0
    r_forbidden: float = -1.0
    r_target: float = 1.0
    r_other: float = 0.0
    gamma: float = 0.9
    terminal_target: bool = False

    def __post_init__(self):
        check_int(self.n_rows, "n_rows", 1)
        check_int(self.n_cols, "n_cols", 1)
        target = _cell(self.target, "target", self.n_rows, self.n_cols)
        forb = []
        for i, f in enumerate(self.forbidden):
            cell = _cell(f, f"forbidden[{i}]", self.n_rows, self.n_cols)
            if cell == target:
                raise ValueError(f"forbidden[{i}] is {f!r}, the same cell as the target")
            forb.append(cell)
        for name in ("r_boundary", "r_forbidden", "r_target", "r_other"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, numbers.Real) or not np.isfinite(v):
                raise ValueError(f"{name} is {v!r}, expected a finite number")
        check_gamma(self.gamma)
        object.__setattr__(self, "target", target)
        object.__setattr__(self, "forbidden", tuple(forb))

    # -- indexing -----------------------------------------------------------
    @property
    def n_states(self) -> int:
        return self.n_rows * self.n_cols

    n_actions = len(ACTIONS)

    def state(self, row: int, col: int) -> int:
        """State index of cell ``(row, col)``."""
        r, c = _cell((row, col), "cell", self.n_rows, self.n_cols)
        return r * self.n_cols + c

    def cell(self, s: int) -> tuple[int, int]:
        """Cell ``(row, col)`` of state ``s``."""
        s = check_int(s, "s", 0)
        if s >= self.n_states:
            raise ValueError(f"s is {s}, expected a state in [0, {self.n_states - 1}]")
        return divmod(s, self.n_cols)

    @property
    def target_state(self) -> int:
        return self.state(*self.target)

    @property
    def forbidden_mask(self) -> np.ndarray:
        """Boolean ``(S,)`` mask of the forbidden cells."""
        m = np.zeros(self.n_states, dtype=bool)
        for f in self.forbidden:
            m[self.state(*f)] = True
        return m

    # -- dynamics -----------------------------------------------------------
    def transition(self, s: int, a: int) -> tuple[int, float]:
        """Deterministic next state and reward of action ``a`` in state ``s``."""
        r, c = self.cell(s)
        a = check_int(a, "a", 0)
        if a >= len(ACTIONS):
            raise ValueError(f"a is {a}, expected an action in [0, {len(ACTIONS) - 1}]")
        s2, inside = _move(r, c, a, self.n_rows, self.n_cols)
        if not inside:
            return s, float(self.r_boundary)
        nr, nc = divmod(s2, self.n_cols)
        if (nr, nc) == self.target:
            return s2, float(self.r_target)
        if (nr, nc) in self.forbidden:
            return s2, float(self.r_forbidden)
        return s2, float(self.r_other)

    def to_mdp(self, gamma=None) -> FiniteMDP:
        """The grid world as a :class:`~rlbook.FiniteMDP` (discount ``gamma``
        overrides the grid's own)."""
        g = self.gamma if gamma is None else gamma
        S, A = self.n_states, self.n_actions
        P = np.zeros((S, A, S))
        R = np.zeros((S, A))
        terminal = np.zeros(S, dtype=bool)
        for s in range(S):
            for a in range(A):
                s2, rew = self.transition(s, a)
                P[s, a, s2] = 1.0
                R[s, a] = rew
        if self.terminal_target:
            t = self.target_state
            terminal[t] = True
            P[t] = 0.0
            P[t, :, t] = 1.0
            R[t] = 0.0
        return FiniteMDP(P, R, g, terminal)


def zhao_gridworld(**overrides) -> GridWorld:
    """The 5 x 5 grid world of Zhao's Chapters 2-4 (target (3, 2), six
    forbidden cells, ``r_boundary = r_forbidden = -1``, ``r_target = 1``,
    ``gamma = 0.9``), with any field overridden by keyword."""
    return GridWorld(**overrides)


def sutton_barto_gridworld(gamma: float = 0.9) -> FiniteMDP:
    """Sutton and Barto (2018), Example 3.5: the 5 x 5 grid world with the
    special states A and B.

    Every action in A = (0, 1) earns +10 and moves to A' = (4, 1); every action
    in B = (0, 3) earns +5 and moves to B' = (2, 3). A move off the grid earns
    -1 and leaves the state unchanged; every other move earns 0. Four actions
    (up, right, down, left). The values under the equiprobable policy are
    Figure 3.2 and the optimal values Figure 3.5 of the book.
    """
    n = 5
    S, A = n * n, 4
    P = np.zeros((S, A, S))
    R = np.zeros((S, A))
    special = {(0, 1): ((4, 1), 10.0), (0, 3): ((2, 3), 5.0)}
    for r in range(n):
        for c in range(n):
            s = r * n + c
            for a in range(A):
                if (r, c) in special:
                    (tr, tc), rew = special[(r, c)]
                    P[s, a, tr * n + tc] = 1.0
                    R[s, a] = rew
                    continue
                s2, inside = _move(r, c, a, n, n)
                P[s, a, s2] = 1.0
                R[s, a] = 0.0 if inside else -1.0
    return FiniteMDP(P, R, gamma)


def sutton_barto_small_gridworld(gamma: float = 1.0) -> FiniteMDP:
    """Sutton and Barto (2018), Example 4.1: the 4 x 4 grid world whose two
    opposite corners (states 0 and 15) are one terminal state; every move earns
    -1, moves off the grid leave the state unchanged, ``gamma = 1``. Four
    actions (up, right, down, left). Under the equiprobable policy the values
    are Figure 4.1's ``-14, -18, -20, -22``.
    """
    n = 4
    S, A = n * n, 4
    P = np.zeros((S, A, S))
    R = np.full((S, A), -1.0)
    terminal = np.zeros(S, dtype=bool)
    terminal[[0, S - 1]] = True
    for s in range(S):
        r, c = divmod(s, n)
        for a in range(A):
            if terminal[s]:
                P[s, a, s] = 1.0
                R[s, a] = 0.0
            else:
                P[s, a, _move(r, c, a, n, n)[0]] = 1.0
    return FiniteMDP(P, R, gamma, terminal)
