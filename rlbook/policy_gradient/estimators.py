"""Monte Carlo policy gradient estimators (chapter *The policy gradient theorem*).

Every estimator is a pure function of a batch of sampled trajectories
(:class:`~rlbook.Trajectories`, arrays ``(N, T)``) and the policy parameters.
Each builds a per-step weight ``w[n, t]`` and returns the average over
episodes of

.. math:: \\hat g_n = \\sum_t w_{n,t}\\, \\nabla_\\theta \\ln \\pi(A_t | S_t)

with its standard error (sample standard deviation over episodes divided by
``sqrt(N)``). The weights are

=====================  ==========================================================
trajectory (REINFORCE)  ``w_t = G_0`` (the whole discounted return)
reward-to-go            ``w_t = gamma^t (G_t - b(S_t))``
per-decision IS         ``w_t = sum_{k >= t} gamma^k rho_{0:k} R_{k+1} - gamma^t rho_{0:t} b(S_t)``
whole-trajectory IS     ``w_t = rho_{0:T-1} gamma^t (G_t - b(S_t))``
one-step IS             ``w_t = gamma^t rho_t (Q_t - b(S_t))`` (state-distribution approximation)
=====================  ==========================================================

with ``rho_t = pi(A_t|S_t) / beta(A_t|S_t)`` and ``rho_{0:t} = prod_{t' <= t} rho_{t'}``.

Notes
-----
The exact gradient of :func:`~rlbook.exact_policy_gradient` uses the
*unnormalised* visitation ``eta(s) = sum_t gamma^t Pr(S_t = s)``: it is the
expectation of the sum over ``t`` of ``gamma^t`` terms. A normalised state
distribution ``(1 - gamma) eta`` would give ``(1 - gamma)`` times it.
Trajectories stop after ``T`` steps, so for ``gamma < 1`` in a continuing task
the estimators are unbiased for the gradient of the ``T``-step objective; the
truncation bias is at most ``gamma^T max|r| (T + 1 / (1 - gamma)) / (1 - gamma)``
per entry (tabular score), which a caller makes negligible against the standard
error by choosing ``T`` (see :func:`finite_horizon_gradient` for the exact value).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validate import as_float_array, check_distribution, check_gamma, check_int, check_policy
from ..dp.bellman import _q_from_v, _solve_v
from ..mdp import FiniteMDP, _check_mdp, policy_matrices
from .objectives import _check_phi, _visitation, softmax_policy
from ..sampling import Trajectories

__all__ = [
    "GradientEstimate",
    "reinforce_estimate",
    "reward_to_go_estimate",
    "off_policy_estimate",
    "excursion_gradient",
    "finite_horizon_gradient",
    "optimal_baseline",
]


@dataclass(frozen=True)
class GradientEstimate:
    """A Monte Carlo estimate of ``grad_theta J``.

    Attributes
    ----------
    grad : ndarray
        The estimate, the mean of the per-episode estimates (shape of ``theta``).
    stderr : ndarray
        Its standard error, entry by entry: the sample standard deviation of the
        per-episode estimates divided by ``sqrt(n_episodes)``.
    n_episodes : int
    per_episode : ndarray, shape (n_episodes, *grad.shape), optional
        The per-episode estimates ``g_n`` (kept so that exact expectations over
        enumerated trajectories and variances can be computed from them).
    """

    grad: np.ndarray
    stderr: np.ndarray
    n_episodes: int
    per_episode: np.ndarray | None = None

    def z_scores(self, exact) -> np.ndarray:
        """``(grad - exact) / stderr`` entry by entry (0 where both the error and
        the standard error vanish, ``inf`` where only the standard error does)."""
        exact = np.asarray(exact, dtype=float)
        if exact.shape != self.grad.shape:
            raise ValueError(f"exact has shape {exact.shape}, expected {self.grad.shape}")
        err = self.grad - exact
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.where(self.stderr > 0, err / np.where(self.stderr > 0, self.stderr, 1.0),
                         np.where(np.abs(err) > 1e-12, np.inf, 0.0))
        return z

    def max_abs_z(self, exact) -> float:
        """The largest ``|grad - exact| / stderr`` over the entries."""
        return float(np.max(np.abs(self.z_scores(exact))))

    @property
    def total_variance(self) -> float:
        """``sum_i Var[g_n]_i``: the trace of the per-episode covariance, i.e.
        ``N * sum(stderr^2)``, the variance measure used to compare estimators."""
        return float(self.n_episodes * np.sum(self.stderr**2))


# ---------------------------------------------------------------------------
# validation and the shared machinery
# ---------------------------------------------------------------------------

def _check_traj(traj):
    if not isinstance(traj, Trajectories):
        raise TypeError(f"traj must be rlbook.Trajectories, got {type(traj).__name__}")
    return traj


def _policy_and_score(theta, phi, traj):
    """Return ``pi (S, A)`` and a function mapping the weight table ``W (N, S, A)``
    (``W[n, s, a] = sum_t w[n, t] 1[S_t = s, A_t = a]``) to per-episode gradients."""
    if phi is None:
        theta = as_float_array(theta, "theta", ndim=2)
        pi = softmax_policy(theta)

        def to_grad(W):  # tabular score: row s of grad ln pi(a|s) is e_a - pi(.|s)
            return W - W.sum(axis=2, keepdims=True) * pi[None]
    else:
        phi, theta = _check_phi(phi, theta)
        pi = softmax_policy(phi @ theta)
        score = phi - np.einsum("sb,sbd->sd", pi, phi)[:, None, :]

        def to_grad(W):
            return np.einsum("nsa,sad->nd", W, score)
    S, A = pi.shape
    st, ac = traj.states, traj.actions
    m = traj.mask
    for arr, n, name, what in ((st, S, "states", "a state"), (ac, A, "actions", "an action")):
        bad = m & ((arr < 0) | (arr >= n))
        if bad.any():
            i = tuple(np.argwhere(bad)[0])
            raise ValueError(f"traj.{name}[{i[0]}, {i[1]}] is {arr[i]}, expected {what} in "
                             f"[0, {n - 1}] (theta/phi describe {S} states and {A} actions)")
    return pi, to_grad


def _estimate(w, traj, to_grad, S, A, keep):
    N, T = w.shape
    m = traj.mask
    n_idx = np.broadcast_to(np.arange(N)[:, None], (N, T))[m]
    W = np.zeros((N, S, A))
    np.add.at(W, (n_idx, traj.states[m], traj.actions[m]), w[m])
    g = to_grad(W)
    mean = g.mean(axis=0)
    se = g.std(axis=0, ddof=1) / np.sqrt(N) if N > 1 else np.full_like(mean, np.inf)
    return GradientEstimate(mean, se, N, g if keep else None)


def _baseline(baseline, S, traj):
    if baseline is None:
        return np.zeros(traj.states.shape)
    b = as_float_array(baseline, "baseline")
    if b.ndim == 0:
        return np.full(traj.states.shape, float(b))
    if b.shape != (S,):
        raise ValueError(f"baseline must be a number or have shape ({S},) (one value per state), "
                         f"got {b.shape}")
    return np.where(traj.mask, b[np.clip(traj.states, 0, S - 1)], 0.0)


def _discounts(gamma, T):
    return gamma ** np.arange(T)


def _returns(traj, gamma):
    """Reward-to-go ``G_t = sum_{k >= t} gamma^{k - t} R_{k+1}`` for every step (masked
    rewards are 0), vectorised over episodes."""
    r = traj.rewards
    T = r.shape[1]
    # G_t = gamma^{-t} sum_{k>=t} gamma^k r_k is unstable for small gamma and long T, so
    # accumulate backwards (a loop over T steps, vectorised over episodes).
    G = np.zeros_like(r)
    acc = np.zeros(r.shape[0])
    for t in range(T - 1, -1, -1):
        acc = r[:, t] + gamma * acc
        G[:, t] = acc
    return G


# ---------------------------------------------------------------------------
# on-policy estimators
# ---------------------------------------------------------------------------

def reinforce_estimate(theta, traj: Trajectories, gamma, phi=None,
                       keep_per_episode: bool = False) -> GradientEstimate:
    r"""The trajectory (REINFORCE) form of the policy gradient,

    .. math:: \hat g = \frac1N \sum_n \Big(\sum_t \nabla_\theta \ln\pi(A^n_t|S^n_t)\Big)\, G^n_0,
              \qquad G_0 = \sum_t \gamma^t R_{t+1},

    an unbiased estimate of ``grad J`` for episodes sampled from ``pi_theta``
    (Williams, 1992).

    Parameters
    ----------
    theta : array_like (S, A), or (d,) with ``phi``
        Parameters of the tabular softmax (or of the linear softmax).
    traj : Trajectories
        Episodes sampled under ``pi_theta``.
    gamma : float
    phi : array_like (S, A, d), optional
        Features of a linear-softmax policy.
    keep_per_episode : bool
        Keep the per-episode estimates in the result.
    """
    traj = _check_traj(traj)
    g = check_gamma(gamma)
    pi, to_grad = _policy_and_score(theta, phi, traj)
    G0 = traj.rewards @ _discounts(g, traj.horizon)
    w = np.where(traj.mask, G0[:, None], 0.0)
    return _estimate(w, traj, to_grad, *pi.shape, keep_per_episode)


def reward_to_go_estimate(theta, traj: Trajectories, gamma, baseline=None, phi=None,
                          discount_steps: bool = True,
                          keep_per_episode: bool = False) -> GradientEstimate:
    r"""The reward-to-go form, optionally with a state-dependent baseline,

    .. math:: \hat g = \frac1N \sum_n \sum_t \gamma^t \big(G^n_t - b(S^n_t)\big)\,
              \nabla_\theta \ln\pi(A^n_t|S^n_t),

    unbiased for ``grad J`` (past rewards drop out by causality and the
    baseline term has expectation zero; chapter *The policy gradient theorem*).

    Parameters
    ----------
    theta, traj, gamma, phi, keep_per_episode
        As in :func:`reinforce_estimate`.
    baseline : float or array_like (S,), optional
        ``b(s)``; a number is a constant baseline.
    discount_steps : bool
        Multiply step ``t`` by ``gamma^t`` (default). ``False`` reproduces the
        common implementation that drops the factor: its expectation is then
        *not* the gradient of the discounted objective (the chapter's pitfall).
    """
    traj = _check_traj(traj)
    g = check_gamma(gamma)
    pi, to_grad = _policy_and_score(theta, phi, traj)
    b = _baseline(baseline, pi.shape[0], traj)
    disc = _discounts(g, traj.horizon) if discount_steps else np.ones(traj.horizon)
    w = np.where(traj.mask, disc[None, :] * (_returns(traj, g) - b), 0.0)
    return _estimate(w, traj, to_grad, *pi.shape, keep_per_episode)


# ---------------------------------------------------------------------------
# off-policy estimators
# ---------------------------------------------------------------------------

_WEIGHTS = ("per-decision", "trajectory", "one-step")


def _check_beta(beta, pi):
    S, A = pi.shape
    beta = check_policy(beta, S, A, "beta")
    bad = (beta <= 0) & (pi > 0)
    if bad.any():
        s, a = np.argwhere(bad)[0]
        raise ValueError(
            f"beta[{s}, {a}] is {beta[s, a]:.3g} where the target policy pi[{s}, {a}] is "
            f"{pi[s, a]:.3g} > 0: the importance weight pi/beta is undefined; expected a "
            "behaviour policy that is positive wherever pi is")
    return beta


def off_policy_estimate(theta, traj: Trajectories, beta, gamma, weights: str = "per-decision",
                        baseline=None, q=None, phi=None,
                        keep_per_episode: bool = False) -> GradientEstimate:
    r"""Off-policy estimate of ``grad J(theta)`` from episodes sampled under ``beta``.

    With ``rho_t = pi(A_t|S_t) / beta(A_t|S_t)`` and ``rho_{0:t} = prod_{t'<=t} rho_{t'}``:

    * ``"per-decision"``: every reward is weighted by the ratios up to its own step,
      ``sum_t score_t sum_{k >= t} gamma^k rho_{0:k} R_{k+1}`` (Precup et al., 2000);
      unbiased.
    * ``"trajectory"``: one weight per episode, ``rho_{0:T-1} sum_t gamma^t G_t score_t``;
      unbiased, but its variance grows exponentially with the horizon.
    * ``"one-step"``: ``sum_t gamma^t rho_t Q_t score_t`` with
      ``Q_t = sum_{k >= t} gamma^{k-t} rho_{t+1:k} R_{k+1}`` (or ``q[S_t, A_t]`` when
      the action values ``q`` of ``pi`` are given): the state-distribution
      approximation (Degris et al., 2012), which drops ``rho_{0:t-1}``. Its
      expectation is :func:`excursion_gradient`, not ``grad J``.

    A ``baseline`` ``b(S_t)`` is subtracted with the weight of step ``t``
    (``rho_{0:t}``, ``rho_{0:T-1}`` or ``rho_t``), which leaves each expectation unchanged.

    Parameters
    ----------
    theta : array_like (S, A), or (d,) with ``phi``
        Parameters of the target policy ``pi_theta``.
    traj : Trajectories
        Episodes sampled under ``beta``.
    beta : array_like (S, A)
        The behaviour policy; positive wherever ``pi_theta`` is.
    gamma : float
    weights : {"per-decision", "trajectory", "one-step"}
    baseline : float or array_like (S,), optional
    q : array_like (S, A), optional
        Action values used by ``"one-step"`` instead of the sampled ``Q_t``.
    phi : array_like (S, A, d), optional
    keep_per_episode : bool

    Raises
    ------
    ValueError
        If ``beta`` is zero where ``pi_theta`` is positive (importance weights
        undefined), or on shapes that do not match.
    """
    traj = _check_traj(traj)
    g = check_gamma(gamma)
    if weights not in _WEIGHTS:
        raise ValueError(f"weights is {weights!r}, expected one of {_WEIGHTS}")
    pi, to_grad = _policy_and_score(theta, phi, traj)
    S, A = pi.shape
    beta = _check_beta(beta, pi)
    m = traj.mask
    s_ = np.where(m, traj.states, 0)
    a_ = np.where(m, traj.actions, 0)
    log_rho = np.where(m, np.log(pi[s_, a_]) - np.log(beta[s_, a_]), 0.0)
    log_c = np.cumsum(log_rho, axis=1)  # ln rho_{0:t}
    T = traj.horizon
    disc = _discounts(g, T)
    b = _baseline(baseline, S, traj)
    r = traj.rewards
    if weights == "per-decision":
        c = np.exp(log_c)
        x = disc[None, :] * c * r
        tail = np.flip(np.cumsum(np.flip(x, axis=1), axis=1), axis=1)
        w = tail - disc[None, :] * c * b
    elif weights == "trajectory":
        W = np.exp(log_c[:, -1])[:, None]
        w = W * disc[None, :] * (_returns(traj, g) - b)
    else:
        if q is not None:
            q = as_float_array(q, "q", shape=(S, A))
            Q = q[s_, a_]
        else:
            # Q_t = sum_{k>=t} gamma^{k-t} rho_{t+1:k} R_{k+1}, accumulated backwards
            Q = np.zeros_like(r)
            acc = np.zeros(r.shape[0])
            rho = np.exp(log_rho)
            for t in range(T - 1, -1, -1):
                nxt = rho[:, t + 1] if t + 1 < T else np.ones(r.shape[0])
                acc = r[:, t] + g * nxt * acc
                Q[:, t] = acc
        w = disc[None, :] * np.exp(log_rho) * (Q - b)
    w = np.where(m, w, 0.0)
    return _estimate(w, traj, to_grad, S, A, keep_per_episode)


def excursion_gradient(mdp: FiniteMDP, theta, beta, rho0) -> np.ndarray:
    r"""The expectation of the one-step off-policy estimator (tabular softmax):

    .. math:: g_\beta = \sum_s \eta_\beta(s) \sum_a \nabla_\theta \pi(a|s)\, q_\pi(s, a),

    the policy gradient theorem with the unnormalised discounted visitation
    ``eta_beta`` of the *behaviour* policy (from ``rho0``) in place of ``eta_pi``.
    It equals ``grad J`` when ``beta = pi`` and differs from it otherwise.

    Notes
    -----
    This is the approximate gradient of Degris et al. (2012) for the excursion
    objective ``J_beta = sum_s d_beta(s) v_pi(s)``, with ``d_beta = eta_beta``: it
    drops the term ``sum_s eta_beta(s) sum_a pi(a|s) grad q_pi(s, a)``, so it is
    *not* the exact gradient of ``eta_beta^T v_pi`` either (chapter *The policy
    gradient theorem*).

    Parameters
    ----------
    mdp : FiniteMDP
    theta : array_like (S, A)
        Preferences of the target policy ``pi = softmax(theta)``.
    beta : array_like (S, A)
        Behaviour policy, positive wherever ``pi`` is.
    rho0 : array_like (S,)

    Returns
    -------
    g_beta : ndarray (S, A)
    """
    _check_mdp(mdp)
    theta = as_float_array(theta, "theta", shape=(mdp.n_states, mdp.n_actions))
    rho0 = check_distribution(rho0, mdp.n_states, "rho0")
    pi = softmax_policy(theta)
    beta = _check_beta(beta, pi)
    P_pi, r_pi = policy_matrices(mdp, pi)
    v = _solve_v(mdp, P_pi, r_pi)
    q = _q_from_v(mdp, v)
    P_b, _ = policy_matrices(mdp, beta)
    eta_b = _visitation(mdp, P_b, rho0)
    return eta_b[:, None] * pi * (q - v[:, None])


def finite_horizon_gradient(mdp: FiniteMDP, theta, rho0, horizon: int,
                            discount_steps: bool = True) -> np.ndarray:
    r"""Exact expectation of :func:`reward_to_go_estimate` on episodes of ``horizon`` steps
    (tabular softmax, no baseline):

    .. math:: \sum_{t<T} c_t \sum_s \Pr(S_t = s) \sum_a \pi(a|s)\,
              \big(q_{T-t}(s, a) - v_{T-t}(s)\big) \quad\text{in entry } (s, a),

    where ``q_k``, ``v_k`` are the ``k``-step (truncated) discounted values and
    ``c_t = gamma^t`` (or 1 with ``discount_steps=False``, the pitfall's
    direction). With ``gamma^t`` it tends to :func:`~rlbook.exact_policy_gradient`
    as ``T`` grows, with an error at most ``gamma^T max|r| (T + 1 / (1 - gamma)) / (1 - gamma)``
    per entry.
    """
    _check_mdp(mdp)
    S, A = mdp.n_states, mdp.n_actions
    theta = as_float_array(theta, "theta", shape=(S, A))
    rho0 = check_distribution(rho0, S, "rho0")
    T = check_int(horizon, "horizon", 1)
    pi = softmax_policy(theta)
    P_pi, _ = policy_matrices(mdp, pi)
    live = ~mdp.terminal
    adv = []  # adv[k] = pi * (q_k - v_k) for k = 0..T
    v = np.zeros(S)
    adv.append(np.zeros((S, A)))
    for _ in range(T):
        q = mdp.R + mdp.gamma * (mdp.P_flat @ v).reshape(S, A)
        q[mdp.terminal] = 0.0
        v = np.sum(pi * q, axis=1)
        adv.append(pi * (q - v[:, None]))
    d = rho0 * live
    grad = np.zeros((S, A))
    for t in range(T):
        c = mdp.gamma**t if discount_steps else 1.0
        grad += c * d[:, None] * adv[T - t]
        d = (d @ P_pi) * live
    return grad


def optimal_baseline(pi, q) -> np.ndarray:
    r"""Per-state variance-minimising baseline of the tabular softmax,

    .. math:: b^*(s) = \frac{\sum_a \pi(a|s)\, \|\nabla \ln\pi(a|s)\|^2\, q(s, a)}
                            {\sum_a \pi(a|s)\, \|\nabla \ln\pi(a|s)\|^2},
              \qquad \|\nabla \ln\pi(a|s)\|^2 = \|e_a - \pi(\cdot|s)\|^2 .

    It minimises the trace of the covariance of one step's term
    ``(q(s, A) - b) grad ln pi(A|s)``, ``A ~ pi(.|s)`` (Greensmith et al., 2004;
    derived in the chapter *The policy gradient theorem*). Where every action has
    a zero score (a deterministic row) the variance does not depend on ``b`` and
    it falls back to ``v(s)``.

    Parameters
    ----------
    pi : array_like (S, A)
        The policy (rows are distributions).
    q : array_like (S, A)
        Action values.

    Returns
    -------
    b : ndarray (S,)
    """
    q = as_float_array(q, "q", ndim=2)
    pi = check_policy(pi, *q.shape)
    norm2 = 1.0 - 2.0 * pi + np.sum(pi**2, axis=1, keepdims=True)
    wgt = pi * norm2
    den = wgt.sum(axis=1)
    v = np.sum(pi * q, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        b = np.where(den > 1e-300, (wgt * q).sum(axis=1) / np.where(den > 1e-300, den, 1.0), v)
    return b


# ---------------------------------------------------------------------------
# exact expectations over trajectories (a sampler feature for small MDPs)
# ---------------------------------------------------------------------------





# ---------------------------------------------------------------------------
# REINFORCE on a tabular MDP
# ---------------------------------------------------------------------------





