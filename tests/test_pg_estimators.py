"""Tests of rlbook.pg_estimators: exact expectations by enumeration, Monte Carlo
unbiasedness within standard errors, off-policy identities, error paths."""
import numpy as np
import pytest

import rlbook as rb

GAMMA = 0.9


def _layered(seed, gamma=GAMMA):
    mdp = rb.random_layered_mdp(3, 2, 2, gamma=gamma, seed=seed)
    rng = np.random.default_rng(seed)
    theta = rng.normal(size=(mdp.n_states, 2))
    beta = rb.softmax_policy(rng.normal(size=(mdp.n_states, 2)))
    rho0 = np.zeros(mdp.n_states)
    rho0[:2] = [0.3, 0.7]
    return mdp, theta, beta, rho0


def _expect(est, probs):
    return np.tensordot(probs, est.per_episode, axes=1)


def test_enumeration_probabilities_and_objective():
    mdp, theta, _, rho0 = _layered(0)
    pi = rb.softmax_policy(theta)
    traj, p = rb.enumerate_trajectories(mdp, pi, 3, rho0)
    assert p.sum() == pytest.approx(1.0)
    G0 = traj.rewards @ GAMMA ** np.arange(3)
    assert p @ G0 == pytest.approx(rb.policy_objective(mdp, pi, rho0), abs=1e-12)


@pytest.mark.parametrize("seed", range(3))
def test_on_policy_estimators_have_the_exact_gradient_as_expectation(seed):
    mdp, theta, _, rho0 = _layered(seed)
    exact = rb.exact_policy_gradient(mdp, theta, rho0)
    traj, p = rb.enumerate_trajectories(mdp, rb.softmax_policy(theta), 3, rho0)
    b = np.random.default_rng(seed).normal(size=mdp.n_states)
    for est in (rb.reinforce_estimate(theta, traj, GAMMA, keep_per_episode=True),
                rb.reward_to_go_estimate(theta, traj, GAMMA, keep_per_episode=True),
                rb.reward_to_go_estimate(theta, traj, GAMMA, baseline=b, keep_per_episode=True),
                rb.reward_to_go_estimate(theta, traj, GAMMA, baseline=2.5, keep_per_episode=True)):
        np.testing.assert_allclose(_expect(est, p), exact, atol=1e-12)
    # without gamma^t the expectation is something else
    wrong = rb.reward_to_go_estimate(theta, traj, GAMMA, discount_steps=False, keep_per_episode=True)
    assert np.abs(_expect(wrong, p) - exact).max() > 1e-3


@pytest.mark.parametrize("seed", range(3))
def test_off_policy_estimators_exact_expectation(seed):
    mdp, theta, beta, rho0 = _layered(seed)
    exact = rb.exact_policy_gradient(mdp, theta, rho0)
    traj, p = rb.enumerate_trajectories(mdp, beta, 3, rho0)
    b = np.random.default_rng(seed).normal(size=mdp.n_states)
    for w in ("per-decision", "trajectory"):
        est = rb.off_policy_estimate(theta, traj, beta, GAMMA, weights=w, baseline=b, keep_per_episode=True)
        np.testing.assert_allclose(_expect(est, p), exact, atol=1e-12)
    one = rb.off_policy_estimate(theta, traj, beta, GAMMA, weights="one-step", keep_per_episode=True)
    exc = rb.excursion_gradient(mdp, theta, beta, rho0)
    np.testing.assert_allclose(_expect(one, p), exc, atol=1e-12)
    assert np.abs(exc - exact).max() > 1e-3
    q = rb.q_from_v(mdp, rb.evaluate_policy(mdp, rb.softmax_policy(theta)))
    one_q = rb.off_policy_estimate(theta, traj, beta, GAMMA, weights="one-step", q=q, keep_per_episode=True)
    np.testing.assert_allclose(_expect(one_q, p), exc, atol=1e-12)


