"""The checkers of Chapters 5 and 6: the reference passes, typical mistakes get their hint."""
import numpy as np
import pytest

import rlbook as rb
from rlbook.exercises import ExerciseFailed


def _fv(states, rewards, gamma, n_states, every=False, no_gamma=False):
    total, count = np.zeros(n_states), np.zeros(n_states)
    for ep_s, ep_r in zip(states, rewards):
        T = int((ep_s >= 0).sum())
        g, G = 0.0, np.zeros(T)
        for t in range(T - 1, -1, -1):
            g = ep_r[t] + (1.0 if no_gamma else gamma) * g
            G[t] = g
        seen = set()
        for t in range(T):
            if every or ep_s[t] not in seen:
                seen.add(ep_s[t])
                total[ep_s[t]] += G[t]
                count[ep_s[t]] += 1
    return np.where(count > 0, total / np.maximum(count, 1), 0.0)


def test_first_visit_checker():
    assert "correct" in repr(rb.exercises.check_first_visit_mc(_fv))
    with pytest.raises(ExerciseFailed, match="every visit"):
        rb.exercises.check_first_visit_mc(lambda **k: _fv(**k, every=True))
    with pytest.raises(ExerciseFailed, match="not discounted"):
        rb.exercises.check_first_visit_mc(lambda **k: _fv(**k, no_gamma=True))
    with pytest.raises(ExerciseFailed, match="raised"):
        rb.exercises.check_first_visit_mc(lambda **k: 1 / 0)
    with pytest.raises(TypeError):
        rb.exercises.check_first_visit_mc(3)


def _eg(q, epsilon, allowed, forget=False, all_columns=False):
    n = np.full((q.shape[0], 1), q.shape[1]) if all_columns else allowed.sum(1, keepdims=True)
    pi = np.where(allowed, epsilon / n, 0.0)
    a = np.where(allowed, q, -np.inf).argmax(1)
    pi[np.arange(q.shape[0]), a] += (1 - epsilon) if forget else (1 - epsilon)
    if forget:
        pi[np.arange(q.shape[0]), a] -= (epsilon / n)[:, 0]
    return pi


def test_epsilon_greedy_checker():
    assert "correct" in repr(rb.exercises.check_epsilon_greedy(_eg))
    assert "correct" in repr(rb.exercises.check_epsilon_greedy(
        lambda q, epsilon, allowed: rb.epsilon_greedy_policy(q, epsilon, allowed)))
    with pytest.raises(ExerciseFailed, match="its share"):
        rb.exercises.check_epsilon_greedy(lambda **k: _eg(**k, forget=True))
    with pytest.raises(ExerciseFailed, match="available"):
        rb.exercises.check_epsilon_greedy(lambda **k: _eg(**k, all_columns=True))
    with pytest.raises(ExerciseFailed, match="not available|available"):
        rb.exercises.check_epsilon_greedy(
            lambda q, epsilon, allowed: rb.epsilon_greedy_policy(q, epsilon))


def _weights(a):
    a = np.asarray(a, float)
    n = a.size
    out = np.zeros(n + 1)
    for j in range(n + 1):                                # run the recursion on unit inputs
        w = 1.0 if j == 0 else 0.0
        for k in range(n):
            w = w - a[k] * (w - (1.0 if k + 1 == j else 0.0))
        out[j] = w
    return out


def test_sample_weights_checker():
    assert "correct" in repr(rb.exercises.check_sample_weights(_weights))
    with pytest.raises(ExerciseFailed, match="j > i"):
        rb.exercises.check_sample_weights(
            lambda a: np.r_[np.prod(1 - a), a * np.cumprod((1 - a)[::-1])[::-1]])
    with pytest.raises(ExerciseFailed, match="w_1 keeps"):
        rb.exercises.check_sample_weights(lambda a: np.r_[0.0, _weights(a)[1:]])


def _mbgd(x, w0, a, batches, total=False):
    w = np.array(w0, float)
    out = [w.copy()]
    for k, idx in enumerate(batches):
        g = (w - x[idx]).sum(0) if total else (w - x[idx]).mean(0)
        w = w - a[k] * g
        out.append(w.copy())
    return np.array(out)


def test_mbgd_checker():
    assert "correct" in repr(rb.exercises.check_mbgd(_mbgd))
    with pytest.raises(ExerciseFailed, match="divide by m"):
        rb.exercises.check_mbgd(lambda **k: _mbgd(**k, total=True))
    with pytest.raises(ExerciseFailed, match="shape"):
        rb.exercises.check_mbgd(lambda **k: _mbgd(**k)[1:])
