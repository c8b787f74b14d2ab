"""DDPG, TD3, SAC: smoke runs, determinism, the replay buffer, Polyak averaging, bad input."""
from dataclasses import replace

import gymnasium as gym
import numpy as np
import pytest
import torch

import rlbook as rb


class _Box(gym.Env):
    """A 1-D point moved by the action; reward -|x|; unbounded actions if asked."""

    def __init__(self, low=-1.0, high=1.0):
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, (2,), np.float32)
        self.action_space = gym.spaces.Box(np.float32(low), np.float32(high), (1,), np.float32)
        self.x = 0.0

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        self.x = float(self.np_random.uniform(-1, 1))
        return np.array([self.x, 1.0], np.float32), {}

    def step(self, action):
        self.x += 0.1 * float(np.clip(action[0], -1, 1))
        return np.array([self.x, 1.0], np.float32), -abs(self.x), False, False, {}


gym.register("RlbookTestBox-v0", entry_point=lambda: _Box(), max_episode_steps=20)
gym.register("RlbookTestUnbounded-v0", entry_point=lambda: _Box(-np.inf, np.inf),
             max_episode_steps=20)

TINY = dict(total_steps=300, learning_starts=100, batch_size=32, hidden_sizes=(16, 16), seed=5)
AGENTS = [(rb.train_ddpg, rb.DDPGConfig), (rb.train_td3, rb.TD3Config), (rb.train_sac, rb.SACConfig)]


@pytest.mark.parametrize("train, Config", AGENTS)
def test_smoke_determinism_and_result(train, Config):
    cfg = Config(**TINY)
    a, b = train(cfg), train(cfg)
    assert a.total_steps == 300 and len(a.episode_returns) == 1          # Pendulum: 200-step episodes
    np.testing.assert_array_equal(a.episode_returns, b.episode_returns)
    for p, q in zip(a.policy.parameters(), b.policy.parameters()):
        assert torch.equal(p, q)
    obs = np.zeros((4, 3), np.float32)
    act = a.policy.act(obs)
    assert act.shape == (4, 1) and np.all(np.abs(act) <= 2.0)
    assert a.value_fn(torch.zeros(4, 3), torch.zeros(4, 1)).shape[1] == 4
    assert set(a.diagnostics) >= {"critic_loss", "q_mean", "actor_loss"}
    ret = rb.evaluate_policy_gym(a.policy, "Pendulum-v1", n_episodes=2, seed=0)
    assert ret.shape == (2,)


def test_td3_switches_and_sac_fixed_alpha():
    cfg = rb.TD3Config(**TINY)
    plain = rb.train_td3(replace(cfg, clipped_double_q=False, target_noise=0.0, policy_delay=1))
    assert plain.value_fn.n == 1
    sac = rb.train_sac(rb.SACConfig(**TINY, autotune=False, alpha=0.2))
    np.testing.assert_allclose(sac.diagnostics["alpha"], 0.2, rtol=1e-6)
    tuned = rb.train_sac(rb.SACConfig(**TINY))
    assert tuned.diagnostics["alpha"][-1] != 1.0


def test_progress_bar(capsys):
    rb.train_sac(rb.SACConfig(**TINY), progress=True)
    out = capsys.readouterr().out
    assert "SAC Pendulum-v1" in out and "300/300" in out


def test_custom_env_with_other_bounds():
    res = rb.train_td3(rb.TD3Config(**{**TINY, "total_steps": 150}, env_id="RlbookTestBox-v0"))
    assert len(res.episode_returns) == 7
    np.testing.assert_allclose(res.policy.act_scale.numpy(), [1.0])


@pytest.mark.parametrize("train, Config", AGENTS)
def test_config_errors(train, Config):
    with pytest.raises(ValueError, match="not continuous"):
        train(Config(**TINY, env_id="CartPole-v1"))
    with pytest.raises(ValueError, match="finite"):
        train(Config(**TINY, env_id="RlbookTestUnbounded-v0"))
    for tau in (0.0, -0.1, 1.5, float("nan")):
        with pytest.raises(ValueError, match="tau"):
            train(Config(**{**TINY, "tau": tau}))
    with pytest.raises(ValueError, match="buffer_size"):
        train(Config(**{**TINY, "buffer_size": 16}))
    with pytest.raises(ValueError, match="gamma"):
        train(Config(**{**TINY, "gamma": 1.0}))
    with pytest.raises(ValueError, match="hidden_sizes"):
        train(Config(**{**TINY, "hidden_sizes": (0,)}))
    with pytest.raises(ValueError, match="actor_lr"):
        train(Config(**{**TINY, "actor_lr": 0.0}))
    with pytest.raises(ValueError, match="learning_starts"):
        train(Config(**{**TINY, "learning_starts": -1}))
    with pytest.raises(TypeError, match="config"):
        train(object())
    with pytest.raises(TypeError, match="env_id"):
        train(Config(**TINY, env_id=3))


