"""Monte Carlo methods (chapter C5): learning values from sampled returns, and
the epsilon-greedy policies that keep exploring."""
from __future__ import annotations

import numbers

import numpy as np

from .._validate import as_float_array
from ..dp.optimality import greedy_actions
from ..mdp import _bool_mask

__all__ = ["epsilon_greedy_policy"]


def _check_epsilon(epsilon) -> float:
    if isinstance(epsilon, bool) or not isinstance(epsilon, numbers.Real):
        raise TypeError(f"epsilon must be a real number in [0, 1], got {epsilon!r}")
    e = float(epsilon)
    if not 0.0 <= e <= 1.0:
        raise ValueError(f"epsilon is {epsilon!r}, expected a number in [0, 1]")
    return e


def epsilon_greedy_policy(q, epsilon, allowed=None) -> np.ndarray:
    r"""The epsilon-greedy policy ``(S, A)`` of action values ``q``.

    .. math:: \pi(a|s) = \begin{cases} 1 - \frac{|\mathcal A(s)| - 1}{|\mathcal A(s)|}\,\epsilon
              & a = a^*(s) \\ \frac{\epsilon}{|\mathcal A(s)|} & a \in \mathcal A(s),\ a \ne a^*(s)
              \\ 0 & a \notin \mathcal A(s) \end{cases}

    where ``a^*(s)`` is the greedy action (ties to the lowest index, as
    :func:`~rlbook.greedy_actions`). The greedy action gets ``epsilon / |A(s)|``
    too, on top of ``1 - epsilon``: every available action has probability at
    least ``epsilon / |A(s)|`` (chapter C5).

    Parameters
    ----------
    q : array_like (S, A)
    epsilon : float in [0, 1]
    allowed : array_like of bool (S, A), optional
        The available actions ``A(s)`` (``mdp.allowed``); all by default.
    """
    q = as_float_array(q, "q", ndim=2)
    eps = _check_epsilon(epsilon)
    allow = _bool_mask(allowed, q.shape, "allowed", default=True)
    n = allow.sum(axis=1)
    if (n == 0).any():
        s = int(np.flatnonzero(n == 0)[0])
        raise ValueError(f"allowed[{s}, :] is all False, expected at least one available action")
    a_star = greedy_actions(q, allowed=allow)
    pi = allow * (eps / n)[:, None]
    pi[np.arange(q.shape[0]), a_star] += 1.0 - eps
    return pi
