"""Tests written from mutmut's survivors in rlbook/mdp.py, rlbook/dp/ and
rlbook/policy_gradient/objectives.py (issue 14).

Formulas are checked against an independent route (a definition computed by
hand, a loop); error messages are pinned from their start: the argument's name,
the index and value seen, and what was expected (the package's contract).
"""
from types import SimpleNamespace

import numpy as np
import pytest

import rlbook as rb


def _mdp3():
    rng = np.random.default_rng(3)
    P = rng.dirichlet(np.ones(3), size=(3, 2))
    R_next = rng.normal(size=(3, 2, 3))
    return rb.FiniteMDP(P, None, 0.9, R_next=R_next,
                        reward_std=np.array([[0.0, 2.0], [0.0, 0.0], [0.5, 0.0]]))


# ----------------------------------------------------------------- FiniteMDP.sample_rewards
def test_sample_rewards_draw_from_the_law_of_each_transition():
    mdp = _mdp3()
    # noise-free pairs return R_next[s, a, s'] exactly, entry by entry
    s, a, s2 = np.array([1, 1, 0, 1]), np.array([0, 1, 0, 0]), np.array([2, 0, 1, 0])
    r = mdp.sample_rewards(s, a, s2, rng=0)
    np.testing.assert_array_equal(r, [mdp.R_next[i, j, k] for i, j, k in zip(s, a, s2)])
    # a noisy pair: mean R_next[0, 1, 2] and standard deviation 2 (4 standard errors)
    n = 20_000
    x = mdp.sample_rewards(np.zeros(n, int), np.ones(n, int), np.full(n, 2), rng=np.random.default_rng(1))
    assert abs(x.mean() - mdp.R_next[0, 1, 2]) < 4 * 2.0 / np.sqrt(n)
    assert abs(x.std() - 2.0) < 0.05
    # an int seed is a seed: the same draws twice
    np.testing.assert_array_equal(mdp.sample_rewards(np.zeros(5, int), np.ones(5, int), np.zeros(5, int), 7),
                                  mdp.sample_rewards(np.zeros(5, int), np.ones(5, int), np.zeros(5, int), 7))


def test_sample_rewards_validates_next_states():
    mdp = _mdp3()
    s, a = np.array([0, 1]), np.array([1, 0])
    with pytest.raises(ValueError, match=r"^s_next must be an integer array of shape \(2,\), got int64 \(1,\)"):
        mdp.sample_rewards(s, a, np.array([0]), 0)
    with pytest.raises(ValueError, match=r"^s_next must be an integer array of shape \(2,\), got float64 \(2,\)"):
        mdp.sample_rewards(s, a, np.array([0.0, 1.0]), 0)
    with pytest.raises(ValueError, match=r"^s_next\[1\] is 3, expected a state in \[0, 2\]"):
        mdp.sample_rewards(s, a, np.array([0, 3]), 0)
    with pytest.raises(ValueError, match=r"^s_next\[0\] is -1, expected a state in \[0, 2\]"):
        mdp.sample_rewards(s, a, np.array([-1, 2]), 0)
    with pytest.raises(ValueError, match=r"^s_next\[1, 0\] is 3, expected"):
        mdp.sample_rewards(np.zeros((2, 2), int), np.zeros((2, 2), int), np.array([[0, 0], [3, 0]]), 0)
    # the edges 0 and S - 1 are states
    assert mdp.sample_rewards(s, a, np.array([0, 2]), 0).shape == (2,)


# ----------------------------------------------------------------- from_gymnasium
class _ToyEnv:
    """A stand-in for a toy-text environment: 2 states, 1 action."""

    def __init__(self, table, spec=None):
        self.unwrapped = SimpleNamespace(P=table, observation_space=SimpleNamespace(n=2),
                                         action_space=SimpleNamespace(n=1))
        if spec is not None:
            self.spec = SimpleNamespace(id=spec)

    def __repr__(self):
        return "<toy env>"


def test_from_gymnasium_averages_rewards_of_outcomes_with_the_same_next_state():
    # two outcomes enter state 1 with rewards 1 and 3 and probabilities 1/4 each:
    # E[R | s'=1] = (1/4 * 1 + 1/4 * 3) / (1/2) = 2; state 0 is re-entered with reward -1
    table = {0: {0: [(0.25, 1, 1.0, False), (0.25, 1, 3.0, False), (0.5, 0, -1.0, False)]},
             1: {0: [(1.0, 0, 0.5, False)]}}
    mdp = rb.FiniteMDP.from_gymnasium(_ToyEnv(table), gamma=0.9)
    assert mdp.R_next[0, 0, 1] == pytest.approx(2.0)
    assert mdp.R[0, 0] == pytest.approx(0.25 + 0.75 - 0.5)
    assert mdp.R_next[1, 0, 1] == 0.0  # an impossible outcome carries no reward
    assert not mdp.terminal.any()


