"""Mutation-survivor tests for rlbook/dp/bellman.py, rlbook/dp/iteration.py,
rlbook/dp/optimality.py and rlbook/mdp.py (issue 14).

Each test checks a contract (the docstring's equation, an independent route such as
the linear solve ``(I - gamma P_pi)^-1 r_pi`` or brute force over deterministic
policies, a property of the operators, or an error message pinned from its start with
the argument's name), never today's output.
"""
import itertools
import re

import numpy as np
import pytest

import rlbook as rb


def _improper_graph():
    """gamma = 1, one action: 0 -> 1 -> 2 (terminal); 3 <-> 4 loop forever; 5 -> 3."""
    P = np.zeros((6, 1, 6))
    P[0, 0, 1] = P[1, 0, 2] = P[2, 0, 2] = 1.0
    P[3, 0, 4] = P[4, 0, 3] = 1.0
    P[5, 0, 3] = 1.0
    R = -np.ones((6, 1))
    R[2] = 0.0
    return rb.FiniteMDP(P, R, 1.0,
                        terminal=[False, False, True, False, False, False])


# ----------------------------------------------------------------- bellman: _proper_check
def test_gamma_one_without_terminal_state_message():
    mdp = rb.random_mdp(3, 2, 1.0, seed=0)
    msg = ("gamma is 1 and the MDP has no terminal state, so the discounted sum of rewards "
           "need not converge; give a discount factor below 1 or mark terminal states")
    for call in (rb.evaluate_policy, rb.iterative_policy_evaluation):
        with pytest.raises(ValueError, match="^" + re.escape(msg) + "$"):
            call(mdp, rb.uniform_policy(3, 2))


def test_improper_policy_message_names_the_first_stuck_state_and_counts_the_others():
    mdp = _improper_graph()
    # states 3, 4 and 5 never reach the terminal state 2; 0 and 1 do
    msg = ("pi is improper: from state 3 (and 2 other state(s)) a terminal state is never "
           "reached, so with gamma = 1 its value is not defined")
    for call in (rb.evaluate_policy, rb.iterative_policy_evaluation):
        with pytest.raises(ValueError, match="^" + re.escape(msg) + "$"):
            call(mdp, np.ones((6, 1)))


# ----------------------------------------------------------------- optimality: the tie rule
def test_tie_tolerance_scale_ignores_unavailable_entries_of_any_size():
    # the scale is max over A(s) of |q|: an unavailable entry counts for nothing,
    # whether it is larger (7) or smaller (0.1) than 1
    q = np.array([[0.5, 7.0], [0.25, 0.1]])
    allowed = [[True, False], [True, False]]
    assert rb.tie_tolerance(q, 0.5, allowed=allowed) == pytest.approx(0.5 * 0.5)
    q = np.array([[0.5, 0.1]])
    assert rb.tie_tolerance(q, 0.5, allowed=[[True, False]]) == pytest.approx(0.25)
    # an empty q has no magnitude: only exact ties would be ties
    assert rb.tie_tolerance(np.zeros((0, 2))) == 0.0


def test_greedy_actions_tie_scale_is_over_available_actions():
    # available values 1 and 1 + 1e-6 differ by far more than 1e-9 * 1.000001, so the
    # second wins; the unavailable 1e6 must not widen the tolerance to 1e-3
    q = np.array([[1.0, 1.0 + 1e-6, 1e6]])
    np.testing.assert_array_equal(rb.greedy_actions(q, allowed=[[1, 1, 0]]), [1])
    # and with a tolerance that does cover the gap, ties go to the lowest index
    np.testing.assert_array_equal(rb.greedy_actions(q, rtol=1e-5, allowed=[[1, 1, 0]]), [0])


# ----------------------------------------------------------------- iteration: check_undiscounted
def _ssp(P, R, terminal, allowed=None):
    return rb.FiniteMDP(np.asarray(P, float), np.asarray(R, float), 1.0, terminal=terminal,
                        allowed=allowed)


def test_check_undiscounted_without_terminal_state_message():
    msg = ("gamma is 1 and the MDP has no terminal state, so the sum of rewards need not "
           "converge (value iteration would return ever larger numbers); give a discount "
           "factor below 1 or mark terminal states")
    with pytest.raises(ValueError, match="^" + re.escape(msg) + "$"):
        rb.check_undiscounted(rb.random_mdp(3, 2, 1.0, seed=0))
    assert rb.check_undiscounted(rb.random_mdp(3, 2, 0.99, seed=0)) is None


