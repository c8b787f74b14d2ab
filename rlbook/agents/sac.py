"""SAC: soft actor-critic (Haarnoja et al. 2018a, b), read next to its algorithm
box in chapter *Continuous control and maximum entropy*.

Soft policy iteration with function approximation: twin soft Q critics with a
clipped double-Q soft target, a squashed-Gaussian actor trained by the
reparameterisation gradient, and the temperature ``alpha`` tuned as the dual
variable of an entropy constraint ``H(pi(.|s)) >= target_entropy``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ._nets import QEnsemble, SquashedGaussianActor
from ._offpolicy import _Agent, _checked, _check_real, _OffPolicyConfig, _train

__all__ = ["SACConfig", "train_sac"]


@dataclass(frozen=True)
class SACConfig(_OffPolicyConfig):
    """Settings of :func:`train_sac`; the defaults are the book's Pendulum-v1 preset:
    rl-baselines3-zoo's SAC settings for Pendulum-v1 (Stable-Baselines3's defaults with
    step size 1e-3) except the hidden layers, ``(64, 64)`` instead of ``(256, 256)``
    (small networks learn Pendulum as well, at a fraction of the cost;
    ``benchmarks/continuous_control.py`` measures both). ``actor_lr`` also steps
    ``log alpha`` when ``autotune``."""

    gamma: float = 0.99
    """Discount factor, in ``[0, 1)``."""
    buffer_size: int = 1_000_000
    """Replay capacity (at least ``batch_size``)."""
    learning_starts: int = 100
    """Steps of uniformly random actions before the first update."""
    hidden_sizes: tuple = (64, 64)
    """Hidden layer widths of the actor and of each critic (ReLU); the book's preset
    (the zoo's is ``(256, 256)``)."""
    alpha: float = 1.0
    """Temperature ``> 0``: the initial value when ``autotune``, else fixed."""
    autotune: bool = True
    """Tune ``alpha`` by gradient descent on the dual of the entropy constraint."""
    target_entropy: float | None = None
    """Entropy floor of the constraint; None means ``-act_dim`` (Haarnoja et al. 2018b)."""


def train_sac(config: SACConfig | None = None, progress: bool = False):
    r"""Train SAC on a continuous-control Gymnasium environment.

    Per environment step (after ``learning_starts`` random steps), with a
    minibatch ``(s, a, r, s', d)`` from the replay buffer and fresh
    reparameterised actions ``a~ = tanh(mean(s) + std(s) xi)``:

    .. math::

        y &= r + \gamma (1 - d)\Big(\min_{i} Q_{\bar w_i}(s', \tilde a') - \alpha \log\pi_\phi(\tilde a' | s')\Big), \\
        J_Q(w_i) &= \tfrac1B \textstyle\sum (Q_{w_i}(s, a) - y)^2, \\
        J_\pi(\phi) &= \tfrac1B \textstyle\sum \big(\alpha \log \pi_\phi(\tilde a|s) - \min_i Q_{w_i}(s, \tilde a)\big), \\
        J(\alpha) &= -\tfrac1B \textstyle\sum \log\alpha\,\big(\log \pi_\phi(\tilde a|s) + \bar{\mathcal H}\big),

    all three evaluated at the current parameters (the critic and actor gradients
    come from one backward pass, the temperature's gradient
    ``-(mean log pi + target_entropy)`` in closed form), one Adam step on each,
    then Polyak averaging of the critics' targets.
    ``log pi`` is :func:`rlbook.squashed_gaussian_log_prob` in the normalised box.

    Returns
    -------
    TrainResult
        ``policy`` is the :class:`SquashedGaussianActor`, ``value_fn`` the twin
        :class:`QEnsemble`; ``diagnostics`` holds, at every episode end,
        ``critic_loss``, ``q_mean``, ``actor_loss``, ``alpha`` and ``entropy``
        (``-mean log pi`` on the last minibatch).
    """
    config = _checked(config, SACConfig)
    _check_real(config.alpha, "alpha", 0.0, None, lo_open=True, what=" (a temperature > 0)")
    if config.target_entropy is not None:
        _check_real(config.target_entropy, "target_entropy")
    return _train(config, progress, "SAC", _SAC)


class _SAC(_Agent):
    """SAC's two steps: no target actor; the temperature ``log alpha`` with its own Adam."""

    def __init__(self, cfg, loop):
        d = loop.act_dim
        super().__init__(cfg, SquashedGaussianActor(loop.obs_dim, d, cfg.hidden_sizes, loop.low,
                                                    loop.high),
                         QEnsemble(loop.obs_dim, d, cfg.hidden_sizes, n=2), actor_target=False)
        self._d = d
        self.log_alpha = torch.tensor(math.log(cfg.alpha))
        self.target_entropy = -float(d) if cfg.target_entropy is None else float(cfg.target_entropy)
        self.opt_alpha = torch.optim.Adam([self.log_alpha], lr=cfg.actor_lr) if cfg.autotune else None
        self.logp = torch.tensor(float("nan"))

    @torch.no_grad()
    def act(self, obs, t, rng):
        """1. collect: ``a ~ pi(.|s)`` (uniform in the first ``learning_starts`` steps)."""
        if t < self.cfg.learning_starts:
            return rng.uniform(-1.0, 1.0, self._d)
        return self.actor.sample(torch.from_numpy(obs), self.gen)[0].numpy()

    def update(self, b):
        cfg, actor, critic = self.cfg, self.actor, self.critic
        alpha = self.log_alpha.detach().exp()
        # 2. soft target: clipped double Q minus alpha log pi at a fresh next action
        with torch.no_grad():
            a2, logp2 = actor.sample(b.next_obs, self.gen)
            v2 = self.critic_targ(b.next_obs, a2).min(0).values - alpha * logp2
            y = b.rewards + cfg.gamma * (1.0 - b.terminated) * v2
        # 3. losses on the minibatch: critics on the soft target, actor by the
        #    reparameterisation gradient through frozen critics (one backward pass:
        #    the two losses touch disjoint parameters)
        self.q = critic(b.obs, b.actions)
        c_loss = ((self.q - y) ** 2).mean(1).sum()
        a_new, logp = actor.sample(b.obs, self.gen)
        a_loss = (alpha * logp - critic(b.obs, a_new, frozen=True).min(0).values).mean()
        # 4. one Adam step on the critics and one on the actor
        self.opt_critic.zero_grad(set_to_none=True)
        self.opt_actor.zero_grad(set_to_none=True)
        (c_loss + a_loss).backward()
        self.opt_critic.step()
        self.opt_actor.step()
        self.c_loss, self.a_loss, self.logp = c_loss.detach(), a_loss.detach(), logp.detach()
        # 5. temperature: a gradient step on the dual of the entropy constraint,
        #    d/dlog(alpha) of -log(alpha) (log pi + H_target) = -(log pi + H_target)
        if self.opt_alpha is not None:
            self.log_alpha.grad = -(self.logp + self.target_entropy).mean()
            self.opt_alpha.step()
        # 6. Polyak averaging of the target critics
        self._polyak()

    def diagnostics(self):
        """Those of :class:`_Agent` and the temperature ``alpha`` and the entropy
        estimate ``-mean log pi`` of the latest minibatch."""
        return {**super().diagnostics(), "alpha": float(self.log_alpha.exp()),
                "entropy": float(-self.logp.mean())}
