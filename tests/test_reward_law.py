"""The reward law and the available actions of a FiniteMDP: sampling draws what the
environment pays (never the mean), R stays the expectation, and A(s) is respected."""
import gymnasium as gym
import numpy as np
import pytest

import rlbook as rb


def _two_outcome_mdp(std=None):
    # one state-action with two outcomes paying 0 and 10; state 2 terminal
    P = np.zeros((3, 2, 3))
    P[0, :, 1] = 0.7
    P[0, :, 2] = 0.3
    P[1, :, 2] = 1.0
    P[2, :, 2] = 1.0
    R_next = np.zeros((3, 2, 3))
    R_next[0, :, 2] = 10.0
    R_next[1, :, 2] = -1.0
    return rb.FiniteMDP(P, None, 0.9, terminal=[False, False, True], R_next=R_next, reward_std=std)


def test_R_is_the_mean_of_the_law():
    mdp = _two_outcome_mdp()
    np.testing.assert_allclose(mdp.R[0], [3.0, 3.0])
    np.testing.assert_allclose(mdp.R[1], [-1.0, -1.0])
    assert mdp.has_reward_law


def test_step_draws_the_law_and_its_mean_is_R():
    mdp = _two_outcome_mdp()
    rng = np.random.default_rng(0)
    n = 40_000
    s2, r = mdp.step(np.zeros(n, dtype=int), np.zeros(n, dtype=int), rng)
    assert set(np.unique(r)) == {0.0, 10.0}          # never the mean 3
    assert np.array_equal(r == 10.0, s2 == 2)        # the reward follows the outcome
    se = r.std() / np.sqrt(n)
    assert abs(r.mean() - mdp.R[0, 0]) < 5 * se      # E[R | s, a] = r(s, a)
    # power: the same test rejects a law whose mean is the wrong 0.7 * 10
    assert abs(r.mean() - 7.0) > 5 * se


def test_reward_noise_has_the_given_std():
    std = np.zeros((3, 2))
    std[1] = 2.0
    mdp = _two_outcome_mdp(std)
    rng = np.random.default_rng(1)
    n = 20_000
    _, r = mdp.step(np.ones(n, dtype=int), np.zeros(n, dtype=int), rng)
    assert abs(r.mean() + 1.0) < 5 * 2.0 / np.sqrt(n)
    # the sample variance of n normals has standard error sigma^2 sqrt(2 / (n - 1))
    assert abs(r.var(ddof=1) - 4.0) < 5 * 4.0 * np.sqrt(2 / (n - 1))


def test_frozenlake_samples_pay_zero_or_one():
    mdp = rb.FiniteMDP.from_gymnasium(gym.make("FrozenLake-v1"), 0.9)
    tr = rb.sample_trajectories(mdp, rb.uniform_policy(16, 4), 500, 60, np.random.default_rng(0))
    vals = np.unique(tr.rewards[tr.mask])
    assert set(vals) <= {0.0, 1.0} and 1.0 in vals
    # R is the mean: entering the goal from state 14 by moving right pays 1 with probability 1/3
    assert mdp.R[14, 2] == pytest.approx(1 / 3)


def test_with_gamma_keeps_the_law_and_the_mask():
    mdp = _two_outcome_mdp(np.full((3, 2), 0.0))
    allowed = np.ones((3, 2), bool)
    allowed[1, 1] = False
    m2 = rb.FiniteMDP(mdp.P, None, 0.9, mdp.terminal, allowed=allowed, R_next=mdp.R_next)
    m3 = m2.with_gamma(0.5)
    assert m3.gamma == 0.5
    assert np.array_equal(m3.allowed, allowed)
    assert np.array_equal(m3.R_next, m2.R_next)
    assert np.array_equal(m3.terminal, m2.terminal)
    m4 = m2.with_rewards(np.zeros((3, 2)))
    assert np.array_equal(m4.allowed, allowed) and np.array_equal(m4.terminal, m2.terminal)