def test_check_undiscounted_reachability_follows_edges_and_available_actions():
    # 0 -> 3 (terminal); 1 loops; 0 -> 1 is an edge INTO 1, not out of it;
    # 2 could reach 3 only through its unavailable action 1
    P = np.zeros((4, 2, 4))
    P[0, 0, 3] = P[0, 1, 1] = 1.0
    P[1, :, 1] = 1.0
    P[2, 0, 2] = P[2, 1, 3] = 1.0
    P[3, :, 3] = 1.0
    R = -np.ones((4, 2))
    R[3] = 0.0
    msg = ("gamma is 1 but no policy reaches a terminal state from state 1, so its value "
           "is not defined; give a discount factor below 1")
    with pytest.raises(ValueError, match="^" + re.escape(msg) + "$"):
        rb.check_undiscounted(_ssp(P, R, [0, 0, 0, 1]))
    P1 = P.copy()
    P1[1, 1] = 0.0
    P1[1, 1, 3] = 1.0          # now 1 reaches the terminal state; 2 only if action 1 is allowed
    rb.check_undiscounted(_ssp(P1, R, [0, 0, 0, 1]))
    allowed = np.ones((4, 2), bool)
    allowed[2, 1] = False
    with pytest.raises(ValueError, match=r"^gamma is 1 but no policy reaches a terminal state "
                                         r"from state 2, so"):
        rb.check_undiscounted(_ssp(P1, R, [0, 0, 0, 1], allowed))
    # the solvers refuse the same MDP with the same message
    with pytest.raises(ValueError, match=r"^gamma is 1 but no policy reaches .* from state 2,"):
        rb.value_iteration(_ssp(P1, R, [0, 0, 0, 1], allowed))


def test_check_undiscounted_free_loops():
    # 0: action 0 -> 1 (reward +5, not on a loop), action 1 -> 2 (terminal);
    # 1: action 0 stays (reward r_loop), action 1 -> 2
    def mdp(r_loop, allowed=None):
        P = np.zeros((3, 2, 3))
        P[0, 0, 1] = P[0, 1, 2] = 1.0
        P[1, 0, 1] = P[1, 1, 2] = 1.0
        P[2, :, 2] = 1.0
        return _ssp(P, [[5.0, 0.0], [r_loop, 1.0], [0.0, 0.0]], [0, 0, 1], allowed)

    # a loop that pays exactly 0 is refused (>= 0), with the state, action and reward named
    msg = ("gamma is 1 and action 0 in state 1 lies on a loop that avoids the terminal "
           "states with reward R[1, 0] = 0 >= 0: a policy can avoid termination forever "
           "without losing reward, so the values may diverge or the optimality equation may "
           "have many solutions; give a discount factor below 1")
    with pytest.raises(ValueError, match="^" + re.escape(msg) + "$"):
        rb.check_undiscounted(mdp(0.0))
    with pytest.raises(ValueError, match=re.escape("R[1, 0] = 0.25 >= 0")):
        rb.check_undiscounted(mdp(0.25))
    # a costly loop is fine, and so is the +5 step 0 -> 1 that no loop repeats (and the
    # +1 action that leaves for the terminal state); v* by hand: v(1) = 1, v(0) = 6
    m = mdp(-1.0)
    rb.check_undiscounted(m)
    for sol in (rb.value_iteration(m), rb.policy_iteration(m),
                rb.truncated_policy_iteration(m, 3)):
        np.testing.assert_allclose(sol.v, [6.0, 1.0, 0.0], atol=1e-7)
    # a free loop through an unavailable action is no loop a policy can take
    rb.check_undiscounted(mdp(0.0, allowed=[[1, 1], [0, 1], [1, 1]]))


def test_check_undiscounted_loops_across_states_and_the_shrinking_avoidance_set():
    # a free loop through two states (0 -> 1 -> 0, reward 0 on both actions) is refused,
    # naming its first action
    P = np.zeros((3, 1, 3))
    P[0, 0, 1] = P[1, 0, 0] = 1.0
    P[2, 0, 2] = 1.0
    P_exit = P.copy()
    P_exit[1, 0] = [0.0, 0.0, 1.0]       # without the loop it is fine
    with pytest.raises(ValueError, match=r"^gamma is 1 and action 0 in state 0 lies on a loop"):
        rb.check_undiscounted(_ssp(np.concatenate([P, P_exit], axis=1),
                                   [[0.0, 0.0], [0.0, -1.0], [0.0, 0.0]], [0, 0, 1]))
    # the same loop with a leak: from 0 the agent moves to 1 or to 3 (which can only
    # terminate), so no policy stays outside the terminal set forever (W shrinks to the
    # empty set in two rounds) and the loop's zero rewards are harmless
    P = np.zeros((4, 1, 4))
    P[0, 0, [1, 3]] = 0.5
    P[1, 0, 0] = 1.0
    P[3, 0, 2] = 1.0
    P[2, 0, 2] = 1.0
    m = _ssp(P, [[0.0], [0.0], [0.0], [-1.0]], [0, 0, 1, 0])
    rb.check_undiscounted(m)
    # v(3) = -1, v(0) = (v(1) + v(3)) / 2, v(1) = v(0): v = (-1, -1, 0, -1)
    np.testing.assert_allclose(rb.value_iteration(m).v, [-1.0, -1.0, 0.0, -1.0], atol=1e-7)


