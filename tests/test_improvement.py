"""Tests of rlbook.improvement: performance difference lemma, surrogate, TRPO bound, MM iteration."""
import numpy as np
import pytest

import rlbook as rb
from rlbook.trust_region.improvement import (
    advantage,
    improvement_bound,
    kl_per_state,
    max_kl,
    mean_kl,
    mm_policy_iteration,
    normalized_visitation,
    performance_difference,
    surrogate_objective,
    trpo_penalty_coefficient,
)


def _instance(seed, S=5, A=3, gamma=0.9, scale=1.0):
    rng = np.random.default_rng(seed)
    mdp = rb.random_mdp(S, A, gamma, seed=rng)
    rho0 = rng.dirichlet(np.ones(S))
    pi = rb.softmax_policy(scale * rng.standard_normal((S, A)))
    pn = rb.softmax_policy(scale * rng.standard_normal((S, A)))
    return mdp, rho0, pi, pn


def _rollout_return(mdp, pi, rho0, horizon=400):
    """eta by iterating the state distribution forward (an independent route)."""
    mu, total = rho0.copy(), 0.0
    P_pi, r_pi = rb.policy_matrices(mdp, pi)
    for t in range(horizon):
        total += mdp.gamma ** t * mu @ r_pi
        mu = mu @ P_pi
    return total


# ---------------------------------------------------------------- advantage / visitation
@pytest.mark.parametrize("seed", range(4))
def test_advantage_is_q_minus_v_and_averages_to_zero(seed):
    mdp, _, pi, _ = _instance(seed)
    A = advantage(mdp, pi)
    v = rb.evaluate_policy(mdp, pi)
    np.testing.assert_allclose(A, rb.q_from_v(mdp, v) - v[:, None], atol=1e-12)
    np.testing.assert_allclose((pi * A).sum(axis=1), 0.0, atol=1e-12)


def test_advantage_of_greedy_optimal_policy_is_nonpositive():
    mdp = rb.random_mdp(6, 3, 0.8, seed=3)
    res = rb.value_iteration(mdp, tol=1e-12)
    assert advantage(mdp, res.policy).max() < 1e-8


@pytest.mark.parametrize("seed", range(3))
def test_normalized_visitation_is_a_distribution(seed):
    mdp, rho0, pi, _ = _instance(seed)
    d = normalized_visitation(mdp, pi, rho0)
    assert d.min() >= 0
    assert d.sum() == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(d, (1 - mdp.gamma) * rb.discounted_visitation(mdp, pi, rho0))


def test_normalized_visitation_rejects_gamma_one():
    mdp = rb.random_mdp(3, 2, 1.0, seed=0)
    with pytest.raises(ValueError, match="gamma < 1"):
        normalized_visitation(mdp, np.full((3, 2), 0.5), np.ones(3) / 3)


# ---------------------------------------------------------------- performance difference
@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("gamma", [0.0, 0.5, 0.95])
def test_performance_difference_lemma(seed, gamma):
    mdp, rho0, pi, pn = _instance(seed, gamma=gamma, scale=2.0)
    pd = performance_difference(mdp, pi, pn, rho0)
    assert pd.lhs == pytest.approx(pd.rhs, abs=1e-10)
    assert pd.eta_old == pytest.approx(rb.policy_objective(mdp, pi, rho0), abs=1e-12)
    assert pd.eta_new == pytest.approx(_rollout_return(mdp, pn, rho0, 2000), abs=1e-9)
    # normalised form: 1/(1-gamma) E_{d_new, pi_new}[A_old]
    d_new = normalized_visitation(mdp, pn, rho0)
    rhs = (d_new * (pn * advantage(mdp, pi)).sum(axis=1)).sum() / (1 - gamma)
    assert pd.rhs == pytest.approx(rhs, abs=1e-10)


def test_performance_difference_with_terminal_states():
    mdp = rb.GridWorld(terminal_target=True).to_mdp()
    assert mdp.terminal.any()
    S, A = mdp.n_states, mdp.n_actions
    rng = np.random.default_rng(0)
    rho0 = rng.dirichlet(np.ones(S))
    pi, pn = (rb.softmax_policy(rng.standard_normal((S, A))) for _ in range(2))
    pd = performance_difference(mdp, pi, pn, rho0)
    assert pd.lhs == pytest.approx(pd.rhs, abs=1e-9)


def test_performance_difference_same_policy_is_zero():
    mdp, rho0, pi, _ = _instance(0)
    pd = performance_difference(mdp, pi, pi, rho0)
    assert pd.lhs == 0.0 and abs(pd.rhs) < 1e-12


