"""Checkers for the exercises of the chapter *The policy gradient theorem*."""
from __future__ import annotations

import numpy as np

from ..policy_gradient.estimators import optimal_baseline, reward_to_go_estimate
from ..policy_gradient.objectives import gaussian_score, linear_softmax_score
from ..sampling import Trajectories
from ._checker import compare_on_cases, variant_hints

__all__ = [
    "check_reward_to_go_gradient",
    "check_linear_softmax_score",
    "check_gaussian_score",
    "check_optimal_baseline",
    "check_coordinate_baseline",
    "check_masked_score",
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
    def no_discount(theta, states, actions, rewards, gamma):
        out = np.zeros_like(np.asarray(theta, dtype=float))
        pi = np.exp(theta - theta.max(axis=1, keepdims=True))
        pi /= pi.sum(axis=1, keepdims=True)
        ret = np.zeros(len(rewards))
        acc = 0.0
        for t in range(len(rewards) - 1, -1, -1):
            acc = rewards[t] + gamma * acc
            ret[t] = acc
        for t, (s_, a_) in enumerate(zip(states, actions)):
            out[s_] -= ret[t] * pi[s_]
            out[s_, a_] += ret[t]
        return out

    def whole_return(theta, states, actions, rewards, gamma):
        T = len(rewards)
        G0 = float(np.sum(np.asarray(rewards) * gamma ** np.arange(T)))
        pi = np.exp(theta - theta.max(axis=1, keepdims=True))
        pi /= pi.sum(axis=1, keepdims=True)
        out = np.zeros_like(np.asarray(theta, dtype=float))
        for t, (s_, a_) in enumerate(zip(states, actions)):
            out[s_] -= gamma**t * G0 * pi[s_]
            out[s_, a_] += gamma**t * G0
        return out

    hints = variant_hints(None, [
        ("the factor gamma^t in front of each term is missing (the chapter's pitfall).",
         no_discount),
        ("every term uses the whole return G_0 instead of the reward-to-go G_t.",
         whole_return),
    ])
    return compare_on_cases("reward-to-go gradient", fn, _rtg_reference, cases,
                            diagnose=hints)


def check_linear_softmax_score(fn, n_cases: int = 8, seed: int = 0):
    """Check ``fn(theta, phi)``: the score ``grad_theta ln pi(a|s)`` of the linear
    softmax for every pair, ``(S, A, d)``, with ``theta`` ``(d,)`` and features
    ``phi`` ``(S, A, d)``."""
    rng = np.random.default_rng(seed)
    cases = []
    for _ in range(n_cases):
        S, A, d = rng.integers(1, 4), rng.integers(2, 4), rng.integers(1, 5)
        cases.append(dict(theta=rng.normal(size=d), phi=rng.normal(size=(S, A, d))))
    hints = variant_hints(None, [
        ("the policy-weighted mean feature E_pi[phi(s, .)] is not subtracted.",
         lambda theta, phi: np.asarray(phi, dtype=float)),
    ])
    return compare_on_cases("linear-softmax score", fn, linear_softmax_score, cases,
                            diagnose=hints)


def check_gaussian_score(fn, n_cases: int = 8, seed: int = 0):
    """Check ``fn(a, mean, std)``: the score of ``N(a; mean, std^2)`` with respect to
    ``(mean, std)``, stacked as an array of shape ``(2, n)`` for arrays of ``n`` values."""
    rng = np.random.default_rng(seed)
    cases = []
    for _ in range(n_cases):
        n = int(rng.integers(1, 6))
        cases.append(dict(a=rng.normal(size=n) * 2, mean=rng.normal(size=n),
                          std=rng.uniform(0.3, 2.0, size=n)))
    def wrt_variance(a, mean, std):
        z = (a - mean) / std
        return np.stack([z / std, (z**2 - 1) / (2 * std**2)])

    hints = variant_hints(None, [
        ("the second row is the derivative with respect to the variance sigma^2; the "
         "exercise asks for the derivative with respect to sigma.", wrt_variance),
        ("the -1/sigma term of the sigma-derivative is missing (the normalising "
         "constant depends on sigma).",
         lambda a, mean, std: np.stack([(a - mean) / std**2, (a - mean) ** 2 / std**3])),
    ])
    return compare_on_cases("Gaussian score", fn, gaussian_score, cases, diagnose=hints)


def check_optimal_baseline(fn, n_cases: int = 8, seed: int = 0):
    """Check ``fn(pi, q)``: the variance-minimising baseline ``b*(s)`` of the tabular
    softmax, ``(S,)``, for a policy ``pi`` ``(S, A)`` and action values ``q`` ``(S, A)``."""
    rng = np.random.default_rng(seed)
    cases = []
    for _ in range(n_cases):
        S, A = rng.integers(1, 5), rng.integers(2, 5)
        cases.append(dict(pi=rng.dirichlet(np.ones(A) * 0.7, size=S), q=3 * rng.normal(size=(S, A))))
    hints = variant_hints(None, [
        ("this is v_pi(s) = sum_a pi(a|s) q(s, a): the optimal baseline weights each "
         "action by pi(a|s) times the squared norm of its score.",
         lambda pi, q: np.sum(pi * q, axis=1)),
    ])
    return compare_on_cases("optimal baseline", fn, optimal_baseline, cases,
                            diagnose=hints)


def _coordinate_baseline(pi, q):
    A = pi.shape[1]
    score_sq = (np.eye(A)[None, :, :] - pi[:, None, :]) ** 2  # (S, a, j)
    w = pi[:, :, None] * score_sq
    return np.einsum("saj,sa->sj", w, q) / w.sum(axis=1)


def check_coordinate_baseline(fn, n_cases: int = 8, seed: int = 0):
    """Check ``fn(pi, q) -> (S, A)``: the baseline ``b_j(s)`` that minimises the variance
    of each coordinate ``(s, j)`` of the one-step estimate ``(q(s, A) - b_j(s))
    d ln pi(A|s) / d theta_{s,j}`` of the tabular softmax separately, ``A ~ pi(.|s)``."""
    rng = np.random.default_rng(seed)
    cases = []
    for _ in range(n_cases):
        S, A = rng.integers(1, 5), rng.integers(2, 5)
        cases.append(dict(pi=rng.dirichlet(np.ones(A) * 0.7, size=S),
                          q=3 * rng.normal(size=(S, A))))
    hints = variant_hints(None, [
        ("this is the scalar b*(s) of the chapter repeated in every coordinate; each "
         "coordinate has its own weights pi(a|s) (1[a = j] - pi(j|s))^2.",
         lambda pi, q: np.repeat(optimal_baseline(pi, q)[:, None], pi.shape[1], axis=1)),
        ("this is v_pi(s) in every coordinate.",
         lambda pi, q: np.repeat(np.sum(pi * q, axis=1)[:, None], pi.shape[1], axis=1)),
    ])
    return compare_on_cases("per-coordinate optimal baseline", fn, _coordinate_baseline,
                            cases, diagnose=hints)


def _masked_score(theta, phi, allowed):
    logits = np.where(allowed, phi @ theta, -np.inf)
    pi = np.exp(logits - logits.max(axis=1, keepdims=True))
    pi /= pi.sum(axis=1, keepdims=True)
    score = phi - np.einsum("sa,sad->sd", pi, phi)[:, None, :]
    return np.where(allowed[:, :, None], score, 0.0)


def check_masked_score(fn, n_cases: int = 8, seed: int = 0):
    """Check ``fn(theta, phi, allowed) -> (S, A, d)``: the score of the linear softmax
    restricted to the allowed actions, ``pi(a|s) ∝ exp(theta . phi(s, a))`` for
    ``allowed[s, a]`` and 0 otherwise; rows of disallowed actions are 0."""
    rng = np.random.default_rng(seed)
    cases = []
    for _ in range(n_cases):
        S, A, d = rng.integers(1, 4), rng.integers(3, 5), rng.integers(1, 5)
        allowed = rng.random((S, A)) < 0.6
        allowed[np.arange(S), rng.integers(0, A, S)] = True  # at least one action
        cases.append(dict(theta=rng.normal(size=d), phi=rng.normal(size=(S, A, d)),
                          allowed=allowed))

    def unmasked_mean(theta, phi, allowed):
        score = linear_softmax_score(theta, phi)
        return np.where(allowed[:, :, None], score, 0.0)

    hints = variant_hints(None, [
        ("the mean feature is taken under the unrestricted softmax; the policy gives "
         "probability 0 to the disallowed actions, so they leave the mean.",
         unmasked_mean),
        ("the disallowed rows must be 0 (those actions are never taken).",
         lambda theta, phi, allowed: _masked_score(theta, phi, np.ones_like(allowed))),
    ])
    return compare_on_cases("score with allowed actions", fn, _masked_score, cases,
                            diagnose=hints)