def test_sac_and_td3_specific_errors():
    for alpha in (0.0, -1.0, float("inf")):
        with pytest.raises(ValueError, match="alpha"):
            rb.train_sac(rb.SACConfig(**TINY, alpha=alpha))
    with pytest.raises(ValueError, match="target_entropy"):
        rb.train_sac(rb.SACConfig(**TINY, target_entropy=float("nan")))
    with pytest.raises(ValueError, match="policy_delay"):
        rb.train_td3(rb.TD3Config(**TINY, policy_delay=0))
    with pytest.raises(ValueError, match="target_noise"):
        rb.train_td3(rb.TD3Config(**TINY, target_noise=-0.1))
    with pytest.raises(ValueError, match="exploration_noise"):
        rb.train_ddpg(rb.DDPGConfig(**TINY, exploration_noise=-0.1))


def test_presets_are_the_zoo_settings_but_the_width():
    # the book's presets: rl-baselines3-zoo's Pendulum-v1 settings, hidden layers (64, 64)
    s, t, d = rb.SACConfig(), rb.TD3Config(), rb.DDPGConfig()
    assert (s.total_steps, s.actor_lr, s.critic_lr, s.batch_size, s.buffer_size, s.tau,
            s.learning_starts, s.gamma, s.alpha, s.autotune, s.target_entropy) == \
        (20_000, 1e-3, 1e-3, 256, 1_000_000, 0.005, 100, 0.99, 1.0, True, None)
    for c in (t, d):
        assert (c.total_steps, c.gamma, c.buffer_size, c.learning_starts, c.exploration_noise,
                c.actor_lr, c.critic_lr, c.batch_size, c.tau) == \
            (20_000, 0.98, 200_000, 10_000, 0.1, 1e-3, 1e-3, 256, 0.005)
    assert (t.policy_delay, t.target_noise, t.target_noise_clip, t.clipped_double_q) == \
        (2, 0.2, 0.5, True)
    assert s.hidden_sizes == t.hidden_sizes == d.hidden_sizes == (64, 64)


# ------------------------------------------------------------------ replay, Polyak
def test_replay_buffer_as_the_agents_use_it():
    buf = rb.ReplayBuffer(5, (2,), (1,), action_dtype=np.float32)
    for k in range(3):
        base = 2.0 * k + np.arange(2)
        buf.add(np.stack([base, base], 1), base[:, None], base, np.stack([base, base], 1) + 1,
                np.zeros(2))
    assert len(buf) == 5
    np.testing.assert_array_equal(np.sort(buf.rewards), [1, 2, 3, 4, 5])  # 0 was overwritten
    b = buf.sample(5, np.random.default_rng(0), as_torch=True)
    assert b.obs.shape == (5, 2) and b.actions.shape == (5, 1) and b.actions.dtype == torch.float32
    torch.testing.assert_close(b.next_obs[:, 0], b.obs[:, 0] + 1)
    torch.testing.assert_close(b.actions[:, 0], b.rewards)


def test_polyak_update_is_an_ema():
    torch.manual_seed(0)
    online, target = torch.nn.Linear(3, 2), torch.nn.Linear(3, 2)
    before = [p.detach().clone() for p in target.parameters()]
    rb.polyak_update(target, online, 0.25)
    for b, t, o in zip(before, target.parameters(), online.parameters()):
        torch.testing.assert_close(t.detach(), 0.75 * b + 0.25 * o.detach())
    rb.polyak_update(target, online, 1.0)
    for t, o in zip(target.parameters(), online.parameters()):
        assert torch.equal(t, o)
    for tau in (0.0, 1.01):
        with pytest.raises(ValueError, match="tau"):
            rb.polyak_update(target, online, tau)
    with pytest.raises(ValueError, match="parameter tensors"):
        rb.polyak_update(torch.nn.Linear(3, 2, bias=False), online, 0.5)


def test_policy_returns_from_states_one_step_reward():
    class Const:
        def act(self, obs, deterministic=True):
            return np.full((len(obs), 1), 0.5, np.float32)

    states = np.array([[0.3, -1.0], [np.pi - 0.1, 2.0]])
    G, obs = rb.policy_returns_from_states(Const(), "Pendulum-v1", states, 0.9, 1)
    angle = (states[:, 0] + np.pi) % (2 * np.pi) - np.pi
    np.testing.assert_allclose(G, -(angle ** 2 + 0.1 * states[:, 1] ** 2 + 0.001 * 0.25), rtol=1e-6)
    np.testing.assert_allclose(obs[:, 0], np.cos(states[:, 0]), rtol=1e-6)
    with pytest.raises(ValueError, match="states"):
        rb.policy_returns_from_states(Const(), "Pendulum-v1", np.zeros(2), 0.9, 1)
    with pytest.raises(ValueError, match="horizon"):
        rb.policy_returns_from_states(Const(), "Pendulum-v1", states, 0.9, 0)
