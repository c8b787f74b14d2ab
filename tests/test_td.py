"""TD learners of Chapter 7 (rlbook.model_free.td) and the examples they run on."""
import numpy as np
import pytest

import rlbook as rb
from rlbook.examples.maximization_bias import LEFT, RIGHT

LEARNERS = [rb.sarsa, rb.expected_sarsa, rb.q_learning, rb.double_q_learning]


def chain_mdp(gamma=0.9):
    """Three live states in a row and a terminal state: action 0 goes right (reward 1 on
    reaching the end), action 1 stays (reward 0)."""
    S, A = 4, 2
    P = np.zeros((S, A, S))
    R = np.zeros((S, A))
    for s in range(3):
        P[s, 0, s + 1] = 1.0
        P[s, 1, s] = 1.0
    R[2, 0] = 1.0
    P[3, :, 3] = 1.0
    return rb.FiniteMDP(P, R, gamma, np.array([False, False, False, True]))


# -- examples ------------------------------------------------------------------------------
def test_random_walk_values_are_example_6_2():
    mdp = rb.random_walk()
    v = rb.evaluate_policy(mdp, np.ones((7, 1)))
    np.testing.assert_allclose(v[1:6], np.arange(1, 6) / 6, atol=1e-12)
    np.testing.assert_allclose(v, rb.random_walk_values(), atol=1e-12)
    m19 = rb.random_walk(19, left_reward=-1.0)
    np.testing.assert_allclose(rb.evaluate_policy(m19, np.ones((21, 1))),
                               rb.random_walk_values(19, left_reward=-1.0), atol=1e-10)
    # the reward law pays 1 on entering the right end, never the mean 0.5
    s2, r = mdp.step(np.full(1000, 5), np.zeros(1000, dtype=int), np.random.default_rng(0))
    assert set(np.unique(r)) == {0.0, 1.0}
    np.testing.assert_array_equal(r == 1.0, s2 == 6)


def test_random_walk_bad_input():
    with pytest.raises(ValueError, match="left_reward"):
        rb.random_walk(5, left_reward=float("nan"))
    with pytest.raises(ValueError, match="n_states is 0"):
        rb.random_walk(0)


def test_cliff_walking_equals_gymnasium():
    gym = pytest.importorskip("gymnasium")
    mine = rb.cliff_walking()
    theirs = rb.FiniteMDP.from_gymnasium(gym.make("CliffWalking-v1"), 1.0)
    np.testing.assert_array_equal(mine.P, theirs.P)
    np.testing.assert_array_equal(mine.R, theirs.R)
    np.testing.assert_array_equal(mine.terminal, theirs.terminal)


def test_cliff_walking_optimal_path():
    mdp = rb.cliff_walking()
    v = rb.value_iteration(mdp, tol=1e-10).v
    assert v[rb.CLIFF_START] == pytest.approx(-13.0)      # up, 11 x right, down
    assert v[rb.CLIFF_GOAL] == 0.0


def test_maximization_bias_mdp():
    mdp = rb.maximization_bias_mdp()
    assert mdp.n_actions == 10
    np.testing.assert_array_equal(mdp.allowed[0], [True, True] + [False] * 8)
    assert mdp.allowed[1].all()
    q = rb.value_iteration(mdp).q
    assert q[0, LEFT] == pytest.approx(-0.1) and q[0, RIGHT] == 0.0
    s2, r = mdp.step(np.ones(20_000, dtype=int), np.zeros(20_000, dtype=int),
                     np.random.default_rng(1))
    assert (s2 == 2).all()
    assert abs(r.mean() + 0.1) < 5 / np.sqrt(20_000) and abs(r.std() - 1) < 0.03
    assert rb.maximization_bias_mdp(1).n_actions == 2
    with pytest.raises(ValueError, match="std_b"):
        rb.maximization_bias_mdp(std_b=-1.0)
    with pytest.raises(ValueError, match="n_actions_b is 0"):
        rb.maximization_bias_mdp(0)


