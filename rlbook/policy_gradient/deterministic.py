"""The deterministic policy gradient on a one-dimensional linear-quadratic problem
(chapter C10 *Actor-critic methods*).

The problem: state ``s in R``, action ``u in R``, dynamics ``s' = f_s s + f_u u``,
reward ``-(c_s s^2 + c_u u^2)``, initial state ``s_0 ~ N(0, sigma0^2)``, discount
``gamma``. A linear deterministic policy ``mu_k(s) = -k s`` gives the closed loop
``s_{t+1} = ell s_t`` with ``ell = f_s - f_u k``; when ``gamma ell^2 < 1`` its
value is ``V_k(s) = -m_k s^2`` with ``m_k`` the solution of the (scalar) Lyapunov
equation ``m_k = c_s + c_u k^2 + gamma ell^2 m_k``, and ``J(k) = -m_k sigma0^2``.
The Gaussian policy ``u ~ N(-k s, sigma^2)`` has a closed form too, and tends to
the deterministic one as ``sigma -> 0``.
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

from .._validate import check_gamma, check_int, check_positive

__all__ = [
    "LinearQuadratic",
    "lq_objective",
    "lq_q_function",
    "lq_deterministic_gradient",
    "lq_gaussian_objective",
    "lq_gaussian_pg_estimate",
]


def _real(x, name):
    if isinstance(x, bool) or not isinstance(x, numbers.Real) or not np.isfinite(x):
        raise ValueError(f"{name} is {x!r}, expected a finite real number")
    return float(x)


@dataclass(frozen=True)
class LinearQuadratic:
    """A one-dimensional discounted linear-quadratic control problem."""

    f_s: float = 1.0
    """State coefficient of the dynamics ``s' = f_s s + f_u u``."""
    f_u: float = 0.5
    """Action coefficient of the dynamics."""
    c_s: float = 1.0
    """State cost weight: the reward is ``-(c_s s^2 + c_u u^2)``; must be >= 0."""
    c_u: float = 0.1
    """Action cost weight; must be > 0."""
    gamma: float = 0.9
    """Discount factor in [0, 1)."""
    sigma0: float = 1.0
    """Standard deviation of the initial state ``s_0 ~ N(0, sigma0^2)``; must be > 0."""

    def __post_init__(self):
        _real(self.f_s, "f_s")
        _real(self.f_u, "f_u")
        check_positive(self.c_s, "c_s", allow_zero=True)
        check_positive(self.c_u, "c_u")
        g = check_gamma(self.gamma)
        if g >= 1.0:
            raise ValueError(f"gamma is {self.gamma}, expected gamma < 1")
        check_positive(self.sigma0, "sigma0")


def _check_lq(lq):
    if not isinstance(lq, LinearQuadratic):
        raise TypeError(f"lq must be a LinearQuadratic, got {type(lq).__name__}")


def _closed_loop(lq, k):
    k = _real(k, "k")
    ell = lq.f_s - lq.f_u * k
    if lq.gamma * ell**2 >= 1.0:
        raise ValueError(f"k is {k}: the closed loop s' = {ell:.6g} s has gamma ell^2 = "
                         f"{lq.gamma * ell**2:.6g} >= 1, so the discounted cost is infinite; "
                         "expected a gain with gamma (f_s - f_u k)^2 < 1")
    return k, ell


def lq_objective(lq: LinearQuadratic, k) -> float:
    r"""``J(k) = E[sum_t gamma^t R_{t+1}]`` of the policy ``u = -k s``:

    .. math:: J(k) = -\frac{(c_s + c_u k^2)\, \sigma_0^2}{1 - \gamma (f_s - f_u k)^2}.

    Raises ``ValueError`` if ``gamma (f_s - f_u k)^2 >= 1``.
    """
    _check_lq(lq)
    k, ell = _closed_loop(lq, k)
    return -(lq.c_s + lq.c_u * k**2) * lq.sigma0**2 / (1.0 - lq.gamma * ell**2)


def lq_q_function(lq: LinearQuadratic, k, s, u):
    r"""``q_mu(s, u) = -(c_s s^2 + c_u u^2) - gamma m_k (f_s s + f_u u)^2``: take ``u``
    once, then follow ``mu_k(s) = -k s``; ``m_k = (c_s + c_u k^2) / (1 - gamma ell^2)``.
    ``s`` and ``u`` broadcast."""
    _check_lq(lq)
    k, ell = _closed_loop(lq, k)
    m = (lq.c_s + lq.c_u * k**2) / (1.0 - lq.gamma * ell**2)
    s = np.asarray(s, dtype=float)
    u = np.asarray(u, dtype=float)
    return -(lq.c_s * s**2 + lq.c_u * u**2) - lq.gamma * m * (lq.f_s * s + lq.f_u * u) ** 2


