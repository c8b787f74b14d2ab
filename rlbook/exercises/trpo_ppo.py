"""Checkers for the coding exercises of the chapter *TRPO and PPO*.

Each checker calls the reader's function with keyword arguments on random
cases and compares it with the reference implementation in :mod:`rlbook`.
"""
from __future__ import annotations

import numpy as np

from ..trust_region.ppo import clipped_surrogate_objective, gae
from ._checker import CheckReport, compare_on_cases, variant_hints

__all__ = [
    "check_gae",
    "check_tabular_fisher_vector_product",
    "check_linear_fisher_vector_product",
    "check_clipped_surrogate",
    "check_categorical_kl_hessian",
    "check_gaussian_fisher",
]


def _gae_cases(seed=0, n=16):
    rng = np.random.default_rng(seed)
    cases = []
    for k in range(n):
        T = int(rng.integers(1, 12))
        values = rng.standard_normal(T)
        next_values = np.append(values[1:], rng.standard_normal())
        u = rng.random(T)
        dones = (u < 0.2).astype(float)
        truncations = ((u >= 0.2) & (u < 0.4)).astype(float)
        if k % 4 == 0 and T > 1:  # always some cases with a truncation mid-batch
            dones[T // 2], truncations[T // 2] = 0.0, 1.0
        # after the end of an episode the next row starts a new one: next_values of an
        # ending step is the value of the last observation (ignored after a termination)
        ends = (dones + truncations) > 0
        next_values = np.where(ends, rng.standard_normal(T), next_values)
        gamma = [0.99, 0.9, 0.5, 1.0][k % 4]
        lam = [0.95, 0.0, 1.0, 0.7][(k // 2) % 4]
        cases.append(dict(rewards=rng.standard_normal(T), values=values,
                          next_values=next_values, dones=dones, truncations=truncations,
                          gamma=gamma, lam=lam))
    return cases


def _gae_reference(rewards, values, next_values, dones, truncations, gamma, lam):
    return gae(rewards, values, next_values, dones, gamma, lam, truncations=truncations)


def _gae_ignore_truncations(rewards, values, next_values, dones, truncations, gamma, lam):
    return gae(rewards, values, next_values, dones, gamma, lam)


def _gae_truncation_as_termination(rewards, values, next_values, dones, truncations,
                                   gamma, lam):
    return gae(rewards, values, next_values, np.maximum(dones, truncations), gamma, lam)


def _carry(rewards, values, next_values, dones, truncations, gamma, lam):
    delta = rewards + gamma * (1 - dones) * next_values - values
    cut = np.maximum(dones, truncations)
    adv, last = np.zeros(len(delta)), 0.0
    for t in range(len(delta) - 1, -1, -1):
        last = delta[t] + lam * (1 - cut[t]) * last
        adv[t] = last
    return adv


_GAE_HINTS = variant_hints(None, [
    ("the truncations are ignored: the recursion runs from one episode into the next "
     "after a time limit. A truncation must cut the sum of TD errors.",
     _gae_ignore_truncations),
    ("a truncation is treated as a termination: after a time limit the TD error must "
     "still bootstrap from V(s_{t+1}) (next_values[t]); only the recursion stops.",
     _gae_truncation_as_termination),
    ("the carry of the recursion is lambda, not gamma * lambda.", _carry),
], rtol=1e-8, atol=1e-10)


def check_gae(fn) -> CheckReport:
    r"""Check ``fn(rewards, values, next_values, dones, truncations, gamma, lam) -> (T,)``
    against :func:`rlbook.gae`.

    ``dones[t] = 1``: ``s_{t+1}`` is terminal (value 0, the recursion stops);
    ``truncations[t] = 1``: the episode was cut by a time limit after step ``t`` (the
    TD error still bootstraps from ``next_values[t]``, the recursion stops).  The
    cases contain terminations and truncations in the middle of the batch, ``lam``
    in ``{0, 0.7, 0.95, 1}`` and ``gamma`` in ``{0.5, 0.9, 0.99, 1}``; a failing
    answer gets a hint when it matches a typical mistake (truncations ignored,
    truncation treated as termination, ``lam`` as the carry).
    """
    return compare_on_cases("GAE with terminations and truncations", fn, _gae_reference,
                            _gae_cases(), rtol=1e-8, atol=1e-10, diagnose=_GAE_HINTS)


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
    hints = variant_hints(None, [
        ("the weights d(s) are missing.", lambda pi, d, v: _fvp_reference(pi, np.ones_like(d), v)),
        ("the -pi_s (pi_s . v_s) term is missing (that is E[e_a e_a^T], not the Fisher).",
         lambda pi, d, v: d[:, None] * pi * v),
    ], rtol=1e-8, atol=1e-12)
    return compare_on_cases("tabular Fisher-vector product", fn, _fvp_reference, _fvp_cases(),
                            rtol=1e-8, atol=1e-12, diagnose=hints)


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
    hints = variant_hints(None, [
        ("max instead of min: the objective must be the pessimistic one of the two terms.",
         lambda ratio, advantages, eps: float(np.mean(np.maximum(
             ratio * advantages, np.clip(ratio, 1 - eps, 1 + eps) * advantages)))),
        ("clip without the min: for a negative advantage and a large ratio the unclipped "
         "term must win.", lambda ratio, advantages, eps: float(np.mean(
             np.clip(ratio, 1 - eps, 1 + eps) * advantages))),
        ("the sign is flipped: this is the loss (to minimise), the exercise asks for the "
         "objective.", lambda ratio, advantages, eps: -clipped_surrogate_objective(
             ratio, advantages, eps)),
    ], rtol=1e-10, atol=1e-12)
    return compare_on_cases("clipped surrogate objective", fn, clipped_surrogate_objective,
                            _clip_cases(), rtol=1e-10, atol=1e-12, diagnose=hints)


def _hessian_reference(p):
    return np.diag(p) - np.outer(p, p)


def _hessian_cases(seed=3, n=8):
    rng = np.random.default_rng(seed)
    return [dict(p=rng.dirichlet(np.ones(int(rng.integers(2, 6))))) for _ in range(n)]


def check_categorical_kl_hessian(fn) -> CheckReport:
    r"""Check ``fn(p) -> (K, K)``: the Hessian of ``theta -> KL(p || softmax(theta))`` with
    respect to the logits ``theta``, evaluated at ``softmax(theta) = p``."""
    hints = variant_hints(None, [
        ("the -p p^T term is missing.", lambda p: np.diag(p)),
        ("the sign is flipped: the KL has a minimum at p, its Hessian is positive "
         "semidefinite.", lambda p: np.outer(p, p) - np.diag(p)),
    ], rtol=1e-8, atol=1e-12)
    return compare_on_cases("Hessian of the categorical KL", fn, _hessian_reference,
                            _hessian_cases(), rtol=1e-8, atol=1e-12, diagnose=hints)



def _linear_fvp_reference(theta, phi, d, v):
    logits = phi @ theta
    pi = np.exp(logits - logits.max(axis=1, keepdims=True))
    pi /= pi.sum(axis=1, keepdims=True)
    score = phi - np.einsum("sa,sak->sk", pi, phi)[:, None, :]  # (S, A, k)
    return np.einsum("s,sa,sak,sa->k", d, pi, score, score @ v)


def _linear_fvp_no_centering(theta, phi, d, v):
    logits = phi @ theta
    pi = np.exp(logits - logits.max(axis=1, keepdims=True))
    pi /= pi.sum(axis=1, keepdims=True)
    return np.einsum("s,sa,sak,sa->k", d, pi, phi, phi @ v)


def _linear_fvp_unweighted(theta, phi, d, v):
    return _linear_fvp_reference(theta, phi, np.ones_like(d), v)


def _linear_fvp_cases(seed=4, n=8):
    rng = np.random.default_rng(seed)
    cases = []
    for _ in range(n):
        S, A, k = int(rng.integers(1, 5)), int(rng.integers(2, 5)), int(rng.integers(1, 6))
        cases.append(dict(theta=rng.standard_normal(k), phi=rng.standard_normal((S, A, k)),
                          d=rng.dirichlet(np.ones(S)), v=rng.standard_normal(k)))
    return cases


def check_linear_fisher_vector_product(fn) -> CheckReport:
    r"""Check ``fn(theta, phi, d, v) -> (k,)``: the Fisher-vector product of the
    linear-softmax policy ``pi(a|s) ∝ exp(theta . phi(s, a))`` under the state weights
    ``d``, ``F v = sum_s d(s) E_{a~pi}[psi(s,a) psi(s,a)^T] v`` with the score
    ``psi(s, a) = phi(s, a) - E_pi[phi(s, .)]`` (the Gauss-Newton form
    ``sum_s d(s) Phi_s^T (diag pi_s - pi_s pi_s^T) Phi_s v``), without forming ``F``."""
    hints = variant_hints(None, [
        ("the features are not centred: the score is phi(s, a) - E_pi[phi(s, .)], "
         "not phi(s, a) (equivalently M_s = diag(pi_s) - pi_s pi_s^T, not diag(pi_s)).",
         _linear_fvp_no_centering),
        ("the state weights d(s) are missing.", _linear_fvp_unweighted),
    ], rtol=1e-8, atol=1e-12)
    return compare_on_cases("linear-softmax Fisher-vector product", fn,
                            _linear_fvp_reference, _linear_fvp_cases(), rtol=1e-8,
                            atol=1e-12, diagnose=hints)


def _gaussian_fisher_reference(sigma):
    sigma = np.asarray(sigma, dtype=float)
    return np.diag(np.concatenate([1.0 / sigma**2, np.full(sigma.shape, 2.0)]))


def check_gaussian_fisher(fn) -> CheckReport:
    r"""Check ``fn(sigma) -> (2k, 2k)``: the Fisher matrix of the diagonal Gaussian
    ``N(mu, diag(sigma^2))`` with respect to ``(mu, log sigma)`` (means first), equal
    to the Hessian of ``KL(N_old || N_new)`` at ``N_new = N_old``."""
    rng = np.random.default_rng(5)
    cases = [dict(sigma=rng.uniform(0.2, 3.0, size=int(rng.integers(1, 5))))
             for _ in range(8)]

    def in_sigma(sigma):  # coordinates (mu, sigma) instead of (mu, log sigma)
        return np.diag(np.concatenate([1.0 / sigma**2, 2.0 / sigma**2]))

    def no_two(sigma):
        return np.diag(np.concatenate([1.0 / sigma**2, np.ones_like(sigma)]))

    hints = variant_hints(None, [
        ("this is the Fisher matrix in the coordinates (mu, sigma); the chain rule "
         "through sigma = exp(s) multiplies the sigma block by sigma^2.", in_sigma),
        ("the log-sigma block is 2, not 1: Var[d ln N / d log sigma] = Var[z^2 - 1] "
         "= 2 for z ~ N(0, 1).", no_two),
    ], rtol=1e-8, atol=1e-12)
    return compare_on_cases("Fisher matrix of a diagonal Gaussian", fn,
                            _gaussian_fisher_reference, cases, rtol=1e-8, atol=1e-12,
                            diagnose=hints)
