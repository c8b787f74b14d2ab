"""Checkers for the coding exercises of Chapter 5, *Monte Carlo methods*."""
from __future__ import annotations

import numpy as np

from ..model_free.monte_carlo import first_visit_mask
from ._checker import CheckReport, compare_on_cases, keyword_hints, outputs

__all__ = ["check_first_visit_mc", "check_epsilon_greedy"]

_EX_FV = "c05 first-visit Monte Carlo"
_EX_EG = "c05 epsilon-greedy policy"


# -- first-visit MC from a batch of episodes ---------------------------------------------------
def _returns(rewards, gamma):
    G = np.zeros_like(rewards)
    acc = np.zeros(rewards.shape[0])
    for t in range(rewards.shape[1] - 1, -1, -1):
        acc = rewards[:, t] + gamma * acc
        G[:, t] = acc
    return G


def _fv_reference(states, rewards, gamma, n_states, every=False, no_gamma=False):
    mask = states >= 0
    G = _returns(rewards, 1.0 if no_gamma else gamma)
    m = mask if every else first_visit_mask(states, mask)
    tot = np.bincount(states[m], G[m], n_states)
    cnt = np.bincount(states[m], minlength=n_states)
    return np.where(cnt > 0, tot / np.maximum(cnt, 1), 0.0)


def _fv_cases():
    rng = np.random.default_rng(505)
    cases = []
    for k in range(8):
        N, T, S = int(rng.integers(1, 6)), int(rng.integers(1, 9)), int(rng.integers(2, 6))
        states = rng.integers(0, S, size=(N, T))            # states repeat within episodes
        lengths = rng.integers(1, T + 1, size=N)
        if k == 0:
            lengths[:] = T
        states[np.arange(T)[None, :] >= lengths[:, None]] = -1
        rewards = np.where(states >= 0, np.round(rng.normal(size=(N, T)), 2), 0.0)
        gamma = [0.9, 1.0, 0.5, 0.99, 0.8, 0.0, 0.95, 0.7][k]
        cases.append(dict(states=states, rewards=rewards, gamma=gamma, n_states=S))
    return cases


def _fv_describe(case):
    N, T = case["states"].shape
    return f"{N} episode(s) of at most {T} steps, S = {case['n_states']}, gamma = {case['gamma']}"


def _fv_diagnose(fn, cases):
    variants = [
        (dict(every=True), "your estimates average the returns of every visit: keep only the "
         "first visit of each state in each episode (the return after the first visit)."),
        (dict(no_gamma=True), "your returns are not discounted: G_t = R_{t+1} + gamma G_{t+1}."),
    ]
    hint = keyword_hints(_fv_reference, variants)(fn, cases)
    outs = outputs(fn, cases) if hint is None else None
    if outs is None:
        return hint
    if any(o.shape == (c["n_states"],) and np.isnan(o).any() for o, c in zip(outs, cases)):
        return "a state never visited must get the estimate 0, not nan."
    return None


def check_first_visit_mc(fn) -> CheckReport:
    r"""Check a reader's ``fn(states, rewards, gamma, n_states)`` returning the
    first-visit Monte Carlo estimate ``(n_states,)`` of the state values from a
    batch of episodes: ``states[n, t]`` is ``S_t`` of episode ``n`` (``-1``
    after its end), ``rewards[n, t] = R_{t+1}`` (0 after the end). A state
    never visited gets 0. Cases include states visited several times in one
    episode, ``gamma = 0`` and ``gamma = 1``, and episodes of different lengths.
    """
    return compare_on_cases(_EX_FV, fn, _fv_reference, _fv_cases(), rtol=1e-9, atol=1e-9,
                            describe=_fv_describe, diagnose=_fv_diagnose)


# -- epsilon-greedy policy ----------------------------------------------------------------------
def _eg_reference(q, epsilon, allowed, forget=False, all_actions=False):
    S, A = q.shape
    greedy = np.where(allowed, q, -np.inf).argmax(axis=1)
    n = np.full(S, A) if all_actions else allowed.sum(axis=1)
    pi = np.where(allowed, epsilon / n[:, None], 0.0)
    pi[np.arange(S), greedy] = (1 - epsilon) + (0.0 if forget else epsilon / n)
    return pi


def _eg_cases():
    rng = np.random.default_rng(506)
    cases = []
    for k in range(8):
        S, A = int(rng.integers(2, 6)), int(rng.integers(2, 6))
        q = np.round(rng.normal(size=(S, A)), 1 if k % 2 else 3)   # k odd: ties likely
        allowed = rng.random((S, A)) < 0.7
        allowed[np.arange(S), rng.integers(0, A, S)] = True
        if k == 0:
            allowed[:] = True
        q[~allowed] += 5.0 * (k % 3 == 1)                           # best q on a disallowed action
        eps = [0.1, 0.0, 1.0, 0.3, 0.5, 0.05, 0.2, 0.9][k]
        cases.append(dict(q=q, epsilon=eps, allowed=allowed))
    return cases


def _eg_describe(case):
    S, A = case["q"].shape
    return (f"q of shape ({S}, {A}), epsilon = {case['epsilon']}, "
            f"{int(case['allowed'].sum())} of {S * A} actions available")


def _eg_diagnose(fn, cases):
    variants = [
        (dict(forget=True), "the greedy action must also get its share epsilon/|A(s)|: it has "
         "probability 1 - epsilon + epsilon/|A(s)|, so that each row sums to 1."),
        (dict(all_actions=True), "divide epsilon by the number of *available* actions |A(s)|, "
         "not by the number of columns A; unavailable actions get probability 0."),
    ]
    hint = keyword_hints(_eg_reference, variants)(fn, cases)
    outs = outputs(fn, cases) if hint is None else None
    if outs is None:
        return hint
    for o, c in zip(outs, cases):
        if o.shape == c["q"].shape and np.any(o[~c["allowed"]] > 0):
            return "an action that is not available must get probability 0."
        if o.shape == c["q"].shape and not np.allclose(o, _eg_reference(**c)):
            greedy_ok = np.where(c["allowed"], c["q"], -np.inf).argmax(1)
            if not np.array_equal(o.argmax(1), greedy_ok) and c["epsilon"] < 0.5:
                return ("the greedy action is the best *available* one, the lowest index among "
                        "ties (np.argmax of q with unavailable actions set to -inf).")
    return None


def check_epsilon_greedy(fn) -> CheckReport:
    r"""Check a reader's ``fn(q, epsilon, allowed)`` returning the epsilon-greedy
    policy ``(S, A)``: ``1 - epsilon (|A(s)| - 1)/|A(s)|`` on the greedy
    available action (lowest index among ties), ``epsilon/|A(s)|`` on every
    other available action, 0 on unavailable ones. Cases include ties,
    ``epsilon`` 0 and 1, and a best ``q`` on an unavailable action.
    """
    return compare_on_cases(_EX_EG, fn, _eg_reference, _eg_cases(), rtol=1e-9, atol=1e-12,
                            describe=_eg_describe, diagnose=_eg_diagnose)
