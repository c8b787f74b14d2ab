"""Checkers for the coding exercises of Chapter 2, *State values and the
Bellman equation*."""
from __future__ import annotations

import numpy as np

from ..dp.bellman import evaluate_policy
from ..mdp import FiniteMDP, policy_matrices, random_mdp
from ._checker import CheckReport, ExerciseFailed, compare_on_cases

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
        mdp = random_mdp(S, A, gamma, seed=rng)
        pi = rng.dirichlet(np.ones(A), size=S)
        if k == 0:  # one deterministic policy
            pi = np.eye(A)[rng.integers(0, A, size=S)]
        case = dict(P=np.array(mdp.P), R=np.array(mdp.R), pi=pi)
        if with_gamma:
            case["gamma"] = gamma
        cases.append(case)
    return cases


def _describe(case):
    S, A = case["R"].shape
    g = f", gamma={case['gamma']}" if "gamma" in case else ""
    return f"a random MDP with S={S} states and A={A} actions{g}"


def _call(fn, case):
    return fn(**{k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in case.items()})


def _matches(got, want):
    try:
        got = np.asarray(got, dtype=float)
    except (TypeError, ValueError):
        return False
    return got.shape == want.shape and np.allclose(got, want, rtol=1e-6, atol=1e-8)


def _diagnose(outs, cases, variants, reference):
    """Hint of the first typical mistake reproduced on every case where it
    differs from the reference."""
    for wrong, hint in variants:
        informative = False
        for case, got in zip(cases, outs):
            bad = np.asarray(wrong(**case), dtype=float)
            if not _matches(got, bad):
                break
            informative |= not _matches(bad, np.asarray(reference(**case), dtype=float))
        else:
            if informative:
                return hint
    return None


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
    outs = []
    for k, case in enumerate(cases):
        try:
            out = _call(fn, case)
        except Exception as exc:
            raise ExerciseFailed(f"{name}: your function raised {type(exc).__name__}: {exc}\n"
                                 f"  on case {k}: {_describe(case)}") from exc
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            raise ExerciseFailed(f"{name}: your function returned {type(out).__name__}, expected a pair "
                                 f"(P_pi, r_pi) (case {k}: {_describe(case)})")
        outs.append(out)
    for part, ref, variants, label in ((0, _ref_P_pi, _P_VARIANTS, "P_pi"), (1, _ref_r_pi, _R_VARIANTS, "r_pi")):
        it = iter([o[part] for o in outs])
        try:
            compare_on_cases(f"{name} ({label})", lambda **c: next(it), ref, cases, describe=_describe)
        except ExerciseFailed as exc:
            hint = _diagnose([o[part] for o in outs], cases, variants, ref)
            raise ExerciseFailed(f"{exc}" + (f"\n  Hint: {hint}" if hint else "")) from None
    return CheckReport(name, len(cases))


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
    if not callable(fn):
        raise TypeError(f"{name}: expected a function, got {type(fn).__name__}")
    cases = _cases(seed=11, with_gamma=True)
    try:
        return compare_on_cases(name, fn, _ref_v, cases, describe=_describe)
    except ExerciseFailed as exc:
        try:
            outs = [np.asarray(_call(fn, c), dtype=float) for c in cases]
        except Exception:  # noqa: BLE001 - already reported
            raise exc from None
        hint = _diagnose(outs, cases, _V_VARIANTS, _ref_v)
        if hint is None:
            raise
        raise ExerciseFailed(f"{exc}\n  Hint: {hint}") from None
