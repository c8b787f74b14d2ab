"""Checkers for the coding exercises of Chapter 3, *The Bellman optimality equation*."""
from __future__ import annotations

import numpy as np

from ..mdp import FiniteMDP
from ..dp.optimality import bellman_optimality_operator, greedy_policy
from ._checker import CheckReport, compare_on_cases, mdp_case, variant_hints

__all__ = ["check_bellman_optimality_operator", "check_greedy_policy"]

_EX_T = "c03 Bellman optimality operator"
_EX_GREEDY = "c03 greedy policy"


def _check(exercise, fn, reference, cases, variants, describe) -> CheckReport:
    return compare_on_cases(exercise, fn, reference, cases, describe=describe,
                            diagnose=variant_hints(reference, variants))


def _describe_mdp(case):
    S, A = case["R"].shape
    return (f"a random MDP with S = {S}, A = {A}, gamma = {case['gamma']}, "
            f"v = {np.array2string(case['v'], precision=4)}")


# -- the Bellman optimality operator ---------------------------------------------------------
def _T_reference(P, R, gamma, v):
    return bellman_optimality_operator(FiniteMDP(P, R, gamma), v)


def _T_cases(seed: int = 303, n: int = 8):
    rng = np.random.default_rng(seed)
    shapes = [(3, 2), (4, 3), (2, 5), (6, 4), (5, 2), (7, 3), (3, 4), (8, 5)][:n]
    cases = []
    for k, (S, A) in enumerate(shapes):
        gamma = [0.9, 0.5, 0.0, 0.99][k % 4] if k < 4 else float(np.round(rng.uniform(0.1, 0.99), 3))
        case = mdp_case(S, A, gamma, rng)
        case["v"] = np.round(rng.normal(scale=3.0, size=S), 3)
        cases.append(case)
    return cases


def _q(P, R, gamma, v):
    return R + gamma * np.einsum("sat,t->sa", P, v)


def _T_variants():
    return [
        (lambda P, R, gamma, v: _q(P, R, gamma, v).mean(axis=1),
         "your values average q(s, a) over the actions (that is T_pi for the uniform policy); "
         "the optimality operator takes the maximum over actions."),
        (lambda P, R, gamma, v: _q(P, R, gamma, v).min(axis=1),
         "you took the minimum over actions; (T v)(s) = max_a q(s, a)."),
        (lambda P, R, gamma, v: _q(P, R, 1.0, v).max(axis=1),
         "the discount factor is missing: q(s, a) = r(s, a) + gamma sum_s' p(s'|s, a) v(s')."),
        (lambda P, R, gamma, v: (R + gamma * v[:, None]).max(axis=1),
         "you added gamma v(s) of the current state; the next-state value is the expectation "
         "sum_s' p(s'|s, a) v(s') (P[s, a, :] @ v)."),
        (lambda P, R, gamma, v: R.max(axis=1) + gamma * np.einsum("sat,t->sa", P, v).max(axis=1),
         "you maximised the reward and the future value separately; maximise their sum "
         "r(s, a) + gamma P[s, a, :] @ v over a single action."),
    ]


def check_bellman_optimality_operator(fn) -> CheckReport:
    r"""Check a reader's ``fn(P, R, gamma, v)`` that applies the Bellman
    optimality operator once,

    .. math:: (T v)(s) = \max_a \Big[r(s, a) + \gamma \sum_{s'} p(s'|s, a) v(s')\Big],

    with ``P`` of shape ``(S, A, S)``, ``R`` of shape ``(S, A)``, ``v`` of shape
    ``(S,)``, returning an array ``(S,)``.

    Raises :class:`~rlbook.exercises.ExerciseFailed` with the first random case
    that differs and, when the answer matches a typical mistake (mean or min
    instead of max, no discount, ...), a hint; :class:`TypeError` if ``fn`` is
    not callable.
    """
    return _check(_EX_T, fn, _T_reference, _T_cases(), _T_variants(), _describe_mdp)


# -- the greedy policy with the lowest-index tie rule ----------------------------------------
def _greedy_reference(q):
    return greedy_policy(q)


def _greedy_cases(seed: int = 304):
    rng = np.random.default_rng(seed)
    cases = [dict(q=np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0], [-1.0, -5.0, -1.0]])),
             dict(q=np.array([[0.0, 1.0, 0.0, 1.0, 1.0]]))]
    for S, A in [(4, 3), (6, 5), (5, 2), (7, 4)]:  # small integers: many ties
        cases.append(dict(q=rng.integers(-2, 3, size=(S, A)).astype(float)))
    for S, A in [(5, 3), (3, 6)]:  # continuous values: no ties
        cases.append(dict(q=rng.normal(size=(S, A))))
    return cases


def _one_hot(actions, A):
    pi = np.zeros((actions.size, A))
    pi[np.arange(actions.size), actions] = 1.0
    return pi


def _greedy_variants():
    def last_tie(q):
        A = q.shape[1]
        return _one_hot(A - 1 - np.argmax(q[:, ::-1], axis=1), A)

    def split_ties(q):
        best = np.isclose(q, q.max(axis=1, keepdims=True))
        return best / best.sum(axis=1, keepdims=True)

    def argmin(q):
        return _one_hot(np.argmin(q, axis=1), q.shape[1])

    return [
        (last_tie, "on a tie your policy picks the highest-index maximising action; the book's "
                   "rule picks the lowest index (np.argmax does)."),
        (split_ties, "on a tie your policy splits the probability between the maximising "
                     "actions; the greedy policy is deterministic: all mass on the lowest index."),
        (argmin, "your policy picks the action of smallest value; greedy means argmax."),
    ]


def check_greedy_policy(fn) -> CheckReport:
    r"""Check a reader's ``fn(q)`` that returns the deterministic greedy policy
    of action values ``q`` ``(S, A)`` as a one-hot array ``(S, A)``:
    ``pi(a|s) = 1`` for ``a = argmax_a q(s, a)``, ties going to the lowest
    action index. Several cases contain exact ties.

    Raises :class:`~rlbook.exercises.ExerciseFailed` with the first case that
    differs and a hint for typical mistakes (ties to the highest index, split
    ties, argmin); :class:`TypeError` if ``fn`` is not callable.
    """
    return _check(_EX_GREEDY, fn, _greedy_reference, _greedy_cases(), _greedy_variants(),
                  lambda case: "q =\n" + np.array2string(case["q"], precision=4))
