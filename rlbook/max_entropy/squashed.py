"""The squashed Gaussian policy of SAC (chapter *Continuous control and maximum entropy*).

An action is ``a = scale * tanh(u)`` with ``u ~ N(mean, diag(exp(log_std))^2)``.
By the change of variables formula its log-density is

    log p(a) = log N(u; mean, std) - sum_i log(scale_i (1 - tanh(u_i)^2)),

and ``log(1 - tanh(u)^2) = 2 (log 2 - u - softplus(-2 u))`` is the form that
stays finite when ``|u|`` is large (``1 - tanh(u)^2`` underflows to 0 in
float32 for ``|u| > 9`` or so, and its logarithm becomes ``-inf``).
"""
from __future__ import annotations

import math

import numpy as np

from .._validate import as_float_array, check_positive_entries

__all__ = ["log1m_tanh_sq", "squashed_gaussian_log_prob"]

_LOG2 = math.log(2.0)
_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


def _is_torch(x):
    return type(x).__module__.startswith("torch")


def log1m_tanh_sq(u):
    r"""``log(1 - tanh(u)^2)`` computed stably, elementwise (NumPy or torch).

    .. math:: \log(1 - \tanh^2 u) = 2\,(\log 2 - u - \operatorname{softplus}(-2u)),

    which follows from ``1 - tanh(u)^2 = 4 / (e^u + e^{-u})^2`` (chapter
    *Continuous control and maximum entropy*).
    """
    if _is_torch(u):
        import torch.nn.functional as F

        return 2.0 * (_LOG2 - u - F.softplus(-2.0 * u))
    u = np.asarray(u, dtype=np.float64)
    return 2.0 * (_LOG2 - u - np.logaddexp(0.0, -2.0 * u))


def _diag_gaussian_log_prob(u, mean, log_std):
    r"""Log-density of a diagonal Gaussian, summed over the last axis.

    .. math:: \log \mathcal N(u; \mu, \sigma) = \sum_i -\tfrac12 \big(\tfrac{u_i - \mu_i}{\sigma_i}\big)^2
              - \log \sigma_i - \tfrac12 \log 2\pi .
    """
    if _torch_args(u, mean, log_std):
        import torch

        z = (u - mean) * torch.exp(-log_std)
        return (-0.5 * z * z - log_std - _HALF_LOG_2PI).sum(-1)
    z = (u - mean) * np.exp(-log_std)
    return (-0.5 * z * z - log_std - _HALF_LOG_2PI).sum(-1)


def _torch_args(u, mean, log_std):
    """True if ``u``, ``mean`` and ``log_std`` are torch tensors, False if none is;
    a mix is refused (NumPy in, NumPy out; torch in, torch out)."""
    kinds = [_is_torch(x) for x in (u, mean, log_std)]
    if any(kinds) and not all(kinds):
        got = ", ".join(f"{name} {type(x).__name__}"
                        for name, x in (("u", u), ("mean", mean), ("log_std", log_std)))
        raise TypeError(f"u, mean and log_std must be all torch tensors or all NumPy "
                        f"arrays, got {got}")
    return kinds[0]


def squashed_gaussian_log_prob(u, mean, log_std, scale=1.0):
    r"""Log-density of the squashed action ``a = scale * tanh(u)``, ``u ~ N(mean, exp(log_std)^2)``.

    .. math::

        \log \pi(a) = \sum_i \Big[\log \mathcal N(u_i; \mu_i, \sigma_i)
                      - \log\big(c_i\,(1 - \tanh^2 u_i)\big)\Big],

    with the Jacobian term computed as ``log c + 2 (log 2 - u - softplus(-2 u))``
    (:func:`log1m_tanh_sq`), finite for every finite ``u``.

    Parameters
    ----------
    u : array (..., d)
        The *pre-squash* Gaussian sample (not the action: inverting ``tanh`` at
        ``|a| = scale`` is what loses precision, so the policy keeps ``u``).
    mean, log_std : array (..., d)
        Parameters of the Gaussian (broadcast against ``u``).
    scale : float or array (d,)
        Positive half-width ``c`` of the action box (``a`` lies in ``(-c, c)``).

    Returns
    -------
    array (...)
        NumPy in, NumPy out; torch in, torch out (differentiable). ``u``, ``mean``
        and ``log_std`` must be of one kind (a mix raises ``TypeError``).

    Notes
    -----
    Chapter *Continuous control and maximum entropy* derives the term in
    SymPy and shows what dropping it does to SAC's entropy bonus.
    """
    if _torch_args(u, mean, log_std):
        import torch

        if isinstance(scale, (int, float)) and not isinstance(scale, bool):
            if not (math.isfinite(scale) and scale > 0):
                raise ValueError(f"scale is {scale!r}, expected a finite positive half-width")
            log_det = log1m_tanh_sq(u).sum(-1)
            if scale != 1.0:
                log_det = log_det + u.shape[-1] * math.log(scale)
            return _diag_gaussian_log_prob(u, mean, log_std) - log_det
        sc = torch.as_tensor(scale, dtype=u.dtype)
        if not bool(torch.all(torch.isfinite(sc) & (sc > 0))):
            raise ValueError(f"scale is {scale!r}, expected finite positive half-widths")
        return _diag_gaussian_log_prob(u, mean, log_std) - (torch.log(sc) + log1m_tanh_sq(u)).sum(-1)
    u = as_float_array(u, "u")
    mean = as_float_array(mean, "mean")
    log_std = as_float_array(log_std, "log_std")
    sc = as_float_array(scale, "scale")
    check_positive_entries(sc, "scale", "a positive half-width")
    try:
        np.broadcast_shapes(u.shape, mean.shape, log_std.shape, sc.shape)
    except ValueError:
        raise ValueError(f"u {u.shape}, mean {mean.shape}, log_std {log_std.shape} and scale "
                         f"{sc.shape} do not broadcast") from None
    if u.ndim == 0:
        raise ValueError("u must have at least one dimension (the action axis, summed over)")
    return _diag_gaussian_log_prob(u, mean, log_std) - (np.log(sc) + log1m_tanh_sq(u)).sum(-1)
