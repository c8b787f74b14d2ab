"""The book's grid world and the published grid-world examples."""
import numpy as np
import pytest
import sympy as sp

import rlbook as rb


def test_dynamics_follow_zhao():
    g = rb.GridWorld()
    up, right, down, left, stay = range(5)
    assert g.transition(0, up) == (0, -1.0)          # off the grid: stay, r_boundary
    assert g.transition(0, left) == (0, -1.0)
    assert g.transition(0, right) == (1, 0.0)        # ordinary move
    assert g.transition(1, down) == (6, -1.0)        # (1, 1) is forbidden: entering costs r_forbidden
    assert g.transition(6, stay) == (6, -1.0)        # staying in a forbidden cell also costs
    t = g.target_state
    assert t == 17
    assert g.transition(16, right) == (17, 1.0)      # entering the target
    assert g.transition(17, stay) == (17, 1.0)       # staying in the target
    assert g.transition(12, stay) == (12, -1.0)      # (2, 2) is forbidden
    assert g.forbidden_mask.sum() == 6


def test_to_mdp_is_deterministic_and_matches_transition():
    g = rb.GridWorld(n_rows=3, n_cols=4, target=(2, 3), forbidden=((1, 1),), r_other=-0.1)
    mdp = g.to_mdp()
    assert mdp.P.shape == (12, 5, 12) and mdp.gamma == g.gamma
    for s in range(12):
        for a in range(5):
            s2, r = g.transition(s, a)
            assert mdp.P[s, a, s2] == 1.0 and mdp.R[s, a] == r
    assert rb.GridWorld(gamma=0.5).to_mdp().gamma == 0.5
    assert g.to_mdp(gamma=0.3).gamma == 0.3


def test_optimal_values_closed_forms():
    """Values derived by hand: the target is worth r_t / (1 - gamma) (stay forever);
    a neighbour enters it (r_t + gamma * 10); cells further away discount that."""
    g = rb.GridWorld()
    v = rb.value_iteration(g.to_mdp(), tol=1e-12).v.reshape(5, 5)
    gam = sp.Rational(9, 10)
    v_target = 1 / (1 - gam)
    assert float(v_target) == pytest.approx(v[3, 2], abs=1e-9)
    assert float(1 + gam * v_target) == pytest.approx(v[2, 2], abs=1e-9)      # forbidden neighbour
    assert float(1 + gam * v_target) == pytest.approx(v[4, 2], abs=1e-9)
    # (4, 1): step right to (4, 2) for 0, then enter the target
    assert float(gam * (1 + gam * v_target)) == pytest.approx(v[4, 1], abs=1e-9)
    # (3, 0): crossing the forbidden (3, 1) into the target beats going round
    assert float(-1 + gam * (1 + gam * v_target)) == pytest.approx(v[3, 0], abs=1e-9)
    assert float(gam * (-1 + gam * (1 + gam * v_target))) == pytest.approx(v[4, 0], abs=1e-9)


def test_terminal_target_variant():
    g = rb.GridWorld(terminal_target=True)
    mdp = g.to_mdp()
    assert mdp.terminal[g.target_state] and mdp.terminal.sum() == 1
    v = rb.value_iteration(mdp).v
    assert v[g.target_state] == 0.0
    assert v[g.state(2, 2)] == pytest.approx(1.0)  # enter the target once, then nothing


def test_gridworld_validation():
    with pytest.raises(ValueError, match=r"target is \(5, 0\), outside the 5 x 5 grid"):
        rb.GridWorld(target=(5, 0))
    with pytest.raises(ValueError, match=r"forbidden\[1\] is \(3, 2\), the same cell as the target"):
        rb.GridWorld(forbidden=((0, 0), (3, 2)))
    with pytest.raises(ValueError, match="expected a \\(row, col\\) pair"):
        rb.GridWorld(target=3)
    with pytest.raises(ValueError, match="r_target is nan"):
        rb.GridWorld(r_target=float("nan"))
    with pytest.raises(ValueError, match="n_rows is 0"):
        rb.GridWorld(n_rows=0)
    g = rb.GridWorld()
    with pytest.raises(ValueError, match=r"s is 25, expected a state in \[0, 24\]"):
        g.cell(25)
    with pytest.raises(ValueError, match=r"a is 5, expected an action in \[0, 4\]"):
        g.transition(0, 5)


def test_sutton_barto_small_gridworld_exact_values():
    """Example 4.1: the equiprobable values, solved exactly in rationals with SymPy."""
    mdp = rb.sutton_barto_small_gridworld()
    pi = rb.uniform_policy(16, 4)
    P_pi, r_pi = rb.policy_matrices(mdp, pi)
    live = [s for s in range(16) if not mdp.terminal[s]]
    M = sp.eye(14) - sp.Matrix([[sp.nsimplify(P_pi[i, j]) for j in live] for i in live])
    exact = M.LUsolve(sp.Matrix([sp.Integer(-1)] * 14))
    v = rb.evaluate_policy(mdp, pi)
    np.testing.assert_allclose(v[live], np.array(exact, dtype=float).ravel(), atol=1e-10)
    np.testing.assert_allclose(v.reshape(4, 4)[0], [0, -14, -20, -22], atol=1e-10)


def test_sutton_barto_gridworld_special_states():
    mdp = rb.sutton_barto_gridworld()
    assert np.all(mdp.R[1] == 10.0) and np.all(mdp.P[1, :, 21] == 1.0)
    assert np.all(mdp.R[3] == 5.0) and np.all(mdp.P[3, :, 13] == 1.0)
    v = rb.value_iteration(mdp, tol=1e-12).v
    # optimal behaviour from A: +10, then 4 steps back up from A' to A: v(A) = 10 / (1 - gamma^5)
    assert v[1] == pytest.approx(10 / (1 - 0.9**5), abs=1e-9)
