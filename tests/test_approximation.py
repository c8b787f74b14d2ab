"""Features and linear value function approximation (chapter C8)."""
import numpy as np
import pytest

import rlbook as rb


def _instance(seed, S=8, A=3, k=3, gamma=0.9):
    mdp = rb.random_mdp(S, A, gamma, seed=seed)
    rng = np.random.default_rng(seed)
    pi = rng.dirichlet(np.ones(A), size=S)
    Phi = rng.standard_normal((S, k))
    return mdp, pi, Phi


# ---------------------------------------------------------------- features
def test_one_hot_and_aggregation():
    assert np.array_equal(rb.one_hot_features(3), np.eye(3))
    Phi = rb.state_aggregation_features([0, 0, 1, 2, 2])
    assert Phi.shape == (5, 3) and np.array_equal(Phi.sum(1), np.ones(5))
    assert rb.state_aggregation_features([0, 1], n_groups=4).shape == (2, 4)


def test_bucket_features_cells():
    F = rb.bucket_features([[0.1, 0.1], [0.9, 0.1], [0.9, 0.9], [5.0, -5.0]], 0, 1, [2, 2])
    assert F.argmax(1).tolist() == [0, 2, 3, 2]  # row-major, outside points clipped


def test_polynomial_features_known_values():
    F = rb.polynomial_features([[2.0, 3.0]], 2)
    np.testing.assert_array_equal(F, [[1, 2, 3, 4, 6, 9]])
    assert rb.polynomial_features(np.zeros((4, 3)), 3).shape == (4, 20)  # C(6, 3)


def test_fourier_features():
    x = np.array([[0.25, 0.5]])
    F = rb.fourier_features(x, 1)  # c in {(0,0), (0,1), (1,0), (1,1)}
    np.testing.assert_allclose(F, [[1, np.cos(np.pi / 2), np.cos(np.pi / 4),
                                    np.cos(3 * np.pi / 4)]], atol=1e-12)


