"""Baird's counterexample (Baird 1995; Sutton and Barto, Example 11.1), chapter C8."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validate import check_gamma
from ..mdp import FiniteMDP

__all__ = ["BairdProblem", "baird_counterexample"]


@dataclass(frozen=True)
class BairdProblem:
    """Baird's seven-state star problem with its features and its two policies."""

    mdp: FiniteMDP
    """Seven states, actions ``0 = dashed`` (to one of states 0-5, uniformly) and
    ``1 = solid`` (to state 6); every reward is 0, so ``v_pi = 0``."""
    Phi: np.ndarray
    """Features ``(7, 8)``: ``phi(i) = 2 e_i + e_7`` for ``i < 6``, ``phi(6) = e_6 + 2 e_7``
    (Sutton and Barto's ``2 w_i + w_8`` and ``w_7 + 2 w_8`` with 0-based indices)."""
    behaviour: np.ndarray
    """The behaviour policy ``b``: dashed with probability 6/7, solid 1/7."""
    target: np.ndarray
    """The target policy ``pi``: always solid."""
    w0: np.ndarray
    """Sutton and Barto's initial weights ``(1, 1, 1, 1, 1, 1, 10, 1)``."""


def baird_counterexample(gamma: float = 0.99) -> BairdProblem:
    """Baird's counterexample as in Sutton and Barto (2018), Example 11.1 (``gamma = 0.99``).

    Under the behaviour policy the state distribution is uniform over the seven
    states (each step lands in the upper states with probability 6/7, uniformly,
    and in state 6 with probability 1/7), the ``d`` that off-policy semi-gradient TD
    weights its updates with.
    """
    g = check_gamma(gamma)
    S = 7
    P = np.zeros((S, 2, S))
    P[:, 0, :6] = 1.0 / 6.0
    P[:, 1, 6] = 1.0
    mdp = FiniteMDP(P, np.zeros((S, 2)), g)
    Phi = np.zeros((S, 8))
    Phi[np.arange(6), np.arange(6)] = 2.0
    Phi[:6, 7] = 1.0
    Phi[6, 6] = 1.0
    Phi[6, 7] = 2.0
    b = np.tile([6.0 / 7.0, 1.0 / 7.0], (S, 1))
    pi = np.tile([0.0, 1.0], (S, 1))
    w0 = np.array([1, 1, 1, 1, 1, 1, 10, 1], dtype=float)
    return BairdProblem(mdp, Phi, b, pi, w0)
