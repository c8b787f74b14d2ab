"""TRPO (Schulman et al. 2015) on Gymnasium environments (chapter *TRPO and PPO*):
conjugate gradients on Fisher-vector products and a backtracking line search
(:func:`rlbook.trpo_step`), with a value network fitted by Adam."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.nn.utils import parameters_to_vector, vector_to_parameters

from .._validate import check_int, check_positive
from ..trust_region.natural_gradient import fisher_vector_product, trpo_step
from ._rollout import (TrainResult, _check_common, _RolloutConfig, _torch_session,
                       _Training)

__all__ = ["TRPOConfig", "train_trpo"]


@dataclass
class TRPOConfig(_RolloutConfig):
    """Settings of :func:`train_trpo` (defaults tuned for CartPole-v1); the rollout
    settings (``env_id``, ``total_steps``, ``n_envs``, ``gamma``, ``lam``,
    ``hidden_sizes``, ``seed``, ...) are shared with :class:`PPOConfig`."""

    n_steps: int = 128
    """Steps per environment per rollout (batch ``n_envs * n_steps``)."""
    max_kl: float = 0.01
    """Trust-region radius on the mean KL(pi_old || pi_new) over the rollout's states."""
    cg_iters: int = 10
    """Conjugate-gradient iterations per update."""
    damping: float = 0.1
    """Damping added to the Fisher-vector products."""
    backtrack_iters: int = 10
    """Maximum number of line-search trials."""
    backtrack_coeff: float = 0.8
    """Line-search shrink factor."""
    vf_lr: float = 1e-3
    """Adam learning rate of the value network."""
    vf_epochs: int = 10
    """Passes of the value regression over each rollout."""
    vf_minibatch_size: int = 128
    """Minibatch size of the value regression."""
    normalize_advantages: bool = True
    """Standardise the advantages of each rollout."""


def _check_trpo(config):
    if not isinstance(config, TRPOConfig):
        raise TypeError(f"config must be a TRPOConfig, got {type(config).__name__}")
    _check_common(config, "TRPO")
    check_positive(config.max_kl, "max_kl")
    check_int(config.cg_iters, "cg_iters", minimum=1)
    check_positive(config.damping, "damping", allow_zero=True)
    check_int(config.backtrack_iters, "backtrack_iters", minimum=1)
    check_positive(config.backtrack_coeff, "backtrack_coeff")
    if config.backtrack_coeff >= 1:
        raise ValueError(f"backtrack_coeff is {config.backtrack_coeff!r}, expected a number in (0, 1)")
    check_positive(config.vf_lr, "vf_lr")
    check_int(config.vf_epochs, "vf_epochs", minimum=1)
    check_int(config.vf_minibatch_size, "vf_minibatch_size", minimum=1)


# -------------------------------------------------------------------- TRPO
def train_trpo(config: TRPOConfig | None = None, progress: bool = False) -> TrainResult:
    r"""Train TRPO (Schulman et al. 2015) on ``config.env_id``.

    Each update collects a rollout, computes GAE advantages, and takes one
    :func:`rlbook.trpo_step` on the flat policy parameters: the surrogate
    ``L(theta) = mean(pi_theta(a|s) / pi_old(a|s) * A)``, its gradient ``g``,
    ``d = F^{-1} g`` by ``cg_iters`` conjugate-gradient steps on
    :func:`rlbook.fisher_vector_product` of the mean KL (with ``damping``), the
    step ``sqrt(2 delta / d^T F d) d`` and a backtracking line search enforcing
    ``mean KL <= max_kl``.  The value network then regresses the
    lambda-returns for ``vf_epochs`` epochs of Adam.
    """
    config = TRPOConfig() if config is None else config
    _check_trpo(config)
    with _torch_session(config.seed, config.torch_threads):
        run = _Training(config, "TRPO", progress)
        policy, value_fn = run.col.policy, run.col.value_fn
        pparams = list(policy.parameters())
        vopt = torch.optim.Adam(value_fn.parameters(), lr=config.vf_lr)
        try:
            for _ in range(run.n_updates):
                # 1. collect a rollout; GAE advantages and lambda-returns
                obs, act, old_logp, old_params, _, adv, ret = run.col.collect()
                if config.normalize_advantages and adv.numel() > 1:
                    adv = (adv - adv.mean()) / (adv.std() + 1e-8)
                # 2. one trust-region step on the policy's flat parameters
                res = _policy_step(policy, pparams, obs, act, old_logp, old_params, adv,
                                   config)
                # 3. fit the value network to the lambda-returns
                vl = _fit_value(value_fn, vopt, obs, ret, config, run.col.gen)
                with torch.no_grad():
                    ent = float(policy.entropy(policy(obs)).mean())
                run.end_update(kl=res.kl, step_fraction=res.step_fraction,
                               accepted=res.accepted,
                               expected_improvement=res.expected_improvement,
                               actual_improvement=res.actual_improvement,
                               value_loss=vl, entropy=ent)
        finally:
            run.close()
        return run.result()


def _policy_step(policy, pparams, obs, act, old_logp, old_params, adv, config):
    """:func:`rlbook.trpo_step` on the surrogate ``mean(ratio * adv)`` under the mean-KL
    constraint; leaves the accepted parameters in ``policy`` and returns the step."""

    def surrogate_t():
        return ((policy.log_prob(policy(obs), act) - old_logp).exp() * adv).mean()

    def mean_kl_t():
        return policy.kl(old_params, policy(obs)).mean()

    def surrogate_fn(x):
        vector_to_parameters(x, pparams)
        with torch.no_grad():
            return float(surrogate_t())

    def kl_fn(x):
        vector_to_parameters(x, pparams)
        with torch.no_grad():
            return float(mean_kl_t())

    x0 = parameters_to_vector(pparams).detach().clone()
    grad = parameters_to_vector(torch.autograd.grad(surrogate_t(), pparams)).detach()

    def fvp(v):
        vector_to_parameters(x0, pparams)
        return fisher_vector_product(mean_kl_t, pparams, v, damping=config.damping)

    res = trpo_step(x0, grad, fvp, surrogate_fn, kl_fn, config.max_kl,
                    cg_iters=config.cg_iters, backtrack_iters=config.backtrack_iters,
                    backtrack_coeff=config.backtrack_coeff)
    vector_to_parameters(res.x, pparams)
    return res


def _fit_value(value_fn, vopt, obs, ret, config, gen):
    """``vf_epochs`` epochs of minibatch Adam on ``mean((V(s) - ret)^2)``; mean loss."""
    batch = len(obs)
    mb = min(config.vf_minibatch_size, batch)
    losses = []
    for _ in range(config.vf_epochs):
        perm = torch.randperm(batch, generator=gen)
        for m in range(0, batch - mb + 1, mb):
            idx = perm[m:m + mb]
            loss = ((value_fn(obs[idx]) - ret[idx]) ** 2).mean()
            vopt.zero_grad(set_to_none=True)
            loss.backward()
            vopt.step()
            losses.append(loss.detach())
    return float(torch.stack(losses).mean())
