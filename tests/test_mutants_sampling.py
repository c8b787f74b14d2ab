"""Tests written from mutmut's survivors in rlbook/sampling.py (issue 14)."""
import numpy as np
import pytest

import rlbook as rb


def test_discounted_returns_names_rewards_and_matches_the_sum():
    with pytest.raises(ValueError, match=r"^rewards\[1\] is nan, expected a finite number"):
        rb.discounted_returns([1.0, np.nan], 0.9)
    r = np.array([[1.0, 2.0, 3.0], [0.0, -1.0, 4.0]])
    want = [[sum(0.9 ** k * row[t + k] for k in range(3 - t)) for t in range(3)] for row in r]
    np.testing.assert_allclose(rb.discounted_returns(r, 0.9), want, rtol=1e-14)


def test_sample_trajectories_horizon_is_validated_and_one_step_is_allowed():
    mdp = rb.random_mdp(3, 2, gamma=0.9, seed=0)
    pi = np.full((3, 2), 0.5)
    with pytest.raises(ValueError, match=r"^horizon is 0, expected an integer >= 1"):
        rb.sample_trajectories(mdp, pi, 2, 0, 0)
    tr = rb.sample_trajectories(mdp, pi, 2, 1, 0)
    assert tr.horizon == 1 and tr.n_episodes == 2 and tr.mask.all()


def test_sample_trajectories_start_state_errors():
    mdp = rb.random_mdp(3, 2, gamma=0.9, seed=0)
    pi = np.full((3, 2), 0.5)
    with pytest.raises(ValueError, match=r"^give rho0 or s0, not both$"):
        rb.sample_trajectories(mdp, pi, 2, 3, 0, rho0=np.ones(3) / 3, s0=0)
    with pytest.raises(ValueError, match=r"^s0 is -1, expected an integer >= 0"):
        rb.sample_trajectories(mdp, pi, 2, 3, 0, s0=-1)
    assert (rb.sample_trajectories(mdp, pi, 4, 2, 0, s0=0).states[:, 0] == 0).all()


def _one_live_state():
    """State 0 moves to the terminal state 1 whatever the action."""
    P = np.zeros((2, 2, 2))
    P[:, :, 1] = 1.0
    return rb.FiniteMDP(P, np.array([[1.0, 2.0], [0.0, 0.0]]), 0.9, terminal=[False, True])


def test_sample_trajectories_masks_steps_after_termination():
    # one live state: the default start is state 0, the episode ends after one step and the
    # masked steps hold state -1, action -1 and reward 0 (documented)
    tr = rb.sample_trajectories(_one_live_state(), np.full((2, 2), 0.5), 3, 4, 0)
    assert (tr.states[:, 0] == 0).all() and tr.mask[:, 0].all() and not tr.mask[:, 1:].any()
    assert (tr.states[:, 1:] == -1).all() and (tr.actions[:, 1:] == -1).all()
    assert (tr.rewards[:, 1:] == 0).all() and (tr.final_states == 1).all()


def test_sample_trajectories_rho0_and_all_terminal_errors():
    mdp = rb.random_mdp(3, 2, gamma=0.9, seed=0)
    with pytest.raises(ValueError, match=r"^rho0 must have shape \(3,\), got \(2,\)"):
        rb.sample_trajectories(mdp, np.full((3, 2), 0.5), 2, 3, 0, rho0=[0.5, 0.5])
    P = np.zeros((1, 1, 1))
    P[0, 0, 0] = 1.0
    dead = rb.FiniteMDP(P, np.zeros((1, 1)), 0.9, terminal=[True])
    with pytest.raises(ValueError, match=r"^every state of mdp is terminal; there is nothing to sample$"):
        rb.sample_trajectories(dead, np.ones((1, 1)), 2, 3, 0)
