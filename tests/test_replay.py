"""The shared replay buffer (rlbook/agents/_replay.py)."""
import numpy as np
import pytest
import torch

from rlbook.agents._replay import ReplayBuffer


def _fill(buf, n, start=0):
    obs = np.arange(start, start + n, dtype=np.float32)[:, None] * np.ones((1, 3), np.float32)
    buf.add(obs, np.arange(start, start + n), np.arange(start, start + n), obs + 0.5,
            np.zeros(n))


def test_ring_overwrites_oldest_and_keeps_fields_aligned():
    buf = ReplayBuffer(5, obs_shape=(3,))
    _fill(buf, 3)
    assert len(buf) == 3 and buf.n_added == 3
    _fill(buf, 4, start=3)  # 7 added, capacity 5: transitions 2..6 remain
    assert len(buf) == 5 and buf.n_added == 7
    assert sorted(buf.actions.tolist()) == [2, 3, 4, 5, 6]
    b = buf.sample(5, np.random.default_rng(0))
    assert b.obs.shape == (5, 3) and b.actions.shape == (5,)
    # every field of a sampled row comes from the same transition
    np.testing.assert_array_equal(b.obs[:, 0], b.actions.astype(np.float32))
    np.testing.assert_array_equal(b.rewards, b.actions.astype(np.float32))
    np.testing.assert_array_equal(b.next_obs, b.obs + 0.5)


def test_batch_larger_than_capacity_keeps_newest():
    buf = ReplayBuffer(4, obs_shape=(3,))
    _fill(buf, 10)
    assert sorted(buf.actions.tolist()) == [6, 7, 8, 9]


def test_sampling_is_uniform_over_stored():
    # chi-square test of uniformity over 5 slots; the statistic has 4 degrees of freedom
    buf = ReplayBuffer(5, obs_shape=(3,))
    _fill(buf, 5)
    rng = np.random.default_rng(1)
    a = np.concatenate([buf.sample(5, rng).actions for _ in range(10_000)])
    counts = np.bincount(a, minlength=5)
    chi2 = ((counts - 10_000) ** 2 / 10_000).sum()
    assert chi2 < 18.5  # the 0.999 quantile of chi2(4)


def test_continuous_actions_and_torch_output():
    buf = ReplayBuffer(8, obs_shape=(2,), action_shape=(3,), action_dtype=np.float32)
    buf.add(np.ones((2, 2)), np.full((2, 3), 0.5), [1.0, 2.0], np.zeros((2, 2)), [0, 1])
    b = buf.sample(4, np.random.default_rng(0), as_torch=True)
    assert isinstance(b.actions, torch.Tensor) and b.actions.shape == (4, 3)
    assert b.actions.dtype == torch.float32 and b.terminated.dtype == torch.float32
    b.obs[:] = 7  # a copy: the buffer is untouched
    assert buf.obs.max() == 1


def test_errors():
    with pytest.raises(ValueError, match="capacity"):
        ReplayBuffer(0)
    with pytest.raises(ValueError, match="obs_shape"):
        ReplayBuffer(3, obs_shape=(0,))
    with pytest.raises(TypeError, match="obs_shape"):
        ReplayBuffer(3, obs_shape="ab")
    buf = ReplayBuffer(4, obs_shape=(3,))
    with pytest.raises(ValueError, match="empty"):
        buf.sample(2, np.random.default_rng(0))
    _fill(buf, 2)
    with pytest.raises(ValueError, match="batch_size is 5, larger than the buffer's capacity 4"):
        buf.sample(5, np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"obs must have shape \(n, 3\)"):
        buf.add(np.ones((2, 4)), [0, 0], [0, 0], np.ones((2, 3)), [0, 0])
    with pytest.raises(ValueError, match="actions holds 3 transitions"):
        buf.add(np.ones((2, 3)), [0, 0, 0], [0, 0], np.ones((2, 3)), [0, 0])
    with pytest.raises(ValueError, match=r"rewards must have shape \(n,\)"):
        buf.add(np.ones((2, 3)), [0, 0], [[0], [0]], np.ones((2, 3)), [0, 0])
