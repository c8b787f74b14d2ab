"""Survivors of mutmut on rlbook/approximation/linear.py (C8).

Each test checks a contract (the docstring's equation, the documented argument
ranges, or the message naming the argument), not today's output.
"""
from __future__ import annotations

import numpy as np
import pytest

import rlbook as rb


# --- weighted_norm ---------------------------------------------------------------------


def test_weighted_norm_is_the_d_weighted_euclidean_norm():
    # ||x||_D = sqrt(sum_s d(s) x(s)^2), written out term by term
    x = np.array([3.0, -1.0, 0.0, 2.0])
    d = np.array([0.1, 0.2, 0.3, 0.4])
    want = (0.1 * 9.0 + 0.2 * 1.0 + 0.3 * 0.0 + 0.4 * 4.0) ** 0.5
    assert rb.weighted_norm(x, d) == pytest.approx(want, rel=1e-15)
    # homogeneity: ||c x||_D = |c| ||x||_D
    assert rb.weighted_norm(-2.5 * x, d) == pytest.approx(2.5 * want, rel=1e-15)


def test_weighted_norm_x_is_named_and_one_dimensional():
    d = np.array([0.5, 0.5])
    with pytest.raises(ValueError, match=r"^x\[1\] is nan, expected a finite number$"):
        rb.weighted_norm([1.0, np.nan], d)
    with pytest.raises(ValueError, match=r"^x must have 1 dimension\(s\), got shape \(2, 1\)$"):
        rb.weighted_norm(np.ones((2, 1)), d)
    with pytest.raises(ValueError, match=r"^x must have 1 dimension\(s\), got shape \(2, 2\)$"):
        rb.weighted_norm(np.ones((2, 2)), d)


# --- linear_q_update -------------------------------------------------------------------


def _args(N=2, A=3, k=4):
    W = np.zeros((N, A, k))
    active = np.tile(np.arange(2), (N, 1))
    return W, active, np.zeros(N, dtype=int), np.ones(N), None, np.ones(N), np.zeros(N)


def test_linear_q_update_W_message_shows_shape_or_type():
    _, F, a, r, nxt, y, d = _args(N=1)
    msg = r"^W must be a float ndarray of shape \(N, A, k\), got "
    with pytest.raises(ValueError, match=msg + r"\(2, 3\)$"):
        rb.linear_q_update(np.zeros((2, 3)), F, a, r, nxt, y, d, 0.9, 0.1)
    with pytest.raises(ValueError, match=msg + r"list$"):
        rb.linear_q_update([[[0.0]]], F, a, r, nxt, y, d, 0.9, 0.1)


def test_linear_q_update_actions_shape_and_range():
    W, F, a, r, nxt, y, d = _args(N=2, A=3)
    msg = r"^actions must be 2 integers in \[0, 2\], got "
    with pytest.raises(ValueError, match=msg):
        rb.linear_q_update(W, F, np.array([0, 1, 2]), r, nxt, y, d, 0.9, 0.1)  # 3 actions
    with pytest.raises(ValueError, match=msg):
        rb.linear_q_update(W, F, np.array([[0], [1]]), r, nxt, y, d, 0.9, 0.1)  # (2, 1)
    with pytest.raises(ValueError, match=msg):
        rb.linear_q_update(W, F, np.array([-1, 0]), r, nxt, y, d, 0.9, 0.1)
    with pytest.raises(ValueError, match=msg):
        rb.linear_q_update(W, F, np.array([0, 3]), r, nxt, y, d, 0.9, 0.1)
    # A - 1 itself is a valid action
    W2, _ = rb.linear_q_update(W, F, np.array([2, 2]), r, nxt, y, d, 0.9, 0.1)
    assert W2[:, 2].any() and not W2[:, :2].any()


def test_linear_q_update_gamma_range_is_closed_unit_interval():
    W, F, a, r, nxt, y, d = _args(N=2)
    with pytest.raises(ValueError,
                       match=r"^gamma is 1.5, expected a discount factor in \[0, 1\]$"):
        rb.linear_q_update(W, F, a, r, nxt, y, d, 1.5, 0.1)
    with pytest.raises(ValueError,
                       match=r"^gamma is -0.1, expected a discount factor in \[0, 1\]$"):
        rb.linear_q_update(W, F, a, r, nxt, y, d, -0.1, 0.1)
    # both ends are valid: delta = r + gamma * y - q with q = 0
    r = np.array([1.0, -2.0])
    y = np.array([0.5, 4.0])
    for gamma in (0.0, 1.0):
        W = np.zeros((2, 3, 4))
        _, delta = rb.linear_q_update(W, F, a, r, nxt, y, np.zeros(2), gamma, 0.1)
        np.testing.assert_allclose(delta, r + gamma * y, rtol=0, atol=1e-15)


