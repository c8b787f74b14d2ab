import os

import gymnasium as gym
import numpy as np
import pytest
import torch

import rlbook as rb
from rlbook.agents import _rollout as agents


class _Chain(gym.Env):
    """Reward 1 per step; terminates after `term_at` steps if given, else runs until the time limit."""

    def __init__(self, term_at=None, action_space=None):
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, (2,), np.float32)
        self.action_space = action_space if action_space is not None else gym.spaces.Discrete(2)
        self.term_at = term_at
        self.t = 0

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.zeros(2, np.float32), {}

    def step(self, action):
        self.t += 1
        term = self.term_at is not None and self.t >= self.term_at
        return np.array([self.t, 1.0], np.float32), 1.0, term, False, {}


gym.register("RlbookTestTrunc-v0", entry_point=lambda: _Chain(None), max_episode_steps=5)
gym.register("RlbookTestTerm-v0", entry_point=lambda: _Chain(3), max_episode_steps=50)
gym.register("RlbookTestMultiBinary-v0", entry_point=lambda: _Chain(None, gym.spaces.MultiBinary(3)),
             max_episode_steps=5)

SMALL = dict(total_steps=1024, n_envs=4, n_steps=64, seed=3)


def test_ppo_smoke_and_determinism():
    cfg = rb.PPOConfig(minibatch_size=64, epochs=2, **SMALL)
    a = rb.train_ppo(cfg)
    b = rb.train_ppo(cfg)
    n_updates = 1024 // 256
    steps, returns = a.curve
    assert steps.shape == returns.shape == (n_updates,)
    np.testing.assert_array_equal(steps, 256 * np.arange(1, n_updates + 1))
    assert a.total_steps == 1024 and a.wall_time > 0
    assert len(a.episode_returns) == len(a.episode_steps) > 0
    np.testing.assert_array_equal(a.curve.returns, b.curve.returns)
    np.testing.assert_array_equal(a.episode_returns, b.episode_returns)
    for p, q in zip(a.policy.parameters(), b.policy.parameters()):
        assert torch.equal(p, q)
    for k in ("approx_kl", "clip_fraction", "entropy", "value_loss", "lr", "clip_eps"):
        assert a.diagnostics[k].shape == (n_updates,)
    assert np.all(np.diff(a.diagnostics["lr"]) < 0)  # annealed
    # a different seed gives a different run
    c = rb.train_ppo(rb.PPOConfig(minibatch_size=64, epochs=2, **{**SMALL, "seed": 4}))
    assert not np.array_equal(a.episode_returns, c.episode_returns)


def test_training_leaves_global_torch_state_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    threads = torch.get_num_threads()
    rb.train_ppo(rb.PPOConfig(minibatch_size=128, epochs=1, **SMALL))
    assert torch.equal(torch.rand(3), expected)
    assert torch.get_num_threads() == threads


def test_trpo_smoke_and_determinism():
    cfg = rb.TRPOConfig(vf_epochs=1, **SMALL)
    a = rb.train_trpo(cfg)
    b = rb.train_trpo(cfg)
    assert a.curve.steps.shape == (4,)
    np.testing.assert_array_equal(a.curve.returns, b.curve.returns)
    assert (a.diagnostics["kl"] <= cfg.max_kl).all()
    assert a.diagnostics["accepted"].dtype == bool


def test_gaussian_policy_on_box_actions():
    res = rb.train_ppo(rb.PPOConfig(env_id="Pendulum-v1", minibatch_size=128, epochs=1, **SMALL))
    assert not res.policy.discrete
    ret = rb.evaluate_policy_gym(res.policy, "Pendulum-v1", 2, seed=0)
    assert ret.shape == (2,) and np.all(ret < 0)
    res = rb.train_trpo(rb.TRPOConfig(env_id="Pendulum-v1", vf_epochs=1, **SMALL))
    assert (res.diagnostics["kl"] <= 0.01).all()