def test_off_policy_with_beta_equal_pi_is_the_on_policy_estimate():
    mdp, theta, _, rho0 = _layered(1)
    pi = rb.softmax_policy(theta)
    traj = rb.sample_trajectories(mdp, pi, 300, 3, np.random.default_rng(0), rho0=rho0)
    on = rb.reward_to_go_estimate(theta, traj, GAMMA, keep_per_episode=True)
    for w in ("per-decision", "trajectory", "one-step"):
        off = rb.off_policy_estimate(theta, traj, pi, GAMMA, weights=w, keep_per_episode=True)
        np.testing.assert_allclose(off.per_episode, on.per_episode, atol=1e-12)
        np.testing.assert_allclose(off.stderr, on.stderr, atol=1e-12)


def test_linear_softmax_estimators_match_exact_expectation():
    mdp, _, beta, rho0 = _layered(2)
    rng = np.random.default_rng(5)
    phi = rng.normal(size=(mdp.n_states, 2, 3))
    w = rng.normal(size=3)
    exact = rb.exact_linear_policy_gradient(mdp, w, rho0, phi)
    traj, p = rb.enumerate_trajectories(mdp, rb.linear_softmax_policy(w, phi), 3, rho0)
    est = rb.reward_to_go_estimate(w, traj, GAMMA, phi=phi, keep_per_episode=True)
    np.testing.assert_allclose(_expect(est, p), exact, atol=1e-12)
    tb, pb = rb.enumerate_trajectories(mdp, beta, 3, rho0)
    off = rb.off_policy_estimate(w, tb, beta, GAMMA, phi=phi, keep_per_episode=True)
    np.testing.assert_allclose(_expect(off, pb), exact, atol=1e-12)


def test_monte_carlo_on_grid_world_is_unbiased_within_standard_errors():
    mdp = rb.GridWorld().to_mdp(gamma=0.8)
    S = mdp.n_states
    rng = np.random.default_rng(0)
    theta = 0.5 * rng.normal(size=(S, 5))
    rho0 = np.full(S, 1 / S)
    exact = rb.exact_policy_gradient(mdp, theta, rho0)
    traj = rb.sample_trajectories(mdp, rb.softmax_policy(theta), 3000, 80, np.random.default_rng(1), rho0=rho0)
    for est in (rb.reinforce_estimate(theta, traj, 0.8), rb.reward_to_go_estimate(theta, traj, 0.8)):
        assert est.max_abs_z(exact) < 5
        assert est.n_episodes == 3000 and est.per_episode is None
    wrong = rb.reward_to_go_estimate(theta, traj, 0.8, discount_steps=False)
    assert wrong.max_abs_z(exact) > 10
    # reward-to-go has lower variance than the trajectory form
    assert rb.reward_to_go_estimate(theta, traj, 0.8).total_variance < rb.reinforce_estimate(theta, traj, 0.8).total_variance


def test_off_policy_monte_carlo_is_unbiased_within_standard_errors():
    mdp, theta, beta, rho0 = _layered(4)
    exact = rb.exact_policy_gradient(mdp, theta, rho0)
    traj = rb.sample_trajectories(mdp, beta, 20000, 3, np.random.default_rng(2), rho0=rho0)
    for w in ("per-decision", "trajectory"):
        assert rb.off_policy_estimate(theta, traj, beta, GAMMA, weights=w).max_abs_z(exact) < 5


def test_optimal_baseline_minimises_exact_one_step_variance():
    rng = np.random.default_rng(0)
    pi = rng.dirichlet(np.ones(4) * 0.5, size=6)
    q = rng.normal(size=(6, 4)) * 3
    b_star = rb.optimal_baseline(pi, q)

    def var(s, b):
        g = np.eye(4) - pi[s]  # score rows for each action
        x = (q[s] - b)[:, None] * g
        m = pi[s] @ x
        return pi[s] @ (x**2).sum(axis=1) - m @ m

    for s in range(6):
        v_s = pi[s] @ q[s]
        assert var(s, b_star[s]) <= var(s, v_s) + 1e-12
        for db in (-0.1, 0.1):
            assert var(s, b_star[s]) < var(s, b_star[s] + db)


