"""TD3: twin delayed DDPG (Fujimoto et al. 2018), read next to its algorithm box
in chapter *Continuous control and maximum entropy*.

Three changes to DDPG, each a switch of :class:`TD3Config` so that the chapter
can show its effect: clipped double Q (the target takes the smaller of two
critics), target policy smoothing (clipped Gaussian noise on the target
action) and delayed policy updates (the actor and the targets move every
``policy_delay`` critic updates).
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
from .._validate import check_int

__all__ = ["TD3Config", "train_td3"]


@dataclass(frozen=True)
class TD3Config(_OffPolicyConfig):
    """Settings of :func:`train_td3`; the defaults are the book's Pendulum-v1 preset
    (rl-baselines3-zoo's TD3 settings for Pendulum-v1)."""

    exploration_noise: float = 0.1
    """Std of the Gaussian exploration noise, in units of the half-width of the action box."""
    policy_delay: int = 2
    """Critic updates per actor (and target) update; 1 switches the delay off."""
    target_noise: float = 0.2
    """Std of the target policy smoothing noise (normalised units); 0 switches smoothing off."""
    target_noise_clip: float = 0.5
    """The smoothing noise is clipped to ``[-c, c]``."""
    clipped_double_q: bool = True
    """Target from the minimum of two critics; False uses one critic (DDPG's target)."""


def _check(config):
    if not isinstance(config, TD3Config):
        raise TypeError(f"config must be a TD3Config, got {type(config).__name__}")
    _check_config(config)
    check_int(config.policy_delay, "policy_delay", minimum=1)
    for name in ("exploration_noise", "target_noise", "target_noise_clip"):
        _check_real(getattr(config, name), name, 0.0, None, what=" (>= 0)")


def train_td3(config: TD3Config | None = None, progress: bool = False):
    r"""Train TD3 on a continuous-control Gymnasium environment.

    Per environment step (after ``learning_starts`` random steps), with a
    minibatch ``(s, a, r, s', d)`` from the replay buffer:

    .. math::

        \tilde a' &= \operatorname{clip}\big(\mu_{\bar\phi}(s') + \operatorname{clip}(\epsilon, -c, c), -1, 1\big),
        \quad \epsilon \sim \mathcal N(0, \tilde\sigma^2), \\
        y &= r + \gamma (1 - d) \min_{i=1,2} Q_{\bar w_i}(s', \tilde a'), \\
        w_i &\leftarrow w_i - \beta_Q \nabla_{w_i} \tfrac1B \textstyle\sum (Q_{w_i}(s, a) - y)^2,

    and every ``policy_delay`` steps the deterministic policy gradient step
    on ``-Q_{w_1}(s, mu_phi(s))`` followed by Polyak averaging of all targets.

    Returns
    -------
    TrainResult
        ``policy`` is the :class:`DeterministicActor`, ``value_fn`` the
        :class:`QEnsemble`; ``diagnostics`` holds, at every episode end,
        ``critic_loss``, ``q_mean`` (mean ``Q_1`` on the last minibatch) and
        ``actor_loss``.
    """
    config = TD3Config() if config is None else config
    _check(config)
    t0 = time.perf_counter()
    bar = _bar(config, progress, "TD3")
    with _torch_session(config.seed, config.torch_threads), bar:
        loop = _EnvLoop(config, bar)
        try:
            return _train(config, loop, t0)
        finally:
            loop.close()


def _train(cfg, loop, t0):
    d = loop.act_dim
    actor = DeterministicActor(loop.obs_dim, d, cfg.hidden_sizes, loop.low, loop.high)
    critic = QEnsemble(loop.obs_dim, d, cfg.hidden_sizes, n=2 if cfg.clipped_double_q else 1)
    actor_targ, critic_targ = copy.deepcopy(actor), copy.deepcopy(critic)
    opt_actor = torch.optim.Adam(actor.parameters(), lr=cfg.actor_lr, fused=True)
    opt_critic = torch.optim.Adam(critic.parameters(), lr=cfg.critic_lr, fused=True)
    buf = ReplayBuffer(max(min(cfg.buffer_size, cfg.total_steps), cfg.batch_size),
                       (loop.obs_dim,), (d,), action_dtype=np.float32)
    rng = np.random.default_rng(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)
    diag = {"step": [], "critic_loss": [], "q_mean": [], "actor_loss": []}
    c_loss = q_mean = a_loss = torch.tensor(float("nan"))
    n_updates = 0
    for t in range(cfg.total_steps):
        # 1. collect: a = clip(mu(s) + noise) (uniform at first), store the transition
        a = _explore(cfg, actor, loop.obs, t, d, rng)
        n_eps = len(loop.ep_returns)
        buf.add(*loop.step(a))
        if t >= cfg.learning_starts:
            b = buf.sample(cfg.batch_size, rng, as_torch=True)
            # 2. targets: smoothed target action, minimum over the target critics
            with torch.no_grad():
                eps = (cfg.target_noise * torch.randn(b.actions.shape, generator=gen)).clamp(
                    -cfg.target_noise_clip, cfg.target_noise_clip)
                a2 = (actor_targ(b.next_obs) + eps).clamp(-1.0, 1.0)
                y = b.rewards + cfg.gamma * (1.0 - b.terminated) * critic_targ(b.next_obs, a2).min(0).values
            # 3. critic update: every critic regresses on the same target
            q = critic(b.obs, b.actions)
            c_loss = ((q - y) ** 2).mean(1).sum()
            opt_critic.zero_grad(set_to_none=True)
            c_loss.backward()
            opt_critic.step()
            n_updates += 1
            # 4. delayed actor update and Polyak averaging of the targets
            if n_updates % cfg.policy_delay == 0:
                a_loss = -critic(b.obs, actor(b.obs), frozen=True, first_only=True)[0].mean()
                opt_actor.zero_grad(set_to_none=True)
                a_loss.backward()
                opt_actor.step()
                polyak_update(actor_targ, actor, cfg.tau)
                polyak_update(critic_targ, critic, cfg.tau)
            q_mean = q[0].detach().mean()
        if len(loop.ep_returns) > n_eps:
            diag["step"].append(loop.steps)
            diag["critic_loss"].append(float(c_loss.detach()))
            diag["q_mean"].append(float(q_mean))
            diag["actor_loss"].append(float(a_loss.detach()))
    return _finish(loop, cfg, actor, critic, t0, diag)