def test_tile_coding_properties():
    rng = np.random.default_rng(0)
    x = rng.random((200, 2))
    idx = rb.tile_indices(x, 0, 1, 8, 8)
    assert idx.shape == (200, 8) and idx.max() < 8 * 81 and idx.min() >= 0
    # tiling i owns the block [81 i, 81 (i + 1))
    assert np.all(idx // 81 == np.arange(8))
    F = rb.tile_features(x, 0, 1, 8, 8)
    assert np.array_equal(F.sum(1), np.full(200, 8.0))
    # generalisation: nearby points share most tiles, far points share none
    near = (rb.tile_indices(x + 0.01, 0, 1, 8, 8) == idx).mean()
    far = (rb.tile_indices((x + 0.5) % 1, 0, 1, 8, 8) == idx).mean()
    assert near > 0.7 and far < 0.05


def test_feature_errors():
    with pytest.raises(ValueError, match="n_states"):
        rb.one_hot_features(0)
    with pytest.raises(ValueError, match=r"groups\[1\] is -1"):
        rb.state_aggregation_features([0, -1])
    with pytest.raises(ValueError, match="groups must be"):
        rb.state_aggregation_features([0.5, 1.0])
    with pytest.raises(ValueError, match=r"high\[0\]"):
        rb.bucket_features([[0.5]], 1, 0, 2)
    with pytest.raises(ValueError, match="low and high must have shape"):
        rb.tile_indices([[0.5, 0.5]], [0, 0, 0], 1, 2, 2)
    with pytest.raises(ValueError, match=r"x\[0, 1\] is 1.5"):
        rb.fourier_features([[0.5, 1.5]], 2)
    with pytest.raises(ValueError, match=r"x must have shape \(N, n\)"):
        rb.polynomial_features(np.zeros((2, 2, 2)), 1)
    with pytest.raises(ValueError, match="degree"):
        rb.polynomial_features([[1.0]], -1)
    with pytest.raises(ValueError, match="n_tilings"):
        rb.tile_indices([[0.5]], 0, 1, 0, 4)


# --------------------------------------------------------- exact quantities
@pytest.mark.parametrize("seed", range(5))
def test_stationary_distribution_two_routes(seed):
    mdp, pi, _ = _instance(seed)
    d = rb.on_policy_distribution(mdp, pi)
    P_pi, _ = rb.policy_matrices(mdp, pi)
    np.testing.assert_allclose(d @ P_pi, d, atol=1e-12)
    np.testing.assert_allclose(d, rb.stationary_distribution(mdp, pi), atol=1e-10)


@pytest.mark.parametrize("seed", range(5))
def test_td_fixed_point_properties(seed):
    mdp, pi, Phi = _instance(seed)
    d = rb.on_policy_distribution(mdp, pi)
    A, b = rb.td_matrices(mdp, pi, Phi)
    assert np.linalg.eigvalsh((A + A.T) / 2).min() > 0  # positive definite on-policy
    w = rb.linear_td_fixed_point(mdp, pi, Phi)
    # Phi w is the projection of T_pi(Phi w): independent route through projection_weights
    P_pi, r_pi = rb.policy_matrices(mdp, pi)
    T_v = r_pi + mdp.gamma * P_pi @ (Phi @ w)
    np.testing.assert_allclose(rb.projection_weights(Phi, T_v, d), w, atol=1e-9)
    # Tsitsiklis-Van Roy bound
    v = rb.evaluate_policy(mdp, pi)
    best = rb.weighted_norm(Phi @ rb.projection_weights(Phi, v, d) - v, d)
    err = rb.weighted_norm(Phi @ w - v, d)
    assert best <= err + 1e-12 <= best / np.sqrt(1 - mdp.gamma ** 2) + 1e-9


def test_one_hot_reduces_to_tabular():
    mdp, pi, _ = _instance(3)
    v = rb.evaluate_policy(mdp, pi)
    np.testing.assert_allclose(rb.linear_td_fixed_point(mdp, pi, np.eye(8)), v, atol=1e-10)
    d = rb.on_policy_distribution(mdp, pi)
    np.testing.assert_allclose(rb.projection_weights(np.eye(8), v, d), v, atol=1e-10)


def test_baird_expected_update_diverges():
    B = rb.baird_counterexample()
    assert B.Phi.shape == (7, 8)
    A, _ = rb.td_matrices(B.mdp, B.target, B.Phi, np.full(7, 1 / 7))
    assert np.linalg.eigvals(A).real.min() < 0  # I - alpha A has spectral radius > 1
    # on-policy weighting for the same target policy: positive semidefinite
    d_pi = np.eye(7)[6]
    A_on, _ = rb.td_matrices(B.mdp, B.target, B.Phi, d_pi)
    assert np.linalg.eigvalsh((A_on + A_on.T) / 2).min() > -1e-12


def test_exact_errors():
    mdp, pi, Phi = _instance(0)
    with pytest.raises(ValueError, match=r"Phi must have shape \(S, k\) = \(8, k\)"):
        rb.linear_td_fixed_point(mdp, pi, Phi[:5])
    with pytest.raises(ValueError, match="rank"):
        rb.linear_td_fixed_point(mdp, pi, np.c_[Phi, Phi[:, :1]])
    m1 = rb.random_mdp(4, 2, 1.0, seed=0)
    with pytest.raises(ValueError, match="gamma is 1.0, expected gamma < 1"):
        rb.linear_td_fixed_point(m1, rb.uniform_policy(4, 2), np.eye(4))
    with pytest.raises(ValueError, match=r"d\[0, :\] sums|d sums"):
        rb.td_matrices(mdp, pi, Phi, d=np.full(8, 0.2))
    with pytest.raises(ValueError, match="rank"):
        rb.projection_weights(np.ones((3, 2)), np.zeros(3), np.full(3, 1 / 3))
    # reducible chain: two absorbing states
    P = np.zeros((3, 1, 3))
    P[0, 0, 0] = P[1, 0, 1] = 1
    P[2, 0, :2] = 0.5
    red = rb.FiniteMDP(P, np.zeros((3, 1)), 0.9)
    with pytest.raises(ValueError, match="no unique stationary"):
        rb.on_policy_distribution(red, np.ones((3, 1)))
    # off-policy weighting: one feature c with c^T D (c - gamma P_pi c) = 0 (a root of
    # a^2 + 1 = gamma (a + 1) for c = a e_0 + e_6 on Baird's problem)
    B = rb.baird_counterexample()
    g = B.mdp.gamma
    c = np.zeros((7, 1))
    c[0, 0], c[6, 0] = (g + np.sqrt(g * g - 4 * (1 - g))) / 2, 1.0
    with pytest.raises(ValueError, match="singular"):
        rb.linear_td_fixed_point(B.mdp, B.target, c, d=np.full(7, 1 / 7))


# -------------------------------------------------------------------- LSTD
def test_lstd_converges_to_td_fixed_point():
    mdp, pi, Phi = _instance(1, S=6, k=3)
    traj = rb.sample_trajectories(mdp, pi, 1, 60_000, np.random.default_rng(0))
    s = traj.states[0]
    res = rb.lstd(Phi, s[:-1], traj.rewards[0, :-1], s[1:], mdp.gamma)
    w = rb.linear_td_fixed_point(mdp, pi, Phi)
    A, b = rb.td_matrices(mdp, pi, Phi)
    assert np.linalg.norm(res.A - A) < 0.05 * np.linalg.norm(A)
    assert np.linalg.norm(res.w - w) < 0.05 * np.linalg.norm(w) + 0.05


def test_lstd_errors():
    Phi = np.eye(3)
    with pytest.raises(ValueError, match="singular"):
        rb.lstd(Phi, [0, 1, 0], [1.0, 0.0, 1.0], [1, 0, 1], 0.9)  # state 2 never seen
    # one transition 0 -> 1 with features making A_hat = [[1, -0.9*3], [0, 0]] + ... indefinite
    Phi2 = np.array([[1.0, 0.0], [0.0, 1.0], [3.0, 1.0]])
    with pytest.raises(ValueError, match="indefinite"):
        rb.lstd(Phi2, [0, 1], [0.0, 0.0], [2, 2], 0.9)
    res = rb.lstd(Phi2, [0, 1], [0.0, 0.0], [2, 2], 0.9, check_definite=False)
    assert np.all(np.isfinite(res.w))
    with pytest.raises(ValueError, match="gamma is 1"):
        rb.lstd(Phi, [0, 1, 2], [0, 0, 0], [1, 2, 0], 1.0)
    with pytest.raises(ValueError, match="same positive length"):
        rb.lstd(Phi, [0, 1], [0.0], [1, 2], 0.9)
    with pytest.raises(ValueError, match=r"states\[1\] is 3"):
        rb.lstd(Phi, [0, 3], [0.0, 0.0], [1, 2], 0.9)
    with pytest.raises(ValueError, match="ridge"):
        rb.lstd(Phi, [0, 1, 2], [0, 0, 0], [1, 2, 0], 0.9, ridge=-1.0)


# ---------------------------------------------------------------- learners
def test_semi_gradient_td_and_gradient_mc_limits():
    # an instance where the TD fixed point and the projection are far apart (gap ~6)
    mdp, pi, Phi = _instance(12, S=5, k=2, gamma=0.9)
    T = 40_000
    traj = rb.sample_trajectories(mdp, pi, 1, T + 200, np.random.default_rng(1))
    s, r = traj.states[0], traj.rewards[0]
    G = rb.discounted_returns(r, mdp.gamma)[:T]  # gamma^200 ~ 7e-10: truncation negligible
    alpha = lambda t: 0.1 / (1 + t / 2000)  # noqa: E731
    # Polyak averages of the iterates of the second half
    _, W_td = rb.semi_gradient_td0(Phi, s[:T], r[:T], s[1:T + 1], mdp.gamma, alpha,
                                   record_every=10)
    _, W_mc = rb.gradient_mc(Phi, s[:T], G, alpha, record_every=10)
    w_td, w_mc = W_td[len(W_td) // 2:].mean(0), W_mc[len(W_mc) // 2:].mean(0)
    d = rb.on_policy_distribution(mdp, pi)
    w_fix = rb.linear_td_fixed_point(mdp, pi, Phi)
    w_proj = rb.projection_weights(Phi, rb.evaluate_policy(mdp, pi), d)
    gap = np.linalg.norm(w_fix - w_proj)
    assert gap > 1
    # each learner is much closer to its own limit than to the other's
    assert np.linalg.norm(w_td - w_fix) < 0.25 * gap
    assert np.linalg.norm(w_mc - w_proj) < 0.25 * gap


def test_one_hot_td_is_tabular_td():
    rng = np.random.default_rng(0)
    s = rng.integers(0, 4, 50)
    s2 = rng.integers(0, 4, 50)
    r = rng.standard_normal(50)
    w = rb.semi_gradient_td0(np.eye(4), s, r, s2, 0.9, 0.1)
    v = np.zeros(4)
    for t in range(50):
        v[s[t]] += 0.1 * (r[t] + 0.9 * v[s2[t]] - v[s[t]])
    np.testing.assert_allclose(w, v, atol=1e-12)


def test_baird_semi_gradient_diverges_tdc_converges():
    B = rb.baird_counterexample()
    rng = np.random.default_rng(0)
    traj = rb.sample_trajectories(B.mdp, B.behaviour, 1, 1001, rng)
    s, a = traj.states[0], traj.actions[0]
    rho = B.target[s[:-1], a[:-1]] / B.behaviour[s[:-1], a[:-1]]
    r = np.zeros(1000)
    w_sg = rb.off_policy_td0(B.Phi, s[:-1], r, s[1:], 0.99, 0.01, rho=rho, w0=B.w0)
    assert np.abs(w_sg).max() > 20 * np.abs(B.w0).max()
    w, u = rb.tdc(B.Phi, s[:-1], r, s[1:], 0.99, 0.005, 0.05, rho=rho, w0=B.w0)
    d = np.full(7, 1 / 7)
    A, b = rb.td_matrices(B.mdp, B.target, B.Phi, d)
    C = B.Phi.T @ (B.Phi * d[:, None])
    pbe = lambda w: (b - A @ w) @ np.linalg.solve(C, b - A @ w)  # noqa: E731
    assert pbe(w) < 0.1 * pbe(B.w0)
    _, _, W = rb.tdc(B.Phi, s[:-1], r, s[1:], 0.99, 0.005, 0.05, rho=rho, w0=B.w0,
                     record_every=100)
    assert W.shape == (10, 8)


def test_linear_q_update_matches_loop():
    rng = np.random.default_rng(0)
    W = rng.standard_normal((3, 2, 10))
    F = np.array([[0, 4], [1, 5], [2, 9]])
    a = np.array([1, 0, 1])
    W2 = W.copy()
    rb.linear_q_update(W2, F, a, [1.0, 0.0, -1.0], None, [0.5, 0.2, 0.0], [0, 0, 1], 0.9, 0.1)
    for m in range(3):
        q = W[m, a[m], F[m]].sum()
        y = [1.0, 0.0, -1.0][m] + 0.9 * (1 - [0, 0, 1][m]) * [0.5, 0.2, 0.0][m]
        W[m, a[m], F[m]] += 0.1 * (y - q)
    np.testing.assert_allclose(W2, W, atol=1e-12)


def test_learner_errors():
    Phi = np.eye(3)
    with pytest.raises(ValueError, match="alpha"):
        rb.semi_gradient_td0(Phi, [0, 1], [0.0, 0.0], [1, 2], 0.9, -0.1)
    with pytest.raises(ValueError, match=r"alpha must be .* shape \(2,\)"):
        rb.gradient_mc(Phi, [0, 1], [0.0, 0.0], np.ones(3))
    with pytest.raises(ValueError, match="same positive length"):
        rb.gradient_mc(Phi, [0, 1], [0.0], 0.1)
    with pytest.raises(ValueError, match=r"rho\[0\]"):
        rb.off_policy_td0(Phi, [0], [0.0], [1], 0.9, 0.1, rho=[-1.0])
    with pytest.raises(ValueError, match="terminal must have shape"):
        rb.semi_gradient_td0(Phi, [0, 1], [0.0, 0.0], [1, 2], 0.9, 0.1, terminal=[0])
    with pytest.raises(ValueError, match=r"w0 must have shape \(3,\)"):
        rb.tdc(Phi, [0], [0.0], [1], 0.9, 0.1, 0.1, w0=np.zeros(2))
    with pytest.raises(ValueError, match="W must be"):
        rb.linear_q_update(np.zeros((2, 3)), [[0]], [0], [0], None, [0], [0], 0.9, 0.1)
    with pytest.raises(ValueError, match="actions must be"):
        rb.linear_q_update(np.zeros((1, 2, 3)), [[0]], [2], [0], None, [0], [0], 0.9, 0.1)
    with pytest.raises(ValueError, match=r"active must have shape"):
        rb.linear_q_update(np.zeros((1, 2, 3)), [0], [0], [0], None, [0], [0], 0.9, 0.1)
    with pytest.raises(ValueError, match=r"x must be|weighted|d must"):
        rb.weighted_norm([1.0, 2.0], [0.5])


def test_tile_coder_matches_and_validates():
    code, n = rb.tile_coder([-1.2, -0.07], [0.6, 0.07], 8, 8)
    assert n == 8 * 81
    x = np.random.default_rng(0).uniform([-1.2, -0.07], [0.6, 0.07], (50, 2))
    np.testing.assert_array_equal(code(x), rb.tile_indices(x, [-1.2, -0.07], [0.6, 0.07], 8, 8))
    with pytest.raises(ValueError, match=r"high\[1\]"):
        rb.tile_coder([0, 1], [1, 1], 4, 4)
    with pytest.raises(ValueError, match=r"n_tiles\[0\]"):
        rb.tile_coder(0, 1, 4, 0)