def test_evaluate_policy_gym():
    res = rb.train_ppo(rb.PPOConfig(minibatch_size=256, epochs=1, **SMALL))
    r1 = rb.evaluate_policy_gym(res.policy, "CartPole-v1", 5, seed=7)
    r2 = rb.evaluate_policy_gym(res.policy, "CartPole-v1", 5, seed=7)
    assert r1.shape == (5,)
    np.testing.assert_array_equal(r1, r2)
    # a callable policy: always push left -> short episodes (CartPole fails within ~10 steps)
    left = rb.evaluate_policy_gym(lambda obs: np.zeros(len(obs), dtype=int), "CartPole-v1", 4, seed=0)
    assert np.all(left < 20)
    with pytest.raises(TypeError, match="policy"):
        rb.evaluate_policy_gym(3, "CartPole-v1", 2, seed=0)
    with pytest.raises(ValueError, match="n_episodes"):
        rb.evaluate_policy_gym(res.policy, "CartPole-v1", 0, seed=0)


def _collector_with_constant_value(env_id, c, gamma, lam):
    cfg = rb.PPOConfig(env_id=env_id, n_envs=2, n_steps=12, total_steps=24, minibatch_size=24, gamma=gamma, lam=lam)
    with agents._torch_session(0, 1):
        col = agents._Collector(cfg)
        with torch.no_grad():
            last = col.value_fn.net[-1]
            last.weight.zero_()
            last.bias.fill_(c)
        out = col.collect()
        col.close()
    return out


def test_truncation_bootstraps_and_termination_does_not():
    c, gamma = 2.0, 0.9
    # time limit 5: truncated every 5th step -> TD error bootstraps from V(final obs) = c
    *_, adv, ret = _collector_with_constant_value("RlbookTestTrunc-v0", c, gamma, 0.0)
    adv = adv.numpy().reshape(12, 2)
    np.testing.assert_allclose(adv, 1 + gamma * c - c, rtol=1e-6)
    # terminated after 3 steps: no bootstrap at steps 2, 5, 8, 11
    *_, adv, _ = _collector_with_constant_value("RlbookTestTerm-v0", c, gamma, 0.0)
    adv = adv.numpy().reshape(12, 2)
    term = np.arange(12) % 3 == 2
    np.testing.assert_allclose(adv[term], 1 - c, rtol=1e-6)
    np.testing.assert_allclose(adv[~term], 1 + gamma * c - c, rtol=1e-6)
    # lam = 1 within a truncated episode: discounted reward-to-go plus gamma^k V(final obs), minus V
    *_, adv, _ = _collector_with_constant_value("RlbookTestTrunc-v0", c, gamma, 1.0)
    adv = adv.numpy().reshape(12, 2)
    k = 5 - np.arange(12) % 5  # steps left in the episode
    last_block = np.arange(12) >= 10  # the rollout ends after 2 steps of the third episode
    k = np.where(last_block, 12 - np.arange(12), k)
    expected = (1 - gamma**k) / (1 - gamma) + gamma**k * c - c
    np.testing.assert_allclose(adv, np.repeat(expected[:, None], 2, axis=1), rtol=1e-5)


def test_config_errors():
    with pytest.raises(ValueError, match="minibatch_size"):
        rb.train_ppo(rb.PPOConfig(minibatch_size=100, **SMALL))
    with pytest.raises(ValueError, match="total_steps"):
        rb.train_ppo(rb.PPOConfig(total_steps=10))
    with pytest.raises(ValueError, match="lr"):
        rb.train_ppo(rb.PPOConfig(lr=0.0))
    with pytest.raises(ValueError, match="clip_eps"):
        rb.train_ppo(rb.PPOConfig(clip_eps=-0.2))
    with pytest.raises(ValueError, match="gamma"):
        rb.train_ppo(rb.PPOConfig(gamma=1.5))
    with pytest.raises(ValueError, match="lam"):
        rb.train_ppo(rb.PPOConfig(lam=2.0))
    with pytest.raises(ValueError, match="epochs"):
        rb.train_ppo(rb.PPOConfig(epochs=0))
    with pytest.raises(ValueError, match="hidden_sizes"):
        rb.train_ppo(rb.PPOConfig(hidden_sizes=(64, 0)))
    with pytest.raises(ValueError, match="target_kl"):
        rb.train_ppo(rb.PPOConfig(target_kl=-1.0))
    with pytest.raises(TypeError, match="PPOConfig"):
        rb.train_ppo(rb.TRPOConfig())
    with pytest.raises(TypeError, match="TRPOConfig"):
        rb.train_trpo(rb.PPOConfig())
    with pytest.raises(ValueError, match="max_kl"):
        rb.train_trpo(rb.TRPOConfig(max_kl=0.0))
    with pytest.raises(ValueError, match="backtrack_coeff"):
        rb.train_trpo(rb.TRPOConfig(backtrack_coeff=1.5))
    with pytest.raises(ValueError, match="cg_iters"):
        rb.train_trpo(rb.TRPOConfig(cg_iters=0))
    with pytest.raises(ValueError, match="damping"):
        rb.train_trpo(rb.TRPOConfig(damping=-1.0))


