"""PPO with the clipped surrogate (Schulman et al. 2017) on Gymnasium environments
(chapter *TRPO and PPO*): GAE (:func:`rlbook.gae`), minibatch Adam epochs,
linear annealing of the learning rate and of the clip range."""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch

from .._progress import progress_bar
from .._validate import check_int, check_positive
from ..trust_region.ppo import ppo_losses
from ._rollout import TrainResult, _check_common, _Collector, _finish, _torch_session

__all__ = ["PPOConfig", "train_ppo"]


# ------------------------------------------------------------------ configs
@dataclass
class PPOConfig:
    """Settings of :func:`train_ppo`.

    The defaults are tuned for CartPole-v1: the rl-baselines3-zoo hyperparameters
    (Raffin et al. 2021: 8 environments x 32 steps, one minibatch of 256,
    gamma 0.98, lambda 0.8, lr 1e-3 and clip 0.2 both annealed linearly to 0,
    no entropy bonus) except ``epochs=10`` instead of 20, which halves the
    gradient steps; on seeds 0-7 every run still reaches a deterministic
    evaluation return of 500 within 100k steps.
    :meth:`rl_zoo_cartpole` gives the zoo's settings exactly."""

    env_id: str = "CartPole-v1"
    """Gymnasium environment id (discrete or 1-D Box actions, Box observations)."""
    total_steps: int = 100_000
    """Budget of environment steps (summed over the parallel environments);
    ``total_steps // (n_envs * n_steps)`` updates are run, so the budget is never exceeded."""
    n_envs: int = 8
    """Number of parallel environments (``gymnasium.vector.SyncVectorEnv``)."""
    n_steps: int = 32
    """Steps per environment per rollout; a rollout holds ``n_envs * n_steps`` transitions."""
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
    """Clip range epsilon of the surrogate (initial value if ``anneal_clip``)."""
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
    """Stop the epochs of an update early once the approximate KL exceeds this (None: never)."""
    normalize_advantages: bool = True
    """Standardise the advantages within each minibatch (minibatches of one sample are left as they are)."""
    hidden_sizes: tuple = (64, 64)
    """Hidden layer widths of the policy and of the value network (separate networks)."""
    adam_eps: float = 1e-5
    """Adam's epsilon."""
    seed: int = 0
    """Seed of the networks' initialisation, of the action sampling and of the environments."""
    threshold: float | None = None
    """Return defining ``steps_to_threshold``; None: the environment's ``reward_threshold`` (475 for CartPole-v1)."""
    curve_window: int = 20
    """The learning curve averages the returns of this many most recently finished episodes."""
    torch_threads: int = 1
    """``torch.set_num_threads`` during training (restored afterwards); 1 is fastest for these small networks."""

    @classmethod
    def notebook_cartpole(cls, **overrides) -> "PPOConfig":
        """The preset the chapter trains: the defaults (100k steps, 10 epochs),
        seed 0; about 7-10 s on 2 CPU cores, deterministic evaluation return 500."""
        return cls(**{"seed": 0, **overrides})

    @classmethod
    def rl_zoo_cartpole(cls, **overrides) -> "PPOConfig":
        """The rl-baselines3-zoo CartPole-v1 PPO settings exactly (``epochs=20``)."""
        return cls(**{"epochs": 20, **overrides})
















