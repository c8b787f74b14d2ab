"""Checkers for the exercises of chapter C9 *Policy gradient methods*."""
from __future__ import annotations

import numpy as np

from ..mdp import FiniteMDP
from ..policy_gradient.average_reward import (average_reward_gradient, differential_values,
                                              stationary_distribution,
                                              stationary_weighted_gradient)
from ._checker import compare_on_cases

__all__ = ["check_stationary_distribution", "check_differential_values",
           "check_average_reward_gradient"]


def _variant_hint(variants):
    """A ``diagnose`` for :func:`compare_on_cases`: the hint of the first wrong
    variant that the reader's function reproduces on every case."""
    def diagnose(user_fn, cases):
        for wrong, hint in variants:
            try:
                if all(np.allclose(np.asarray(user_fn(**{k: (v.copy() if isinstance(v, np.ndarray) else v)
                                                          for k, v in c.items()}), dtype=float),
                                   np.asarray(wrong(**c), dtype=float), rtol=1e-6, atol=1e-8)
                       for c in cases):
                    return hint
            except Exception:  # noqa: BLE001 - a crashing answer matches no variant
                return None
        return None
    return diagnose


def _chain(rng, S, transient=0):
    """A random unichain transition matrix: an irreducible block plus ``transient``
    states that lead into it."""
    P = rng.dirichlet(np.ones(S) * 0.7, size=S)
    if transient:
        P[:, S - transient:] = 0.0
        P[S - transient:, :S - transient] += 0.1
        P /= P.sum(axis=1, keepdims=True)
    return P


def _mdp1(P_pi, r_pi):
    S = len(P_pi)
    return FiniteMDP(P_pi[:, None, :], np.asarray(r_pi, dtype=float)[:, None], 0.9), np.ones((S, 1))


def _ref_d(P_pi):
    m, pi = _mdp1(P_pi, np.zeros(len(P_pi)))
    return stationary_distribution(m, pi)


def _power_d(P_pi):   # rho0 = uniform, pushed 3 steps: not yet stationary
    return np.full(len(P_pi), 1 / len(P_pi)) @ np.linalg.matrix_power(P_pi, 3)


def _column_eig(P_pi):  # eigenvector of P_pi (not its transpose) for eigenvalue 1
    w, V = np.linalg.eig(P_pi)
    x = np.real(V[:, np.argmin(abs(w - 1))])
    return x / x.sum()


def check_stationary_distribution(fn, n_cases: int = 8, seed: int = 0):
    """Check ``fn(P_pi)``: the stationary distribution ``d`` ``(S,)`` of a unichain
    transition matrix ``P_pi`` ``(S, S)`` (some cases have transient states, which
    must get probability 0)."""
    rng = np.random.default_rng(seed)
    cases = [dict(P_pi=_chain(rng, int(rng.integers(2, 6)), transient=int(k % 2)))
             for k in range(n_cases)]
    return compare_on_cases("stationary distribution", fn, _ref_d, cases, atol=1e-9,
                            diagnose=_variant_hint([
                                (_column_eig, "that is an eigenvector of P_pi; d is a LEFT "
                                 "eigenvector: d^T P_pi = d^T, i.e. an eigenvector of P_pi.T"),
                                (_power_d, "a few steps of rho0^T P_pi^t are not the limit; solve "
                                 "the balance equations instead")]))


def _ref_h(P_pi, r_pi):
    m, pi = _mdp1(P_pi, r_pi)
    return differential_values(m, pi)


def _h_pinned(P_pi, r_pi):  # normalised by h[0] = 0 instead of d^T h = 0
    h = _ref_h(P_pi, r_pi)
    return h - h[0]


def check_differential_values(fn, n_cases: int = 8, seed: int = 0):
    """Check ``fn(P_pi, r_pi)``: the differential values ``h`` ``(S,)`` solving
    ``h + r_bar 1 = r_pi + P_pi h`` with ``d_pi^T h = 0``."""
    rng = np.random.default_rng(seed)
    cases = []
    for k in range(n_cases):
        S = int(rng.integers(2, 6))
        cases.append(dict(P_pi=_chain(rng, S, transient=int(k % 2)), r_pi=rng.normal(size=S)))
    return compare_on_cases("differential values", fn, _ref_h, cases, atol=1e-8,
                            diagnose=_variant_hint([
                                (_h_pinned, "your h solves the Poisson equation but is pinned by "
                                 "h[0] = 0; the book's normalisation is d_pi^T h = 0 (subtract "
                                 "d_pi^T h)")]))


def _ref_grad(P, R, theta):
    return average_reward_gradient(FiniteMDP(P, R, 0.9), theta)


def _grad_discounted(P, R, theta):
    return stationary_weighted_gradient(FiniteMDP(P, R, 0.9), theta)


def check_average_reward_gradient(fn, n_cases: int = 6, seed: int = 0):
    """Check ``fn(P, R, theta)``: ``grad_theta r_bar`` ``(S, A)`` of the tabular softmax
    ``pi = softmax(theta)`` on the MDP with transitions ``P`` ``(S, A, S)`` and
    rewards ``R`` ``(S, A)`` (every policy is unichain on these cases)."""
    rng = np.random.default_rng(seed)
    cases = []
    for _ in range(n_cases):
        S, A = int(rng.integers(2, 5)), int(rng.integers(2, 4))
        cases.append(dict(P=rng.dirichlet(np.ones(S), size=(S, A)), R=rng.normal(size=(S, A)),
                          theta=rng.normal(size=(S, A))))
    return compare_on_cases("average-reward gradient", fn, _ref_grad, cases, atol=1e-9,
                            diagnose=_variant_hint([
                                (_grad_discounted, "you used discounted action values with "
                                 "gamma = 0.9; the theorem needs the differential values "
                                 "q(s, a) = r(s, a) - r_bar + sum_s' p(s'|s, a) h(s')")]))
