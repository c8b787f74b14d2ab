"""Bellman expectation operator, exact and iterative policy evaluation."""
import numpy as np
import pytest
import sympy as sp

import rlbook as rb


def random_policy(rng, S, A):
    return rng.dirichlet(np.ones(A), size=S)


def test_two_state_closed_form_from_sympy():
    """v = (I - gamma P_pi)^-1 r_pi for a symbolic 2-state chain, against the solver."""
    g, a, b, r0, r1 = sp.symbols("gamma a b r0 r1", positive=True)
    P = sp.Matrix([[1 - a, a], [b, 1 - b]])
    v = (sp.eye(2) - g * P).inv() * sp.Matrix([r0, r1])
    vals = {g: sp.Rational(9, 10), a: sp.Rational(1, 4), b: sp.Rational(2, 3), r0: 1, r1: -2}
    exact = np.array([float(v[0].subs(vals)), float(v[1].subs(vals))])
    Pn = np.array([[0.75, 0.25], [2 / 3, 1 / 3]])[:, None, :]
    mdp = rb.FiniteMDP(Pn, np.array([[1.0], [-2.0]]), 0.9)
    np.testing.assert_allclose(rb.evaluate_policy(mdp, np.ones((2, 1))), exact, rtol=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_exact_solution_is_fixed_point_of_T_pi(seed):
    rng = np.random.default_rng(seed)
    mdp = rb.random_mdp(8, 3, 0.95, seed=seed)
    pi = random_policy(rng, 8, 3)
    v = rb.evaluate_policy(mdp, pi)
    np.testing.assert_allclose(rb.bellman_expectation_operator(mdp, pi, v), v, atol=1e-10)
    P_pi, r_pi = rb.policy_matrices(mdp, pi)
    np.testing.assert_allclose(v, np.linalg.inv(np.eye(8) - 0.95 * P_pi) @ r_pi, atol=1e-10)


@pytest.mark.parametrize("seed", range(5))
def test_T_pi_is_gamma_contraction_and_monotone(seed):
    rng = np.random.default_rng(100 + seed)
    mdp = rb.random_mdp(10, 4, 0.8, seed=seed)
    pi = random_policy(rng, 10, 4)
    for _ in range(20):
        u, w = rng.normal(size=10) * 5, rng.normal(size=10) * 5
        Tu = rb.bellman_expectation_operator(mdp, pi, u)
        Tw = rb.bellman_expectation_operator(mdp, pi, w)
        assert np.max(np.abs(Tu - Tw)) <= 0.8 * np.max(np.abs(u - w)) + 1e-12
        lo = np.minimum(u, w)
        assert np.all(rb.bellman_expectation_operator(mdp, pi, lo) <= Tu + 1e-12)


def test_iterative_evaluation_converges_with_valid_bound():
    mdp = rb.random_mdp(12, 3, 0.9, seed=3)
    pi = rb.uniform_policy(12, 3)
    exact = rb.evaluate_policy(mdp, pi)
    res = rb.iterative_policy_evaluation(mdp, pi, tol=1e-9)
    assert res.converged
    err = np.max(np.abs(res.v - exact))
    assert err <= res.error_bound + 1e-12
    assert res.error_bound <= 1e-9
    # geometric rate: successive deltas shrink by at least the factor gamma
    # (up to round-off in the last bits of values of size ~10)
    assert np.all(res.deltas[1:] <= 0.9 * res.deltas[:-1] + 1e-13)
    short = rb.iterative_policy_evaluation(mdp, pi, max_iter=3)
    assert not short.converged and short.num_iter == 3


def test_q_from_v_and_v_from_q_roundtrip():
    mdp = rb.random_mdp(6, 4, 0.7, seed=5)
    pi = random_policy(np.random.default_rng(5), 6, 4)
    v = rb.evaluate_policy(mdp, pi)
    q = rb.q_from_v(mdp, v)
    np.testing.assert_allclose(q, mdp.R + 0.7 * np.einsum("sat,t->sa", mdp.P, v))
    np.testing.assert_allclose(rb.v_from_q(pi, q), v, atol=1e-12)


def test_gamma_one_proper_policy_sutton_barto():
    mdp = rb.sutton_barto_small_gridworld()
    v = rb.evaluate_policy(mdp, rb.uniform_policy(16, 4))
    it = rb.iterative_policy_evaluation(mdp, rb.uniform_policy(16, 4), tol=1e-10)
    assert it.converged and it.error_bound == float("inf")
    np.testing.assert_allclose(it.v, v, atol=1e-7)


def test_gamma_one_improper_policy_is_refused():
    mdp = rb.sutton_barto_small_gridworld()
    up = rb.deterministic_policy(np.zeros(16, dtype=int), 4)  # always up: top row never terminates
    with pytest.raises(ValueError, match=r"pi is improper: from state 1 .* never reached"):
        rb.evaluate_policy(mdp, up)
    with pytest.raises(ValueError, match="pi is improper"):
        rb.iterative_policy_evaluation(mdp, up)


def test_gamma_one_without_terminal_states_is_refused():
    mdp = rb.random_mdp(3, 2, 1.0, seed=0)
    with pytest.raises(ValueError, match="no terminal state"):
        rb.evaluate_policy(mdp, rb.uniform_policy(3, 2))


def test_terminal_states_have_zero_value():
    gym = pytest.importorskip("gymnasium")
    mdp = rb.FiniteMDP.from_gymnasium(gym.make("FrozenLake-v1"), gamma=0.95)
    v = rb.evaluate_policy(mdp, rb.uniform_policy(16, 4))
    assert np.all(v[mdp.terminal] == 0.0) and np.all(v >= 0) and v[14] > v[0]


def test_bellman_validation_errors():
    mdp = rb.random_mdp(3, 2, 0.9, seed=0)
    pi = rb.uniform_policy(3, 2)
    with pytest.raises(ValueError, match=r"v must have shape \(3,\), got \(4,\)"):
        rb.bellman_expectation_operator(mdp, pi, np.zeros(4))
    with pytest.raises(ValueError, match=r"v\[2\] is nan"):
        rb.q_from_v(mdp, np.array([0, 0, np.nan]))
    with pytest.raises(ValueError, match=r"pi has shape \(2, 2\) and q has shape \(3, 2\)"):
        rb.v_from_q(np.ones((2, 2)) / 2, np.zeros((3, 2)))
    with pytest.raises(ValueError, match="tol is 0"):
        rb.iterative_policy_evaluation(mdp, pi, tol=0)
    with pytest.raises(ValueError, match="max_iter is 0"):
        rb.iterative_policy_evaluation(mdp, pi, max_iter=0)
    with pytest.raises(ValueError, match=r"v0 must have shape \(3,\)"):
        rb.iterative_policy_evaluation(mdp, pi, v0=np.zeros(2))
