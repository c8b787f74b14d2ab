"""Checkers for the coding exercises of Chapter 2, *State values and the
Bellman equation*."""
from __future__ import annotations

import numpy as np

from ..dp.bellman import evaluate_policy
from ..mdp import FiniteMDP, policy_matrices
from ._checker import CheckReport, compare_on_cases, describe_mdp_case, mdp_case, variant_hints

__all__ = ["check_policy_matrices", "check_evaluate_policy"]


def _cases(seed: int, n: int = 8, with_gamma: bool = False):
    """Random ``(P, R, pi)`` (and ``gamma``) with S != A, so that a transposed
    or mis-indexed array cannot slip through by having the right shape."""
    rng = np.random.default_rng(seed)
    cases = []
    for k in range(n):
        S = int(rng.integers(2, 7))
        A = int(rng.integers(2, 5))
        if A == S:
            A += 1
        gamma = float(np.round(rng.uniform(0.5, 0.95), 3))
        case = mdp_case(S, A, gamma, rng)
        pi = rng.dirichlet(np.ones(A), size=S)
        if k == 0:  # one deterministic policy
            pi = np.eye(A)[rng.integers(0, A, size=S)]
        case["pi"] = pi
        if not with_gamma:
            del case["gamma"]
        cases.append(case)
    return cases


# -- P_pi and r_pi -------------------------------------------------------------

def _ref_matrices(P, R, pi):
    return policy_matrices(FiniteMDP(P, R, 0.9), pi)


def _ref_P_pi(P, R, pi):
    return _ref_matrices(P, R, pi)[0]


def _ref_r_pi(P, R, pi):
    return _ref_matrices(P, R, pi)[1]


_P_VARIANTS = [
    (lambda P, R, pi: _ref_P_pi(P, R, pi).T,
     "your P_pi is the transpose of the right one: P_pi[s, s'] = sum_a pi(a|s) p(s'|s, a) has "
     "rows indexed by the current state s, so each row sums to 1."),
    (lambda P, R, pi: P.mean(axis=1),
     "your P_pi averages the actions uniformly: weight p(s'|s, a) by pi(a|s)."),
    (lambda P, R, pi: P.sum(axis=1),
     "your P_pi sums p(s'|s, a) over the actions without the weights pi(a|s) (its rows sum to A, not 1)."),
]
_R_VARIANTS = [
    (lambda P, R, pi: R.mean(axis=1),
     "your r_pi averages the rewards uniformly: weight r(s, a) by pi(a|s)."),
    (lambda P, R, pi: R.sum(axis=1),
     "your r_pi sums r(s, a) over the actions without the weights pi(a|s)."),
    (lambda P, R, pi: R.max(axis=1),
     "your r_pi takes the best reward max_a r(s, a): that is the optimality equation of Chapter 3, "
     "not the value of the policy pi."),
]


def check_policy_matrices(fn) -> CheckReport:
    r"""Check a reader's ``fn(P, R, pi)`` that returns the pair ``(P_pi, r_pi)``,
    ``P_pi[s, s'] = sum_a pi[s, a] P[s, a, s']`` (shape ``(S, S)``) and
    ``r_pi[s] = sum_a pi[s, a] R[s, a]`` (shape ``(S,)``).

    Raises :class:`~rlbook.exercises.ExerciseFailed` saying which of the two
    is wrong, where, and (for typical mistakes such as a transposed ``P_pi`` or
    a missing policy weighting) why.
    """
    name = "c02 policy matrices"
    if not callable(fn):
        raise TypeError(f"{name}: expected a function, got {type(fn).__name__}")
    cases = _cases(seed=7)

    def pair(**case):
        out = fn(**case)
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            raise TypeError(f"it returned {type(out).__name__}, expected a pair (P_pi, r_pi)")
        return out

    n = 0
    for part, ref, variants, label in ((0, _ref_P_pi, _P_VARIANTS, "P_pi"),
                                       (1, _ref_r_pi, _R_VARIANTS, "r_pi")):
        n = compare_on_cases(f"{name} ({label})", lambda part=part, **c: pair(**c)[part], ref,
                             cases, describe=describe_mdp_case,
                             diagnose=variant_hints(ref, variants)).n_cases
    return CheckReport(name, n)


# -- exact policy evaluation -----------------------------------------------------

def _ref_v(P, R, gamma, pi):
    return evaluate_policy(FiniteMDP(P, R, gamma), pi)


def _v_variant(kind):
    def f(P, R, gamma, pi):
        P_pi, r_pi = _ref_matrices(P, R, pi)
        I = np.eye(len(r_pi))
        if kind == "transpose":
            return np.linalg.solve(I - gamma * P_pi.T, r_pi)
        if kind == "two_steps":
            return r_pi + gamma * P_pi @ r_pi
        if kind == "plus":
            return np.linalg.solve(I + gamma * P_pi, r_pi)
        if kind == "unweighted_r":
            return np.linalg.solve(I - gamma * P_pi, R.mean(axis=1))
        if kind == "one_step":
            return r_pi
        raise AssertionError(kind)
    return f


_V_VARIANTS = [
    (_v_variant("transpose"),
     "your values solve (I - gamma P_pi^T) v = r_pi: P_pi is transposed (its rows, indexed by the "
     "current state, must sum to 1)."),
    (_v_variant("plus"),
     "your values solve (I + gamma P_pi) v = r_pi: the sign is wrong, v = r_pi + gamma P_pi v gives "
     "(I - gamma P_pi) v = r_pi."),
    (_v_variant("unweighted_r"),
     "your r_pi ignores the policy (uniform average over the actions): weight r(s, a) by pi(a|s)."),
    (_v_variant("one_step"),
     "your values are the one-step rewards r_pi: the value also counts the discounted future, "
     "v = r_pi + gamma P_pi v."),
    (_v_variant("two_steps"),
     "your values are r_pi + gamma P_pi r_pi, two steps of the expansion only: solve the linear "
     "system (or iterate to convergence)."),
]


def check_evaluate_policy(fn) -> CheckReport:
    r"""Check a reader's ``fn(P, R, gamma, pi)`` that returns the state values
    ``v_pi`` (shape ``(S,)``) of the policy ``pi`` in the MDP ``(P, R, gamma)``
    with ``gamma < 1``, i.e. the solution of ``v = r_pi + gamma P_pi v``.

    Raises :class:`~rlbook.exercises.ExerciseFailed` with the first case that
    differs and a hint for typical mistakes (transposed ``P_pi``, wrong sign,
    unweighted rewards).
    """
    name = "c02 evaluate policy"
    return compare_on_cases(name, fn, _ref_v, _cases(seed=11, with_gamma=True),
                            describe=describe_mdp_case, diagnose=variant_hints(_ref_v, _V_VARIANTS))
