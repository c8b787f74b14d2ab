"""Bad input, fuzzed: every public function that takes an MDP, a policy or arrays
gets malformed arguments drawn by Hypothesis (wrong shapes, NaN and infinities,
negative probabilities, rows that do not sum to one, indices out of range, strings).
Each must raise ValueError or TypeError whose message names the argument, never an
IndexError, a LinAlgError, a numpy warning or silent output. Integer and boolean
arrays that hold valid numbers are not malformed: they must give the float answer.
"""
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rlbook as rb

S, A = 4, 3
MDP = rb.random_mdp(S, A, 0.9, seed=0)
RNG_SEED = 0


def _pi():
    return np.random.default_rng(1).dirichlet(np.ones(A), size=S)


def _v():
    return np.random.default_rng(2).normal(size=S)


def _theta():
    return np.random.default_rng(3).normal(size=(S, A))


def _rho0():
    return np.full(S, 1.0 / S)


def _p():
    return np.array([0.2, 0.3, 0.5])


def _traj(T=5):
    r = np.random.default_rng(4)
    return dict(rewards=r.normal(size=T), values=r.normal(size=T), next_values=r.normal(size=T),
                dones=np.zeros(T))


# name, callable(**kwargs), valid kwargs, {argument: kind} to corrupt
# kinds: "prob" (rows are distributions of a fixed shape), "array" (finite numbers of a
#        shape fixed by the other arguments), "free" (finite numbers, any shape is valid),
#        "prob-free", "positive-free" (> 0, any shape), "positive" (> 0), "nonneg" (>= 0),
#        ("index", bound) (an integer index array or scalar below bound)
CASES = [
    ("policy_matrices", lambda **k: rb.policy_matrices(MDP, **k), dict(pi=_pi()), {"pi": "prob"}),
    ("evaluate_policy", lambda **k: rb.evaluate_policy(MDP, **k), dict(pi=_pi()), {"pi": "prob"}),
    ("bellman_expectation_operator", lambda **k: rb.bellman_expectation_operator(MDP, **k),
     dict(pi=_pi(), v=_v()), {"pi": "prob", "v": "array"}),
    ("bellman_optimality_operator", lambda **k: rb.bellman_optimality_operator(MDP, **k),
     dict(v=_v()), {"v": "array"}),
    ("q_from_v", lambda **k: rb.q_from_v(MDP, **k), dict(v=_v()), {"v": "array"}),
    ("v_from_q", lambda **k: rb.v_from_q(**k), dict(pi=_pi(), q=_theta()), {"pi": "prob", "q": "free"}),
    ("greedy_policy", lambda **k: rb.greedy_policy(**k), dict(q=_theta()), {"q": "free"}),
    ("value_iteration", lambda **k: rb.value_iteration(MDP, **k), dict(v0=_v()), {"v0": "array"}),
    ("truncated_policy_iteration", lambda **k: rb.truncated_policy_iteration(MDP, 2, **k),
     dict(v0=_v()), {"v0": "array"}),
    ("policy_iteration", lambda **k: rb.policy_iteration(MDP, **k), dict(pi0=_pi()), {"pi0": "prob"}),
    ("iterative_policy_evaluation", lambda **k: rb.iterative_policy_evaluation(MDP, **k),
     dict(pi=_pi(), v0=_v()), {"pi": "prob", "v0": "array"}),
    ("sample_trajectories",
     lambda **k: rb.sample_trajectories(MDP, n_episodes=3, horizon=4, rng=np.random.default_rng(0), **k),
     dict(pi=_pi(), rho0=_rho0()), {"pi": "prob", "rho0": "prob"}),
    ("discounted_returns", lambda **k: rb.discounted_returns(gamma=0.9, **k),
     dict(rewards=np.arange(5.0)), {"rewards": "free"}),
    ("deterministic_policy", lambda **k: rb.deterministic_policy(n_actions=A, **k),
     dict(actions=np.array([0, 1, 2, 0])), {"actions": ("index", A)}),
    ("softmax_policy", lambda **k: rb.softmax_policy(**k), dict(theta=_theta()), {"theta": "free"}),
    ("softmax_score", lambda **k: rb.softmax_score(_theta(), **k), dict(s=1, a=2),
     {"s": ("index", S), "a": ("index", A)}),
    ("discounted_visitation", lambda **k: rb.discounted_visitation(MDP, **k),
     dict(pi=_pi(), rho0=_rho0()), {"pi": "prob", "rho0": "prob"}),
    ("policy_objective", lambda **k: rb.policy_objective(MDP, **k),
     dict(pi=_pi(), rho0=_rho0()), {"pi": "prob", "rho0": "prob"}),
    ("exact_policy_gradient", lambda **k: rb.exact_policy_gradient(MDP, **k),
     dict(theta=_theta(), rho0=_rho0()), {"theta": "array", "rho0": "prob"}),
    ("natural_policy_gradient", lambda **k: rb.natural_policy_gradient(MDP, **k),
     dict(theta=_theta(), rho0=_rho0()), {"theta": "array", "rho0": "prob"}),
    ("stationary_distribution", lambda **k: rb.stationary_distribution(MDP, **k),
     dict(pi=_pi()), {"pi": "prob"}),
    ("average_reward", lambda **k: rb.average_reward(MDP, **k), dict(pi=_pi()), {"pi": "prob"}),
    ("entropy", lambda **k: rb.entropy(**k), dict(p=_p()), {"p": "prob-free"}),
    ("kl_divergence", lambda **k: rb.kl_divergence(**k), dict(p=_p(), q=_p()[::-1].copy()),
     {"p": "prob", "q": "prob"}),
    ("cross_entropy", lambda **k: rb.cross_entropy(**k), dict(p=_p(), q=_p()[::-1].copy()),
     {"p": "prob", "q": "prob"}),
    ("total_variation", lambda **k: rb.total_variation(**k), dict(p=_p(), q=_p()[::-1].copy()),
     {"p": "prob", "q": "prob"}),
    ("gaussian_log_prob", lambda **k: rb.gaussian_log_prob(**k),
     dict(a=np.zeros(3), mean=np.zeros(3), std=np.ones(3)),
     {"a": "free", "mean": "free", "std": "positive-free"}),
    ("gae", lambda **k: rb.gae(gamma=0.9, lam=0.8, **k), _traj(),
     {"rewards": "array", "values": "array", "next_values": "array"}),
    ("clipped_surrogate_objective", lambda **k: rb.clipped_surrogate_objective(eps=0.2, **k),
     dict(ratio=np.ones(4), advantages=np.arange(4.0)), {"ratio": "nonneg", "advantages": "array"}),
    ("epsilon_greedy_policy", lambda **k: rb.epsilon_greedy_policy(epsilon=0.1, **k),
     dict(q=_theta()), {"q": "free"}),
    ("FiniteMDP", lambda **k: rb.FiniteMDP(gamma=0.9, **k), dict(P=MDP.P.copy(), R=MDP.R.copy()),
     {"P": "prob", "R": "array"}),
]


