"""Value iteration, policy iteration and truncated policy iteration (Chapter 4).

All three solve the Bellman optimality equation, and all three are read the
same way (Zhao, Chapter 4): from values ``v_0``, iteration ``k`` makes the
policy ``pi_k`` greedy with respect to ``v_{k-1}`` and computes ``v_k``:

* value iteration: ``v_k = T_{pi_k} v_{k-1} = T v_{k-1}`` (one sweep);
* truncated policy iteration: ``v_k = T_{pi_k}^{n_eval} v_{k-1}``;
* policy iteration: ``v_k = v_{pi_k}`` (exact evaluation).

A sweep is one matrix-vector product over ``P`` viewed as ``(S * A, S)``; see
``benchmarks/dp.py`` for its cost against that floor. Greedy choices follow the
book's one tie rule (:func:`~rlbook.tie_tolerance`), and maxima are over the
available actions ``mdp.allowed``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sps
import scipy.sparse.csgraph as csgraph

from .._validate import check_int, check_positive, check_vector
from .bellman import _solve_v
from ..mdp import FiniteMDP, _check_mdp, _policy_matrices, check_mdp_policy, uniform_policy
from .optimality import TIE_RTOL, _available, _greedy, _greedy_parts

__all__ = ["SolveResult", "value_iteration", "policy_iteration", "truncated_policy_iteration",
           "check_undiscounted"]


@dataclass(frozen=True)
class SolveResult:
    """What a dynamic-programming solver returns.

    Attributes
    ----------
    v : ndarray (S,)
        Estimate of the optimal state values ``v*``: the last iterate ``v_K``.
    policy : ndarray (S, A)
        Greedy one-hot policy with respect to ``v`` (the book's tie rule,
        :func:`~rlbook.tie_tolerance`; lowest action index among ties).
    q : ndarray (S, A)
        ``R + gamma P v``.
    num_iter : int
        ``K``, the number of iterations ``v_{k-1} -> v_k``: sweeps of value
        iteration, improvement-and-evaluation steps of (truncated) policy
        iteration.
    residuals : ndarray (num_iter,)
        ``residuals[k - 1] = ||T v_{k-1} - v_{k-1}||_inf``, the Bellman residual
        of the values iteration ``k`` starts from (for value iteration this is
        ``||v_k - v_{k-1}||_inf``).
    history : ndarray (num_iter + 1, S) or None
        The iterates ``v_0, v_1, ..., v_K`` when ``record=True``, for all three
        solvers (``v_0`` is the starting point: ``v0``, or for policy iteration
        without ``v0`` the values of ``pi0``).
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


