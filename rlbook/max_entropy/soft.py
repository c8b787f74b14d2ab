"""Soft (maximum-entropy) Bellman equations on finite MDPs (chapter *Continuous control
and maximum entropy*).

With temperature ``alpha > 0`` the agent maximises reward plus ``alpha`` times
the entropy of its policy at every visited state. The soft values of a policy
``pi`` satisfy

    q_pi(s, a) = r(s, a) + gamma sum_s' p(s'|s, a) v_pi(s'),
    v_pi(s)    = sum_a pi(a|s) (q_pi(s, a) - alpha log pi(a|s)),

and the optimal soft values replace the second line by a log-sum-exp,
``v(s) = alpha log sum_a exp(q(s, a) / alpha)``, whose maximising policy is the
Boltzmann policy ``exp((q - v) / alpha)``. Terminal states have value 0 and
collect no entropy.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validate import as_float_array, check_int, check_policy, check_positive, check_vector
from ..dp.bellman import evaluate_policy
from ..mdp import FiniteMDP, _check_mdp

__all__ = [
    "SoftSolveResult",
    "soft_value",
    "boltzmann_policy",
    "soft_bellman_operator",
    "soft_policy_evaluation",
    "soft_value_iteration",
    "soft_q_learning",
]


@dataclass(frozen=True)
class SoftSolveResult:
    """What :func:`soft_value_iteration` and :func:`soft_q_learning` return.

    Attributes
    ----------
    q : ndarray (S, A)
        Soft action values ``R + gamma P v``.
    v : ndarray (S,)
        Soft state values ``alpha log sum_a exp(q / alpha)`` (0 on terminal states).
    policy : ndarray (S, A)
        The Boltzmann policy ``exp((q - v) / alpha)``.
    num_iter : int
        Sweeps (value iteration) or synchronous sampled updates (Q-learning).
    converged : bool
        Whether the stopping rule was met (always True for Q-learning).
    """

    q: np.ndarray
    v: np.ndarray
    policy: np.ndarray
    num_iter: int
    converged: bool


def _check_alpha(alpha) -> float:
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float, np.floating, np.integer)):
        raise TypeError(f"alpha must be a real number > 0 (a temperature), got {alpha!r}")
    a = float(alpha)
    if not np.isfinite(a) or a <= 0:
        raise ValueError(f"alpha is {alpha!r}, expected a temperature > 0 (alpha -> 0 is the "
                         f"ordinary, hard-max case: use value_iteration)")
    return a


def _lse(q, alpha):
    m = q.max(axis=-1, keepdims=True)
    return (m + alpha * np.log(np.exp((q - m) / alpha).sum(axis=-1, keepdims=True)))[..., 0]


def soft_value(q, alpha) -> np.ndarray:
    r"""The soft maximum over actions, ``alpha log sum_a exp(q(s, a) / alpha)``.

    .. math:: v(s) = \alpha \log \sum_a e^{q(s,a)/\alpha}
              = \max_\pi \sum_a \pi(a|s)\big(q(s,a) - \alpha \log \pi(a|s)\big),

    computed by subtracting the row maximum first (no overflow for small
    ``alpha``). ``q`` has actions on its last axis.
    """
    alpha = _check_alpha(alpha)
    q = as_float_array(q, "q")
    if q.ndim == 0 or q.shape[-1] == 0:
        raise ValueError(f"q must have actions on a non-empty last axis, got shape {q.shape}")
    return _lse(q, alpha)


def boltzmann_policy(q, alpha) -> np.ndarray:
    r"""The Boltzmann (softmax) policy ``pi(a|s) = exp((q(s, a) - v(s)) / alpha)``.

    It maximises ``sum_a pi(a|s) (q(s, a) - alpha log pi(a|s))`` (soft policy
    improvement); ``v`` is :func:`soft_value`.
    """
    alpha = _check_alpha(alpha)
    q = as_float_array(q, "q")
    if q.ndim == 0 or q.shape[-1] == 0:
        raise ValueError(f"q must have actions on a non-empty last axis, got shape {q.shape}")
    z = np.exp((q - q.max(axis=-1, keepdims=True)) / alpha)
    return z / z.sum(axis=-1, keepdims=True)


def soft_bellman_operator(mdp: FiniteMDP, v, alpha) -> np.ndarray:
    r"""The soft Bellman optimality operator on state values.

    .. math:: (T_\alpha v)(s) = \alpha \log \sum_a \exp\Big(\frac{r(s,a) + \gamma
              \sum_{s'} p(s'|s,a) v(s')}{\alpha}\Big), \qquad (T_\alpha v)(s) = 0
              \text{ on terminal states}.

    A ``gamma``-contraction in the sup norm (log-sum-exp is monotone and commutes
    with adding constants).
    """
    _check_mdp(mdp)
    alpha = _check_alpha(alpha)
    v = check_vector(v, mdp.n_states, "v")
    return _T(mdp, v, alpha)[1]


def _T(mdp, v, alpha):
    q = mdp.R + mdp.gamma * (mdp.P_flat @ v).reshape(mdp.n_states, mdp.n_actions)
    q[mdp.terminal] = 0.0
    vn = _lse(q, alpha)
    vn[mdp.terminal] = 0.0
    return q, vn


def soft_policy_evaluation(mdp: FiniteMDP, pi, alpha):
    r"""Soft values ``(v_pi, q_pi)`` of a stochastic policy.

    Solves the linear soft Bellman equation
    ``v_pi = r_pi + alpha H_pi + gamma P_pi v_pi`` with the entropy
    ``H_pi(s) = -sum_a pi(a|s) log pi(a|s)``, i.e. ordinary policy evaluation
    (:func:`rlbook.evaluate_policy`) with the reward ``r(s, a) - alpha log pi(a|s)``;
    then ``q_pi = R + gamma P v_pi``.

    Returns
    -------
    v : ndarray (S,)
    q : ndarray (S, A)
    """
    _check_mdp(mdp)
    alpha = _check_alpha(alpha)
    pi = check_policy(pi, mdp.n_states, mdp.n_actions)
    logpi = np.log(np.where(pi > 0, pi, 1.0))          # 0 log 0 = 0
    R_soft = mdp.R - alpha * logpi
    R_soft[mdp.terminal] = 0.0
    v = evaluate_policy(mdp.with_rewards(R_soft), pi)
    q = mdp.R + mdp.gamma * (mdp.P_flat @ v).reshape(mdp.n_states, mdp.n_actions)
    q[mdp.terminal] = 0.0
    return v, q


def soft_value_iteration(mdp: FiniteMDP, alpha, tol: float = 1e-10,
                         max_iter: int = 100_000) -> SoftSolveResult:
    r"""Soft value iteration: iterate :func:`soft_bellman_operator` to its fixed point.

    .. math:: q = R + \gamma P v, \qquad v = \alpha \log \sum_a e^{q/\alpha},
              \qquad \pi^*_\alpha = e^{(q - v)/\alpha}.

    Stops when ``||v_{k+1} - v_k||_inf <= tol (1 - gamma) / gamma``, which
    guarantees ``||v_{k+1} - v*_alpha||_inf <= tol`` (contraction bound).

    Parameters
    ----------
    mdp : FiniteMDP
        With ``gamma < 1``.
    alpha : float
        Temperature ``> 0``.
    tol : float
        Sup-norm accuracy of the returned ``v``.
    max_iter : int

    Returns
    -------
    SoftSolveResult
    """
    _check_mdp(mdp)
    alpha = _check_alpha(alpha)
    tol = check_positive(tol, "tol")
    max_iter = check_int(max_iter, "max_iter", 1)
    if mdp.gamma >= 1:
        raise ValueError(f"mdp.gamma is {mdp.gamma}, expected < 1 (the soft values of an "
                         f"undiscounted MDP collect entropy forever)")
    g = mdp.gamma
    thresh = tol * (1 - g) / g if g > 0 else np.inf
    v = np.zeros(mdp.n_states)
    converged = False
    n = 0
    for n in range(1, max_iter + 1):
        q, vn = _T(mdp, v, alpha)
        delta = np.max(np.abs(vn - v))
        v = vn
        if delta <= thresh:
            converged = True
            break
    q, _ = _T(mdp, v, alpha)
    return SoftSolveResult(q=q, v=v, policy=boltzmann_policy(q, alpha), num_iter=n,
                           converged=converged)


def soft_q_learning(mdp: FiniteMDP, n_iter: int, *, alpha, rng, omega: float = 0.6,
                    q0=None) -> SoftSolveResult:
    r"""Synchronous soft Q-learning from sampled transitions.

    At iteration ``n`` every pair ``(s, a)`` draws one next state
    ``s' ~ p(.|s, a)`` and moves toward the soft TD target:

    .. math:: q(s,a) \leftarrow q(s,a) + c_n\Big(r(s,a) + \gamma\,\alpha \log \sum_{a'}
              e^{q(s',a')/\alpha} - q(s,a)\Big), \qquad c_n = (n + 1)^{-\omega},

    Q-learning's update with the max of the target replaced by the soft
    maximum (:func:`soft_value`). The step sizes satisfy the Robbins-Monro
    conditions for ``omega`` in ``(1/2, 1]``, and the iterates converge to the
    soft optimal ``q`` of :func:`soft_value_iteration`.

    Parameters
    ----------
    mdp : FiniteMDP
        With ``gamma < 1``; rewards are the expected rewards ``R``.
    n_iter : int
        Synchronous sweeps (``n_iter * S * A`` sampled transitions).
    alpha : float
        Temperature ``> 0``.
    rng : numpy.random.Generator or int
    omega : float
        Step-size exponent in ``(0.5, 1]``.
    q0 : array (S, A), optional
        Initial values (zeros by default).
    """
    _check_mdp(mdp)
    alpha = _check_alpha(alpha)
    n_iter = check_int(n_iter, "n_iter", 1)
    if mdp.gamma >= 1:
        raise ValueError(f"mdp.gamma is {mdp.gamma}, expected < 1")
    if isinstance(omega, bool) or not isinstance(omega, (int, float)) or not 0.5 < omega <= 1:
        raise ValueError(f"omega is {omega!r}, expected a step-size exponent in (0.5, 1]")
    rng = np.random.default_rng(rng)
    S, A = mdp.n_states, mdp.n_actions
    q = np.zeros((S, A)) if q0 is None else as_float_array(q0, "q0", shape=(S, A)).copy()
    q[mdp.terminal] = 0.0
    cdf = np.cumsum(mdp.P_flat, axis=1)
    cdf[:, -1] = 1.0
    live = ~mdp.terminal
    for n in range(n_iter):
        u = rng.random(S * A)
        s_next = (cdf < u[:, None]).sum(axis=1)
        v_next = _lse(q, alpha)
        v_next[mdp.terminal] = 0.0
        target = mdp.R + mdp.gamma * v_next[s_next].reshape(S, A)
        q[live] += (n + 1.0) ** -omega * (target[live] - q[live])
    v = _lse(q, alpha)
    v[mdp.terminal] = 0.0
    return SoftSolveResult(q=q, v=v, policy=boltzmann_policy(q, alpha), num_iter=n_iter,
                           converged=True)
