"""SAC: soft actor-critic (Haarnoja et al. 2018a, b), read next to its algorithm
box in chapter *Continuous control and maximum entropy*.

Soft policy iteration with function approximation: twin soft Q critics with a
clipped double-Q soft target, a squashed-Gaussian actor trained by the
reparameterisation gradient, and the temperature ``alpha`` tuned as the dual
variable of an entropy constraint ``H(pi(.|s)) >= target_entropy``.
"""
from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass

import numpy as np
import torch

from ._nets import QEnsemble, SquashedGaussianActor
from ._offpolicy import _bar, _check_config, _OffPolicyConfig, _check_real, _EnvLoop, _finish, polyak_update
from ._replay import ReplayBuffer
from ._rollout import _torch_session

__all__ = ["SACConfig", "train_sac"]


@dataclass(frozen=True)
class SACConfig(_OffPolicyConfig):
    """Settings of :func:`train_sac`; the defaults are the book's Pendulum-v1 preset
    (rl-baselines3-zoo's SAC settings for Pendulum-v1: Stable-Baselines3's defaults with
    step size 1e-3). ``actor_lr`` also steps ``log alpha`` when ``autotune``."""

    gamma: float = 0.99
    """Discount factor, in ``[0, 1)``."""
    buffer_size: int = 1_000_000
    """Replay capacity (at least ``batch_size``)."""
    learning_starts: int = 100
    """Steps of uniformly random actions before the first update."""
    hidden_sizes: tuple = (256, 256)
    """Hidden layer widths of the actor and of each critic (ReLU)."""
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
    config = SACConfig() if config is None else config
    if not isinstance(config, SACConfig):
        raise TypeError(f"config must be a SACConfig, got {type(config).__name__}")
    _check_config(config)
    _check_real(config.alpha, "alpha", 0.0, None, lo_open=True, what=" (a temperature > 0)")
    if config.target_entropy is not None:
        _check_real(config.target_entropy, "target_entropy")
    t0 = time.perf_counter()
    bar = _bar(config, progress, "SAC")
    with _torch_session(config.seed, config.torch_threads), bar:
        loop = _EnvLoop(config, bar)
        try:
            return _train(config, loop, t0)
        finally:
            loop.close()


def _train(cfg, loop, t0):
    d = loop.act_dim
    actor = SquashedGaussianActor(loop.obs_dim, d, cfg.hidden_sizes, loop.low, loop.high)
    critic = QEnsemble(loop.obs_dim, d, cfg.hidden_sizes, n=2)
    critic_targ = copy.deepcopy(critic)
    log_alpha = torch.tensor(math.log(cfg.alpha))
    target_entropy = -float(d) if cfg.target_entropy is None else float(cfg.target_entropy)
    opt_actor = torch.optim.Adam(actor.parameters(), lr=cfg.actor_lr, fused=True)
    opt_critic = torch.optim.Adam(critic.parameters(), lr=cfg.critic_lr, fused=True)
    opt_alpha = torch.optim.Adam([log_alpha], lr=cfg.actor_lr) if cfg.autotune else None
    buf = ReplayBuffer(max(min(cfg.buffer_size, cfg.total_steps), cfg.batch_size),
                       (loop.obs_dim,), (d,), action_dtype=np.float32)
    rng = np.random.default_rng(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)
    diag = {"step": [], "critic_loss": [], "q_mean": [], "actor_loss": [], "alpha": [],
            "entropy": []}
    c_loss = q_mean = a_loss = logp = torch.tensor(float("nan"))
    for t in range(cfg.total_steps):
        # 1. collect: a ~ pi(.|s) (uniform at first), store the transition
        if t < cfg.learning_starts:
            a = rng.uniform(-1.0, 1.0, d)
        else:
            with torch.no_grad():
                a = actor.sample(torch.from_numpy(loop.obs), gen)[0].numpy()
        n_eps = len(loop.ep_returns)
        buf.add(*loop.step(a))
        if t >= cfg.learning_starts:
            b = buf.sample(cfg.batch_size, rng, as_torch=True)
            alpha = log_alpha.detach().exp()
            # 2. soft target: clipped double Q minus alpha log pi at a fresh next action
            with torch.no_grad():
                a2, logp2 = actor.sample(b.next_obs, gen)
                v2 = critic_targ(b.next_obs, a2).min(0).values - alpha * logp2
                y = b.rewards + cfg.gamma * (1.0 - b.terminated) * v2
            # 3. losses on the minibatch: critics on the soft target, actor by the
            #    reparameterisation gradient through frozen critics (one backward pass:
            #    the two losses touch disjoint parameters)
            q = critic(b.obs, b.actions)
            c_loss = ((q - y) ** 2).mean(1).sum()
            a_new, logp = actor.sample(b.obs, gen)
            a_loss = (alpha * logp - critic(b.obs, a_new, frozen=True).min(0).values).mean()
            # 4. one Adam step on the critics and one on the actor
            opt_critic.zero_grad(set_to_none=True)
            opt_actor.zero_grad(set_to_none=True)
            (c_loss + a_loss).backward()
            opt_critic.step()
            opt_actor.step()
            # 5. temperature: a gradient step on the dual of the entropy constraint,
            #    d/dlog(alpha) of -log(alpha) (log pi + H_target) = -(log pi + H_target)
            if opt_alpha is not None:
                log_alpha.grad = -(logp.detach() + target_entropy).mean()
                opt_alpha.step()
            # 6. Polyak averaging of the target critics
            polyak_update(critic_targ, critic, cfg.tau)
            q_mean = q[0].detach().mean()
        if len(loop.ep_returns) > n_eps:
            diag["step"].append(loop.steps)
            diag["critic_loss"].append(float(c_loss.detach()))
            diag["q_mean"].append(float(q_mean))
            diag["actor_loss"].append(float(a_loss.detach()))
            diag["alpha"].append(float(log_alpha.detach().exp()))
            diag["entropy"].append(float(-logp.detach().mean()))
    return _finish(loop, cfg, actor, critic, t0, diag)