_MODULES = None












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
def train_ppo(config: PPOConfig | None = None, progress: bool = False) -> TrainResult:
    r"""Train PPO with the clipped surrogate (Schulman et al. 2017) on ``config.env_id``.

    Each update collects ``n_envs * n_steps`` transitions, computes GAE
    advantages and lambda-returns, then runs ``epochs`` passes of minibatch
    Adam on :func:`rlbook.ppo_losses`

    .. math:: -L^{CLIP}(\theta) + c_1\, \mathrm{mean}(V_\phi(s_t) - \hat R_t)^2 - c_2\, \mathrm{mean}\, H(\pi_\theta(\cdot|s_t)),

    with the learning rate and the clip range decayed linearly (``anneal_lr``,
    ``anneal_clip``) and the gradient norm clipped to ``max_grad_norm``.

    Parameters
    ----------
    config : PPOConfig, optional
        Defaults to ``PPOConfig()``: the rl-zoo CartPole-v1 settings with 10 epochs instead of
        the zoo's 20 (:meth:`PPOConfig.rl_zoo_cartpole` has them exactly).
    progress : bool
        Show a progress bar over environment steps.

    Returns
    -------
    TrainResult
    """
    config = PPOConfig() if config is None else config
    _check_ppo(config)
    start = time.perf_counter()
    with _torch_session(config.seed, config.torch_threads):
        col = _Collector(config)
        policy, value_fn = col.policy, col.value_fn
        params = list(policy.parameters()) + list(value_fn.parameters())
        try:
            opt = torch.optim.Adam(params, lr=config.lr, eps=config.adam_eps, fused=True)
        except (RuntimeError, TypeError):  # pragma: no cover - builds without fused CPU Adam
            opt = torch.optim.Adam(params, lr=config.lr, eps=config.adam_eps)
        batch = config.n_envs * config.n_steps
        n_updates = config.total_steps // batch
        mbs = config.minibatch_size
        n_mb = batch // mbs
        curve_steps, curve_returns = [], []
        diag = {k: [] for k in ("approx_kl", "clip_fraction", "entropy", "value_loss", "lr", "clip_eps", "epochs")}
        bar = progress_bar(n_updates * batch, progress, desc="PPO", unit="step")
        no_entropy = torch.zeros(mbs)
        try:
            for u in range(n_updates):
                frac = 1.0 - u / n_updates
                lr = config.lr * frac if config.anneal_lr else config.lr
                eps = config.clip_eps * frac if config.anneal_clip else config.clip_eps
                for g in opt.param_groups:
                    g["lr"] = lr
                obs, act, old_logp, _, old_val, adv, ret = col.collect()
                # standardise only minibatches of >= 2 samples (the std of one sample is nan)
                norm_once = config.normalize_advantages and n_mb == 1 and mbs > 1
                if norm_once:
                    adv = (adv - adv.mean()) / (adv.std() + 1e-8)
                kls, cfs, vls = [], [], []
                epochs_done = 0
                for epoch in range(config.epochs):
                    last_epoch = epoch == config.epochs - 1
                    want_diag = last_epoch or config.target_kl is not None
                    perm = torch.randperm(batch, generator=col.gen) if n_mb > 1 else None
                    stop = False
                    for m in range(n_mb):
                        if perm is None:
                            o_mb, a_mb, lp_mb, r_mb, ov_mb, ad_mb = obs, act, old_logp, ret, old_val, adv
                        else:
                            idx = perm[m * mbs:(m + 1) * mbs]
                            o_mb, a_mb, lp_mb, r_mb, ov_mb, ad_mb = (obs[idx], act[idx], old_logp[idx], ret[idx],
                                                                     old_val[idx], adv[idx])
                            if config.normalize_advantages and mbs > 1:
                                ad_mb = (ad_mb - ad_mb.mean()) / (ad_mb.std() + 1e-8)
                        p = policy(o_mb)
                        ent = policy.entropy(p) if config.ent_coef > 0 else no_entropy
                        out = ppo_losses(policy.log_prob(p, a_mb), lp_mb, ad_mb, value_fn(o_mb), r_mb, ent, eps,
                                         vf_coef=config.vf_coef, ent_coef=config.ent_coef, old_values=ov_mb,
                                         vf_clip=config.vf_clip, diagnostics=want_diag)
                        opt.zero_grad(set_to_none=True)
                        out.total.backward()
                        if config.max_grad_norm is not None:
                            torch.nn.utils.clip_grad_norm_(params, config.max_grad_norm, foreach=True)
                        opt.step()
                        if want_diag:
                            kls.append(float(out.approx_kl))
                            cfs.append(float(out.clip_fraction))
                            vls.append(float(out.value_loss.detach()))
                            if config.target_kl is not None and kls[-1] > config.target_kl:
                                stop = True
                                break
                    epochs_done += 1
                    if stop:
                        break
                with torch.no_grad():
                    ent_mean = float(policy.entropy(policy(obs)).mean())
                diag["approx_kl"].append(float(np.mean(kls)))
                diag["clip_fraction"].append(float(np.mean(cfs)))
                diag["entropy"].append(ent_mean)
                diag["value_loss"].append(float(np.mean(vls)))
                diag["lr"].append(lr)
                diag["clip_eps"].append(eps)
                diag["epochs"].append(epochs_done)
                curve_steps.append(col.steps)
                curve_returns.append(col.recent_mean(config.curve_window))
                bar.update(batch)
                bar.set_postfix(ret=f"{curve_returns[-1]:.1f}", refresh=False)
        finally:
            bar.close()
            col.close()
        wall = time.perf_counter() - start
        return _finish(col, config, curve_steps, curve_returns, wall, diag)




