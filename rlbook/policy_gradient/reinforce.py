"""REINFORCE on a tabular MDP with exact objective tracking (chapter *The
policy gradient theorem*)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._progress import progress_bar
from .._validate import as_float_array, check_config, check_distribution, check_int, check_positive
from ..dp.bellman import _solve_v
from ..mdp import FiniteMDP, _check_mdp, policy_matrices
from ..sampling import sample_trajectories
from .estimators import _discounts, reward_to_go_estimate
from .objectives import policy_objective, softmax_policy

__all__ = ["TabularReinforceConfig", "TabularReinforceResult", "train_reinforce_tabular"]


@dataclass(frozen=True)
class TabularReinforceConfig:
    """Settings of :func:`train_reinforce_tabular`."""

    n_iterations: int = 200
    """Number of gradient steps."""
    n_episodes: int = 32
    """Episodes sampled per gradient step."""
    horizon: int = 50
    """Steps per episode (truncation; choose ``gamma^horizon`` negligible)."""
    learning_rate: float = 1.0
    """Step size ``alpha`` of ``theta <- theta + alpha g_hat``."""
    baseline: str = "none"
    """``"none"`` or ``"value"`` (the exact ``v_pi`` of the current policy as an oracle
    critic: it shows the effect of a good baseline without a learned critic)."""
    seed: int = 0
    """Seed of the sampling generator."""


@dataclass(frozen=True)
class TabularReinforceResult:
    """Outcome of :func:`train_reinforce_tabular`.

    Attributes
    ----------
    theta : ndarray (S, A)
        Final preferences.
    objective : ndarray (n_iterations + 1,)
        Exact ``J(theta_k)`` before every step and after the last (the learning
        curve without sampling noise).
    mean_return : ndarray (n_iterations,)
        Average sampled discounted return ``G_0`` of each batch.
    """

    theta: np.ndarray
    objective: np.ndarray
    mean_return: np.ndarray


def _as_generator(rng):
    """``rng`` as a ``numpy.random.Generator`` (an int is a seed)."""
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool) and rng >= 0:
        return np.random.default_rng(int(rng))
    raise TypeError(f"rng must be a numpy.random.Generator or an int seed >= 0, got {rng!r}")


def train_reinforce_tabular(mdp: FiniteMDP, rho0, config: TabularReinforceConfig = TabularReinforceConfig(),
                            theta0=None, progress: bool = False,
                            rng=None) -> TabularReinforceResult:
    r"""REINFORCE with the reward-to-go estimator on a tabular softmax policy:
    ``theta_{k+1} = theta_k + alpha * g_hat(theta_k)``, ``g_hat`` from
    :func:`reward_to_go_estimate` on ``n_episodes`` fresh episodes.

    Parameters
    ----------
    mdp : FiniteMDP
    rho0 : array_like (S,)
    config : TabularReinforceConfig
    theta0 : array_like (S, A), optional
        Initial preferences (zeros: the uniform policy).
    progress : bool
        Show a progress bar.
    rng : numpy.random.Generator or int, optional
        Randomness of the episodes; None: ``config.seed``.
    """
    _check_mdp(mdp)
    check_config(config, TabularReinforceConfig)
    S, A = mdp.n_states, mdp.n_actions
    rho0 = check_distribution(rho0, S, "rho0")
    n_it = check_int(config.n_iterations, "config.n_iterations", 1)
    check_int(config.n_episodes, "config.n_episodes", 2)
    check_int(config.horizon, "config.horizon", 1)
    lr = check_positive(config.learning_rate, "config.learning_rate")
    if config.baseline not in ("none", "value"):
        raise ValueError(f"config.baseline is {config.baseline!r}, expected 'none' or 'value'")
    theta = np.zeros((S, A)) if theta0 is None else as_float_array(theta0, "theta0", shape=(S, A)).copy()
    rng = _as_generator(config.seed if rng is None else rng)
    J = np.empty(n_it + 1)
    G0 = np.empty(n_it)
    with progress_bar(n_it, progress, desc="REINFORCE (tabular)", unit="step") as bar:
        for k in range(n_it):
            pi = softmax_policy(theta)
            J[k] = policy_objective(mdp, pi, rho0)
            traj = sample_trajectories(mdp, pi, config.n_episodes, config.horizon, rng, rho0=rho0)
            b = None
            if config.baseline == "value":
                P_pi, r_pi = policy_matrices(mdp, pi)
                b = _solve_v(mdp, P_pi, r_pi)
            est = reward_to_go_estimate(theta, traj, mdp.gamma, baseline=b)
            G0[k] = float(np.mean(traj.rewards @ _discounts(mdp.gamma, traj.horizon)))
            theta = theta + lr * est.grad
            bar.update()
            bar.set_postfix(J=f"{J[k]:.3f}", refresh=False)
    J[n_it] = policy_objective(mdp, softmax_policy(theta), rho0)
    return TabularReinforceResult(theta, J, G0)