def check_undiscounted(mdp: FiniteMDP) -> None:
    r"""Refuse an undiscounted (``gamma = 1``) MDP whose optimal values may diverge.

    With ``gamma = 1`` the optimality equation is a stochastic shortest path
    problem; value and policy iteration converge when (Bertsekas and
    Tsitsiklis 1991) (i) from every state some policy reaches a terminal state
    with probability 1, and (ii) every *improper* policy (one that can avoid the
    terminal states forever) collects ``-inf`` reward. This function checks
    (i) exactly and (ii) through a sufficient condition: in the set ``W`` of
    states from which the terminal states can be avoided forever, every action
    that keeps the agent in ``W`` and can lead back to its state (it lies on a
    cycle of such actions) pays a strictly negative reward. Does nothing when
    ``gamma < 1``.

    Raises
    ------
    ValueError
        When the MDP has no terminal state, a state cannot reach one, or a loop
        that avoids the terminal states forever pays a reward ``>= 0`` (the
        message names the state and action).
    """
    _check_mdp(mdp)
    if mdp.gamma < 1.0:
        return
    term = mdp.terminal
    avail = _available(mdp)
    if not term.any():
        raise ValueError(
            "gamma is 1 and the MDP has no terminal state, so the sum of rewards need not "
            "converge (value iteration would return ever larger numbers); give a discount "
            "factor below 1 or mark terminal states")
    # (i) states that some policy takes to a terminal state: reverse reachability on the
    # graph with an edge s -> s' when an available action moves s to s' with positive probability
    edges = ((mdp.P > 0) & avail[:, :, None]).any(axis=1)
    graph = sps.csr_matrix(edges.T.astype(np.int8))
    reach = term.copy()
    for t in np.flatnonzero(term):
        reach[csgraph.breadth_first_order(graph, t, directed=True, return_predecessors=False)] = True
    if not reach.all():
        s = int(np.flatnonzero(~reach)[0])
        raise ValueError(
            f"gamma is 1 but no policy reaches a terminal state from state {s}, so its value "
            "is not defined; give a discount factor below 1")
    # (ii) W: the greatest set of non-terminal states where some available action keeps
    # every successor inside W (a policy can stay there forever)
    W = ~term
    while True:
        stays = avail & ~(mdp.P[:, :, ~W] > 0).any(axis=2)
        W_new = W & stays.any(axis=1)
        if np.array_equal(W_new, W):
            break
        W = W_new
    # an improper policy's closed class lies in one strongly connected component of the
    # graph of W-keeping actions: an action on such a cycle must pay a negative reward
    keep = stays & W[:, None]
    n_comp, comp = csgraph.connected_components(
        sps.csr_matrix(((mdp.P > 0) & keep[:, :, None]).any(axis=1).astype(np.int8)),
        directed=True, connection="strong")
    same = (mdp.P > 0) & (comp[None, None, :] == comp[:, None, None])
    trap = keep & same.any(axis=2) & (mdp.R >= 0)
    if trap.any():
        s, a = (int(i) for i in np.argwhere(trap)[0])
        raise ValueError(
            f"gamma is 1 and action {a} in state {s} lies on a loop that avoids the terminal "
            f"states with reward R[{s}, {a}] = {mdp.R[s, a]:.6g} >= 0: a policy can avoid "
            "termination forever without losing reward, so the values may diverge or the "
            "optimality equation may have many solutions; give a discount factor below 1")


def _setup(mdp, tol, max_iter, v0):
    _check_mdp(mdp)
    tol = check_positive(tol, "tol")
    max_iter = check_int(max_iter, "max_iter", 1)
    check_undiscounted(mdp)
    v = np.zeros(mdp.n_states) if v0 is None else check_vector(v0, mdp.n_states, "v0").copy()
    v[mdp.terminal] = 0.0
    g = mdp.gamma
    # ||T v - v|| <= thresh  implies  ||T v - v*|| <= tol  (contraction bound).
    thresh = tol * (1 - g) / g if 0 < g < 1 else tol
    return tol, max_iter, v, thresh


class _Backup:
    """``q = R + gamma P v`` with preallocated buffers (the hot loop).

    The buffer never leaves the object: :meth:`max_into` and :meth:`take_into`
    write into arrays the caller owns, and :meth:`q` returns a fresh copy.
    """

    def __init__(self, mdp):
        self.S, self.A = mdp.n_states, mdp.n_actions
        self.P_flat = np.ascontiguousarray(mdp.P_flat)
        self.R_flat = mdp.R.ravel().copy()
        self.gamma = mdp.gamma
        self.term = mdp.terminal if mdp.terminal.any() else None
        avail = _available(mdp)
        self.avail = None if avail.all() else avail
        # -inf on unavailable actions, added before a maximum
        self.penalty = None if self.avail is None else np.where(avail, 0.0, -np.inf).ravel()
        self._q = np.empty(self.S * self.A)
        self._qm = self._q if self.penalty is None else np.empty(self.S * self.A)
        self.w = np.empty(self.S)
        q2 = self._qm.reshape(self.S, self.A)
        # column views of the (masked) q buffer, built once: max over actions without
        # NumPy's slow reduction along a short last axis
        self.cols = [q2[:, a] for a in range(self.A)] if 1 < self.A <= 16 else None

    def _fill(self, v):
        q = self._q
        np.multiply(v, self.gamma, out=self.w)  # scale the S-vector, not the S*A result
        np.dot(self.P_flat, self.w, out=q)
        q += self.R_flat
        if self.term is not None:
            q.reshape(self.S, self.A)[self.term] = 0.0
        if self.penalty is not None:
            np.add(q, self.penalty, out=self._qm)

    def max_into(self, v, out):
        """``out[s] = max_{a in A(s)} q_v(s, a)``, i.e. ``out = T v``."""
        self._fill(v)
        if self.cols is None:
            return np.max(self._qm.reshape(self.S, self.A), axis=1, out=out)
        cols = self.cols
        np.maximum(cols[0], cols[1], out=out)
        for c in cols[2:]:
            np.maximum(out, c, out=out)
        return out

    def take_into(self, v, rows, actions, out):
        """``out[s] = q_v(s, actions[s])``, i.e. ``out = T_pi v`` for a deterministic ``pi``."""
        self._fill(v)
        return np.take(self._q, rows * self.A + actions, out=out)

    def q(self, v):
        """A fresh ``(S, A)`` array ``q_v = R + gamma P v``."""
        self._fill(v)
        return self._q.reshape(self.S, self.A).copy()