def test_unsupported_spaces():
    with pytest.raises(ValueError, match="MultiBinary"):
        rb.train_ppo(rb.PPOConfig(env_id="RlbookTestMultiBinary-v0", minibatch_size=64, **SMALL))
    with pytest.raises(ValueError, match="observation space"):
        rb.train_ppo(rb.PPOConfig(env_id="Blackjack-v1", minibatch_size=64, **SMALL))


def test_progress_bar_and_presets(capsys):
    res = rb.train_ppo(rb.PPOConfig(minibatch_size=256, epochs=1, **SMALL), progress=True)
    assert res.total_steps == 1024
    # the root conftest sets TQDM_DISABLE=0, which tqdm (reading it at import) takes as "disable"
    if "TQDM_DISABLE" not in os.environ:
        assert "PPO" in capsys.readouterr().out
    assert rb.PPOConfig.rl_zoo_cartpole().epochs == 20
    nb = rb.PPOConfig.notebook_cartpole()
    assert nb.env_id == "CartPole-v1" and nb.total_steps == 100_000 and nb.seed == 0


def test_diagnostics_target_kl_and_value_clip():
    res = rb.train_ppo(rb.PPOConfig(minibatch_size=64, epochs=8, target_kl=1e-6, vf_clip=0.2, ent_coef=0.01, **SMALL))
    # the tiny target KL stops every update after its first epoch
    np.testing.assert_array_equal(res.diagnostics["epochs"], 1)
    assert np.all(res.diagnostics["entropy"] > 0) and np.all(res.diagnostics["entropy"] <= np.log(2) + 1e-6)


def test_minibatch_of_one_sample_does_not_produce_nan():
    # the std of a single advantage is nan: standardising it would poison every parameter
    res = rb.train_ppo(rb.PPOConfig(total_steps=32, n_envs=2, n_steps=8, minibatch_size=1, epochs=1, seed=0))
    assert all(torch.isfinite(p).all() for p in res.policy.parameters())
    assert all(torch.isfinite(p).all() for p in res.value_fn.parameters())


def test_rollout_actions_are_sampled_by_the_torch_policy():
    # regression: the collector used a NumPy copy of the network (_np_layers /
    # _np_action) and a NumPy generator; actions now come from policy.sample with
    # noise drawn per rollout from the collector's torch generator, so a replay with
    # the same generator state reproduces them exactly
    cfg = rb.PPOConfig(minibatch_size=64, epochs=1, **SMALL)
    torch.manual_seed(0)
    col = agents._Collector(cfg)
    try:
        assert not hasattr(col, "_np_action") and not hasattr(col, "rng")
        replay = torch.Generator()
        replay.set_state(col.gen.get_state())
        obs, act, *_ = col.collect()
        with torch.no_grad():
            params = col.policy(obs).reshape(cfg.n_steps, cfg.n_envs, -1)
            noise = col.policy.noise((cfg.n_steps, cfg.n_envs), replay)
            again = torch.stack([col.policy.sample(params[t], noise=noise[t])
                                 for t in range(cfg.n_steps)])
        assert torch.equal(again.reshape(-1), act)
    finally:
        col.close()