# ----------------------------------------------------------------- iteration: solvers' contracts
def _chain(gamma, p_stay=0.0, reward=1.0):
    """State 0 stays with probability p_stay (reward `reward`), else enters terminal state 1."""
    P = np.zeros((2, 1, 2))
    P[0, 0] = [p_stay, 1.0 - p_stay]
    P[1, 0, 1] = 1.0
    return rb.FiniteMDP(P, np.array([[reward], [0.0]]), gamma, terminal=[False, True])


def _masked_mdp(gamma=0.9):
    """A random 5-state MDP with a terminal state 4 and some unavailable actions."""
    base = rb.random_mdp(5, 3, gamma, seed=21)
    P, R = base.P.copy(), base.R.copy()
    P[4] = 0.0
    P[4, :, 4] = 1.0
    R[4] = 0.0
    allowed = np.ones((5, 3), bool)
    allowed[0, 0] = allowed[1, 2] = allowed[2, [0, 1]] = False
    return rb.FiniteMDP(P, R, gamma, terminal=[0, 0, 0, 0, 1], allowed=allowed)


def test_value_iteration_defaults_and_stopping_rule():
    # one self-loop state, gamma = 1/2, reward 1: from 0, T v = 1, change 1, threshold
    # tol (1 - gamma) / gamma = 1 met with equality: stop after one sweep, converged
    res = rb.value_iteration(rb.FiniteMDP(np.ones((1, 1, 1)), [[1.0]], 0.5), tol=1.0)
    assert res.num_iter == 1 and res.converged is True and res.v[0] == 1.0
    assert res.history is None                      # recorded only on request
    res = rb.value_iteration(rb.random_mdp(4, 2, 0.9, seed=1), max_iter=1)
    assert res.converged is False and res.history is None


def test_value_iteration_default_budget_is_100000_sweeps():
    # gamma = 1 and termination probability 1e-9 a step: every sweep adds about 1
    res = rb.value_iteration(_chain(1.0, p_stay=1.0 - 1e-9))
    assert res.num_iter == 100_000 and res.converged is False


def test_policy_iteration_validates_max_iter_and_v0():
    mdp = _masked_mdp()
    with pytest.raises(ValueError, match=r"^max_iter is 0, expected an integer >= 1$"):
        rb.policy_iteration(mdp, max_iter=0)
    with pytest.raises(ValueError, match=r"^v0 must have shape \(5,\), got \(2,\)"):
        rb.policy_iteration(mdp, v0=np.zeros(2))
    with pytest.raises(ValueError, match=r"^give pi0 or v0, not both$"):
        rb.policy_iteration(mdp, pi0=rb.uniform_policy(5, 3, mdp.allowed), v0=np.zeros(5))


def test_policy_iteration_starts_from_the_uniform_policy_over_available_actions():
    mdp = _masked_mdp()
    res = rb.policy_iteration(mdp, record=True)
    v_uniform = np.linalg.solve(   # (I - gamma P_pi) v = r_pi on the live states, by hand
        np.eye(4) - 0.9 * np.einsum("sa,sat->st", mdp.allowed[:4] / mdp.allowed[:4].sum(1, keepdims=True),
                                    mdp.P[:4, :, :4]),
        np.einsum("sa,sa->s", mdp.allowed[:4] / mdp.allowed[:4].sum(1, keepdims=True), mdp.R[:4]))
    np.testing.assert_allclose(res.history[0], np.r_[v_uniform, 0.0], atol=1e-12)
    assert rb.policy_iteration(mdp).history is None      # recorded only on request


