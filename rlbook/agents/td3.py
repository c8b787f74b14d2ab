"""TD3: twin delayed DDPG (Fujimoto et al. 2018), read next to its algorithm box
in chapter *Continuous control and maximum entropy*.

Three changes to DDPG, each a switch of :class:`TD3Config` so that the chapter
can show its effect: clipped double Q (the target takes the smaller of two
critics), target policy smoothing (clipped Gaussian noise on the target
action) and delayed policy updates (the actor and the targets move every
``policy_delay`` critic updates).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from .._validate import check_int
from ._offpolicy import _checked, _check_real, _OffPolicyConfig, _train
from .ddpg import _DDPG

__all__ = ["TD3Config", "train_td3"]


@dataclass(frozen=True)
class TD3Config(_OffPolicyConfig):
    """Settings of :func:`train_td3`; the defaults are the book's Pendulum-v1 preset:
    rl-baselines3-zoo's TD3 settings for Pendulum-v1 except the hidden layers, ``(64, 64)``
    instead of ``(400, 300)`` (small networks learn Pendulum as well, at a fraction of
    the cost; ``benchmarks/continuous_control.py`` measures both)."""

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
    config = _checked(config, TD3Config)
    check_int(config.policy_delay, "policy_delay", minimum=1)
    for name in ("exploration_noise", "target_noise", "target_noise_clip"):
        _check_real(getattr(config, name), name, 0.0, None, what=" (>= 0)")
    return _train(config, progress, "TD3", _TD3)


class _TD3(_DDPG):
    """DDPG's agent (``ddpg.py``: collect step, actor step) with TD3's three changes."""

    def __init__(self, cfg, loop):
        super().__init__(cfg, loop, n_critics=2 if cfg.clipped_double_q else 1)
        self.n_updates = 0

    def update(self, b):
        cfg = self.cfg
        # 2. targets: smoothed target action, minimum over the target critics
        with torch.no_grad():
            eps = (cfg.target_noise * torch.randn(b.actions.shape, generator=self.gen)).clamp_(
                -cfg.target_noise_clip, cfg.target_noise_clip)
            a2 = (self.actor_targ(b.next_obs) + eps).clamp_(-1.0, 1.0)
            q_next = self.critic_targ(b.next_obs, a2).min(0).values
            y = b.rewards + cfg.gamma * (1.0 - b.terminated) * q_next
        # 3. critic update: every critic regresses on the same target
        self.q = self.critic(b.obs, b.actions)
        self.c_loss = self._step(self.opt_critic, ((self.q - y) ** 2).mean(1).sum())
        self.n_updates += 1
        # 4. delayed actor update and Polyak averaging of the targets
        if self.n_updates % cfg.policy_delay == 0:
            self.actor_step(b.obs)
            self._polyak()