def test_linear_q_update_does_not_bootstrap_from_terminal_samples():
    # (1 - d_m) y_m: a terminated sample's target is r_m alone
    rng = np.random.default_rng(3)
    N, A, k = 3, 2, 5
    W = rng.standard_normal((N, A, k))
    F = np.array([[0, 3], [1, 4], [2, 2]])
    a = np.array([1, 0, 1])
    r = np.array([1.0, -0.5, 2.0])
    y = np.array([10.0, 20.0, 30.0])
    term = np.array([True, False, True])
    q = np.array([W[m, a[m], F[m]].sum() for m in range(N)])
    _, delta = rb.linear_q_update(W.copy(), F, a, r, None, y, term, 0.9, 0.1)
    np.testing.assert_allclose(delta, [r[0] - q[0], r[1] + 0.9 * y[1] - q[1], r[2] - q[2]],
                               rtol=0, atol=1e-12)


# --- the shared argument checks (through the public learners) ---------------------------


def test_trajectory_arguments_are_named():
    Phi = np.eye(3)
    with pytest.raises(ValueError, match=r"^Phi\[0, 1\] is nan, expected a finite number$"):
        rb.semi_gradient_td0([[1.0, np.nan]], [0], [0.0], [0], 0.9, 0.1)
    with pytest.raises(ValueError, match=r"^Phi must have shape \(S, k\), got \(3,\)$"):
        rb.semi_gradient_td0(np.ones(3), [0], [0.0], [0], 0.9, 0.1)
    msg = r"^states must be a 1-D integer array of states, got dtype float64 and shape \(2,\)$"
    with pytest.raises(ValueError, match=msg):
        rb.semi_gradient_td0(Phi, [0.0, 1.0], [0.0, 0.0], [1, 2], 0.9, 0.1)
    msg = r"^next_states must be a 1-D integer array of states, got dtype int64 and shape \(1, 2\)$"
    with pytest.raises(ValueError, match=msg):
        rb.semi_gradient_td0(Phi, [0, 1], [0.0, 0.0], np.array([[1, 2]]), 0.9, 0.1)
    with pytest.raises(ValueError, match=r"^next_states\[1\] is 3, expected a state in \[0, 2\]$"):
        rb.semi_gradient_td0(Phi, [0, 1], [0.0, 0.0], [1, 3], 0.9, 0.1)
    with pytest.raises(ValueError, match=r"^states\[0\] is -1, expected a state in \[0, 2\]$"):
        rb.semi_gradient_td0(Phi, [-1, 1], [0.0, 0.0], [1, 2], 0.9, 0.1)
    with pytest.raises(ValueError, match=r"^rewards\[1\] is inf, expected a finite number$"):
        rb.semi_gradient_td0(Phi, [0, 1], [0.0, np.inf], [1, 2], 0.9, 0.1)
    with pytest.raises(ValueError, match=r"^rewards must have 1 dimension\(s\), got shape \(2, 1\)$"):
        rb.semi_gradient_td0(Phi, [0, 1], [[0.0], [0.0]], [1, 2], 0.9, 0.1)
    msg = (r"^states, rewards and next_states must have the same positive length, "
           r"got 2, 1 and 2$")
    with pytest.raises(ValueError, match=msg):
        rb.semi_gradient_td0(Phi, [0, 1], [0.0], [1, 2], 0.9, 0.1)
    msg = (r"^states, rewards and next_states must have the same positive length, "
           r"got 2, 2 and 1$")
    with pytest.raises(ValueError, match=msg):
        rb.off_policy_td0(Phi, [0, 1], [0.0, 0.0], [1], 0.9, 0.1)
    msg = (r"^states, rewards and next_states must have the same positive length, "
           r"got 0, 0 and 0$")
    with pytest.raises(ValueError, match=msg):
        rb.tdc(Phi, np.array([], int), [], np.array([], int), 0.9, 0.1, 0.1)
    with pytest.raises(ValueError, match=r"^gamma is 1.5, expected a discount factor in \[0, 1\]$"):
        rb.semi_gradient_td0(Phi, [0], [0.0], [1], 1.5, 0.1)
    # the last state S - 1 is a valid state, and gamma = 1 is allowed for the learners
    w = rb.semi_gradient_td0(Phi, [2], [1.0], [2], 1.0, 0.5)
    np.testing.assert_allclose(w, [0.0, 0.0, 0.5])


def test_step_sizes_are_checked_entry_by_entry():
    Phi = np.eye(3)
    s, r, s2 = [0, 1], [0.0, 0.0], [1, 2]
    with pytest.raises(ValueError, match=r"^alpha is -0.1, expected a finite number > 0$"):
        rb.semi_gradient_td0(Phi, s, r, s2, 0.9, -0.1)
    with pytest.raises(ValueError, match=r"^alpha is 0.0, expected a finite number > 0$"):
        rb.semi_gradient_td0(Phi, s, r, s2, 0.9, 0.0)
    msg = r"^alpha must be a number, a callable or an array of shape \(2,\), got shape \(3,\)$"
    with pytest.raises(ValueError, match=msg):
        rb.semi_gradient_td0(Phi, s, r, s2, 0.9, [0.1, 0.1, 0.1])
    with pytest.raises(ValueError, match=r"^alpha\[1\] is 0.0, expected a step size > 0$"):
        rb.semi_gradient_td0(Phi, s, r, s2, 0.9, [0.1, 0.0])
    with pytest.raises(ValueError, match=r"^alpha\[1\] is nan, expected a finite number$"):
        rb.semi_gradient_td0(Phi, s, r, s2, 0.9, [0.1, np.nan])
    with pytest.raises(ValueError, match=r"^alpha\[0\] is -1.0, expected a step size > 0$"):
        rb.semi_gradient_td0(Phi, s, r, s2, 0.9, lambda t: -1.0 + 1.1 * t)
    with pytest.raises(ValueError, match=r"^alpha\[1\] is nan, expected a step size > 0$"):
        rb.semi_gradient_td0(Phi, s, r, s2, 0.9, lambda t: [0.5, np.nan][t])


