"""Policy gradients for tabular softmax policies (Chapter 9 and *The policy
gradient theorem*).

The objective is ``J(theta) = sum_s rho0(s) v_pi(s)`` and the policy gradient
theorem gives

.. math:: \\nabla_\\theta J = \\sum_s \\eta(s) \\sum_a \\nabla_\\theta \\pi(a|s)\\, q_\\pi(s, a),

with the unnormalised discounted visitation ``eta(s) = sum_t gamma^t Pr(S_t = s)``.

Argument conventions (shared by ``policy_gradient/`` and ``trust_region/``):

* a function of a *policy* (objective, visitation, values, surrogate, KL) takes
  ``pi``, an ``(S, A)`` array of action probabilities;
* a function of the *parameters* (gradients, scores, gradient estimators, the
  natural gradient) takes ``theta``;
* arguments come in the order ``mdp``, then ``pi`` or ``theta``, then the problem
  data (``rho0``, trajectories, ``gamma``); the features ``phi`` of a
  linear-softmax policy follow the required arguments (a required last argument,
  or the keyword ``phi=None`` meaning the tabular softmax where they are optional),
  and settings are keywords;
* randomness is taken as ``rng``: a ``numpy.random.Generator`` or an int seed
  (training configurations, which also seed torch and Gymnasium, carry an int
  ``seed``).
"""
from __future__ import annotations

import numpy as np

from .._validate import as_float_array, check_distribution, check_positive_entries
from ..dp.bellman import _solve_live, _solve_v
from ..mdp import FiniteMDP, policy_matrices

__all__ = [
    "softmax_policy",
    "discounted_visitation",
    "policy_objective",
]


def softmax_policy(theta) -> np.ndarray:
    r"""Tabular softmax policy ``pi(a|s) = exp(theta[s, a]) / sum_b exp(theta[s, b])``.

    Numerically stable: the row maximum is subtracted before exponentiating,
    which leaves the policy unchanged.

    Parameters
    ----------
    theta : array_like, shape (S, A)
        Action preferences.
    """
    theta = as_float_array(theta, "theta", ndim=2)
    if theta.shape[1] == 0:
        raise ValueError(f"theta has shape {theta.shape}, expected at least one action")
    z = theta - theta.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _check_theta(mdp, theta):
    return as_float_array(theta, "theta", shape=(mdp.n_states, mdp.n_actions))


def discounted_visitation(mdp: FiniteMDP, pi, rho0) -> np.ndarray:
    r"""Unnormalised discounted state visitation
    ``eta(s) = sum_t gamma^t Pr(S_t = s | S_0 ~ rho0, pi)`` of the policy ``pi``
    ``(S, A)`` from the initial-state distribution ``rho0`` ``(S,)``.

    Computed exactly as ``eta^T = rho0^T (I - gamma P_pi)^{-1}`` over the
    non-terminal states; terminal states, where no decision is taken, get 0.
    ``sum_s eta(s) = 1 / (1 - gamma)`` when no state is terminal, and
    ``(1 - gamma) eta`` is then a distribution. With ``gamma = 1`` the policy
    must be proper (``eta`` is then the expected number of visits).
    """
    P_pi, _ = policy_matrices(mdp, pi)
    rho0 = check_distribution(rho0, mdp.n_states, "rho0")
    return _visitation(mdp, P_pi, rho0)


def _visitation(mdp, P_pi, rho0):
    return _solve_live(mdp, P_pi, rho0, transpose=True)  # eta^T (I - gamma P_pi) = rho0^T


def policy_objective(mdp: FiniteMDP, pi, rho0) -> float:
    r"""``J = sum_s rho0(s) v_pi(s) = rho0^T (I - gamma P_pi)^{-1} r_pi``, the expected
    discounted return from ``S_0 ~ rho0`` (terminal states have value 0; with
    ``gamma = 1`` the policy must be proper).

    Parameters
    ----------
    mdp : FiniteMDP
    pi : array_like (S, A)
    rho0 : array_like (S,)
        Initial-state distribution.
    """
    P_pi, r_pi = policy_matrices(mdp, pi)
    rho0 = check_distribution(rho0, mdp.n_states, "rho0")
    return float(rho0 @ _solve_v(mdp, P_pi, r_pi))




# ---------------------------------------------------------------------------
# Added for the chapter *The policy gradient theorem*: the score of the tabular
# softmax, the linear-softmax policy over state-action features, the Gaussian
# policy for a one-dimensional action, the stationary distribution, and the
# objectives the chapter compares.
# ---------------------------------------------------------------------------

__all__ += [
    "softmax_score",
    "tabular_features",
    "linear_softmax_policy",
    "linear_softmax_score",
    "gaussian_log_prob",
    "gaussian_score",
    "average_value",
]


def softmax_score(theta, s, a) -> np.ndarray:
    r"""Score ``grad_theta ln pi(a|s)`` of the tabular softmax, an ``(S, A)`` array.

    .. math:: \frac{\partial \ln \pi(a|s)}{\partial \theta_{s',b}} = \mathbb 1[s' = s]\,\big(\mathbb 1[b = a] - \pi(b|s)\big),

    i.e. the row ``s`` holds ``e_a - pi(.|s)`` and every other row is 0 (the
    tabular case of ``phi(s, a) - E_pi[phi(s, .)]``; chapter *The policy
    gradient theorem*).

    Parameters
    ----------
    theta : array_like (S, A)
    s, a : int
        The state and the action.
    """
    pi = softmax_policy(theta)
    S, A = pi.shape
    s = _check_index(s, S, "s", "state")
    a = _check_index(a, A, "a", "action")
    g = np.zeros((S, A))
    g[s] = -pi[s]
    g[s, a] += 1.0
    return g


