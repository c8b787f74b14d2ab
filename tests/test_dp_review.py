"""Regression tests for the tabular review (issue 7): one tie rule, one meaning of
``history``, available actions, undiscounted inputs, terminal states in the
operators, ``v0`` honoured, and the mutation-test gaps of issue 14."""
import numpy as np
import pytest

import rlbook as rb
from rlbook.dp.iteration import _Backup


def sup(x):
    return float(np.max(np.abs(x)))


def chain_with_terminal(gamma=0.9):
    """0 -> 1 -> 2 (terminal); action 1 stays put with reward -1."""
    P = np.zeros((3, 2, 3))
    P[0, 0, 1] = P[1, 0, 2] = 1.0
    P[0, 1, 0] = P[1, 1, 1] = 1.0
    P[2, :, 2] = 1.0
    R = np.array([[1.0, -1.0], [2.0, -1.0], [0.0, 0.0]])
    return rb.FiniteMDP(P, R, gamma, terminal=[False, False, True])


# -- ties ------------------------------------------------------------------------------
@pytest.mark.parametrize("scale", [1e-12, 1e-6, 1.0, 1e6])
def test_optimal_policy_invariant_under_reward_scaling(scale):
    gw = rb.zhao_gridworld()   # many exact ties among optimal actions
    mdp = gw.to_mdp()
    ref = rb.policy_iteration(mdp).policy
    small = mdp.with_rewards(scale * mdp.R)
    for sol in (rb.policy_iteration(small),
                rb.value_iteration(small, tol=1e-10 * scale),
                rb.truncated_policy_iteration(small, 5, tol=1e-10 * scale)):
        np.testing.assert_array_equal(sol.policy, ref)
    q = rb.q_from_v(mdp, rb.policy_iteration(mdp).v)
    np.testing.assert_array_equal(rb.greedy_policy(scale * q), rb.greedy_policy(q))


def test_tie_tolerance_is_relative():
    q = np.array([[1.0, 1.0 + 1e-12], [0.0, 0.0]])
    assert rb.tie_tolerance(q) == pytest.approx(rb.TIE_RTOL * (1.0 + 1e-12))
    assert rb.tie_tolerance(1e-12 * q) == pytest.approx(1e-12 * rb.tie_tolerance(q))
    np.testing.assert_array_equal(rb.greedy_actions(q), [0, 0])
    np.testing.assert_array_equal(rb.greedy_actions(1e-12 * q), [0, 0])
    # a real difference at a tiny scale is not a tie (an absolute 1e-10 would call it one)
    np.testing.assert_array_equal(rb.greedy_actions(np.array([[1e-12, 2e-12]])), [1])
    assert rb.tie_tolerance(np.zeros((2, 2))) == 0.0
    with pytest.raises(ValueError, match="rtol"):
        rb.greedy_actions(q, rtol=-1.0)
    with pytest.raises(ValueError, match="rtol"):
        rb.tie_tolerance(q, rtol=-1.0)


def test_policy_iteration_keeps_current_action_on_ties():
    # two actions with identical effects: any pi0 is optimal and must be kept
    P = np.zeros((2, 2, 2))
    P[:, :, 0] = 0.5
    P[:, :, 1] = 0.5
    R = np.ones((2, 2))
    mdp = rb.FiniteMDP(P, R, 0.9)
    pi0 = rb.deterministic_policy(np.array([1, 0]), 2)
    sol = rb.policy_iteration(mdp, pi0=pi0)
    assert sol.converged and sol.num_iter == 0
    # the returned policy follows the one tie rule (lowest index), pi0 was kept while iterating
    np.testing.assert_array_equal(sol.policy, [[1, 0], [1, 0]])


def test_policy_iteration_anti_cycling_with_round_off():
    # q differs by round-off between the two actions: the current action must stay
    mdp = rb.zhao_gridworld().to_mdp()
    v = rb.policy_iteration(mdp).v
    q = rb.q_from_v(mdp, v)
    ties = (q >= q.max(axis=1, keepdims=True) - 1e-9).sum(axis=1) > 1
    assert ties.any()
    # start from an optimal policy that picks the *highest* tied action: PI keeps it
    a_hi = np.array([np.flatnonzero(row >= row.max() - 1e-9)[-1] for row in q])
    sol = rb.policy_iteration(mdp, pi0=rb.deterministic_policy(a_hi, mdp.n_actions))
    assert sol.converged and sol.num_iter == 0
    # without the keep rule PI would switch to the lowest tied action and iterate once more


