"""Mutation-survivor tests for rlbook/policy_gradient/theorem.py and max_entropy/squashed.py:
each checks a documented contract (argument order, float64 NumPy path), not today's output."""
from __future__ import annotations

import numpy as np
import pytest

import rlbook as rb


def _pg_args(S=3, A=2, d=2, seed=0):
    mdp = rb.random_mdp(S, A, gamma=0.9, seed=seed)
    phi = np.random.default_rng(seed).normal(size=(S, A, d))
    return mdp, np.zeros(d), np.full(S, 1.0 / S), phi


def test_linear_pg_swaps_only_the_old_argument_order():
    """The old order (phi, rho0) is recognised only when phi has three axes AND rho0 one;
    a malformed rho0 with three axes in the documented order is reported as rho0."""
    mdp, theta, rho0, phi = _pg_args()
    g = rb.exact_linear_policy_gradient(mdp, theta, rho0, phi)
    np.testing.assert_array_equal(rb.exact_linear_policy_gradient(mdp, theta, phi, rho0), g)
    with pytest.raises(ValueError, match=r"^rho0 must have shape \(3,\), got \(2, 2, 2\)$"):
        rb.exact_linear_policy_gradient(mdp, theta, np.ones((2, 2, 2)), phi)


def test_log1m_tanh_sq_numpy_path_is_float64():
    """NumPy inputs are computed in float64 (a float32 input is not computed in float32)."""
    u32 = np.array([-3.0, -0.1, 0.0, 0.7, 5.0], dtype=np.float32)
    got = rb.log1m_tanh_sq(u32)
    assert got.dtype == np.float64
    u = u32.astype(np.float64)
    np.testing.assert_allclose(got, np.log(1.0 - np.tanh(u) ** 2), rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("length", [2, 4])
def test_rho0_of_the_wrong_length_is_reported_as_rho0(length):
    """rho0 is checked against the MDP's number of states, in both the objective and
    the exact gradient (a distribution over 2 or 4 states for a 3-state MDP)."""
    mdp = rb.random_mdp(3, 2, gamma=0.9, seed=0)
    rho0 = np.full(length, 1.0 / length)
    msg = rf"^rho0 must have shape \(3,\), got \({length},\)$"
    with pytest.raises(ValueError, match=msg):
        rb.policy_objective(mdp, np.full((3, 2), 0.5), rho0)
    with pytest.raises(ValueError, match=msg):
        rb.exact_policy_gradient(mdp, np.zeros((3, 2)), rho0)
