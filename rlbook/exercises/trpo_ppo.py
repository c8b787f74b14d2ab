"""Checkers for the coding exercises of the chapter *TRPO and PPO*.

Each checker calls the reader's function with keyword arguments on random
cases and compares it with the reference implementation in :mod:`rlbook`.
"""
from __future__ import annotations

import numpy as np

from ..trust_region.ppo import clipped_surrogate_objective, gae
from ._checker import CheckReport, compare_on_cases

__all__ = [
    "check_gae",
    "check_tabular_fisher_vector_product",
    "check_clipped_surrogate",
    "check_categorical_kl_hessian",
]


def _gae_cases(seed=0, n=12):
    rng = np.random.default_rng(seed)
    cases = []
    for k in range(n):
        T = int(rng.integers(1, 12))
        values = rng.standard_normal(T)
        next_values = np.append(values[1:], rng.standard_normal())
        dones = (rng.random(T) < 0.25).astype(float)
        # after a terminal step the next observation starts a new episode:
        # next_values of a terminal step is a (ignored) arbitrary number
        next_values = np.where(dones == 1, rng.standard_normal(T), next_values)
        gamma = [0.99, 0.9, 0.5, 1.0][k % 4]
        lam = [0.95, 0.0, 1.0, 0.7][(k // 2) % 4]
        cases.append(dict(rewards=rng.standard_normal(T), values=values, next_values=next_values,
                          dones=dones, gamma=gamma, lam=lam))
    return cases


def check_gae(fn) -> CheckReport:
    r"""Check ``fn(rewards, values, next_values, dones, gamma, lam) -> (T,)`` against :func:`rlbook.gae`.

    ``delta_t = r_t + gamma (1 - d_t) V(s_{t+1}) - V(s_t)`` and
    ``A_t = delta_t + gamma lam (1 - d_t) A_{t+1}`` (``A_T = 0``), where
    ``dones[t] = 1`` means ``s_{t+1}`` is terminal. The cases contain episode
    ends in the middle of the batch, ``lam`` in ``{0, 0.7, 0.95, 1}`` and
    ``gamma`` in ``{0.5, 0.9, 0.99, 1}``.
    """
    return compare_on_cases("GAE", fn, gae, _gae_cases(), rtol=1e-8, atol=1e-10)


def _fvp_reference(pi, d, v):
    return d[:, None] * (pi * v - pi * (pi * v).sum(axis=1, keepdims=True))


def _fvp_cases(seed=1, n=8):
    rng = np.random.default_rng(seed)
    cases = []
    for _ in range(n):
        S, A = int(rng.integers(1, 5)), int(rng.integers(2, 5))
        logits = 2.0 * rng.standard_normal((S, A))
        pi = np.exp(logits - logits.max(axis=1, keepdims=True))
        pi /= pi.sum(axis=1, keepdims=True)
        cases.append(dict(pi=pi, d=rng.dirichlet(np.ones(S)), v=rng.standard_normal((S, A))))
    return cases


def check_tabular_fisher_vector_product(fn) -> CheckReport:
    r"""Check ``fn(pi, d, v) -> (S, A)``, the Fisher-vector product of a tabular softmax policy.

    ``F = sum_s d(s) E_{a ~ pi(.|s)}[grad_theta log pi(a|s) grad_theta log pi(a|s)^T]``
    with ``theta`` the ``(S, A)`` preferences; ``v`` and the result are
    ``(S, A)`` arrays (flattened row-major, ``F v`` is the matrix product).
    The reference is the closed form
    ``(F v)[s] = d(s) (pi_s * v_s - pi_s (pi_s . v_s))``.
    """
    return compare_on_cases("tabular Fisher-vector product", fn, _fvp_reference, _fvp_cases(),
                            rtol=1e-8, atol=1e-12)


def _clip_cases(seed=2, n=10):
    rng = np.random.default_rng(seed)
    cases = []
    for k in range(n):
        B = int(rng.integers(1, 30))
        # ratios spread on both sides of the clip range, advantages of both signs
        ratio = np.exp(0.5 * rng.standard_normal(B))
        cases.append(dict(ratio=ratio, advantages=rng.standard_normal(B), eps=[0.1, 0.2, 0.3][k % 3]))
    return cases


def check_clipped_surrogate(fn) -> CheckReport:
    r"""Check ``fn(ratio, advantages, eps) -> float``, PPO's clipped surrogate objective
    ``mean(min(r_t A_t, clip(r_t, 1 - eps, 1 + eps) A_t))`` (to be maximised)."""
    return compare_on_cases("clipped surrogate objective", fn, clipped_surrogate_objective,
                            _clip_cases(), rtol=1e-10, atol=1e-12)


def _hessian_reference(p):
    return np.diag(p) - np.outer(p, p)


def _hessian_cases(seed=3, n=8):
    rng = np.random.default_rng(seed)
    return [dict(p=rng.dirichlet(np.ones(int(rng.integers(2, 6))))) for _ in range(n)]


def check_categorical_kl_hessian(fn) -> CheckReport:
    r"""Check ``fn(p) -> (K, K)``: the Hessian of ``theta -> KL(p || softmax(theta))`` with
    respect to the logits ``theta``, evaluated at ``softmax(theta) = p``."""
    return compare_on_cases("Hessian of the categorical KL", fn, _hessian_reference, _hessian_cases(),
                            rtol=1e-8, atol=1e-12)