# -- history ---------------------------------------------------------------------------
def test_history_means_one_thing():
    mdp = rb.random_mdp(6, 3, 0.9, seed=3)
    v0 = np.linspace(-1, 1, 6)
    for sol in (rb.value_iteration(mdp, v0=v0, record=True),
                rb.truncated_policy_iteration(mdp, 3, v0=v0, record=True),
                rb.policy_iteration(mdp, v0=v0, record=True)):
        assert sol.history.shape == (sol.num_iter + 1, 6)
        np.testing.assert_array_equal(sol.history[0], v0)
        np.testing.assert_array_equal(sol.history[-1], sol.v)
        assert sol.residuals.shape == (sol.num_iter,)
        # residuals[k-1] = ||T v_{k-1} - v_{k-1}||
        for k in range(1, sol.num_iter + 1):
            Tv = rb.bellman_optimality_operator(mdp, sol.history[k - 1])
            assert sol.residuals[k - 1] == pytest.approx(sup(Tv - sol.history[k - 1]), abs=1e-12)
    pi = rb.policy_iteration(mdp, record=True)
    np.testing.assert_allclose(pi.history[0], rb.evaluate_policy(mdp, rb.uniform_policy(6, 3)))


# -- v0 honoured, n_eval exact ---------------------------------------------------------
def test_every_solver_honours_v0():
    mdp = rb.random_mdp(5, 3, 0.9, seed=1)
    v0 = 10.0 + np.arange(5.0)
    vi = rb.value_iteration(mdp, v0=v0, max_iter=1, record=True)
    np.testing.assert_allclose(vi.history[1], rb.bellman_optimality_operator(mdp, v0))
    pi = rb.policy_iteration(mdp, v0=v0, max_iter=1, record=True)
    pi1 = rb.greedy_policy_from_v(mdp, v0)
    np.testing.assert_allclose(pi.history[1], rb.evaluate_policy(mdp, pi1))
    for n in (1, 2, 4):
        tp = rb.truncated_policy_iteration(mdp, n, v0=v0, max_iter=1, record=True)
        v = v0.copy()
        for _ in range(n):
            v = rb.bellman_expectation_operator(mdp, pi1, v)
        np.testing.assert_allclose(tp.history[1], v, atol=1e-12)
    with pytest.raises(ValueError, match="pi0 or v0"):
        rb.policy_iteration(mdp, pi0=rb.uniform_policy(5, 3), v0=v0)


# -- available actions -----------------------------------------------------------------
def test_solvers_respect_allowed_actions():
    mdp = rb.random_mdp(6, 3, 0.9, seed=7)
    allowed = np.ones((6, 3), dtype=bool)
    best = rb.policy_iteration(mdp).policy.argmax(axis=1)
    allowed[np.arange(6), best] = False   # forbid every unrestricted optimal action
    m2 = rb.FiniteMDP(mdp.P, mdp.R, mdp.gamma, allowed=allowed)
    # reference: the same problem with the forbidden actions made hopeless
    R_bad = np.where(allowed, mdp.R, -1e3)
    ref = rb.policy_iteration(mdp.with_rewards(R_bad))
    for sol in (rb.value_iteration(m2, tol=1e-10), rb.policy_iteration(m2),
                rb.truncated_policy_iteration(m2, 4, tol=1e-10)):
        np.testing.assert_allclose(sol.v, ref.v, atol=1e-8)
        assert not (sol.policy.astype(bool) & ~allowed).any()
    v = ref.v
    np.testing.assert_allclose(rb.bellman_optimality_operator(m2, v), v, atol=1e-10)
    assert not (rb.greedy_policy_from_v(m2, v).astype(bool) & ~allowed).any()


# -- undiscounted inputs ---------------------------------------------------------------
def test_gamma_one_without_terminal_is_refused():
    mdp = rb.random_mdp(4, 2, 1.0, seed=0)
    for solve in (rb.value_iteration, rb.policy_iteration,
                  lambda m: rb.truncated_policy_iteration(m, 3)):
        with pytest.raises(ValueError, match="no terminal state"):
            solve(mdp)


def test_gamma_one_with_free_loop_is_refused():
    m = chain_with_terminal(1.0)
    R = m.R.copy()
    R[1, 1] = 0.5        # staying in state 1 forever pays +0.5 a step: v* = +inf
    bad = m.with_rewards(R)
    with pytest.raises(ValueError, match=r"action 1 in state 1 .*R\[1, 1\] = 0.5"):
        rb.value_iteration(bad)
    with pytest.raises(ValueError, match="action 1 in state 1"):
        rb.policy_iteration(bad)
    # every loop costs -1: accepted, and the three solvers agree
    sols = [rb.value_iteration(m), rb.policy_iteration(m), rb.truncated_policy_iteration(m, 2)]
    for s in sols:
        np.testing.assert_allclose(s.v, [3.0, 2.0, 0.0], atol=1e-7)
    # Sutton and Barto's Example 4.1 has improper policies that cost -inf: accepted
    rb.value_iteration(rb.sutton_barto_small_gridworld())