# -- outputs and conventions ---------------------------------------------------------------
@pytest.mark.parametrize("learner", LEARNERS + [rb.n_step_sarsa])
def test_control_shapes_with_and_without_runs(learner):
    mdp = chain_mdp()
    kw = dict(n=2) if learner is rb.n_step_sarsa else {}
    one = learner(mdp, 5, alpha=0.5, epsilon=0.2, rng=0, s0=0, **kw)
    assert one.q.shape == (4, 2) and one.episode_returns.shape == (5,)
    assert one.episode_lengths.shape == (5,) and one.visits.shape == (4, 2)
    many = learner(mdp, 5, alpha=0.5, epsilon=0.2, rng=0, s0=0, n_runs=3, record=True, **kw)
    assert many.q.shape == (3, 4, 2) and many.episode_returns.shape == (3, 5)
    assert many.history.shape == (3, 6, 4, 2)
    np.testing.assert_array_equal(many.history[:, -1], many.q)
    # every episode reaches the end: its undiscounted return is the single reward 1
    np.testing.assert_array_equal(many.episode_returns, 1.0)
    assert (many.episode_lengths >= 3).all() and not many.truncated.any()
    assert (many.q[:, 3] == 0).all()                       # terminal row stays 0
    # each step updates one pair: visits count the steps
    np.testing.assert_array_equal(many.visits.sum(axis=(1, 2)), many.episode_lengths.sum(axis=1))
    with pytest.raises(Exception):
        many.q = None                                      # frozen result


def test_same_seed_same_result_and_runs_differ():
    mdp = chain_mdp()
    a = rb.q_learning(mdp, 20, alpha=0.3, epsilon=0.5, rng=3, s0=0, n_runs=4)
    b = rb.q_learning(mdp, 20, alpha=0.3, epsilon=0.5, rng=np.random.default_rng(3), s0=0,
                      n_runs=4)
    np.testing.assert_array_equal(a.q, b.q)
    assert not np.array_equal(a.episode_lengths[0], a.episode_lengths[1])


def test_n_step_sarsa_with_n_1_is_sarsa():
    mdp = rb.cliff_walking()
    a = rb.sarsa(mdp, 10, alpha=0.5, epsilon=0.1, rng=5, s0=rb.CLIFF_START, n_runs=7)
    b = rb.n_step_sarsa(mdp, 10, n=1, alpha=0.5, epsilon=0.1, rng=5, s0=rb.CLIFF_START,
                        n_runs=7)
    np.testing.assert_array_equal(a.q, b.q)
    np.testing.assert_array_equal(a.episode_returns, b.episode_returns)


def test_n_step_sarsa_with_long_n_is_monte_carlo_on_a_deterministic_chain():
    # under a fixed policy that always moves right, each pair's n-step return with
    # n >= episode length is the discounted reward to the end; alpha = 1 copies it
    mdp = chain_mdp(gamma=0.5)
    pi = np.tile([1.0, 0.0], (4, 1))
    res = rb.n_step_sarsa(mdp, 1, n=5, alpha=1.0, rng=0, s0=0, pi=pi)
    np.testing.assert_allclose(res.q[:3, 0], [0.25, 0.5, 1.0])


# -- limits --------------------------------------------------------------------------------
def test_q_learning_alpha_1_on_a_deterministic_mdp_reaches_q_star_exactly():
    mdp = rb.sutton_barto_small_gridworld()
    q_star = rb.value_iteration(mdp, tol=1e-12).q
    beta = np.full((16, 4), 0.25)
    # uniform behaviour from uniform start states; alpha = 1 makes each update an exact
    # Bellman optimality backup of one pair, so the values reach q* exactly
    res = rb.q_learning(mdp, 400, alpha=1.0, rng=0, beta=beta)
    np.testing.assert_allclose(res.q, q_star, atol=1e-12)


