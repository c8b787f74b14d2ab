"""Checkers for the coding exercises of Chapter 4, *Value iteration and policy iteration*."""
from __future__ import annotations

import numpy as np

from ..dp.bellman import evaluate_policy
from ..dp.iteration import policy_iteration
from ..mdp import FiniteMDP
from ._checker import CheckReport, compare_on_cases, describe_mdp_case, mdp_case

__all__ = ["check_value_iteration", "check_policy_iteration"]

_EX_VI = "c04 value iteration"
_EX_PI = "c04 policy iteration"


def _copy(case):
    return {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in case.items()}


def _mdp_cases(seed, shapes, gammas, with_tol=None):
    rng = np.random.default_rng(seed)
    extra = {} if with_tol is None else dict(tol=with_tol)
    return [mdp_case(S, A, gamma, rng, **extra) for (S, A), gamma in zip(shapes, gammas)]


def _v_star(P, R, gamma, **_):
    return policy_iteration(FiniteMDP(P, R, gamma)).v


# -- value iteration -------------------------------------------------------------------------
_VI_TOL = 1e-6


def _vi_cases():
    shapes = [(3, 2), (5, 3), (4, 4), (8, 3), (6, 2), (10, 4)]
    gammas = [0.5, 0.9, 0.99, 0.95, 0.0, 0.99]
    return _mdp_cases(404, shapes, gammas, with_tol=_VI_TOL)


def _vi_reference(P, R, gamma, tol):
    return _v_star(P, R, gamma)


def _diagnose_vi(fn, cases):
    for case in cases:
        try:
            got = np.asarray(fn(**_copy(case)), dtype=float)
        except Exception:  # noqa: BLE001 - the reader's error is already reported
            return None
        S, A = case["R"].shape
        if got.shape != (S,):
            return None
        gamma = case["gamma"]
        v_star = _v_star(**case)
        err = float(np.max(np.abs(got - v_star)))
        if err <= case["tol"]:
            continue
        uniform = evaluate_policy(FiniteMDP(case["P"], case["R"], gamma), np.full((S, A), 1.0 / A))
        if np.allclose(got, uniform, atol=1e-4):
            return ("your values are those of the uniform random policy: the update must take "
                    "the maximum over actions, not the average.")
        if gamma > 0 and err <= 2 * gamma / (1 - gamma) * case["tol"]:
            return (f"your values are close to v* but off by {err:.3g} > tol = {case['tol']:g} "
                    f"(gamma = {gamma}): stopping when ||v_(k+1) - v_k|| < tol only guarantees "
                    "||v_(k+1) - v*|| <= gamma / (1 - gamma) * tol. Stop when "
                    "||v_(k+1) - v_k|| <= tol * (1 - gamma) / gamma.")
        if np.all(got <= v_star + 1e-9) and np.any(got < v_star - 1e-3):
            return ("your values are below v* everywhere they differ: did the loop stop after "
                    "too few sweeps, or take a minimum somewhere?")
        return None
    return None


def check_value_iteration(fn) -> CheckReport:
    r"""Check a reader's ``fn(P, R, gamma, tol)`` implementing value iteration:
    starting from ``v_0 = 0``, iterate ``v_{k+1} = T v_k`` and return values
    ``(S,)`` within ``tol`` of ``v*`` in the sup norm. The cases include
    ``gamma = 0.99`` with ``tol = 1e-6``, where the naive stopping rule
    ``||v_{k+1} - v_k|| < tol`` is not accurate enough.

    The reference ``v*`` is computed by exact policy iteration; an answer passes
    if every entry is within ``tol`` (absolute) of it.

    Raises :class:`~rlbook.exercises.ExerciseFailed` on the first case that
    differs, with a hint for typical mistakes (averaging instead of maximising,
    a stopping rule too loose for ``gamma`` close to 1); :class:`TypeError` if
    ``fn`` is not callable.
    """
    return compare_on_cases(_EX_VI, fn, _vi_reference, _vi_cases(), rtol=0.0, atol=_VI_TOL,
                            describe=describe_mdp_case, diagnose=_diagnose_vi)


# -- policy iteration ------------------------------------------------------------------------
def _pi_cases():
    shapes = [(3, 2), (5, 3), (4, 4), (8, 3), (6, 5), (12, 4)]
    gammas = [0.5, 0.9, 0.99, 0.8, 0.95, 0.9]
    return _mdp_cases(405, shapes, gammas)


def _pi_reference(P, R, gamma):
    return policy_iteration(FiniteMDP(P, R, gamma)).policy.argmax(axis=1)


def _diagnose_pi(fn, cases):
    for case in cases:
        try:
            got = np.asarray(fn(**_copy(case)))
        except Exception:  # noqa: BLE001 - the reader's error is already reported
            return None
        S, A = case["R"].shape
        if got.shape == (S, A):
            return ("return the optimal action of every state as an integer array (S,), e.g. "
                    "pi.argmax(axis=1) of a one-hot policy.")
        if got.shape != (S,) or not np.all(np.isin(got, np.arange(A))):
            return f"return one action index in [0, {A - 1}] per state, an array of shape ({S},)."
        mdp = FiniteMDP(case["P"], case["R"], case["gamma"])
        pi = np.zeros((S, A))
        pi[np.arange(S), got.astype(int)] = 1.0
        v = evaluate_policy(mdp, pi)
        v_star = _v_star(**case)
        gap = v_star - v
        if gap.max() > 1e-9:
            s = int(np.argmax(gap))
            return (f"your policy is not optimal (gamma = {case['gamma']}): in state {s} its value "
                    f"is {v[s]:.6g} but v*({s}) = {v_star[s]:.6g}. Did you stop before the policy "
                    "was stable (pi_(k+1) = pi_k), or improve with respect to the wrong values?")
    return None


