"""Value iteration, policy iteration and truncated policy iteration (Chapter 4).

All three solve the Bellman optimality equation. A sweep of value iteration is
one matrix-vector product over ``P`` viewed as ``(S * A, S)``; see
``benchmarks/dp.py`` for its cost against that floor.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validate import check_int, check_positive, check_vector
from .bellman import _solve_v
from ..mdp import FiniteMDP, _check_mdp, _policy_matrices, check_mdp_policy, uniform_policy
from .optimality import greedy_actions, greedy_policy

__all__ = ["SolveResult", "value_iteration", "policy_iteration", "truncated_policy_iteration"]


@dataclass(frozen=True)
class SolveResult:
    """What a dynamic-programming solver returns.

    Attributes
    ----------
    v : ndarray (S,)
        Estimate of the optimal state values ``v*``.
    policy : ndarray (S, A)
        Greedy one-hot policy with respect to ``v`` (ties to the lowest action).
    q : ndarray (S, A)
        ``R + gamma P v``.
    num_iter : int
        Iterations: sweeps of value iteration; improvement steps of (truncated)
        policy iteration.
    residuals : ndarray (num_iter,)
        Bellman residual ``||T v_k - v_k||_inf`` at every iteration.
    history : ndarray (num_iter + 1, S) or None
        The value iterates ``v_0, v_1, ...`` when ``record=True``.
    converged : bool
        Whether the stopping rule was met before ``max_iter``.
    """

    v: np.ndarray
    policy: np.ndarray
    q: np.ndarray
    num_iter: int
    residuals: np.ndarray
    history: np.ndarray | None
    converged: bool


def _setup(mdp, tol, max_iter, v0):
    _check_mdp(mdp)
    tol = check_positive(tol, "tol")
    max_iter = check_int(max_iter, "max_iter", 1)
    v = np.zeros(mdp.n_states) if v0 is None else check_vector(v0, mdp.n_states, "v0").copy()
    v[mdp.terminal] = 0.0
    g = mdp.gamma
    # ||T v - v|| <= thresh  implies  ||T v - v*|| <= tol  (contraction bound).
    thresh = tol * (1 - g) / g if 0 < g < 1 else tol
    return tol, max_iter, v, thresh


class _Backup:
    """``q = R + gamma P v`` with preallocated buffers (the hot loop)."""

    def __init__(self, mdp):
        self.S, self.A = mdp.n_states, mdp.n_actions
        self.P_flat = np.ascontiguousarray(mdp.P_flat)
        self.R_flat = mdp.R.ravel().copy()
        self.gamma = mdp.gamma
        self.term = mdp.terminal if mdp.terminal.any() else None
        self.q = np.empty(self.S * self.A)
        self.w = np.empty(self.S)
        q2 = self.q.reshape(self.S, self.A)
        # column views of the q buffer, built once: max over actions without
        # NumPy's slow reduction along a short last axis
        self.cols = [q2[:, a] for a in range(self.A)] if 1 < self.A <= 16 else None

    def max_into(self, out):
        """``out[s] = max_a q[s, a]`` for the q of the last call."""
        if self.cols is None:
            return np.max(self.q.reshape(self.S, self.A), axis=1, out=out)
        cols = self.cols
        np.maximum(cols[0], cols[1], out=out)
        for c in cols[2:]:
            np.maximum(out, c, out=out)
        return out

    def __call__(self, v):
        q = self.q
        np.multiply(v, self.gamma, out=self.w)  # scale the S-vector, not the S*A result
        np.dot(self.P_flat, self.w, out=q)
        q += self.R_flat
        q2 = q.reshape(self.S, self.A)
        if self.term is not None:
            q2[self.term] = 0.0
        return q2


def _result(mdp, v, backup, n, residuals, history, converged):
    q = backup(v).copy()
    return SolveResult(v=v, policy=greedy_policy(q), q=q, num_iter=n,
                       residuals=np.asarray(residuals), converged=converged,
                       history=None if history is None else np.asarray(history))


def value_iteration(mdp: FiniteMDP, tol: float = 1e-8, max_iter: int = 100_000, v0=None,
                    record: bool = False) -> SolveResult:
    r"""Value iteration: ``v_{k+1} = T v_k = max_a [R + gamma P v_k]``.

    Stops when ``||v_{k+1} - v_k||_inf <= tol (1 - gamma) / gamma``, which
    guarantees ``||v_{k+1} - v*||_inf <= tol`` (for ``gamma = 1``, when the
    change is below ``tol``).

    Parameters
    ----------
    mdp : FiniteMDP
    tol : float
        Accuracy of the returned values in the sup norm.
    max_iter : int
        Maximum number of sweeps (``converged`` is false if reached).
    v0 : array_like (S,), optional
        Initial values (zeros by default).
    record : bool
        Keep every iterate in ``result.history`` (for convergence plots).
    """
    tol, max_iter, v, thresh = _setup(mdp, tol, max_iter, v0)
    backup = _Backup(mdp)
    history = [v.copy()] if record else None
    residuals = []
    converged = False
    v_new = np.empty_like(v)
    diff = np.empty_like(v)
    for _ in range(max_iter):
        # hot loop: one (S*A, S) mat-vec, then O(S*A) work with no allocation
        backup(v)
        backup.max_into(v_new)
        np.subtract(v_new, v, out=diff)
        np.abs(diff, out=diff)
        d = float(diff.max())
        residuals.append(d)
        v, v_new = v_new, v
        if record:
            history.append(v.copy())
        if d <= thresh:
            converged = True
            break
    return _result(mdp, v, backup, len(residuals), residuals, history, converged)


def policy_iteration(mdp: FiniteMDP, pi0=None, max_iter: int = 10_000, record: bool = False
                     ) -> SolveResult:
    r"""Policy iteration: exact evaluation ``v_k = (I - gamma P_{pi_k})^{-1} r_{pi_k}``,
    then greedy improvement ``pi_{k+1} = argmax_a q_{v_k}``.

    Values improve monotonically (``v_{k+1} >= v_k``) and the policy is stable
    after finitely many steps; an action is only replaced by a strictly better
    one (by more than 1e-12 relative), so round-off cannot make it cycle.

    Parameters
    ----------
    mdp : FiniteMDP
    pi0 : array_like (S, A), optional
        Initial policy (uniform by default). With ``gamma = 1`` it must be
        proper.
    max_iter : int
    record : bool
        Keep ``v_{pi_0}, v_{pi_1}, ...`` in ``result.history``.
    """
    _check_mdp(mdp)
    max_iter = check_int(max_iter, "max_iter", 1)
    S, A = mdp.n_states, mdp.n_actions
    pi = uniform_policy(S, A, mdp.allowed) if pi0 is None else check_mdp_policy(mdp, pi0, "pi0")
    backup = _Backup(mdp)
    history = [] if record else None
    residuals = []
    rows = np.arange(S)
    actions = None
    converged = False
    for _ in range(max_iter):
        if actions is None:
            P_pi, r_pi = _policy_matrices(mdp, pi)
        else:  # deterministic policy: P_pi is a gather of one row per state
            P_pi, r_pi = mdp.P[rows, actions], mdp.R[rows, actions]
        v = _solve_v(mdp, P_pi, r_pi)
        if record:
            history.append(v.copy())
        q = backup(v)
        best = q.max(axis=1)
        residuals.append(float(np.max(np.abs(best - v))))
        new = greedy_actions(q, atol=0.0)
        if actions is not None:
            keep = q[rows, actions] >= best - 1e-12 * max(1.0, float(np.abs(best).max()))
            new = np.where(keep, actions, new)
            if np.array_equal(new, actions):
                converged = True
                break
        actions = new
    return _result(mdp, v, backup, len(residuals), residuals, history, converged)


def truncated_policy_iteration(mdp: FiniteMDP, n_eval: int, tol: float = 1e-8,
                               max_iter: int = 100_000, v0=None, record: bool = False
                               ) -> SolveResult:
    r"""Truncated policy iteration: greedy improvement, then ``n_eval`` sweeps of
    ``T_pi`` starting from the current values.

    ``n_eval = 1`` is value iteration; ``n_eval -> inf`` is policy iteration.
    Each iteration computes the Bellman residual ``||T v_k - v_k||_inf`` for
    free; iteration stops when it is below ``tol (1 - gamma) / gamma`` and
    returns ``T v_k``, within ``tol`` of ``v*``.

    Parameters
    ----------
    mdp : FiniteMDP
    n_eval : int
        Evaluation sweeps per improvement (at least 1).
    tol, max_iter, v0, record
        As in :func:`value_iteration`.
    """
    n_eval = check_int(n_eval, "n_eval", 1)
    tol, max_iter, v, thresh = _setup(mdp, tol, max_iter, v0)
    backup = _Backup(mdp)
    rows = np.arange(mdp.n_states)
    history = [v.copy()] if record else None
    residuals = []
    converged = False
    for _ in range(max_iter):
        q = backup(v)
        a = greedy_actions(q, atol=0.0)
        tv = q[rows, a].copy()  # T v_k, also the first evaluation sweep
        d = float(np.max(np.abs(tv - v)))
        residuals.append(d)
        v = tv
        if d <= thresh:
            converged = True
            if record:
                history.append(v.copy())
            break
        for _ in range(n_eval - 1):
            v = backup(v)[rows, a].copy()
        if record:
            history.append(v.copy())
    return _result(mdp, v, backup, len(residuals), residuals, history, converged)
