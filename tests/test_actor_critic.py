"""Actor-critic pieces (chapter C10): tabular learners, TD advantage, compatible
critic, off-policy expected update, the LQ deterministic policy gradient, A2C."""
import numpy as np
import pytest

import rlbook as rb


def test_td_advantage_is_the_advantage_with_the_exact_critic():
    mdp = rb.random_mdp(5, 3, 0.9, seed=0)
    pi = rb.softmax_policy(np.random.default_rng(0).normal(size=(5, 3)))
    v = rb.evaluate_policy(mdp, pi)
    adv = rb.q_from_v(mdp, v) - v[:, None]
    np.testing.assert_allclose(rb.td_advantage(mdp, v), adv, atol=1e-12)
    e = np.random.default_rng(1).normal(size=5)
    np.testing.assert_allclose(rb.td_advantage(mdp, v + e),
                               adv + 0.9 * mdp.P @ e - e[:, None], atol=1e-12)
    with pytest.raises(ValueError, match="v must have shape"):
        rb.td_advantage(mdp, np.zeros(4))


@pytest.mark.parametrize("seed", range(3))
def test_compatible_critic_gives_the_exact_gradient(seed):
    rng = np.random.default_rng(seed)
    mdp = rb.random_mdp(5, 3, 0.9, seed=seed)
    rho0 = rng.dirichlet(np.ones(5))
    phi = rng.normal(size=(5, 3, 4))
    th = rng.normal(size=4)
    w = rb.compatible_critic_weights(mdp, th, rho0, phi)
    pi = rb.linear_softmax_policy(th, phi)
    psi = rb.linear_softmax_score(th, phi)
    eta = rb.discounted_visitation(mdp, pi, rho0)
    g = np.einsum("s,sa,sad,sa->d", eta, pi, psi, psi @ w)
    np.testing.assert_allclose(g, rb.exact_linear_policy_gradient(mdp, th, rho0, phi), atol=1e-10)
    # tabular: the weights are (1 - gamma) times the natural gradient
    th_tab = rng.normal(size=(5, 3))
    w_tab = rb.compatible_critic_weights(mdp, th_tab.ravel(), rho0, rb.tabular_features(5, 3))
    np.testing.assert_allclose(w_tab, 0.1 * rb.natural_policy_gradient(mdp, th_tab, rho0).ravel(),
                               atol=1e-8)


def test_compatible_errors():
    mdp = rb.random_mdp(3, 2, 0.9, seed=0)
    with pytest.raises(ValueError, match="theta has shape"):
        rb.compatible_critic_weights(mdp, np.zeros(3), np.full(3, 1 / 3), np.zeros((3, 2, 4)))
    with pytest.raises(ValueError, match="phi has shape"):
        rb.compatible_critic_weights(mdp, np.zeros(4), np.full(3, 1 / 3), np.zeros((2, 2, 4)))


def test_off_policy_expected_update():
    mdp = rb.random_mdp(4, 3, 0.9, seed=3)
    rng = np.random.default_rng(3)
    th = rng.normal(size=(4, 3))
    beta = rng.dirichlet(np.ones(3), size=4)
    rho0 = np.full(4, 0.25)
    np.testing.assert_allclose(rb.off_policy_expected_update(mdp, th, beta, rho0),
                               rb.excursion_gradient(mdp, th, beta, rho0), atol=1e-12)
    stale = rb.off_policy_expected_update(mdp, th, beta, rho0, theta_ratio=th + rng.normal(size=(4, 3)))
    assert np.abs(stale - rb.excursion_gradient(mdp, th, beta, rho0)).max() > 1e-3
    # on-policy (beta = pi) it is the policy gradient
    np.testing.assert_allclose(rb.off_policy_expected_update(mdp, th, rb.softmax_policy(th), rho0),
                               rb.exact_policy_gradient(mdp, th, rho0), atol=1e-12)
    with pytest.raises(ValueError, match="beta"):
        rb.off_policy_expected_update(mdp, th, np.eye(3)[[0, 1, 2, 0]], rho0)
    with pytest.raises(ValueError, match="theta_ratio must have shape"):
        rb.off_policy_expected_update(mdp, th, beta, rho0, theta_ratio=np.zeros(3))
    with pytest.raises(ValueError, match="theta must have shape"):
        rb.off_policy_expected_update(mdp, np.zeros((3, 3)), beta, rho0)


