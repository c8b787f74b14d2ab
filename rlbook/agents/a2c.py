"""Synchronous advantage actor-critic, A2C (chapter C10 *Actor-critic methods*).

Read next to the chapter's algorithm box: ``N`` copies of the environment run in
lockstep; every update collects ``n_steps`` steps from each, computes
``n``-step (or GAE) advantages with the critic, and takes one gradient step on

    L = -mean(A_t ln pi(a_t|s_t)) + c_v mean((V(s_t) - R_t)^2) - c_e mean(H(pi(.|s_t))).

The rollouts are collected by the machinery PPO and TRPO use
(:mod:`rlbook.agents._rollout`): actions sampled by the torch policy, a vector
environment that resets a finished copy in the same step (Gymnasium's
NumPy-vectorised CartPole where there is one), and advantages that bootstrap from
the real last state after a *truncated* step and from nothing after a
*terminated* one.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from .._validate import check_positive
from ._rollout import (TrainResult, _check_common, _FlatOptimizer, _RolloutConfig,
                       _torch_session, _Training)

__all__ = ["A2CConfig", "train_a2c"]


@dataclass
class A2CConfig(_RolloutConfig):
    """Settings of :func:`train_a2c`; the defaults are the book's CartPole-v1 preset.

    The preset is the rl-baselines3-zoo's tuned A2C for CartPole-v1 (8 copies,
    rollouts of 5 steps, n-step returns (``lam = 1``), RMSprop at a constant 7e-4,
    raw advantages, ``c_v = 0.5``, ``c_e = 0``, gradient norm clipped at 0.5) with
    300k environment steps instead of the zoo's 500k (:meth:`rl_zoo_cartpole` has
    500k). Measured with the shared rollout collector (torch sampling, same-step
    reset): the final policy of each of seeds 0-4 scores 500 on all 20 deterministic
    evaluation episodes (``benchmarks/a2c_cartpole.py``). With 16 copies (twice the
    batch, half the updates) seed 4 scored 221, so the preset keeps the zoo's 8.
    The rollout settings (``env_id``, ``n_envs``, ``n_steps``, ``gamma``, ``lam``,
    ``hidden_sizes``, ``seed``, ``threshold``, ``curve_window``, ``torch_threads``,
    ``vectorization``) are those of PPO and TRPO.
    """

    total_steps: int = 300_000
    """Budget of environment steps summed over the copies;
    ``total_steps // (n_envs * n_steps)`` updates are run."""
    n_envs: int = 8
    """Number of environment copies stepped in lockstep."""
    n_steps: int = 5
    """Steps per copy per update: a batch holds ``n_envs * n_steps`` transitions."""
    gamma: float = 0.99
    """Discount factor."""
    lam: float = 1.0
    """GAE parameter; 1 (the default) gives the n-step return advantage of the original A2C."""
    lr: float = 7e-4
    """Learning rate (initial value if ``anneal_lr``)."""
    anneal_lr: bool = False
    """Decay the learning rate linearly to 0 over the updates."""
    optimizer: str = "rmsprop"
    """``"rmsprop"`` (alpha 0.99, as in A3C and Stable-Baselines3's A2C) or ``"adam"``."""
    optim_eps: float = 1e-5
    """Epsilon of the optimizer."""
    vf_coef: float = 0.5
    """Weight ``c_v`` of the value loss."""
    ent_coef: float = 0.0
    """Weight ``c_e`` of the entropy bonus."""
    max_grad_norm: float | None = 0.5
    """Clip the global gradient norm to this value (None: no clipping)."""
    normalize_advantages: bool = False
    """Standardise the advantages of each batch."""

    @classmethod
    def rl_zoo_cartpole(cls, **overrides) -> "A2CConfig":
        """The rl-baselines3-zoo CartPole-v1 A2C settings: the book's preset with the
        zoo's 500k steps (8 copies, 5 steps per copy, RMSprop 7e-4 without annealing,
        ``lam = 1``, raw advantages, gamma 0.99, ``c_e = 0``, gradient clip 0.5)."""
        return cls(**{"total_steps": 500_000, "n_envs": 8, "n_steps": 5, "lr": 7e-4, "lam": 1.0,
                      "anneal_lr": False, "optimizer": "rmsprop", "normalize_advantages": False,
                      **overrides})