def test_from_gymnasium_without_a_table_names_the_environment():
    with pytest.raises(ValueError, match=r"^env 'Toy-v0' exposes no transition table env\.unwrapped\.P; "
                                         r"expected a toy-text environment such as FrozenLake, "
                                         r"CliffWalking or Taxi$"):
        rb.FiniteMDP.from_gymnasium(_ToyEnv(None, spec="Toy-v0"), gamma=0.9)
    with pytest.raises(ValueError, match=r"^env <toy env> exposes no transition table"):
        rb.FiniteMDP.from_gymnasium(_ToyEnv(None), gamma=0.9)


# ----------------------------------------------------------------- deterministic_policy
def test_deterministic_policy_with_one_action_and_bad_counts():
    np.testing.assert_array_equal(rb.deterministic_policy(np.array([0, 0]), 1), [[1.0], [1.0]])
    with pytest.raises(ValueError, match=r"^n_actions is 0, expected an integer >= 1"):
        rb.deterministic_policy(np.array([0]), 0)
    with pytest.raises(TypeError, match=r"^n_actions must be an integer"):
        rb.deterministic_policy(np.array([0]), 2.0)


# ----------------------------------------------------------------- greedy choices
def test_tie_tolerance_is_rtol_times_the_largest_available_magnitude():
    q = np.array([[1.0, -3.0], [2.0, 0.0]])
    assert rb.tie_tolerance(q, 0.5) == pytest.approx(0.5 * 3.0)
    assert rb.tie_tolerance(q, 0.5, allowed=[[True, False], [True, True]]) == pytest.approx(0.5 * 2.0)
    assert rb.tie_tolerance(q, 0.0) == 0.0  # rtol = 0 is allowed


@pytest.mark.parametrize("call, exc, pattern", [
    (lambda: rb.tie_tolerance(np.zeros(3)), ValueError, r"^q must have 2 dimension\(s\), got shape \(3,\)"),
    (lambda: rb.tie_tolerance(np.zeros((2, 2)), -1.0), ValueError, r"^rtol is -1\.0, expected a finite number >= 0"),
    (lambda: rb.tie_tolerance(np.zeros((2, 2)), allowed=np.ones((2, 3), bool)), ValueError,
     r"^allowed must have shape \(2, 2\), got \(2, 3\)"),
    (lambda: rb.greedy_actions(np.zeros(3)), ValueError, r"^q must have 2 dimension\(s\), got shape \(3,\)"),
    (lambda: rb.greedy_actions(np.zeros((2, 0))), ValueError,
     r"^q has shape \(2, 0\), expected at least one action"),
    (lambda: rb.greedy_actions(np.zeros((2, 2)), -1.0), ValueError, r"^rtol is -1\.0"),
    (lambda: rb.greedy_actions(np.zeros((2, 2)), allowed=np.ones((3, 2), bool)), ValueError,
     r"^allowed must have shape \(2, 2\), got \(3, 2\)"),
    (lambda: rb.greedy_actions(np.zeros((3, 2)), allowed=[[1, 0], [0, 0], [1, 1]]), ValueError,
     r"^allowed\[1, :\] is all False, expected at least one available action$"),
    (lambda: rb.greedy_policy(np.zeros(3)), ValueError, r"^q must have 2 dimension\(s\)"),
    (lambda: rb.greedy_policy_from_v(_mdp3(), np.zeros(2)), ValueError, r"^v must have shape \(3,\), got \(2,\)"),
    (lambda: rb.average_value(_mdp3(), np.full((3, 2), 0.5), np.ones(2) / 2), ValueError,
     r"^d must have shape \(3,\), got \(2,\)"),
    (lambda: rb.tabular_features(2, 0), ValueError, r"^n_actions is 0, expected an integer >= 1"),
])
def test_greedy_and_objective_errors_name_the_argument(call, exc, pattern):
    with pytest.raises(exc, match=pattern):
        call()