@pytest.mark.parametrize("critic", ["sarsa", "td"])
def test_tabular_actor_critic_learns(critic):
    mdp = rb.random_mdp(4, 2, 0.8, seed=5)
    rho0 = np.full(4, 0.25)
    J_star = rho0 @ rb.policy_iteration(mdp).v
    res = rb.train_tabular_actor_critic(mdp, rho0, rb.TabularACConfig(
        n_steps=20_000, episode_length=50, critic=critic, eval_every=5000, seed=1))
    assert res.steps[-1] == 20_000 and len(res.objective) == len(res.steps)
    assert J_star - res.objective[-1] < 0.2 * (J_star - res.objective[0])
    again = rb.train_tabular_actor_critic(mdp, rho0, rb.TabularACConfig(
        n_steps=20_000, episode_length=50, critic=critic, eval_every=5000, seed=1))
    np.testing.assert_array_equal(res.theta, again.theta)   # seeded: reproducible


def test_off_policy_actor_critic_learns():
    mdp = rb.random_mdp(4, 2, 0.8, seed=5)
    rho0 = np.full(4, 0.25)
    J_star = rho0 @ rb.policy_iteration(mdp).v
    res = rb.train_tabular_actor_critic(mdp, rho0, rb.TabularACConfig(
        n_steps=20_000, episode_length=50, critic="td", behaviour=np.full((4, 2), 0.5),
        eval_every=5000))
    assert J_star - res.objective[-1] < 0.3 * (J_star - res.objective[0])


def test_tabular_actor_critic_errors():
    mdp = rb.random_mdp(3, 2, 0.9, seed=0)
    rho0 = np.full(3, 1 / 3)
    C = rb.TabularACConfig
    for bad, match in [(C(alpha_w=0.0), "alpha_w"), (C(alpha_theta=-1.0), "alpha_theta"),
                       (C(critic="q"), "critic"), (C(n_steps=0), "n_steps"),
                       (C(behaviour=np.full((3, 2), 0.5)), "behaviour"),
                       (C(critic="td", behaviour=np.array([[1.0, 0.0]] * 3)), "behaviour"),
                       (C(critic="td", behaviour=np.full((3, 3), 1 / 3)), "behaviour")]:
        with pytest.raises(ValueError, match=match):
            rb.train_tabular_actor_critic(mdp, rho0, bad)
    with pytest.raises(TypeError):
        rb.train_tabular_actor_critic(mdp, rho0, {"critic": "td"})
    with pytest.raises(ValueError, match="theta0 must have shape"):
        rb.train_tabular_actor_critic(mdp, rho0, C(n_steps=10), theta0=np.zeros((2, 2)))


# ------------------------------------------------------------------ deterministic PG
def test_lq_closed_forms_and_dpg():
    lq = rb.LinearQuadratic()
    for k in (0.5, 1.0, 2.5):
        fd = (rb.lq_objective(lq, k + 1e-6) - rb.lq_objective(lq, k - 1e-6)) / 2e-6
        assert rb.lq_deterministic_gradient(lq, k) == pytest.approx(fd, rel=1e-6)
        assert rb.lq_gaussian_objective(lq, k, 0.0) == pytest.approx(rb.lq_objective(lq, k))
    # J(k) against a long simulated rollout from s0 = sigma0 (deterministic dynamics)
    s, ret = lq.sigma0, 0.0
    for t in range(400):
        u = -1.0 * s
        ret += lq.gamma**t * -(lq.c_s * s**2 + lq.c_u * u**2)
        s = lq.f_s * s + lq.f_u * u
    assert ret == pytest.approx(rb.lq_objective(lq, 1.0), rel=1e-10)


