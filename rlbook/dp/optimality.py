"""The Bellman optimality equation (Chapter 3).

The optimal state values are the unique fixed point of the optimality operator

.. math:: (T v)(s) = \\max_{a \\in \\mathcal A(s)} \\Big[r(s,a) + \\gamma \\sum_{s'} p(s'|s,a) v(s')\\Big],

a ``gamma``-contraction in the sup norm; a policy greedy with respect to
``v*`` is optimal.

Ties
----
Every greedy choice in :mod:`rlbook` (:func:`greedy_actions`,
:func:`greedy_policy`, the solvers' ``.policy`` and policy iteration's rule
that keeps the current action unless another is strictly better) uses one rule,
:func:`tie_tolerance`: actions whose values are within
``rtol * max_{s, a} |q(s, a)|`` of the best one are tied, and ties go to the
lowest action index. The tolerance is relative to the scale of ``q``, so the
greedy policy is unchanged when every reward is multiplied by ``c > 0``
(C3's invariance theorem: ``q* -> c q*``), and round-off in the last bits of
``q = R + gamma P v``, which is relative to that scale, decides nothing.
"""
from __future__ import annotations

import numpy as np

from .._validate import as_float_array, check_positive, check_vector
from .bellman import _q_from_v
from ..mdp import FiniteMDP, _bool_mask, _check_mdp

__all__ = [
    "bellman_optimality_operator",
    "greedy_policy",
    "greedy_actions",
    "greedy_policy_from_v",
    "tie_tolerance",
    "TIE_RTOL",
]

#: Default relative tie tolerance of every greedy choice (see :func:`tie_tolerance`).
TIE_RTOL = 1e-9


def tie_tolerance(q, rtol: float = TIE_RTOL, allowed=None) -> float:
    r"""The tolerance under which two action values count as tied.

    .. math:: \tau(q) = \text{rtol} \cdot \max_{s,\, a \in \mathcal A(s)} |q(s, a)| .

    Scale-aware: ``tau(c q) = c tau(q)`` for ``c > 0``, so a greedy choice made
    with it is invariant under ``R -> c R``. ``tau = 0`` when ``q`` is all zero
    (only exact ties are ties).

    Parameters
    ----------
    q : array_like (S, A)
    rtol : float >= 0
        Relative tolerance (``TIE_RTOL`` by default).
    allowed : array_like of bool (S, A), optional
        Entries outside ``A(s)`` do not set the scale.
    """
    q = as_float_array(q, "q", ndim=2)
    rtol = check_positive(rtol, "rtol", allow_zero=True)
    allow = _bool_mask(allowed, q.shape, "allowed", default=True)
    return _tie_tol(q, rtol, allow)


def _tie_tol(q, rtol, allow=None):
    a = np.abs(q) if allow is None else np.where(allow, np.abs(q), 0.0)
    return rtol * float(a.max()) if a.size else 0.0


def bellman_optimality_operator(mdp: FiniteMDP, v) -> np.ndarray:
    r"""Apply the Bellman optimality operator once: ``(T v)(s) = max_{a in A(s)} q_v(s, a)``.

    ``q_v = R + gamma P v`` is computed as one matrix-vector product over ``P``
    viewed as ``(S * A, S)``; the maximum is over the available actions
    ``mdp.allowed``. Terminal states map to 0.
    """
    _check_mdp(mdp)
    v = check_vector(v, mdp.n_states, "v")
    q = _q_from_v(mdp, v)
    return np.where(_available(mdp), q, -np.inf).max(axis=1)


def _available(mdp) -> np.ndarray:
    """``mdp.allowed`` with every action of a terminal state counted (their q is 0)."""
    return mdp.allowed | mdp.terminal[:, None]


def _greedy(q, allow, rtol):
    """Greedy actions of a validated ``q`` under the book's tie rule (the one
    implementation: every greedy choice in the package calls it)."""
    return _greedy_parts(q, allow, rtol)[0]


def _greedy_parts(q, allow, rtol):
    """``(greedy actions, max_a q = T v, tie tolerance)``: policy iteration needs all three."""
    qm = q if allow is None else np.where(allow, q, -np.inf)
    best = qm.max(axis=1)
    tie = _tie_tol(q, rtol, allow)
    return np.argmax(qm >= (best - tie)[:, None], axis=1), best, tie


def greedy_actions(q, rtol: float = TIE_RTOL, allowed=None) -> np.ndarray:
    r"""Index of a maximising action in every state, ``(S,)``.

    ``a(s) = min { a in A(s) : q(s, a) >= max_{b in A(s)} q(s, b) - tau(q) }``
    with the scale-aware tie tolerance ``tau`` of :func:`tie_tolerance`: ties
    go to the lowest action index, so round-off in the last bits does not
    decide between actions that are equal in exact arithmetic, and the choice
    is the same for ``q`` and ``c q`` (``c > 0``). With ``allowed`` (a boolean
    ``(S, A)`` mask, Zhao's ``A(s)``) the maximum is over the available
    actions only.

    Parameters
    ----------
    q : array_like (S, A)
    rtol : float >= 0
        Relative tie tolerance; 0 breaks ties only between exactly equal values.
    allowed : array_like of bool (S, A), optional
    """
    q = as_float_array(q, "q", ndim=2)
    rtol = check_positive(rtol, "rtol", allow_zero=True)
    if q.shape[1] == 0:
        raise ValueError(f"q has shape {q.shape}, expected at least one action")
    allow = None
    if allowed is not None:
        allow = _bool_mask(allowed, q.shape, "allowed", default=True)
        if not allow.any(axis=1).all():
            s = int(np.flatnonzero(~allow.any(axis=1))[0])
            raise ValueError(f"allowed[{s}, :] is all False, expected at least one available action")
    return _greedy(q, allow, rtol)


def greedy_policy(q, rtol: float = TIE_RTOL, allowed=None) -> np.ndarray:
    r"""Deterministic greedy policy ``(S, A)`` (one-hot rows) from action values.

    ``pi(a|s) = 1`` for the action :func:`greedy_actions` picks:
    ``argmax_{a in A(s)} q(s, a)``, ties (within the scale-aware tolerance of
    :func:`tie_tolerance`) to the lowest action index.
    """
    q = as_float_array(q, "q", ndim=2)
    a = greedy_actions(q, rtol, allowed)
    pi = np.zeros_like(q)
    pi[np.arange(q.shape[0]), a] = 1.0
    return pi


def greedy_policy_from_v(mdp: FiniteMDP, v, rtol: float = TIE_RTOL) -> np.ndarray:
    """The greedy policy with respect to state values ``v`` (one step of
    look-ahead through the model), over the available actions ``mdp.allowed``."""
    _check_mdp(mdp)
    v = check_vector(v, mdp.n_states, "v")
    return greedy_policy(_q_from_v(mdp, v), rtol, _available(mdp))
