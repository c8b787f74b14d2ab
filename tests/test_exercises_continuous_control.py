import numpy as np
import pytest

import rlbook as rb
from rlbook.exercises import ExerciseFailed


def test_soft_policy_evaluation_checker():
    def good(P, R, gamma, pi, alpha):
        return rb.soft_policy_evaluation(rb.FiniteMDP(P, R, gamma), pi, alpha)[0]
    rb.exercises.check_soft_policy_evaluation(good)

    def plain(P, R, gamma, pi, alpha):
        return rb.evaluate_policy(rb.FiniteMDP(P, R, gamma), pi)
    with pytest.raises(ExerciseFailed, match="entropy bonus is missing"):
        rb.exercises.check_soft_policy_evaluation(plain)

    def naive_log(P, R, gamma, pi, alpha):     # nan from 0 log 0
        r = (pi * (R - alpha * np.log(pi))).sum(1)
        return np.linalg.solve(np.eye(len(R)) - gamma * np.einsum("sa,sat->st", pi, P), r)
    with np.errstate(all="ignore"), pytest.raises(ExerciseFailed):
        rb.exercises.check_soft_policy_evaluation(naive_log)


def test_squashed_action_checker():
    def good(a, mean, log_std, scale):
        u = np.arctanh(a / scale)
        return rb.squashed_gaussian_log_prob(u, mean, log_std, scale)
    rb.exercises.check_squashed_action_log_prob(good)

    def no_jac(a, mean, log_std, scale):
        u = np.arctanh(a / scale)
        z = (u - mean) / np.exp(log_std)
        return (-0.5 * z ** 2 - log_std - 0.5 * np.log(2 * np.pi)).sum(-1)
    with pytest.raises(ExerciseFailed, match="change-of-variables"):
        rb.exercises.check_squashed_action_log_prob(no_jac)


def test_categorical_projection_checker():
    def good(z, p, r, gamma, terminated):
        return rb.categorical_projection(z, p, r, gamma, terminated)
    rb.exercises.check_categorical_projection(good)

    def no_done(z, p, r, gamma, terminated):
        return rb.categorical_projection(z, p, r, gamma)
    with pytest.raises(ExerciseFailed, match="terminal"):
        rb.exercises.check_categorical_projection(no_done)
    with pytest.raises(TypeError):
        rb.exercises.check_categorical_projection(3)
