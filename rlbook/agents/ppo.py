"""PPO with the clipped surrogate (Schulman et al. 2017) on Gymnasium environments
(chapter *TRPO and PPO*): GAE (:func:`rlbook.gae`), minibatch Adam epochs,
linear annealing of the learning rate and of the clip range.

The loop of :func:`train_ppo` follows the chapter's PPO algorithm box: collect a
rollout with the current policy, compute GAE advantages and lambda-returns, run
``epochs`` passes of minibatch Adam on the clipped surrogate plus the value loss.
Nothing in this loop bounds the KL divergence between successive policies: the
clip only removes the gradient of the samples whose ratio left
``[1 - clip_eps, 1 + clip_eps]`` in the favourable direction (the chapter measures
how far the ratios and the KL go, with the diagnostics recorded here).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .._validate import check_int, check_positive
from ..trust_region.ppo import _ppo_loss_terms
from ._rollout import (TrainResult, _check_common, _FlatOptimizer, _RolloutConfig,
                       _torch_session, _Training)

__all__ = ["PPOConfig", "train_ppo"]


@dataclass
class PPOConfig(_RolloutConfig):
    """Settings of :func:`train_ppo`.

    The defaults are tuned for CartPole-v1: the rl-baselines3-zoo hyperparameters
    (Raffin et al. 2021: 8 environments x 32 steps, one minibatch of 256,
    gamma 0.98, lambda 0.8, lr 1e-3 and clip 0.2 both annealed linearly to 0,
    no entropy bonus) except ``epochs=10`` instead of 20, which halves the
    gradient steps; on seeds 0-7 every run still reaches a deterministic
    evaluation return of 500 within 100k steps (mean of 20 greedy episodes, actions
    sampled by the torch policy during training, Gymnasium's NumPy-vectorised
    CartPole; measured for this revision).
    :meth:`rl_zoo_cartpole` gives the zoo's settings exactly."""

    gamma: float = 0.98
    """Discount factor."""
    lam: float = 0.8
    """GAE parameter lambda."""
    lr: float = 1e-3
    """Adam learning rate (initial value if ``anneal_lr``)."""
    anneal_lr: bool = True
    """Decay the learning rate linearly to 0 over the updates."""
    epochs: int = 10
    """Passes over each rollout."""
    minibatch_size: int = 256
    """Transitions per minibatch (must divide ``n_envs * n_steps``)."""
    clip_eps: float = 0.2
    """Clip range kappa of the surrogate (initial value if ``anneal_clip``)."""
    anneal_clip: bool = True
    """Decay the clip range linearly to 0 over the updates."""
    vf_coef: float = 0.5
    """Weight c_1 of the value loss ``mean((V - R)^2)``."""
    ent_coef: float = 0.0
    """Weight c_2 of the entropy bonus."""
    vf_clip: float | None = None
    """Value clip range (None: no value clipping)."""
    max_grad_norm: float = 0.5
    """Clip the global gradient norm to this value (None: no clipping)."""
    target_kl: float | None = None
    """Stop the epochs of an update early once a minibatch's approximate KL exceeds
    this (None: never)."""
    normalize_advantages: bool = True
    """Standardise the advantages within each minibatch (minibatches of one sample
    are left as they are)."""
    adam_eps: float = 1e-5
    """Adam's epsilon."""

    @classmethod
    def notebook_cartpole(cls, **overrides) -> "PPOConfig":
        """The preset the chapter trains: the defaults (100k steps, 10 epochs),
        seed 0; deterministic evaluation return 500 (the mean of 20 greedy episodes)."""
        return cls(**{"seed": 0, **overrides})

    @classmethod
    def rl_zoo_cartpole(cls, **overrides) -> "PPOConfig":
        """The rl-baselines3-zoo CartPole-v1 PPO settings exactly (``epochs=20``)."""
        return cls(**{"epochs": 20, **overrides})


def _check_ppo(config):
    if not isinstance(config, PPOConfig):
        raise TypeError(f"config must be a PPOConfig, got {type(config).__name__}")
    _check_common(config, "PPO")
    check_int(config.epochs, "epochs", minimum=1)
    check_int(config.minibatch_size, "minibatch_size", minimum=1)
    batch = config.n_envs * config.n_steps
    if batch % config.minibatch_size:
        raise ValueError(f"minibatch_size is {config.minibatch_size}, which does not divide the "
                         f"rollout size n_envs * n_steps = {batch}")
    check_positive(config.lr, "lr")
    check_positive(config.clip_eps, "clip_eps")
    check_positive(config.vf_coef, "vf_coef", allow_zero=True)
    check_positive(config.ent_coef, "ent_coef", allow_zero=True)
    check_positive(config.adam_eps, "adam_eps")
    for name in ("vf_clip", "max_grad_norm", "target_kl"):
        if getattr(config, name) is not None:
            check_positive(getattr(config, name), name)