def test_td0_random_walk_averages_to_true_values():
    mdp = rb.random_walk()
    res = rb.td0_prediction(mdp, 300, pi=np.ones((7, 1)), alpha=0.05, rng=1,
                            s0=rb.RANDOM_WALK_START, n_runs=200, v0=0.5)
    mean = res.v.mean(axis=0)[1:6]
    se = res.v.std(axis=0)[1:6] / np.sqrt(200)
    # constant alpha along trajectories: a small O(alpha) bias besides the noise
    assert np.all(np.abs(mean - np.arange(1, 6) / 6) < 5 * se + 0.01)


def test_constant_alpha_mc_alpha_1_copies_the_last_return():
    mdp = rb.random_walk()
    res = rb.constant_alpha_mc(mdp, 1, pi=np.ones((7, 1)), alpha=1.0, rng=2, s0=3,
                               record=True)
    # gamma = 1 and one reward at the end: every visited state gets the final reward
    G = res.episode_returns[0]
    visited = res.visits > 0
    np.testing.assert_array_equal(res.v[visited], G)
    np.testing.assert_array_equal(res.history[0], 0.0)


@pytest.mark.parametrize("learner", [rb.sarsa, rb.expected_sarsa])
def test_policy_evaluation_mode_estimates_q_pi(learner):
    mdp = chain_mdp(gamma=0.8)
    pi = np.tile([0.7, 0.3], (4, 1))
    q_pi = rb.q_from_v(mdp, rb.evaluate_policy(mdp, pi))
    res = learner(mdp, 400, alpha=lambda n: 1.0 / n ** 0.7, rng=4, s0=0, pi=pi, n_runs=40)
    mean, se = res.q.mean(axis=0), res.q.std(axis=0) / np.sqrt(40)
    assert np.all(np.abs(mean - q_pi)[:3] < 5 * se[:3] + 0.02)


def test_double_q_learning_tables_and_mean():
    mdp = rb.maximization_bias_mdp()
    res = rb.double_q_learning(mdp, 50, alpha=0.1, epsilon=0.1, rng=0, s0=0, n_runs=5)
    q1, q2 = res.q_pair
    np.testing.assert_allclose(res.q, (q1 + q2) / 2)
    # disallowed actions in A are never taken or updated
    assert (res.visits[:, 0, 2:] == 0).all()


def test_maximization_bias_q_learning_prefers_left_early_double_q_does_not():
    mdp = rb.maximization_bias_mdp()
    kw = dict(alpha=0.1, epsilon=0.1, rng=0, s0=0, n_runs=300)
    q = rb.q_learning(mdp, 300, **kw)
    dq = rb.double_q_learning(mdp, 300, **kw)
    left_q = (q.episode_lengths == 2).mean(axis=0)       # left takes two steps
    left_dq = (dq.episode_lengths == 2).mean(axis=0)
    assert left_q[10:30].mean() > 0.7 > left_dq[10:30].mean()
    assert left_dq[250:].mean() < 0.1


# -- batch methods -------------------------------------------------------------------------
def example_6_3():
    A, B, T = 0, 1, 2
    return [([A, B, T], [0.0, 0.0])] + [([B, T], [1.0])] * 6 + [([B, T], [0.0])]


def test_batch_td_and_mc_example_6_3():
    v_td = rb.batch_td0(example_6_3(), 3, alpha=0.05)
    v_mc = rb.batch_mc(example_6_3(), 3)
    np.testing.assert_allclose(v_td[:2], [0.75, 0.75], atol=1e-9)
    np.testing.assert_allclose(v_mc[:2], [0.0, 0.75])


