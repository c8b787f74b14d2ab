"""Tests of rlbook.policy_gradient: the tabular and linear softmax, the theorem
against finite differences, the Gaussian score, the objectives, the exercises."""
import numpy as np
import pytest

import rlbook as rb
from _numeric import central_difference as _fd_grad
from rlbook.exercises import ExerciseFailed


def _setup(seed, S=5, A=3, gamma=0.9):
    rng = np.random.default_rng(seed)
    mdp = rb.random_mdp(S, A, gamma, seed=seed)
    theta = rng.normal(size=(S, A))
    rho0 = rng.dirichlet(np.ones(S))
    return mdp, theta, rho0




@pytest.mark.parametrize("seed", range(4))
def test_exact_gradient_matches_finite_differences(seed):
    mdp, theta, rho0 = _setup(seed)
    J = lambda th: rb.policy_objective(mdp, rb.softmax_policy(th), rho0)
    np.testing.assert_allclose(rb.exact_policy_gradient(mdp, theta, rho0), _fd_grad(J, theta),
                               rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("seed", range(3))
def test_linear_softmax_gradient_matches_finite_differences(seed):
    mdp, _, rho0 = _setup(seed)
    rng = np.random.default_rng(100 + seed)
    phi = rng.normal(size=(mdp.n_states, mdp.n_actions, 4))
    w = rng.normal(size=4)
    J = lambda th: rb.policy_objective(mdp, rb.linear_softmax_policy(th, phi), rho0)
    np.testing.assert_allclose(rb.exact_linear_policy_gradient(mdp, w, rho0, phi), _fd_grad(J, w),
                               rtol=1e-6, atol=1e-7)


def test_linear_with_tabular_features_is_tabular():
    mdp, theta, rho0 = _setup(7)
    phi = rb.tabular_features(mdp.n_states, mdp.n_actions)
    np.testing.assert_allclose(rb.linear_softmax_policy(theta.ravel(), phi), rb.softmax_policy(theta))
    np.testing.assert_allclose(rb.exact_linear_policy_gradient(mdp, theta.ravel(), rho0, phi),
                               rb.exact_policy_gradient(mdp, theta, rho0).ravel(), atol=1e-12)


def test_gradient_on_episodic_mdp_with_gamma_one():
    mdp = rb.random_layered_mdp(3, 2, 2, gamma=1.0, seed=3)
    rng = np.random.default_rng(3)
    theta = rng.normal(size=(mdp.n_states, 2))
    rho0 = np.zeros(mdp.n_states)
    rho0[:2] = 0.5
    J = lambda th: rb.policy_objective(mdp, rb.softmax_policy(th), rho0)
    np.testing.assert_allclose(rb.exact_policy_gradient(mdp, theta, rho0), _fd_grad(J, theta),
                               rtol=1e-6, atol=1e-7)


def test_softmax_score_matches_finite_differences_and_linear_form():
    rng = np.random.default_rng(0)
    theta = rng.normal(size=(3, 4))
    for s, a in [(0, 0), (2, 3), (1, 2)]:
        f = lambda th: np.log(rb.softmax_policy(th)[s, a])
        np.testing.assert_allclose(rb.softmax_score(theta, s, a), _fd_grad(f, theta), atol=1e-7)
    phi = rb.tabular_features(3, 4)
    sc = rb.linear_softmax_score(theta.ravel(), phi)
    np.testing.assert_allclose(sc[2, 3].reshape(3, 4), rb.softmax_score(theta, 2, 3), atol=1e-12)
    # E_pi[score] = 0 in every state
    pi = rb.softmax_policy(theta)
    np.testing.assert_allclose(np.einsum("sa,sad->sd", pi, sc), 0.0, atol=1e-12)


def test_gaussian_score_matches_finite_differences_and_has_mean_zero():
    a, mu, sd = 0.7, -0.2, 1.3
    h = 1e-6
    fd_mu = (rb.gaussian_log_prob(a, mu + h, sd) - rb.gaussian_log_prob(a, mu - h, sd)) / (2 * h)
    fd_sd = (rb.gaussian_log_prob(a, mu, sd + h) - rb.gaussian_log_prob(a, mu, sd - h)) / (2 * h)
    np.testing.assert_allclose(rb.gaussian_score(a, mu, sd), [fd_mu, fd_sd], rtol=1e-6)
    x = np.random.default_rng(0).normal(mu, sd, size=200_000)
    sc = rb.gaussian_score(x, mu, sd)
    se = sc.std(axis=1) / np.sqrt(x.size)
    assert np.all(np.abs(sc.mean(axis=1)) < 5 * se)


def test_average_reward_is_one_minus_gamma_times_average_value():
    for seed in range(3):
        mdp, theta, _ = _setup(seed, gamma=0.8)
        pi = rb.softmax_policy(theta)
        d = rb.stationary_distribution(mdp, pi)
        P_pi, _ = rb.policy_matrices(mdp, pi)
        np.testing.assert_allclose(d @ P_pi, d, atol=1e-12)
        assert rb.average_reward(mdp, pi) == pytest.approx((1 - 0.8) * rb.average_value(mdp, pi, d), abs=1e-12)


def test_visitation_sums_to_effective_horizon():
    mdp, theta, rho0 = _setup(1, gamma=0.75)
    eta = rb.discounted_visitation(mdp, rb.softmax_policy(theta), rho0)
    assert eta.sum() == pytest.approx(4.0)


# -- error paths ----------------------------------------------------------------

def test_errors():
    mdp, theta, rho0 = _setup(0)
    with pytest.raises(ValueError, match=r"theta must have shape \(5, 3\)"):
        rb.exact_policy_gradient(mdp, theta[:, :2], rho0)
    with pytest.raises(ValueError, match="rho0 sums to"):
        rb.exact_policy_gradient(mdp, theta, rho0 * 2)
    with pytest.raises(ValueError, match=r"rho0\[.*non-negative"):
        rb.policy_objective(mdp, rb.softmax_policy(theta), np.array([1.5, -0.5, 0, 0, 0]))
    with pytest.raises(ValueError, match="sums to"):
        rb.discounted_visitation(mdp, np.full((5, 3), 0.5), rho0)
    with pytest.raises(ValueError, match="theta has shape"):
        rb.linear_softmax_policy(np.zeros(3), np.zeros((2, 2, 4)))
    with pytest.raises(ValueError, match="phi must have 3"):
        rb.linear_softmax_score(np.zeros(3), np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"phi has shape .* for this MDP"):
        rb.exact_linear_policy_gradient(mdp, np.zeros(2), np.zeros((4, 3, 2)), rho0)
    with pytest.raises(ValueError, match="std.*expected a standard deviation > 0"):
        rb.gaussian_score(0.0, 0.0, -1.0)
    with pytest.raises(ValueError, match="do not broadcast"):
        rb.gaussian_log_prob(np.zeros(2), np.zeros(3), 1.0)
    with pytest.raises(ValueError, match="s is 7"):
        rb.softmax_score(theta, 7, 0)
    with pytest.raises(TypeError, match="a must be an integer"):
        rb.softmax_score(theta, 0, 1.5)
    P = np.zeros((2, 1, 2))
    P[0, 0, 0] = P[1, 0, 1] = 1.0
    two = rb.FiniteMDP(P, np.zeros((2, 1)), 0.9)
    with pytest.raises(ValueError, match="2 closed classes"):
        rb.stationary_distribution(two, np.ones((2, 1)))


def test_more_error_paths():
    with pytest.raises(ValueError, match="expected at least one action"):
        rb.softmax_policy(np.zeros((2, 0)))
    with pytest.raises(ValueError, match="n_states is 0"):
        rb.tabular_features(0, 2)
    with pytest.raises(ValueError, match=r"phi has shape \(0, 2, 3\), expected at least one state"):
        rb.linear_softmax_policy(np.zeros(3), np.zeros((0, 2, 3)))
    with pytest.raises(TypeError, match="s must be an integer"):
        rb.softmax_score(np.zeros((3, 2)), 1.0, 0)
    mdp, theta, _ = _setup(0)
    with pytest.raises(ValueError, match="d sums to"):
        rb.average_value(mdp, rb.softmax_policy(theta), np.full(5, 0.5))


# -- exercise checkers ------------------------------------------------------------

def test_exercise_checkers_accept_reference_and_reject_wrong_answers():
    ex = rb.exercises

    def rtg(theta, states, actions, rewards, gamma, discount=True):
        pi = rb.softmax_policy(theta)
        T = len(states)
        g = np.zeros_like(theta)
        G = rb.discounted_returns(rewards, gamma)
        for t in range(T):
            s, a = states[t], actions[t]
            w = (gamma**t if discount else 1.0) * G[t]
            g[s] -= w * pi[s]
            g[s, a] += w
        return g

    ex.check_reward_to_go_gradient(rtg)
    with pytest.raises(ExerciseFailed, match="reward-to-go"):
        ex.check_reward_to_go_gradient(lambda **k: rtg(**k, discount=False))

    ex.check_linear_softmax_score(rb.linear_softmax_score)
    with pytest.raises(ExerciseFailed, match="linear-softmax score"):
        ex.check_linear_softmax_score(lambda theta, phi: phi)

    ex.check_gaussian_score(rb.gaussian_score)
    with pytest.raises(ExerciseFailed, match="Gaussian score"):
        ex.check_gaussian_score(lambda a, mean, std: np.stack([(a - mean) / std**2, (a - mean) ** 2 / std**3]))

    ex.check_optimal_baseline(rb.optimal_baseline)
    with pytest.raises(ExerciseFailed, match="optimal baseline"):
        ex.check_optimal_baseline(lambda pi, q: (pi * q).sum(axis=1))


def test_phi_comes_last_and_the_old_order_still_works():
    # regression (API rule: phi after the problem data): both orders give the same gradient
    rng = np.random.default_rng(5)
    mdp = rb.random_mdp(4, 3, gamma=0.9, seed=5)
    phi = rng.standard_normal((4, 3, 2))
    w = rng.standard_normal(2)
    rho0 = np.full(4, 0.25)
    new = rb.exact_linear_policy_gradient(mdp, w, rho0, phi)
    old = rb.exact_linear_policy_gradient(mdp, w, phi, rho0)
    np.testing.assert_array_equal(new, old)
    np.testing.assert_allclose(new, rb.autograd_policy_gradient(mdp, w, rho0, phi=phi),
                               atol=1e-10)


def test_tabular_reinforce_takes_rng_as_generator_or_seed():
    mdp = rb.random_mdp(3, 2, gamma=0.9, seed=1)
    cfg = rb.TabularReinforceConfig(n_iterations=3, n_episodes=4, horizon=5)
    rho0 = np.full(3, 1 / 3)
    a = rb.train_reinforce_tabular(mdp, rho0, cfg, rng=7)
    b = rb.train_reinforce_tabular(mdp, rho0, cfg, rng=np.random.default_rng(7))
    np.testing.assert_array_equal(a.objective, b.objective)
    with pytest.raises(TypeError, match="rng"):
        rb.train_reinforce_tabular(mdp, rho0, cfg, rng="seven")


def test_new_pg_checkers_and_hints():
    from rlbook.exercises import pg_theorem as ex

    rb.exercises.check_coordinate_baseline(ex._coordinate_baseline)
    rb.exercises.check_masked_score(ex._masked_score)
    with pytest.raises(ExerciseFailed, match="scalar b"):
        rb.exercises.check_coordinate_baseline(
            lambda pi, q: np.repeat(rb.optimal_baseline(pi, q)[:, None], pi.shape[1], 1))
    with pytest.raises(ExerciseFailed, match="unrestricted softmax"):
        rb.exercises.check_masked_score(lambda theta, phi, allowed: np.where(
            allowed[:, :, None], rb.linear_softmax_score(theta, phi), 0.0))
    with pytest.raises(ExerciseFailed, match="not subtracted"):
        rb.exercises.check_linear_softmax_score(lambda theta, phi: phi)
    # the per-coordinate baseline minimises each coordinate's variance
    pi, q = np.array([[0.2, 0.5, 0.3]]), np.array([[1.0, -2.0, 0.5]])
    b = ex._coordinate_baseline(pi, q)[0]
    for j in range(3):
        g = np.eye(3)[:, j] - pi[0, j]
        var = lambda x: np.sum(pi[0] * ((q[0] - x) * g) ** 2)  # noqa: E731
        assert var(b[j]) <= min(var(b[j] + 1e-3), var(b[j] - 1e-3))
