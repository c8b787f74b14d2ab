"""The C7 exercise checkers accept the reference and name the typical mistakes."""
import numpy as np
import pytest

import rlbook as rb
from rlbook.exercises import ExerciseFailed
from rlbook.exercises import c07


def test_expected_sarsa_target_checker_accepts_reference():
    assert "correct on all" in repr(rb.exercises.check_expected_sarsa_target(c07._es_reference))


@pytest.mark.parametrize("wrong, hint", [
    (lambda q, r, s_next, done, epsilon, gamma, allowed:
        r + gamma * (1 - done) * np.where(allowed[s_next], q[s_next], -np.inf).max(axis=1),
     "Q-learning's target"),
    (lambda q, r, s_next, done, epsilon, gamma, allowed:
        c07._es_reference(q, r, s_next, done, epsilon, gamma, np.ones_like(allowed)),
     "available actions"),
    (lambda q, r, s_next, done, epsilon, gamma, allowed:
        c07._es_reference(q, r, s_next, np.zeros_like(done), epsilon, gamma, allowed),
     "terminal next state"),
])
def test_expected_sarsa_target_checker_hints(wrong, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        rb.exercises.check_expected_sarsa_target(wrong)


def test_expected_sarsa_target_checker_reports_errors():
    def broken(**kwargs):
        raise RuntimeError("boom")
    with pytest.raises(ExerciseFailed, match="raised RuntimeError"):
        rb.exercises.check_expected_sarsa_target(
            lambda q, r, s_next, done, epsilon, gamma, allowed: broken())
    with pytest.raises(TypeError):
        rb.exercises.check_expected_sarsa_target(3)


def test_n_step_returns_checker():
    assert "correct on all" in repr(rb.exercises.check_n_step_returns(c07._ns_reference))

    def gamma_n(rewards, q_boot, gamma, n):
        T = len(rewards)
        return np.array([sum(gamma ** (k - t) * rewards[k] for k in range(t, min(t + n, T)))
                         + gamma ** n * q_boot[min(t + n, T)] for t in range(T)])
    with pytest.raises(ExerciseFailed, match=r"gamma\^\(h - t\)"):
        rb.exercises.check_n_step_returns(gamma_n)
    with pytest.raises(ExerciseFailed, match="shape"):
        rb.exercises.check_n_step_returns(lambda rewards, q_boot, gamma, n: np.zeros(2))


def test_checkers_do_not_mutate_inputs():
    def mutating(q, r, s_next, done, epsilon, gamma, allowed):
        out = c07._es_reference(q, r, s_next, done, epsilon, gamma, allowed)
        q[:] = 0.0
        return out
    rb.exercises.check_expected_sarsa_target(mutating)   # gets copies: still correct
