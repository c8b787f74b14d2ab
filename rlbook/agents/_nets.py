"""The networks the agents share.

* policy optimisation (PPO, TRPO): an MLP policy (categorical or diagonal
  Gaussian) and an MLP value function, ``tanh`` hidden layers and orthogonal
  initialisation (as in Stable-Baselines3 and cleanrl);
* value-based (DQN): a Q-network ``obs -> Q(obs, .)``;
* off-policy continuous control (DDPG, TD3, SAC): a deterministic actor, a
  squashed-Gaussian actor and an ensemble of Q critics evaluated in one batched
  matrix product per layer, ``ReLU`` hidden layers and PyTorch's default
  initialisation (as in the TD3 and SAC reference code).

The continuous-control networks act in the *normalised* action box
``[-1, 1]^d``; ``act`` maps to the environment's box ``low + (a + 1)(high - low)/2``.
"""
from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

__all__ = ["MLPPolicy", "MLPValue", "QNetwork", "DeterministicActor", "SquashedGaussianActor",
           "QEnsemble"]


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


def _run_tanh_mlp(net, x):
    """``net(x)`` for a :func:`_mlp` ``Sequential``, calling ``F.linear`` and ``tanh``
    directly: the same operations, without a module call per layer (which costs more
    than the arithmetic of these small layers)."""
    for m in net._modules.values():  # (``_parameters`` skips Module.__getattr__ per lookup)
        if type(m) is nn.Tanh:
            x = torch.tanh(x)
        else:
            p = m._parameters
            x = nn.functional.linear(x, p["weight"], p["bias"])
    return x


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
        out = _run_tanh_mlp(self.net, obs)
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

    def noise(self, shape, generator=None):
        """Sampling noise for ``shape`` rows of parameters: uniforms on [0, 1)
        (categorical) or standard normals with a last axis of size ``A`` (Gaussian)."""
        if self.discrete:
            return torch.rand(shape, generator=generator, dtype=torch.float64)
        return torch.randn((*shape, self.n_out), generator=generator)

    def sample(self, params, generator=None, noise=None):
        """Actions drawn from the distributions ``params`` with ``generator``, or
        from given ``noise`` (:meth:`noise`, drawn ahead, e.g. for a whole rollout).

        Categorical: ``torch.multinomial``, or with ``noise`` by inversion (the
        first action whose cumulative probability exceeds the uniform ``u``).
        Gaussian: ``mean + exp(log_std) * z`` with standard normals ``z``."""
        if self.discrete:
            if noise is None:
                return torch.multinomial(params.exp(), 1, generator=generator).squeeze(-1)
            cdf = params.exp().cumsum(-1)
            return (cdf[..., :-1] < noise.unsqueeze(-1) * cdf[..., -1:]).sum(-1)
        mean, log_std = self._split(params)
        if noise is None:
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
        return _run_tanh_mlp(self.net, obs).squeeze(-1)


# ------------------------------------------------------- continuous control
def _relu_mlp(sizes):
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class _BoxActor(nn.Module):
    """Common part of the continuous actors: the action box and ``act``."""

    def _set_box(self, low, high):
        low = torch.as_tensor(np.asarray(low, dtype=np.float32))
        high = torch.as_tensor(np.asarray(high, dtype=np.float32))
        self.register_buffer("act_scale", (high - low) / 2)
        self.register_buffer("act_bias", (high + low) / 2)

    def to_env(self, a):
        """Normalised actions in ``[-1, 1]`` -> environment actions."""
        return self.act_bias + self.act_scale * a

    @torch.no_grad()
    def act(self, obs, deterministic=True, generator=None):
        """NumPy observations ``(N, obs_dim)`` -> NumPy environment actions ``(N, d)``."""
        obs_t = torch.as_tensor(np.asarray(obs, dtype=np.float32)).reshape(len(obs), -1)
        a = self.mode(obs_t) if deterministic else self.sample(obs_t, generator)[0]
        return self.to_env(a).numpy()


