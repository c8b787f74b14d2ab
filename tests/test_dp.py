"""Value iteration, policy iteration, truncated policy iteration, optimality operator."""
import numpy as np
import pytest

import rlbook as rb


def sup(x):
    return float(np.max(np.abs(x)))


@pytest.mark.parametrize("seed", range(6))
def test_vi_pi_tpi_and_closed_form_agree(seed):
    mdp = rb.random_mdp(15, 4, 0.9, seed=seed, branching=5)
    vi = rb.value_iteration(mdp, tol=1e-10)
    pi = rb.policy_iteration(mdp)
    assert vi.converged and pi.converged
    closed = rb.evaluate_policy(mdp, pi.policy)  # (I - gamma P_pi*)^-1 r_pi*
    assert sup(vi.v - pi.v) <= 1e-9
    assert sup(closed - pi.v) <= 1e-10
    np.testing.assert_array_equal(vi.policy, pi.policy)
    for n_eval in (1, 3, 20):
        tpi = rb.truncated_policy_iteration(mdp, n_eval, tol=1e-10)
        assert tpi.converged and sup(tpi.v - pi.v) <= 1e-9
        np.testing.assert_array_equal(tpi.policy, pi.policy)


def test_value_iteration_error_guarantee():
    mdp = rb.random_mdp(10, 3, 0.99, seed=11)
    exact = rb.policy_iteration(mdp).v
    for tol in (1e-2, 1e-5):
        res = rb.value_iteration(mdp, tol=tol)
        assert sup(res.v - exact) <= tol


def test_policy_iteration_monotone_and_finite():
    mdp = rb.random_mdp(30, 5, 0.95, seed=2)
    res = rb.policy_iteration(mdp, record=True)
    h = res.history
    assert res.converged and res.num_iter <= 20
    assert np.all(np.diff(h, axis=0) >= -1e-10)
    np.testing.assert_allclose(h[-1], res.v)


def test_truncated_pi_with_one_sweep_is_value_iteration():
    mdp = rb.random_mdp(8, 3, 0.9, seed=4)
    vi = rb.value_iteration(mdp, tol=1e-8, record=True)
    tpi = rb.truncated_policy_iteration(mdp, 1, tol=1e-8, record=True)
    assert vi.num_iter == tpi.num_iter
    np.testing.assert_allclose(vi.history, tpi.history, atol=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_optimality_operator_contraction_and_monotonicity(seed):
    rng = np.random.default_rng(seed)
    mdp = rb.random_mdp(9, 4, 0.85, seed=seed)
    for _ in range(25):
        u, w = rng.normal(size=9) * 3, rng.normal(size=9) * 3
        Tu, Tw = rb.bellman_optimality_operator(mdp, u), rb.bellman_optimality_operator(mdp, w)
        assert sup(Tu - Tw) <= 0.85 * sup(u - w) + 1e-12
        assert np.all(rb.bellman_optimality_operator(mdp, np.minimum(u, w)) <= np.minimum(Tu, Tw) + 1e-12)


def test_greedy_policy_optimal_and_dominates_random_policies():
    mdp = rb.random_mdp(7, 3, 0.9, seed=8)
    res = rb.value_iteration(mdp, tol=1e-12)
    np.testing.assert_allclose(rb.evaluate_policy(mdp, res.policy), res.v, atol=1e-10)
    rng = np.random.default_rng(0)
    for _ in range(50):
        pi = rng.dirichlet(np.ones(3), size=7)
        assert np.all(rb.evaluate_policy(mdp, pi) <= res.v + 1e-9)


def test_greedy_policy_ties_go_to_lowest_index():
    q = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0], [0.0, -1.0, 5.0]])
    np.testing.assert_array_equal(rb.greedy_policy(q), [[0, 1, 0], [1, 0, 0], [0, 0, 1]])
    # round-off below atol does not break a tie
    q2 = np.array([[1.0, 1.0 + 1e-14]])
    np.testing.assert_array_equal(rb.greedy_actions(q2), [0])
    np.testing.assert_array_equal(rb.greedy_actions(q2, rtol=0.0), [1])


def test_zhao_gridworld_solvers_agree():
    mdp = rb.GridWorld().to_mdp()
    vi, pi = rb.value_iteration(mdp, tol=1e-10), rb.policy_iteration(mdp)
    tpi = rb.truncated_policy_iteration(mdp, 5, tol=1e-10)
    assert sup(vi.v - pi.v) <= 1e-9 and sup(tpi.v - pi.v) <= 1e-9
    np.testing.assert_array_equal(vi.policy, pi.policy)
    np.testing.assert_array_equal(tpi.policy, pi.policy)
    assert vi.policy[17, 4] == 1.0  # in the target: stay


def test_episodic_gamma_one():
    mdp = rb.sutton_barto_small_gridworld()
    vi = rb.value_iteration(mdp)
    pi = rb.policy_iteration(mdp)
    # optimal value = minus the Manhattan distance to the nearer terminal corner
    rows, cols = np.divmod(np.arange(16), 4)
    dist = np.minimum(rows + cols, (3 - rows) + (3 - cols))
    np.testing.assert_allclose(vi.v, -dist)
    np.testing.assert_allclose(pi.v, -dist)


def test_max_iter_reports_non_convergence():
    mdp = rb.random_mdp(5, 2, 0.99, seed=0)
    res = rb.value_iteration(mdp, max_iter=3)
    assert not res.converged and res.num_iter == 3 and res.residuals.shape == (3,)


def test_solver_validation_errors():
    mdp = rb.random_mdp(4, 2, 0.9, seed=0)
    with pytest.raises(ValueError, match="tol is -1"):
        rb.value_iteration(mdp, tol=-1)
    with pytest.raises(ValueError, match="max_iter is 0"):
        rb.value_iteration(mdp, max_iter=0)
    with pytest.raises(ValueError, match="n_eval is 0"):
        rb.truncated_policy_iteration(mdp, 0)
    with pytest.raises(ValueError, match=r"pi0\[0, :\] sums to 2"):
        rb.policy_iteration(mdp, pi0=np.ones((4, 2)))
    with pytest.raises(TypeError, match="mdp must be a FiniteMDP"):
        rb.value_iteration(np.zeros((4, 2, 4)))
    with pytest.raises(ValueError, match=r"q must have 2 dimension"):
        rb.greedy_policy(np.zeros(3))
    with pytest.raises(ValueError, match=r"v must have shape \(4,\)"):
        rb.bellman_optimality_operator(mdp, np.zeros(5))


@pytest.mark.parametrize("A", [1, 2, 17, 25])
def test_value_iteration_max_over_actions_paths(A):
    """Few actions use an elementwise maximum over columns, many the axis reduction:
    both must give the same optimum as policy iteration."""
    mdp = rb.random_mdp(12, A, 0.9, seed=A)
    vi, pi = rb.value_iteration(mdp, tol=1e-10), rb.policy_iteration(mdp)
    assert sup(vi.v - pi.v) <= 1e-9
    np.testing.assert_array_equal(vi.policy, pi.policy)
