"""Finite Markov decision processes (Chapter 1, *Basic concepts*).

A finite MDP is the tuple ``(S, A, p, r, gamma)``. In code the dynamics are a
dense array ``P`` of shape ``(S, A, S)`` with ``P[s, a, s'] = p(s' | s, a)``
and the rewards an array ``R`` of shape ``(S, A)`` holding the *expected*
immediate reward ``r(s, a) = E[R_{t+1} | S_t = s, A_t = a]``.
"""
from __future__ import annotations

import numpy as np

from ._validate import (
    as_float_array,
    check_gamma,
    check_int,
    check_policy,
    check_probabilities,
)

__all__ = [
    "random_layered_mdp",
    "FiniteMDP",
    "policy_matrices",
    "random_mdp",
    "uniform_policy",
    "deterministic_policy",
    "check_policy",
]


class FiniteMDP:
    r"""A finite MDP with dense dynamics, validated on construction.

    Parameters
    ----------
    P : array_like, shape (S, A, S)
        ``P[s, a, s'] = p(s' | s, a)``; every row ``P[s, a, :]`` is a
        probability distribution.
    R : array_like, shape (S, A)
        Expected immediate reward ``r(s, a)``.
    gamma : float
        Discount factor in ``[0, 1]``.
    terminal : array_like of bool, shape (S,), optional
        Absorbing states whose value is 0 by definition. A terminal state must
        be absorbing (``P[s, a, s] = 1``) with zero reward for every action;
        :meth:`from_gymnasium` and :class:`~rlbook.GridWorld` build them so.

    Notes
    -----
    The reward is indexed by the pair ``(s, a)`` that earns it: the reward
    ``R_{t+1}`` of Chapter 1 follows ``(S_t, A_t)``. A reward that depends on
    the next state is folded in by its expectation,
    ``r(s, a) = sum_{s'} p(s'|s, a) r(s, a, s')``.
    """

    def __init__(self, P, R, gamma, terminal=None):
        P = as_float_array(P, "P", ndim=3)
        S, A, S2 = P.shape
        if S == 0 or A == 0:
            raise ValueError(f"P has shape {P.shape}, expected at least one state and one action")
        if S2 != S:
            raise ValueError(f"P has shape {P.shape}, expected (S, A, S) with the same S on axes 0 and 2")
        check_probabilities(P, "P", "row of a transition matrix p(.|s, a)")
        R = as_float_array(R, "R", shape=(S, A))
        self.gamma = check_gamma(gamma)
        if terminal is None:
            term = np.zeros(S, dtype=bool)
        else:
            term = np.asarray(terminal)
            if term.shape != (S,):
                raise ValueError(f"terminal must have shape ({S},), got {term.shape}")
            if term.dtype != bool:
                if not np.isin(term, (0, 1)).all():
                    i = int(np.argwhere(~np.isin(term, (0, 1)))[0, 0])
                    raise ValueError(f"terminal[{i}] is {term[i].item()!r}, expected a boolean")
                term = term.astype(bool)
        for s in np.flatnonzero(term):
            for a in range(A):
                if abs(P[s, a, s] - 1.0) > 1e-8:
                    raise ValueError(
                        f"P[{s}, {a}, {s}] is {P[s, a, s]:.6g} but state {s} is terminal, "
                        "expected 1 (a terminal state is absorbing)")
                if R[s, a] != 0.0:
                    raise ValueError(
                        f"R[{s}, {a}] is {R[s, a]:.6g} but state {s} is terminal, expected 0")
        self.P = P
        self.R = R
        self.terminal = term
        for arr in (self.P, self.R, self.terminal):
            arr.setflags(write=False)

    @property
    def n_states(self) -> int:
        return self.P.shape[0]

    @property
    def n_actions(self) -> int:
        return self.P.shape[1]

    @property
    def P_flat(self) -> np.ndarray:
        """``P`` viewed as ``(S * A, S)``: one Bellman backup is ``P_flat @ v``."""
        return self.P.reshape(self.n_states * self.n_actions, self.n_states)

    def __repr__(self) -> str:
        return (f"FiniteMDP(n_states={self.n_states}, n_actions={self.n_actions}, "
                f"gamma={self.gamma}, n_terminal={int(self.terminal.sum())})")

    def with_gamma(self, gamma) -> "FiniteMDP":
        """The same dynamics and rewards with another discount factor."""
        return FiniteMDP(self.P, self.R, gamma, self.terminal)

    def with_rewards(self, R) -> "FiniteMDP":
        """The same dynamics with another reward array (terminal rows stay 0)."""
        return FiniteMDP(self.P, R, self.gamma, self.terminal)

    @classmethod
    def from_gymnasium(cls, env, gamma) -> "FiniteMDP":
        """Build the MDP of a Gymnasium toy-text environment.

        Reads ``env.unwrapped.P``, the table ``P[s][a] = [(prob, s', reward,
        done), ...]`` that FrozenLake, CliffWalking and Taxi expose. Rewards are
        averaged over the outcomes; a state that a ``done`` transition enters is
        marked terminal and made absorbing with zero reward, so that its value
        is 0 as in the episodic setting.

        Parameters
        ----------
        env : gymnasium.Env
            A toy-text environment with discrete observation and action spaces.
        gamma : float
            Discount factor in ``[0, 1]``.
        """
        base = getattr(env, "unwrapped", env)
        table = getattr(base, "P", None)
        if not isinstance(table, dict):
            raise ValueError(
                f"env {getattr(getattr(env, 'spec', None), 'id', env)!r} exposes no transition table "
                "env.unwrapped.P; expected a toy-text environment such as FrozenLake, CliffWalking or Taxi")
        S = int(base.observation_space.n)
        A = int(base.action_space.n)
        P = np.zeros((S, A, S))
        R = np.zeros((S, A))
        terminal = np.zeros(S, dtype=bool)
        for s in range(S):
            for a in range(A):
                for prob, s2, reward, done in table[s][a]:
                    P[s, a, s2] += prob
                    R[s, a] += prob * reward
                    if done:
                        terminal[s2] = True
        for s in np.flatnonzero(terminal):
            P[s] = 0.0
            P[s, :, s] = 1.0
            R[s] = 0.0
        return cls(P, R, gamma, terminal)