def test_policy_iteration_treats_v0_as_zero_on_terminal_states():
    mdp = _masked_mdp()
    v0 = np.array([1.0, -2.0, 0.5, 3.0, 0.0])
    ref = rb.policy_iteration(mdp, v0=v0, record=True, max_iter=1)
    for t in (1.0, 50.0):          # a terminal value is 0 by definition, whatever v0 says
        res = rb.policy_iteration(mdp, v0=np.r_[v0[:4], t], record=True, max_iter=1)
        np.testing.assert_array_equal(res.history, ref.history)
        np.testing.assert_array_equal(res.residuals, ref.residuals)
    assert ref.history[0][4] == 0.0
    # residuals[0] = ||T v0 - v0||, T computed by hand over the available actions
    q = mdp.R + 0.9 * mdp.P @ v0
    tv = np.where(mdp.allowed, q, -np.inf).max(axis=1)
    tv[4] = 0.0
    assert ref.residuals[0] == pytest.approx(np.max(np.abs(tv - v0)), rel=1e-12)


def test_policy_iteration_budget_returns_an_unconverged_result():
    mdp = rb.random_mdp(6, 3, 0.95, seed=2, branching=2)
    full = rb.policy_iteration(mdp)
    assert full.converged is True and full.num_iter >= 2   # one step is not enough
    res = rb.policy_iteration(mdp, max_iter=1)
    assert isinstance(res, rb.SolveResult)
    assert res.converged is False and res.num_iter == 1


def test_policy_iteration_keeps_the_current_action_when_no_action_is_better():
    # every reward 0: every action is exactly as good as any other, so a deterministic
    # pi0 is never replaced: stable at once, zero improvement steps
    mdp = rb.random_mdp(4, 3, 0.9, seed=2).with_rewards(np.zeros((4, 3)))
    for a in range(3):
        res = rb.policy_iteration(mdp, pi0=rb.deterministic_policy(np.full(4, a), 3))
        assert res.converged is True and res.num_iter == 0


def test_policy_iteration_default_budget_is_10000_steps(monkeypatch):
    # a greedy step that never settles (it alternates between two actions and reports
    # them strictly better than the current one) runs the default budget out
    import rlbook.dp.iteration as it
    calls = []

    def unsettled(q, allow, rtol):
        calls.append(None)
        best = q.max(axis=1) + 1.0
        return np.full(q.shape[0], len(calls) % 2), best, 0.0

    monkeypatch.setattr(it, "_greedy_parts", unsettled)
    res = rb.policy_iteration(rb.random_mdp(2, 2, 0.5, seed=0))
    assert res.num_iter == 10_000 and res.converged is False


# ----------------------------------------------------------------- mdp: policies
def test_uniform_policy_sizes_and_messages():
    np.testing.assert_array_equal(rb.uniform_policy(1, 2), [[0.5, 0.5]])   # one state is a size
    np.testing.assert_array_equal(rb.uniform_policy(2, 1), [[1.0], [1.0]])
    with pytest.raises(ValueError, match=r"^n_states is 0, expected an integer >= 1$"):
        rb.uniform_policy(0, 2)
    with pytest.raises(ValueError, match=r"^n_actions is 0, expected an integer >= 1$"):
        rb.uniform_policy(2, 0)
    with pytest.raises(TypeError, match=r"^n_actions must be an integer"):
        rb.uniform_policy(2, 1.5)


def test_uniform_policy_over_allowed_actions_and_mask_messages():
    pi = rb.uniform_policy(2, 3, allowed=[[1, 0, 1], [0, 1, 0]])
    np.testing.assert_array_equal(pi, [[0.5, 0.0, 0.5], [0.0, 1.0, 0.0]])
    with pytest.raises(ValueError, match=r"^allowed must have shape \(2, 3\), got \(3, 2\)$"):
        rb.uniform_policy(2, 3, allowed=np.ones((3, 2), bool))
    with pytest.raises(ValueError, match=r"^allowed\[0, 1\] is 2, expected a boolean$"):
        rb.uniform_policy(2, 3, allowed=[[1, 2, 1], [0, 1, 0]])
    with pytest.raises(ValueError, match=r"^allowed\[1, :\] is all False, expected at least one"):
        rb.uniform_policy(2, 3, allowed=[[1, 0, 1], [0, 0, 0]])


