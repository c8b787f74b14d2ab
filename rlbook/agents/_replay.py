"""A preallocated experience-replay ring buffer shared by the off-policy agents
(DQN, DDPG, TD3, SAC).

Transitions are stored in NumPy arrays allocated once; ``add`` writes a batch of
transitions with slice assignments (wrapping around the end), ``sample`` draws
indices uniformly with a NumPy generator and returns torch tensors (one fancy
index per field, no per-sample Python work).
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch

from .._validate import check_int

__all__ = ["ReplayBuffer", "ReplayBatch"]


class ReplayBatch(NamedTuple):
    """A sampled minibatch, float32 tensors with a leading batch axis ``B``."""

    obs: torch.Tensor
    """``(B, obs_dim)`` observations ``s``."""
    act: torch.Tensor
    """``(B, act_dim)`` actions (``(B,)`` int64 for discrete actions)."""
    rew: torch.Tensor
    """``(B,)`` rewards ``r``."""
    next_obs: torch.Tensor
    """``(B, obs_dim)`` next observations ``s'`` (the final observation at a time limit)."""
    terminated: torch.Tensor
    """``(B,)`` 1.0 if ``s'`` is terminal (no bootstrap), 0.0 otherwise (time limits are 0)."""


class ReplayBuffer:
    """Ring buffer of ``capacity`` transitions ``(s, a, r, s', terminated)``.

    Parameters
    ----------
    capacity : int
        Number of transitions kept; the oldest are overwritten first.
    obs_dim : int
    act_dim : int or None
        Action dimension for continuous actions; ``None`` stores integer actions.
    """

    def __init__(self, capacity: int, obs_dim: int, act_dim: int | None):
        self.capacity = check_int(capacity, "capacity", minimum=1)
        obs_dim = check_int(obs_dim, "obs_dim", minimum=1)
        self.obs = np.zeros((self.capacity, obs_dim), dtype=np.float32)
        self.next_obs = np.zeros((self.capacity, obs_dim), dtype=np.float32)
        if act_dim is None:
            self.act = np.zeros(self.capacity, dtype=np.int64)
        else:
            self.act = np.zeros((self.capacity, check_int(act_dim, "act_dim", minimum=1)),
                                dtype=np.float32)
        self.rew = np.zeros(self.capacity, dtype=np.float32)
        self.terminated = np.zeros(self.capacity, dtype=np.float32)
        self.pos = 0
        self.size = 0

    def __len__(self):
        return self.size

    def add(self, obs, act, rew, next_obs, terminated) -> None:
        """Store a batch of ``N`` transitions (leading axis ``N`` on every argument)."""
        obs = np.asarray(obs, dtype=np.float32)
        n = len(obs)
        if n > self.capacity:
            raise ValueError(f"batch of {n} transitions is larger than capacity {self.capacity}")
        idx = (self.pos + np.arange(n)) % self.capacity if self.pos + n > self.capacity else \
            slice(self.pos, self.pos + n)
        self.obs[idx] = obs.reshape(n, -1)
        self.act[idx] = np.asarray(act).reshape(self.act[:n].shape)
        self.rew[idx] = rew
        self.next_obs[idx] = np.asarray(next_obs, dtype=np.float32).reshape(n, -1)
        self.terminated[idx] = terminated
        self.pos = (self.pos + n) % self.capacity
        self.size = min(self.size + n, self.capacity)

    def sample(self, batch_size: int, rng: np.random.Generator) -> ReplayBatch:
        """``batch_size`` transitions drawn uniformly with replacement."""
        if self.size == 0:
            raise ValueError("cannot sample from an empty replay buffer")
        i = rng.integers(0, self.size, size=batch_size)
        f = torch.from_numpy
        return ReplayBatch(f(self.obs[i]), f(self.act[i]), f(self.rew[i]), f(self.next_obs[i]),
                           f(self.terminated[i]))
