"""Generalised advantage estimation and the PPO objectives (chapter *TRPO and PPO*).

* :func:`gae` -- generalised advantage estimates (Schulman et al. 2016), for one
  trajectory ``(T,)`` or a batch of parallel environments ``(T, N)``;
* :func:`clipped_surrogate_objective` -- PPO's clipped surrogate (Schulman et
  al. 2017, eq. 7) and :func:`kl_penalty_objective` with the adaptive penalty
  :func:`adaptive_kl_beta` (eq. 8);
* :func:`ppo_losses` -- the full PPO loss (policy, value, entropy) with the
  usual diagnostics, in torch.

Notation: the chapter writes the probability ratio ``varrho_t`` and the clip
range ``kappa``; the code keeps the PPO paper's argument name ``eps`` for
``kappa``.  Rewards are indexed as ``r_t = R_{t+1}``, the reward that follows
action ``a_t``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validate import is_torch as _is_torch
from .._validate import as_float_array, check_gamma, check_positive

__all__ = [
    "gae",
    "lambda_returns",
    "clipped_surrogate_objective",
    "clipped_surrogate_loss",
    "kl_penalty_objective",
    "adaptive_kl_beta",
    "PPOLosses",
    "ppo_losses",
]


def _check_lam(lam) -> float:
    try:
        return check_gamma(lam)
    except TypeError:
        raise TypeError(f"lam must be a real number in [0, 1], got {lam!r}") from None
    except ValueError:
        raise ValueError(f"lam is {lam!r}, expected a number in [0, 1] (the GAE parameter lambda)") from None


def _gae_arrays(rewards, values, next_values, dones, truncations):
    arrays = {"rewards": rewards, "values": values, "next_values": next_values, "dones": dones}
    if truncations is not None:
        arrays["truncations"] = truncations
    out = {k: as_float_array(v, k) for k, v in arrays.items()}
    shape = out["rewards"].shape
    if len(shape) not in (1, 2):
        raise ValueError(f"rewards must have shape (T,) or (T, N), got {shape}")
    if shape[0] == 0:
        raise ValueError(f"rewards is empty (shape {shape}): no time steps to estimate advantages for")
    for k, v in out.items():
        if v.shape != shape:
            raise ValueError(f"{k} has shape {v.shape} but rewards has shape {shape}; "
                             f"rewards, values, next_values and dones must have the same shape")
    for k in ("dones", "truncations"):
        if k in out:
            bad = (out[k] != 0) & (out[k] != 1)
            if bad.any():
                i = tuple(np.argwhere(bad)[0])
                raise ValueError(f"{k}[{', '.join(map(str, i))}] is {out[k][i]!r}, expected 0 or 1")
    return out


def gae(rewards, values, next_values, dones, gamma, lam, truncations=None) -> np.ndarray:
    r"""Generalised advantage estimates (Schulman et al. 2016).

    .. math::
        \delta_t = r_t + \gamma (1 - d_t) V(s_{t+1}) - V(s_t), \qquad
        \hat A_t = \delta_t + \gamma\lambda (1 - d_t) \hat A_{t+1},\quad \hat A_T = 0,

    i.e. ``A_t = sum_l (gamma lam)^l delta_{t+l}`` until the episode ends.
    ``lam = 0`` gives the TD error ``delta_t``; ``lam = 1`` the Monte Carlo
    return minus ``V(s_t)`` (bootstrapped from ``next_values[T-1]`` if the last
    step is not terminal).

    Parameters
    ----------
    rewards : array_like (T,) or (T, N)
        ``r_t``; time on axis 0, ``N`` parallel environments on axis 1.
    values : array_like, same shape
        ``V(s_t)``.
    next_values : array_like, same shape
        ``V(s_{t+1})``: the value of the observation that followed step ``t``
        (for a time-limit truncation, the value of the final observation).
    dones : array_like of 0/1, same shape
        ``dones[t] = 1`` means ``s_{t+1}`` is terminal (its value is 0 and the
        recursion stops).
    gamma, lam : float in [0, 1]
    truncations : array_like of 0/1, same shape, optional
        ``truncations[t] = 1`` marks an episode cut by a time limit after step
        ``t``: the TD error still bootstraps from ``next_values[t]``, but the
        recursion does not run into the next episode.  Default: no truncations.

    Returns
    -------
    ndarray, same shape as ``rewards``

    Notes
    -----
    Rewards are indexed as in the chapter: ``r_t`` follows action ``a_t``
    (some texts write ``r_{t+1}``).
    """
    gamma = check_gamma(gamma)
    lam = _check_lam(lam)
    arr = _gae_arrays(rewards, values, next_values, dones, truncations)
    r, v, nv, d = arr["rewards"], arr["values"], arr["next_values"], arr["dones"]
    cut = np.maximum(d, arr["truncations"]) if truncations is not None else d
    delta = r + gamma * (1.0 - d) * nv - v
    carry = gamma * lam * (1.0 - cut)
    adv = np.empty_like(delta)
    last = np.zeros_like(delta[0])
    for t in range(delta.shape[0] - 1, -1, -1):
        last = delta[t] + carry[t] * last
        adv[t] = last
    return adv


def lambda_returns(rewards, values, next_values, dones, gamma, lam, truncations=None) -> np.ndarray:
    r"""``lambda``-returns ``G^lambda_t = A^GAE_t + V(s_t)``, the usual value-function targets."""
    adv = gae(rewards, values, next_values, dones, gamma, lam, truncations=truncations)
    return adv + as_float_array(values, "values")


def _check_eps(eps) -> float:
    return check_positive(eps, "eps")


def _same_kind(ratio, advantages):
    if _is_torch(ratio) != _is_torch(advantages):
        raise TypeError(f"ratio and advantages must both be numpy arrays or both torch tensors, got "
                        f"{type(ratio).__name__} and {type(advantages).__name__}")
    if tuple(ratio.shape) != tuple(advantages.shape):
        raise ValueError(f"ratio has shape {tuple(ratio.shape)} but advantages has shape "
                         f"{tuple(advantages.shape)}")


def _check_ratio_pair(ratio, advantages):
    """The same checks for NumPy arrays and torch tensors: one kind, one shape, not
    empty, finite entries, ``ratio >= 0``.  Returns NumPy float arrays for NumPy input
    and the tensors themselves for torch input."""
    if not (_is_torch(ratio) or _is_torch(advantages)):
        ratio = as_float_array(ratio, "ratio")
        advantages = as_float_array(advantages, "advantages")
    _same_kind(ratio, advantages)
    if _is_torch(ratio):
        import torch

        for name, t in (("ratio", ratio), ("advantages", advantages)):
            bad = ~torch.isfinite(t.detach())
            if bool(bad.any()):
                i = tuple(int(j) for j in torch.nonzero(bad)[0])
                raise ValueError(f"{name}{list(i)} is {float(t.detach()[i])!r}, "
                                 f"expected a finite number")
        neg = ratio.detach() < 0
        negative_at = tuple(int(j) for j in torch.nonzero(neg)[0]) if bool(neg.any()) else None
    else:
        neg = ratio < 0
        negative_at = tuple(int(j) for j in np.argwhere(neg)[0]) if neg.any() else None
    if int(np.prod(tuple(ratio.shape))) == 0:
        raise ValueError("ratio is empty")
    if negative_at is not None:
        value = float(ratio[negative_at])
        raise ValueError(f"ratio{list(negative_at)} is {value!r}, "
                         f"expected a probability ratio >= 0")
    return ratio, advantages


def _clipped_min(ratio, advantages, kappa):
    """``min(rho A, clip(rho, 1 - kappa, 1 + kappa) A)`` elementwise, NumPy or torch."""
    if _is_torch(ratio):
        import torch

        clipped = torch.clamp(ratio, 1 - kappa, 1 + kappa)
        return torch.minimum(ratio * advantages, clipped * advantages)
    clipped = np.clip(ratio, 1 - kappa, 1 + kappa)
    return np.minimum(ratio * advantages, clipped * advantages)


def clipped_surrogate_objective(ratio, advantages, eps):
    r"""PPO's clipped surrogate objective (to be maximised):

    .. math:: L^{CLIP} = \operatorname{mean}\big(\min(\varrho_t \hat A_t,\
              \operatorname{clip}(\varrho_t, 1-\kappa, 1+\kappa)\,\hat A_t)\big),

    with the probability ratio ``varrho_t = pi_theta(a_t|s_t) / pi_old(a_t|s_t)``
    and the clip range ``kappa`` (argument ``eps``, the name of the PPO paper).
    NumPy in -> float out; torch in -> scalar tensor out (differentiable).  Both
    kinds are validated the same way: one kind and one shape for ``ratio`` and
    ``advantages``, not empty, finite, ``ratio >= 0``.  The gradient with respect
    to ``varrho_t`` is ``A_t`` except where the clip is active and the minimum picks
    it (``varrho_t > 1 + kappa`` with ``A_t > 0``, or ``varrho_t < 1 - kappa`` with
    ``A_t < 0``), where it is 0.  The clip does not bound the ratio itself:
    nothing stops a later gradient step from moving a sample's ratio further out.
    """
    kappa = _check_eps(eps)
    ratio, advantages = _check_ratio_pair(ratio, advantages)
    out = _clipped_min(ratio, advantages, kappa).mean()
    return out if _is_torch(out) else float(out)


def clipped_surrogate_loss(ratio, advantages, eps):
    """``-clipped_surrogate_objective(ratio, advantages, eps)``, to be minimised."""
    return -clipped_surrogate_objective(ratio, advantages, eps)


def kl_penalty_objective(ratio, advantages, kl, beta):
    r"""KL-penalised surrogate ``mean(rho_t A_t) - beta * KL`` (PPO paper, eq. 8).

    ``kl`` is the (mean) KL divergence between the old and the new policy; numpy
    or torch in, the same kind out.
    """
    beta = check_positive(beta, "beta", allow_zero=True)
    if _is_torch(ratio) or _is_torch(advantages):
        _same_kind(ratio, advantages)
        return (ratio * advantages).mean() - beta * kl
    ratio = as_float_array(ratio, "ratio")
    advantages = as_float_array(advantages, "advantages")
    _same_kind(ratio, advantages)
    return float((ratio * advantages).mean() - beta * float(kl))


def adaptive_kl_beta(beta, kl, kl_target, factor: float = 1.5, scale: float = 2.0) -> float:
    r"""The adaptive KL penalty coefficient of the PPO paper (section 4).

    ``beta / scale`` if ``kl < kl_target / factor``; ``beta * scale`` if
    ``kl > kl_target * factor``; otherwise ``beta`` unchanged.
    """
    beta = check_positive(beta, "beta")
    kl = check_positive(float(kl), "kl", allow_zero=True)
    kl_target = check_positive(kl_target, "kl_target")
    factor = check_positive(factor, "factor")
    scale = check_positive(scale, "scale")
    if factor < 1:
        raise ValueError(f"factor is {factor!r}, expected a number >= 1")
    if scale <= 1:
        raise ValueError(f"scale is {scale!r}, expected a number > 1")
    if kl < kl_target / factor:
        return beta / scale
    if kl > kl_target * factor:
        return beta * scale
    return beta


@dataclass(frozen=True)
class PPOLosses:
    """The terms of the PPO loss (torch scalars; ``approx_kl``, ``clip_fraction`` detached)."""

    policy_loss: object
    """``-L^CLIP``, minus the clipped surrogate objective."""
    value_loss: object
    """Mean squared error ``mean((V(s_t) - R_t)^2)`` (the max of the clipped and unclipped errors with ``vf_clip``)."""
    entropy_bonus: object
    """Mean policy entropy."""
    total: object
    """``policy_loss + vf_coef * value_loss - ent_coef * entropy_bonus``, to be minimised."""
    approx_kl: object
    """``mean((rho - 1) - log rho)``, a non-negative estimate of ``KL(pi_old || pi_new)``, unbiased
    when the actions were sampled from ``pi_old`` (``None`` with ``diagnostics=False``)."""
    clip_fraction: object
    """Fraction of samples with ``|rho - 1| > eps``."""


def ppo_losses(new_log_prob, old_log_prob, advantages, values, returns, entropy, eps,
               vf_coef: float = 0.5, ent_coef: float = 0.0, old_values=None, vf_clip=None,
               diagnostics: bool = True) -> PPOLosses:
    r"""The PPO loss on a minibatch (torch tensors of shape (B,)).

    .. math:: \mathcal L = -L^{CLIP} + c_1 \operatorname{mean}\big((V_\theta(s_t) - R_t)^2\big) - c_2 \operatorname{mean} H(\pi_\theta(\cdot|s_t))

    with ``rho_t = exp(new_log_prob - old_log_prob)``.  With ``vf_clip`` (and
    ``old_values``) the value error is ``max((V - R)^2, (V_clip - R)^2)`` where
    ``V_clip = old_V + clip(V - old_V, -vf_clip, vf_clip)``.

    Parameters
    ----------
    new_log_prob, old_log_prob : tensor (B,)
        ``log pi_theta(a_t|s_t)`` (differentiable) and ``log pi_old(a_t|s_t)``.
    advantages, returns : tensor (B,)
        Advantage estimates and value targets.
    values : tensor (B,)
        Current value predictions ``V_theta(s_t)`` (differentiable).
    entropy : tensor (B,)
        Policy entropies ``H(pi_theta(.|s_t))``.
    eps : float
        Clip range, > 0.
    vf_coef, ent_coef : float
        ``c_1`` and ``c_2``.
    old_values : tensor (B,), optional
        Value predictions at collection time (needed for ``vf_clip``).
    vf_clip : float, optional
        Value clip range.
    diagnostics : bool
        Compute ``approx_kl`` and ``clip_fraction`` (``None`` otherwise; saves a few
        tensor operations per minibatch in training loops).
    """
    import torch

    eps = _check_eps(eps)
    vf_coef = check_positive(vf_coef, "vf_coef", allow_zero=True)
    ent_coef = check_positive(ent_coef, "ent_coef", allow_zero=True)
    tensors = {"new_log_prob": new_log_prob, "old_log_prob": old_log_prob, "advantages": advantages,
               "values": values, "returns": returns, "entropy": entropy}
    for k, t in tensors.items():
        if not isinstance(t, torch.Tensor):
            raise TypeError(f"{k} must be a torch.Tensor, got {type(t).__name__}")
        if t.shape != new_log_prob.shape:
            raise ValueError(f"{k} has shape {tuple(t.shape)} but new_log_prob has shape "
                             f"{tuple(new_log_prob.shape)}")
    if vf_clip is not None:
        vf_clip = check_positive(vf_clip, "vf_clip")
        if old_values is None:
            raise ValueError("vf_clip needs old_values (the value predictions at collection time)")
    return _ppo_loss_terms(new_log_prob, old_log_prob, advantages, values, returns, entropy, eps,
                           vf_coef, ent_coef, old_values, vf_clip, diagnostics)


def _ppo_loss_terms(new_log_prob, old_log_prob, advantages, values, returns, entropy, eps,
                    vf_coef, ent_coef, old_values, vf_clip, diagnostics):
    """:func:`ppo_losses` on arguments already validated (the agent checks its
    configuration once, not at every minibatch). ``entropy=None`` leaves the entropy
    term out (for ``ent_coef = 0``: the same total, bit for bit, without the work)."""
    import torch

    log_ratio = new_log_prob - old_log_prob.detach()
    ratio = log_ratio.exp()
    adv = advantages.detach()
    policy_loss = -_clipped_min(ratio, adv, eps).mean()
    target = returns.detach()
    if vf_clip is not None:
        old_values = old_values.detach()
        v_clipped = old_values + torch.clamp(values - old_values, -vf_clip, vf_clip)
        value_loss = torch.max((values - target) ** 2, (v_clipped - target) ** 2).mean()
    else:
        value_loss = ((values - target) ** 2).mean()
    total = policy_loss + vf_coef * value_loss
    entropy_bonus = None
    if entropy is not None:
        entropy_bonus = entropy.mean()
        total = total - ent_coef * entropy_bonus
    approx_kl = clip_fraction = None
    if diagnostics:
        with torch.no_grad():
            approx_kl = ((ratio - 1) - log_ratio).mean()
            clip_fraction = ((ratio - 1).abs() > eps).float().mean()
    return PPOLosses(policy_loss=policy_loss, value_loss=value_loss, entropy_bonus=entropy_bonus,
                     total=total, approx_kl=approx_kl, clip_fraction=clip_fraction)
