"""PyTorch routes to the policy gradient (chapter *The policy gradient theorem*).

* An exact, differentiable closed form of the objective,
  ``J(theta) = rho0^T (I - gamma P_pi)^{-1} r_pi``, so that autograd gives a
  gradient that is independent of the policy gradient theorem.
* REINFORCE with a small neural policy on a Gymnasium environment with a
  discrete action space (``CartPole-v1`` in the chapter).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._progress import progress_bar
from ._validate import as_float_array, check_distribution, check_gamma, check_int, check_positive
from .mdp import FiniteMDP, _check_mdp

__all__ = [
    "torch_policy_objective",
    "autograd_policy_gradient",
    "ReinforceConfig",
    "ReinforceResult",
    "train_reinforce",
]


def _torch():
    import torch

    return torch


def torch_policy_objective(mdp: FiniteMDP, theta, rho0, phi=None):
    r"""``J(theta) = rho0^T (I - gamma P_pi)^{-1} r_pi`` as a differentiable torch scalar.

    ``pi = softmax(theta)`` row by row (tabular, ``theta`` of shape ``(S, A)``) or
    ``pi = softmax(phi theta)`` (linear softmax, ``theta`` of shape ``(d,)`` and
    features ``phi`` of shape ``(S, A, d)``). The linear system is solved on the
    non-terminal states (terminal states have value 0). Nothing here uses the
    policy gradient theorem, so ``torch.autograd`` on this function is an
    independent route to ``grad J``.

    Parameters
    ----------
    mdp : FiniteMDP
    theta : torch.Tensor
        Parameters (float64; set ``requires_grad=True`` to differentiate).
    rho0 : array_like (S,)
    phi : array_like (S, A, d), optional

    Returns
    -------
    J : torch.Tensor (0-dimensional)
    """
    torch = _torch()
    _check_mdp(mdp)
    S, A = mdp.n_states, mdp.n_actions
    rho0 = check_distribution(rho0, S, "rho0")
    if not isinstance(theta, torch.Tensor):
        raise TypeError(f"theta must be a torch.Tensor, got {type(theta).__name__}")
    theta = theta.to(torch.float64)
    if phi is None:
        if tuple(theta.shape) != (S, A):
            raise ValueError(f"theta must have shape ({S}, {A}), got {tuple(theta.shape)}")
        logits = theta
    else:
        phi = as_float_array(phi, "phi", ndim=3)
        if phi.shape[:2] != (S, A) or tuple(theta.shape) != (phi.shape[2],):
            raise ValueError(f"phi has shape {phi.shape} and theta {tuple(theta.shape)}; expected "
                             f"phi ({S}, {A}, d) and theta (d,)")
        logits = torch.as_tensor(phi) @ theta
    pi = torch.softmax(logits, dim=1)
    P = torch.as_tensor(np.array(mdp.P))
    R = torch.as_tensor(np.array(mdp.R))
    P_pi = torch.einsum("sa,sat->st", pi, P)
    r_pi = (pi * R).sum(dim=1)
    live = torch.as_tensor(np.array(~mdp.terminal))
    if mdp.gamma == 1.0:
        from .bellman import _proper_check

        _proper_check(mdp, P_pi.detach().numpy())
    n = int(live.sum())
    M = torch.eye(n, dtype=torch.float64) - mdp.gamma * P_pi[live][:, live]
    v = torch.linalg.solve(M, r_pi[live])
    return torch.as_tensor(rho0)[live] @ v


def autograd_policy_gradient(mdp: FiniteMDP, theta, rho0, phi=None) -> np.ndarray:
    """``grad_theta J`` by automatic differentiation of :func:`torch_policy_objective`.

    Parameters
    ----------
    mdp : FiniteMDP
    theta : array_like (S, A), or (d,) with ``phi``
    rho0 : array_like (S,)
    phi : array_like (S, A, d), optional

    Returns
    -------
    grad : ndarray, the shape of ``theta``
    """
    torch = _torch()
    th = as_float_array(theta, "theta", ndim=2 if phi is None else 1)
    t = torch.tensor(th, dtype=torch.float64, requires_grad=True)
    J = torch_policy_objective(mdp, t, rho0, phi)
    (g,) = torch.autograd.grad(J, t)
    return g.numpy().copy()


# ---------------------------------------------------------------------------
# REINFORCE with a neural policy on a Gymnasium environment
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class ReinforceConfig:
    """Settings of :func:`train_reinforce` (defaults: a cheap run on CartPole-v1)."""

    env_id: str = "CartPole-v1"
    """Gymnasium id of an environment with a Box observation and Discrete action space."""
    n_episodes: int = 200
    """Number of training episodes."""
    episodes_per_update: int = 4
    """Episodes averaged in each gradient step."""
    hidden: int = 32
    """Width of the two hidden tanh layers of the policy network."""
    learning_rate: float = 0.01
    """Adam step size."""
    gamma: float = 0.99
    """Discount factor of the reward-to-go ``G_t``."""
    discount_steps: bool = False
    """Multiply step ``t`` by ``gamma^t``. The default ``False`` is what practical
    implementations do (the chapter's pitfall explains what it changes)."""
    normalize_returns: bool = True
    """Standardise the batch of ``G_t`` (a constant baseline and a step-size scale)."""
    max_steps: int = 500
    """Step limit per episode (CartPole-v1 truncates at 500 itself)."""
    seed: int = 0
    """Seed of the environment, the network initialisation and the action draws."""


@dataclass(frozen=True)
class ReinforceResult:
    """Outcome of :func:`train_reinforce`.

    Attributes
    ----------
    returns : ndarray (n_episodes,)
        Undiscounted return of every training episode (the learning curve).
    lengths : ndarray (n_episodes,)
        Number of steps of every episode.
    policy : torch.nn.Module
        The trained network (observation -> action logits).
    config : ReinforceConfig
    """

    returns: np.ndarray
    lengths: np.ndarray
    policy: object = field(repr=False)
    config: ReinforceConfig = None


def _check_config(config):
    if not isinstance(config, ReinforceConfig):
        raise TypeError(f"config must be a ReinforceConfig, got {type(config).__name__}")
    check_int(config.n_episodes, "config.n_episodes", 1)
    check_int(config.episodes_per_update, "config.episodes_per_update", 1)
    check_int(config.hidden, "config.hidden", 1)
    check_positive(config.learning_rate, "config.learning_rate")
    check_gamma(config.gamma)
    check_int(config.max_steps, "config.max_steps", 1)
    check_int(config.seed, "config.seed", 0)


def train_reinforce(config: ReinforceConfig = ReinforceConfig(), progress: bool = False) -> ReinforceResult:
    r"""Train a softmax MLP policy with REINFORCE (reward-to-go form):

    .. math:: \theta \leftarrow \theta + \alpha\, \frac1N \sum_n \sum_t \hat G^n_t\,
              \nabla_\theta \ln \pi_\theta(A^n_t | S^n_t)

    (through Adam), where ``hat G_t`` is the discounted reward-to-go
    ``G_t = sum_{k >= t} gamma^{k - t} R_{k+1}``, multiplied by ``gamma^t`` if
    ``config.discount_steps`` (without it the update is not an unbiased estimate of
    the discounted gradient: the chapter's pitfall), then standardised over the
    batch if ``config.normalize_returns``. Deterministic for a fixed
    ``config.seed`` (the caller's global torch random state is left untouched).

    Parameters
    ----------
    config : ReinforceConfig
    progress : bool
        Show a progress bar over episodes.
    """
    torch = _torch()
    import gymnasium as gym

    _check_config(config)
    env = gym.make(config.env_id)
    if not isinstance(env.action_space, gym.spaces.Discrete) or not isinstance(
            env.observation_space, gym.spaces.Box):
        env.close()
        raise ValueError(f"env {config.env_id!r} has spaces {env.observation_space} and "
                         f"{env.action_space}; expected a Box observation and a Discrete action space")
    obs_dim = int(np.prod(env.observation_space.shape))
    n_act = int(env.action_space.n)
    gamma = float(config.gamma)
    returns, lengths = [], []
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        gen = torch.Generator().manual_seed(config.seed)
        net = torch.nn.Sequential(
            torch.nn.Linear(obs_dim, config.hidden), torch.nn.Tanh(),
            torch.nn.Linear(config.hidden, config.hidden), torch.nn.Tanh(),
            torch.nn.Linear(config.hidden, n_act))
        opt = torch.optim.Adam(net.parameters(), lr=config.learning_rate)
        batch_obs, batch_act, batch_w = [], [], []
        with progress_bar(config.n_episodes, progress, desc=f"REINFORCE {config.env_id}",
                          unit="ep") as bar:
            for ep in range(config.n_episodes):
                obs, _ = env.reset(seed=config.seed + ep)
                ep_obs, ep_act, ep_rew = [], [], []
                for _ in range(config.max_steps):
                    x = torch.as_tensor(np.asarray(obs, dtype=np.float32)).reshape(-1)
                    with torch.no_grad():
                        p = torch.softmax(net(x), dim=-1)
                    a = int(torch.multinomial(p, 1, generator=gen))
                    ep_obs.append(x)
                    ep_act.append(a)
                    obs, r, terminated, truncated, _ = env.step(a)
                    ep_rew.append(float(r))
                    if terminated or truncated:
                        break
                T = len(ep_rew)
                G = np.zeros(T)
                acc = 0.0
                for t in range(T - 1, -1, -1):
                    acc = ep_rew[t] + gamma * acc
                    G[t] = acc
                if config.discount_steps:
                    G = G * gamma ** np.arange(T)
                batch_obs += ep_obs
                batch_act += ep_act
                batch_w.append(G)
                returns.append(sum(ep_rew))
                lengths.append(T)
                if (ep + 1) % config.episodes_per_update == 0 or ep + 1 == config.n_episodes:
                    n_batch = len(batch_w)
                    w = torch.as_tensor(np.concatenate(batch_w), dtype=torch.float32)
                    if config.normalize_returns and w.numel() > 1:
                        w = (w - w.mean()) / (w.std() + 1e-8)
                    logp = torch.log_softmax(net(torch.stack(batch_obs)), dim=-1)
                    logp_a = logp[torch.arange(w.numel()), torch.as_tensor(batch_act)]
                    loss = -(logp_a * w).sum() / n_batch
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
                    batch_obs, batch_act, batch_w = [], [], []
                bar.update()
                bar.set_postfix(ret=f"{np.mean(returns[-20:]):.0f}", refresh=False)
    env.close()
    return ReinforceResult(np.asarray(returns), np.asarray(lengths), net, config)
