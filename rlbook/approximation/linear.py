r"""Linear value function approximation (chapter C8): exact fixed points and learners.

With features :math:`\Phi \in \mathbb{R}^{S \times k}`, a state weighting
:math:`d` (:math:`D = \mathrm{diag}(d)`) and :math:`\|x\|_D^2 = x^\top D x`:

* :func:`projection_weights` -- :math:`\arg\min_w \|\Phi w - v\|_D`, the weights of
  the projection :math:`\Pi v` (where gradient Monte Carlo converges);
* :func:`td_matrices` / :func:`linear_td_fixed_point` -- :math:`A w = b` with
  :math:`A = \Phi^\top D (I - \gamma P_\pi) \Phi`, :math:`b = \Phi^\top D r_\pi`
  (where semi-gradient TD(0) converges);
* :func:`lstd` -- the sample version of :math:`A w = b` from one trajectory;
* :func:`gradient_mc`, :func:`semi_gradient_td0`, :func:`off_policy_td0`,
  :func:`tdc` -- stochastic updates over a stored trajectory;
* :func:`linear_q_update` -- one batched semi-gradient Sarsa / Q-learning step for
  action values linear in (binary, e.g. tile-coded) features.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validate import as_float_array, check_distribution, check_gamma, check_positive
from ..mdp import FiniteMDP, _check_mdp, check_policy

__all__ = [
    "on_policy_distribution",
    "projection_weights",
    "weighted_norm",
    "td_matrices",
    "linear_td_fixed_point",
    "LSTDResult",
    "lstd",
    "gradient_mc",
    "semi_gradient_td0",
    "off_policy_td0",
    "tdc",
    "linear_q_update",
]


# ----------------------------------------------------------------- helpers
def _check_Phi(Phi, n_states, name="Phi"):
    Phi = as_float_array(Phi, name)
    if Phi.ndim != 2 or Phi.shape[0] != n_states:
        raise ValueError(f"{name} must have shape (S, k) = ({n_states}, k), one row of "
                         f"features per state, got {Phi.shape}")
    return Phi


def _check_rank(Phi, name="Phi"):
    r = np.linalg.matrix_rank(Phi)
    if r < Phi.shape[1]:
        raise ValueError(f"{name} has rank {r} < {Phi.shape[1]} columns: the features are "
                         "linearly dependent, so the weights are not unique")


def _gamma_below_one(gamma, what):
    g = check_gamma(gamma)
    if g >= 1.0:
        raise ValueError(f"gamma is {gamma!r}, expected gamma < 1: {what}")
    return g


def _states(states, S, name):
    s = np.asarray(states)
    if s.ndim != 1 or not np.issubdtype(s.dtype, np.integer):
        raise ValueError(f"{name} must be a 1-D integer array of states, got dtype {s.dtype} "
                         f"and shape {s.shape}")
    bad = np.flatnonzero((s < 0) | (s >= S))
    if len(bad):
        i = int(bad[0])
        raise ValueError(f"{name}[{i}] is {s[i]}, expected a state in [0, {S - 1}]")
    return s


def _step_size(alpha, T, name="alpha"):
    """A constant, an array of length T, or a callable t -> alpha_t."""
    if callable(alpha):
        a = np.array([alpha(t) for t in range(T)], dtype=float)
    else:
        a = as_float_array(alpha, name)
        if a.ndim == 0:
            check_positive(float(a), name)
            a = np.full(T, float(a))
    if a.shape != (T,):
        raise ValueError(f"{name} must be a number, a callable or an array of shape ({T},), "
                         f"got shape {a.shape}")
    bad = np.flatnonzero(~(a > 0))
    if len(bad):
        raise ValueError(f"{name}[{int(bad[0])}] is {a[bad[0]]}, expected a step size > 0")
    return a


# ------------------------------------------------------- exact quantities
def on_policy_distribution(mdp: FiniteMDP, pi) -> np.ndarray:
    r"""The stationary distribution :math:`d_\pi` of :math:`P_\pi`:
    :math:`d_\pi^\top P_\pi = d_\pi^\top`, :math:`\mathbf 1^\top d_\pi = 1`.

    Solved by replacing one balance equation of :math:`(P_\pi^\top - I) d = 0`
    with the normalisation; raises if the chain has no unique stationary
    distribution.
    """
    _check_mdp(mdp)
    pi = check_policy(pi, mdp.n_states, mdp.n_actions)
    P_pi = np.matmul(pi[:, None, :], mdp.P)[:, 0, :]
    S = mdp.n_states
    M = P_pi.T - np.eye(S)
    M[-1] = 1.0
    rhs = np.zeros(S)
    rhs[-1] = 1.0
    if np.linalg.matrix_rank(M) < S:
        raise ValueError("P_pi has no unique stationary distribution (several closed "
                         "classes); pass d explicitly")
    d = np.linalg.solve(M, rhs)
    return np.clip(d, 0.0, None) / np.clip(d, 0.0, None).sum()


def weighted_norm(x, d) -> float:
    r""":math:`\|x\|_D = \sqrt{\sum_s d(s) x(s)^2}`."""
    x = as_float_array(x, "x", ndim=1)
    d = check_distribution(d, x.shape[0], "d")
    return float(np.sqrt(d @ (x * x)))


def projection_weights(Phi, v, d) -> np.ndarray:
    r"""Weights of the :math:`D`-weighted least-squares projection of ``v``:

    .. math:: w^\star = \arg\min_w \|\Phi w - v\|_D
                      = (\Phi^\top D \Phi)^{-1} \Phi^\top D v,
              \qquad \Pi v = \Phi w^\star.

    Parameters
    ----------
    Phi : array_like (S, k), full column rank on the support of ``d``
    v : array_like (S,)
    d : array_like (S,), a distribution

    Returns
    -------
    ndarray (k,)
    """
    v = as_float_array(v, "v", ndim=1)
    Phi = _check_Phi(Phi, v.shape[0])
    d = check_distribution(d, v.shape[0], "d")
    sq = np.sqrt(d)
    _check_rank(Phi * sq[:, None], "D^(1/2) Phi")
    w, *_ = np.linalg.lstsq(Phi * sq[:, None], v * sq, rcond=None)
    return w


def td_matrices(mdp: FiniteMDP, pi, Phi, d=None):
    r"""The matrices of the TD fixed point :math:`A w = b`:

    .. math:: A = \Phi^\top D (I - \gamma P_\pi) \Phi, \qquad b = \Phi^\top D r_\pi,

    the expected update of semi-gradient TD(0) being :math:`\mathbb E[\delta_t
    \phi(S_t)] = b - A w` when :math:`S_t \sim d`, :math:`A_t \sim \pi`.

    Parameters
    ----------
    mdp : FiniteMDP
    pi : array_like (S, A)
    Phi : array_like (S, k)
    d : array_like (S,), optional
        State weighting; default :func:`on_policy_distribution` of ``pi``.

    Returns
    -------
    A : ndarray (k, k)
    b : ndarray (k,)
    """
    _check_mdp(mdp)
    pi = check_policy(pi, mdp.n_states, mdp.n_actions)
    Phi = _check_Phi(Phi, mdp.n_states)
    d = on_policy_distribution(mdp, pi) if d is None else check_distribution(d, mdp.n_states, "d")
    P_pi = np.matmul(pi[:, None, :], mdp.P)[:, 0, :]
    r_pi = np.einsum("sa,sa->s", pi, mdp.R)
    DPhi = Phi * d[:, None]
    A = DPhi.T @ (Phi - mdp.gamma * P_pi @ Phi)
    b = DPhi.T @ r_pi
    return A, b


def linear_td_fixed_point(mdp: FiniteMDP, pi, Phi, d=None) -> np.ndarray:
    r"""Weights :math:`w_{TD}` of the TD fixed point :math:`\Phi w = \Pi_D T_\pi(\Phi w)`:

    .. math:: \Phi^\top D (I - \gamma P_\pi) \Phi\, w = \Phi^\top D r_\pi,
              \qquad D = \mathrm{diag}(d).

    Parameters
    ----------
    mdp : FiniteMDP
        With ``gamma < 1`` (with ``gamma = 1`` and on-policy ``d``, ``A`` is singular
        for any features spanning the constant vector).
    pi : array_like (S, A)
    Phi : array_like (S, k)
    d : array_like (S,), optional
        Default: the stationary distribution of :math:`P_\pi`.

    Returns
    -------
    ndarray (k,)

    Raises
    ------
    ValueError
        ``gamma = 1``, ``Phi`` of the wrong shape or rank-deficient on the support of
        ``d``, or a singular ``A`` (possible off-policy).
    """
    _check_mdp(mdp)
    _gamma_below_one(mdp.gamma, "the TD fixed point is defined by a contraction of "
                     "modulus gamma")
    Phi = _check_Phi(Phi, mdp.n_states)
    pi = check_policy(pi, mdp.n_states, mdp.n_actions)
    d = on_policy_distribution(mdp, pi) if d is None else check_distribution(d, mdp.n_states, "d")
    _check_rank(Phi[d > 0], "Phi restricted to the states with d > 0")
    A, b = td_matrices(mdp, pi, Phi, d)
    sv = np.linalg.svd(A, compute_uv=False)
    scale = np.linalg.norm((Phi * d[:, None]).T @ Phi, 2)
    if sv[-1] <= 1e-10 * scale:
        raise ValueError(f"A = Phi^T D (I - gamma P_pi) Phi is singular (smallest singular "
                         f"value {sv[-1]:.3g}, scale of Phi^T D Phi {scale:.3g}); with this d "
                         "the TD fixed point is not unique")
    return np.linalg.solve(A, b)


# ----------------------------------------------------------------- LSTD
@dataclass(frozen=True)
class LSTDResult:
    """Outcome of :func:`lstd`."""

    w: np.ndarray
    """The weights solving ``A_hat w = b_hat``."""
    A: np.ndarray
    """``A_hat = (1/T) sum_t phi_t (phi_t - gamma phi_{t+1})^T``."""
    b: np.ndarray
    """``b_hat = (1/T) sum_t phi_t r_{t+1}``."""


def lstd(Phi, states, rewards, next_states, gamma, ridge: float = 0.0,
         check_definite: bool = True) -> LSTDResult:
    r"""Least-squares TD (Bradtke and Barto 1996): solve the sample TD equations

    .. math:: \hat A = \frac1T \sum_{t} \phi(s_t) \big(\phi(s_t) - \gamma \phi(s'_t)\big)^\top,
              \quad \hat b = \frac1T \sum_t \phi(s_t)\, r_{t+1},
              \quad (\hat A + \epsilon I) w = \hat b.

    Parameters
    ----------
    Phi : array_like (S, k)
    states, next_states : array_like of int (T,)
        Transitions :math:`s_t \to s'_t` (for one trajectory, ``next_states =
        states[1:]`` of the state sequence).
    rewards : array_like (T,)
        ``rewards[t] = r_{t+1}``.
    gamma : float < 1
    ridge : float >= 0
        :math:`\epsilon`, added to the diagonal of :math:`\hat A`.
    check_definite : bool
        Refuse an :math:`\hat A` whose symmetric part is not positive definite. On
        policy the expected :math:`A` is positive definite (chapter C8), so an
        indefinite estimate means too little data; off policy pass False.

    Raises
    ------
    ValueError
        Wrong shapes, ``gamma = 1``, a singular :math:`\hat A` (e.g. a feature never
        visited) or, with ``check_definite``, an indefinite one.
    """
    g = _gamma_below_one(gamma, "LSTD estimates the discounted TD fixed point")
    Phi, s, r, s2, _ = _trajectory(Phi, states, rewards, next_states, g)
    k = Phi.shape[1]
    eps = check_positive(ridge, "ridge", allow_zero=True)
    T = len(s)
    X, X2 = Phi[s], Phi[s2]
    A = X.T @ (X - g * X2) / T
    b = X.T @ r / T
    Ar = A + eps * np.eye(k)
    sv = np.linalg.svd(Ar, compute_uv=False)
    if sv[-1] <= 1e-12 * max(sv[0], 1e-300):
        raise ValueError(f"A_hat is singular (smallest singular value {sv[-1]:.3g}, largest "
                         f"{sv[0]:.3g}): some feature direction was never visited; collect "
                         "more data or set ridge > 0")
    if check_definite:
        lam_min = np.linalg.eigvalsh((Ar + Ar.T) / 2)[0]
        if lam_min <= 0:
            raise ValueError(f"A_hat is indefinite (its symmetric part has eigenvalue "
                             f"{lam_min:.3g} <= 0), although the on-policy A is positive "
                             "definite: too few samples; collect more or set ridge > 0 "
                             "(off-policy data: check_definite=False)")
    return LSTDResult(np.linalg.solve(Ar, b), A, b)


# --------------------------------------------------------------- learners
def _trajectory(Phi, states, rewards, next_states, gamma):
    Phi = as_float_array(Phi, "Phi")
    if Phi.ndim != 2:
        raise ValueError(f"Phi must have shape (S, k), got {Phi.shape}")
    S = Phi.shape[0]
    s = _states(states, S, "states")
    s2 = _states(next_states, S, "next_states")
    r = as_float_array(rewards, "rewards", ndim=1)
    if not (len(s) == len(s2) == len(r)) or len(s) == 0:
        raise ValueError(f"states, rewards and next_states must have the same positive length, "
                         f"got {len(s)}, {len(r)} and {len(s2)}")
    return Phi, s, r, s2, check_gamma(gamma)


def _w0(w0, k):
    return np.zeros(k) if w0 is None else as_float_array(w0, "w0", shape=(k,)).copy()


def _record(W, t, w, every):
    if every and (t + 1) % every == 0:
        W.append(w.copy())


def gradient_mc(Phi, states, returns, alpha, w0=None, record_every: int = 0):
    r"""Gradient Monte Carlo: stochastic gradient descent on
    :math:`\tfrac12 \mathbb E[(G_t - \phi(S_t)^\top w)^2]`,

    .. math:: w_{t+1} = w_t + \alpha_t \big(G_t - \phi(s_t)^\top w_t\big) \phi(s_t).

    Parameters
    ----------
    Phi : array_like (S, k)
    states : array_like of int (T,)
    returns : array_like (T,)
        The Monte Carlo return :math:`G_t` observed from ``states[t]``.
    alpha : float, array (T,) or callable ``t -> alpha_t``
    w0 : array_like (k,), optional
    record_every : int
        If > 0, also return the weights after every ``record_every`` updates.

    Returns
    -------
    w : ndarray (k,), or ``(w, W)`` with ``W`` of shape ``(T // record_every, k)``.
    """
    Phi = as_float_array(Phi, "Phi")
    if Phi.ndim != 2:
        raise ValueError(f"Phi must have shape (S, k), got {Phi.shape}")
    s = _states(states, Phi.shape[0], "states")
    G = as_float_array(returns, "returns", ndim=1)
    if len(G) != len(s) or len(s) == 0:
        raise ValueError(f"states and returns must have the same positive length, got "
                         f"{len(s)} and {len(G)}")
    a = _step_size(alpha, len(s))
    w = _w0(w0, Phi.shape[1])
    W = []
    for t in range(len(s)):
        x = Phi[s[t]]
        w += a[t] * (G[t] - x @ w) * x
        _record(W, t, w, record_every)
    return (w, np.array(W)) if record_every else w


def semi_gradient_td0(Phi, states, rewards, next_states, gamma, alpha, w0=None,
                      terminal=None, record_every: int = 0):
    r"""Semi-gradient TD(0) with linear features (Sutton and Barto, section 9.3):

    .. math:: w_{t+1} = w_t + \alpha_t \big(r_{t+1} + \gamma \phi(s'_t)^\top w_t
              - \phi(s_t)^\top w_t\big) \phi(s_t),

    the gradient taken through :math:`\hat v(s_t)` only (the target is held
    fixed). C7's tabular TD(0) is the case :math:`\Phi = I`.

    Parameters
    ----------
    Phi : array_like (S, k)
    states, next_states : array_like of int (T,)
    rewards : array_like (T,)
    gamma : float
    alpha : float, array (T,) or callable ``t -> alpha_t``
    w0 : array_like (k,), optional
    terminal : array_like of bool (T,), optional
        True where ``next_states[t]`` is terminal (no bootstrap).
    record_every : int
        As in :func:`gradient_mc`.
    """
    Phi, s, r, s2, g = _trajectory(Phi, states, rewards, next_states, gamma)
    a = _step_size(alpha, len(s))
    done = np.zeros(len(s)) if terminal is None else np.asarray(terminal, float)
    if done.shape != s.shape:
        raise ValueError(f"terminal must have shape {s.shape}, got {done.shape}")
    w = _w0(w0, Phi.shape[1])
    W = []
    for t in range(len(s)):
        x = Phi[s[t]]
        delta = r[t] + g * (1.0 - done[t]) * (Phi[s2[t]] @ w) - x @ w
        w += a[t] * delta * x
        _record(W, t, w, record_every)
    return (w, np.array(W)) if record_every else w


def _rho(rho, T):
    if rho is None:
        return np.ones(T)
    rho = as_float_array(rho, "rho", shape=(T,))
    bad = np.flatnonzero(rho < 0)
    if len(bad):
        raise ValueError(f"rho[{int(bad[0])}] is {rho[bad[0]]}, expected an importance ratio >= 0")
    return rho


def off_policy_td0(Phi, states, rewards, next_states, gamma, alpha, rho=None, w0=None,
                   record_every: int = 0):
    r"""Off-policy semi-gradient TD(0) with per-step importance ratios
    :math:`\rho_t = \pi(a_t|s_t) / b(a_t|s_t)` (Sutton and Barto, section 11.1):

    .. math:: w_{t+1} = w_t + \alpha_t \rho_t \delta_t \phi(s_t), \qquad
              \delta_t = r_{t+1} + \gamma \phi(s'_t)^\top w_t - \phi(s_t)^\top w_t.

    ``rho=None`` means on-policy (all ratios 1). Can diverge (Baird's counterexample).
    """
    Phi, s, r, s2, g = _trajectory(Phi, states, rewards, next_states, gamma)
    a = _step_size(alpha, len(s))
    rho = _rho(rho, len(s))
    w = _w0(w0, Phi.shape[1])
    W = []
    for t in range(len(s)):
        x = Phi[s[t]]
        delta = r[t] + g * (Phi[s2[t]] @ w) - x @ w
        w += a[t] * rho[t] * delta * x
        _record(W, t, w, record_every)
    return (w, np.array(W)) if record_every else w


def tdc(Phi, states, rewards, next_states, gamma, alpha, alpha_u, rho=None, w0=None,
        record_every: int = 0):
    r"""TD with gradient correction (TDC, Sutton et al. 2009), off-policy with ratios
    :math:`\rho_t`:

    .. math::

        w_{t+1} &= w_t + \alpha \rho_t \big(\delta_t \phi_t
                    - \gamma \phi'_t\, (\phi_t^\top u_t)\big), \\
        u_{t+1} &= u_t + \alpha_u \rho_t \big(\delta_t - \phi_t^\top u_t\big) \phi_t,

    a stochastic gradient method for the projected Bellman error
    :math:`\|\Pi_D (T_\pi \hat v - \hat v)\|_D^2`; :math:`u` tracks
    :math:`\mathbb E[\phi\phi^\top]^{-1} \mathbb E[\rho \delta \phi]`.

    Returns
    -------
    w, u : ndarray (k,) each; with ``record_every > 0`` also ``W`` (the recorded ``w``).
    """
    Phi, s, r, s2, g = _trajectory(Phi, states, rewards, next_states, gamma)
    a = _step_size(alpha, len(s))
    bt = _step_size(alpha_u, len(s), "alpha_u")
    rho = _rho(rho, len(s))
    k = Phi.shape[1]
    w = _w0(w0, k)
    u = np.zeros(k)
    W = []
    for t in range(len(s)):
        x, x2 = Phi[s[t]], Phi[s2[t]]
        delta = r[t] + g * (x2 @ w) - x @ w
        xu = x @ u
        w += a[t] * rho[t] * (delta * x - g * xu * x2)
        u += bt[t] * rho[t] * (delta - xu) * x
        _record(W, t, w, record_every)
    return (w, u, np.array(W)) if record_every else (w, u)


def linear_q_update(W, active, actions, rewards, next_active, next_values, terminated,
                    gamma, alpha):
    r"""One batched semi-gradient update of action values linear in binary features.

    :math:`\hat q(s, a) = \sum_{i \in F(s)} W[a, i]` where :math:`F(s)` are the
    active features (e.g. :func:`rlbook.tile_indices`); for each sample ``m``

    .. math:: W[a_m, F(s_m)] \mathrel{+}= \alpha\, \big(r_m + \gamma (1 - d_m)\,
              y_m - \hat q(s_m, a_m)\big),

    where the bootstrap :math:`y_m` is given by the caller: :math:`\hat q(s'_m, a'_m)`
    for Sarsa, :math:`\max_a \hat q(s'_m, a)` for Q-learning. The samples of a
    batch are independent problems (e.g. independent runs, one row of ``W`` per
    run), so ``W`` may have a leading run axis: ``W`` ``(N, A, k)``.

    Parameters
    ----------
    W : ndarray (N, A, k), float -- updated in place and returned
    active : ndarray of int (N, n_active)
    actions : ndarray of int (N,)
    rewards, terminated : ndarray (N,) of float (``terminated`` may be bool)
    next_active : unused placeholder for symmetry (may be None)
    next_values : array (N,)
        :math:`y_m`.
    gamma : float
    alpha : float or array (N,)
        Step size per active feature (Sutton and Barto use ``alpha / n_tilings``); one per
        sample allows runs with different step sizes in one batch.

    Returns
    -------
    (W, delta) with ``delta`` the TD errors ``(N,)``.
    """
    if not isinstance(W, np.ndarray) or W.ndim != 3 or W.dtype.kind != "f":
        raise ValueError(f"W must be a float ndarray of shape (N, A, k), got "
                         f"{getattr(W, 'shape', type(W).__name__)}")
    N, A, k = W.shape
    F = np.asarray(active)
    if F.ndim != 2 or F.shape[0] != N:
        raise ValueError(f"active must have shape ({N}, n_active), got {F.shape}")
    a = np.asarray(actions)
    if a.shape != (N,) or a.min() < 0 or a.max() >= A:
        raise ValueError(f"actions must be {N} integers in [0, {A - 1}], got {a!r}")
    if not 0.0 <= gamma <= 1.0:
        raise ValueError(f"gamma is {gamma!r}, expected a discount factor in [0, 1]")
    rows = np.arange(N)[:, None]
    a_col = a[:, None]
    q_sa = W[rows, a_col, F].sum(axis=1)
    delta = (np.asarray(rewards) + gamma * (1.0 - np.asarray(terminated, dtype=float))
             * np.asarray(next_values) - q_sa)
    W[rows, a_col, F] += (np.asarray(alpha) * delta)[:, None]
    return W, delta