def test_tdc_names_alpha_u_in_its_step_size_errors():
    # fixed bug: the second step size was reported as "alpha"
    Phi = np.eye(3)
    s, r, s2 = [0, 1], [0.0, 0.0], [1, 2]
    with pytest.raises(ValueError, match=r"^alpha_u is 0.0, expected a finite number > 0$"):
        rb.tdc(Phi, s, r, s2, 0.9, 0.1, 0.0)
    with pytest.raises(ValueError, match=r"^alpha_u\[1\] is -1.0, expected a step size > 0$"):
        rb.tdc(Phi, s, r, s2, 0.9, 0.1, [0.1, -1.0])
    msg = r"^alpha_u must be a number, a callable or an array of shape \(2,\), got shape \(1,\)$"
    with pytest.raises(ValueError, match=msg):
        rb.tdc(Phi, s, r, s2, 0.9, 0.1, [0.1])


def test_step_size_forms_agree():
    # a constant, an array and a callable giving the same numbers give the same weights
    rng = np.random.default_rng(5)
    Phi = rng.standard_normal((4, 2))
    s, s2 = rng.integers(0, 4, 30), rng.integers(0, 4, 30)
    r = rng.standard_normal(30)
    a = 0.05 + 0.1 * rng.random(30)
    w_arr = rb.semi_gradient_td0(Phi, s, r, s2, 0.8, a)
    w_fun = rb.semi_gradient_td0(Phi, s, r, s2, 0.8, lambda t: a[t])
    np.testing.assert_array_equal(w_arr, w_fun)
    np.testing.assert_array_equal(rb.semi_gradient_td0(Phi, s, r, s2, 0.8, 0.1),
                                  rb.semi_gradient_td0(Phi, s, r, s2, 0.8, np.full(30, 0.1)))


def test_w0_is_named_used_and_not_modified():
    Phi = np.eye(3)
    with pytest.raises(ValueError, match=r"^w0 must have shape \(3,\), got \(2,\)$"):
        rb.gradient_mc(Phi, [0], [1.0], 0.1, w0=np.zeros(2))
    with pytest.raises(ValueError, match=r"^w0\[1\] is nan, expected a finite number$"):
        rb.semi_gradient_td0(Phi, [0], [1.0], [1], 0.9, 0.1, w0=[0.0, np.nan, 0.0])
    w0 = np.array([1.0, 2.0, 3.0])
    for w in (rb.gradient_mc(Phi, [0], [1.0], 0.5, w0=w0),
              rb.semi_gradient_td0(Phi, [0], [1.0], [1], 0.5, 0.5, w0=w0),
              rb.off_policy_td0(Phi, [0], [1.0], [1], 0.5, 0.5, w0=w0),
              rb.tdc(Phi, [0], [1.0], [1], 0.5, 0.5, 0.5, w0=w0)[0]):
        assert w[1] == 2.0 and w[2] == 3.0  # untouched coordinates keep w0
    np.testing.assert_array_equal(w0, [1.0, 2.0, 3.0])  # the caller's array is unchanged


