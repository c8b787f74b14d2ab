"""TRPO (Schulman et al. 2015) on Gymnasium environments (chapter *TRPO and PPO*):
conjugate gradients on Fisher-vector products and a backtracking line search
(:func:`rlbook.trpo_step`), with a value network fitted by Adam."""
from __future__ import annotations

import time
from dataclasses import dataclass

import torch

from .._progress import progress_bar
from .._validate import check_int, check_positive
from ..trust_region.natural_gradient import fisher_vector_product, trpo_step
from ._rollout import TrainResult, _check_common, _Collector, _finish, _torch_session

__all__ = ["TRPOConfig", "train_trpo"]


@dataclass
class TRPOConfig:
    """Settings of :func:`train_trpo` (defaults tuned for CartPole-v1)."""

    env_id: str = "CartPole-v1"
    """Gymnasium environment id."""
    total_steps: int = 100_000
    """Budget of environment steps (``total_steps // (n_envs * n_steps)`` updates)."""
    n_envs: int = 8
    """Number of parallel environments."""
    n_steps: int = 128
    """Steps per environment per rollout (batch ``n_envs * n_steps``)."""
    gamma: float = 0.99
    """Discount factor."""
    lam: float = 0.95
    """GAE parameter lambda."""
    max_kl: float = 0.01
    """Trust-region radius delta on the mean KL(pi_old || pi_new)."""
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
    hidden_sizes: tuple = (64, 64)
    """Hidden layer widths of the policy and of the value network."""
    seed: int = 0
    """Seed of initialisation, action sampling and environments."""
    threshold: float | None = None
    """Return defining ``steps_to_threshold``; None: the environment's ``reward_threshold``."""
    curve_window: int = 20
    """The learning curve averages this many most recently finished episodes."""
    torch_threads: int = 1
    """``torch.set_num_threads`` during training (restored afterwards)."""


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
    from torch.nn.utils import parameters_to_vector, vector_to_parameters

    start = time.perf_counter()
    with _torch_session(config.seed, config.torch_threads):
        col = _Collector(config)
        policy, value_fn = col.policy, col.value_fn
        pparams = list(policy.parameters())
        vopt = torch.optim.Adam(value_fn.parameters(), lr=config.vf_lr)
        batch = config.n_envs * config.n_steps
        n_updates = config.total_steps // batch
        curve_steps, curve_returns = [], []
        diag = {k: [] for k in ("kl", "step_fraction", "accepted", "expected_improvement",
                                "actual_improvement", "value_loss", "entropy")}
        bar = progress_bar(n_updates * batch, progress, desc="TRPO", unit="step")
        try:
            for _ in range(n_updates):
                obs, act, old_logp, old_params, _, adv, ret = col.collect()
                if config.normalize_advantages and adv.numel() > 1:
                    adv = (adv - adv.mean()) / (adv.std() + 1e-8)

                def surrogate_t():
                    return ((policy.log_prob(policy(obs), act) - old_logp).exp() * adv).mean()

                def surrogate_fn(x):
                    vector_to_parameters(x, pparams)
                    with torch.no_grad():
                        return float(surrogate_t())

                def kl_fn(x):
                    vector_to_parameters(x, pparams)
                    with torch.no_grad():
                        return float(policy.kl(old_params, policy(obs)).mean())

                x0 = parameters_to_vector(pparams).detach().clone()
                grad = parameters_to_vector(torch.autograd.grad(surrogate_t(), pparams)).detach()

                def fvp(v):
                    vector_to_parameters(x0, pparams)
                    return fisher_vector_product(lambda: policy.kl(old_params, policy(obs)).mean(),
                                                 pparams, v, damping=config.damping)

                res = trpo_step(x0, grad, fvp, surrogate_fn, kl_fn, config.max_kl, cg_iters=config.cg_iters,
                                backtrack_iters=config.backtrack_iters, backtrack_coeff=config.backtrack_coeff)
                vector_to_parameters(res.x, pparams)
                # value regression on the lambda-returns
                vl = []
                mb = min(config.vf_minibatch_size, batch)
                for _ in range(config.vf_epochs):
                    perm = torch.randperm(batch, generator=col.gen)
                    for m in range(0, batch - mb + 1, mb):
                        idx = perm[m:m + mb]
                        loss = ((value_fn(obs[idx]) - ret[idx]) ** 2).mean()
                        vopt.zero_grad(set_to_none=True)
                        loss.backward()
                        vopt.step()
                        vl.append(loss.detach())
                with torch.no_grad():
                    ent = float(policy.entropy(policy(obs)).mean())
                diag["kl"].append(res.kl)
                diag["step_fraction"].append(res.step_fraction)
                diag["accepted"].append(res.accepted)
                diag["expected_improvement"].append(res.expected_improvement)
                diag["actual_improvement"].append(res.actual_improvement)
                diag["value_loss"].append(float(torch.stack(vl).mean()))
                diag["entropy"].append(ent)
                curve_steps.append(col.steps)
                curve_returns.append(col.recent_mean(config.curve_window))
                bar.update(batch)
                bar.set_postfix(ret=f"{curve_returns[-1]:.1f}", refresh=False)
        finally:
            bar.close()
            col.close()
        wall = time.perf_counter() - start
        return _finish(col, config, curve_steps, curve_returns, wall, diag)
