"""DQN (rlbook/agents/dqn.py): targets, a short training run, and the error paths."""
import numpy as np
import pytest
import torch

import rlbook as rb
from rlbook.agents.dqn import dqn_targets


def test_targets_dqn_and_double():
    q_t = lambda x: torch.tensor([[1.0, 5.0], [2.0, 0.0]])  # noqa: E731
    q_o = lambda x: torch.tensor([[3.0, 0.0], [0.0, 1.0]])  # noqa: E731
    r = torch.tensor([1.0, 1.0])
    d = torch.tensor([0.0, 1.0])
    y = dqn_targets(q_t, q_o, r, None, d, 0.5, double_q=False)
    np.testing.assert_allclose(y.numpy(), [1 + 0.5 * 5, 1.0])
    y2 = dqn_targets(q_t, q_o, r, None, d, 0.5, double_q=True)  # online picks action 0
    np.testing.assert_allclose(y2.numpy(), [1 + 0.5 * 1, 1.0])


def test_short_training_run_is_deterministic():
    cfg = rb.DQNConfig(total_steps=1500, learning_starts=500, train_freq=250,
                       gradient_steps=8, eval_interval=750, eval_episodes=2, seed=3)
    a = rb.train_dqn(cfg)
    b = rb.train_dqn(cfg)
    assert a.total_steps == 1500
    np.testing.assert_array_equal(a.episode_returns, b.episode_returns)
    np.testing.assert_array_equal(a.diagnostics["loss"], b.diagnostics["loss"])
    assert len(a.diagnostics["eval_steps"]) == 2
    assert a.policy.act(np.zeros((3, 4))).shape == (3,)
    ev = rb.evaluate_policy_gym(a.policy, "CartPole-v1", 2, seed=0)
    assert ev.shape == (2,)


def test_errors():
    with pytest.raises(ValueError, match="buffer_size is 32, below batch_size 64"):
        rb.train_dqn(rb.DQNConfig(buffer_size=32))
    with pytest.raises(ValueError, match="learning_starts is 10, below batch_size"):
        rb.train_dqn(rb.DQNConfig(learning_starts=10))
    with pytest.raises(ValueError, match="gamma is 1.0, expected gamma < 1"):
        rb.train_dqn(rb.DQNConfig(gamma=1.0))
    with pytest.raises(ValueError, match="not Discrete"):
        rb.train_dqn(rb.DQNConfig(env_id="Pendulum-v1", total_steps=100))
    with pytest.raises(ValueError, match="exploration_final_eps"):
        rb.train_dqn(rb.DQNConfig(exploration_final_eps=1.5))
    with pytest.raises(ValueError, match="hidden_sizes"):
        rb.train_dqn(rb.DQNConfig(hidden_sizes=(0,)))
    with pytest.raises(ValueError, match="eval_interval"):
        rb.train_dqn(rb.DQNConfig(eval_interval=0))
    with pytest.raises(ValueError, match="huber_delta"):
        rb.train_dqn(rb.DQNConfig(huber_delta=-1.0))
    with pytest.raises(TypeError, match="DQNConfig"):
        rb.train_dqn("CartPole-v1")
