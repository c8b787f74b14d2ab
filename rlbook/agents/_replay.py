"""Experience replay (chapter C8, DQN; shared by the off-policy agents DQN, DDPG, TD3, SAC).

:class:`ReplayBuffer` is a ring buffer over preallocated NumPy arrays: adding a
transition (or a batch of transitions from a vector environment) writes into
fixed slots, the oldest transitions are overwritten once ``capacity`` is
reached, and a minibatch is drawn uniformly *with replacement* from the stored
transitions by one fancy-indexing gather per field (no Python lists, no
per-sample loop). The buffer is generic over the observation and action shapes
and dtypes: ``action_shape=()`` with an integer dtype for discrete actions,
``action_shape=(m,)`` with a float dtype for continuous ones.

A transition is ``(s, a, r, s', terminated)``. ``terminated`` marks a true
terminal state (no bootstrapping from ``s'``); a time-limit *truncation* is not
terminal, and the caller stores the real final observation as ``s'`` (with
``autoreset_mode=SAME_STEP`` vector environments it is ``info["final_obs"]``).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validate import check_int

__all__ = ["ReplayBatch", "ReplayBuffer"]


@dataclass(frozen=True)
class ReplayBatch:
    """A minibatch of transitions; arrays (or torch tensors) with the batch axis first."""

    obs: object
    """Observations ``s``, shape ``(B, *obs_shape)``."""
    actions: object
    """Actions ``a``, shape ``(B, *action_shape)``."""
    rewards: object
    """Rewards ``r``, shape ``(B,)`` (float32)."""
    next_obs: object
    """Next observations ``s'``, shape ``(B, *obs_shape)``."""
    terminated: object
    """1.0 where ``s'`` is terminal (do not bootstrap), else 0.0; shape ``(B,)`` (float32)."""


class ReplayBuffer:
    """A preallocated ring buffer of transitions with uniform batched sampling.

    Parameters
    ----------
    capacity : int
        Number of transitions kept; once full, each new transition overwrites
        the oldest one.
    obs_shape : tuple of int
        Shape of one observation (``()`` for a scalar observation).
    action_shape : tuple of int
        Shape of one action: ``()`` for discrete actions, ``(m,)`` for an
        ``m``-dimensional continuous action.
    obs_dtype, action_dtype : numpy dtype
        Storage dtypes (defaults: ``float32`` observations, ``int64`` actions).

    Attributes
    ----------
    size : int
        Transitions currently stored (``<= capacity``).
    n_added : int
        Transitions added since construction.

    Notes
    -----
    Sampling is with replacement, as in DQN (Mnih et al. 2015) and
    Stable-Baselines3: indices ``i_1, ..., i_B`` are i.i.d. uniform on the
    ``size`` stored slots, so a batch may repeat a transition while the buffer
    is small. Asking for more transitions than the buffer *can* hold
    (``batch_size > capacity``) is refused, since such a setting means the
    buffer size was chosen below the batch size.
    """

    def __init__(self, capacity: int, obs_shape=(), action_shape=(),
                 obs_dtype=np.float32, action_dtype=np.int64):
        self.capacity = check_int(capacity, "capacity", minimum=1)
        self.obs_shape = _shape(obs_shape, "obs_shape")
        self.action_shape = _shape(action_shape, "action_shape")
        self.obs = np.zeros((self.capacity, *self.obs_shape), dtype=obs_dtype)
        self.next_obs = np.zeros((self.capacity, *self.obs_shape), dtype=obs_dtype)
        self.actions = np.zeros((self.capacity, *self.action_shape), dtype=action_dtype)
        self.rewards = np.zeros(self.capacity, dtype=np.float32)
        self.terminated = np.zeros(self.capacity, dtype=np.float32)
        self.size = 0
        self.n_added = 0
        self._pos = 0

    def __len__(self) -> int:
        return self.size

    def add(self, obs, actions, rewards, next_obs, terminated) -> None:
        """Store a batch of ``n`` transitions (one per sub-environment of a vector env).

        Parameters
        ----------
        obs, next_obs : array ``(n, *obs_shape)``
        actions : array ``(n, *action_shape)``
        rewards, terminated : array ``(n,)``
        """
        obs = self._batch(obs, self.obs_shape, "obs")
        n = obs.shape[0]
        next_obs = self._batch(next_obs, self.obs_shape, "next_obs", n)
        actions = self._batch(actions, self.action_shape, "actions", n)
        rewards = self._batch(rewards, (), "rewards", n)
        terminated = self._batch(terminated, (), "terminated", n)
        if n > self.capacity:  # keep the newest ``capacity`` transitions
            obs, next_obs, actions, rewards, terminated = (
                x[n - self.capacity:] for x in (obs, next_obs, actions, rewards, terminated))
            n = self.capacity
        idx = (self._pos + np.arange(n)) % self.capacity
        self.obs[idx] = obs
        self.next_obs[idx] = next_obs
        self.actions[idx] = actions
        self.rewards[idx] = rewards
        self.terminated[idx] = terminated
        self._pos = int((self._pos + n) % self.capacity)
        self.size = min(self.size + n, self.capacity)
        self.n_added += n

    def sample(self, batch_size: int, rng: np.random.Generator, as_torch: bool = False) -> ReplayBatch:
        """Draw ``batch_size`` stored transitions uniformly with replacement.

        Parameters
        ----------
        batch_size : int
            ``1 <= batch_size <= capacity``.
        rng : numpy.random.Generator
            Source of the indices.
        as_torch : bool
            Return torch tensors (sharing no memory with the buffer) instead of
            NumPy arrays.
        """
        batch_size = check_int(batch_size, "batch_size", minimum=1)
        if batch_size > self.capacity:
            raise ValueError(f"batch_size is {batch_size}, larger than the buffer's capacity "
                             f"{self.capacity}: the replay buffer must hold at least one batch")
        if self.size == 0:
            raise ValueError("the replay buffer is empty: add transitions before sampling")
        idx = rng.integers(0, self.size, size=batch_size)
        fields = (self.obs[idx], self.actions[idx], self.rewards[idx], self.next_obs[idx],
                  self.terminated[idx])
        if as_torch:
            import torch

            fields = tuple(torch.from_numpy(x) for x in fields)
        return ReplayBatch(*fields)

    def _batch(self, x, shape, name, n=None):
        arr = np.asarray(x)
        if arr.ndim != len(shape) + 1 or tuple(arr.shape[1:]) != shape:
            want = "(n, " + ", ".join(str(s) for s in shape) + ")" if shape else "(n,)"
            raise ValueError(f"{name} must have shape {want} (a batch of transitions), "
                             f"got {arr.shape}")
        if n is not None and arr.shape[0] != n:
            raise ValueError(f"{name} holds {arr.shape[0]} transitions, obs holds {n}")
        return arr


def _shape(shape, name):
    if isinstance(shape, (int, np.integer)):
        shape = (int(shape),)
    try:
        out = tuple(int(s) for s in shape)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a tuple of integers, got {shape!r}") from None
    if any(s < 1 for s in out):
        raise ValueError(f"{name} is {shape!r}, expected positive dimensions")
    return out