def _corruptions(valid, kind):
    """Malformed versions of one valid argument, each with a label."""
    out = []
    if isinstance(kind, tuple):  # an index with its exclusive bound
        bound = kind[1]
        arr = np.asarray(valid)
        for bad in (bound, -1, bound + 7):
            x = arr.copy()
            x.flat[0] = bad
            out.append((f"index {bad}", x if arr.ndim else int(bad)))
        out.append(("float index", arr.astype(float) + 0.5))
        out.append(("string", "0"))
        return out
    arr = np.asarray(valid, dtype=float)
    out.append(("string", "abc"))
    if not kind.endswith("free"):
        out.append(("extra axis", arr[None, ...]))
        if arr.size > 1:
            out.append(("too short", arr[:-1]))
    for val, label in ((np.nan, "NaN"), (np.inf, "inf"), (-np.inf, "-inf")):
        x = arr.copy()
        x.flat[arr.size // 2] = val
        out.append((label, x))
    if kind.startswith("prob"):
        x = arr.copy()
        x.flat[0] = -0.1
        out.append(("negative probability", x))
        out.append(("rows sum to 1.5", arr * 1.5))
    if kind.startswith("positive"):
        x = arr.copy()
        x.flat[0] = 0.0
        out.append(("zero", x))
    if kind.startswith("positive") or kind == "nonneg":
        x = arr.copy()
        x.flat[0] = -1.0
        out.append(("negative", x))
    return out


ALL = [(name, fn, kw, arg, label, bad)
       for name, fn, kw, args in CASES
       for arg, kind in args.items()
       for label, bad in _corruptions(kw[arg], kind)]


@pytest.mark.parametrize("name, fn, kw, arg, label, bad", ALL,
                         ids=[f"{c[0]}-{c[3]}-{c[4]}" for c in ALL])
def test_malformed_argument_is_named(name, fn, kw, arg, label, bad):
    kwargs = dict(kw)
    kwargs[arg] = bad
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a RuntimeWarning from numpy is silent nonsense too
        with pytest.raises((ValueError, TypeError)) as info:
            fn(**kwargs)
    assert arg in str(info.value), f"{name}: message {str(info.value)!r} does not name {arg!r}"


@pytest.mark.parametrize("name, fn, kw, args", CASES, ids=[c[0] for c in CASES])
def test_valid_arguments_run(name, fn, kw, args):
    fn(**kw)


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, len(CASES) - 1), st.data())
def test_random_garbage_is_refused_or_named(i, data):
    """Random arrays of random shapes and dtypes in place of one argument: either the
    call works (the garbage happened to be valid) or it raises a named ValueError/TypeError."""
    name, fn, kw, args = CASES[i]
    arg = data.draw(st.sampled_from(sorted(args)))
    shape = data.draw(st.lists(st.integers(0, 5), min_size=0, max_size=3))
    dtype = data.draw(st.sampled_from([float, int, bool]))
    seed = data.draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    bad = (rng.normal(size=shape) * 3).astype(dtype)
    kwargs = dict(kw)
    kwargs[arg] = bad
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            fn(**kwargs)
        except (ValueError, TypeError) as exc:
            assert arg in str(exc) or name == "FiniteMDP", (name, arg, str(exc))


def test_integer_and_boolean_policies_give_the_float_answer():
    pi_int = np.zeros((S, A), dtype=int)
    pi_int[:, 1] = 1
    v_int = rb.evaluate_policy(MDP, pi_int)
    np.testing.assert_allclose(v_int, rb.evaluate_policy(MDP, pi_int.astype(float)))
    np.testing.assert_allclose(rb.evaluate_policy(MDP, pi_int.astype(bool)), v_int)
    np.testing.assert_allclose(rb.q_from_v(MDP, np.arange(S)), rb.q_from_v(MDP, np.arange(S, dtype=float)))
