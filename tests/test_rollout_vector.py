"""The rollout's vector environments (Gymnasium's NumPy CartPole with same-step reset,
and the SyncVectorEnv fallback), the categorical sampler and PPO's flat Adam."""
import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium.envs.classic_control.cartpole import CartPoleEnv, CartPoleVectorEnv

import rlbook as rb
from rlbook.agents import _rollout as agents
from rlbook.agents._nets import MLPPolicy, MLPValue, _run_tanh_mlp
from rlbook.agents._rollout import _FlatOptimizer

_CP = "gymnasium.envs.classic_control.cartpole:"
gym.register("RlbookTestCartPole5-v0", entry_point=_CP + "CartPoleEnv",
             vector_entry_point=_CP + "CartPoleVectorEnv", max_episode_steps=5)


def test_same_step_cartpole_has_the_single_environment_dynamics():
    # every transition of every copy is replayed on a single CartPoleEnv started in the
    # copy's state: same next observation (or final observation), same termination
    env = agents._make_rollout_env("CartPole-v1", 3)
    assert isinstance(env, agents._SameStepCartPole)
    single = CartPoleEnv()
    single.reset(seed=0)
    obs, _ = env.reset(seed=1)
    rng = np.random.default_rng(0)
    n_done = 0
    for _ in range(300):
        state = env.env.state.copy()
        a = rng.integers(0, 2, 3)
        obs2, r, te, tr, info = env.step(a)
        assert np.all(r == 1.0) and not tr.any()
        for i in range(3):
            single.state, single.steps_beyond_terminated = state[:, i].copy(), None
            o, r1, t1, _, _ = single.step(int(a[i]))
            assert t1 == te[i] and r1 == r[i]
            if te[i]:
                # reset in the same step: the final observation is in info, the new
                # start state is within the reset bounds
                np.testing.assert_array_equal(info["final_obs"][i], o)
                assert np.all(np.abs(obs2[i]) <= 0.05)
                n_done += 1
            else:
                np.testing.assert_array_equal(obs2[i], o)
        assert np.all(env.env.steps[te] == 0)
    assert n_done > 10  # the test saw many resets
    env.close()


def test_same_step_reset_draws_what_the_environment_would_draw():
    # one copy: the NEXT_STEP environment's extra reset step starts the next episode
    # in exactly the state that the same-step wrapper returns at once
    ours = agents._SameStepCartPole(CartPoleVectorEnv(num_envs=1))
    raw = CartPoleVectorEnv(num_envs=1)
    o1, _ = ours.reset(seed=5)
    o2, _ = raw.reset(seed=5)
    np.testing.assert_array_equal(o1, o2)
    a = np.zeros(1, dtype=np.int64)  # always push left: short episodes
    for _ in range(3):  # three episodes
        while True:
            o1, _, te1, _, _ = ours.step(a)
            o2, _, te2, _, _ = raw.step(a)
            assert te1[0] == te2[0]
            if te1[0]:
                o2, r2, *_ = raw.step(a)  # the raw environment's reset step
                assert r2[0] == 0.0
                np.testing.assert_array_equal(o1, o2)
                break
            np.testing.assert_array_equal(o1, o2)


def _constant_value_rollout(env_id, c, gamma, lam, vectorization="auto", n_steps=12):
    cfg = rb.PPOConfig(env_id=env_id, n_envs=2, n_steps=n_steps, total_steps=2 * n_steps,
                       minibatch_size=2 * n_steps,
                       gamma=gamma, lam=lam, vectorization=vectorization)
    with agents._torch_session(0, 1):
        col = agents._Collector(cfg)
        with torch.no_grad():
            col.value_fn.net[-1].weight.zero_()
            col.value_fn.net[-1].bias.fill_(c)
        try:
            out = col.collect()
            return col, out
        finally:
            col.close()


@pytest.mark.parametrize("vectorization", ["auto", "sync"])
def test_vectorised_cartpole_truncation_bootstraps(vectorization):
    c, gamma = 2.0, 0.9
    col, out = _constant_value_rollout("RlbookTestCartPole5-v0", c, gamma, 0.0, vectorization)
    assert isinstance(col.envs, agents._SameStepCartPole) == (vectorization == "auto")
    adv = out[-2].numpy().reshape(12, 2)
    # every episode is cut at 5 steps by the time limit: each TD error bootstraps
    # from V(final obs) = c, and no reward-0 reset step enters the rollout
    np.testing.assert_allclose(adv, 1 + gamma * c - c, rtol=1e-6)
    assert col.ep_returns == [5.0] * 4
    # lam = 1: reward-to-go within the episode plus gamma^k V(final obs), minus V
    _, out = _constant_value_rollout("RlbookTestCartPole5-v0", c, gamma, 1.0, vectorization)
    k = 5 - np.arange(12) % 5
    k = np.where(np.arange(12) >= 10, 12 - np.arange(12), k)
    expected = (1 - gamma**k) / (1 - gamma) + gamma**k * c - c
    np.testing.assert_allclose(out[-2].numpy().reshape(12, 2),
                               np.repeat(expected[:, None], 2, axis=1), rtol=1e-5)


def test_vectorised_cartpole_termination_does_not_bootstrap():
    c, gamma = 2.0, 0.9
    col, out = _constant_value_rollout("CartPole-v1", c, gamma, 0.0, n_steps=100)
    adv = out[-2].numpy()
    terminal = np.isclose(adv, 1 - c)
    # a near-uniform policy never reaches 500 steps: every finished episode terminated
    assert terminal.sum() == len(col.ep_returns) > 0
    np.testing.assert_allclose(adv[~terminal], 1 + gamma * c - c, rtol=1e-6)


