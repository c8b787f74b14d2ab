"""Checkers for the coding exercises of Chapter 7, *Temporal-difference learning*."""
from __future__ import annotations

import numpy as np

from ._checker import CheckReport, compare_on_cases

__all__ = ["check_expected_sarsa_target", "check_n_step_returns"]

_EX_ES = "c07 Expected Sarsa target"
_EX_NS = "c07 n-step returns"


def _copy(case):
    return {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in case.items()}


# -- Expected Sarsa target -------------------------------------------------------------------
def _es_reference(q, r, s_next, done, epsilon, gamma, allowed):
    q_next, ok = q[s_next], allowed[s_next]
    best = np.where(ok, q_next, -np.inf).max(axis=1)
    mean = np.where(ok, q_next, 0.0).sum(axis=1) / ok.sum(axis=1)
    return r + gamma * (1.0 - done) * (epsilon * mean + (1 - epsilon) * best)


def _es_cases():
    rng = np.random.default_rng(707)
    cases = []
    for S, A, B, eps, gamma in [(4, 3, 6, 0.1, 0.9), (6, 4, 10, 0.3, 1.0), (3, 2, 5, 0.0, 0.9),
                                (5, 5, 8, 1.0, 0.5), (7, 4, 12, 0.2, 0.99)]:
        q = np.round(rng.normal(size=(S, A)), 1)            # rounding makes ties likely
        q[0, :] = q[0, 0]                                    # a state where every action ties
        allowed = rng.random((S, A)) < 0.7
        allowed[np.arange(S), rng.integers(A, size=S)] = True
        allowed[1] = False
        allowed[1, A - 1] = True                              # a state with one action
        s_next = rng.integers(S, size=B)
        s_next[:3] = [0, 1, 2 % S]
        done = rng.random(B) < 0.3
        r = rng.normal(size=B)
        cases.append(dict(q=q, r=r, s_next=s_next, done=done, epsilon=eps, gamma=gamma,
                          allowed=allowed))
    return cases


def _es_diagnose(fn, cases):
    wrong = {
        "you computed Q-learning's target (the maximum); Expected Sarsa averages over the "
        "epsilon-greedy policy: epsilon * mean + (1 - epsilon) * max":
            lambda c: _es_reference(**{**c, "epsilon": 0.0}),
        "the mean must run over the available actions A(s') only (use `allowed`), not over "
        "all actions":
            lambda c: _es_reference(**{**c, "allowed": np.ones_like(c["allowed"])}),
        "a terminal next state is worth 0: multiply the bootstrap term by (1 - done)":
            lambda c: _es_reference(**{**c, "done": np.zeros_like(c["done"])}),
        "the greedy action gets 1 - epsilon + epsilon / |A(s')|, not 1 - epsilon alone":
            lambda c: c["r"] + c["gamma"] * (1.0 - c["done"]) * (
                (1 - c["epsilon"]) * np.where(c["allowed"][c["s_next"]], c["q"][c["s_next"]],
                                              -np.inf).max(axis=1)),
    }
    return _match_hint(fn, cases, wrong)


def _match_hint(fn, cases, wrong):
    for hint, make in wrong.items():
        matches = True
        for case in cases:
            try:
                got = np.asarray(fn(**_copy(case)), dtype=float)
            except Exception:  # noqa: BLE001 - the reader's error is already reported
                return None
            want = np.asarray(make(case), dtype=float)
            if got.shape != want.shape or not np.allclose(got, want, atol=1e-8):
                matches = False
                break
        if matches:
            return hint
    return None


def check_expected_sarsa_target(fn) -> CheckReport:
    """Check ``fn(q, r, s_next, done, epsilon, gamma, allowed)`` against Expected Sarsa's
    target ``r + gamma (1 - done) sum_a pi(a|s') q(s', a)`` with ``pi`` epsilon-greedy
    over the available actions (ties, terminal next states, one-action states, and
    epsilon in {0, 1} included)."""
    return compare_on_cases(_EX_ES, fn, _es_reference, _es_cases(), rtol=1e-9, atol=1e-9,
                            describe=_es_describe, diagnose=_es_diagnose)


def _es_describe(c):
    S, A = c["q"].shape
    return (f"S = {S}, A = {A}, {c['r'].size} transitions, epsilon = {c['epsilon']}, "
            f"gamma = {c['gamma']}, s_next = {c['s_next'].tolist()}, "
            f"done = {c['done'].astype(int).tolist()}")


# -- n-step returns ---------------------------------------------------------------------------
def _ns_reference(rewards, q_boot, gamma, n):
    T = len(rewards)
    G = np.zeros(T)
    for t in range(T):
        h = min(t + n, T)
        G[t] = sum(gamma ** (k - t) * rewards[k] for k in range(t, h)) + gamma ** (h - t) * q_boot[h]
    return G


def _ns_cases():
    rng = np.random.default_rng(717)
    cases = []
    for T, n, gamma, truncated in [(6, 1, 0.9, False), (6, 3, 0.9, False), (5, 10, 0.8, False),
                                   (7, 2, 1.0, True), (8, 4, 0.5, True), (1, 3, 0.9, True),
                                   (9, 9, 0.95, False)]:
        rewards = rng.integers(-3, 4, size=T)                # integer rewards
        q_boot = np.round(rng.normal(size=T + 1), 2)
        if not truncated:
            q_boot[T] = 0.0
        cases.append(dict(rewards=rewards, q_boot=q_boot, gamma=gamma, n=n))
    return cases


def _ns_diagnose(fn, cases):
    def gamma_n(rewards, q_boot, gamma, n):
        T = len(rewards)
        G = np.zeros(T)
        for t in range(T):
            h = min(t + n, T)
            G[t] = sum(gamma ** (k - t) * rewards[k] for k in range(t, h)) + gamma ** n * q_boot[h]
        return G

    def shifted(rewards, q_boot, gamma, n):
        T = len(rewards)
        r = np.concatenate([[0.0], np.asarray(rewards, float)])
        G = np.zeros(T)
        for t in range(T):
            h = min(t + n, T)
            G[t] = sum(gamma ** (k - t) * r[k] for k in range(t, h)) + gamma ** (h - t) * q_boot[h]
        return G

    wrong = {
        "near the end of the episode the bootstrap term is discounted by gamma^(h - t) with "
        "h = min(t + n, T), not by gamma^n": lambda c: gamma_n(**c),
        "rewards[t] is R_(t+1), the reward that follows (S_t, A_t): the sum starts at "
        "rewards[t], not rewards[t - 1]": lambda c: shifted(**c),
    }
    return _match_hint(fn, cases, wrong)


def check_n_step_returns(fn) -> CheckReport:
    """Check ``fn(rewards, q_boot, gamma, n)`` against the n-step returns
    ``G_{t:h} = sum_{k=t}^{h-1} gamma^(k-t) R_{k+1} + gamma^(h-t) q_boot[h]``,
    ``h = min(t + n, T)`` (episodes ending in a terminal state or cut by a time limit,
    n = 1, n >= T, integer rewards)."""
    return compare_on_cases(_EX_NS, fn, _ns_reference, _ns_cases(), rtol=1e-9, atol=1e-9,
                            diagnose=_ns_diagnose)