def _tie_cases():
    """MDPs with exactly tied optimal actions: state ``S`` is a copy of state
    ``S - 1`` and action ``A`` repeats action 0 but sends half of the mass bound
    for ``S - 1`` to the copy. In exact arithmetic the two actions are equal; in
    floating point their values differ in the last bits, in a direction that
    depends on the current policy, and a policy iteration that switches to any
    action that looks better by round-off cycles for ever on these seeds."""
    cases = []
    for seed, S, A, gamma in ((13, 4, 3, 0.99), (15, 6, 2, 0.9), (52, 7, 3, 0.99)):
        rng = np.random.default_rng(seed)
        P0 = rng.dirichlet(np.ones(S), size=(S, A))
        R0 = rng.normal(size=(S, A))
        P = np.zeros((S + 1, A + 1, S + 1))
        R = np.zeros((S + 1, A + 1))
        P[:S, :A, :S] = P0
        R[:S, :A] = R0
        P[:S, A, :S] = P0[:, 0, :]
        P[:S, A, S] = P[:S, A, S - 1] = P0[:, 0, S - 1] / 2
        P[S], R[S] = P[S - 1], R[S - 1]
        R[:S, A] = R0[:, 0]
        cases.append(dict(P=P, R=R, gamma=gamma))
    return cases


_TIME_LIMIT = 2.0  # seconds; policy iteration on these MDPs needs milliseconds


def _values_of_answer(fn, record):
    """``fn``'s answer as the values ``v_pi`` of the policy it returns (tied
    optimal actions are all correct), under a time limit that turns a policy
    iteration cycling between tied actions into an error."""
    import signal
    import threading

    def run(P, R, gamma):
        guard = threading.current_thread() is threading.main_thread()
        if guard:
            def stop(*_):
                record["timed_out"] = True
                raise TimeoutError(f"your function did not return within {_TIME_LIMIT:g} s")
            old = signal.signal(signal.SIGALRM, stop)
            signal.setitimer(signal.ITIMER_REAL, _TIME_LIMIT)
        try:
            got = fn(P=P, R=R, gamma=gamma)
        finally:
            if guard:
                signal.setitimer(signal.ITIMER_REAL, 0.0)
                signal.signal(signal.SIGALRM, old)
        got = np.asarray(got)
        S, A = R.shape
        if got.shape != (S,) or not np.all(np.isin(got, np.arange(A))):
            return got  # the comparison reports the shape; the hint says what to return
        return evaluate_policy(FiniteMDP(P, R, gamma), np.eye(A)[got.astype(int)])

    return run


def _diagnose_ties(record):
    def diagnose(fn, cases):
        if record.get("timed_out"):
            return ("on an MDP with tied optimal actions your policy iteration did not stop: "
                    "round-off makes tied actions look better in turn, and switching to "
                    "every action that looks better cycles for ever. Keep the current action "
                    "unless another is better by more than a tolerance relative to the size "
                    "of q (e.g. 1e-9 * max |q|).")
        return _diagnose_pi(fn, cases)
    return diagnose


def check_policy_iteration(fn) -> CheckReport:
    r"""Check a reader's ``fn(P, R, gamma)`` implementing policy iteration
    (exact evaluation ``v_k = (I - gamma P_{pi_k})^{-1} r_{pi_k}``, greedy
    improvement that keeps the current action on ties, stop when the policy is
    stable) that returns the optimal action of every state, an integer array
    ``(S,)``.

    Two kinds of cases: random MDPs with a unique optimal policy, compared
    action by action; and MDPs with exactly tied optimal actions
    (:func:`_tie_cases`), where any optimal policy passes (its values are
    compared with ``v*``) but the function must return: without a tie rule,
    policy iteration cycles on them, and the checker stops it after a time
    limit.

    Raises :class:`~rlbook.exercises.ExerciseFailed` on the first case that
    differs, with a hint (wrong shape, a state where the returned policy is
    worse than optimal, a missing tie rule); :class:`TypeError` if ``fn`` is
    not callable.
    """
    first = compare_on_cases(_EX_PI, fn, _pi_reference, _pi_cases(), rtol=0.0, atol=0.0,
                             describe=describe_mdp_case, diagnose=_diagnose_pi)
    if not callable(fn):
        raise TypeError(f"{_EX_PI}: expected a function, got {type(fn).__name__}")
    record = {}
    ties = compare_on_cases(_EX_PI, _values_of_answer(fn, record), _v_star, _tie_cases(),
                            rtol=1e-9, atol=1e-9, describe=_describe_ties,
                            diagnose=_diagnose_ties(record))
    return CheckReport(_EX_PI, first.n_cases + ties.n_cases)


def _describe_ties(case):
    return describe_mdp_case(case) + " and tied optimal actions (your policy's values are compared)"
