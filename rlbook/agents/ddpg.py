"""DDPG: deep deterministic policy gradient (Lillicrap et al. 2016), read next to
its algorithm box in chapter *Continuous control and maximum entropy*.

The deterministic policy gradient of chapter C10 with DQN's two stabilisers:
experience replay and target networks, the targets following the online
networks by Polyak averaging. Exploration adds Gaussian noise to the actor's
action. The environment loop, the replay buffer and the optimisers are in
``_offpolicy.py``; this file holds the update.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ._nets import DeterministicActor, QEnsemble
from ._offpolicy import _Agent, _checked, _check_real, _OffPolicyConfig, _train

__all__ = ["DDPGConfig", "train_ddpg"]


@dataclass(frozen=True)
class DDPGConfig(_OffPolicyConfig):
    """Settings of :func:`train_ddpg`; the defaults are the book's Pendulum-v1 preset:
    rl-baselines3-zoo's DDPG settings for Pendulum-v1 except the hidden layers, ``(64, 64)``
    instead of ``(400, 300)`` (small networks learn Pendulum as well, at a fraction of
    the cost; ``benchmarks/continuous_control.py`` measures both)."""

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
    config = _checked(config, DDPGConfig)
    _check_real(config.exploration_noise, "exploration_noise", 0.0, None, what=" (>= 0)")
    return _train(config, progress, "DDPG", _DDPG)


class _DDPG(_Agent):
    """DDPG's two steps; TD3 (``td3.py``) changes the critics' number and the update."""

    def __init__(self, cfg, loop, n_critics=1):
        super().__init__(cfg, DeterministicActor(loop.obs_dim, loop.act_dim, cfg.hidden_sizes,
                                                 loop.low, loop.high),
                         QEnsemble(loop.obs_dim, loop.act_dim, cfg.hidden_sizes, n=n_critics))
        self._d = loop.act_dim

    @torch.no_grad()
    def act(self, obs, t, rng):
        """1. collect: ``clip(mu(s) + sigma N(0, I), -1, 1)``, uniform in the first
        ``learning_starts`` steps (the loop stores the transition)."""
        if t < self.cfg.learning_starts:
            return rng.uniform(-1.0, 1.0, self._d)
        mu = self.actor(torch.from_numpy(obs)).numpy()
        return np.clip(mu + self.cfg.exploration_noise * rng.standard_normal(self._d), -1.0, 1.0)

    def actor_step(self, obs):
        """The deterministic policy gradient step: descend ``-Q_1(s, mu(s))``, the
        critic frozen (its weights get no gradient)."""
        a_loss = -self.critic(obs, self.actor(obs), frozen=True, first_only=True)[0].mean()
        self.a_loss = self._step(self.opt_actor, a_loss)

    def update(self, b):
        # 2. target from the target actor and the target critic
        with torch.no_grad():
            q_next = self.critic_targ(b.next_obs, self.actor_targ(b.next_obs))[0]
            y = b.rewards + self.cfg.gamma * (1.0 - b.terminated) * q_next
        # 3. critic regression, then the deterministic policy gradient step
        self.q = self.critic(b.obs, b.actions)
        self.c_loss = self._step(self.opt_critic, ((self.q[0] - y) ** 2).mean())
        self.actor_step(b.obs)
        # 4. Polyak averaging of both targets
        self._polyak()