def test_z_scores_and_total_variance():
    est = rb.GradientEstimate(np.array([1.0, 2.0]), np.array([0.5, 0.0]), 4)
    np.testing.assert_allclose(est.z_scores([0.0, 2.0]), [2.0, 0.0])
    assert est.max_abs_z([0.0, 1.0]) == np.inf
    assert est.total_variance == pytest.approx(1.0)
    with pytest.raises(ValueError, match="exact has shape"):
        est.z_scores([1.0])


def test_tabular_reinforce_improves_the_objective():
    g = rb.GridWorld(gamma=0.8)
    mdp = g.to_mdp()
    rho0 = np.full(mdp.n_states, 1 / mdp.n_states)
    cfg = rb.TabularReinforceConfig(n_iterations=40, n_episodes=16, horizon=40, learning_rate=2.0)
    res = rb.train_reinforce_tabular(mdp, rho0, cfg)
    assert res.objective.shape == (41,) and res.mean_return.shape == (40,)
    assert res.objective[-1] > res.objective[0] + 1.0
    res2 = rb.train_reinforce_tabular(mdp, rho0, cfg)
    np.testing.assert_array_equal(res.theta, res2.theta)


# -- error paths ------------------------------------------------------------------

def test_errors():
    mdp, theta, beta, rho0 = _layered(0)
    pi = rb.softmax_policy(theta)
    traj = rb.sample_trajectories(mdp, beta, 5, 3, np.random.default_rng(0), rho0=rho0)
    zero = beta.copy()
    zero[0] = [1.0, 0.0]
    with pytest.raises(ValueError, match=r"beta\[0, 1\] is 0 .*importance weight pi/beta is undefined"):
        rb.off_policy_estimate(theta, traj, zero, GAMMA)
    with pytest.raises(ValueError, match="importance weight"):
        rb.excursion_gradient(mdp, theta, zero, rho0)
    with pytest.raises(ValueError, match=r"beta must have shape"):
        rb.off_policy_estimate(theta, traj, beta[:, :1], GAMMA)
    with pytest.raises(ValueError, match="weights is 'bogus'"):
        rb.off_policy_estimate(theta, traj, beta, GAMMA, weights="bogus")
    with pytest.raises(ValueError, match=r"traj.states\[.*expected a state in \[0, 2\]"):
        rb.reward_to_go_estimate(np.zeros((3, 2)), traj, GAMMA)
    with pytest.raises(ValueError, match=r"traj.actions\[.*expected an action in \[0, 0\]"):
        rb.reinforce_estimate(np.zeros((mdp.n_states, 1)), traj, GAMMA)
    with pytest.raises(TypeError, match="traj must be rlbook.Trajectories"):
        rb.reinforce_estimate(theta, (1, 2), GAMMA)
    with pytest.raises(ValueError, match="gamma is 1.5"):
        rb.reinforce_estimate(theta, traj, 1.5)
    with pytest.raises(ValueError, match=r"baseline must be a number or have shape \(7,\)"):
        rb.reward_to_go_estimate(theta, traj, GAMMA, baseline=np.zeros(3))
    with pytest.raises(ValueError, match=r"q must have shape \(7, 2\)"):
        rb.off_policy_estimate(theta, traj, beta, GAMMA, weights="one-step", q=np.zeros((2, 2)))
    with pytest.raises(ValueError, match="theta has shape"):
        rb.reward_to_go_estimate(np.zeros(3), traj, GAMMA, phi=np.zeros((7, 2, 4)))
    with pytest.raises(ValueError, match="rho0 sums to"):
        rb.enumerate_trajectories(mdp, pi, 3, rho0 * 0.5)
    with pytest.raises(ValueError, match="max_paths"):
        rb.enumerate_trajectories(mdp, pi, 3, rho0, max_paths=10)
    with pytest.raises(ValueError, match="rho0 sums to"):
        rb.excursion_gradient(mdp, theta, beta, rho0 + 1)
    with pytest.raises(ValueError, match="expected 'none' or 'value'"):
        rb.train_reinforce_tabular(mdp, rho0, rb.TabularReinforceConfig(baseline="mean"))
    with pytest.raises(TypeError, match="config must be a TabularReinforceConfig"):
        rb.train_reinforce_tabular(mdp, rho0, {"n_iterations": 3})
    with pytest.raises(ValueError, match=r"pi\[0, :\] sums to"):
        rb.optimal_baseline(np.ones((2, 2)), np.zeros((2, 2)))


