"""REINFORCE with a neural softmax policy on a Gymnasium environment
(chapter *The policy gradient theorem*)."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from .._progress import progress_bar
from .._validate import check_config, check_gamma, check_int, check_positive

__all__ = ["ReinforceConfig", "ReinforceResult", "train_reinforce"]


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
    check_config(config, ReinforceConfig)
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