def _check_a2c(config):
    if not isinstance(config, A2CConfig):
        raise TypeError(f"config must be an A2CConfig, got {type(config).__name__}")
    _check_common(config, "A2C")  # env, budget, seed, gamma, lam, widths, one batch
    check_positive(config.lr, "lr")
    check_positive(config.optim_eps, "optim_eps")
    check_positive(config.vf_coef, "vf_coef", allow_zero=True)
    check_positive(config.ent_coef, "ent_coef", allow_zero=True)
    if config.max_grad_norm is not None:
        check_positive(config.max_grad_norm, "max_grad_norm")
    if config.optimizer not in ("adam", "rmsprop"):
        raise ValueError(f"optimizer is {config.optimizer!r}, expected 'adam' or 'rmsprop'")


def train_a2c(config: A2CConfig | None = None, progress: bool = False) -> TrainResult:
    r"""Train synchronous advantage actor-critic (A2C; Mnih et al. 2016, synchronous form).

    Per update: collect ``n_steps`` steps from each of ``n_envs`` copies with the
    current policy; compute the advantages ``A_t`` with :func:`rlbook.gae`
    (``lam = 1``: ``A_t = sum_{j<n} gamma^j r_{t+j} + gamma^n V(s_{t+n}) - V(s_t)``,
    cut at episode ends) and the targets ``R_t = A_t + V(s_t)``; clip the global
    gradient norm and take one step of the optimizer (RMSprop or Adam, run on one flat
    vector holding both networks' parameters) on

    .. math:: -\frac1B\sum_t A_t \ln\pi_\theta(a_t|s_t) + c_v \frac1B\sum_t (V_w(s_t) - R_t)^2
              - c_e \frac1B\sum_t H(\pi_\theta(\cdot|s_t))

    over the ``B = n_envs * n_steps`` transitions of the rollout.

    Parameters
    ----------
    config : A2CConfig, optional
        Defaults to ``A2CConfig()``, the book's CartPole-v1 preset.
    progress : bool
        Show a progress bar over environment steps.

    Returns
    -------
    TrainResult
        ``diagnostics`` holds per-update ``entropy``, ``value_loss`` and ``lr``.
    """
    config = A2CConfig() if config is None else config
    _check_a2c(config)
    with _torch_session(config.seed, config.torch_threads):
        run = _Training(config, "A2C", progress)
        policy = run.col.policy
        opt = _FlatOptimizer(list(policy.parameters()) + list(run.col.value_fn.parameters()),
                             eps=config.optim_eps, rule=config.optimizer)
        try:
            for upd in range(run.n_updates):
                lr = config.lr * (1.0 - upd / run.n_updates) if config.anneal_lr else config.lr
                # 1-2. collect n_steps from every copy with the current policy; n-step
                #      advantages and targets (the batched pass keeps the graph)
                _, _, logp, p, v, adv, ret = run.col.collect(grad=True)
                if config.normalize_advantages and len(adv) > 1:
                    adv = (adv - adv.mean()) / (adv.std() + 1e-8)
                # 3. one gradient step on the A2C loss
                v_loss = ((v - ret) ** 2).mean()
                loss = -(adv * logp).mean() + config.vf_coef * v_loss
                if config.ent_coef > 0:
                    ent = policy.entropy(p).mean()
                    loss = loss - config.ent_coef * ent
                else:                                # diagnostic only: keep it off the graph
                    with torch.no_grad():
                        ent = policy.entropy(p).mean()
                opt.step(loss, lr, config.max_grad_norm)
                run.end_update(entropy=float(ent.detach()), value_loss=float(v_loss.detach()),
                               lr=lr)
        finally:
            run.close()
        return run.result()
