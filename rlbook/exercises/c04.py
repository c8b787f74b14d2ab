"""Checkers for the coding exercises of Chapter 4, *Value iteration and policy iteration*."""
from __future__ import annotations

import numpy as np

from ..dp.bellman import evaluate_policy
from ..dp.iteration import policy_iteration
from ..mdp import FiniteMDP, random_mdp
from ._checker import CheckReport, compare_on_cases

__all__ = ["check_value_iteration", "check_policy_iteration"]

_EX_VI = "c04 value iteration"
_EX_PI = "c04 policy iteration"


def _copy(case):
    return {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in case.items()}


def _mdp_cases(seed, shapes, gammas, with_tol=None):
    rng = np.random.default_rng(seed)
    cases = []
    for (S, A), gamma in zip(shapes, gammas):
        mdp = random_mdp(S, A, gamma, seed=rng)
        case = dict(P=np.array(mdp.P), R=np.array(mdp.R), gamma=gamma)
        if with_tol is not None:
            case["tol"] = with_tol
        cases.append(case)
    return cases


def _describe(case):
    S, A = case["R"].shape
    extra = f", tol = {case['tol']:g}" if "tol" in case else ""
    return f"a random MDP with S = {S}, A = {A}, gamma = {case['gamma']}{extra}"


def _v_star(P, R, gamma, **_):
    return policy_iteration(FiniteMDP(P, R, gamma)).v


# -- value iteration -------------------------------------------------------------------------
_VI_TOL = 1e-6


def _vi_cases():
    shapes = [(3, 2), (5, 3), (4, 4), (8, 3), (6, 2), (10, 4)]
    gammas = [0.5, 0.9, 0.99, 0.95, 0.0, 0.99]
    return _mdp_cases(404, shapes, gammas, with_tol=_VI_TOL)


def _vi_reference(P, R, gamma, tol):
    return _v_star(P, R, gamma)


def _diagnose_vi(fn, cases):
    for case in cases:
        try:
            got = np.asarray(fn(**_copy(case)), dtype=float)
        except Exception:  # noqa: BLE001 - the reader's error is already reported
            return None
        S, A = case["R"].shape
        if got.shape != (S,):
            return None
        gamma = case["gamma"]
        v_star = _v_star(**case)
        err = float(np.max(np.abs(got - v_star)))
        if err <= case["tol"]:
            continue
        uniform = evaluate_policy(FiniteMDP(case["P"], case["R"], gamma), np.full((S, A), 1.0 / A))
        if np.allclose(got, uniform, atol=1e-4):
            return ("your values are those of the uniform random policy: the update must take "
                    "the maximum over actions, not the average.")
        if gamma > 0 and err <= 2 * gamma / (1 - gamma) * case["tol"]:
            return (f"your values are close to v* but off by {err:.3g} > tol = {case['tol']:g} "
                    f"(gamma = {gamma}): stopping when ||v_(k+1) - v_k|| < tol only guarantees "
                    "||v_(k+1) - v*|| <= gamma / (1 - gamma) * tol. Stop when "
                    "||v_(k+1) - v_k|| <= tol * (1 - gamma) / gamma.")
        if np.all(got <= v_star + 1e-9) and np.any(got < v_star - 1e-3):
            return ("your values are below v* everywhere they differ: did the loop stop after "
                    "too few sweeps, or take a minimum somewhere?")
        return None
    return None


def check_value_iteration(fn) -> CheckReport:
    r"""Check a reader's ``fn(P, R, gamma, tol)`` implementing value iteration:
    starting from ``v_0 = 0``, iterate ``v_{k+1} = T v_k`` and return values
    ``(S,)`` within ``tol`` of ``v*`` in the sup norm. The cases include
    ``gamma = 0.99`` with ``tol = 1e-6``, where the naive stopping rule
    ``||v_{k+1} - v_k|| < tol`` is not accurate enough.

    The reference ``v*`` is computed by exact policy iteration; an answer passes
    if every entry is within ``tol`` (absolute) of it.

    Raises :class:`~rlbook.exercises.ExerciseFailed` on the first case that
    differs, with a hint for typical mistakes (averaging instead of maximising,
    a stopping rule too loose for ``gamma`` close to 1); :class:`TypeError` if
    ``fn`` is not callable.
    """
    return compare_on_cases(_EX_VI, fn, _vi_reference, _vi_cases(), rtol=0.0, atol=_VI_TOL,
                            describe=_describe, diagnose=_diagnose_vi)


# -- policy iteration ------------------------------------------------------------------------
def _pi_cases():
    shapes = [(3, 2), (5, 3), (4, 4), (8, 3), (6, 5), (12, 4)]
    gammas = [0.5, 0.9, 0.99, 0.8, 0.95, 0.9]
    return _mdp_cases(405, shapes, gammas)


def _pi_reference(P, R, gamma):
    return policy_iteration(FiniteMDP(P, R, gamma)).policy.argmax(axis=1)


def _diagnose_pi(fn, cases):
    for case in cases:
        try:
            got = np.asarray(fn(**_copy(case)))
        except Exception:  # noqa: BLE001 - the reader's error is already reported
            return None
        S, A = case["R"].shape
        if got.shape == (S, A):
            return ("return the optimal action of every state as an integer array (S,), e.g. "
                    "pi.argmax(axis=1) of a one-hot policy.")
        if got.shape != (S,) or not np.all(np.isin(got, np.arange(A))):
            return f"return one action index in [0, {A - 1}] per state, an array of shape ({S},)."
        mdp = FiniteMDP(case["P"], case["R"], case["gamma"])
        pi = np.zeros((S, A))
        pi[np.arange(S), got.astype(int)] = 1.0
        v = evaluate_policy(mdp, pi)
        v_star = _v_star(**case)
        gap = v_star - v
        if gap.max() > 1e-9:
            s = int(np.argmax(gap))
            return (f"your policy is not optimal (gamma = {case['gamma']}): in state {s} its value "
                    f"is {v[s]:.6g} but v*({s}) = {v_star[s]:.6g}. Did you stop before the policy "
                    "was stable (pi_(k+1) = pi_k), or improve with respect to the wrong values?")
    return None


def check_policy_iteration(fn) -> CheckReport:
    r"""Check a reader's ``fn(P, R, gamma)`` implementing policy iteration
    (exact evaluation ``v_k = (I - gamma P_{pi_k})^{-1} r_{pi_k}``, greedy
    improvement, stop when the policy is stable) that returns the optimal
    action of every state, an integer array ``(S,)``. The random MDPs have a
    unique optimal policy, so the answer is compared action by action.

    Raises :class:`~rlbook.exercises.ExerciseFailed` on the first case that
    differs, with a hint (wrong shape, a state where the returned policy is
    worse than optimal); :class:`TypeError` if ``fn`` is not callable.
    """
    return compare_on_cases(_EX_PI, fn, _pi_reference, _pi_cases(), rtol=0.0, atol=0.0,
                            describe=_describe, diagnose=_diagnose_pi)