# ----------------------------------------------------------------- mdp: random_mdp
def test_random_mdp_sizes_messages_and_seed():
    m = rb.random_mdp(1, 1, seed=0)                 # the smallest MDP
    assert m.P.shape == (1, 1, 1) and m.gamma == 0.9   # default discount
    assert rb.random_mdp(3, 2, 0.5, seed=0, branching=1).P.max() == 1.0   # deterministic
    for args, kw, pattern in [
        ((0, 2), {}, r"^n_states is 0, expected an integer >= 1$"),
        ((2, 0), {}, r"^n_actions is 0, expected an integer >= 1$"),
        ((3, 2), {"branching": 0}, r"^branching is 0, expected an integer >= 1$"),
        ((3, 2), {"branching": 4}, r"^branching is 4, expected at most n_states = 3$"),
        ((3, 2), {"seed": -1}, r"^seed is -1, expected a non-negative int seed or a Generator$"),
    ]:
        with pytest.raises(ValueError, match=pattern):
            rb.random_mdp(*args, **kw)
    with pytest.raises(TypeError, match=r"^n_states must be an integer"):
        rb.random_mdp(2.0, 2)
    with pytest.raises(TypeError, match=r"^n_actions must be an integer"):
        rb.random_mdp(2, 2.0)
    with pytest.raises(TypeError, match=r"^branching must be an integer"):
        rb.random_mdp(3, 2, branching=2.0)
    with pytest.raises(TypeError, match=r"^seed must be a numpy.random.Generator or an int seed"):
        rb.random_mdp(3, 2, seed=1.5)
    assert rb.random_mdp(3, 2).P.shape == (3, 2, 3)   # seed=None: fresh randomness
    # a Generator is used as is: two MDPs from one stream differ, a seed repeats
    g = np.random.default_rng(4)
    assert not np.array_equal(rb.random_mdp(3, 2, seed=g).R, rb.random_mdp(3, 2, seed=g).R)
    np.testing.assert_array_equal(rb.random_mdp(3, 2, seed=np.random.default_rng(4)).R,
                                  rb.random_mdp(3, 2, seed=4).R)


@pytest.mark.parametrize("k", [1, 2, 5, 6])
def test_random_mdp_branching_is_the_exact_support_size(k):
    m = rb.random_mdp(6, 4, seed=k, branching=k)
    np.testing.assert_array_equal((m.P > 0).sum(axis=2), np.full((6, 4), k))
    np.testing.assert_allclose(m.P.sum(axis=2), 1.0, rtol=0, atol=1e-12)


def test_random_mdp_rewards_are_standard_normal_times_the_scale():
    base = rb.random_mdp(40, 25, seed=3)
    # 1000 standard normal draws: mean within 4 standard errors, sd within 0.1
    assert abs(base.R.mean()) < 4 / np.sqrt(1000)
    assert abs(base.R.std() - 1.0) < 0.1
    np.testing.assert_allclose(rb.random_mdp(40, 25, seed=3, reward_scale=3.0).R, 3.0 * base.R,
                               rtol=1e-15)
    # the dynamics do not depend on the reward scale
    np.testing.assert_array_equal(rb.random_mdp(40, 25, seed=3, reward_scale=3.0).P, base.P)
    # Dirichlet(1) over all S states: each P[s, a, s'] has mean 1 / S
    assert abs(base.P.mean() - 1 / 40) < 1e-12
    assert abs(base.P[:, :, 0].mean() - 1 / 40) < 4 * np.sqrt((39 / (40 ** 2 * 41)) / 1000)


# ----------------------------------------------------------------- mdp: FiniteMDP's contract
def _two_state_P():
    P = np.zeros((2, 2, 2))
    P[0, :, 1] = 1.0
    P[1, :, 1] = 1.0
    return P


@pytest.mark.parametrize("kwargs, msg", [
    (dict(P=np.zeros((0, 2, 0)), R=np.zeros((0, 2))),
     "P has shape (0, 2, 0), expected at least one state and one action"),
    (dict(P=np.ones((2, 1, 3)) / 3, R=np.zeros((2, 1))),
     "P has shape (2, 1, 3), expected (S, A, S) with the same S on axes 0 and 2"),
    (dict(P=_two_state_P(), R=None),
     "R is None; give the expected rewards R (S, A) or the reward law R_next (S, A, S)"),
    (dict(P=_two_state_P(), R=np.ones((2, 2)), R_next=np.full((2, 2, 2), 2.0)),
     "R[0, 0] is 1 but sum_s' P[0, 0, s'] R_next[0, 0, s'] is 2; expected R to be the mean "
     "of the reward law"),
    (dict(P=_two_state_P(), R=np.zeros((2, 2)), reward_std=[[0.0, 0.0], [-0.5, 0.0]]),
     "reward_std[1, 0] is -0.5, expected a standard deviation >= 0"),
    (dict(P=np.ones((2, 2, 2)) / 2, R=np.zeros((2, 2)), terminal=[False, True]),
     "P[1, 0, 1] is 0.5 but state 1 is terminal, expected 1 (a terminal state is absorbing)"),
    (dict(P=_two_state_P(), R=[[0.0, 0.0], [0.0, 3.0]], terminal=[False, True]),
     "R[1, 1] is 3 but state 1 is terminal, expected 0"),
    (dict(P=_two_state_P(), R=np.zeros((2, 2)), reward_std=[[0.0, 0.0], [0.5, 0.0]],
          terminal=[False, True]),
     "reward_std[1, 0] is 0.5 but state 1 is terminal, expected 0"),
    (dict(P=_two_state_P(), R=np.zeros((2, 2)), allowed=[[0, 0], [1, 1]]),
     "allowed[0, :] is all False, expected at least one available action in the "
     "non-terminal state 0"),
])
def test_finite_mdp_messages(kwargs, msg):
    kw = dict(kwargs)
    P, R = kw.pop("P"), kw.pop("R")
    terminal = kw.pop("terminal", None)
    with pytest.raises(ValueError, match="^" + re.escape(msg) + "$"):
        rb.FiniteMDP(P, R, 0.9, terminal, **kw)