def test_lq_gaussian_estimate_is_unbiased():
    lq = rb.LinearQuadratic()
    k, sigma = 1.0, 0.5
    exact = (rb.lq_gaussian_objective(lq, k + 1e-6, sigma)
             - rb.lq_gaussian_objective(lq, k - 1e-6, sigma)) / 2e-6
    m, se = rb.lq_gaussian_pg_estimate(lq, k, sigma, 20_000, 80, np.random.default_rng(0))
    assert abs(m - exact) < 5 * se


def test_lq_errors():
    with pytest.raises(ValueError, match="gamma"):
        rb.LinearQuadratic(gamma=1.0)
    with pytest.raises(ValueError, match="c_u"):
        rb.LinearQuadratic(c_u=0.0)
    with pytest.raises(ValueError, match="sigma0"):
        rb.LinearQuadratic(sigma0=-1.0)
    with pytest.raises(ValueError, match="f_s"):
        rb.LinearQuadratic(f_s=float("nan"))
    lq = rb.LinearQuadratic()
    with pytest.raises(ValueError, match="k is 10"):
        rb.lq_objective(lq, 10.0)
    with pytest.raises(TypeError):
        rb.lq_objective("lq", 1.0)
    with pytest.raises(ValueError, match="sigma"):
        rb.lq_gaussian_pg_estimate(lq, 1.0, 0.0, 10, 10, np.random.default_rng(0))
    with pytest.raises(ValueError, match="sigma"):
        rb.lq_gaussian_objective(lq, 1.0, -0.1)
    with pytest.raises(ValueError, match="du"):
        rb.lq_deterministic_gradient(lq, 1.0, du=0.0)
    with pytest.raises(TypeError):
        rb.lq_gaussian_pg_estimate(lq, 1.0, 0.5, 10, 10, rng=0)


# ------------------------------------------------------------------ A2C
def test_a2c_runs_and_is_reproducible():
    cfg = rb.A2CConfig(total_steps=2048, n_envs=4, n_steps=8, seed=3)
    r1 = rb.train_a2c(cfg)
    r2 = rb.train_a2c(cfg)
    np.testing.assert_array_equal(r1.episode_returns, r2.episode_returns)
    assert r1.total_steps == 2048 and len(r1.curve.steps) == 2048 // 32
    assert set(r1.diagnostics) == {"entropy", "value_loss", "lr"}
    r3 = rb.train_a2c(rb.A2CConfig(total_steps=512, n_envs=2, n_steps=8, vectorization="sync",
                                   optimizer="rmsprop", anneal_lr=False))
    assert r3.total_steps == 512


def test_a2c_sync_and_vector_entry_point_agree_on_shapes():
    for mode in ("sync", "vector_entry_point"):
        r = rb.train_a2c(rb.A2CConfig(total_steps=256, n_envs=2, n_steps=8, vectorization=mode))
        assert r.curve.steps[-1] == 256


def test_a2c_continuous_actions():
    r = rb.train_a2c(rb.A2CConfig(env_id="Pendulum-v1", total_steps=512, n_envs=2, n_steps=16))
    assert r.total_steps == 512 and not r.policy.discrete


def test_a2c_errors():
    C = rb.A2CConfig
    for bad, match in [(C(lr=0.0), "lr"), (C(lr=-1e-3), "lr"), (C(n_envs=0), "n_envs"),
                       (C(total_steps=10), "total_steps"), (C(lam=1.5), "lam"),
                       (C(optimizer="sgd"), "optimizer"), (C(vectorization="async"), "vectorization"),
                       (C(hidden_sizes=(0,)), "hidden_sizes"), (C(max_grad_norm=0.0), "max_grad_norm"),
                       (C(gamma=1.5), "gamma")]:
        with pytest.raises(ValueError, match=match):
            rb.train_a2c(bad)
    with pytest.raises(TypeError):
        rb.train_a2c({"lr": 1e-3})
    with pytest.raises(ValueError, match="observation space"):
        rb.train_a2c(C(env_id="Blackjack-v1", total_steps=64, n_envs=1, n_steps=8))