def test_vectorization_fallback_and_errors():
    assert isinstance(agents._make_rollout_env("CartPole-v1", 2), agents._SameStepCartPole)
    sync = agents._make_rollout_env("CartPole-v1", 2, "sync")
    assert isinstance(sync, gym.vector.SyncVectorEnv)
    sync.close()
    # Pendulum has no NumPy-vectorised environment: "auto" falls back, and trains
    pend = agents._make_rollout_env("Pendulum-v1", 2)
    assert isinstance(pend, gym.vector.SyncVectorEnv)
    pend.close()
    small = dict(total_steps=256, n_envs=4, n_steps=64, seed=1, minibatch_size=128, epochs=1)
    assert rb.train_ppo(rb.PPOConfig(env_id="Pendulum-v1", **small)).total_steps == 256
    a = rb.train_ppo(rb.PPOConfig(vectorization="sync", **small))
    b = rb.train_ppo(rb.PPOConfig(vectorization="vector_entry_point", **small))
    assert a.total_steps == b.total_steps == 256
    with pytest.raises(ValueError, match="vector_entry_point.*Pendulum"):
        rb.train_ppo(rb.PPOConfig(env_id="Pendulum-v1", vectorization="vector_entry_point",
                                  **small))
    with pytest.raises(ValueError, match="vectorization"):
        rb.train_ppo(rb.PPOConfig(vectorization="async", **small))
    with pytest.raises(ValueError, match="vectorization"):
        rb.train_trpo(rb.TRPOConfig(vectorization="numpy", total_steps=256, n_envs=4,
                                    n_steps=64))


def test_categorical_sampling_by_inversion_has_the_policy_probabilities():
    torch.manual_seed(0)
    pol = MLPPolicy(3, 4)
    params = torch.log_softmax(torch.tensor([[0.0, 1.0, -1.0, 0.5]]), -1).expand(40_000, 4)
    a = pol.sample(params, noise=pol.noise((len(params),), torch.Generator().manual_seed(2)))
    freq = np.bincount(a.numpy(), minlength=4) / len(a)
    p = params[0].exp().numpy()
    se = np.sqrt(p * (1 - p) / len(a))
    assert np.all(np.abs(freq - p) < 4 * se)
    # power: the frequencies reject a shifted distribution
    assert np.any(np.abs(freq - np.roll(p, 1)) > 4 * se)
    # the noise decides: the same uniforms give the same actions
    u = pol.noise((5,), torch.Generator().manual_seed(3))
    assert torch.equal(pol.sample(params[:5], noise=u), pol.sample(params[:5], noise=u))
    np.testing.assert_array_equal(pol.sample(params[:3], noise=torch.tensor([0.0, 0.999, 0.5])),
                                  [0, 3, 1])
    # Gaussian: mean + exp(log_std) * z
    gpol = MLPPolicy(3, 2, discrete=False, low=[-1, -1], high=[1, 1])
    gp = torch.tensor([[0.5, -0.5, 0.0, np.log(2.0)]], dtype=torch.float32)
    z = gpol.noise((1,), torch.Generator().manual_seed(4))
    assert z.shape == (1, 2)
    expected = torch.tensor([[0.5, -0.5]]) + z * torch.tensor([1.0, 2.0])
    torch.testing.assert_close(gpol.sample(gp, noise=z), expected)


@pytest.mark.parametrize("rule", ["adam", "rmsprop"])
def test_flat_optimizer_is_clip_grad_norm_then_torch_optimizer(rule):
    # the flat-vector update against torch's own clip_grad_norm_ + Adam / RMSprop
    # (alpha 0.99, as A2C uses it), step by step
    def nets():
        torch.manual_seed(0)
        return MLPPolicy(4, 2), MLPValue(4)

    x = torch.randn(32, 4)
    acts = torch.randint(0, 2, (32,))

    def loss(pol, vf):
        return -pol.log_prob(pol(x), acts).mean() + (vf(x) ** 2).mean()

    for max_norm in (0.05, None):
        p1, v1 = nets()
        p2, v2 = nets()
        params = list(p1.parameters()) + list(v1.parameters())
        ref = (torch.optim.Adam(params, lr=1e-2, eps=1e-5) if rule == "adam" else
               torch.optim.RMSprop(params, lr=1e-2, alpha=0.99, eps=1e-5))
        flat = _FlatOptimizer(list(p2.parameters()) + list(v2.parameters()), eps=1e-5,
                              rule=rule)
        for k in range(5):
            lr = 1e-2 * (1 - k / 5)
            for g in ref.param_groups:
                g["lr"] = lr
            ref.zero_grad()
            loss(p1, v1).backward()
            if max_norm is not None:
                torch.nn.utils.clip_grad_norm_(params, max_norm)
            ref.step()
            flat.step(loss(p2, v2), lr, max_norm)
        for a, b in zip(params, list(p2.parameters()) + list(v2.parameters())):
            torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
        assert not torch.equal(params[0], nets()[0].net[0].weight)  # the parameters moved


def test_flat_optimizer_rejects_an_unknown_rule():
    with pytest.raises(ValueError, match="rule is 'sgd'"):
        _FlatOptimizer([torch.nn.Parameter(torch.zeros(2))], eps=1e-5, rule="sgd")


def test_networks_run_their_layers_as_the_sequential_would():
    # forward() calls F.linear / tanh directly: bit for bit what nn.Sequential computes
    torch.manual_seed(3)
    x = torch.randn(16, 4)
    for net in (MLPPolicy(4, 3, (8, 5)).net, MLPValue(4, (6,)).net):
        torch.testing.assert_close(_run_tanh_mlp(net, x), net(x), rtol=0, atol=0)
    pol = MLPPolicy(4, 3, (8, 5))
    torch.testing.assert_close(pol(x), torch.log_softmax(pol.net(x), dim=-1), rtol=0, atol=0)