def test_batch_errors():
    with pytest.raises(ValueError, match="one more state than rewards"):
        rb.batch_td0([([0, 1], [0.0, 1.0])], 2)
    with pytest.raises(ValueError, match=r"states\[1\] is 5"):
        rb.batch_mc([([0, 5], [0.0])], 2)
    with pytest.raises(ValueError, match="empty"):
        rb.batch_mc([], 2)
    with pytest.raises(ValueError, match="did not converge"):
        rb.batch_td0(example_6_3(), 3, alpha=0.01, max_iter=3)
    with pytest.raises(ValueError, match=r"episodes\[0\] must be a pair"):
        rb.batch_mc([5], 2)


# -- bad input -----------------------------------------------------------------------------
@pytest.mark.parametrize("alpha", [0.0, -0.1, 1.5, float("nan")])
def test_alpha_outside_unit_interval(alpha):
    with pytest.raises(ValueError, match=r"alpha is .*expected a step size in \(0, 1\]"):
        rb.sarsa(chain_mdp(), 2, alpha=alpha, rng=0, s0=0)


def test_alpha_wrong_type():
    with pytest.raises(TypeError, match="alpha must be"):
        rb.q_learning(chain_mdp(), 2, alpha="0.1", rng=0, s0=0)


def test_alpha_schedule_not_positive():
    with pytest.raises(ValueError, match=r"alpha\(n\) is 0.0 at visit count n = 100"):
        rb.td0_prediction(chain_mdp(), 2, pi=np.full((4, 2), 0.5), alpha=lambda n: 1 - n / 100,
                          rng=0, s0=0)
    with pytest.raises(ValueError, match="must act elementwise"):
        rb.sarsa(chain_mdp(), 2, alpha=lambda n: 0.1, rng=0, s0=0)
    with pytest.raises(ValueError, match="the schedule raised"):
        rb.sarsa(chain_mdp(), 2, alpha=lambda n: 1 / undefined_name, rng=0, s0=0)  # noqa: F821


@pytest.mark.parametrize("epsilon", [-0.01, 1.01, float("inf")])
@pytest.mark.parametrize("learner", LEARNERS + [rb.n_step_sarsa])
def test_epsilon_outside_unit_interval(learner, epsilon):
    kw = dict(n=2) if learner is rb.n_step_sarsa else {}
    with pytest.raises(ValueError, match=r"epsilon is .*expected an exploration rate in \[0, 1\]"):
        learner(chain_mdp(), 2, alpha=0.1, epsilon=epsilon, rng=0, s0=0, **kw)


@pytest.mark.parametrize("n", [0, -3])
def test_n_below_one(n):
    with pytest.raises(ValueError, match=f"n is {n}, expected an integer >= 1"):
        rb.n_step_sarsa(chain_mdp(), 2, n=n, alpha=0.1, rng=0, s0=0)


@pytest.mark.parametrize("learner", LEARNERS + [rb.n_step_sarsa])
def test_episode_cap_is_reported_not_a_hang(learner):
    # a greedy learner with q0 favouring "stay" never leaves state 0
    mdp = chain_mdp()
    q0 = np.tile([0.0, 1.0], (4, 1))
    kw = dict(n=3) if learner is rb.n_step_sarsa else {}
    with pytest.raises(ValueError, match=r"episode 0 of run 0 reached max_steps = 50 before a "
                                         r"terminal state"):
        learner(mdp, 3, alpha=0.1, epsilon=0.0, rng=0, s0=0, q0=q0, max_steps=50, **kw)
    res = learner(mdp, 3, alpha=0.01, epsilon=0.0, rng=0, s0=0, q0=q0, max_steps=50,
                  truncate="report", n_runs=2, **kw)
    assert res.truncated.all() and (res.episode_lengths == 50).all()
    with pytest.raises(ValueError, match="truncate is 'ignore'"):
        learner(mdp, 3, alpha=0.1, rng=0, s0=0, truncate="ignore", **kw)


