"""Exact-gradient policy ascent for the tabular softmax (chapter C9 *Policy
gradient methods*): plain policy gradient, natural policy gradient and
entropy-regularised policy gradient, with the gradients computed exactly, so
that the convergence rates of Agarwal et al. (2021) and Mei et al. (2020) can be
watched without sampling noise."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._progress import progress_bar
from .._validate import as_float_array, check_distribution, check_int, check_positive
from ..dp.bellman import _solve_v
from ..mdp import FiniteMDP, _check_mdp, _policy_matrices
from .objectives import _visitation, softmax_policy

__all__ = ["entropy_regularized_gradient", "AscentResult", "exact_policy_ascent"]


def _entropy_parts(mdp, theta, rho0, tau):
    z = theta - theta.max(axis=1, keepdims=True)
    logpi = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    pi = np.exp(logpi)
    P_pi, r_pi = _policy_matrices(mdp, pi)
    r_tau = r_pi - tau * np.einsum("sa,sa->s", pi, logpi) if tau else r_pi
    if mdp.terminal.any() or mdp.gamma == 1.0:
        v = _solve_v(mdp, P_pi, r_tau)
        eta = _visitation(mdp, P_pi, rho0)
    else:  # the hot path of exact_policy_ascent: one factorisation-free 2-column solve each way
        M = P_pi * (-mdp.gamma)
        M.flat[:: len(M) + 1] += 1.0
        v = np.linalg.solve(M, r_tau)
        eta = np.linalg.solve(M.T, rho0)
    q = mdp.R + mdp.gamma * (mdp.P @ v)
    return pi, logpi, v, q, eta


def entropy_regularized_gradient(mdp: FiniteMDP, theta, rho0, tau: float) -> np.ndarray:
    r"""Gradient of the entropy-regularised objective of the tabular softmax,

    .. math:: J_\tau(\theta) = \mathbb E\Big[\sum_t \gamma^t \big(R_{t+1} - \tau \ln \pi(A_t|S_t)\big)\Big],
              \qquad \frac{\partial J_\tau}{\partial \theta_{s,a}}
              = \eta(s)\, \pi(a|s)\,\big(\tilde q(s,a) - \tau \ln\pi(a|s) - \tilde v(s)\big),

    where ``v~`` solves ``v~ = r_pi - tau sum_a pi ln pi + gamma P_pi v~`` and
    ``q~ = R + gamma P v~`` (Mei et al. 2020, Lemma 10). ``tau = 0`` gives
    :func:`rlbook.exact_policy_gradient`.

    Parameters
    ----------
    mdp : FiniteMDP
        With ``gamma < 1``.
    theta : array_like (S, A)
    rho0 : array_like (S,)
    tau : float
        Temperature ``>= 0``.
    """
    _check_mdp(mdp)
    theta = as_float_array(theta, "theta", shape=(mdp.n_states, mdp.n_actions))
    rho0 = check_distribution(rho0, mdp.n_states, "rho0")
    tau = check_positive(tau, "tau", allow_zero=True)
    pi, logpi, v, q, eta = _entropy_parts(mdp, theta, rho0, tau)
    return eta[:, None] * pi * (q - tau * logpi - v[:, None])


@dataclass(frozen=True)
class AscentResult:
    """Outcome of :func:`exact_policy_ascent`."""

    theta: np.ndarray
    """Final preferences ``(S, A)``."""
    objective: np.ndarray
    """Unregularised ``J(theta_t) = rho0^T v_{pi_t}`` for ``t = 0 .. n_iter`` ``(n_iter + 1,)``."""
    grad_norm: np.ndarray
    """Euclidean norm of the update direction at each iteration ``(n_iter,)``."""


def exact_policy_ascent(mdp: FiniteMDP, rho0, n_iter: int, lr: float, method: str = "pg",
                        tau: float = 0.0, theta0=None, progress: bool = False) -> AscentResult:
    r"""Gradient ascent on ``J(theta) = rho0^T v_{softmax(theta)}`` with exact gradients.

    * ``method="pg"``: ``theta <- theta + lr grad J`` (Agarwal et al. 2021 show
      ``J* - J(theta_t) = O(1/t)`` for ``lr <= (1 - gamma)^3 / 8`` when ``rho0 > 0``);
    * ``method="npg"``: the natural gradient step under the Fisher information of
      ``d = (1 - gamma) eta``, which for the tabular softmax is
      ``theta <- theta + lr A_pi / (1 - gamma)`` up to per-state constants that do
      not change the policy (Kakade 2001; Agarwal et al. 2021, Lemma 15);
    * ``method="entropy"``: ``theta <- theta + lr grad J_tau`` with
      :func:`entropy_regularized_gradient` (Mei et al. 2020: linear convergence to
      the regularised optimum).

    Parameters
    ----------
    mdp : FiniteMDP
        With ``gamma < 1``.
    rho0 : array_like (S,)
    n_iter : int
        Number of steps.
    lr : float
        Step size ``> 0``.
    method : {"pg", "npg", "entropy"}
    tau : float
        Entropy temperature (``method="entropy"`` only; must then be ``> 0``).
    theta0 : array_like (S, A), optional
        Initial preferences (default zeros: the uniform policy).
    progress : bool
        Show a progress bar.
    """
    _check_mdp(mdp)
    if not mdp.gamma < 1.0:
        raise ValueError(f"mdp.gamma is {mdp.gamma}, expected gamma < 1")
    S, A = mdp.n_states, mdp.n_actions
    rho0 = check_distribution(rho0, S, "rho0")
    n_iter = check_int(n_iter, "n_iter", 1)
    lr = check_positive(lr, "lr")
    if method not in ("pg", "npg", "entropy"):
        raise ValueError(f"method is {method!r}, expected 'pg', 'npg' or 'entropy'")
    tau = check_positive(tau, "tau", allow_zero=method != "entropy")
    if method != "entropy" and tau != 0.0:
        raise ValueError(f"tau is {tau}, but method {method!r} is unregularised; use method='entropy'")
    theta = (np.zeros((S, A)) if theta0 is None
             else as_float_array(theta0, "theta0", shape=(S, A)).copy())
    J = np.empty(n_iter + 1)
    norms = np.empty(n_iter)
    with progress_bar(n_iter, progress, desc=f"exact {method}", unit="step") as bar:
        for t in range(n_iter):
            pi, logpi, v, q, eta = _entropy_parts(mdp, theta, rho0, tau)
            if tau == 0.0:
                J[t] = rho0 @ v
            else:
                P_pi, r_pi = _policy_matrices(mdp, pi)
                J[t] = rho0 @ _solve_v(mdp, P_pi, r_pi)
            if method == "npg":
                step = (q - v[:, None]) / (1.0 - mdp.gamma)
            else:
                step = eta[:, None] * pi * (q - tau * logpi - v[:, None])
            norms[t] = np.linalg.norm(step)
            theta = theta + lr * step
            bar.update()
    P_pi, r_pi = _policy_matrices(mdp, softmax_policy(theta))
    J[n_iter] = rho0 @ _solve_v(mdp, P_pi, r_pi)
    return AscentResult(theta, J, norms)