# ---------------------------------------------------------------- surrogate
@pytest.mark.parametrize("seed", range(4))
def test_surrogate_matches_eta_at_old_policy_and_first_order(seed):
    mdp, rho0, pi, _ = _instance(seed)
    assert surrogate_objective(mdp, pi, pi, rho0) == pytest.approx(rb.policy_objective(mdp, pi, rho0),
                                                                   abs=1e-12)
    # gradients agree at theta_old: compare finite differences of L and of eta
    rng = np.random.default_rng(seed)
    theta = np.log(pi)
    u = rng.standard_normal(theta.shape)
    h = 1e-5
    Lp = surrogate_objective(mdp, pi, rb.softmax_policy(theta + h * u), rho0)
    Lm = surrogate_objective(mdp, pi, rb.softmax_policy(theta - h * u), rho0)
    gL = (Lp - Lm) / (2 * h)
    g = (rb.exact_policy_gradient(mdp, theta, rho0) * u).sum()
    assert gL == pytest.approx(g, rel=1e-6, abs=1e-8)


def test_surrogate_uses_old_visitation():
    mdp, rho0, pi, pn = _instance(1, scale=2.0)
    rho = rb.discounted_visitation(mdp, pi, rho0)
    A = advantage(mdp, pi)
    expected = rb.policy_objective(mdp, pi, rho0) + rho @ (pn * A).sum(axis=1)
    assert surrogate_objective(mdp, pi, pn, rho0) == pytest.approx(expected, abs=1e-12)
    # and it is not the exact return in general
    assert abs(surrogate_objective(mdp, pi, pn, rho0) - rb.policy_objective(mdp, pn, rho0)) > 1e-3


# ---------------------------------------------------------------- KL
def test_kl_per_state_and_max_and_mean():
    pi = np.array([[0.5, 0.5], [0.9, 0.1]])
    pn = np.array([[0.25, 0.75], [0.9, 0.1]])
    kl0 = 0.5 * np.log(0.5 / 0.25) + 0.5 * np.log(0.5 / 0.75)
    np.testing.assert_allclose(kl_per_state(pi, pn), [kl0, 0.0], atol=1e-15)
    assert max_kl(pi, pn) == pytest.approx(kl0)
    mdp = rb.FiniteMDP(np.full((2, 2, 2), 0.5), np.zeros((2, 2)), 0.5)
    # uniform transitions: d = (1-g) rho0 + g * (1/2, 1/2)
    rho0 = np.array([1.0, 0.0])
    d = 0.5 * rho0 + 0.5 * np.array([0.5, 0.5])
    assert mean_kl(mdp, pi, pn, rho0) == pytest.approx(d[0] * kl0)


def test_kl_zero_probability_conventions():
    pi = np.array([[1.0, 0.0]])
    assert max_kl(pi, np.array([[0.5, 0.5]])) == pytest.approx(np.log(2))
    assert max_kl(np.array([[0.5, 0.5]]), pi) == np.inf


def test_kl_shape_mismatch():
    with pytest.raises(ValueError, match="pi_new has shape"):
        max_kl(np.full((2, 2), 0.5), np.full((3, 2), 0.5))


def test_kl_rejects_non_distribution():
    with pytest.raises(ValueError, match=r"pi_new\[1, :\] sums to"):
        max_kl(np.full((2, 2), 0.5), np.array([[0.5, 0.5], [0.5, 0.6]]))


# ---------------------------------------------------------------- bound
def test_penalty_coefficient():
    assert trpo_penalty_coefficient(2.0, 0.5) == pytest.approx(4 * 2 * 0.5 / 0.25)
    with pytest.raises(ValueError, match="gamma"):
        trpo_penalty_coefficient(1.0, 1.0)
    with pytest.raises(ValueError, match="epsilon"):
        trpo_penalty_coefficient(-1.0, 0.5)
    with pytest.raises(TypeError, match="epsilon"):
        trpo_penalty_coefficient("a", 0.5)


