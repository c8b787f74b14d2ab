"""The checkers of the Chapter 3 and 4 coding exercises accept the reference
and reject typical wrong answers with a message that says what is wrong."""
import numpy as np
import pytest

import rlbook as rb
from rlbook.exercises import ExerciseFailed
from rlbook.exercises import c03, c04


# -- reference answers, written as a reader would -----------------------------------------------
def T_ok(P, R, gamma, v):
    return (R + gamma * P @ v).max(axis=1)


def greedy_ok(q):
    pi = np.zeros_like(q)
    pi[np.arange(q.shape[0]), np.argmax(q, axis=1)] = 1.0
    return pi


def vi_ok(P, R, gamma, tol):
    v = np.zeros(R.shape[0])
    thresh = tol * (1 - gamma) / gamma if gamma > 0 else tol
    while True:
        v_new = (R + gamma * P @ v).max(axis=1)
        if np.max(np.abs(v_new - v)) <= thresh:
            return v_new
        v = v_new


def pi_ok(P, R, gamma):
    S, A = R.shape
    actions = np.zeros(S, dtype=int)
    while True:
        P_pi, r_pi = P[np.arange(S), actions], R[np.arange(S), actions]
        v = np.linalg.solve(np.eye(S) - gamma * P_pi, r_pi)
        q = R + gamma * P @ v
        new = np.argmax(q, axis=1)
        keep = q[np.arange(S), actions] >= q.max(axis=1) - 1e-12
        new = np.where(keep, actions, new)
        if np.array_equal(new, actions):
            return actions
        actions = new


# -- C3: Bellman optimality operator -------------------------------------------------------------
def test_T_accepts_reference():
    assert "correct on all" in repr(rb.exercises.check_bellman_optimality_operator(T_ok))


@pytest.mark.parametrize("wrong, words", [
    (lambda P, R, gamma, v: (R + gamma * P @ v).mean(axis=1), "average"),
    (lambda P, R, gamma, v: (R + gamma * P @ v).min(axis=1), "minimum"),
    (lambda P, R, gamma, v: (R + P @ v).max(axis=1), "discount factor is missing"),
    (lambda P, R, gamma, v: (R + gamma * v[:, None]).max(axis=1), "expectation"),
    (lambda P, R, gamma, v: R.max(axis=1) + gamma * (P @ v).max(axis=1), "separately"),
    (lambda P, R, gamma, v: (R + gamma * P @ v).max(axis=0), "shape"),
])
def test_T_rejects_typical_mistakes(wrong, words):
    with pytest.raises(ExerciseFailed, match=words):
        c03.check_bellman_optimality_operator(wrong)


def test_T_reports_exceptions():
    def broken(P, R, gamma, v):
        raise RuntimeError("boom")
    with pytest.raises(ExerciseFailed, match="raised RuntimeError: boom"):
        c03.check_bellman_optimality_operator(broken)


def test_T_passes_copies_so_mutation_is_harmless():
    def mutating(P, R, gamma, v):
        out = (R + gamma * P @ v).max(axis=1)
        v[:] = 0.0  # the checker passes copies, so this is harmless and the answer is right
        return out
    c03.check_bellman_optimality_operator(mutating)


def test_T_cases_cover_edge_discounts():
    gammas = {c["gamma"] for c in c03._T_cases()}
    assert {0.0, 0.99} <= gammas
    assert all(c["R"].shape[0] != c["R"].shape[1] for c in c03._T_cases())


# -- C3: greedy policy ----------------------------------------------------------------------------
def test_greedy_accepts_reference_and_rb():
    rb.exercises.check_greedy_policy(greedy_ok)
    rb.exercises.check_greedy_policy(rb.greedy_policy)


def test_greedy_cases_contain_ties():
    n_ties = sum(int((c["q"] == c["q"].max(axis=1, keepdims=True)).sum(axis=1).max() > 1)
                 for c in c03._greedy_cases())
    assert n_ties >= 4


@pytest.mark.parametrize("wrong, words", [
    (lambda q: greedy_ok(q[:, ::-1])[:, ::-1], "highest-index"),
    (lambda q: (q == q.max(axis=1, keepdims=True)) / (q == q.max(axis=1, keepdims=True)).sum(
        axis=1, keepdims=True), "splits the probability"),
    (lambda q: greedy_ok(-q), "smallest value"),
    (lambda q: np.argmax(q, axis=1), "shape"),
])
def test_greedy_rejects_typical_mistakes(wrong, words):
    with pytest.raises(ExerciseFailed, match=words):
        c03.check_greedy_policy(wrong)


