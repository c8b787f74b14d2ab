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
