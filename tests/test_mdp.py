"""FiniteMDP construction, validation errors, policy matrices, Gymnasium import."""
import numpy as np
import pytest

import rlbook as rb


def small_P():
    P = np.zeros((2, 2, 2))
    P[0, 0] = [0.5, 0.5]
    P[0, 1] = [0.0, 1.0]
    P[1, 0] = [1.0, 0.0]
    P[1, 1] = [0.2, 0.8]
    return P


def test_valid_mdp_exposes_fields():
    mdp = rb.FiniteMDP(small_P(), np.ones((2, 2)), 0.9)
    assert mdp.n_states == 2 and mdp.n_actions == 2 and mdp.gamma == 0.9
    assert mdp.terminal.dtype == bool and not mdp.terminal.any()
    assert mdp.P_flat.shape == (4, 2)
    assert "n_states=2" in repr(mdp)
    with pytest.raises(ValueError):  # arrays are read-only: no silent mutation
        mdp.P[0, 0, 0] = 1.0


def test_row_not_summing_to_one_names_index_and_value():
    P = small_P()
    P[1, 0] = [0.97, 0.0]
    with pytest.raises(ValueError, match=r"P\[1, 0, :\] sums to 0.97, expected 1"):
        rb.FiniteMDP(P, np.zeros((2, 2)), 0.9)


def test_negative_probability():
    P = small_P()
    P[0, 0] = [1.5, -0.5]
    with pytest.raises(ValueError, match=r"P\[0, 0, 1\] is -0.5"):
        rb.FiniteMDP(P, np.zeros((2, 2)), 0.9)


def test_nan_in_P_and_R():
    P = small_P()
    P[0, 1, 0] = np.nan
    with pytest.raises(ValueError, match=r"P\[0, 1, 0\] is nan"):
        rb.FiniteMDP(P, np.zeros((2, 2)), 0.9)
    R = np.zeros((2, 2))
    R[1, 1] = np.inf
    with pytest.raises(ValueError, match=r"R\[1, 1\] is inf"):
        rb.FiniteMDP(small_P(), R, 0.9)


def test_shape_mismatches():
    with pytest.raises(ValueError, match="P must have 3 dimension"):
        rb.FiniteMDP(np.eye(2), np.zeros((2, 2)), 0.9)
    with pytest.raises(ValueError, match=r"expected \(S, A, S\)"):
        rb.FiniteMDP(np.full((2, 2, 3), 1 / 3), np.zeros((2, 2)), 0.9)
    with pytest.raises(ValueError, match=r"R must have shape \(2, 2\), got \(2, 3\)"):
        rb.FiniteMDP(small_P(), np.zeros((2, 3)), 0.9)
    with pytest.raises(ValueError, match="at least one state"):
        rb.FiniteMDP(np.zeros((0, 1, 0)), np.zeros((0, 1)), 0.9)


@pytest.mark.parametrize("gamma", [-0.1, 1.5, float("nan")])
def test_gamma_out_of_range(gamma):
    with pytest.raises(ValueError, match="gamma is"):
        rb.FiniteMDP(small_P(), np.zeros((2, 2)), gamma)


def test_gamma_wrong_type():
    with pytest.raises(TypeError, match="gamma must be a real number"):
        rb.FiniteMDP(small_P(), np.zeros((2, 2)), "0.9")


def test_non_numeric_P():
    with pytest.raises(TypeError, match="P must be an array of numbers"):
        rb.FiniteMDP([["a"]], np.zeros((1, 1)), 0.9)


def test_terminal_validation():
    P = small_P()
    with pytest.raises(ValueError, match=r"terminal must have shape \(2,\)"):
        rb.FiniteMDP(P, np.zeros((2, 2)), 0.9, terminal=[True])
    with pytest.raises(ValueError, match=r"terminal\[1\] is 2"):
        rb.FiniteMDP(P, np.zeros((2, 2)), 0.9, terminal=[0, 2])
    with pytest.raises(ValueError, match=r"P\[0, 0, 0\] is 0.5 but state 0 is terminal"):
        rb.FiniteMDP(P, np.zeros((2, 2)), 0.9, terminal=[True, False])
    P2 = small_P()
    P2[0] = [[1.0, 0.0], [1.0, 0.0]]
    R = np.zeros((2, 2))
    R[0, 1] = 3.0
    with pytest.raises(ValueError, match=r"R\[0, 1\] is 3 but state 0 is terminal"):
        rb.FiniteMDP(P2, R, 0.9, terminal=[True, False])
    ok = rb.FiniteMDP(P2, np.zeros((2, 2)), 0.9, terminal=[1, 0])
    assert ok.terminal.tolist() == [True, False]