def _result(v, backup, residuals, history, converged):
    q = backup.q(v)
    a = _greedy(q, backup.avail, TIE_RTOL)
    policy = np.zeros_like(q)
    policy[np.arange(q.shape[0]), a] = 1.0
    return SolveResult(v=v, policy=policy, q=q, num_iter=len(residuals),
                       residuals=np.asarray(residuals, dtype=float), converged=converged,
                       history=None if history is None else np.asarray(history))


def value_iteration(mdp: FiniteMDP, tol: float = 1e-8, max_iter: int = 100_000, v0=None,
                    record: bool = False) -> SolveResult:
    r"""Value iteration: ``v_{k+1} = T v_k = max_{a in A(s)} [R + gamma P v_k]``.

    Stops when ``||v_{k+1} - v_k||_inf <= tol (1 - gamma) / gamma``, which
    guarantees ``||v_{k+1} - v*||_inf <= tol`` (for ``gamma = 1``, when the
    change is below ``tol``; such an MDP must pass :func:`check_undiscounted`).

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
        Keep ``v_0, ..., v_K`` in ``result.history`` (for convergence plots).

    Raises
    ------
    ValueError
        For ``gamma = 1`` when the values may diverge (:func:`check_undiscounted`).
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
        backup.max_into(v, v_new)
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
    return _result(v.copy(), backup, residuals, history, converged)


def policy_iteration(mdp: FiniteMDP, pi0=None, max_iter: int = 10_000, record: bool = False,
                     v0=None) -> SolveResult:
    r"""Policy iteration: greedy improvement ``pi_k = argmax_a q_{v_{k-1}}``, then
    exact evaluation ``v_k = v_{pi_k} = (I - gamma P_{pi_k})^{-1} r_{pi_k}``.

    Starts from ``v_0 = v0`` when given, else from ``v_0 = v_{pi_0}``, the values
    of ``pi0`` (uniform over the available actions by default). Values improve
    monotonically (``v_{k+1} >= v_k`` from ``k = 1`` on) and the policy is
    stable after finitely many steps, then the iteration stops. An action is
    replaced only by one that is better by more than the tie tolerance
    (:func:`~rlbook.tie_tolerance`, the rule of every greedy choice), so
    round-off cannot make the policy cycle.

    Parameters
    ----------
    mdp : FiniteMDP
    pi0 : array_like (S, A), optional
        Initial policy. With ``gamma = 1`` it must be proper.
    max_iter : int
    record : bool
        Keep ``v_0, v_1, ..., v_K`` in ``result.history``.
    v0 : array_like (S,), optional
        Initial values; then ``pi_1`` is greedy with respect to ``v0`` (give
        ``pi0`` or ``v0``, not both). With ``gamma = 1`` that greedy policy
        must be proper.
    """
    _check_mdp(mdp)
    max_iter = check_int(max_iter, "max_iter", 1)
    check_undiscounted(mdp)
    S = mdp.n_states
    rows = np.arange(S)
    actions = None
    if v0 is not None:
        if pi0 is not None:
            raise ValueError("give pi0 or v0, not both")
        v = check_vector(v0, S, "v0").copy()
        v[mdp.terminal] = 0.0
    else:
        pi = uniform_policy(S, mdp.n_actions, mdp.allowed) if pi0 is None \
            else check_mdp_policy(mdp, pi0, "pi0")
        v = _solve_v(mdp, *_policy_matrices(mdp, pi))
        if np.isin(pi, (0.0, 1.0)).all():  # deterministic: it is the current policy
            actions = pi.argmax(axis=1)
    backup = _Backup(mdp)
    history = [v.copy()] if record else None
    residuals = []
    converged = False
    for _ in range(max_iter + 1):
        q = backup.q(v)  # one (S*A, S) mat-vec per improvement step
        new, best, tie = _greedy_parts(q, backup.avail, TIE_RTOL)  # best = T v
        if actions is not None:
            # keep the current action unless another is better by more than the tie tolerance
            keep = q[rows, actions] >= best - tie
            new = np.where(keep, actions, new)
            if np.array_equal(new, actions):
                converged = True
                break
        if len(residuals) == max_iter:
            break
        residuals.append(float(np.max(np.abs(best - v))))
        actions = new
        # deterministic policy: P_pi is a gather of one row per state
        v = _solve_v(mdp, mdp.P[rows, actions], mdp.R[rows, actions])
        if record:
            history.append(v.copy())
    return _result(v, backup, residuals, history, converged)


def truncated_policy_iteration(mdp: FiniteMDP, n_eval: int, tol: float = 1e-8,
                               max_iter: int = 100_000, v0=None, record: bool = False
                               ) -> SolveResult:
    r"""Truncated policy iteration: greedy improvement ``pi_k = argmax_a q_{v_{k-1}}``,
    then ``v_k = T_{pi_k}^{n_eval} v_{k-1}`` (``n_eval`` sweeps of ``T_{pi_k}``
    from the current values).

    ``n_eval = 1`` is value iteration; ``n_eval -> inf`` is policy iteration.
    Each iteration computes the Bellman residual ``||T v_{k-1} - v_{k-1}||_inf``
    for free (the first sweep is ``T v_{k-1}``); iteration stops when it is
    below ``tol (1 - gamma) / gamma`` and returns ``T v_{k-1}``, within ``tol``
    of ``v*``.

    Convergence (``gamma < 1``) holds from any ``v_0``. When ``T v_0 >= v_0``
    the iterates increase monotonically to ``v*`` (Puterman 1994, Section 6.5,
    modified policy iteration). Any other ``v_0`` is ``v_0' + c 1`` with
    ``T v_0' >= v_0'`` for ``c = max(v_0 - T v_0)^+ / (1 - gamma)``; adding a
    constant changes no greedy policy and ``T_pi (v + c 1) = T_pi v + gamma c 1``,
    so the iterates from ``v_0`` are those from ``v_0'`` plus
    ``gamma^{N_k} c 1`` (``N_k`` sweeps so far), and converge too (C4 proves
    this). For ``gamma = 1`` the MDP must pass :func:`check_undiscounted`;
    convergence is then checked numerically, not proved here.

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
    tv = np.empty_like(v)
    for _ in range(max_iter):
        q = backup.q(v)
        a = _greedy(q, backup.avail, TIE_RTOL)
        np.take(q.ravel(), rows * mdp.n_actions + a, out=tv)  # T v_{k-1} = T_{pi_k} v_{k-1}
        d = float(np.max(np.abs(tv - v)))
        residuals.append(d)
        v = tv.copy()
        if d <= thresh:
            converged = True
        else:
            for _ in range(n_eval - 1):
                backup.take_into(v, rows, a, tv)
                v[:] = tv
        if record:
            history.append(v.copy())
        if converged:
            break
    return _result(v, backup, residuals, history, converged)
