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
    as_generator,
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
    "check_mdp_policy",
]


class FiniteMDP:
    r"""A finite MDP with dense dynamics, validated on construction.

    Parameters
    ----------
    P : array_like, shape (S, A, S)
        ``P[s, a, s'] = p(s' | s, a)``; every row ``P[s, a, :]`` is a
        probability distribution.
    R : array_like, shape (S, A), or None
        Expected immediate reward ``r(s, a) = E[R_{t+1} | S_t = s, A_t = a]``;
        None when ``R_next`` is given (then ``R = sum_s' P R_next``).
    gamma : float
        Discount factor in ``[0, 1]``.
    terminal : array_like of bool, shape (S,), optional
        Absorbing states whose value is 0 by definition. A terminal state must
        be absorbing (``P[s, a, s] = 1``) with zero reward for every action;
        :meth:`from_gymnasium` and :class:`~rlbook.GridWorld` build them so.
    allowed : array_like of bool, shape (S, A), optional
        The actions available in each state (Zhao's ``A(s)``); all by default.
        Every non-terminal state needs at least one. Policies must put no
        probability on the others (:func:`check_mdp_policy`).
    R_next : array_like, shape (S, A, S), optional
        The reward law's mean given the transition: ``R_next[s, a, s']`` is
        ``E[R_{t+1} | S_t = s, A_t = a, S_{t+1} = s']`` (a reward paid on
        entering a state). Default: ``R[s, a]`` whatever ``s'``.
    reward_std : array_like, shape (S, A), optional
        Standard deviation of Gaussian noise added to every sampled reward of
        ``(s, a)`` (Sutton and Barto's Example 6.7 pays ``N(-0.1, 1)``). Default 0.

    Notes
    -----
    The reward is indexed by the pair ``(s, a)`` that earns it: the reward
    ``R_{t+1}`` of Chapter 1 follows ``(S_t, A_t)``. Every exact computation
    (Bellman equations, dynamic programming, policy gradients) needs only the
    expectation ``R``; sampling (:meth:`step`, :func:`~rlbook.sample_trajectories`
    and the learners of C5-C7) draws from the whole law, so a sampled reward is
    what the environment would pay, not its mean.
    """

    def __init__(self, P, R, gamma, terminal=None, *, allowed=None, R_next=None, reward_std=None):
        P = as_float_array(P, "P", ndim=3)
        S, A, S2 = P.shape
        if S == 0 or A == 0:
            raise ValueError(f"P has shape {P.shape}, expected at least one state and one action")
        if S2 != S:
            raise ValueError(f"P has shape {P.shape}, expected (S, A, S) with the same S on axes 0 and 2")
        check_probabilities(P, "P", "row of a transition matrix p(.|s, a)")
        if R_next is not None:
            R_next = as_float_array(R_next, "R_next", shape=(S, A, S))
            expected = np.einsum("sat,sat->sa", P, R_next)
            if R is None:
                R = expected
        elif R is None:
            raise ValueError("R is None; give the expected rewards R (S, A) or the reward law R_next (S, A, S)")
        R = as_float_array(R, "R", shape=(S, A))
        if R_next is not None:
            gap = np.abs(R - expected)
            bad = gap > 1e-8 * (1.0 + np.abs(R))
            if bad.any():
                s, a = np.argwhere(bad)[0]
                raise ValueError(f"R[{s}, {a}] is {R[s, a]:.10g} but sum_s' P[{s}, {a}, s'] R_next[{s}, {a}, s'] "
                                 f"is {expected[s, a]:.10g}; expected R to be the mean of the reward law")
        if reward_std is None:
            std = np.zeros((S, A))
        else:
            std = as_float_array(reward_std, "reward_std", shape=(S, A))
            if (std < 0).any():
                s, a = np.argwhere(std < 0)[0]
                raise ValueError(f"reward_std[{s}, {a}] is {std[s, a]:.6g}, expected a standard deviation >= 0")
        self.gamma = check_gamma(gamma)
        term = _bool_mask(terminal, (S,), "terminal", default=False)
        allow = _bool_mask(allowed, (S, A), "allowed", default=True)
        for s in np.flatnonzero(term):
            for a in range(A):
                if abs(P[s, a, s] - 1.0) > 1e-8:
                    raise ValueError(
                        f"P[{s}, {a}, {s}] is {P[s, a, s]:.6g} but state {s} is terminal, "
                        "expected 1 (a terminal state is absorbing)")
                if R[s, a] != 0.0:
                    raise ValueError(
                        f"R[{s}, {a}] is {R[s, a]:.6g} but state {s} is terminal, expected 0")
                if std[s, a] != 0.0:
                    raise ValueError(
                        f"reward_std[{s}, {a}] is {std[s, a]:.6g} but state {s} is terminal, expected 0")
        none = ~allow.any(axis=1) & ~term
        if none.any():
            s = int(np.flatnonzero(none)[0])
            raise ValueError(f"allowed[{s}, :] is all False, expected at least one available action "
                             f"in the non-terminal state {s}")
        self.P = P
        self.R = R
        self.terminal = term
        self.allowed = allow
        self.R_next = np.ascontiguousarray(np.broadcast_to(R[:, :, None], (S, A, S))) if R_next is None else R_next
        if term.any():  # terminal rows of the law carry no reward
            self.R_next = self.R_next.copy()
            self.R_next[term] = 0.0
        self.reward_std = std
        self._P_cdf = np.cumsum(P, axis=2)
        for arr in (self.P, self.R, self.terminal, self.allowed, self.R_next, self.reward_std, self._P_cdf):
            arr.setflags(write=False)

    @property
    def n_states(self) -> int:
        return self.P.shape[0]

    @property
    def n_actions(self) -> int:
        return self.P.shape[1]

    @property
    def n_allowed(self) -> np.ndarray:
        """Number of available actions ``|A(s)|`` in every state, ``(S,)``."""
        return self.allowed.sum(axis=1)

    @property
    def has_reward_law(self) -> bool:
        """Whether sampled rewards can differ from ``r(s, a)`` (they depend on ``s'`` or are noisy)."""
        return bool(self.reward_std.any() or (self.R_next != self.R[:, :, None]).any())

    def step(self, s, a, rng):
        r"""Sample one transition: ``s' ~ p(.|s, a)`` and ``R ~`` the reward law of ``(s, a, s')``.

        Vectorised over integer arrays ``s`` and ``a`` of one shape (or scalars):
        the reward is ``R_next[s, a, s'] + reward_std[s, a] * N(0, 1)``, so its
        conditional mean given ``(s, a)`` is ``r(s, a)``.

        Parameters
        ----------
        s, a : int or array_like of int
        rng : numpy.random.Generator or int
            The source of randomness (an int is a seed).

        Returns
        -------
        s_next : ndarray of int, the shape of ``s``
        r : ndarray of float, the shape of ``s``
        """
        s, a = self._check_sa(s, a)
        rng = as_generator(rng)
        cdf = self._P_cdf[s, a]
        u = rng.random(s.shape)[..., None]
        s_next = np.minimum((cdf <= u * cdf[..., -1:]).sum(axis=-1), self.n_states - 1)
        return s_next, self._reward(s, a, s_next, rng)

    def sample_rewards(self, s, a, s_next, rng):
        """Draw ``R_{t+1}`` for given transitions ``(s, a, s')`` from the reward law
        (``rng``: a Generator or an int seed)."""
        s, a = self._check_sa(s, a)
        s_next = np.asarray(s_next)
        if s_next.shape != s.shape or not np.issubdtype(s_next.dtype, np.integer):
            raise ValueError(f"s_next must be an integer array of shape {s.shape}, got {s_next.dtype} {s_next.shape}")
        bad = (s_next < 0) | (s_next >= self.n_states)
        if bad.any():
            i = np.argwhere(bad)[0]
            raise ValueError(f"s_next[{', '.join(map(str, i))}] is {s_next[tuple(i)]}, "
                             f"expected a state in [0, {self.n_states - 1}]")
        rng = as_generator(rng)
        return self._reward(s, a, s_next, rng)

    def _reward(self, s, a, s_next, rng):
        r = self.R_next[s, a, s_next]
        std = self.reward_std[s, a]
        if std.any():
            r = r + std * rng.standard_normal(np.shape(s))
        return np.asarray(r, dtype=float)

    def _check_sa(self, s, a):
        s = np.asarray(s)
        a = np.asarray(a)
        for name, x, n in (("s", s, self.n_states), ("a", a, self.n_actions)):
            if not np.issubdtype(x.dtype, np.integer):
                raise ValueError(f"{name} must be an integer state/action index array, got dtype {x.dtype}")
            bad = (x < 0) | (x >= n)
            if bad.any():
                i = np.argwhere(np.atleast_1d(bad))[0]
                raise ValueError(f"{name}[{', '.join(map(str, i))}] is {np.atleast_1d(x)[tuple(i)]}, "
                                 f"expected an index in [0, {n - 1}]")
        if s.shape != a.shape:
            raise ValueError(f"s and a have shapes {s.shape} and {a.shape}, expected the same shape")
        return s, a

    @property
    def P_flat(self) -> np.ndarray:
        """``P`` viewed as ``(S * A, S)``: one Bellman backup is ``P_flat @ v``."""
        return self.P.reshape(self.n_states * self.n_actions, self.n_states)

    def __repr__(self) -> str:
        return (f"FiniteMDP(n_states={self.n_states}, n_actions={self.n_actions}, "
                f"gamma={self.gamma}, n_terminal={int(self.terminal.sum())})")

    def _law(self):
        """Keyword arguments that rebuild the reward law and the available actions."""
        law = {"allowed": self.allowed, "reward_std": self.reward_std}
        if self.has_reward_law:
            law["R_next"] = self.R_next
        return law

    def with_gamma(self, gamma) -> "FiniteMDP":
        """The same dynamics, rewards, terminal states and available actions with another discount factor."""
        return FiniteMDP(self.P, self.R, gamma, self.terminal, **self._law())

    def with_rewards(self, R) -> "FiniteMDP":
        """The same dynamics, terminal states and available actions with another
        (noise-free, ``s'``-independent) expected reward array ``R``.

        ``R`` must be 0 on the rows of terminal states, as for the constructor:
        a nonzero terminal reward is refused, not silently zeroed."""
        return FiniteMDP(self.P, R, self.gamma, self.terminal, allowed=self.allowed)

    @classmethod
    def from_gymnasium(cls, env, gamma) -> "FiniteMDP":
        """Build the MDP of a Gymnasium toy-text environment.

        Reads ``env.unwrapped.P``, the table ``P[s][a] = [(prob, s', reward,
        done), ...]`` that FrozenLake, CliffWalking and Taxi expose. The reward of
        each outcome is kept in the reward law ``R_next[s, a, s']`` (FrozenLake
        pays 1 on entering the goal, never the mean) and ``R`` is its mean; a state that a ``done`` transition enters is
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
        mass = np.zeros((S, A, S))  # sum of prob * reward per outcome state
        terminal = np.zeros(S, dtype=bool)
        for s in range(S):
            for a in range(A):
                for prob, s2, reward, done in table[s][a]:
                    P[s, a, s2] += prob
                    mass[s, a, s2] += prob * reward
                    if done:
                        terminal[s2] = True
        R_next = np.divide(mass, P, out=np.zeros_like(P), where=P > 0)
        for s in np.flatnonzero(terminal):
            P[s] = 0.0
            P[s, :, s] = 1.0
            R_next[s] = 0.0
        return cls(P, None, gamma, terminal, R_next=R_next)


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
    pi = check_mdp_policy(mdp, pi)
    return _policy_matrices(mdp, pi)


def check_mdp_policy(mdp: FiniteMDP, pi, name: str = "pi") -> np.ndarray:
    """A policy ``(S, A)`` for ``mdp``: rows are distributions, and no probability
    sits on an action that is not available (``mdp.allowed``) in a non-terminal state."""
    pi = check_policy(pi, mdp.n_states, mdp.n_actions, name)
    bad = (pi > 0) & ~mdp.allowed & ~mdp.terminal[:, None]
    if bad.any():
        s, a = np.argwhere(bad)[0]
        raise ValueError(f"{name}[{s}, {a}] is {pi[s, a]:.6g} but action {a} is not available in state {s} "
                         "(mdp.allowed), expected 0")
    return pi


def _policy_matrices(mdp, pi):
    # a batched (1, A) @ (A, S) product per state: BLAS, unlike the equivalent einsum
    P_pi = np.matmul(pi[:, None, :], mdp.P)[:, 0, :]
    r_pi = np.einsum("sa,sa->s", pi, mdp.R)
    return P_pi, r_pi


def uniform_policy(n_states: int, n_actions: int, allowed=None) -> np.ndarray:
    """The policy that picks every available action with probability ``1 / |A(s)|``
    (every action, ``1 / A``, when ``allowed`` is None)."""
    S = check_int(n_states, "n_states", 1)
    A = check_int(n_actions, "n_actions", 1)
    if allowed is None:
        return np.full((S, A), 1.0 / A)
    allow = _bool_mask(allowed, (S, A), "allowed", default=True)
    n = allow.sum(axis=1)
    if (n == 0).any():
        s = int(np.flatnonzero(n == 0)[0])
        raise ValueError(f"allowed[{s}, :] is all False, expected at least one available action")
    return allow / n[:, None]


def _bool_mask(x, shape, name, default):
    """A boolean array of ``shape`` (``default`` everywhere when ``x`` is None)."""
    if x is None:
        return np.full(shape, default, dtype=bool)
    m = np.asarray(x)
    if m.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {m.shape}")
    if m.dtype != bool:
        ok = np.isin(m, (0, 1))
        if not ok.all():
            i = np.argwhere(~ok)[0]
            raise ValueError(f"{name}[{', '.join(map(str, i))}] is {m[tuple(i)].item()!r}, expected a boolean")
        m = m.astype(bool)
    return m.copy()


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
        The source of randomness, taken as everywhere in :mod:`rlbook` (a
        Generator or an int seed; fixed seed, fixed MDP).
    branching : int, optional
        Number of possible next states per ``(s, a)``; all ``S`` by default.
        Probabilities over them are Dirichlet(1).
    reward_scale : float
        Rewards are standard normal times this scale.
    """
    S = check_int(n_states, "n_states", 1)
    A = check_int(n_actions, "n_actions", 1)
    rng = as_generator(seed, "seed", allow_none=True)
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
    rng = as_generator(seed, "seed", allow_none=True)
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