class _MultiBinaryEnv:
    """A Box-observation environment whose MultiBinary actions A2C does not support."""

    def __new__(cls, **kwargs):
        import gymnasium as gym

        class Env(gym.Env):
            observation_space = gym.spaces.Box(-1.0, 1.0, (2,), dtype=np.float32)
            action_space = gym.spaces.MultiBinary(3)

            def reset(self, *, seed=None, options=None):
                super().reset(seed=seed)
                return np.zeros(2, dtype=np.float32), {}

            def step(self, action):
                return np.zeros(2, dtype=np.float32), 0.0, True, False, {}

        return Env()


def test_a2c_unsupported_action_space():
    import gymnasium as gym

    if "RlbookMultiBinary-v0" not in gym.registry:
        gym.register("RlbookMultiBinary-v0", entry_point=_MultiBinaryEnv)
    with pytest.raises(ValueError, match="action space"):
        rb.train_a2c(rb.A2CConfig(env_id="RlbookMultiBinary-v0", total_steps=64, n_envs=1,
                                  n_steps=8))


def test_lq_q_function_is_one_step_then_the_policy():
    lq = rb.LinearQuadratic(f_s=0.9, f_u=0.7, c_s=2.0, c_u=0.3, gamma=0.8, sigma0=1.5)
    k, s, u = 0.6, 1.3, -0.4
    m_k = -rb.lq_objective(lq, k) / lq.sigma0**2          # v_k(s) = -m_k s^2
    s2 = lq.f_s * s + lq.f_u * u
    assert rb.lq_q_function(lq, k, s, u) == pytest.approx(-(2.0 * s**2 + 0.3 * u**2) - 0.8 * m_k * s2**2)
    # at u = mu(s) it is the value
    assert rb.lq_q_function(lq, k, s, -k * s) == pytest.approx(-m_k * s**2)
    with pytest.raises(ValueError, match="horizon"):
        rb.lq_deterministic_gradient(lq, k, horizon=0)
    with pytest.raises(ValueError, match="k is"):
        rb.lq_q_function(lq, 100.0, s, u)


def test_closed_classes_and_entropy_gradient_shape_errors():
    mdp = rb.random_mdp(3, 2, 0.9, seed=0)
    assert rb.closed_classes(mdp, np.full((3, 2), 0.5)) == [[0, 1, 2]]
    with pytest.raises(ValueError, match="pi"):
        rb.closed_classes(mdp, np.full((3, 3), 1 / 3))
    with pytest.raises(ValueError, match="theta must have shape"):
        rb.entropy_regularized_gradient(mdp, np.zeros((3, 3)), np.full(3, 1 / 3), 0.1)


def test_a2c_collects_with_the_shared_rollout_collector(monkeypatch):
    """A2C's rollouts come from the collector of PPO and TRPO (torch sampling,
    same-step reset), one per update, and its gradient step uses that very pass."""
    from rlbook.agents import _rollout

    calls = []
    collect = _rollout._Collector.collect

    def spy(self, grad=False):
        calls.append(grad)
        return collect(self, grad=grad)

    monkeypatch.setattr(_rollout._Collector, "collect", spy)
    cfg = rb.A2CConfig(total_steps=640, n_envs=4, n_steps=8, seed=1)
    r = rb.train_a2c(cfg)
    assert calls == [True] * (640 // 32) and r.total_steps == 640
    assert r.episode_returns.sum() <= 640    # CartPole: reward 1 per step
    # the gradient step moved the networks away from their initialisation
    with _rollout._torch_session(cfg.seed, 1):
        fresh = _rollout._Collector(cfg)
    try:
        moved = [not np.allclose(a.detach().numpy(), b.detach().numpy())
                 for a, b in zip(r.policy.parameters(), fresh.policy.parameters())]
    finally:
        fresh.close()
    assert all(moved)