def test_rho_is_named_shaped_and_non_negative():
    Phi = np.eye(3)
    s, r, s2 = [0, 1], [0.0, 0.0], [1, 2]
    with pytest.raises(ValueError, match=r"^rho must have shape \(2,\), got \(3,\)$"):
        rb.off_policy_td0(Phi, s, r, s2, 0.9, 0.1, rho=[1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match=r"^rho\[1\] is nan, expected a finite number$"):
        rb.tdc(Phi, s, r, s2, 0.9, 0.1, 0.1, rho=[1.0, np.nan])
    with pytest.raises(ValueError, match=r"^rho\[1\] is -0.5, expected an importance ratio >= 0$"):
        rb.off_policy_td0(Phi, s, r, s2, 0.9, 0.1, rho=[1.0, -0.5])
    # rho = 0 (an action the target never takes) is valid and freezes the update
    w = rb.off_policy_td0(Phi, [0], [1.0], [1], 0.9, 0.5, rho=[0.0])
    np.testing.assert_array_equal(w, np.zeros(3))


# --- the learners, one step at a time against their update equations -------------------


def _data(seed=0, S=5, k=3, T=40):
    rng = np.random.default_rng(seed)
    Phi = rng.standard_normal((S, k))
    s, s2 = rng.integers(0, S, T), rng.integers(0, S, T)
    r = rng.standard_normal(T)
    a = 0.02 + 0.05 * rng.random(T)
    return Phi, s, r, s2, a, rng


def test_gradient_mc_is_sgd_on_the_squared_return_error():
    Phi, s, r, _, a, rng = _data(1)
    G = 3.0 * r
    w0 = rng.standard_normal(3)
    w, W = rb.gradient_mc(Phi, s, G, a, w0=w0, record_every=7)
    v, rec = w0.copy(), []
    for t in range(len(s)):
        x = Phi[s[t]]
        v = v + a[t] * (G[t] - x @ v) * x  # w + alpha (G - phi^T w) phi
        if (t + 1) % 7 == 0:
            rec.append(v.copy())
    np.testing.assert_allclose(w, v, rtol=1e-12, atol=1e-12)
    assert W.shape == (len(s) // 7, 3)
    np.testing.assert_allclose(W, np.array(rec), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(rb.gradient_mc(Phi, s, G, a, w0=w0), w, rtol=0, atol=0)


def test_gradient_mc_checks_its_arguments():
    Phi = np.eye(3)
    with pytest.raises(ValueError, match=r"^Phi must have shape \(S, k\), got \(3,\)$"):
        rb.gradient_mc(np.ones(3), [0], [1.0], 0.1)
    with pytest.raises(ValueError, match=r"^Phi\[1, 0\] is nan, expected a finite number$"):
        rb.gradient_mc([[1.0], [np.nan]], [0], [1.0], 0.1)
    with pytest.raises(ValueError, match=r"^states\[0\] is 3, expected a state in \[0, 2\]$"):
        rb.gradient_mc(Phi, [3], [1.0], 0.1)
    with pytest.raises(ValueError, match=r"^returns\[0\] is nan, expected a finite number$"):
        rb.gradient_mc(Phi, [0], [np.nan], 0.1)
    with pytest.raises(ValueError, match=r"^returns must have 1 dimension\(s\), got shape \(\)$"):
        rb.gradient_mc(Phi, [0], 1.0, 0.1)
    msg = r"^states and returns must have the same positive length, got 2 and 1$"
    with pytest.raises(ValueError, match=msg):
        rb.gradient_mc(Phi, [0, 1], [1.0], 0.1)
    msg = r"^states and returns must have the same positive length, got 0 and 0$"
    with pytest.raises(ValueError, match=msg):
        rb.gradient_mc(Phi, np.array([], int), [], 0.1)


def test_semi_gradient_td0_update_with_terminal_transitions():
    Phi, s, r, s2, a, rng = _data(2)
    term = rng.random(len(s)) < 0.3
    w0 = rng.standard_normal(3)
    w, W = rb.semi_gradient_td0(Phi, s, r, s2, 0.7, a, w0=w0, terminal=term, record_every=5)
    v, rec = w0.copy(), []
    for t in range(len(s)):
        x = Phi[s[t]]
        boot = 0.0 if term[t] else 0.7 * (Phi[s2[t]] @ v)  # no bootstrap after a terminal
        v = v + a[t] * (r[t] + boot - x @ v) * x
        if (t + 1) % 5 == 0:
            rec.append(v.copy())
    np.testing.assert_allclose(w, v, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(W, np.array(rec), rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match=r"^terminal must have shape \(40,\), got \(39,\)$"):
        rb.semi_gradient_td0(Phi, s, r, s2, 0.7, a, terminal=term[1:])


def test_off_policy_td0_scales_the_td_update_by_rho():
    Phi, s, r, s2, a, rng = _data(3)
    rho = rng.uniform(0.0, 2.0, len(s))
    w0 = rng.standard_normal(3)
    w, W = rb.off_policy_td0(Phi, s, r, s2, 0.9, a, rho=rho, w0=w0, record_every=10)
    v, rec = w0.copy(), []
    for t in range(len(s)):
        x = Phi[s[t]]
        v = v + a[t] * rho[t] * (r[t] + 0.9 * Phi[s2[t]] @ v - x @ v) * x
        if (t + 1) % 10 == 0:
            rec.append(v.copy())
    np.testing.assert_allclose(w, v, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(W, np.array(rec), rtol=1e-12, atol=1e-12)
    # rho = None is on-policy: semi-gradient TD(0) without terminals
    np.testing.assert_allclose(rb.off_policy_td0(Phi, s, r, s2, 0.9, a),
                               rb.semi_gradient_td0(Phi, s, r, s2, 0.9, a),
                               rtol=1e-12, atol=1e-12)


def test_tdc_updates_w_and_u_by_the_two_time_scale_equations():
    Phi, s, r, s2, a, rng = _data(4)
    b = 2.0 * a[::-1]
    rho = rng.uniform(0.0, 2.0, len(s))
    w0 = rng.standard_normal(3)
    w, u, W = rb.tdc(Phi, s, r, s2, 0.9, a, b, rho=rho, w0=w0, record_every=8)
    v, z, rec = w0.copy(), np.zeros(3), []
    for t in range(len(s)):
        x, x2 = Phi[s[t]], Phi[s2[t]]
        delta = r[t] + 0.9 * x2 @ v - x @ v
        v_new = v + a[t] * rho[t] * (delta * x - 0.9 * x2 * (x @ z))
        z = z + b[t] * rho[t] * (delta - x @ z) * x
        v = v_new
        if (t + 1) % 8 == 0:
            rec.append(v.copy())
    np.testing.assert_allclose(w, v, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(u, z, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(W, np.array(rec), rtol=1e-12, atol=1e-12)
    w2, u2 = rb.tdc(Phi, s, r, s2, 0.9, a, b, rho=rho, w0=w0)
    np.testing.assert_allclose(w2, w, rtol=0, atol=0)
    np.testing.assert_allclose(u2, u, rtol=0, atol=0)
    # rho = None means all ratios 1
    np.testing.assert_allclose(rb.tdc(Phi, s, r, s2, 0.9, a, b)[0],
                               rb.tdc(Phi, s, r, s2, 0.9, a, b, rho=np.ones(len(s)))[0],
                               rtol=0, atol=0)


# --- exact quantities ----------------------------------------------------------------


def _instance(seed, S=6, A=2, k=3, gamma=0.8):
    mdp = rb.random_mdp(S, A, gamma, seed=seed)
    rng = np.random.default_rng(seed)
    pi = rng.dirichlet(np.ones(A), size=S)
    Phi = rng.standard_normal((S, k))
    return mdp, pi, Phi, rng


def test_on_policy_distribution_balance_and_errors():
    mdp, pi, _, _ = _instance(0)
    d = rb.on_policy_distribution(mdp, pi)
    P_pi, _ = rb.policy_matrices(mdp, pi)
    np.testing.assert_allclose(d @ P_pi, d, rtol=0, atol=1e-12)
    assert d.sum() == pytest.approx(1.0, abs=1e-14) and (d >= 0).all()
    # a transient state gets 0: state 0 always leaves to the closed class {1, 2}
    P = np.zeros((3, 1, 3))
    P[0, 0, 1] = 1.0
    P[1, 0, 2] = 1.0
    P[2, 0, 1] = 0.5
    P[2, 0, 2] = 0.5
    chain = rb.FiniteMDP(P, np.zeros((3, 1)), 0.9)
    d = rb.on_policy_distribution(chain, np.ones((3, 1)))
    np.testing.assert_allclose(d, [0.0, 1 / 3, 2 / 3], rtol=0, atol=1e-14)
    P2 = np.zeros((3, 1, 3))
    P2[0, 0, 0] = P2[1, 0, 1] = 1.0
    P2[2, 0, :2] = 0.5
    red = rb.FiniteMDP(P2, np.zeros((3, 1)), 0.9)
    msg = (r"^P_pi has no unique stationary distribution \(several closed classes\); "
           r"pass d explicitly$")
    with pytest.raises(ValueError, match=msg):
        rb.on_policy_distribution(red, np.ones((3, 1)))
    with pytest.raises(TypeError, match=r"^mdp must be a FiniteMDP, got dict$"):
        rb.on_policy_distribution({}, np.ones((3, 1)))


def test_projection_weights_solve_the_weighted_normal_equations():
    mdp, _, Phi, rng = _instance(1)
    v = rng.standard_normal(6)
    d = rng.dirichlet(np.ones(6))
    w = rb.projection_weights(Phi, v, d)
    D = np.diag(d)
    np.testing.assert_allclose(Phi.T @ D @ Phi @ w, Phi.T @ D @ v, rtol=0, atol=1e-12)
    # states with d = 0 do not count: changing v there changes nothing
    d0 = d.copy()
    d0[:2] = 0.0
    d0 /= d0.sum()
    v2 = v.copy()
    v2[:2] += 100.0
    np.testing.assert_allclose(rb.projection_weights(Phi, v2, d0),
                               rb.projection_weights(Phi, v, d0), rtol=0, atol=1e-10)


def test_projection_weights_errors_are_named():
    Phi = np.eye(3)
    d = np.full(3, 1 / 3)
    with pytest.raises(ValueError, match=r"^v must have 1 dimension\(s\), got shape \(3, 1\)$"):
        rb.projection_weights(Phi, np.zeros((3, 1)), d)
    with pytest.raises(ValueError, match=r"^v\[2\] is nan, expected a finite number$"):
        rb.projection_weights(Phi, [0.0, 0.0, np.nan], d)
    msg = (r"^Phi must have shape \(S, k\) = \(3, k\), one row of features per state, "
           r"got \(2, 3\)$")
    with pytest.raises(ValueError, match=msg):
        rb.projection_weights(Phi[:2], np.zeros(3), d)
    msg = (r"^Phi must have shape \(S, k\) = \(3, k\), one row of features per state, "
           r"got \(3,\)$")
    with pytest.raises(ValueError, match=msg):
        rb.projection_weights(np.ones(3), np.zeros(3), d)
    with pytest.raises(ValueError, match=r"^Phi\[0, 0\] is nan, expected a finite number$"):
        rb.projection_weights(np.full((3, 1), np.nan), np.zeros(3), d)
    with pytest.raises(ValueError, match=r"^d must have shape \(3,\), got \(2,\)$"):
        rb.projection_weights(Phi, np.zeros(3), [0.5, 0.5])
    msg = (r"^D\^\(1/2\) Phi has rank 1 < 2 columns: the features are linearly dependent, "
           r"so the weights are not unique$")
    with pytest.raises(ValueError, match=msg):
        rb.projection_weights(np.ones((3, 2)), np.zeros(3), d)
    # full rank, but not on the support of d
    Phi2 = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    with pytest.raises(ValueError, match=msg):
        rb.projection_weights(Phi2, np.zeros(3), [0.5, 0.5, 0.0])


def test_td_matrices_are_the_documented_products():
    mdp, pi, Phi, rng = _instance(2)
    P_pi, r_pi = rb.policy_matrices(mdp, pi)
    for d in (rng.dirichlet(np.ones(6)), None):
        A, b = rb.td_matrices(mdp, pi, Phi, d)
        dd = rb.on_policy_distribution(mdp, pi) if d is None else d
        D = np.diag(dd)
        np.testing.assert_allclose(A, Phi.T @ D @ (np.eye(6) - mdp.gamma * P_pi) @ Phi,
                                   rtol=0, atol=1e-12)
        np.testing.assert_allclose(b, Phi.T @ D @ r_pi, rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match=r"^d must have shape \(6,\), got \(5,\)$"):
        rb.td_matrices(mdp, pi, Phi, np.full(5, 0.2))
    with pytest.raises(ValueError, match=r"^pi must have shape \(6, 2\), got \(6, 3\)$"):
        rb.td_matrices(mdp, np.full((6, 3), 1 / 3), Phi)


def test_linear_td_fixed_point_solves_A_w_b_for_any_d():
    mdp, pi, Phi, rng = _instance(3)
    d = rng.dirichlet(np.ones(6))
    A, b = rb.td_matrices(mdp, pi, Phi, d)
    w = rb.linear_td_fixed_point(mdp, pi, Phi, d)
    np.testing.assert_allclose(A @ w, b, rtol=0, atol=1e-12)
    # scale equivariance: features c Phi give weights w / c (the singularity test is
    # relative to the scale of Phi^T D Phi)
    for c in (1e-4, 1e4):
        np.testing.assert_allclose(rb.linear_td_fixed_point(mdp, pi, c * Phi, d), w / c,
                                   rtol=1e-8)


def test_linear_td_fixed_point_messages():
    mdp, pi, Phi, _ = _instance(4)
    m1 = rb.random_mdp(6, 2, 1.0, seed=0)
    msg = (r"^gamma is 1.0, expected gamma < 1: the TD fixed point is defined by a "
           r"contraction of modulus gamma$")
    with pytest.raises(ValueError, match=msg):
        rb.linear_td_fixed_point(m1, pi, Phi)
    msg = (r"^Phi restricted to the states with d > 0 has rank 1 < 2 columns: the features "
           r"are linearly dependent, so the weights are not unique$")
    Phi2 = np.zeros((6, 2))
    Phi2[:, 0] = 1.0
    Phi2[5, 1] = 1.0  # the second feature lives on state 5 only
    d = np.r_[np.full(5, 0.2), 0.0]
    with pytest.raises(ValueError, match=msg):
        rb.linear_td_fixed_point(mdp, pi, Phi2, d)
    msg = (r"^Phi must have shape \(S, k\) = \(6, k\), one row of features per state, "
           r"got \(5, 3\)$")
    with pytest.raises(ValueError, match=msg):
        rb.linear_td_fixed_point(mdp, pi, Phi[:5])
    with pytest.raises(ValueError, match=r"^d must have shape \(6,\), got \(5,\)$"):
        rb.linear_td_fixed_point(mdp, pi, Phi, np.full(5, 0.2))
    # Baird's problem with one feature c such that c^T D (c - gamma P_pi c) = 0
    B = rb.baird_counterexample()
    g = B.mdp.gamma
    c = np.zeros((7, 1))
    c[0, 0], c[6, 0] = (g + np.sqrt(g * g - 4 * (1 - g))) / 2, 1.0
    msg = (r"^A = Phi\^T D \(I - gamma P_pi\) Phi is singular \(smallest singular value "
           r"\S+, scale of Phi\^T D Phi \S+\); with this d the TD fixed point is not unique$")
    with pytest.raises(ValueError, match=msg):
        rb.linear_td_fixed_point(B.mdp, B.target, c, d=np.full(7, 1 / 7))


# --- LSTD ----------------------------------------------------------------------------


def test_lstd_is_the_sample_td_system():
    Phi, s, r, s2, _, _ = _data(6, S=4, k=2, T=60)
    res = rb.lstd(Phi, s, r, s2, 0.7)
    A = sum(np.outer(Phi[s[t]], Phi[s[t]] - 0.7 * Phi[s2[t]]) for t in range(60)) / 60
    b = sum(Phi[s[t]] * r[t] for t in range(60)) / 60
    np.testing.assert_allclose(res.A, A, rtol=0, atol=1e-12)
    np.testing.assert_allclose(res.b, b, rtol=0, atol=1e-12)
    np.testing.assert_allclose(res.A @ res.w, res.b, rtol=0, atol=1e-12)
    # ridge eps: (A_hat + eps I) w = b_hat, and A_hat itself is reported without eps
    rr = rb.lstd(Phi, s, r, s2, 0.7, ridge=0.3)
    np.testing.assert_allclose(rr.A, A, rtol=0, atol=1e-12)
    np.testing.assert_allclose((A + 0.3 * np.eye(2)) @ rr.w, b, rtol=0, atol=1e-12)
    # scale equivariance of the singularity test: c Phi gives w / c
    np.testing.assert_allclose(rb.lstd(1e-4 * Phi, s, r, s2, 0.7).w, 1e4 * res.w, rtol=1e-8)


def test_lstd_ridge_makes_an_unvisited_feature_harmless():
    # state 2 never visited: A_hat singular, but with a ridge its weight is 0
    res = rb.lstd(np.eye(3), [0, 1, 0], [1.0, 0.0, 1.0], [1, 0, 1], 0.5, ridge=0.1)
    assert res.w[2] == 0.0
    msg = (r"^A_hat is singular \(smallest singular value \S+, largest \S+\): some feature "
           r"direction was never visited; collect more data or set ridge > 0$")
    with pytest.raises(ValueError, match=msg):
        rb.lstd(np.eye(3), [0, 1, 0], [1.0, 0.0, 1.0], [1, 0, 1], 0.5)


def test_lstd_messages():
    Phi = np.eye(3)
    s, r, s2 = [0, 1, 2], [0.0, 0.0, 0.0], [1, 2, 0]
    msg = r"^gamma is 1.0, expected gamma < 1: LSTD estimates the discounted TD fixed point$"
    with pytest.raises(ValueError, match=msg):
        rb.lstd(Phi, s, r, s2, 1.0)
    with pytest.raises(ValueError, match=r"^gamma is 1.5, expected a discount factor in \[0, 1\]$"):
        rb.lstd(Phi, s, r, s2, 1.5)
    with pytest.raises(ValueError, match=r"^ridge is -1.0, expected a finite number >= 0$"):
        rb.lstd(Phi, s, r, s2, 0.9, ridge=-1.0)
    Phi2 = np.array([[1.0, 0.0], [0.0, 1.0], [3.0, 1.0]])
    msg = (r"^A_hat is indefinite \(its symmetric part has eigenvalue \S+ <= 0\), although "
           r"the on-policy A is positive definite: too few samples; collect more or set "
           r"ridge > 0 \(off-policy data: check_definite=False\)$")
    with pytest.raises(ValueError, match=msg):
        rb.lstd(Phi2, [0, 1], [0.0, 0.0], [2, 2], 0.9)
    res = rb.lstd(Phi2, [0, 1], [1.0, 2.0], [2, 2], 0.9, check_definite=False)
    np.testing.assert_allclose(res.A @ res.w, res.b, rtol=0, atol=1e-12)


# --- second round: survivors of the pre-emptive tests ---------------------------------


def test_step_size_callable_returning_none_is_a_value_error():
    # a callable that forgets to return gives NaN step sizes, refused by name and index
    with pytest.raises(ValueError, match=r"^alpha\[0\] is nan, expected a step size > 0$"):
        rb.semi_gradient_td0(np.eye(2), [0, 1], [0.0, 0.0], [1, 0], 0.9, lambda t: None)
    # integer step sizes from a callable are numbers like any other
    np.testing.assert_array_equal(
        rb.gradient_mc(np.eye(2), [0, 1], [2.0, 4.0], lambda t: 1),
        rb.gradient_mc(np.eye(2), [0, 1], [2.0, 4.0], 1.0))


def test_linear_td_fixed_point_default_d_is_on_policy():
    mdp, pi, Phi, _ = _instance(5)
    d = rb.on_policy_distribution(mdp, pi)
    np.testing.assert_allclose(rb.linear_td_fixed_point(mdp, pi, Phi),
                               rb.linear_td_fixed_point(mdp, pi, Phi, d), rtol=1e-12)


def test_policy_is_checked_before_d():
    # a wrong pi is reported as such, even when d is wrong too
    mdp, pi, Phi, _ = _instance(6)
    bad_d = np.full(5, 0.2)
    for bad_pi, got in ((np.full((5, 2), 0.5), r"\(5, 2\)"), (np.full((6, 3), 1 / 3), r"\(6, 3\)")):
        with pytest.raises(ValueError, match=r"^pi must have shape \(6, 2\), got " + got + "$"):
            rb.linear_td_fixed_point(mdp, bad_pi, Phi, bad_d)
        with pytest.raises(ValueError, match=r"^pi must have shape \(6, 2\), got " + got + "$"):
            rb.on_policy_distribution(mdp, bad_pi)
        with pytest.raises(ValueError, match=r"^pi must have shape \(6, 2\), got " + got + "$"):
            rb.td_matrices(mdp, bad_pi, Phi, np.full(6, 1 / 6))


def test_singular_td_system_message_reports_the_spectral_scale():
    # Baird's problem, uniform d, two features: c with c^T D (I - gamma P) c = 0 and e
    # with c^T D (I - gamma P) e = 0, so the first row of A vanishes
    B = rb.baird_counterexample()
    g = B.mdp.gamma
    P_pi, _ = rb.policy_matrices(B.mdp, B.target)
    d = np.full(7, 1 / 7)
    c = np.zeros(7)
    c[0], c[6] = (g + np.sqrt(g * g - 4 * (1 - g))) / 2, 1.0
    u = (np.eye(7) - g * P_pi).T @ (d * c)
    e0 = np.arange(1.0, 8.0) / 10  # comparable to c: two distinct Gram eigenvalues
    e = e0 - (u @ e0) / (u @ u) * u
    Phi = np.stack([c, e], axis=1)
    scale = np.linalg.norm(Phi.T @ np.diag(d) @ Phi, 2)  # spectral norm of Phi^T D Phi
    msg = (r"^A = Phi\^T D \(I - gamma P_pi\) Phi is singular \(smallest singular value "
           r"\S+, scale of Phi\^T D Phi " + f"{scale:.3g}" + r"\); with this d the TD "
           r"fixed point is not unique$")
    with pytest.raises(ValueError, match=msg):
        rb.linear_td_fixed_point(B.mdp, B.target, Phi, d)


def test_lstd_singular_message_reports_extreme_singular_values():
    # one feature, never non-zero on a visited state: A_hat = 0
    msg = (r"^A_hat is singular \(smallest singular value 0, largest 0\): some feature "
           r"direction was never visited; collect more data or set ridge > 0$")
    with pytest.raises(ValueError, match=msg):
        rb.lstd([[0.0], [1.0]], [0, 0], [1.0, 1.0], [0, 0], 0.5)
    # three one-hot features, state 2 never visited: A_hat = (1/3) [[2, -1], [-1/2, 1]] (+) 0
    A2 = np.array([[2.0, -1.0], [-0.5, 1.0]]) / 3
    top = np.linalg.svd(A2, compute_uv=False)[0]
    msg = (r"^A_hat is singular \(smallest singular value 0, largest " + f"{top:.3g}" +
           r"\): some feature direction was never visited; collect more data or set "
           r"ridge > 0$")
    with pytest.raises(ValueError, match=msg):
        rb.lstd(np.eye(3), [0, 1, 0], [1.0, 0.0, 1.0], [1, 0, 1], 0.5)
    # one feature that is visited: fine, and w solves the 1 x 1 system
    res = rb.lstd([[1.0], [2.0]], [0, 1], [1.0, 3.0], [1, 0], 0.5)
    A = ((1.0 * (1.0 - 0.5 * 2.0)) + 2.0 * (2.0 - 0.5 * 1.0)) / 2
    b = (1.0 * 1.0 + 2.0 * 3.0) / 2
    assert res.w[0] == pytest.approx(b / A, rel=1e-14)


def test_lstd_singularity_is_relative_to_the_largest_singular_value():
    Phi, s, r, s2, _, _ = _data(6, S=4, k=2, T=60)
    w = rb.lstd(Phi, s, r, s2, 0.7).w
    np.testing.assert_allclose(rb.lstd(1e-7 * Phi, s, r, s2, 0.7).w, 1e7 * w, rtol=1e-7)


def test_lstd_indefinite_message_reports_the_eigenvalue():
    Phi2 = np.array([[1.0, 0.0], [0.0, 1.0], [3.0, 1.0]])
    # A_hat = (1/2) [phi_0 (phi_0 - 0.9 phi_2)^T + phi_1 (phi_1 - 0.9 phi_2)^T]
    A = (np.outer(Phi2[0], Phi2[0] - 0.9 * Phi2[2])
         + np.outer(Phi2[1], Phi2[1] - 0.9 * Phi2[2])) / 2
    lam = np.linalg.eigvalsh((A + A.T) / 2)[0]
    assert lam < 0
    msg = (r"^A_hat is indefinite \(its symmetric part has eigenvalue " + f"{lam:.3g}" +
           r" <= 0\)")
    with pytest.raises(ValueError, match=msg):
        rb.lstd(Phi2, [0, 1], [0.0, 0.0], [2, 2], 0.9)


def test_lstd_refuses_a_symmetric_part_with_a_zero_eigenvalue():
    # A_hat = [[1/2, -1/2], [1/2, 0]]: invertible, symmetric part diag(1/2, 0) is only
    # semi-definite, which check_definite refuses (it asks for positive definite)
    Phi = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 2.0], [-2.0, 2.0]])
    msg = r"^A_hat is indefinite \(its symmetric part has eigenvalue 0 <= 0\)"
    with pytest.raises(ValueError, match=msg):
        rb.lstd(Phi, [0, 1], [1.0, 1.0], [2, 3], 0.5)
    res = rb.lstd(Phi, [0, 1], [1.0, 1.0], [2, 3], 0.5, check_definite=False)
    np.testing.assert_allclose(res.A, [[0.5, -0.5], [0.5, 0.0]], rtol=0, atol=1e-15)


def test_on_policy_distribution_is_a_valid_d_with_transient_states():
    # states 0 and 1 are transient; the linear solve leaves round-off of either sign
    # there, but the result is a distribution that the other functions accept as d
    rng = np.random.default_rng(1)
    P = rng.dirichlet(np.ones(5), size=(5, 1))
    P[2:, 0, :2] = 0.0
    P[2:, 0, :] /= P[2:, 0, :].sum(-1, keepdims=True)
    mdp = rb.FiniteMDP(P, np.zeros((5, 1)), 0.9)
    pi = np.ones((5, 1))
    d = rb.on_policy_distribution(mdp, pi)
    assert (d >= 0).all() and d[:2].max() < 1e-15
    assert d.sum() == pytest.approx(1.0, abs=1e-15)
    rb.td_matrices(mdp, pi, np.ones((5, 1)), d)  # d passes check_distribution
