"""Soft Bellman equations, the squashed Gaussian density and the categorical projection."""
import math

import numpy as np
import pytest
import torch
from scipy import integrate

import rlbook as rb


def _mdps():
    for k, (S, A, g) in enumerate([(5, 3, 0.9), (8, 2, 0.5), (4, 4, 0.95), (1, 3, 0.8)]):
        yield rb.random_mdp(S, A, g, seed=k)


@pytest.mark.parametrize("alpha", [0.05, 0.5, 2.0])
def test_soft_value_iteration_is_the_soft_fixed_point(alpha):
    for mdp in _mdps():
        res = rb.soft_value_iteration(mdp, alpha, tol=1e-11)
        assert res.converged
        q = mdp.R + mdp.gamma * np.einsum("sat,t->sa", mdp.P, res.v)
        np.testing.assert_allclose(res.q, q, atol=1e-9)
        np.testing.assert_allclose(res.v, alpha * np.log(np.exp(q / alpha).sum(1)), atol=1e-9)
        np.testing.assert_allclose(res.policy, np.exp((q - res.v[:, None]) / alpha), atol=1e-9)
        # the Boltzmann policy's own soft values are the fixed point (independent linear solve)
        v_pi, q_pi = rb.soft_policy_evaluation(mdp, res.policy, alpha)
        np.testing.assert_allclose(v_pi, res.v, atol=1e-8)
        np.testing.assert_allclose(q_pi, res.q, atol=1e-8)


def test_soft_policy_improvement_and_gap_bound():
    rng = np.random.default_rng(0)
    for mdp in _mdps():
        for alpha in (0.1, 1.0):
            pi = rb.softmax_policy(2 * rng.standard_normal((mdp.n_states, mdp.n_actions)))
            v_pi, q_pi = rb.soft_policy_evaluation(mdp, pi, alpha)
            v_new, _ = rb.soft_policy_evaluation(mdp, rb.boltzmann_policy(q_pi, alpha), alpha)
            assert np.all(v_new >= v_pi - 1e-10)
        v_star = rb.value_iteration(mdp, tol=1e-12).v
        for alpha in (1.0, 0.1, 0.01):
            gap = rb.soft_value_iteration(mdp, alpha, tol=1e-12).v - v_star
            bound = alpha * math.log(mdp.n_actions) / (1 - mdp.gamma)
            assert np.all(gap >= -1e-9) and np.all(gap <= bound + 1e-9)


def test_soft_bellman_operator_contracts_and_handles_terminals():
    mdp = rb.GridWorld(terminal_target=True).to_mdp()
    rng = np.random.default_rng(1)
    u, w = rng.standard_normal((2, mdp.n_states))
    u[mdp.terminal] = w[mdp.terminal] = 0
    Tu, Tw = rb.soft_bellman_operator(mdp, u, 0.3), rb.soft_bellman_operator(mdp, w, 0.3)
    assert np.max(np.abs(Tu - Tw)) <= mdp.gamma * np.max(np.abs(u - w)) + 1e-12
    res = rb.soft_value_iteration(mdp, 0.3)
    assert np.all(res.v[mdp.terminal] == 0)


def test_soft_value_is_stable_and_boltzmann_normalised():
    q = np.array([[1000.0, 999.0, -5.0], [0.0, 0.0, 0.0]])
    v = rb.soft_value(q, 1e-3)
    assert np.isfinite(v).all() and abs(v[0] - 1000.0) < 1e-6
    np.testing.assert_allclose(rb.soft_value(q, 1.0)[1], math.log(3))
    pi = rb.boltzmann_policy(q, 0.5)
    np.testing.assert_allclose(pi.sum(1), 1.0)


def test_soft_q_learning_converges_to_the_soft_values():
    mdp = rb.random_mdp(5, 3, 0.8, seed=4)
    ref = rb.soft_value_iteration(mdp, 0.5).q
    hard = rb.q_from_v(mdp, rb.value_iteration(mdp, tol=1e-12).v)
    errs = [np.max(np.abs(rb.soft_q_learning(mdp, n, alpha=0.5, rng=0).q - ref)) for n in (50, 2000)]
    assert errs[1] < errs[0] / 3
    assert errs[1] < np.max(np.abs(hard - ref)) / 5


def test_soft_errors():
    mdp = rb.random_mdp(3, 2, 0.9, seed=0)
    for bad in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="alpha"):
            rb.soft_value_iteration(mdp, bad)
        with pytest.raises(ValueError, match="alpha"):
            rb.soft_q_learning(mdp, 5, alpha=bad, rng=0)
        with pytest.raises(ValueError, match="alpha"):
            rb.boltzmann_policy(np.zeros((2, 2)), bad)
    with pytest.raises(TypeError, match="alpha"):
        rb.soft_value(np.zeros((2, 2)), True)
    with pytest.raises(ValueError, match="gamma"):
        rb.soft_value_iteration(rb.random_mdp(3, 2, 1.0, seed=0), 1.0)
    with pytest.raises(ValueError, match="gamma"):
        rb.soft_q_learning(rb.random_mdp(3, 2, 1.0, seed=0), 5, alpha=1.0, rng=0)
    with pytest.raises(ValueError, match="omega"):
        rb.soft_q_learning(mdp, 5, alpha=1.0, rng=0, omega=0.4)
    with pytest.raises(ValueError, match="tol"):
        rb.soft_value_iteration(mdp, 1.0, tol=0)
    with pytest.raises(ValueError, match="pi"):
        rb.soft_policy_evaluation(mdp, np.full((3, 2), 0.6), 1.0)
    with pytest.raises(ValueError, match="v"):
        rb.soft_bellman_operator(mdp, np.zeros(4), 1.0)
    with pytest.raises(ValueError, match="q"):
        rb.soft_value(np.zeros((2, 0)), 1.0)
    res = rb.soft_value_iteration(mdp, 1.0, max_iter=2)
    assert not res.converged and res.num_iter == 2


