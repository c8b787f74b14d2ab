"""Tabular actor-critic methods (chapter C10 *Actor-critic methods*).

* :func:`train_tabular_actor_critic` -- QAC (a Sarsa critic ``q`` and the actor
  step ``theta += alpha_theta q(s, a) grad ln pi(a|s)``), the advantage
  actor-critic with a TD(0) critic ``v`` and the TD error as the advantage, and
  its off-policy version with importance ratios (Degris et al. 2012);
* :func:`td_advantage` -- ``E[delta_t | s, a]`` for a given critic;
* :func:`compatible_critic_weights` -- the compatible function approximation of
  Sutton et al. (2000), Theorem 2;
* :func:`off_policy_expected_update` -- the exact expected actor update of
  off-policy actor-critic, with the importance ratio evaluated at the current or
  at a stale parameter.

The Sarsa critic is implemented here (one line per step) rather than imported
from the temporal-difference chapter, so that the learner reads top to bottom
like its algorithm box.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._progress import progress_bar
from .._validate import (as_float_array, check_config, check_distribution, check_int, check_policy,
                         check_positive, check_positive_entries, check_vector)
from ..dp.bellman import _q_from_v, _solve_v
from ..mdp import FiniteMDP, _check_mdp, _policy_matrices
from .objectives import _visitation, softmax_policy
from .theorem import _linear_softmax_terms

__all__ = [
    "TabularACConfig",
    "TabularACResult",
    "train_tabular_actor_critic",
    "td_advantage",
    "compatible_critic_weights",
    "off_policy_expected_update",
]


@dataclass(frozen=True)
class TabularACConfig:
    """Settings of :func:`train_tabular_actor_critic`."""

    n_steps: int = 100_000
    """Environment steps in total (summed over episodes)."""
    episode_length: int = 100
    """Steps per episode; each episode restarts from ``rho0`` (continuing tasks are cut here)."""
    critic: str = "sarsa"
    """``"sarsa"``: QAC, critic ``q`` learned by Sarsa, actor weight ``q(s, a)``;
    ``"td"``: advantage actor-critic, critic ``v`` learned by TD(0), actor weight the TD error."""
    alpha_w: float = 0.1
    """Critic step size (> 0)."""
    alpha_theta: float = 0.05
    """Actor step size (> 0)."""
    behaviour: object = None
    """Behaviour policy ``beta`` ``(S, A)`` for off-policy learning (``critic="td"`` only):
    actions are drawn from ``beta`` and both updates are weighted by ``pi(a|s) / beta(a|s)``.
    None: on-policy."""
    eval_every: int = 1000
    """Record the exact objective ``J(theta)`` every this many steps."""
    seed: int = 0
    """Seed of the sampling generator."""


@dataclass(frozen=True)
class TabularACResult:
    """Outcome of :func:`train_tabular_actor_critic`."""

    theta: np.ndarray
    """Final actor preferences ``(S, A)``."""
    critic: np.ndarray
    """Final critic: ``q`` ``(S, A)`` (Sarsa) or ``v`` ``(S,)`` (TD)."""
    steps: np.ndarray
    """Steps at which the objective was recorded."""
    objective: np.ndarray
    """Exact ``J(theta) = rho0^T v_pi`` at those steps (the learning curve without sampling noise)."""


def _check_config(mdp, config):
    check_config(config, TabularACConfig)
    check_int(config.n_steps, "config.n_steps", 1)
    check_int(config.episode_length, "config.episode_length", 1)
    check_int(config.eval_every, "config.eval_every", 1)
    check_positive(config.alpha_w, "config.alpha_w")
    check_positive(config.alpha_theta, "config.alpha_theta")
    if config.critic not in ("sarsa", "td"):
        raise ValueError(f"config.critic is {config.critic!r}, expected 'sarsa' or 'td'")
    beta = None
    if config.behaviour is not None:
        if config.critic != "td":
            raise ValueError("config.behaviour needs config.critic='td' (off-policy actor-critic "
                             "uses a state-value critic)")
        beta = check_policy(config.behaviour, mdp.n_states, mdp.n_actions, "config.behaviour")
        check_positive_entries(beta, "config.behaviour", "> 0 (the behaviour policy must "
                               "cover every action of the softmax target)")
    return beta


def train_tabular_actor_critic(mdp: FiniteMDP, rho0, config: TabularACConfig = TabularACConfig(),
                               theta0=None, progress: bool = False) -> TabularACResult:
    r"""Actor-critic on a finite MDP with a tabular softmax actor.

    At every step ``(s_t, a_t, r_{t+1}, s_{t+1})``:

    * ``critic="sarsa"`` (QAC): draw ``a_{t+1} ~ pi(s_{t+1})``,
      ``q(s_t,a_t) += alpha_w [r_{t+1} + gamma q(s_{t+1},a_{t+1}) - q(s_t,a_t)]``,
      then ``theta += alpha_theta q(s_t,a_t) grad ln pi(a_t|s_t)``;
    * ``critic="td"`` (advantage actor-critic):
      ``delta_t = r_{t+1} + gamma v(s_{t+1}) - v(s_t)``, ``v(s_t) += alpha_w delta_t``,
      ``theta += alpha_theta delta_t grad ln pi(a_t|s_t)``;
    * with ``config.behaviour`` (off-policy, Degris et al. 2012): ``a_t ~ beta``
      and both updates are multiplied by ``rho_t = pi(a_t|s_t, theta_t) / beta(a_t|s_t)``.

    The tabular score is ``grad ln pi(a|s) = e_a - pi(.|s)`` in row ``s``.
    Terminal states end an episode early.

    Parameters
    ----------
    mdp : FiniteMDP
    rho0 : array_like (S,)
        Start distribution of every episode.
    config : TabularACConfig
    theta0 : array_like (S, A), optional
        Initial preferences (zeros by default).
    progress : bool
        Show a progress bar.
    """
    _check_mdp(mdp)
    S, A = mdp.n_states, mdp.n_actions
    rho0 = check_distribution(rho0, S, "rho0")
    beta = _check_config(mdp, config)
    theta = (np.zeros((S, A)) if theta0 is None
             else as_float_array(theta0, "theta0", shape=(S, A)).copy())
    rng = np.random.default_rng(config.seed)
    cumP = np.cumsum(mdp.P, axis=-1)
    cum_rho = np.cumsum(rho0)
    R, gamma, term = mdp.R, mdp.gamma, mdp.terminal
    aw, at = float(config.alpha_w), float(config.alpha_theta)
    sarsa = config.critic == "sarsa"
    q = np.zeros((S, A))
    v = np.zeros(S)
    steps, J = [], []

    def pi_row(s):
        z = np.exp(theta[s] - theta[s].max())
        return z / z.sum()

    def draw(p_cum, u):
        return min(int(np.searchsorted(p_cum, u, side="right")), len(p_cum) - 1)

    def record(t):
        pi = softmax_policy(theta)
        P_pi, r_pi = _policy_matrices(mdp, pi)
        steps.append(t)
        J.append(float(rho0 @ _solve_v(mdp, P_pi, r_pi)))

    n, L = int(config.n_steps), int(config.episode_length)
    us = iter(rng.random(2 * n + 2 * (n // L + 2)).tolist())   # every uniform draw, in order
    record(0)
    t = 0
    with progress_bar(n, progress, desc="actor-critic", unit="step") as bar:
        while t < n:
            s = draw(cum_rho, next(us))
            p = pi_row(s)
            a = draw(np.cumsum(p if beta is None else beta[s]), next(us))
            for _ in range(L):
                s2 = draw(cumP[s, a], next(us))
                r = R[s, a]
                done = bool(term[s2])
                p2 = pi_row(s2)
                a2 = draw(np.cumsum(p2 if beta is None else beta[s2]), next(us))
                if sarsa:  # QAC: Sarsa critic, then the actor weighted by q(s, a)
                    target = r + (0.0 if done else gamma * q[s2, a2])
                    q[s, a] += aw * (target - q[s, a])
                    w = q[s, a]
                else:      # TD(0) critic, actor weighted by the (importance-weighted) TD error
                    rho = 1.0 if beta is None else p[a] / beta[s, a]
                    delta = r + (0.0 if done else gamma * v[s2]) - v[s]
                    v[s] += aw * rho * delta
                    w = rho * delta
                theta[s] -= at * w * p          # grad ln pi(a|s) = e_a - pi(.|s), row s
                theta[s, a] += at * w
                t += 1
                bar.update()
                if t % config.eval_every == 0:
                    record(t)
                if t >= n or done:
                    break
                s, a = s2, a2
                p = pi_row(s)                   # theta[s2] changed if s2 == s
    if steps[-1] != t:
        record(t)
    return TabularACResult(theta, q if sarsa else v, np.asarray(steps), np.asarray(J))


def td_advantage(mdp: FiniteMDP, v) -> np.ndarray:
    r"""``E[delta_t | S_t = s, A_t = a] = r(s, a) + gamma sum_s' p(s'|s, a) v(s') - v(s)``, ``(S, A)``.

    With the exact critic ``v = v_pi`` this is the advantage
    ``A_pi(s, a) = q_pi(s, a) - v_pi(s)``; with an approximate ``v = v_pi + e`` it is
    ``A_pi(s, a) + gamma (P e)(s, a) - e(s)``.

    Parameters
    ----------
    mdp : FiniteMDP
    v : array_like (S,)
        The critic's state values.
    """
    _check_mdp(mdp)
    v = check_vector(v, mdp.n_states, "v")
    return _q_from_v(mdp, v) - v[:, None]


def compatible_critic_weights(mdp: FiniteMDP, theta, rho0, phi) -> np.ndarray:
    r"""MSE-optimal weights ``w`` of the compatible critic ``f_w(s, a) = psi(s, a)^T w``.

    The compatible features are the score, ``psi(s, a) = grad_theta ln pi(a|s)
    = phi(s, a) - E_pi[phi(s, .)]`` for the linear softmax, and ``w`` minimises

    .. math:: \sum_s \eta(s) \sum_a \pi(a|s)\, \big(\psi(s,a)^\top w - q_\pi(s,a)\big)^2 ,

    with the unnormalised discounted visitation ``eta``. By Sutton et al. (2000),
    Theorem 2, ``sum_s eta(s) sum_a pi(a|s) psi(s, a) f_w(s, a) = grad J``
    exactly. Among the minimisers (``psi`` may be rank deficient) the one of
    least norm is returned; ``(1 - gamma) F^+ grad J``, the natural gradient
    scaled, is that one (Kakade 2001).

    Parameters
    ----------
    mdp, theta, rho0, phi
        As in :func:`exact_linear_policy_gradient`: the MDP, the actor's parameters
        ``(d,)``, the start distribution ``(S,)`` and the actor's features ``(S, A, d)``
        (``tabular_features`` gives the tabular softmax).

    Returns
    -------
    w : ndarray (d,)
    """
    _check_mdp(mdp)
    pi, q, eta, psi = _linear_softmax_terms(mdp, theta, rho0, phi)
    sw = np.sqrt(eta[:, None] * pi).reshape(-1)
    X = psi.reshape(-1, psi.shape[-1]) * sw[:, None]
    w, *_ = np.linalg.lstsq(X, q.reshape(-1) * sw, rcond=None)
    return w


def off_policy_expected_update(mdp: FiniteMDP, theta, beta, rho0, theta_ratio=None) -> np.ndarray:
    r"""Exact expectation of the off-policy actor step (tabular softmax, exact critic):

    .. math:: \mathbb E_{S\sim\eta_\beta,\, A\sim\beta}\Big[\frac{\pi_{\theta'}(A|S)}{\beta(A|S)}\,
              A_{\pi_\theta}(S, A)\, \nabla_\theta \ln \pi_\theta(A|S)\Big]
              = \sum_s \eta_\beta(s) \sum_a \pi_{\theta'}(a|s)\, A_{\pi_\theta}(s,a)\,
              \nabla_\theta \ln \pi_\theta(a|s),

    where ``theta'`` (``theta_ratio``) is the parameter at which the importance
    ratio is evaluated. With ``theta' = theta`` (the default, Degris et al. 2012) it is
    :func:`rlbook.excursion_gradient`; a stale ``theta' != theta`` gives another vector.

    Parameters
    ----------
    mdp : FiniteMDP
    theta : array_like (S, A)
        Current actor preferences ``theta_t``.
    beta : array_like (S, A)
        Behaviour policy, positive everywhere.
    rho0 : array_like (S,)
    theta_ratio : array_like (S, A), optional
        Preferences used in the ratio's numerator (default ``theta``).

    Returns
    -------
    ndarray (S, A)
    """
    _check_mdp(mdp)
    S, A = mdp.n_states, mdp.n_actions
    theta = as_float_array(theta, "theta", shape=(S, A))
    th_r = theta if theta_ratio is None else as_float_array(theta_ratio, "theta_ratio", shape=(S, A))
    beta = check_policy(beta, S, A, "beta")
    check_positive_entries(beta, "beta", "> 0 everywhere")
    rho0 = check_distribution(rho0, S, "rho0")
    pi = softmax_policy(theta)
    pi_r = softmax_policy(th_r)
    P_pi, r_pi = _policy_matrices(mdp, pi)
    v = _solve_v(mdp, P_pi, r_pi)
    adv = _q_from_v(mdp, v) - v[:, None]
    P_b, _ = _policy_matrices(mdp, beta)
    eta_b = _visitation(mdp, P_b, rho0)
    w = pi_r * adv                                   # sum_a pi'(a|s) A(s, a) (e_a - pi(.|s))
    return eta_b[:, None] * (w - w.sum(axis=1, keepdims=True) * pi)
