"""The average-reward setting (chapter C9 *Policy gradient methods*).

A policy ``pi`` with transition matrix ``P_pi`` and rewards ``r_pi`` has

* a stationary distribution ``d_pi`` (``d_pi^T P_pi = d_pi^T``, ``sum d_pi = 1``),
  unique exactly when ``P_pi`` has a single closed communicating class;
* the long-run average reward ``r_bar = d_pi^T r_pi``;
* differential values ``h`` solving the Poisson equation
  ``h + r_bar 1 = r_pi + P_pi h`` with ``d_pi^T h = 0``;
* the gradient of ``r_bar`` (Sutton et al. 2000, Theorem 1)
  ``grad r_bar = sum_s d_pi(s) sum_a grad pi(a|s) q_diff(s, a)``.

Every function here needs a unique stationary distribution and says so when the
chain under ``pi`` has several closed classes. Discounting plays no role: the
MDP's ``gamma`` is ignored, except by :func:`stationary_weighted_gradient`,
which mixes the stationary distribution with discounted action values.
"""
from __future__ import annotations

import numpy as np
from scipy.sparse.csgraph import connected_components

from .._validate import check_policy
from ..dp.bellman import _q_from_v
from ..mdp import FiniteMDP, _check_mdp, _policy_matrices
from .objectives import _check_theta, softmax_policy

__all__ = [
    "closed_classes",
    "stationary_distribution",
    "average_reward",
    "differential_values",
    "differential_action_values",
    "average_reward_gradient",
    "stationary_weighted_gradient",
]


def _P_r(mdp, pi):
    _check_mdp(mdp)
    pi = check_policy(pi, mdp.n_states, mdp.n_actions)
    return _policy_matrices(mdp, pi)


def _closed_classes(P_pi):
    n, labels = connected_components(P_pi > 0, directed=True, connection="strong")
    out = []
    for c in range(n):
        members = np.flatnonzero(labels == c)
        outside = np.ones(len(P_pi), dtype=bool)
        outside[members] = False
        if not (P_pi[np.ix_(members, outside)] > 0).any():  # no probability leaves the class
            out.append(members)
    return out


def closed_classes(mdp: FiniteMDP, pi) -> list:
    """The closed communicating classes of ``P_pi`` (lists of states, in increasing order).

    A class is a maximal set of states that all reach each other with positive
    probability; it is closed when no transition leaves it. Every finite chain
    has at least one closed class; the stationary distribution is unique exactly
    when there is one, and it is then supported on that class (the other states
    are transient and get probability 0).

    Parameters
    ----------
    mdp : FiniteMDP
    pi : array_like (S, A)
    """
    P_pi, _ = _P_r(mdp, pi)
    return [list(map(int, c)) for c in _closed_classes(P_pi)]


def _stationary(P_pi):
    classes = _closed_classes(P_pi)
    if len(classes) != 1:
        shown = "; ".join("{" + ", ".join(map(str, c[:8])) + (", ..." if len(c) > 8 else "") + "}"
                          for c in classes[:4])
        raise ValueError(
            f"P_pi has {len(classes)} closed classes ({shown}{'; ...' if len(classes) > 4 else ''}), "
            "so its stationary distribution is not unique; the average-reward functions need "
            "exactly one closed class (a unichain policy), e.g. a policy under which every "
            "state can reach one common state")
    C = classes[0]
    # on the closed class the chain is irreducible: d_C^T (I - P_CC) = 0 has a
    # one-dimensional solution space; replacing one equation by sum d_C = 1 makes
    # the system nonsingular, so the solve is exact (no least squares, no clipping)
    M = np.eye(len(C)) - P_pi[np.ix_(C, C)].T
    M[-1] = 1.0
    rhs = np.zeros(len(C))
    rhs[-1] = 1.0
    d = np.zeros(len(P_pi))
    d[C] = np.linalg.solve(M, rhs)
    return d


def stationary_distribution(mdp: FiniteMDP, pi) -> np.ndarray:
    r"""Stationary distribution ``d_pi`` of ``P_pi``: ``d_pi^T P_pi = d_pi^T``, ``sum_s d_pi(s) = 1``.

    Solved exactly on the unique closed class ``C`` of ``P_pi`` (irreducible
    there, so the balance equations with one of them replaced by the
    normalisation are nonsingular); transient states get 0.

    Parameters
    ----------
    mdp : FiniteMDP
    pi : array_like (S, A)

    Returns
    -------
    d : ndarray (S,)

    Raises
    ------
    ValueError
        If ``P_pi`` has more than one closed class (the stationary distribution
        is then not unique); the message lists the classes.

    Notes
    -----
    Periodic chains are allowed: ``d_pi`` is then the Cesaro limit of
    ``rho0^T P_pi^t``, not its limit. Chapter C9 contrasts ``d_pi`` with the
    normalised discounted visitation ``(1 - gamma) eta``, which depends on
    ``rho0`` and equals ``d_pi`` only when ``rho0 = d_pi``.
    """
    P_pi, _ = _P_r(mdp, pi)
    return _stationary(P_pi)


def average_reward(mdp: FiniteMDP, pi) -> float:
    r"""``r_bar = sum_s d_pi(s) r_pi(s)``, the long-run average reward
    ``lim_n (1/n) E[sum_{t<n} R_{t+1}]`` (the same from every start state for a
    unichain policy).

    Notes
    -----
    For ``gamma < 1``, ``r_bar = (1 - gamma) d_pi^T v_pi`` (chapter *The policy
    gradient theorem*), because ``d_pi^T (I - gamma P_pi)^{-1} = d_pi^T / (1 - gamma)``.
    Raises ``ValueError`` when ``d_pi`` is not unique.
    """
    P_pi, r_pi = _P_r(mdp, pi)
    return float(_stationary(P_pi) @ r_pi)


