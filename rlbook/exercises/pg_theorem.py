"""Checkers for the exercises of the chapter *The policy gradient theorem*."""
from __future__ import annotations

import numpy as np

from ..policy_gradient.estimators import optimal_baseline, reward_to_go_estimate
from ..policy_gradient.objectives import gaussian_score, linear_softmax_score
from ..sampling import Trajectories
from ._checker import compare_on_cases

__all__ = [
    "check_reward_to_go_gradient",
    "check_linear_softmax_score",
    "check_gaussian_score",
    "check_optimal_baseline",
]


def _rtg_reference(theta, states, actions, rewards, gamma):
    T = len(states)
    traj = Trajectories(np.asarray(states)[None], np.asarray(actions)[None],
                        np.asarray(rewards, dtype=float)[None], np.ones((1, T), bool),
                        np.array([-1]))
    return reward_to_go_estimate(theta, traj, gamma).grad


def check_reward_to_go_gradient(fn, n_cases: int = 8, seed: int = 0):
    """Check ``fn(theta, states, actions, rewards, gamma)``: the reward-to-go estimate
    ``sum_t gamma^t G_t grad_theta ln pi(A_t|S_t)`` of ONE episode for the tabular
    softmax ``pi = softmax(theta)``; ``theta`` is ``(S, A)``, ``states``/``actions``
    integer arrays ``(T,)``, ``rewards[t] = R_{t+1}``. Returns an ``(S, A)`` array."""
    rng = np.random.default_rng(seed)
    cases = []
    for _ in range(n_cases):
        S, A, T = rng.integers(2, 5), rng.integers(2, 4), rng.integers(3, 8)
        cases.append(dict(theta=rng.normal(size=(S, A)), states=rng.integers(0, S, T),
                          actions=rng.integers(0, A, T), rewards=rng.normal(size=T),
                          gamma=float(rng.choice([0.5, 0.9]))))
    return compare_on_cases("reward-to-go gradient", fn, _rtg_reference, cases)


def check_linear_softmax_score(fn, n_cases: int = 8, seed: int = 0):
    """Check ``fn(theta, phi)``: the score ``grad_theta ln pi(a|s)`` of the linear
    softmax for every pair, ``(S, A, d)``, with ``theta`` ``(d,)`` and features
    ``phi`` ``(S, A, d)``."""
    rng = np.random.default_rng(seed)
    cases = []
    for _ in range(n_cases):
        S, A, d = rng.integers(1, 4), rng.integers(2, 4), rng.integers(1, 5)
        cases.append(dict(theta=rng.normal(size=d), phi=rng.normal(size=(S, A, d))))
    return compare_on_cases("linear-softmax score", fn, linear_softmax_score, cases)


def check_gaussian_score(fn, n_cases: int = 8, seed: int = 0):
    """Check ``fn(a, mean, std)``: the score of ``N(a; mean, std^2)`` with respect to
    ``(mean, std)``, stacked as an array of shape ``(2, n)`` for arrays of ``n`` values."""
    rng = np.random.default_rng(seed)
    cases = []
    for _ in range(n_cases):
        n = int(rng.integers(1, 6))
        cases.append(dict(a=rng.normal(size=n) * 2, mean=rng.normal(size=n),
                          std=rng.uniform(0.3, 2.0, size=n)))
    return compare_on_cases("Gaussian score", fn, gaussian_score, cases)


def check_optimal_baseline(fn, n_cases: int = 8, seed: int = 0):
    """Check ``fn(pi, q)``: the variance-minimising baseline ``b*(s)`` of the tabular
    softmax, ``(S,)``, for a policy ``pi`` ``(S, A)`` and action values ``q`` ``(S, A)``."""
    rng = np.random.default_rng(seed)
    cases = []
    for _ in range(n_cases):
        S, A = rng.integers(1, 5), rng.integers(2, 5)
        cases.append(dict(pi=rng.dirichlet(np.ones(A) * 0.7, size=S), q=3 * rng.normal(size=(S, A))))
    return compare_on_cases("optimal baseline", fn, optimal_baseline, cases)
