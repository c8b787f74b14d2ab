"""The Bellman equation and policy evaluation (Chapter 2).

State values satisfy ``v_pi = r_pi + gamma P_pi v_pi`` (matrix form), so
``v_pi = (I - gamma P_pi)^{-1} r_pi`` when ``gamma < 1``. This module exposes
the Bellman expectation operator ``T_pi``, the exact solve, iterative
evaluation with its stopping rule and error bound, and the conversions
between state and action values.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sps
import scipy.sparse.csgraph as csgraph

from .._validate import as_float_array, check_int, check_policy, check_positive, check_vector
from ..mdp import FiniteMDP, _check_mdp, check_mdp_policy, policy_matrices

__all__ = [
    "bellman_expectation_operator",
    "evaluate_policy",
    "iterative_policy_evaluation",
    "PolicyEvaluationResult",
    "q_from_v",
    "v_from_q",
]


def bellman_expectation_operator(mdp: FiniteMDP, pi, v) -> np.ndarray:
    r"""Apply the Bellman expectation operator ``T_pi`` once.

    .. math:: (T_\pi v)(s) = \sum_a \pi(a|s)\,[r(s,a) + \gamma \sum_{s'} p(s'|s,a) v(s')],

    i.e. ``T_pi v = r_pi + gamma P_pi v``. Terminal states map to 0.

    Parameters
    ----------
    mdp : FiniteMDP
    pi : array_like, shape (S, A)
    v : array_like, shape (S,)
    """
    _check_mdp(mdp)
    pi = check_mdp_policy(mdp, pi)
    v = check_vector(v, mdp.n_states, "v")
    return _T_pi(mdp, pi, v)


def _T_pi(mdp, pi, v):
    q = mdp.R + mdp.gamma * (mdp.P_flat @ v).reshape(mdp.n_states, mdp.n_actions)
    out = np.einsum("sa,sa->s", pi, q)
    out[mdp.terminal] = 0.0
    return out


def q_from_v(mdp: FiniteMDP, v) -> np.ndarray:
    r"""Action values from state values: ``q(s, a) = r(s, a) + gamma sum_s' p(s'|s, a) v(s')``.

    Returns an ``(S, A)`` array. Terminal states get ``q = 0``.
    """
    _check_mdp(mdp)
    v = check_vector(v, mdp.n_states, "v")
    return _q_from_v(mdp, v)


def _q_from_v(mdp, v):
    q = mdp.R + mdp.gamma * (mdp.P_flat @ v).reshape(mdp.n_states, mdp.n_actions)
    q[mdp.terminal] = 0.0
    return q


def v_from_q(pi, q) -> np.ndarray:
    r"""State values from action values: ``v(s) = sum_a pi(a|s) q(s, a)``."""
    q = as_float_array(q, "q", ndim=2)
    pi = as_float_array(pi, "pi", ndim=2)
    if pi.shape != q.shape:
        raise ValueError(f"pi has shape {pi.shape} and q has shape {q.shape}, expected the same (S, A)")
    pi = check_policy(pi, *q.shape)
    return np.einsum("sa,sa->s", pi, q)


def _proper_check(mdp, P_pi):
    """Raise if some non-terminal state never reaches a terminal state."""
    term = mdp.terminal
    if not term.any():
        raise ValueError(
            "gamma is 1 and the MDP has no terminal state, so the discounted sum of rewards "
            "need not converge; give a discount factor below 1 or mark terminal states")
    # States that reach the terminal set: breadth-first search on the reversed graph.
    graph = sps.csr_matrix((P_pi > 0).T.astype(np.int8))
    S = mdp.n_states
    reach = np.zeros(S, dtype=bool)
    for t in np.flatnonzero(term):
        order = csgraph.breadth_first_order(graph, t, directed=True, return_predecessors=False)
        reach[order] = True
    stuck = np.flatnonzero(~reach)
    if stuck.size:
        raise ValueError(
            f"pi is improper: from state {int(stuck[0])} (and {stuck.size - 1} other state(s)) a "
            "terminal state is never reached, so with gamma = 1 its value is not defined")


def evaluate_policy(mdp: FiniteMDP, pi) -> np.ndarray:
    r"""Exact state values of a policy.

    Solves the Bellman equation in matrix form
    ``(I - gamma P_pi) v_pi = r_pi`` on the non-terminal states, with
    ``v_pi = 0`` on terminal states (Chapter 2).

    With ``gamma == 1`` the policy must be *proper*: from every state it
    reaches a terminal state with probability one. An improper policy raises a
    :class:`ValueError` naming a state that never terminates.

    Parameters
    ----------
    mdp : FiniteMDP
    pi : array_like, shape (S, A)

    Returns
    -------
    v : ndarray, shape (S,)
    """
    P_pi, r_pi = policy_matrices(mdp, pi)
    return _solve_v(mdp, P_pi, r_pi)


def _solve_live(mdp, P_pi, b, transpose=False):
    """Solve ``(I - gamma P_pi) x = b`` (or its transpose) on the non-terminal
    states, with ``x = 0`` on terminal states; with ``gamma = 1`` the policy
    must be proper. State values (``b = r_pi``) and the discounted visitation
    (``b = rho0``, transposed) are both this one system."""
    if mdp.gamma == 1.0:
        _proper_check(mdp, P_pi)
    live = ~mdp.terminal
    x = np.zeros(mdp.n_states)
    sub = P_pi if live.all() else P_pi[np.ix_(live, live)]
    M = sub * (-mdp.gamma)          # M = I - gamma P, built without an identity matrix
    M.flat[:: M.shape[0] + 1] += 1.0
    if live.all():
        x[:] = np.linalg.solve(M.T if transpose else M, b)
    else:
        x[live] = np.linalg.solve(M.T if transpose else M, b[live])
    return x


def _solve_v(mdp, P_pi, r_pi):
    return _solve_live(mdp, P_pi, r_pi)


@dataclass(frozen=True)
class PolicyEvaluationResult:
    """Result of :func:`iterative_policy_evaluation`.

    Attributes
    ----------
    v : ndarray (S,)
        The last iterate ``v_{k}``.
    num_iter : int
        Number of applications of ``T_pi``.
    deltas : ndarray (num_iter,)
        ``||v_{j+1} - v_j||_inf`` for every sweep.
    error_bound : float
        A bound on ``||v - v_pi||_inf``: ``gamma / (1 - gamma)`` times the last
        delta (``inf`` when ``gamma == 1``, where no such bound holds).
    converged : bool
    """

    v: np.ndarray
    num_iter: int
    deltas: np.ndarray
    error_bound: float
    converged: bool


def iterative_policy_evaluation(mdp: FiniteMDP, pi, v0=None, tol: float = 1e-10,
                                max_iter: int = 100_000) -> PolicyEvaluationResult:
    r"""Evaluate a policy by iterating ``v_{k+1} = r_pi + gamma P_pi v_k``.

    ``T_pi`` is a ``gamma``-contraction in the sup norm, so the iterates
    converge geometrically and, after each sweep,

    .. math:: \|v_{k+1} - v_\pi\|_\infty \le \frac{\gamma}{1-\gamma}\|v_{k+1} - v_k\|_\infty .

    Iteration stops as soon as that bound is below ``tol`` (for ``gamma == 1``,
    as soon as a sweep changes no value by more than ``tol``).

    Parameters
    ----------
    mdp : FiniteMDP
    pi : array_like, shape (S, A)
    v0 : array_like, shape (S,), optional
        Starting values (zeros by default).
    tol : float
        Target accuracy in the sup norm.
    max_iter : int
        Maximum number of sweeps; ``converged`` is false if it is reached.
    """
    P_pi, r_pi = policy_matrices(mdp, pi)
    tol = check_positive(tol, "tol")
    max_iter = check_int(max_iter, "max_iter", 1)
    v = np.zeros(mdp.n_states) if v0 is None else check_vector(v0, mdp.n_states, "v0").copy()
    v[mdp.terminal] = 0.0
    g = mdp.gamma
    if g == 1.0:
        _proper_check(mdp, P_pi)
    deltas = []
    converged = False
    for _ in range(max_iter):
        v_new = r_pi + g * (P_pi @ v)
        v_new[mdp.terminal] = 0.0
        d = float(np.max(np.abs(v_new - v)))
        deltas.append(d)
        v = v_new
        if (g < 1 and g * d <= tol * (1 - g)) or (g == 1 and d <= tol):
            converged = True
            break
    bound = g / (1 - g) * deltas[-1] if g < 1 else float("inf")
    return PolicyEvaluationResult(v=v, num_iter=len(deltas), deltas=np.asarray(deltas),
                                  error_bound=float(bound), converged=converged)
