"""Trajectory sampling and discounted returns."""
import numpy as np
import pytest

import rlbook as rb


def test_returns_recursion_and_constant_stream():
    rng = np.random.default_rng(0)
    r = rng.normal(size=(4, 30))
    G = rb.discounted_returns(r, 0.8)
    np.testing.assert_allclose(G[:, :-1], r[:, :-1] + 0.8 * G[:, 1:])
    direct = np.array([[np.sum(0.8 ** np.arange(30 - t) * r[n, t:]) for t in range(30)] for n in range(4)])
    np.testing.assert_allclose(G, direct)
    G1 = rb.discounted_returns(np.ones(500), 0.9)
    assert G1[0] == pytest.approx(10.0, abs=1e-12 + 0.9**500 * 10)


def test_returns_validation():
    with pytest.raises(ValueError, match=r"rewards must have shape \(T,\) or \(N, T\)"):
        rb.discounted_returns(np.zeros((2, 2, 2)), 0.9)
    with pytest.raises(ValueError, match="gamma is 2"):
        rb.discounted_returns(np.zeros(3), 2)


def test_sampler_matches_dynamics_statistically():
    """Empirical transition frequencies agree with P within 5 standard errors."""
    mdp = rb.random_mdp(4, 2, 0.9, seed=1)
    pi = rb.uniform_policy(4, 2)
    tr = rb.sample_trajectories(mdp, pi, 2000, 20, np.random.default_rng(2))
    s, a = tr.states[:, :-1].ravel(), tr.actions[:, :-1].ravel()
    s2 = tr.states[:, 1:].ravel()
    for si in range(4):
        for ai in range(2):
            sel = (s == si) & (a == ai)
            n = sel.sum()
            freq = np.bincount(s2[sel], minlength=4) / n
            se = np.sqrt(mdp.P[si, ai] * (1 - mdp.P[si, ai]) / n)
            assert np.all(np.abs(freq - mdp.P[si, ai]) <= 5 * se + 1e-12)
    np.testing.assert_array_equal(tr.rewards, mdp.R[tr.states, tr.actions])


def test_sampler_is_reproducible_and_respects_s0():
    mdp = rb.GridWorld().to_mdp()
    pi = rb.uniform_policy(25, 5)
    a = rb.sample_trajectories(mdp, pi, 5, 10, np.random.default_rng(7), s0=0)
    b = rb.sample_trajectories(mdp, pi, 5, 10, np.random.default_rng(7), s0=0)
    np.testing.assert_array_equal(a.states, b.states)
    assert np.all(a.states[:, 0] == 0) and a.mask.all()
    assert a.n_episodes == 5 and a.horizon == 10


def test_sampler_stops_at_terminal_states():
    mdp = rb.sutton_barto_small_gridworld()
    tr = rb.sample_trajectories(mdp, rb.uniform_policy(16, 4), 300, 400, np.random.default_rng(0))
    assert not tr.mask.all() and tr.mask[:, 0].all()
    assert np.all(tr.states[~tr.mask] == -1) and np.all(tr.rewards[~tr.mask] == 0)
    ended = ~tr.mask[:, -1]
    assert np.all(mdp.terminal[tr.final_states[ended]])
    # the mean return from a start state estimates the equiprobable value (within 5 s.e.)
    v = rb.evaluate_policy(mdp, rb.uniform_policy(16, 4))
    G = tr.rewards.sum(1)
    for s0 in (1, 5):
        g = G[tr.states[:, 0] == s0]
        assert abs(g.mean() - v[s0]) <= 5 * g.std(ddof=1) / np.sqrt(g.size)


def test_sampler_validation():
    mdp = rb.random_mdp(3, 2, 0.9, seed=0)
    pi = rb.uniform_policy(3, 2)
    rng = np.random.default_rng(0)
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator"):
        rb.sample_trajectories(mdp, pi, 2, 2, "42")
    with pytest.raises(ValueError, match="n_episodes is 0"):
        rb.sample_trajectories(mdp, pi, 0, 2, rng)
    with pytest.raises(ValueError, match=r"s0 is 3, expected a state in \[0, 2\]"):
        rb.sample_trajectories(mdp, pi, 2, 2, rng, s0=3)
    with pytest.raises(ValueError, match="give rho0 or s0, not both"):
        rb.sample_trajectories(mdp, pi, 2, 2, rng, s0=0, rho0=np.ones(3) / 3)
    with pytest.raises(ValueError, match=r"rho0 sums to 0.9"):
        rb.sample_trajectories(mdp, pi, 2, 2, rng, rho0=[0.3, 0.3, 0.3])