def test_finite_mdp_tolerances_and_defaults():
    P = _two_state_P()
    # R may differ from the mean of R_next by round-off (1e-8 relative), not more
    R_next = np.full((2, 2, 2), 2.0)
    rb.FiniteMDP(P, np.full((2, 2), 2.0 + 1e-8), 0.9, R_next=R_next)
    with pytest.raises(ValueError, match=r"^R\[0, 0\] is 2\.000000035 but"):
        rb.FiniteMDP(P, np.full((2, 2), 2.0 + 3.5e-8), 0.9, R_next=R_next)   # > 1e-8 * (1 + 2)
    with pytest.raises(ValueError, match=r"^R_next must have shape \(2, 2, 2\), got \(2, 2\)$"):
        rb.FiniteMDP(P, None, 0.9, R_next=np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"^reward_std must have shape \(2, 2\), got \(2,\)$"):
        rb.FiniteMDP(P, np.zeros((2, 2)), 0.9, reward_std=np.zeros(2))
    # a terminal state's self-loop may miss 1 by round-off
    P2 = P.copy()
    P2[1, 0] = [1e-9, 1.0 - 1e-9]
    rb.FiniteMDP(P2, np.zeros((2, 2)), 0.9, [False, True])
    # a terminal state needs no available action
    m = rb.FiniteMDP(P, np.zeros((2, 2)), 0.9, [False, True], allowed=[[1, 0], [0, 0]])
    np.testing.assert_array_equal(m.n_allowed, [1, 0])
    # defaults: no terminal state, every action available, no noise, R_next = R
    m = rb.FiniteMDP(P, [[1.0, 2.0], [3.0, 4.0]], 0.9)
    assert m.terminal.dtype == bool and not m.terminal.any()
    assert m.allowed.dtype == bool and m.allowed.all()
    np.testing.assert_array_equal(m.reward_std, np.zeros((2, 2)))
    np.testing.assert_array_equal(m.R_next, np.broadcast_to(m.R[:, :, None], (2, 2, 2)))
    assert not m.has_reward_law
    # R from the law: R = sum_s' P R_next; terminal rows of the law carry no reward
    R_next = np.arange(8.0).reshape(2, 2, 2)
    m = rb.FiniteMDP(P, None, 0.9, R_next=R_next)
    np.testing.assert_array_equal(m.R, [[1.0, 3.0], [5.0, 7.0]])
    R_next = np.arange(8.0).reshape(2, 2, 2)
    R_next[1] = 0.0
    m = rb.FiniteMDP(P, None, 0.9, [False, True], R_next=R_next)
    np.testing.assert_array_equal(m.R, [[1.0, 3.0], [0.0, 0.0]])
    # without a reward law, a terminal state's law is its reward: 0
    mt = rb.FiniteMDP(P, [[1.0, 2.0], [0.0, 0.0]], 0.9, [False, True])
    np.testing.assert_array_equal(mt.R_next[1], np.zeros((2, 2)))
    assert not mt.has_reward_law
    # the arrays are read-only: an MDP cannot be changed behind the solvers' back
    for arr in (m.P, m.R, m.terminal, m.allowed, m.R_next, m.reward_std):
        assert not arr.flags.writeable