def lq_deterministic_gradient(lq: LinearQuadratic, k, horizon: int = 2000, du: float = 1e-5) -> float:
    r"""``dJ/dk`` by the deterministic policy gradient theorem (Silver et al. 2014):

    .. math:: \nabla_k J = \sum_{t\ge 0} \gamma^t\, \mathbb E\big[\nabla_k \mu_k(S_t)\,
              \partial_u q_\mu(S_t, u)\big|_{u = \mu_k(S_t)}\big],

    with ``grad_k mu_k(s) = -s``. The closed loop is deterministic and linear, so
    ``S_t = ell^t S_0`` and the expectation over ``S_0 ~ N(0, sigma0^2)`` of a
    function that is quadratic in ``S_0`` is its value at ``S_0 = sigma0``;
    ``partial_u q`` is a central difference of :func:`lq_q_function` with step ``du``.
    The sum runs over ``horizon`` steps.
    """
    _check_lq(lq)
    k, ell = _closed_loop(lq, k)
    horizon = check_int(horizon, "horizon", 1)
    du = check_positive(du, "du")
    t = np.arange(horizon)
    s_t = lq.sigma0 * ell**t
    u_t = -k * s_t
    dq = (lq_q_function(lq, k, s_t, u_t + du) - lq_q_function(lq, k, s_t, u_t - du)) / (2 * du)
    return float(np.sum(lq.gamma**t * (-s_t) * dq))


def lq_gaussian_objective(lq: LinearQuadratic, k, sigma) -> float:
    r"""``J_sigma(k)`` of the Gaussian policy ``u ~ N(-k s, sigma^2)``:

    .. math:: J_\sigma(k) = -(c_s + c_u k^2)\, M - \frac{c_u \sigma^2}{1-\gamma},\qquad
              M = \sum_t \gamma^t \mathbb E[S_t^2] = \frac{\sigma_0^2 + \gamma f_u^2 \sigma^2/(1-\gamma)}
              {1 - \gamma (f_s - f_u k)^2},

    since ``E[S_{t+1}^2] = ell^2 E[S_t^2] + f_u^2 sigma^2``. ``sigma = 0`` gives
    :func:`lq_objective`.
    """
    _check_lq(lq)
    k, ell = _closed_loop(lq, k)
    sigma = check_positive(sigma, "sigma", allow_zero=True)
    g = lq.gamma
    M = (lq.sigma0**2 + g * lq.f_u**2 * sigma**2 / (1 - g)) / (1 - g * ell**2)
    return -(lq.c_s + lq.c_u * k**2) * M - lq.c_u * sigma**2 / (1 - g)


def lq_gaussian_pg_estimate(lq: LinearQuadratic, k, sigma, n_episodes: int, horizon: int, rng):
    r"""Monte Carlo estimate of ``dJ_sigma/dk`` by the (stochastic) policy gradient theorem:

    .. math:: \hat g = \frac1N \sum_{n} \sum_{t<T} \gamma^t G_t^{(n)}\, \nabla_k \ln \pi(U_t|S_t),
              \qquad \nabla_k \ln \mathcal N(u; -k s, \sigma^2) = -\frac{(u + k s)\, s}{\sigma^2}.

    Returns ``(mean, standard error)`` over the ``n_episodes`` independent episodes.
    The estimator's variance grows like ``1/sigma^2`` as ``sigma -> 0``.
    """
    _check_lq(lq)
    k, _ = _closed_loop(lq, k)
    sigma = check_positive(sigma, "sigma")
    N = check_int(n_episodes, "n_episodes", 2)
    T = check_int(horizon, "horizon", 1)
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    s = lq.sigma0 * rng.standard_normal(N)
    rewards = np.empty((T, N))
    scores = np.empty((T, N))
    for t in range(T):
        noise = sigma * rng.standard_normal(N)
        u = -k * s + noise
        rewards[t] = -(lq.c_s * s**2 + lq.c_u * u**2)
        scores[t] = -noise * s / sigma**2
        s = lq.f_s * s + lq.f_u * u
    disc = lq.gamma ** np.arange(T)
    G = np.cumsum((rewards * disc[:, None])[::-1], axis=0)[::-1] / disc[:, None]   # G_t
    per_episode = np.sum(disc[:, None] * G * scores, axis=0)
    return float(per_episode.mean()), float(per_episode.std(ddof=1) / np.sqrt(N))