# --------------------------------------------------------------------- PPO
def _minibatches(batch, mbs, gen):
    """Index sets of one epoch: the whole batch, or a random partition into
    minibatches of ``mbs`` rows drawn with the torch generator ``gen``."""
    if mbs >= batch:
        return [slice(None)]
    perm = torch.randperm(batch, generator=gen)
    return [perm[m:m + mbs] for m in range(0, batch, mbs)]


def _standardise(adv):
    """Zero mean, unit standard deviation (a minibatch of one sample is left as is:
    the standard deviation of one sample is nan)."""
    return adv if adv.numel() < 2 else (adv - adv.mean()) / (adv.std() + 1e-8)


def train_ppo(config: PPOConfig | None = None, progress: bool = False) -> TrainResult:
    r"""Train PPO with the clipped surrogate (Schulman et al. 2017) on ``config.env_id``.

    Each update collects ``n_envs * n_steps`` transitions, computes GAE
    advantages and lambda-returns, then runs ``epochs`` passes of minibatch
    Adam on :func:`rlbook.ppo_losses`

    .. math:: -L^{CLIP}(\theta) + c_1\, \mathrm{mean}(V_\phi(s_t) - \hat R_t)^2
              - c_2\, \mathrm{mean}\, H(\pi_\theta(\cdot|s_t)),

    with the learning rate and the clip range decayed linearly (``anneal_lr``,
    ``anneal_clip``) and the gradient norm clipped to ``max_grad_norm``.

    Parameters
    ----------
    config : PPOConfig, optional
        Defaults to ``PPOConfig()``: the rl-zoo CartPole-v1 settings with 10 epochs
        instead of the zoo's 20 (:meth:`PPOConfig.rl_zoo_cartpole` has them exactly).
    progress : bool
        Show a progress bar over environment steps.

    Returns
    -------
    TrainResult
        ``diagnostics`` holds, per update: ``approx_kl``, ``clip_fraction`` and
        ``value_loss`` averaged over the last epoch's minibatches (the one where
        the policy is furthest from the rollout's), ``entropy`` of the updated
        policy on the rollout's states, ``lr``, ``clip_eps`` and ``epochs`` run.
    """
    config = PPOConfig() if config is None else config
    _check_ppo(config)
    with _torch_session(config.seed, config.torch_threads):
        run = _Training(config, "PPO", progress)
        policy, value_fn = run.col.policy, run.col.value_fn
        opt = _FlatOptimizer(list(policy.parameters()) + list(value_fn.parameters()),
                             eps=config.adam_eps, rule="adam")
        whole = config.minibatch_size >= run.batch  # one minibatch: the whole rollout
        try:
            for u in range(run.n_updates):
                frac = 1.0 - u / run.n_updates  # linear annealing
                lr = config.lr * frac if config.anneal_lr else config.lr
                eps = config.clip_eps * frac if config.anneal_clip else config.clip_eps
                # 1. collect a rollout; GAE advantages and lambda-returns
                obs, act, old_logp, _, old_val, adv, ret = run.col.collect()
                if whole and config.normalize_advantages:
                    adv = _standardise(adv)  # the same for every epoch
                # 2. epochs of minibatch Adam on the clipped surrogate + value loss
                kls, cfs, vls = [], [], []
                epochs_done = 0
                stop = False
                for epoch in range(config.epochs):
                    want_diag = epoch == config.epochs - 1 or config.target_kl is not None
                    for idx in _minibatches(run.batch, config.minibatch_size, run.col.gen):
                        ad = adv[idx]
                        if config.normalize_advantages and not whole:
                            ad = _standardise(ad)
                        p = policy(obs[idx])
                        ent = policy.entropy(p) if config.ent_coef > 0 else None
                        # rb.ppo_losses without its per-call argument checks (the config
                        # was checked once by _check_ppo)
                        out = _ppo_loss_terms(
                            policy.log_prob(p, act[idx]), old_logp[idx], ad,
                            value_fn(obs[idx]), ret[idx], ent, eps, config.vf_coef,
                            config.ent_coef, old_val[idx], config.vf_clip, want_diag)
                        opt.step(out.total, lr, config.max_grad_norm)
                        if want_diag:
                            kls.append(float(out.approx_kl))
                            cfs.append(float(out.clip_fraction))
                            vls.append(float(out.value_loss.detach()))
                            stop = (config.target_kl is not None
                                    and kls[-1] > config.target_kl)
                            if stop:
                                break
                    epochs_done += 1
                    if stop:
                        break
                with torch.no_grad():
                    ent_mean = float(policy.entropy(policy(obs)).mean())
                run.end_update(approx_kl=float(np.mean(kls)),
                               clip_fraction=float(np.mean(cfs)), entropy=ent_mean,
                               value_loss=float(np.mean(vls)), lr=lr, clip_eps=eps,
                               epochs=epochs_done)
        finally:
            run.close()
        return run.result()
