"""Sampling trajectories from a finite MDP (Chapter 1, used again from Chapter 5 on).

A trajectory is ``S_0, A_0, R_1, S_1, A_1, R_2, ...``; in arrays the reward
that follows ``(S_t, A_t)`` is stored at index ``t`` (``rewards[t] = R_{t+1}``).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validate import as_float_array, as_generator, check_distribution, check_gamma, check_int
from .mdp import FiniteMDP, _check_mdp, check_mdp_policy

__all__ = ["Trajectories", "sample_trajectories", "discounted_returns"]


@dataclass(frozen=True)
class Trajectories:
    """A batch of ``N`` sampled trajectories of at most ``T`` steps.

    Attributes
    ----------
    states, actions : ndarray of int, shape (N, T)
        ``S_t`` and ``A_t``.
    rewards : ndarray of float, shape (N, T)
        ``rewards[:, t] = R_{t+1}``, the reward that follows ``(S_t, A_t)``,
        drawn from the MDP's reward law (:meth:`FiniteMDP.step`).
    mask : ndarray of bool, shape (N, T)
        True where step ``t`` was taken (false once a terminal state is reached;
        masked entries hold state -1, action -1 and reward 0).
    final_states : ndarray of int, shape (N,)
        The state reached after the last step, ``S_T`` (or the terminal state).
    """

    states: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    mask: np.ndarray
    final_states: np.ndarray

    @property
    def n_episodes(self) -> int:
        return self.states.shape[0]

    @property
    def horizon(self) -> int:
        return self.states.shape[1]


def sample_trajectories(mdp: FiniteMDP, pi, n_episodes: int, horizon: int, rng,
                        rho0=None, s0=None) -> Trajectories:
    """Sample ``n_episodes`` trajectories of ``horizon`` steps under ``pi``.

    All episodes advance together (one vectorised draw per step). An episode
    that enters a terminal state stops there; its remaining steps are masked.

    Parameters
    ----------
    mdp : FiniteMDP
    pi : array_like (S, A)
        The policy that chooses the actions.
    n_episodes, horizon : int
    rng : numpy.random.Generator or int
        The source of randomness: a Generator (seed it for reproducible
        samples) or an int seed.
    rho0 : array_like (S,), optional
        Initial-state distribution (uniform over non-terminal states by default).
    s0 : int, optional
        A fixed initial state (instead of ``rho0``).
    """
    _check_mdp(mdp)
    S = mdp.n_states
    pi = check_mdp_policy(mdp, pi)
    N = check_int(n_episodes, "n_episodes", 1)
    T = check_int(horizon, "horizon", 1)
    rng = as_generator(rng)
    if s0 is not None:
        if rho0 is not None:
            raise ValueError("give rho0 or s0, not both")
        s0 = check_int(s0, "s0", 0)
        if s0 >= S:
            raise ValueError(f"s0 is {s0}, expected a state in [0, {S - 1}]")
        s = np.full(N, s0)
    else:
        if rho0 is None:
            live = (~mdp.terminal).astype(float)
            if live.sum() == 0:
                raise ValueError("every state of mdp is terminal; there is nothing to sample")
            rho0 = live / live.sum()
        rho0 = check_distribution(rho0, S, "rho0")
        s = _draw(np.broadcast_to(rho0, (N, S)), rng)
    pi_cdf = np.cumsum(pi, axis=1)
    states = np.full((N, T), -1)
    actions = np.full((N, T), -1)
    rewards = np.zeros((N, T))
    alive = ~mdp.terminal[s]
    mask = np.zeros((N, T), dtype=bool)
    for t in range(T):
        mask[:, t] = alive
        a = _draw_cdf(pi_cdf[s], rng)
        s2, r = mdp.step(s, a, rng)  # the next state and a reward drawn from the environment's law
        states[alive, t] = s[alive]
        actions[alive, t] = a[alive]
        rewards[alive, t] = r[alive]
        s = np.where(alive, s2, s)
        alive = alive & ~mdp.terminal[s]
    return Trajectories(states, actions, rewards, mask, s)


def _draw(probs, rng):
    return _draw_cdf(np.cumsum(probs, axis=-1), rng)


def _draw_cdf(cdf, rng):
    u = rng.random(cdf.shape[0]) * cdf[:, -1]
    return np.minimum((cdf <= u[:, None]).sum(axis=1), cdf.shape[1] - 1)


def discounted_returns(rewards, gamma) -> np.ndarray:
    r"""Discounted returns ``G_t = sum_{k >= 0} gamma^k R_{t+k+1}`` of every step.

    Computed backwards with the recursion ``G_t = R_{t+1} + gamma G_{t+1}``
    (Chapter 1), ``G_T = 0`` after the last stored reward.

    Parameters
    ----------
    rewards : array_like, shape (T,) or (N, T)
        ``rewards[..., t] = R_{t+1}``.
    gamma : float

    Returns
    -------
    G : ndarray, same shape as ``rewards``
    """
    r = as_float_array(rewards, "rewards")
    if r.ndim not in (1, 2):
        raise ValueError(f"rewards must have shape (T,) or (N, T), got {r.shape}")
    g = check_gamma(gamma)
    G = np.zeros_like(r)
    acc = np.zeros(r.shape[:-1])
    for t in range(r.shape[-1] - 1, -1, -1):
        acc = r[..., t] + g * acc
        G[..., t] = acc
    return G
