"""Average-reward setting and exact-gradient ascent (chapter C9)."""
import numpy as np
import pytest

import rlbook as rb
from _numeric import central_difference as _central




def _two_closed_classes():
    P = np.zeros((3, 2, 3))
    P[0, :, 0] = 1.0
    P[1, :, 1] = 1.0
    P[2, :, [0, 1]] = 0.5
    return rb.FiniteMDP(P, np.zeros((3, 2)), 0.9)


def _periodic():
    P = np.zeros((2, 1, 2))
    P[0, 0, 1] = P[1, 0, 0] = 1.0
    return rb.FiniteMDP(P, np.array([[1.0], [3.0]]), 0.9)


@pytest.mark.parametrize("seed", range(3))
def test_stationary_and_poisson(seed):
    mdp = rb.random_mdp(6, 3, 0.9, seed=seed, branching=3)
    pi = rb.softmax_policy(np.random.default_rng(seed).normal(size=(6, 3)))
    d = rb.stationary_distribution(mdp, pi)
    P_pi, r_pi = rb.policy_matrices(mdp, pi)
    np.testing.assert_allclose(d @ P_pi, d, atol=1e-13)
    assert abs(d.sum() - 1) < 1e-13 and (d >= 0).all()
    # the long-run average (Cesaro) equals r_bar from any start state
    x, acc = np.eye(6), np.zeros(6)
    for _ in range(4000):
        acc += x @ r_pi
        x = x @ P_pi
    np.testing.assert_allclose(acc / 4000, rb.average_reward(mdp, pi), atol=5e-3)
    h = rb.differential_values(mdp, pi)
    r_bar = rb.average_reward(mdp, pi)
    np.testing.assert_allclose(h + r_bar, r_pi + P_pi @ h, atol=1e-12)
    assert abs(d @ h) < 1e-12
    q = rb.differential_action_values(mdp, pi)
    np.testing.assert_allclose((pi * q).sum(1), h, atol=1e-12)


def test_transient_states_get_zero_and_periodic_chain():
    P = np.zeros((3, 1, 3))
    P[0, 0, 1] = 1.0
    P[1, 0, 2] = P[2, 0, 1] = 1.0
    mdp = rb.FiniteMDP(P, np.array([[5.0], [1.0], [3.0]]), 0.9)
    d = rb.stationary_distribution(mdp, np.ones((3, 1)))
    np.testing.assert_allclose(d, [0.0, 0.5, 0.5], atol=1e-15)
    assert rb.closed_classes(mdp, np.ones((3, 1))) == [[1, 2]]
    assert rb.average_reward(_periodic(), np.ones((2, 1))) == pytest.approx(2.0)


@pytest.mark.parametrize("seed", range(3))
def test_average_reward_gradient_matches_finite_differences(seed):
    mdp = rb.random_mdp(5, 3, 0.9, seed=10 + seed)
    th = np.random.default_rng(seed).normal(size=(5, 3))
    g = rb.average_reward_gradient(mdp, th)
    fd = _central(lambda t: rb.average_reward(mdp, rb.softmax_policy(t)), th)
    np.testing.assert_allclose(g, fd, atol=1e-8)


def test_stationary_weighted_gradient_tends_to_average_reward_gradient():
    mdp = rb.random_mdp(5, 3, 0.9, seed=4)
    th = np.random.default_rng(1).normal(size=(5, 3))
    g_true = rb.average_reward_gradient(mdp, th)
    errs = []
    for g in (0.9, 0.99, 0.999):
        m = rb.FiniteMDP(mdp.P, mdp.R, g)
        errs.append(np.abs(rb.stationary_weighted_gradient(m, th) - g_true).max())
    assert errs[0] > 5 * errs[1] > 25 * errs[2]  # O(1 - gamma)


