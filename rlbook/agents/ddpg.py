"""DDPG: deep deterministic policy gradient (Lillicrap et al. 2016), read next to
its algorithm box in chapter *Continuous control and maximum entropy*.

The deterministic policy gradient of chapter C10 with DQN's two stabilisers:
experience replay and target networks, the targets following the online
networks by Polyak averaging. Exploration adds Gaussian noise to the actor's
action.
"""
from __future__ import annotations

import copy
import time
from dataclasses import dataclass

import numpy as np
import torch

from ._nets import DeterministicActor, QEnsemble
from ._offpolicy import _bar, _explore, _check_config, _OffPolicyConfig, _check_real, _EnvLoop, _finish, polyak_update
from ._replay import ReplayBuffer
from ._rollout import _torch_session

__all__ = ["DDPGConfig", "train_ddpg"]


@dataclass(frozen=True)
class DDPGConfig(_OffPolicyConfig):
    """Settings of :func:`train_ddpg`; the defaults are the book's Pendulum-v1 preset
    (rl-baselines3-zoo's DDPG settings for Pendulum-v1)."""

    exploration_noise: float = 0.1
    """Std of the Gaussian exploration noise, in units of the half-width of the action box."""


def train_ddpg(config: DDPGConfig | None = None, progress: bool = False):
    r"""Train DDPG on a continuous-control Gymnasium environment.

    Per environment step (after ``learning_starts`` random steps), with a
    minibatch ``(s, a, r, s', d)`` from the replay buffer:

    .. math::

        y &= r + \gamma (1 - d)\, Q_{\bar w}(s', \mu_{\bar\phi}(s')), \\
        w &\leftarrow w - \beta_Q \nabla_w \tfrac1B \textstyle\sum (Q_w(s, a) - y)^2, \\
        \phi &\leftarrow \phi + \beta_\mu \tfrac1B \textstyle\sum \nabla_a Q_w(s, a)|_{a = \mu_\phi(s)} \nabla_\phi \mu_\phi(s), \\
        \bar w &\leftarrow (1 - \tau) \bar w + \tau w, \quad \bar\phi \leftarrow (1 - \tau)\bar\phi + \tau\phi.

    Returns
    -------
    TrainResult
        ``policy`` is the :class:`DeterministicActor`, ``value_fn`` the critic
        (a one-member :class:`QEnsemble`); ``diagnostics`` as in :func:`train_td3`.
    """
    config = DDPGConfig() if config is None else config
    if not isinstance(config, DDPGConfig):
        raise TypeError(f"config must be a DDPGConfig, got {type(config).__name__}")
    _check_config(config)
    _check_real(config.exploration_noise, "exploration_noise", 0.0, None, what=" (>= 0)")
    t0 = time.perf_counter()
    bar = _bar(config, progress, "DDPG")
    with _torch_session(config.seed, config.torch_threads), bar:
        loop = _EnvLoop(config, bar)
        try:
            return _train(config, loop, t0)
        finally:
            loop.close()


def _train(cfg, loop, t0):
    d = loop.act_dim
    actor = DeterministicActor(loop.obs_dim, d, cfg.hidden_sizes, loop.low, loop.high)
    critic = QEnsemble(loop.obs_dim, d, cfg.hidden_sizes, n=1)
    actor_targ, critic_targ = copy.deepcopy(actor), copy.deepcopy(critic)
    opt_actor = torch.optim.Adam(actor.parameters(), lr=cfg.actor_lr, fused=True)
    opt_critic = torch.optim.Adam(critic.parameters(), lr=cfg.critic_lr, fused=True)
    buf = ReplayBuffer(max(min(cfg.buffer_size, cfg.total_steps), cfg.batch_size),
                       (loop.obs_dim,), (d,), action_dtype=np.float32)
    rng = np.random.default_rng(cfg.seed)
    diag = {"step": [], "critic_loss": [], "q_mean": [], "actor_loss": []}
    c_loss = q_mean = a_loss = torch.tensor(float("nan"))
    for t in range(cfg.total_steps):
        # 1. collect: a = clip(mu(s) + noise) (uniform at first), store the transition
        a = _explore(cfg, actor, loop.obs, t, d, rng)
        n_eps = len(loop.ep_returns)
        buf.add(*loop.step(a))
        if t >= cfg.learning_starts:
            b = buf.sample(cfg.batch_size, rng, as_torch=True)
            # 2. target from the target actor and the target critic
            with torch.no_grad():
                y = b.rewards + cfg.gamma * (1.0 - b.terminated) * critic_targ(
                    b.next_obs, actor_targ(b.next_obs))[0]
            # 3. critic regression, then the deterministic policy gradient step
            q = critic(b.obs, b.actions)[0]
            c_loss = ((q - y) ** 2).mean()
            opt_critic.zero_grad(set_to_none=True)
            c_loss.backward()
            opt_critic.step()
            a_loss = -critic(b.obs, actor(b.obs), frozen=True, first_only=True)[0].mean()
            opt_actor.zero_grad(set_to_none=True)
            a_loss.backward()
            opt_actor.step()
            # 4. Polyak averaging of both targets
            polyak_update(actor_targ, actor, cfg.tau)
            polyak_update(critic_targ, critic, cfg.tau)
            q_mean = q.detach().mean()
        if len(loop.ep_returns) > n_eps:
            diag["step"].append(loop.steps)
            diag["critic_loss"].append(float(c_loss.detach()))
            diag["q_mean"].append(float(q_mean))
            diag["actor_loss"].append(float(a_loss.detach()))
    return _finish(loop, cfg, actor, critic, t0, diag)