@pytest.mark.parametrize("seed", range(40))
def test_improvement_bound_holds_on_random_pairs(seed):
    rng = np.random.default_rng(seed)
    S, A = int(rng.integers(2, 6)), int(rng.integers(2, 4))
    gamma = float(rng.choice([0.3, 0.7, 0.9, 0.99]))
    mdp, rho0, pi, pn = _instance(seed, S, A, gamma, scale=float(rng.uniform(0.1, 3)))
    b = improvement_bound(mdp, pi, pn, rho0)
    assert b.slack >= -1e-10
    A_ = advantage(mdp, pi)
    assert b.epsilon == pytest.approx(np.abs(A_).max())
    assert b.C == pytest.approx(4 * b.epsilon * gamma / (1 - gamma) ** 2)
    assert b.max_kl == pytest.approx(max_kl(pi, pn))
    assert b.surrogate == pytest.approx(surrogate_objective(mdp, pi, pn, rho0))
    assert b.bound == pytest.approx(b.surrogate - b.C * b.max_kl)
    assert b.eta_new == pytest.approx(rb.policy_objective(mdp, pn, rho0))


def test_improvement_bound_custom_C_and_zero_C():
    mdp, rho0, pi, pn = _instance(2)
    b = improvement_bound(mdp, pi, pn, rho0, C=0.0)
    assert b.bound == b.surrogate and b.C == 0.0
    with pytest.raises(ValueError, match="C is"):
        improvement_bound(mdp, pi, pn, rho0, C=-1.0)


def test_improvement_bound_is_tight_at_the_old_policy():
    mdp, rho0, pi, _ = _instance(3)
    b = improvement_bound(mdp, pi, pi, rho0)
    assert b.slack == pytest.approx(0.0, abs=1e-12) and b.max_kl == 0.0


@pytest.mark.parametrize("fn", [performance_difference, surrogate_objective, improvement_bound])
def test_pair_functions_validate(fn):
    mdp, rho0, pi, pn = _instance(0)
    with pytest.raises(ValueError, match="pi_old"):
        fn(mdp, pi[:2], pn, rho0)
    with pytest.raises(ValueError, match=r"pi_new\[0, :\] sums to"):
        fn(mdp, pi, pn * 2, rho0)
    with pytest.raises(ValueError, match="rho0"):
        fn(mdp, pi, pn, rho0 * 2)
    with pytest.raises(TypeError, match="mdp must be a FiniteMDP"):
        fn("mdp", pi, pn, rho0)
    with pytest.raises(ValueError, match="gamma < 1"):
        fn(mdp.with_gamma(1.0), pi, pn, rho0)


def test_advantage_validates_policy():
    mdp, _, pi, _ = _instance(0)
    with pytest.raises(ValueError, match=r"pi\[0, 0\]"):
        advantage(mdp, -pi)


# ---------------------------------------------------------------- MM iteration
@pytest.mark.parametrize("seed", range(3))
def test_mm_policy_iteration_is_monotone(seed):
    mdp, rho0, _, _ = _instance(seed, gamma=0.8)
    res = mm_policy_iteration(mdp, rho0, 40)
    assert res.eta.shape == (41,) and res.bound.shape == (40,)
    assert np.all(np.diff(res.eta) >= -1e-12)
    # the chain eta_i = M_i(pi_i) <= M_i(pi_{i+1}) <= eta_{i+1}
    assert np.all(res.bound >= res.eta[:-1] - 1e-12)
    assert np.all(res.bound <= res.eta[1:] + 1e-10)
    assert res.eta[-1] > res.eta[0] + 1e-3
    assert res.eta[-1] <= rho0 @ rb.value_iteration(mdp, tol=1e-12).v + 1e-9
    assert res.pi.shape == (mdp.n_states, mdp.n_actions)


def test_mm_policy_iteration_smaller_C_moves_faster_and_zero_iter():
    mdp, rho0, _, _ = _instance(0, gamma=0.8)
    slow = mm_policy_iteration(mdp, rho0, 10)
    fast = mm_policy_iteration(mdp, rho0, 10, C=1.0)
    assert fast.eta[-1] > slow.eta[-1]
    none = mm_policy_iteration(mdp, rho0, 0)
    assert none.eta.shape == (1,) and none.bound.shape == (0,)


def test_mm_policy_iteration_validates():
    mdp, rho0, _, _ = _instance(0)
    with pytest.raises(ValueError, match="n_iter"):
        mm_policy_iteration(mdp, rho0, -1)
    with pytest.raises(TypeError, match="n_iter"):
        mm_policy_iteration(mdp, rho0, 2.5)
    pi0 = np.zeros((5, 3))
    pi0[:, 0] = 1
    with pytest.raises(ValueError, match="full support"):
        mm_policy_iteration(mdp, rho0, 3, pi0=pi0)
    with pytest.raises(ValueError, match="n_grid"):
        mm_policy_iteration(mdp, rho0, 3, n_grid=1)
    with pytest.raises(ValueError, match="C is"):
        mm_policy_iteration(mdp, rho0, 3, C=-2.0)