def test_more_error_paths():
    mdp, theta, _, rho0 = _layered(0)
    with pytest.raises(ValueError, match="max_paths is 0"):
        rb.enumerate_trajectories(mdp, rb.softmax_policy(theta), 3, rho0, max_paths=0)
    with pytest.raises(ValueError, match="n_layers is 0"):
        rb.random_layered_mdp(0, 2, 2)
    with pytest.raises(ValueError, match="config.n_episodes is 1"):
        rb.train_reinforce_tabular(mdp, rho0, rb.TabularReinforceConfig(n_episodes=1))
    with pytest.raises(ValueError, match="config.learning_rate is 0"):
        rb.train_reinforce_tabular(mdp, rho0, rb.TabularReinforceConfig(learning_rate=0.0))
    with pytest.raises(ValueError, match=r"theta0 must have shape \(7, 2\)"):
        rb.train_reinforce_tabular(mdp, rho0, rb.TabularReinforceConfig(n_iterations=1), theta0=np.zeros((2, 2)))


def test_excursion_gradient_is_not_the_gradient_of_the_excursion_objective():
    # Degris et al.'s approximation drops sum_s eta_beta(s) sum_a pi grad q
    mdp, theta, beta, rho0 = _layered(1)
    eta_b = rb.discounted_visitation(mdp, beta, rho0)
    exc = rb.excursion_gradient(mdp, theta, beta, rho0)
    true = eta_b.sum() * rb.exact_policy_gradient(mdp, theta, eta_b / eta_b.sum())
    assert np.abs(exc - true).max() > 1e-3
    pi = rb.softmax_policy(theta)
    np.testing.assert_allclose(rb.excursion_gradient(mdp, theta, pi, rho0),
                               rb.exact_policy_gradient(mdp, theta, rho0), atol=1e-12)


@pytest.mark.parametrize("discount", [True, False])
def test_finite_horizon_gradient_is_the_exact_expectation(discount):
    for mdp in (rb.random_layered_mdp(3, 2, 2, gamma=0.9, seed=0), rb.random_mdp(2, 2, 0.8, seed=1)):
        S = mdp.n_states
        theta = np.random.default_rng(0).normal(size=(S, 2))
        rho0 = np.full(S, 1 / S)
        traj, p = rb.enumerate_trajectories(mdp, rb.softmax_policy(theta), 4, rho0)
        est = rb.reward_to_go_estimate(theta, traj, mdp.gamma, discount_steps=discount, keep_per_episode=True)
        np.testing.assert_allclose(_expect(est, p), rb.finite_horizon_gradient(mdp, theta, rho0, 4, discount),
                                   atol=1e-12)


def test_finite_horizon_gradient_tends_to_exact_within_the_bound():
    mdp = rb.GridWorld().to_mdp()
    theta = 0.5 * np.random.default_rng(0).normal(size=(25, 5))
    rho0 = np.full(25, 1 / 25)
    exact = rb.exact_policy_gradient(mdp, theta, rho0)
    for T in (20, 60):
        err = np.abs(rb.finite_horizon_gradient(mdp, theta, rho0, T) - exact).max()
        assert err <= 0.9**T * 1.0 * (T + 1 / 0.1) / 0.1
    with pytest.raises(ValueError, match="horizon is 0"):
        rb.finite_horizon_gradient(mdp, theta, rho0, 0)
