"""The Bellman optimality equation (Chapter 3).

The optimal state values are the unique fixed point of the optimality operator

.. math:: (T v)(s) = \\max_a \\Big[r(s,a) + \\gamma \\sum_{s'} p(s'|s,a) v(s')\\Big],

a ``gamma``-contraction in the sup norm; a policy greedy with respect to
``v*`` is optimal.
"""
from __future__ import annotations

import numpy as np

from .._validate import as_float_array, check_positive, check_vector
from .bellman import _q_from_v
from ..mdp import FiniteMDP, _bool_mask, _check_mdp

__all__ = ["bellman_optimality_operator", "greedy_policy", "greedy_actions", "greedy_policy_from_v"]


def bellman_optimality_operator(mdp: FiniteMDP, v) -> np.ndarray:
    r"""Apply the Bellman optimality operator once: ``(T v)(s) = max_a q_v(s, a)``.

    ``q_v = R + gamma P v`` is computed as one matrix-vector product over ``P``
    viewed as ``(S * A, S)``. Terminal states map to 0.
    """
    _check_mdp(mdp)
    v = check_vector(v, mdp.n_states, "v")
    return _q_from_v(mdp, v).max(axis=1)


def greedy_actions(q, atol: float = 1e-10, allowed=None) -> np.ndarray:
    """Index of a maximising action in every state, ``(S,)``.

    Actions whose value is within ``atol`` of the maximum count as tied, and
    ties go to the lowest action index (so that round-off in the last bits
    does not decide between actions that are equal in exact arithmetic).
    With ``allowed`` (a boolean ``(S, A)`` mask, Zhao's ``A(s)``) the maximum
    is over the available actions only.
    """
    q = as_float_array(q, "q", ndim=2)
    atol = check_positive(atol, "atol", allow_zero=True)
    if q.shape[1] == 0:
        raise ValueError(f"q has shape {q.shape}, expected at least one action")
    if allowed is not None:
        allow = _bool_mask(allowed, q.shape, "allowed", default=True)
        if not allow.any(axis=1).all():
            s = int(np.flatnonzero(~allow.any(axis=1))[0])
            raise ValueError(f"allowed[{s}, :] is all False, expected at least one available action")
        q = np.where(allow, q, -np.inf)
    best = q.max(axis=1, keepdims=True)
    return np.argmax(q >= best - atol, axis=1)


def greedy_policy(q, atol: float = 1e-10, allowed=None) -> np.ndarray:
    r"""Deterministic greedy policy ``(S, A)`` (one-hot rows) from action values.

    ``pi(a|s) = 1`` for ``a = argmax_{a in A(s)} q(s, a)``; ties (within ``atol``)
    go to the lowest action index; ``allowed`` restricts the argmax to ``A(s)``.
    """
    q = as_float_array(q, "q", ndim=2)
    a = greedy_actions(q, atol, allowed)
    pi = np.zeros_like(q)
    pi[np.arange(q.shape[0]), a] = 1.0
    return pi


def greedy_policy_from_v(mdp: FiniteMDP, v, atol: float = 1e-10) -> np.ndarray:
    """The greedy policy with respect to state values ``v`` (one step of
    look-ahead through the model)."""
    _check_mdp(mdp)
    v = check_vector(v, mdp.n_states, "v")
    return greedy_policy(_q_from_v(mdp, v), atol)
