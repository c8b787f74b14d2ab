"""What the model-free learners (Monte Carlo, TD) share: the start-state convention."""
from __future__ import annotations

import numbers

import numpy as np

from .._validate import check_distribution


def check_start(mdp, s0, rho0, *, terminal_mass: bool = False):
    """The start of every episode, validated: ``(s0, None)`` for a fixed start state,
    else ``(None, rho0)`` with ``rho0`` uniform over the non-terminal states by default.

    ``terminal_mass`` allows ``rho0`` to put mass on terminal states (an episode
    started there has no step); a terminal ``s0`` is always refused.
    """
    S = mdp.n_states
    if s0 is not None:
        if rho0 is not None:
            raise ValueError("give rho0 or s0, not both")
        if isinstance(s0, bool) or not isinstance(s0, numbers.Integral):
            raise TypeError(f"s0 must be an integer state, got {s0!r}")
        if not 0 <= s0 < S:
            raise ValueError(f"s0 is {s0}, expected a state in [0, {S - 1}]")
        if mdp.terminal[s0]:
            raise ValueError(f"s0 is {s0}, a terminal state; expected a non-terminal start state "
                             "(an episode from it has no step)")
        return int(s0), None
    live = ~mdp.terminal
    if rho0 is None:
        if not live.any():
            raise ValueError("every state of mdp is terminal; there is nothing to learn")
        rho0 = live / live.sum()
    rho0 = check_distribution(rho0, S, "rho0")
    on_terminal = (rho0 > 0) & mdp.terminal
    if not terminal_mass and on_terminal.any():
        s = int(np.flatnonzero(on_terminal)[0])
        raise ValueError(f"rho0[{s}] is {rho0[s]:.6g} but state {s} is terminal; "
                         "expected start states that are not terminal")
    return None, rho0
