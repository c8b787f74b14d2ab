"""Information measures between probability distributions (chapter *TRPO and PPO*).

The trust-region view of policy improvement measures how far a new policy moved
from the old one with the Kullback-Leibler divergence or the total variation
distance of the action distributions.  This module computes them for

* categorical distributions, stored as probability vectors along ``axis``;
* one-dimensional Gaussians ``N(mu, sigma^2)``, vectorised over broadcastable
  arrays of means and standard deviations.

Conventions (Cover & Thomas, *Elements of Information Theory*): natural
logarithms (nats); ``0 log 0 = 0``; ``KL(p || q) = +inf`` as soon as some
outcome has ``q = 0 < p``.
"""
from __future__ import annotations

import numpy as np
from scipy.special import ndtr

from .._validate import as_float_array, check_probabilities

__all__ = [
    "entropy",
    "cross_entropy",
    "kl_divergence",
    "total_variation",
    "gaussian_entropy",
    "gaussian_kl",
    "gaussian_total_variation",
]


def _check_axis(arr: np.ndarray, axis: int, name: str) -> int:
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"axis must be an integer, got {axis!r}")
    if arr.ndim == 0:
        raise ValueError(f"{name} must have at least one dimension (the outcomes), got a scalar")
    if not -arr.ndim <= axis < arr.ndim:
        raise ValueError(f"axis is {axis}, out of range for {name} of shape {arr.shape}")
    return int(axis) % arr.ndim


def _categorical(p, name: str, axis: int) -> np.ndarray:
    """``p`` validated as probability vectors along ``axis``, moved to the last axis."""
    arr = as_float_array(p, name)
    ax = _check_axis(arr, axis, name)
    arr = np.moveaxis(arr, ax, -1)
    if arr.shape[-1] == 0:
        raise ValueError(f"{name} has shape {arr.shape}: no outcomes along axis {axis}")
    check_probabilities(arr, name if ax == arr.ndim - 1 else f"{name} (axis {axis} moved last)")
    return arr


def _pair(p, q, axis: int):
    p = _categorical(p, "p", axis)
    q = _categorical(q, "q", axis)
    if p.shape != q.shape:
        raise ValueError(f"p and q must have the same shape, got p {p.shape} and q {q.shape} "
                         f"(outcomes moved to the last axis)")
    return p, q


def _out(x):
    return float(x) if np.ndim(x) == 0 else x


def entropy(p, axis: int = -1):
    r"""Shannon entropy ``H(p) = - sum_i p_i log p_i`` in nats, with ``0 log 0 = 0``.

    Parameters
    ----------
    p : array_like
        Probability vectors along ``axis`` (non-negative, summing to one).
    axis : int
        The axis that indexes the outcomes.

    Returns
    -------
    float or ndarray
        The entropies, with ``axis`` removed.
    """
    p = _categorical(p, "p", axis)
    logp = np.log(np.where(p > 0, p, 1.0))
    return _out(0.0 - (p * logp).sum(axis=-1))


def cross_entropy(p, q, axis: int = -1):
    r"""Cross-entropy ``H(p, q) = - sum_i p_i log q_i = H(p) + KL(p || q)``.

    ``+inf`` where some ``q_i = 0 < p_i``; terms with ``p_i = 0`` contribute 0.
    """
    p, q = _pair(p, q, axis)
    with np.errstate(divide="ignore"):
        logq = np.log(q)
    terms = np.where(p > 0, -p * np.where(p > 0, logq, 0.0), 0.0)
    return _out(terms.sum(axis=-1))


def kl_divergence(p, q, axis: int = -1):
    r"""Kullback-Leibler divergence ``KL(p || q) = sum_i p_i log(p_i / q_i)``.

    Non-negative (Gibbs' inequality), zero iff ``p == q``, not symmetric.
    Terms with ``p_i = 0`` are 0 (``0 log 0 = 0``); the divergence is ``+inf``
    where some ``q_i = 0 < p_i``.  The computed sum is returned as it is: for
    ``q`` within roundoff of ``p`` it may be a tiny negative number (of the order
    of the machine epsilon).  It is not clipped at 0, so that a sign error in a
    caller's formula shows up instead of being hidden. The ratio ``p_i / q_i`` is
    formed first, so a positive ``q_i`` below about ``p_i / 1.8e308`` (subnormal
    numbers) overflows it and gives ``+inf`` where the divergence is finite.

    Parameters
    ----------
    p, q : array_like
        Probability vectors along ``axis``, of the same shape.
    axis : int
        The axis that indexes the outcomes.
    """
    p, q = _pair(p, q, axis)
    pos = p > 0
    with np.errstate(divide="ignore"):
        ratio = np.where(pos, p / np.where(q > 0, q, 1.0), 1.0)
        terms = np.where(pos, p * np.log(ratio), 0.0)
    terms = np.where(pos & (q <= 0), np.inf, terms)
    return _out(terms.sum(axis=-1))


def total_variation(p, q, axis: int = -1):
    r"""Total variation distance ``TV(p, q) = (1/2) sum_i |p_i - q_i| = max_E |p(E) - q(E)|``.

    In ``[0, 1]``; Pinsker's inequality states ``TV(p, q) <= sqrt(KL(p || q) / 2)``.
    """
    p, q = _pair(p, q, axis)
    return _out(0.5 * np.abs(p - q).sum(axis=-1))