def policy_matrices(mdp: FiniteMDP, pi):
    r"""State-transition matrix and reward vector induced by a policy.

    ``P_pi[s, s'] = sum_a pi(a|s) p(s'|s, a)`` and
    ``r_pi[s] = sum_a pi(a|s) r(s, a)`` (Chapter 2, matrix form of the Bellman
    equation ``v_pi = r_pi + gamma P_pi v_pi``).

    Parameters
    ----------
    mdp : FiniteMDP
    pi : array_like, shape (S, A)
        Stochastic policy, ``pi[s, a] = pi(a | s)``.

    Returns
    -------
    P_pi : ndarray, shape (S, S)
    r_pi : ndarray, shape (S,)
    """
    _check_mdp(mdp)
    pi = check_policy(pi, mdp.n_states, mdp.n_actions)
    return _policy_matrices(mdp, pi)


def _policy_matrices(mdp, pi):
    # a batched (1, A) @ (A, S) product per state: BLAS, unlike the equivalent einsum
    P_pi = np.matmul(pi[:, None, :], mdp.P)[:, 0, :]
    r_pi = np.einsum("sa,sa->s", pi, mdp.R)
    return P_pi, r_pi


def uniform_policy(n_states: int, n_actions: int) -> np.ndarray:
    """The policy that picks every action with probability ``1 / A``."""
    check_int(n_states, "n_states", 1)
    check_int(n_actions, "n_actions", 1)
    return np.full((n_states, n_actions), 1.0 / n_actions)


def deterministic_policy(actions, n_actions: int) -> np.ndarray:
    """One-hot policy ``(S, A)`` from an array of actions ``(S,)``."""
    check_int(n_actions, "n_actions", 1)
    a = np.asarray(actions)
    if a.ndim != 1 or not np.issubdtype(a.dtype, np.integer):
        raise ValueError(f"actions must be a 1-D integer array, got dtype {a.dtype} and shape {a.shape}")
    bad = (a < 0) | (a >= n_actions)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"actions[{i}] is {a[i]}, expected an action in [0, {n_actions - 1}]")
    pi = np.zeros((a.size, n_actions))
    pi[np.arange(a.size), a] = 1.0
    return pi


def random_mdp(n_states: int, n_actions: int, gamma: float = 0.9, *, seed=None,
               branching: int | None = None, reward_scale: float = 1.0) -> FiniteMDP:
    """A random finite MDP for tests and experiments.

    Parameters
    ----------
    n_states, n_actions : int
    gamma : float
    seed : int or numpy.random.Generator, optional
        Seed of the generator (fixed seed, fixed MDP).
    branching : int, optional
        Number of possible next states per ``(s, a)``; all ``S`` by default.
        Probabilities over them are Dirichlet(1).
    reward_scale : float
        Rewards are standard normal times this scale.
    """
    S = check_int(n_states, "n_states", 1)
    A = check_int(n_actions, "n_actions", 1)
    rng = np.random.default_rng(seed)
    k = S if branching is None else check_int(branching, "branching", 1)
    if k > S:
        raise ValueError(f"branching is {k}, expected at most n_states = {S}")
    P = np.zeros((S, A, S))
    for s in range(S):
        for a in range(A):
            nxt = rng.choice(S, size=k, replace=False)
            P[s, a, nxt] = rng.dirichlet(np.ones(k))
    P /= P.sum(axis=-1, keepdims=True)
    R = reward_scale * rng.standard_normal((S, A))
    return FiniteMDP(P, R, gamma)


def _check_mdp(mdp) -> None:
    if not isinstance(mdp, FiniteMDP):
        raise TypeError(f"mdp must be a FiniteMDP, got {type(mdp).__name__}")


def random_layered_mdp(n_layers: int, width: int, n_actions: int, gamma: float = 1.0, *,
                       seed=None) -> FiniteMDP:
    """A random episodic MDP whose episodes last exactly ``n_layers`` steps.

    States ``k * width ... (k + 1) * width - 1`` form layer ``k``; every action
    in layer ``k`` leads (Dirichlet(1) probabilities) to a state of layer
    ``k + 1``, and the last layer leads to the terminal state
    ``n_layers * width``. Rewards are standard normal. Every policy is proper,
    so ``gamma = 1`` is allowed, and trajectories of ``n_layers`` steps are
    complete: Monte Carlo and enumeration have no truncation bias.
    """
    L = check_int(n_layers, "n_layers", 1)
    W = check_int(width, "width", 1)
    A = check_int(n_actions, "n_actions", 1)
    rng = np.random.default_rng(seed)
    S = L * W + 1
    P = np.zeros((S, A, S))
    R = np.zeros((S, A))
    for k in range(L):
        for i in range(W):
            s = k * W + i
            if k + 1 < L:
                P[s, :, (k + 1) * W:(k + 2) * W] = rng.dirichlet(np.ones(W), size=A)
            else:
                P[s, :, S - 1] = 1.0
            R[s] = rng.standard_normal(A)
    P[S - 1, :, S - 1] = 1.0
    term = np.zeros(S, dtype=bool)
    term[-1] = True
    return FiniteMDP(P, R, gamma, term)