def test_greedy_actions_with_one_action_and_masks():
    np.testing.assert_array_equal(rb.greedy_actions(np.array([[3.0], [-1.0]])), [0, 0])
    q = np.array([[5.0, 1.0, 2.0], [0.0, 4.0, 4.0]])
    np.testing.assert_array_equal(rb.greedy_actions(q, allowed=[[0, 1, 1], [1, 0, 1]]), [2, 2])


def test_tabular_features_of_a_single_pair():
    np.testing.assert_array_equal(rb.tabular_features(1, 1), np.ones((1, 1, 1)))


# ----------------------------------------------------------------- policy-gradient objectives
def test_gaussian_log_prob_matches_scipy():
    import scipy.stats

    a = np.array([-1.0, 0.3, 2.5])
    mean, std = np.array([0.0, 0.5, 1.0]), np.array([0.7, 1.0, 2.5])
    np.testing.assert_allclose(rb.gaussian_log_prob(a, mean, std),
                               scipy.stats.norm.logpdf(a, loc=mean, scale=std), rtol=1e-13)


@pytest.mark.parametrize("call, pattern", [
    (lambda: rb.softmax_score(np.zeros((3, 2)), 3, 0), r"^s is 3, expected a state in \[0, 2\]$"),
    (lambda: rb.softmax_score(np.zeros((3, 2)), 0, 2), r"^a is 2, expected an action in \[0, 1\]$"),
    (lambda: rb.discounted_visitation(_mdp3(), np.full((3, 2), 0.5), np.ones(2) / 2),
     r"^rho0 must have shape \(3,\), got \(2,\)"),
    (lambda: rb.discounted_visitation(_mdp3(), np.full((3, 2), 0.5), np.ones(3)), r"^rho0 sums to 3"),
])
def test_objective_errors_name_the_argument(call, pattern):
    with pytest.raises(ValueError, match=pattern):
        call()


@pytest.mark.parametrize("call, pattern", [
    (lambda: rb.gaussian_log_prob([np.nan], 0.0, 1.0), r"^a\[0\] is nan, expected a finite number"),
    (lambda: rb.gaussian_log_prob(0.0, [0.0, np.inf], 1.0), r"^mean\[1\] is inf"),
    (lambda: rb.gaussian_log_prob(0.0, 0.0, [np.nan]), r"^std\[0\] is nan"),
    (lambda: rb.gaussian_log_prob(0.0, 0.0, [1.0, 0.0]), r"^std\[1\] is 0\.0, expected a standard deviation > 0$"),
    (lambda: rb.gaussian_score(0.0, 0.0, [[1.0, 1.0], [1.0, -2.0]]), r"^std\[1, 1\] is -2\.0, expected"),
    (lambda: rb.gaussian_log_prob(np.zeros(2), np.zeros(2), np.ones(3)),
     r"^a, mean and std have shapes \(2,\), \(2,\), \(3,\), which do not broadcast together$"),
])
def test_gaussian_policy_errors_name_the_argument(call, pattern):
    with pytest.raises(ValueError, match=pattern):
        call()


# ----------------------------------------------------------------- Bellman: evaluation and v_from_q
def _chain(gamma, p_stay=0.0, reward=1.0):
    """State 0 stays with probability p_stay (reward `reward`), else enters terminal state 1."""
    P = np.zeros((2, 1, 2))
    P[0, 0] = [p_stay, 1.0 - p_stay]
    P[1, 0, 1] = 1.0
    return rb.FiniteMDP(P, np.array([[reward], [0.0]]), gamma, terminal=[False, True])


def test_iterative_evaluation_stops_at_the_first_sweep_meeting_the_rule():
    pi = np.ones((2, 1))
    # gamma = 1/2, one self-loop state paying 1: v_1 = 1, delta_1 = 1, and the bound
    # gamma / (1 - gamma) * delta_1 = 1 meets tol = 1 (equality counts)
    P = np.ones((1, 1, 1))
    r = rb.iterative_policy_evaluation(rb.FiniteMDP(P, [[1.0]], 0.5), np.ones((1, 1)), tol=1.0)
    assert r.num_iter == 1 and r.converged is True and r.error_bound == 1.0
    # gamma = 1: v_1 = (1, 0), delta_1 = 1 meets tol = 1
    r = rb.iterative_policy_evaluation(_chain(1.0), pi, tol=1.0)
    assert r.num_iter == 1 and r.converged is True and r.error_bound == np.inf