# --------------------------------------------------------------------- Gaussians
def _gauss_args(**arrays):
    out = []
    for name, x in arrays.items():
        arr = as_float_array(x, name)
        if name.startswith("sigma"):
            bad = arr <= 0
            if bad.any():
                i = np.argwhere(bad)[0] if arr.ndim else ()
                raise ValueError(f"{name}{list(map(int, i)) if arr.ndim else ''} is "
                                 f"{arr[tuple(i)]!r}, expected a standard deviation > 0")
        out.append(arr)
    try:
        return np.broadcast_arrays(*out)
    except ValueError:
        shapes = ", ".join(f"{n} {a.shape}" for n, a in zip(arrays, out))
        raise ValueError(f"arguments cannot be broadcast together: {shapes}") from None


def gaussian_entropy(mu, sigma):
    r"""Differential entropy of ``N(mu, sigma^2)``: ``(1/2) log(2 pi e sigma^2)`` (nats).

    ``mu`` does not enter (entropy is shift invariant); it is accepted so that
    the result broadcasts like the other Gaussian functions.
    """
    mu, sigma = _gauss_args(mu=mu, sigma=sigma)
    return _out(0.5 * np.log(2 * np.pi * np.e * sigma**2) + 0.0 * mu)


def gaussian_kl(mu_p, sigma_p, mu_q, sigma_q):
    r"""``KL(N(mu_p, sigma_p^2) || N(mu_q, sigma_q^2))`` in closed form:

    .. math:: \log\frac{\sigma_q}{\sigma_p} + \frac{\sigma_p^2 + (\mu_p - \mu_q)^2}{2\sigma_q^2} - \frac12 .

    Vectorised over broadcastable arrays.  The computed value is returned as it
    is (not clipped at 0; it can be a roundoff-sized negative number when the two
    Gaussians coincide to within roundoff).
    """
    mu_p, sigma_p, mu_q, sigma_q = _gauss_args(mu_p=mu_p, sigma_p=sigma_p, mu_q=mu_q,
                                               sigma_q=sigma_q)
    kl = np.log(sigma_q / sigma_p) + (sigma_p**2 + (mu_p - mu_q) ** 2) / (2 * sigma_q**2) - 0.5
    return _out(kl)


def gaussian_total_variation(mu_p, sigma_p, mu_q, sigma_q):
    r"""Exact total variation distance between two 1-D Gaussians.

    Computed in closed form from the crossing points of the two densities (no
    numerical integration).  ``log p(x) - log q(x) = a x^2 + b x + c`` with

    .. math:: a = \frac{1}{2\sigma_q^2} - \frac{1}{2\sigma_p^2},\quad
              b = \frac{\mu_p}{\sigma_p^2} - \frac{\mu_q}{\sigma_q^2},\quad
              c = \frac{\mu_q^2}{2\sigma_q^2} - \frac{\mu_p^2}{2\sigma_p^2} + \log\frac{\sigma_q}{\sigma_p}.

    Its roots ``x_1 <= x_2`` split the line into regions where one density
    dominates, and ``TV = |(P - Q)([x_1, x_2])|`` with ``P``, ``Q`` the two
    measures (Gaussian CDFs).  The roots are taken with the cancellation-free
    quadratic formula, which also covers ``sigma_p == sigma_q`` (then ``a = 0``,
    one root is infinite and the other is the midpoint ``(mu_p + mu_q) / 2``,
    giving ``TV = 2 Phi(|mu_p - mu_q| / (2 sigma)) - 1``).
    """
    mu_p, sigma_p, mu_q, sigma_q = _gauss_args(mu_p=mu_p, sigma_p=sigma_p, mu_q=mu_q, sigma_q=sigma_q)
    a = 0.5 / sigma_q**2 - 0.5 / sigma_p**2
    b = mu_p / sigma_p**2 - mu_q / sigma_q**2
    c = 0.5 * mu_q**2 / sigma_q**2 - 0.5 * mu_p**2 / sigma_p**2 + np.log(sigma_q / sigma_p)
    disc = np.maximum(b * b - 4 * a * c, 0.0)
    sgn = np.where(b >= 0, 1.0, -1.0)
    qq = -0.5 * (b + sgn * np.sqrt(disc))
    # b = c = 0: identical distributions (exactly), or a log-ratio lost to round-off
    # (e.g. means 1e-20 apart at sigma = 1e154), where qq = 0 and c / qq would be
    # 0 / 0 = nan: TV = 0 below
    same = (b == 0) & (c == 0)
    qq = np.where(same, 1.0, qq)
    with np.errstate(divide="ignore", invalid="ignore"):
        r1 = np.where(a != 0, qq / np.where(a != 0, a, 1.0), -np.inf)
        r2 = c / qq
    lo, hi = np.minimum(r1, r2), np.maximum(r1, r2)
    mass_p = ndtr((hi - mu_p) / sigma_p) - ndtr((lo - mu_p) / sigma_p)
    mass_q = ndtr((hi - mu_q) / sigma_q) - ndtr((lo - mu_q) / sigma_q)
    tv = np.where(same, 0.0, np.abs(mass_p - mass_q))
    return _out(np.clip(tv, 0.0, 1.0))