def test_gamma_one_unreachable_terminal_is_refused():
    P = np.zeros((3, 1, 3))
    P[0, 0, 1] = P[1, 0, 0] = 1.0
    P[2, 0, 2] = 1.0
    mdp = rb.FiniteMDP(P, [[-1.0], [-1.0], [0.0]], 1.0, terminal=[False, False, True])
    with pytest.raises(ValueError, match="no policy reaches a terminal state from state 0"):
        rb.value_iteration(mdp)
    rb.check_undiscounted(mdp.with_gamma(0.9))  # nothing to check below 1


# -- terminal states in the operators --------------------------------------------------
def test_operators_with_terminal_states():
    m = chain_with_terminal(0.5)
    v = np.array([4.0, 8.0, 100.0])      # a nonzero value on the terminal state is ignored
    q = rb.q_from_v(m, v)
    np.testing.assert_allclose(q, [[1 + 0.5 * 8, -1 + 0.5 * 4], [2 + 0.5 * 100, -1 + 0.5 * 8],
                                   [0, 0]])
    pi = rb.uniform_policy(3, 2)
    np.testing.assert_allclose(rb.bellman_expectation_operator(m, pi, v),
                               [0.5 * (5 + 1), 0.5 * (52 + 3), 0.0])
    np.testing.assert_allclose(rb.bellman_optimality_operator(m, v), [5.0, 52.0, 0.0])


def test_with_gamma_and_with_rewards_keep_terminal_and_allowed():
    m = chain_with_terminal(0.9)
    allowed = np.array([[True, False], [True, True], [False, False]])
    m = rb.FiniteMDP(m.P, m.R, 0.9, m.terminal, allowed=allowed)
    for m2 in (m.with_gamma(0.5), m.with_rewards(2 * m.R)):
        np.testing.assert_array_equal(m2.terminal, m.terminal)
        np.testing.assert_array_equal(m2.allowed, allowed)
    R = m.R.copy()
    R[2, 0] = 1.0
    with pytest.raises(ValueError, match=r"R\[2, 0\] is 1 but state 2 is terminal"):
        m.with_rewards(R)


# -- _Backup and the package's small contracts ------------------------------------------
def test_backup_hands_out_no_buffer():
    mdp = rb.random_mdp(4, 3, 0.9, seed=2)
    b = _Backup(mdp)
    q1 = b.q(np.zeros(4))
    q1_copy = q1.copy()
    b.q(np.ones(4))
    np.testing.assert_array_equal(q1, q1_copy)
    sol = rb.value_iteration(mdp)
    v = sol.v.copy()
    rb.value_iteration(mdp, v0=np.ones(4))
    np.testing.assert_array_equal(sol.v, v)


def test_check_policy_is_internal():
    assert not hasattr(rb, "check_policy")
    assert "check_mdp_policy" in rb.mdp.__all__
    m = chain_with_terminal()
    with pytest.raises(ValueError, match=r"pi\[0, :\] sums to 0.9"):
        rb.check_mdp_policy(m, [[0.5, 0.4], [0.5, 0.5], [1, 0]])


def test_rng_is_a_generator_or_an_int_seed():
    mdp = rb.random_mdp(3, 2, 0.9, seed=np.random.default_rng(0))
    pi = rb.uniform_policy(3, 2)
    a = rb.sample_trajectories(mdp, pi, 4, 5, rng=7)
    b = rb.sample_trajectories(mdp, pi, 4, 5, rng=np.random.default_rng(7))
    np.testing.assert_array_equal(a.states, b.states)
    s1, r1 = mdp.step(np.array([0, 1]), np.array([1, 0]), 3)
    s2, r2 = mdp.step(np.array([0, 1]), np.array([1, 0]), np.random.default_rng(3))
    np.testing.assert_array_equal(s1, s2)
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator or an int seed"):
        rb.sample_trajectories(mdp, pi, 4, 5, rng=0.5)
    with pytest.raises(ValueError, match="rng is -1"):
        mdp.step(0, 0, -1)


def test_deterministic_policy_refuses_out_of_range_action():
    with pytest.raises(ValueError, match=r"actions\[1\] is 3, expected an action in \[0, 2\]"):
        rb.deterministic_policy(np.array([0, 3]), 3)


def test_improper_policy_search_follows_edge_direction():
    # 0 loops on itself; 1 goes to 0 or to the terminal state 2; 3 goes to 0.
    P = np.zeros((4, 1, 4))
    P[0, 0, 0] = 1.0
    P[1, 0, [0, 2]] = 0.5
    P[2, 0, 2] = 1.0
    P[3, 0, 0] = 1.0
    mdp = rb.FiniteMDP(P, np.zeros((4, 1)), 1.0, terminal=[False, False, True, False])
    # ignoring the direction would connect 0 and 3 to the terminal state through 1
    with pytest.raises(ValueError, match="from state 0 .and 1 other"):
        rb.evaluate_policy(mdp, np.ones((4, 1)))
