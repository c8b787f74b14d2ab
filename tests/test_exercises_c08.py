"""The C8 exercise checkers accept the reference and reject the typical mistakes with a hint."""
import numpy as np
import pytest

import rlbook as rb
from rlbook.exercises import ExerciseFailed


def td_ok(P_pi, r_pi, gamma, Phi, d):
    D = np.diag(d)
    return np.linalg.solve(Phi.T @ D @ (Phi - gamma * P_pi @ Phi), Phi.T @ D @ r_pi)


def td_proj(P_pi, r_pi, gamma, Phi, d):
    v = np.linalg.solve(np.eye(len(r_pi)) - gamma * P_pi, r_pi)
    D = np.diag(d)
    return np.linalg.solve(Phi.T @ D @ Phi, Phi.T @ D @ v)


def td_nod(P_pi, r_pi, gamma, Phi, d):
    return np.linalg.solve(Phi.T @ (Phi - gamma * P_pi @ Phi), Phi.T @ r_pi)


def lstd_ok(Phi, states, rewards, next_states, gamma):
    X, X2 = Phi[states], Phi[next_states]
    return np.linalg.solve(X.T @ (X - gamma * X2), X.T @ rewards)


def lstd_T(Phi, states, rewards, next_states, gamma):
    X, X2 = Phi[states], Phi[next_states]
    return np.linalg.solve((X - gamma * X2).T @ X, X.T @ rewards)


def dd_ok(q_next_target, q_next_online, rewards, terminated, gamma):
    a = q_next_online.argmax(1)
    return rewards + gamma * (1 - terminated) * q_next_target[np.arange(len(a)), a]


def dd_dqn(q_next_target, q_next_online, rewards, terminated, gamma):
    return rewards + gamma * (1 - terminated) * q_next_target.max(1)


def dd_noterm(q_next_target, q_next_online, rewards, terminated, gamma):
    a = q_next_online.argmax(1)
    return rewards + gamma * q_next_target[np.arange(len(a)), a]


def test_accepts_reference():
    assert "correct" in repr(rb.exercises.check_td_fixed_point(td_ok))
    assert "correct" in repr(rb.exercises.check_lstd(lstd_ok))
    assert "correct" in repr(rb.exercises.check_double_dqn_targets(dd_ok))


@pytest.mark.parametrize("checker, fn, hint", [
    (rb.exercises.check_td_fixed_point, td_proj, "gradient Monte"),
    (rb.exercises.check_td_fixed_point, td_nod, "without the weighting D"),
    (rb.exercises.check_lstd, lstd_T, "transposed"),
    (rb.exercises.check_double_dqn_targets, dd_dqn, "DQN targets"),
    (rb.exercises.check_double_dqn_targets, dd_noterm, "terminal"),
])
def test_rejects_mistakes_with_hint(checker, fn, hint):
    with pytest.raises(ExerciseFailed, match=hint):
        checker(fn)


def test_not_callable():
    with pytest.raises(TypeError):
        rb.exercises.check_lstd(3)
