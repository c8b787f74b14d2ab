"""Checkers for the exercises of chapter C10 *Actor-critic methods*."""
from __future__ import annotations

import numpy as np

from ..mdp import FiniteMDP
from ..policy_gradient.actor_critic import compatible_critic_weights, td_advantage
from ..policy_gradient.deterministic import LinearQuadratic, lq_objective
from ..policy_gradient.objectives import tabular_features
from ._checker import compare_on_cases
from .c09 import _variant_hint

__all__ = ["check_td_advantage", "check_lq_objective", "check_compatible_weights"]


def _ref_td(P, R, gamma, v):
    return td_advantage(FiniteMDP(P, R, gamma), v)


def _td_no_gamma(P, R, gamma, v):
    return _ref_td(P, R, 1.0, v)


def _td_q(P, R, gamma, v):
    return R + gamma * P @ v


def check_td_advantage(fn, n_cases: int = 8, seed: int = 0):
    """Check ``fn(P, R, gamma, v)``: ``E[delta_t | S_t = s, A_t = a]`` ``(S, A)`` for the
    critic ``v`` ``(S,)``, transitions ``P`` ``(S, A, S)``, rewards ``R`` ``(S, A)``."""
    rng = np.random.default_rng(seed)
    cases = []
    for _ in range(n_cases):
        S, A = int(rng.integers(2, 6)), int(rng.integers(2, 4))
        cases.append(dict(P=rng.dirichlet(np.ones(S), size=(S, A)), R=rng.normal(size=(S, A)),
                          gamma=float(rng.choice([0.5, 0.9])), v=3 * rng.normal(size=S)))
    return compare_on_cases("TD-error advantage", fn, _ref_td, cases, diagnose=_variant_hint([
        (_td_no_gamma, "gamma is missing in front of the next state's value"),
        (_td_q, "that is q = r + gamma P v; the TD error also subtracts v(s)")]))


def _ref_lq(f_s, f_u, c_s, c_u, gamma, sigma0, k):
    return lq_objective(LinearQuadratic(f_s, f_u, c_s, c_u, gamma, sigma0), k)


def _lq_no_sigma(f_s, f_u, c_s, c_u, gamma, sigma0, k):
    return _ref_lq(f_s, f_u, c_s, c_u, gamma, 1.0, k)


def _lq_no_square(f_s, f_u, c_s, c_u, gamma, sigma0, k):
    ell = f_s - f_u * k
    return -(c_s + c_u * k**2) * sigma0**2 / (1 - gamma * abs(ell))


def check_lq_objective(fn, n_cases: int = 8, seed: int = 0):
    """Check ``fn(f_s, f_u, c_s, c_u, gamma, sigma0, k)``: the return ``J(k)`` of the linear
    policy ``u = -k s`` on the linear-quadratic problem (a float)."""
    rng = np.random.default_rng(seed)
    cases = []
    while len(cases) < n_cases:
        c = dict(f_s=float(rng.uniform(0.5, 1.5)), f_u=float(rng.uniform(0.2, 1.0)),
                 c_s=float(rng.uniform(0.5, 2.0)), c_u=float(rng.uniform(0.05, 1.0)),
                 gamma=float(rng.choice([0.8, 0.9, 0.95])), sigma0=float(rng.uniform(0.5, 2.0)),
                 k=float(rng.uniform(0.0, 2.0)))
        if c["gamma"] * (c["f_s"] - c["f_u"] * c["k"]) ** 2 < 0.95:
            cases.append(c)
    return compare_on_cases("LQ objective J(k)", fn, _ref_lq, cases, diagnose=_variant_hint([
        (_lq_no_sigma, "J(k) scales with E[s_0^2] = sigma0^2"),
        (_lq_no_square, "E[s_t^2] shrinks by ell^2 per step, not by |ell|")]))


def _ref_w(P, R, gamma, theta, rho0):
    S, A = theta.shape
    return compatible_critic_weights(FiniteMDP(P, R, gamma), theta.ravel(), rho0,
                                     tabular_features(S, A)).reshape(S, A)


def _w_advantage(P, R, gamma, theta, rho0):
    m = FiniteMDP(P, R, gamma)
    from ..dp.bellman import evaluate_policy, q_from_v
    from ..policy_gradient.objectives import softmax_policy
    v = evaluate_policy(m, softmax_policy(theta))
    return q_from_v(m, v) - v[:, None]


def check_compatible_weights(fn, n_cases: int = 6, seed: int = 0):
    """Check ``fn(P, R, gamma, theta, rho0)``: the least-norm MSE-optimal weights ``w``
    ``(S, A)`` of the compatible critic for the tabular softmax ``pi = softmax(theta)``
    (``rho0 > 0`` everywhere, so every state is visited)."""
    rng = np.random.default_rng(seed)
    cases = []
    for _ in range(n_cases):
        S, A = int(rng.integers(2, 5)), int(rng.integers(2, 4))
        cases.append(dict(P=rng.dirichlet(np.ones(S), size=(S, A)), R=rng.normal(size=(S, A)),
                          gamma=0.9, theta=rng.normal(size=(S, A)), rho0=rng.dirichlet(np.ones(S))))
    return compare_on_cases("compatible weights", fn, _ref_w, cases, atol=1e-7,
                            diagnose=_variant_hint([
                                (_w_advantage, "A_pi itself fits perfectly but is not the "
                                 "least-norm solution: per-state constants are invisible to "
                                 "f_w; subtract each row's mean")]))