def test_step_and_index_messages():
    m = rb.FiniteMDP(_two_state_P(), np.zeros((2, 2)), 0.9)
    for call, msg in [
        (lambda: m.step(np.array([0.0]), np.array([0]), 0),
         "s must be an integer state/action index array, got dtype float64"),
        (lambda: m.step(np.array([0]), np.array([True]), 0),
         "a must be an integer state/action index array, got dtype bool"),
        (lambda: m.step(np.array([0, 1]), np.array([1, 2]), 0), "a[1] is 2, expected an index in [0, 1]"),
        (lambda: m.step(-1, 0, 0), "s[0] is -1, expected an index in [0, 1]"),
        (lambda: m.step(np.array([[0, 0], [0, 2]]), np.zeros((2, 2), int), 0),
         "s[1, 1] is 2, expected an index in [0, 1]"),
        (lambda: m.step(np.array([0, 1]), np.array([0, 1, 1]), 0),
         "s and a have shapes (2,) and (3,), expected the same shape"),
    ]:
        with pytest.raises(ValueError, match="^" + re.escape(msg) + "$"):
            call()
    # edges 0 and n - 1 are indices
    s2, r = m.step(np.array([0, 1]), np.array([0, 1]), 0)
    np.testing.assert_array_equal(s2, [1, 1])


def test_step_samples_next_states_with_the_model_probabilities():
    P = np.zeros((3, 1, 3))
    P[0, 0] = [0.2, 0.5, 0.3]
    P[1:, 0, 1:] = np.eye(2)
    m = rb.FiniteMDP(P, np.zeros((3, 1)), 0.9)
    n = 20_000
    s2, r = m.step(np.zeros(n, int), np.zeros(n, int), np.random.default_rng(0))
    freq = np.bincount(s2, minlength=3) / n
    se = np.sqrt(P[0, 0] * (1 - P[0, 0]) / n)
    assert (np.abs(freq - P[0, 0]) < 4 * se).all()
    assert s2.shape == (n,) and np.issubdtype(s2.dtype, np.integer)
    # a scalar pair gives scalar-shaped draws, and an int seed repeats them
    assert m.step(0, 0, 5)[0].shape == () and m.step(0, 0, 5)[0] == m.step(0, 0, 5)[0]


def test_check_mdp_policy_names_unavailable_actions():
    P = _two_state_P()
    m = rb.FiniteMDP(P, np.zeros((2, 2)), 0.9, [False, True], allowed=[[1, 0], [0, 0]])
    with pytest.raises(ValueError, match="^" + re.escape(
            "pi[0, 1] is 0.25 but action 1 is not available in state 0 (mdp.allowed), "
            "expected 0") + "$"):
        rb.check_mdp_policy(m, [[0.75, 0.25], [0.5, 0.5]])
    with pytest.raises(ValueError, match=r"^pi0\[0, 1\] is 0\.25 but action 1"):
        rb.check_mdp_policy(m, [[0.75, 0.25], [0.5, 0.5]], "pi0")
    # a terminal state may put probability anywhere: its value is 0 regardless
    np.testing.assert_array_equal(rb.check_mdp_policy(m, [[1.0, 0.0], [0.5, 0.5]]),
                                  [[1.0, 0.0], [0.5, 0.5]])
    with pytest.raises(TypeError, match=r"^mdp must be a FiniteMDP, got dict$"):
        rb.policy_matrices({}, np.ones((2, 2)) / 2)


# ----------------------------------------------------------------- bellman: the linear solves
@pytest.mark.parametrize("with_terminal", [False, True])
def test_linear_solves_against_the_explicit_inverse(with_terminal):
    # v_pi = (I - gamma P_pi)^-1 r_pi and eta^T = rho0^T (I - gamma P_pi)^-1 on the live
    # states (zero on terminal ones): one system, solved once as is, once transposed
    mdp = _masked_mdp(0.8) if with_terminal else rb.random_mdp(5, 3, 0.8, seed=21)
    pi = rb.uniform_policy(5, 3, mdp.allowed)
    P_pi = np.einsum("sa,sat->st", pi, mdp.P)
    r_pi = np.einsum("sa,sa->s", pi, mdp.R)
    live = ~mdp.terminal
    inv = np.linalg.inv(np.eye(live.sum()) - 0.8 * P_pi[np.ix_(live, live)])
    v = np.zeros(5)
    v[live] = inv @ r_pi[live]
    np.testing.assert_allclose(rb.evaluate_policy(mdp, pi), v, rtol=1e-12, atol=1e-12)
    rho0 = np.array([0.1, 0.2, 0.3, 0.4, 0.0])
    eta = np.zeros(5)
    eta[live] = rho0[live] @ inv
    np.testing.assert_allclose(rb.discounted_visitation(mdp, pi, rho0), eta, rtol=1e-12, atol=1e-12)
    # P_pi is not symmetric, so the transpose matters
    assert not np.allclose(inv, inv.T)