def test_iterative_evaluation_from_v0_and_max_iter():
    mdp = _chain(0.9, p_stay=0.5)
    pi = np.ones((2, 1))
    v0 = np.array([3.0, 5.0])  # the terminal entry is ignored (a terminal value is 0)
    r = rb.iterative_policy_evaluation(mdp, pi, v0=v0, max_iter=1)
    v0_clean = np.array([3.0, 0.0])
    tv = rb.bellman_expectation_operator(mdp, pi, v0_clean)
    assert r.num_iter == 1 and r.converged is False
    np.testing.assert_allclose(r.v, tv)
    assert r.deltas[0] == pytest.approx(np.max(np.abs(tv - v0_clean)))


def test_iterative_evaluation_default_budget_is_100000_sweeps():
    # gamma = 1 and termination probability 1e-9 per step: no sweep changes the value
    # by less than tol, so the default budget runs out
    r = rb.iterative_policy_evaluation(_chain(1.0, p_stay=1.0 - 1e-9), np.ones((2, 1)))
    assert r.num_iter == 100_000 and r.converged is False


@pytest.mark.parametrize("call, pattern", [
    (lambda: rb.v_from_q(np.full(2, 0.5), np.zeros(2)), r"^q must have 2 dimension\(s\), got shape \(2,\)"),
    (lambda: rb.v_from_q(np.full(2, 0.5), np.zeros((1, 2))), r"^pi must have 2 dimension\(s\), got shape \(2,\)"),
    (lambda: rb.v_from_q([[0.5, 0.5]], [[np.nan, 0.0]]), r"^q\[0, 0\] is nan"),
    (lambda: rb.v_from_q([[np.nan, 0.5]], [[0.0, 0.0]]), r"^pi\[0, 0\] is nan"),
])
def test_v_from_q_errors_name_the_argument(call, pattern):
    with pytest.raises(ValueError, match=pattern):
        call()


# ----------------------------------------------------------------- dynamic programming
@pytest.mark.parametrize("n_eval", [1, 2, 5])
def test_truncated_pi_first_iterate_is_n_eval_sweeps_of_the_greedy_policy(n_eval):
    mdp = rb.random_mdp(5, 3, 0.9, seed=11)
    v0 = np.random.default_rng(2).normal(size=5) * 3
    res = rb.truncated_policy_iteration(mdp, n_eval, max_iter=1, v0=v0, record=True)
    pi1 = rb.greedy_policy_from_v(mdp, v0)
    v = v0.copy()
    for _ in range(n_eval):  # T_{pi_1}^{n_eval} v0, by the public operator
        v = rb.bellman_expectation_operator(mdp, pi1, v)
    np.testing.assert_allclose(res.history[1], v, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(res.v, v, rtol=1e-12, atol=1e-12)
    assert res.residuals[0] == pytest.approx(
        np.max(np.abs(rb.bellman_optimality_operator(mdp, v0) - v0)), rel=1e-12)


def test_truncated_pi_stopping_rule_and_defaults():
    # one self-loop state, gamma = 1/2, reward 1: T v0 = 1 from v0 = 0, residual 1, and the
    # threshold tol (1 - gamma) / gamma = tol = 1 is met with equality: stop at once
    mdp = rb.FiniteMDP(np.ones((1, 1, 1)), [[1.0]], 0.5)
    res = rb.truncated_policy_iteration(mdp, 3, tol=1.0)
    assert res.num_iter == 1 and res.converged is True and res.v[0] == 1.0
    assert res.history is None  # recorded only on request
    res = rb.truncated_policy_iteration(rb.random_mdp(4, 2, 0.9, seed=1), 2, max_iter=1)
    assert res.converged is False and res.history is None


def test_truncated_pi_default_tolerance_is_1e_8():
    mdp = rb.random_mdp(6, 3, 0.95, seed=8, reward_scale=10.0)
    v_star = rb.policy_iteration(mdp).v  # exact evaluation: an independent route to v*
    assert np.max(np.abs(rb.truncated_policy_iteration(mdp, 2).v - v_star)) <= 1e-8


def test_truncated_policy_iteration_default_budget_is_100000_iterations():
    # one action, gamma = 1 and termination probability 1e-9 per step: every sweep
    # changes the value by about 1, so the default budget runs out
    res = rb.truncated_policy_iteration(_chain(1.0, p_stay=1.0 - 1e-9), 1)
    assert res.num_iter == 100_000 and res.converged is False