class DeterministicActor(_BoxActor):
    """``mu(s) = tanh(MLP(s))`` in the normalised box (DDPG, TD3)."""

    def __init__(self, obs_dim, act_dim, hidden_sizes, low, high):
        super().__init__()
        self.net = _relu_mlp([obs_dim, *hidden_sizes, act_dim])
        self._set_box(low, high)

    def forward(self, obs):
        return torch.tanh(self.net(obs))

    mode = forward

    def sample(self, obs, generator=None):
        return self(obs), None


class SquashedGaussianActor(_BoxActor):
    """SAC's policy: ``a = tanh(u)``, ``u ~ N(mean(s), exp(log_std(s))^2)``.

    ``forward(obs)`` returns ``(mean, log_std)`` with ``log_std`` clipped to
    ``[log_std_min, log_std_max]``; ``sample`` returns the reparameterised action
    and its log-density (:func:`rlbook.squashed_gaussian_log_prob` with scale 1:
    the density in the normalised box).
    """

    def __init__(self, obs_dim, act_dim, hidden_sizes, low, high, log_std_min=-20.0,
                 log_std_max=2.0):
        super().__init__()
        self.act_dim = int(act_dim)
        self.net = _relu_mlp([obs_dim, *hidden_sizes, 2 * act_dim])
        self.log_std_min, self.log_std_max = float(log_std_min), float(log_std_max)
        self._set_box(low, high)

    def forward(self, obs):
        out = self.net(obs)
        mean, log_std = out[..., :self.act_dim], out[..., self.act_dim:]
        return mean, log_std.clamp(self.log_std_min, self.log_std_max)

    def mode(self, obs):
        return torch.tanh(self(obs)[0])

    def sample(self, obs, generator=None):
        from ..max_entropy.squashed import squashed_gaussian_log_prob

        mean, log_std = self(obs)
        u = mean + log_std.exp() * torch.randn(mean.shape, generator=generator, dtype=mean.dtype)
        return torch.tanh(u), squashed_gaussian_log_prob(u, mean, log_std)


class QEnsemble(nn.Module):
    """``n`` independent critics ``Q_i(s, a)``, evaluated together.

    Each layer holds the weights of all critics in one ``(n, in, out)`` tensor,
    so a forward pass is one batched matrix product per layer (``torch.baddbmm``)
    instead of ``n`` separate networks. ``forward(obs, act)`` returns ``(n, B)``.
    Initialisation is that of ``nn.Linear`` (uniform in ``+-1/sqrt(fan_in)``).
    """

    def __init__(self, obs_dim, act_dim, hidden_sizes, n=2):
        super().__init__()
        sizes = [obs_dim + act_dim, *hidden_sizes, 1]
        self.n = int(n)
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        for i in range(len(sizes) - 1):
            bound = 1.0 / math.sqrt(sizes[i])
            self.weights.append(nn.Parameter(torch.empty(n, sizes[i], sizes[i + 1]).uniform_(-bound, bound)))
            self.biases.append(nn.Parameter(torch.empty(n, 1, sizes[i + 1]).uniform_(-bound, bound)))

    def forward(self, obs, act, frozen=False, first_only=False):
        """``(n, B)`` values (``(1, B)`` with ``first_only``); ``frozen=True`` detaches the
        weights (the actor's loss differentiates through the critics' inputs only)."""
        x = torch.cat([obs, act], dim=-1)
        n = 1 if first_only else self.n
        last = len(self.weights) - 1
        h = None
        for i, (W, b) in enumerate(zip(self.weights, self.biases)):
            if n < self.n:  # a slice's backward would zero-fill and copy the full gradient
                W, b = W[:n], b[:n]
            if frozen:
                W, b = W.detach(), b.detach()
            if i == 0:
                # shared input: one GEMM against the critics' weights side by side
                k, o = W.shape[1], W.shape[2]
                h = (x @ W.permute(1, 0, 2).reshape(k, n * o)).reshape(-1, n, o).transpose(0, 1) + b
            else:
                h = torch.baddbmm(b, h, W)
            if i < last:
                h = torch.relu(h)
        return h.squeeze(-1)

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