def test_check_undiscounted_ignores_actions_that_leave_the_avoidance_set():
    # state 0 can stay forever (action 0, reward -1), so it is in W; action 1 pays +1 and
    # returns to 0 with probability 1/2 but terminates otherwise: it leaves W, so its
    # self-edge is no loop a policy can repeat forever. v*(0) = 1 + v*(0) / 2 = 2.
    P = np.zeros((2, 2, 2))
    P[0, 0, 0] = 1.0
    P[0, 1] = [0.5, 0.5]
    P[1, :, 1] = 1.0
    m = _ssp(P, [[-1.0, 1.0], [0.0, 0.0]], [0, 1])
    rb.check_undiscounted(m)
    np.testing.assert_allclose(rb.value_iteration(m).v, [2.0, 0.0], atol=1e-7)


@pytest.mark.parametrize("row, total", [((0.5, 0.4), "0.9"), ((0.7, 0.7), "1.4")])
def test_finite_mdp_names_a_transition_row_that_does_not_sum_to_one(row, total):
    """The message says which row of P, its sum, and what the row is (a distribution
    p(.|s, a) over next states)."""
    P = np.zeros((2, 1, 2))
    P[0, 0] = row
    P[1, 0, 1] = 1.0
    msg = (rf"^P\[0, 0, :\] sums to {total}, expected 1 "
           r"\(row of a transition matrix p\(\.\|s, a\)\)$")
    with pytest.raises(ValueError, match=msg):
        rb.FiniteMDP(P, np.zeros((2, 1)), 0.9)


def test_value_iteration_undiscounted_stops_at_the_first_change_below_tol():
    """gamma = 1: the stopping threshold is tol itself (the contraction bound
    tol (1 - gamma) / gamma applies only for gamma < 1). A state that stays with
    probability 1/2 (reward -1) halves its change every sweep, so VI stops at the first
    sweep whose change is <= tol, with v(0) = -2 (1 - 2^-k) after k sweeps."""
    P = np.zeros((2, 1, 2))
    P[0, 0] = (0.5, 0.5)
    P[1, 0, 1] = 1.0
    mdp = rb.FiniteMDP(P, np.array([[-1.0], [0.0]]), 1.0, np.array([False, True]))
    tol = 1e-6
    res = rb.value_iteration(mdp, tol=tol)
    k = int(np.ceil(np.log2(1 / tol)))          # the first k with 2^-k <= tol
    r = np.asarray(res.residuals)
    assert res.converged and r[-1] <= tol < r[-2]
    np.testing.assert_allclose(r, 0.5 ** np.arange(r.size), rtol=0, atol=1e-15)
    assert r.size == k + 1
    np.testing.assert_allclose(res.v, [-2.0 * (1 - 0.5 ** r.size), 0.0], rtol=1e-14)


def test_value_iteration_first_sweep_changes_live_states_only():
    """From v0 = 0 the first change is max over live s of |max_a r(s, a)|: a terminal
    state's value is 0 from the start (and stays 0)."""
    P = np.zeros((3, 1, 3))
    P[0, 0, 1] = P[1, 0, 2] = P[2, 0, 2] = 1.0
    R = np.array([[0.1], [0.2], [0.0]])
    res = rb.value_iteration(rb.FiniteMDP(P, R, 0.9, np.array([False, False, True])))
    assert res.residuals[0] == pytest.approx(0.2, abs=1e-15)
    assert res.v[2] == 0.0


def test_value_iteration_names_v0_of_the_wrong_length():
    mdp = rb.random_mdp(3, 2, gamma=0.9, seed=0)
    with pytest.raises(ValueError, match=r"^v0 must have shape \(3,\), got \(4,\)$"):
        rb.value_iteration(mdp, v0=np.zeros(4))


def test_value_iteration_q_is_the_backup_also_at_unavailable_actions():
    """result.q is q_v = R + gamma P v at every (s, a), unavailable actions included (the
    -inf that masks them out of the maximum stays out of q)."""
    P = np.zeros((2, 2, 2))
    P[0, :, 1] = P[1, :, 1] = 1.0
    R = np.array([[1.0, 2.0], [0.0, 0.0]])
    allowed = np.array([[True, False], [True, True]])
    mdp = rb.FiniteMDP(P, R, 0.9, np.array([False, True]), allowed=allowed)
    res = rb.value_iteration(mdp)
    np.testing.assert_allclose(res.q, R + 0.9 * np.einsum("sat,t->sa", P, res.v))
    assert res.v[0] == pytest.approx(1.0)
