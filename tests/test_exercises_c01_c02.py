"""The exercise checkers of Chapters 1 and 2 accept the reference answers and
reject typical wrong ones with a message that says what is wrong."""
import numpy as np
import pytest

import rlbook as rb
from rlbook.exercises import ExerciseFailed


# -- C1: discounted returns ------------------------------------------------------

def returns_loop(rewards, gamma):
    G = np.zeros(len(rewards))
    acc = 0.0
    for t in range(len(rewards) - 1, -1, -1):
        acc = rewards[t] + gamma * acc
        G[t] = acc
    return G


def returns_direct(rewards, gamma):
    T = len(rewards)
    return np.array([sum(gamma ** k * rewards[t + k] for k in range(T - t)) for t in range(T)])


def test_c01_accepts_reference_and_two_correct_implementations():
    for fn in (rb.discounted_returns, returns_loop, returns_direct):
        report = rb.exercises.check_discounted_returns(fn)
        assert report.n_cases >= 10
        assert "correct" in repr(report)


def test_c01_rejects_exponent_off_by_one_with_hint():
    def wrong(rewards, gamma):
        T = len(rewards)
        return np.array([sum(gamma ** (k + 1) * rewards[t + k] for k in range(T - t)) for t in range(T)])

    with pytest.raises(ExerciseFailed, match="exponent is off by one"):
        rb.exercises.check_discounted_returns(wrong)


def test_c01_rejects_undiscounted_sum():
    with pytest.raises(ExerciseFailed, match="undiscounted"):
        rb.exercises.check_discounted_returns(lambda rewards, gamma: np.cumsum(rewards[::-1])[::-1])


def test_c01_rejects_forward_accumulation():
    def forward(rewards, gamma):
        G, acc = np.zeros(len(rewards)), 0.0
        for t in range(len(rewards)):
            acc = rewards[t] + gamma * acc
            G[t] = acc
        return G

    with pytest.raises(ExerciseFailed, match="before"):
        rb.exercises.check_discounted_returns(forward)


def test_c01_rejects_shifted_index():
    with pytest.raises(ExerciseFailed, match="G_t includes R_"):
        rb.exercises.check_discounted_returns(
            lambda rewards, gamma: np.append(returns_loop(rewards, gamma)[1:], 0.0))


def test_c01_reports_wrong_shape_and_exceptions():
    with pytest.raises(ExerciseFailed, match="shape"):
        rb.exercises.check_discounted_returns(lambda rewards, gamma: returns_loop(rewards, gamma)[0])
    with pytest.raises(ExerciseFailed, match="raised ZeroDivisionError"):
        rb.exercises.check_discounted_returns(lambda rewards, gamma: 1 / 0)


def test_c01_unknown_mistake_still_fails_without_hint():
    with pytest.raises(ExerciseFailed, match="wrong value") as info:
        rb.exercises.check_discounted_returns(lambda rewards, gamma: returns_loop(rewards, gamma) + 0.1)
    assert "Hint" not in str(info.value)


def test_c01_non_callable_is_a_type_error():
    with pytest.raises(TypeError, match="expected a function"):
        rb.exercises.check_discounted_returns(np.zeros(3))


# -- C2: policy matrices ------------------------------------------------------------

def matrices_ref(P, R, pi):
    return np.einsum("sa,sat->st", pi, P), (pi * R).sum(axis=1)


def test_c02_matrices_accepts_reference():
    assert rb.exercises.check_policy_matrices(matrices_ref).n_cases >= 5
    assert rb.exercises.check_policy_matrices(lambda P, R, pi: list(matrices_ref(P, R, pi)))


def test_c02_matrices_rejects_transposed_P_pi():
    def transposed(P, R, pi):
        P_pi, r_pi = matrices_ref(P, R, pi)
        return P_pi.T, r_pi

    with pytest.raises(ExerciseFailed, match=r"P_pi.*transpose"):
        rb.exercises.check_policy_matrices(transposed)


def test_c02_matrices_rejects_unweighted_actions():
    with pytest.raises(ExerciseFailed, match="averages the actions uniformly"):
        rb.exercises.check_policy_matrices(lambda P, R, pi: (P.mean(axis=1), matrices_ref(P, R, pi)[1]))
    with pytest.raises(ExerciseFailed, match=r"r_pi.*averages the rewards uniformly"):
        rb.exercises.check_policy_matrices(lambda P, R, pi: (matrices_ref(P, R, pi)[0], R.mean(axis=1)))
    with pytest.raises(ExerciseFailed, match="max_a r"):
        rb.exercises.check_policy_matrices(lambda P, R, pi: (matrices_ref(P, R, pi)[0], R.max(axis=1)))


def test_c02_matrices_rejects_a_single_array_and_errors():
    with pytest.raises(ExerciseFailed, match="expected a pair"):
        rb.exercises.check_policy_matrices(lambda P, R, pi: matrices_ref(P, R, pi)[0])
    with pytest.raises(ExerciseFailed, match="raised KeyError"):
        rb.exercises.check_policy_matrices(lambda P, R, pi: {}["x"])


def test_c02_matrices_non_callable_is_a_type_error():
    with pytest.raises(TypeError, match="expected a function"):
        rb.exercises.check_policy_matrices("P_pi")


# -- C2: exact policy evaluation -------------------------------------------------------

def evaluate_ref(P, R, gamma, pi):
    P_pi, r_pi = matrices_ref(P, R, pi)
    return np.linalg.solve(np.eye(len(r_pi)) - gamma * P_pi, r_pi)


def evaluate_iterative(P, R, gamma, pi):
    P_pi, r_pi = matrices_ref(P, R, pi)
    v = np.zeros(len(r_pi))
    for _ in range(2000):
        v = r_pi + gamma * P_pi @ v
    return v


def test_c02_evaluate_accepts_direct_solve_and_iteration():
    assert rb.exercises.check_evaluate_policy(evaluate_ref).n_cases >= 5
    assert rb.exercises.check_evaluate_policy(evaluate_iterative)


@pytest.mark.parametrize("wrong, message", [
    (lambda P, R, gamma, pi: np.linalg.solve(
        np.eye(len(R)) - gamma * matrices_ref(P, R, pi)[0].T, matrices_ref(P, R, pi)[1]), "transposed"),
    (lambda P, R, gamma, pi: np.linalg.solve(
        np.eye(len(R)) + gamma * matrices_ref(P, R, pi)[0], matrices_ref(P, R, pi)[1]), "sign is wrong"),
    (lambda P, R, gamma, pi: np.linalg.solve(
        np.eye(len(R)) - gamma * matrices_ref(P, R, pi)[0], R.mean(axis=1)), "ignores the policy"),
    (lambda P, R, gamma, pi: matrices_ref(P, R, pi)[1], "one-step rewards"),
])
def test_c02_evaluate_rejects_typical_mistakes(wrong, message):
    with pytest.raises(ExerciseFailed, match=message):
        rb.exercises.check_evaluate_policy(wrong)


def test_c02_evaluate_non_callable_is_a_type_error():
    with pytest.raises(TypeError, match="expected a function"):
        rb.exercises.check_evaluate_policy(None)