def _differential(P_pi, r_pi):
    d = _stationary(P_pi)
    r_bar = float(d @ r_pi)
    # (I - P_pi + 1 d^T) is nonsingular for a unichain P_pi; its solution h of
    # (I - P_pi + 1 d^T) h = r_pi - r_bar 1 has d^T h = d^T (r_pi - r_bar 1) = 0
    # (since d^T (I - P_pi + 1 d^T) = d^T), and then solves the Poisson equation.
    M = -P_pi + d[None, :]
    M.flat[:: len(P_pi) + 1] += 1.0
    h = np.linalg.solve(M, r_pi - r_bar)
    return d, r_bar, h


def differential_values(mdp: FiniteMDP, pi) -> np.ndarray:
    r"""Differential (relative) values ``h`` of ``pi``: the solution of the Poisson equation

    .. math:: h + \bar r\, \mathbf 1 = r_\pi + P_\pi h, \qquad d_\pi^\top h = 0,

    i.e. ``h(s) = lim_n E[sum_{t<n} (R_{t+1} - r_bar) | S_0 = s]`` (Cesaro limit
    for periodic chains). Computed as ``(I - P_pi + 1 d_pi^T)^{-1} (r_pi - r_bar 1)``.

    Parameters
    ----------
    mdp : FiniteMDP
        Its ``gamma`` is not used.
    pi : array_like (S, A)

    Returns
    -------
    h : ndarray (S,)
    """
    P_pi, r_pi = _P_r(mdp, pi)
    return _differential(P_pi, r_pi)[2]


def differential_action_values(mdp: FiniteMDP, pi) -> np.ndarray:
    r"""Differential action values ``q(s, a) = r(s, a) - r_bar + sum_s' p(s'|s, a) h(s')``, ``(S, A)``.

    They satisfy ``sum_a pi(a|s) q(s, a) = h(s)``.
    """
    P_pi, r_pi = _P_r(mdp, pi)
    _, r_bar, h = _differential(P_pi, r_pi)
    return mdp.R - r_bar + mdp.P @ h


def average_reward_gradient(mdp: FiniteMDP, theta) -> np.ndarray:
    r"""``grad_theta r_bar`` of the tabular softmax ``pi = softmax(theta)`` by the
    average-reward policy gradient theorem (Sutton et al. 2000, Theorem 1):

    .. math:: \nabla_\theta \bar r = \sum_s d_\pi(s) \sum_a \nabla_\theta \pi(a|s)\, q(s, a),
              \qquad \frac{\partial \bar r}{\partial \theta_{s,a}} = d_\pi(s)\, \pi(a|s)\,\big(q(s,a) - h(s)\big),

    with the differential action values ``q`` and values ``h``.

    Parameters
    ----------
    mdp : FiniteMDP
        Its ``gamma`` is not used.
    theta : array_like (S, A)

    Returns
    -------
    grad : ndarray (S, A)

    Raises
    ------
    ValueError
        If ``theta`` does not have shape ``(S, A)`` or ``P_pi`` has several
        closed classes.
    """
    _check_mdp(mdp)
    theta = _check_theta(mdp, theta)
    pi = softmax_policy(theta)
    P_pi, r_pi = _policy_matrices(mdp, pi)
    d, r_bar, h = _differential(P_pi, r_pi)
    q = mdp.R - r_bar + mdp.P @ h
    return d[:, None] * pi * (q - h[:, None])


def stationary_weighted_gradient(mdp: FiniteMDP, theta) -> np.ndarray:
    r"""The direction ``g = sum_s d_pi(s) sum_a grad pi(a|s) q_gamma(s, a)`` (tabular softmax).

    The stationary distribution weights the *discounted* action values: this is
    Zhao's approximation of ``grad r_bar`` in the discounted case, and the
    expected update of the usual estimator that drops ``gamma^t`` when states are
    drawn from ``d_pi`` (Nota and Thomas 2020). It is not the gradient of any
    function in general; as ``gamma -> 1`` it tends to ``grad r_bar``
    (:func:`average_reward_gradient`) with an error ``O(1 - gamma)``.

    .. math:: g_{s,a} = d_\pi(s)\, \pi(a|s)\, \big(q_\gamma(s,a) - v_\gamma(s)\big).

    Parameters
    ----------
    mdp : FiniteMDP
        With ``gamma < 1``.
    theta : array_like (S, A)
    """
    _check_mdp(mdp)
    if not mdp.gamma < 1.0:
        raise ValueError(f"mdp.gamma is {mdp.gamma}, expected gamma < 1 (discounted action values)")
    if mdp.terminal.any():
        raise ValueError("mdp has terminal states; the stationary weighting needs a continuing task")
    theta = _check_theta(mdp, theta)
    pi = softmax_policy(theta)
    P_pi, r_pi = _policy_matrices(mdp, pi)
    d = _stationary(P_pi)
    M = -mdp.gamma * P_pi
    M.flat[:: len(P_pi) + 1] += 1.0
    v = np.linalg.solve(M, r_pi)
    q = _q_from_v(mdp, v)
    return d[:, None] * pi * (q - v[:, None])