def _check_index(x, n, name, what):
    import numbers

    if isinstance(x, bool) or not isinstance(x, numbers.Integral):
        raise TypeError(f"{name} must be an integer {what}, got {x!r}")
    if not 0 <= x < n:
        raise ValueError(f"{name} is {x}, expected a {what} in [0, {n - 1}]")
    return int(x)


def tabular_features(n_states: int, n_actions: int) -> np.ndarray:
    """One-hot state-action features ``phi(s, a) = e_{(s, a)}``, shape ``(S, A, S * A)``.

    With them the linear softmax is the tabular softmax with
    ``theta = theta_tab.ravel()``.
    """
    from .._validate import check_int

    S = check_int(n_states, "n_states", 1)
    A = check_int(n_actions, "n_actions", 1)
    return np.eye(S * A).reshape(S, A, S * A)


def _check_phi(phi, theta):
    phi = as_float_array(phi, "phi", ndim=3)
    theta = as_float_array(theta, "theta", ndim=1)
    if phi.shape[2] != theta.shape[0]:
        raise ValueError(f"theta has shape {theta.shape} but phi has shape {phi.shape}; "
                         f"expected theta of shape ({phi.shape[2]},), one weight per feature")
    if phi.shape[0] == 0 or phi.shape[1] == 0:
        raise ValueError(f"phi has shape {phi.shape}, expected at least one state and one action")
    return phi, theta


def linear_softmax_policy(theta, phi) -> np.ndarray:
    r"""Linear-softmax policy ``pi(a|s) = exp(theta^T phi(s, a)) / sum_b exp(theta^T phi(s, b))``.

    Parameters
    ----------
    theta : array_like (d,)
        Weights.
    phi : array_like (S, A, d)
        State-action features ``phi[s, a] = phi(s, a)``.

    Returns
    -------
    pi : ndarray (S, A)
    """
    phi, theta = _check_phi(phi, theta)
    return softmax_policy(phi @ theta)


def linear_softmax_score(theta, phi) -> np.ndarray:
    r"""Score of the linear softmax for every pair, ``(S, A, d)``:

    .. math:: \nabla_\theta \ln \pi(a|s) = \phi(s, a) - \sum_b \pi(b|s)\, \phi(s, b)
              = \phi(s, a) - \mathbb E_{\pi}[\phi(s, \cdot)].

    Derived in SymPy in the chapter *The policy gradient theorem*.
    """
    phi, theta = _check_phi(phi, theta)
    pi = softmax_policy(phi @ theta)
    return phi - np.einsum("sb,sbd->sd", pi, phi)[:, None, :]




def gaussian_log_prob(a, mean, std) -> np.ndarray:
    r"""``ln N(a; mean, std^2) = -(a - mean)^2 / (2 std^2) - ln std - ln(2 pi) / 2``
    (broadcast over arrays); the policy ``pi(a|s) = N(a; mu(s), sigma(s)^2)`` for a
    one-dimensional continuous action."""
    a, mean, std = _gauss_args(a, mean, std)
    return -0.5 * ((a - mean) / std) ** 2 - np.log(std) - 0.5 * np.log(2 * np.pi)


def gaussian_score(a, mean, std) -> np.ndarray:
    r"""Score of the Gaussian policy with respect to its mean and standard deviation,
    stacked on a leading axis of length 2:

    .. math:: \frac{\partial \ln \pi}{\partial \mu} = \frac{a - \mu}{\sigma^2},\qquad
              \frac{\partial \ln \pi}{\partial \sigma} = \frac{(a - \mu)^2 - \sigma^2}{\sigma^3}.

    (A reader exercise of the chapter *The policy gradient theorem*.) For a
    mean ``mu = theta^T x(s)`` the chain rule multiplies the first row by ``x(s)``.
    """
    a, mean, std = _gauss_args(a, mean, std)
    z = a - mean
    return np.stack(np.broadcast_arrays(z / std**2, (z**2 - std**2) / std**3))


def _gauss_args(a, mean, std):
    a = as_float_array(a, "a")
    mean = as_float_array(mean, "mean")
    std = as_float_array(std, "std")
    check_positive_entries(std, "std", "a standard deviation > 0")
    try:
        np.broadcast_shapes(a.shape, mean.shape, std.shape)
    except ValueError:
        raise ValueError(f"a, mean and std have shapes {a.shape}, {mean.shape}, {std.shape}, "
                         "which do not broadcast together") from None
    return a, mean, std




def average_value(mdp: FiniteMDP, pi, d) -> float:
    r"""``v_bar = sum_s d(s) v_pi(s)`` for a state distribution ``d`` (``rho0`` gives
    :func:`policy_objective`; the stationary ``d_pi`` gives the average value)."""
    P_pi, r_pi = policy_matrices(mdp, pi)
    d = check_distribution(d, mdp.n_states, "d")
    return float(d @ _solve_v(mdp, P_pi, r_pi))