# ------------------------------------------------------------ squashed Gaussian
def test_squashed_log_prob_matches_torch_transformed_distribution():
    from torch.distributions import AffineTransform, Independent, Normal, TanhTransform, \
        TransformedDistribution

    g = torch.Generator().manual_seed(0)
    mean = torch.randn(50, 3, generator=g, dtype=torch.float64)
    log_std = 0.5 * torch.randn(50, 3, generator=g, dtype=torch.float64)
    u = mean + log_std.exp() * torch.randn(50, 3, generator=g, dtype=torch.float64)
    for scale in (1.0, 2.5):
        dist = TransformedDistribution(Independent(Normal(mean, log_std.exp()), 1),
                                       [TanhTransform(), AffineTransform(0.0, scale)])
        ref = dist.log_prob(scale * torch.tanh(u))
        got = rb.squashed_gaussian_log_prob(u, mean, log_std, scale)
        torch.testing.assert_close(got, ref, rtol=1e-7, atol=1e-6)
        got_np = rb.squashed_gaussian_log_prob(u.numpy(), mean.numpy(), log_std.numpy(), scale)
        np.testing.assert_allclose(got_np, got.numpy(), rtol=1e-12, atol=1e-12)


def test_squashed_density_integrates_to_one_and_is_stable():
    for mean, log_std, scale in [(0.3, 0.0, 1.0), (-1.0, 1.0, 2.0), (2.0, -0.5, 0.5)]:
        def dens(a):
            u = np.arctanh(np.clip(a / scale, -1 + 1e-16, 1 - 1e-16))
            return np.exp(rb.squashed_gaussian_log_prob(np.array([u]), mean, log_std, scale))
        total, _ = integrate.quad(dens, -scale, scale, limit=400)
        assert abs(total - 1) < 1e-6
    u = torch.tensor([[20.0], [-30.0]])
    lp = rb.squashed_gaussian_log_prob(u, torch.zeros(2, 1), torch.zeros(2, 1))
    assert torch.isfinite(lp).all()
    naive = torch.log(1 - torch.tanh(u) ** 2)
    assert torch.isinf(naive).all()       # the form the stable one replaces
    x = np.linspace(-5, 5, 101)
    np.testing.assert_allclose(rb.log1m_tanh_sq(x), np.log(1 - np.tanh(x) ** 2), rtol=1e-9)


def test_squashed_errors():
    with pytest.raises(ValueError, match="scale"):
        rb.squashed_gaussian_log_prob(np.zeros((2, 1)), 0.0, 0.0, scale=0.0)
    with pytest.raises(ValueError, match="scale"):
        rb.squashed_gaussian_log_prob(torch.zeros(2, 1), torch.zeros(1), torch.zeros(1), scale=-1.0)
    with pytest.raises(ValueError, match="u"):
        rb.squashed_gaussian_log_prob(np.array([[np.nan]]), 0.0, 0.0)
    with pytest.raises(ValueError, match="broadcast"):
        rb.squashed_gaussian_log_prob(np.zeros((2, 3)), np.zeros(2), 0.0)
    with pytest.raises(ValueError, match="dimension"):
        rb.squashed_gaussian_log_prob(np.float64(0.0), 0.0, 0.0)


# ------------------------------------------------------- categorical projection
def test_categorical_projection_keeps_mass_and_mean():
    rng = np.random.default_rng(2)
    z = np.linspace(-10, 10, 51)
    p = rng.dirichlet(np.ones(51) * 0.3, size=20)
    p[:, :10] = 0; p[:, -10:] = 0
    p /= p.sum(1, keepdims=True)
    r = rng.uniform(-1, 1, 20)
    d = (rng.random(20) < 0.3).astype(float)
    out = rb.categorical_projection(z, p, r, 0.9, d)
    np.testing.assert_allclose(out.sum(1), 1.0)
    np.testing.assert_allclose(out @ z, r + 0.9 * (1 - d) * (p @ z), atol=1e-10)
    # an atom exactly on the grid stays there
    np.testing.assert_allclose(rb.categorical_projection(z, np.eye(51)[25], 0.0, 1.0), np.eye(51)[25],
                               atol=1e-12)


def test_categorical_projection_errors():
    z = np.linspace(0, 1, 5)
    with pytest.raises(ValueError, match="uniform"):
        rb.categorical_projection(np.array([0.0, 1.0, 3.0]), np.ones(3) / 3, 0.0, 0.9)
    with pytest.raises(ValueError, match="p must have shape"):
        rb.categorical_projection(z, np.ones(4) / 4, 0.0, 0.9)
    with pytest.raises(ValueError, match="p"):
        rb.categorical_projection(z, np.full(5, 0.3), 0.0, 0.9)
    with pytest.raises(ValueError, match="at least 2"):
        rb.categorical_projection(np.zeros(1), np.ones(1), 0.0, 0.9)
    with pytest.raises(ValueError, match="gamma"):
        rb.categorical_projection(z, np.ones(5) / 5, 0.0, 1.5)