def test_policy_matrices_known_answer():
    mdp = rb.FiniteMDP(small_P(), np.array([[1.0, 2.0], [3.0, 4.0]]), 0.9)
    pi = np.array([[0.25, 0.75], [1.0, 0.0]])
    P_pi, r_pi = rb.policy_matrices(mdp, pi)
    np.testing.assert_allclose(P_pi, [[0.125, 0.875], [1.0, 0.0]])
    np.testing.assert_allclose(r_pi, [1.75, 3.0])
    np.testing.assert_allclose(P_pi.sum(1), 1.0)


def test_policy_validation_errors():
    mdp = rb.FiniteMDP(small_P(), np.zeros((2, 2)), 0.9)
    with pytest.raises(ValueError, match=r"pi must have shape \(2, 2\), got \(2, 3\)"):
        rb.policy_matrices(mdp, np.full((2, 3), 1 / 3))
    with pytest.raises(ValueError, match=r"pi\[1, :\] sums to 0.9"):
        rb.policy_matrices(mdp, [[0.5, 0.5], [0.4, 0.5]])
    with pytest.raises(ValueError, match=r"pi\[0, 1\] is -0.1"):
        rb.policy_matrices(mdp, [[1.1, -0.1], [0.5, 0.5]])
    with pytest.raises(TypeError, match="mdp must be a FiniteMDP"):
        rb.policy_matrices("mdp", np.full((2, 2), 0.5))


def test_deterministic_and_uniform_policy():
    pi = rb.deterministic_policy(np.array([1, 0, 2]), 3)
    np.testing.assert_array_equal(pi, [[0, 1, 0], [1, 0, 0], [0, 0, 1]])
    np.testing.assert_allclose(rb.uniform_policy(2, 4), 0.25)
    with pytest.raises(ValueError, match=r"actions\[1\] is 5, expected an action in \[0, 2\]"):
        rb.deterministic_policy(np.array([0, 5]), 3)
    with pytest.raises(ValueError, match="1-D integer array"):
        rb.deterministic_policy(np.array([0.5]), 3)
    with pytest.raises(ValueError, match="n_states is 0"):
        rb.uniform_policy(0, 2)


def test_random_mdp_is_seeded_and_valid():
    a = rb.random_mdp(6, 3, 0.8, seed=1)
    b = rb.random_mdp(6, 3, 0.8, seed=1)
    np.testing.assert_array_equal(a.P, b.P)
    np.testing.assert_array_equal(a.R, b.R)
    sparse = rb.random_mdp(6, 3, seed=2, branching=2)
    assert ((sparse.P > 0).sum(-1) <= 2).all()
    with pytest.raises(ValueError, match="branching is 7, expected at most n_states = 6"):
        rb.random_mdp(6, 3, seed=2, branching=7)


def test_with_gamma_and_rewards():
    mdp = rb.random_mdp(4, 2, 0.9, seed=0)
    assert mdp.with_gamma(0.5).gamma == 0.5
    np.testing.assert_array_equal(mdp.with_rewards(2 * mdp.R).R, 2 * mdp.R)


def test_from_gymnasium_frozenlake():
    gym = pytest.importorskip("gymnasium")
    env = gym.make("FrozenLake-v1", is_slippery=True)
    mdp = rb.FiniteMDP.from_gymnasium(env, gamma=0.99)
    assert mdp.n_states == 16 and mdp.n_actions == 4
    # holes (5, 7, 11, 12) and the goal (15) are entered by done transitions
    assert set(np.flatnonzero(mdp.terminal)) == {5, 7, 11, 12, 15}
    # the only reward is reaching the goal: from 14 moving right succeeds w.p. 1/3
    assert mdp.R[14, 2] == pytest.approx(1 / 3)
    # cross-check the dense P against the table
    table = env.unwrapped.P
    for s in (0, 6, 14):
        for a in range(4):
            want = np.zeros(16)
            for p, s2, _, _ in table[s][a]:
                want[s2] += p
            np.testing.assert_allclose(mdp.P[s, a], want)


def test_from_gymnasium_cliffwalking_and_bad_env():
    gym = pytest.importorskip("gymnasium")
    env = gym.make("CliffWalking-v1")
    mdp = rb.FiniteMDP.from_gymnasium(env, gamma=1.0)
    assert mdp.n_states == 48 and mdp.terminal[47]
    v = rb.value_iteration(mdp).v
    assert v[36] == pytest.approx(-13.0)  # the shortest path along the cliff: 13 steps of -1
    with pytest.raises(ValueError, match="exposes no transition table"):
        rb.FiniteMDP.from_gymnasium(gym.make("CartPole-v1"), gamma=0.9)