def test_errors():
    bad = _two_closed_classes()
    pi = np.full((3, 2), 0.5)
    with pytest.raises(ValueError, match="2 closed classes"):
        rb.stationary_distribution(bad, pi)
    with pytest.raises(ValueError, match="not unique"):
        rb.average_reward(bad, pi)
    with pytest.raises(ValueError, match="closed classes"):
        rb.differential_values(bad, pi)
    with pytest.raises(ValueError, match="closed classes"):
        rb.differential_action_values(bad, pi)
    with pytest.raises(ValueError, match="closed classes"):
        rb.average_reward_gradient(bad, np.zeros((3, 2)))
    with pytest.raises(ValueError, match="theta must have shape"):
        rb.average_reward_gradient(rb.random_mdp(3, 2, seed=0), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="pi"):
        rb.stationary_distribution(rb.random_mdp(3, 2, seed=0), np.full((3, 2), 0.7))
    with pytest.raises(TypeError):
        rb.average_reward("mdp", pi)
    with pytest.raises(ValueError, match="gamma < 1"):
        rb.stationary_weighted_gradient(rb.random_mdp(3, 2, 1.0, seed=0), np.zeros((3, 2)))
    with pytest.raises(ValueError, match="theta must have shape"):
        rb.stationary_weighted_gradient(rb.random_mdp(3, 2, 0.9, seed=0), np.zeros(6))
    term = rb.FiniteMDP(np.tile(np.eye(2)[[1, 1]][:, None, :], (1, 1, 1)), np.zeros((2, 1)), 0.9,
                        terminal=[False, True])
    with pytest.raises(ValueError, match="terminal"):
        rb.stationary_weighted_gradient(term, np.zeros((2, 1)))


def test_entropy_gradient_and_ascent():
    mdp = rb.random_mdp(4, 3, 0.8, seed=2)
    rho0 = np.full(4, 0.25)
    th = np.random.default_rng(0).normal(size=(4, 3))
    tau = 0.2

    def J_tau(t):
        p = rb.softmax_policy(t)
        P_pi, r_pi = rb.policy_matrices(mdp, p)
        return rho0 @ np.linalg.solve(np.eye(4) - 0.8 * P_pi, r_pi - tau * (p * np.log(p)).sum(1))

    np.testing.assert_allclose(rb.entropy_regularized_gradient(mdp, th, rho0, tau),
                               _central(J_tau, th), atol=1e-8)
    np.testing.assert_allclose(rb.entropy_regularized_gradient(mdp, th, rho0, 0.0),
                               rb.exact_policy_gradient(mdp, th, rho0), atol=1e-12)
    J_star = rho0 @ rb.policy_iteration(mdp).v
    pg = rb.exact_policy_ascent(mdp, rho0, 300, 2.0)
    npg = rb.exact_policy_ascent(mdp, rho0, 30, 1.0, method="npg")
    ent = rb.exact_policy_ascent(mdp, rho0, 300, 2.0, method="entropy", tau=0.01)
    assert np.all(np.diff(pg.objective) > -1e-12)        # small steps: monotone ascent
    assert J_star - pg.objective[-1] < 0.02 * (J_star - pg.objective[0])
    assert J_star - npg.objective[-1] < 1e-8
    assert J_star - ent.objective[-1] <= 0.01 * np.log(3) / 0.2 + 1e-9
    # the NPG step equals F^+ grad J up to per-state constants
    g_nat = rb.natural_policy_gradient(mdp, th, rho0)
    adv = rb.exact_policy_gradient(mdp, th, rho0) / (
        rb.discounted_visitation(mdp, rb.softmax_policy(th), rho0)[:, None] * rb.softmax_policy(th))
    step = adv / 0.2
    np.testing.assert_allclose(g_nat, step - step.mean(1, keepdims=True), atol=1e-7)


def test_ascent_errors():
    mdp = rb.random_mdp(3, 2, 0.9, seed=0)
    rho0 = np.full(3, 1 / 3)
    with pytest.raises(ValueError, match="lr"):
        rb.exact_policy_ascent(mdp, rho0, 10, 0.0)
    with pytest.raises(ValueError, match="lr"):
        rb.exact_policy_ascent(mdp, rho0, 10, -1.0)
    with pytest.raises(ValueError, match="method"):
        rb.exact_policy_ascent(mdp, rho0, 10, 1.0, method="newton")
    with pytest.raises(ValueError, match="tau"):
        rb.exact_policy_ascent(mdp, rho0, 10, 1.0, method="entropy", tau=0.0)
    with pytest.raises(ValueError, match="tau"):
        rb.exact_policy_ascent(mdp, rho0, 10, 1.0, tau=0.1)
    with pytest.raises(ValueError, match="n_iter"):
        rb.exact_policy_ascent(mdp, rho0, 0, 1.0)
    with pytest.raises(ValueError, match="theta0"):
        rb.exact_policy_ascent(mdp, rho0, 10, 1.0, theta0=np.zeros((2, 2)))
    with pytest.raises(ValueError, match="gamma < 1"):
        rb.exact_policy_ascent(rb.random_mdp(3, 2, 1.0, seed=0), rho0, 10, 1.0)
    with pytest.raises(ValueError, match="tau"):
        rb.entropy_regularized_gradient(mdp, np.zeros((3, 2)), rho0, -0.1)