def test_td0_cap_and_truncation_bootstraps():
    mdp = rb.GridWorld().to_mdp()                          # continuing: no terminal state
    pi = rb.uniform_policy(25, 5)
    with pytest.raises(ValueError, match="reached max_steps = 10"):
        rb.td0_prediction(mdp, 2, pi=pi, alpha=0.1, rng=0, max_steps=10)
    res = rb.td0_prediction(mdp, 2, pi=pi, alpha=0.1, rng=0, max_steps=10, truncate="report")
    assert res.truncated.all() and res.visits.sum() == 20


@pytest.mark.parametrize("learner", LEARNERS)
def test_bad_start_state(learner):
    mdp = chain_mdp()
    with pytest.raises(ValueError, match="s0 is 3, a terminal state"):
        learner(mdp, 2, alpha=0.1, rng=0, s0=3)
    with pytest.raises(ValueError, match=r"s0 is 7, expected a state in \[0, 3\]"):
        learner(mdp, 2, alpha=0.1, rng=0, s0=7)
    with pytest.raises(ValueError, match=r"s0 is -1"):
        learner(mdp, 2, alpha=0.1, rng=0, s0=-1)
    with pytest.raises(TypeError, match="s0 must be an integer"):
        learner(mdp, 2, alpha=0.1, rng=0, s0=1.5)
    with pytest.raises(ValueError, match="give rho0 or s0, not both"):
        learner(mdp, 2, alpha=0.1, rng=0, s0=0, rho0=np.full(4, 0.25))
    with pytest.raises(ValueError, match=r"rho0\[3\] is 0.25 but state 3 is terminal"):
        learner(mdp, 2, alpha=0.1, rng=0, rho0=np.full(4, 0.25))


def test_other_bad_input():
    mdp = chain_mdp()
    with pytest.raises(TypeError, match="rng must be"):
        rb.sarsa(mdp, 2, alpha=0.1, rng="seed", s0=0)
    with pytest.raises(ValueError, match="n_episodes is 0"):
        rb.sarsa(mdp, 0, alpha=0.1, rng=0, s0=0)
    with pytest.raises(ValueError, match="n_runs is 0"):
        rb.sarsa(mdp, 2, alpha=0.1, rng=0, s0=0, n_runs=0)
    with pytest.raises(ValueError, match=r"q0 must have shape \(4, 2\)"):
        rb.sarsa(mdp, 2, alpha=0.1, rng=0, s0=0, q0=np.zeros(3))
    with pytest.raises(ValueError, match=r"pi\[0, :\] sums to"):
        rb.sarsa(mdp, 2, alpha=0.1, rng=0, s0=0, pi=np.full((4, 2), 0.3))
    with pytest.raises(TypeError, match="FiniteMDP"):
        rb.q_learning(mdp.P, 2, alpha=0.1, rng=0, s0=0)
    bias = rb.maximization_bias_mdp()
    beta = np.full((3, 10), 0.1)
    with pytest.raises(ValueError, match=r"beta\[0, 2\] is 0.1 but action 2 is not allowed"):
        rb.q_learning(bias, 2, alpha=0.1, rng=0, s0=0, beta=beta)


def test_progress_bar(capsys):
    rb.td0_prediction(rb.random_walk(), 10, pi=np.ones((7, 1)), alpha=0.1, rng=0, s0=3,
                      n_runs=2, progress=True)
    out = capsys.readouterr().out
    assert "TD(0)" in out and "20/20" in out


def test_constant_alpha_mc_and_td0_record_and_batch_errors():
    mdp = rb.random_walk()
    res = rb.constant_alpha_mc(mdp, 5, pi=np.ones((7, 1)), alpha=0.1, rng=0, s0=3, n_runs=3,
                               record=True)
    assert res.history.shape == (3, 6, 7) and res.v.shape == (3, 7)
    np.testing.assert_array_equal(res.history[:, -1], res.v)
    with pytest.raises(ValueError, match=r"pi\[0, 2\] is 0.1 but action 2 is not allowed"):
        rb.td0_prediction(rb.maximization_bias_mdp(), 2, pi=np.full((3, 10), 0.1), alpha=0.1,
                          rng=0, s0=0)