def test_allowed_actions_are_respected():
    mdp = rb.random_mdp(4, 3, seed=0)
    allowed = np.ones((4, 3), bool)
    allowed[0, 0] = allowed[2, 1] = allowed[2, 2] = False
    m = rb.FiniteMDP(mdp.P, mdp.R, 0.9, allowed=allowed)
    np.testing.assert_array_equal(m.n_allowed, [2, 3, 1, 3])
    pi = rb.uniform_policy(4, 3, allowed)
    assert np.all(pi[~allowed] == 0) and np.allclose(pi.sum(1), 1)
    rb.evaluate_policy(m, pi)  # accepted
    with pytest.raises(ValueError, match=r"pi\[0, 0\] is 0.333333 but action 0 is not available in state 0"):
        rb.evaluate_policy(m, rb.uniform_policy(4, 3))
    q = np.array([[9.0, 1, 2], [0, 0, 0], [0, 5, 6], [1, 2, 3]])
    np.testing.assert_array_equal(rb.greedy_actions(q, allowed=allowed), [2, 0, 0, 2])
    eg = rb.epsilon_greedy_policy(q, 0.3, allowed)
    np.testing.assert_allclose(eg[0], [0, 0.15, 0.85])
    np.testing.assert_allclose(eg[2], [1, 0, 0])
    tr = rb.sample_trajectories(m, pi, 200, 20, np.random.default_rng(0))
    assert allowed[tr.states[tr.mask], tr.actions[tr.mask]].all()


def test_epsilon_greedy_exact_values():
    q = np.array([[0.0, 1.0, 0.5, 1.0]])
    np.testing.assert_allclose(rb.epsilon_greedy_policy(q, 0.2), [[0.05, 0.85, 0.05, 0.05]])
    np.testing.assert_allclose(rb.epsilon_greedy_policy(q, 0.0), [[0, 1, 0, 0]])
    np.testing.assert_allclose(rb.epsilon_greedy_policy(q, 1.0), [[0.25] * 4])


@pytest.mark.parametrize("kwargs, match", [
    (dict(R_next=np.ones((2, 1, 3))), r"R_next must have shape \(2, 1, 2\)"),
    (dict(reward_std=-np.ones((2, 1))), r"reward_std\[0, 0\] is -1, expected a standard deviation >= 0"),
    (dict(allowed=np.array([[False], [True]])), r"allowed\[0, :\] is all False"),
    (dict(allowed=np.array([[2], [1]])), r"allowed\[0, 0\] is 2, expected a boolean"),
    (dict(allowed=np.ones((2, 2), bool)), r"allowed must have shape \(2, 1\)"),
])
def test_bad_law_or_mask(kwargs, match):
    P = np.full((2, 1, 2), 0.5)
    with pytest.raises(ValueError, match=match):
        rb.FiniteMDP(P, np.zeros((2, 1)), 0.9, **kwargs)


def test_inconsistent_R_and_law_and_missing_R():
    P = np.full((2, 1, 2), 0.5)
    R_next = np.array([[[0.0, 2.0]], [[0.0, 0.0]]])
    with pytest.raises(ValueError, match=r"R\[0, 0\] is 0 but sum_s' P\[0, 0, s'\] R_next\[0, 0, s'\] is 1"):
        rb.FiniteMDP(P, np.zeros((2, 1)), 0.9, R_next=R_next)
    with pytest.raises(ValueError, match="R is None"):
        rb.FiniteMDP(P, None, 0.9)


def test_terminal_state_noise_refused():
    P = np.zeros((2, 1, 2))
    P[:, 0, 1] = 1.0
    with pytest.raises(ValueError, match=r"reward_std\[1, 0\] is 1 but state 1 is terminal"):
        rb.FiniteMDP(P, np.zeros((2, 1)), 0.9, terminal=[False, True], reward_std=np.ones((2, 1)))


def test_step_bad_indices():
    mdp = _two_outcome_mdp()
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match=r"s\[1\] is 3, expected an index in \[0, 2\]"):
        mdp.step(np.array([0, 3]), np.array([0, 0]), rng)
    with pytest.raises(ValueError, match=r"a\[0\] is -1"):
        mdp.step(np.array([0]), np.array([-1]), rng)
    with pytest.raises(ValueError, match="integer"):
        mdp.step(np.array([0.0]), np.array([0]), rng)
    with pytest.raises(ValueError, match="same shape"):
        mdp.step(np.array([0, 1]), np.array([0]), rng)
    with pytest.raises(TypeError, match="Generator"):
        mdp.step(0, 0, 0.5)
    with pytest.raises(ValueError, match=r"s_next\[0\] is 5"):
        mdp.sample_rewards(np.array([0]), np.array([0]), np.array([5]), rng)


def test_epsilon_out_of_range():
    with pytest.raises(ValueError, match=r"epsilon is 1.5, expected an exploration rate in \[0, 1\]"):
        rb.epsilon_greedy_policy(np.zeros((2, 2)), 1.5)
    with pytest.raises(ValueError, match=r"allowed\[1, :\] is all False"):
        rb.uniform_policy(2, 2, np.array([[True, False], [False, False]]))
