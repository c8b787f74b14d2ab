"""The networks the policy-optimisation agents share: an MLP policy
(categorical or diagonal Gaussian) and an MLP value function, with ``tanh``
hidden layers and orthogonal initialisation (as in Stable-Baselines3 and
cleanrl)."""
from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

__all__ = ["MLPPolicy", "MLPValue", "QNetwork"]


def _mlp(sizes, out_gain):
    nn = torch.nn
    layers = []
    for i in range(len(sizes) - 1):
        lin = nn.Linear(sizes[i], sizes[i + 1])
        last = i == len(sizes) - 2
        nn.init.orthogonal_(lin.weight, gain=out_gain if last else math.sqrt(2))
        nn.init.zeros_(lin.bias)
        layers.append(lin)
        if not last:
            layers.append(nn.Tanh())
    return nn.Sequential(*layers)


def _space_info(env_id, obs_space, act_space):
    import gymnasium as gym

    if not isinstance(obs_space, gym.spaces.Box):
        raise ValueError(f"{env_id}: observation space {obs_space} is not supported, expected a Box")
    if isinstance(act_space, gym.spaces.Discrete):
        return int(np.prod(obs_space.shape)), True, int(act_space.n)
    if isinstance(act_space, gym.spaces.Box) and len(act_space.shape) == 1:
        return int(np.prod(obs_space.shape)), False, int(act_space.shape[0])
    raise ValueError(f"{env_id}: action space {act_space} is not supported; the agents handle "
                     f"Discrete (categorical policy) and 1-D Box (Gaussian policy) action spaces")


class MLPPolicy(nn.Module):
    """Categorical (discrete actions) or diagonal-Gaussian (Box actions) MLP policy.

    ``forward(obs)`` returns the distribution parameters: normalised
    log-probabilities ``(B, A)`` (categorical), or ``[mean, log_std]``
    ``(B, 2 A)`` (Gaussian).  ``log_prob``, ``entropy``, ``kl`` and ``sample``
    act on those parameters; ``act(obs)`` maps NumPy observations to NumPy
    actions.
    """

    def __init__(self, obs_dim, n_out, hidden_sizes=(64, 64), discrete=True, low=None, high=None):
        super().__init__()
        self.discrete = bool(discrete)
        self.n_out = int(n_out)
        self.net = _mlp([obs_dim, *hidden_sizes, n_out], out_gain=0.01)
        if not self.discrete:
            self.log_std = nn.Parameter(torch.zeros(n_out))
            self.register_buffer("low", torch.as_tensor(low, dtype=torch.float32))
            self.register_buffer("high", torch.as_tensor(high, dtype=torch.float32))

    def forward(self, obs):
        out = self.net(obs)
        if self.discrete:
            return torch.log_softmax(out, dim=-1)
        return torch.cat([out, self.log_std.expand_as(out)], dim=-1)

    def _split(self, params):
        return params[..., :self.n_out], params[..., self.n_out:]

    def log_prob(self, params, actions):
        if self.discrete:
            return params.gather(-1, actions.long().unsqueeze(-1)).squeeze(-1)
        mean, log_std = self._split(params)
        z = (actions - mean) / log_std.exp()
        return (-0.5 * z * z - log_std - 0.5 * math.log(2 * math.pi)).sum(-1)

    def entropy(self, params):
        if self.discrete:
            return -(params.exp() * params).sum(-1)
        _, log_std = self._split(params)
        return (log_std + 0.5 * math.log(2 * math.pi * math.e)).sum(-1)

    def kl(self, old, new):
        """``KL(pi_old(.|s) || pi_new(.|s))`` per row."""
        if self.discrete:
            return (old.exp() * (old - new)).sum(-1)
        mo, lo = self._split(old)
        mn, ln = self._split(new)
        return (ln - lo + ((2 * lo).exp() + (mo - mn) ** 2) / (2 * (2 * ln).exp()) - 0.5).sum(-1)

    def sample(self, params, generator=None):
        if self.discrete:
            return torch.multinomial(params.exp(), 1, generator=generator).squeeze(-1)
        mean, log_std = self._split(params)
        noise = torch.randn(mean.shape, generator=generator, dtype=mean.dtype)
        return mean + log_std.exp() * noise

    def mode(self, params):
        if self.discrete:
            return params.argmax(-1)
        return self._split(params)[0]

    def to_env(self, actions):
        """Tensor of actions -> NumPy actions for the environment (Box: clipped to the bounds)."""
        if self.discrete:
            return actions.numpy()
        return torch.maximum(torch.minimum(actions, self.high), self.low).numpy()

    @torch.no_grad()
    def act(self, obs, deterministic=True, generator=None):
        """NumPy observations ``(N, obs_dim)`` -> NumPy actions ``(N,)`` / ``(N, A)``."""
        obs_t = torch.as_tensor(np.asarray(obs, dtype=np.float32)).reshape(len(obs), -1)
        params = self(obs_t)
        a = self.mode(params) if deterministic else self.sample(params, generator)
        return self.to_env(a)

class MLPValue(nn.Module):
    """Value network ``obs -> V(obs)``, output shape ``(B,)``."""

    def __init__(self, obs_dim, hidden_sizes=(64, 64)):
        super().__init__()
        self.net = _mlp([obs_dim, *hidden_sizes, 1], out_gain=1.0)

    def forward(self, obs):
        return self.net(obs).squeeze(-1)


class QNetwork(nn.Module):
    """Action-value network ``obs -> (Q(obs, a))_a`` of shape ``(B, A)`` (chapter C8, DQN).

    ReLU hidden layers with PyTorch's default initialisation (as in
    Stable-Baselines3's DQN). ``act(obs)`` returns the greedy actions
    ``argmax_a Q(obs, a)`` of a NumPy batch, so a trained network is a policy
    that :func:`rlbook.evaluate_policy_gym` can run.
    """

    def __init__(self, obs_dim, n_actions, hidden_sizes=(64, 64)):
        super().__init__()
        sizes = [int(obs_dim), *hidden_sizes, int(n_actions)]
        layers = []
        for i in range(len(sizes) - 1):
            layers.append(nn.Linear(sizes[i], sizes[i + 1]))
            if i < len(sizes) - 2:
                layers.append(nn.ReLU())
        self.net = nn.Sequential(*layers)
        self.n_actions = int(n_actions)

    def forward(self, obs):
        return self.net(obs)

    def numpy_layers(self):
        """``[(W^T, b), ...]`` as NumPy views sharing memory with the parameters
        (in-place optimiser steps show through), for cheap per-step action selection."""
        return [(m.weight.detach().numpy().T, m.bias.detach().numpy())
                for m in self.net if isinstance(m, nn.Linear)]

    @staticmethod
    def numpy_q(layers, obs):
        """``Q(obs, .)`` in NumPy from :meth:`numpy_layers`, ``(B, A)``."""
        h = obs
        for i, (W, b) in enumerate(layers):
            h = h @ W + b
            if i < len(layers) - 1:
                np.maximum(h, 0.0, out=h)
        return h

    @torch.no_grad()
    def act(self, obs, deterministic=True, generator=None):
        """Greedy actions ``(N,)`` for NumPy observations ``(N, obs_dim)``
        (a Q-network's policy is greedy: ``deterministic`` and ``generator`` are accepted
        for the common interface and ignored)."""
        obs_t = torch.as_tensor(np.asarray(obs, dtype=np.float32)).reshape(len(obs), -1)
        return self(obs_t).argmax(-1).numpy()