# -- C4: value iteration --------------------------------------------------------------------------
def test_vi_accepts_reference():
    rb.exercises.check_value_iteration(vi_ok)
    rb.exercises.check_value_iteration(lambda P, R, gamma, tol: rb.value_iteration(
        rb.FiniteMDP(P, R, gamma), tol=tol).v)


def test_vi_rejects_naive_stopping_rule():
    def naive(P, R, gamma, tol):
        v = np.zeros(R.shape[0])
        while True:
            v_new = (R + gamma * P @ v).max(axis=1)
            if np.max(np.abs(v_new - v)) < tol:
                return v_new
            v = v_new
    with pytest.raises(ExerciseFailed, match="stopping when"):
        c04.check_value_iteration(naive)


def test_vi_rejects_uniform_average():
    def averaged(P, R, gamma, tol):
        v = np.zeros(R.shape[0])
        for _ in range(5000):
            v = (R + gamma * P @ v).mean(axis=1)
        return v
    with pytest.raises(ExerciseFailed, match="uniform random policy"):
        c04.check_value_iteration(averaged)


def test_vi_rejects_too_few_sweeps():
    def short(P, R, gamma, tol):
        v = np.zeros(R.shape[0])
        for _ in range(10):
            v = (R + gamma * P @ v).max(axis=1)
        return v
    with pytest.raises(ExerciseFailed, match="wrong value"):
        c04.check_value_iteration(short)


def test_vi_rejects_wrong_shape():
    with pytest.raises(ExerciseFailed, match="shape"):
        c04.check_value_iteration(lambda P, R, gamma, tol: np.zeros(R.shape))


# -- C4: policy iteration -------------------------------------------------------------------------
def test_pi_accepts_reference():
    rb.exercises.check_policy_iteration(pi_ok)


def test_pi_cases_have_unique_optimal_policy():
    for case in c04._pi_cases():
        mdp = rb.FiniteMDP(case["P"], case["R"], case["gamma"])
        q = np.sort(rb.policy_iteration(mdp).q, axis=1)
        assert np.min(q[:, -1] - q[:, -2]) > 1e-4


def test_pi_rejects_one_improvement_step():
    def one_step(P, R, gamma):
        S, A = R.shape
        v = np.linalg.solve(np.eye(S) - gamma * P.mean(axis=1), R.mean(axis=1))
        return np.argmax(R + gamma * P @ v, axis=1)
    with pytest.raises(ExerciseFailed, match="not optimal"):
        c04.check_policy_iteration(one_step)


def test_pi_rejects_one_hot_answer():
    def one_hot(P, R, gamma):
        return greedy_ok(np.eye(R.shape[1])[pi_ok(P, R, gamma)])
    with pytest.raises(ExerciseFailed, match="integer array"):
        c04.check_policy_iteration(one_hot)


def test_pi_rejects_myopic_policy():
    with pytest.raises(ExerciseFailed, match="not optimal"):
        c04.check_policy_iteration(lambda P, R, gamma: np.argmax(R, axis=1))


# -- every checker refuses a non-callable ---------------------------------------------------------
@pytest.mark.parametrize("checker", [
    c03.check_bellman_optimality_operator, c03.check_greedy_policy,
    c04.check_value_iteration, c04.check_policy_iteration])
def test_non_callable_is_a_type_error(checker):
    with pytest.raises(TypeError, match="expected a function"):
        checker(np.zeros(3))


def test_pi_catches_a_missing_tie_rule():
    def no_tie_rule(P, R, gamma):
        S, A = R.shape
        actions = np.zeros(S, dtype=int)
        while True:
            P_pi, r_pi = P[np.arange(S), actions], R[np.arange(S), actions]
            v = np.linalg.solve(np.eye(S) - gamma * P_pi, r_pi)
            new = np.argmax(R + gamma * P @ v, axis=1)
            if np.array_equal(new, actions):
                return actions
            actions = new
    with pytest.raises(ExerciseFailed, match="tied optimal actions your policy iteration did not stop"):
        c04.check_policy_iteration(no_tie_rule)


def test_pi_tie_cases_are_ties():
    for case in c04._tie_cases():
        mdp = rb.FiniteMDP(case["P"], case["R"], case["gamma"])
        q = rb.policy_iteration(mdp).q
        S, A = q.shape
        np.testing.assert_allclose(q[:S - 1, A - 1], q[:S - 1, 0], rtol=1e-12)
