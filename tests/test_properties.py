"""Property-based tests (Hypothesis) of the core: Bellman operators, the three
dynamic-programming solvers, affine invariance of optimal policies, conjugate
gradients, GAE and the information measures against SciPy.

Each property is a theorem of the book, checked on random instances that
Hypothesis draws (and shrinks when one fails). Terminal states are included in
the random MDPs, because several defects hid exactly there.
"""
import numpy as np
import pytest
import scipy.special
import scipy.stats
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rlbook as rb

SETTINGS = settings(max_examples=40, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])


@st.composite
def mdps(draw, gamma_max=0.95, terminal=True):
    """A random FiniteMDP with 2-6 states, 1-4 actions, maybe some terminal states."""
    S = draw(st.integers(2, 6))
    A = draw(st.integers(1, 4))
    gamma = draw(st.floats(0.0, gamma_max))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    P = rng.dirichlet(np.ones(S), size=(S, A))
    R = rng.normal(size=(S, A)) * draw(st.sampled_from([1e-3, 1.0, 50.0]))
    term = np.zeros(S, dtype=bool)
    if terminal:
        n_term = draw(st.integers(0, S - 1))
        term[rng.choice(S, size=n_term, replace=False)] = True
    P[term] = 0.0
    for s in np.flatnonzero(term):
        P[s, :, s] = 1.0
    R[term] = 0.0
    return rb.FiniteMDP(P, R, gamma, term)


def _policy(mdp, seed):
    return np.random.default_rng(seed).dirichlet(np.ones(mdp.n_actions), size=mdp.n_states)


def _vec(mdp, seed, scale=10.0):
    v = np.random.default_rng(seed).normal(size=mdp.n_states) * scale
    return v


# ---------------------------------------------------------------- Bellman operators
@SETTINGS
@given(mdps(), st.integers(0, 10**6))
def test_expectation_operator_is_a_gamma_contraction(mdp, seed):
    pi = _policy(mdp, seed)
    u, w = _vec(mdp, seed + 1), _vec(mdp, seed + 2)
    Tu = rb.bellman_expectation_operator(mdp, pi, u)
    Tw = rb.bellman_expectation_operator(mdp, pi, w)
    # terminal states map to 0 whatever v is
    assert np.all(Tu[mdp.terminal] == 0) and np.all(Tw[mdp.terminal] == 0)
    # ||T u - T w||_inf <= gamma ||u - w||_inf
    d_in = np.max(np.abs(u - w))
    assert np.max(np.abs(Tu - Tw)) <= mdp.gamma * d_in + 1e-9 * (1 + d_in)


@SETTINGS
@given(mdps(), st.integers(0, 10**6))
def test_optimality_operator_is_a_monotone_gamma_contraction(mdp, seed):
    u = _vec(mdp, seed)
    w = u + np.abs(_vec(mdp, seed + 1))  # w >= u
    Tu = rb.bellman_optimality_operator(mdp, u)
    Tw = rb.bellman_optimality_operator(mdp, w)
    assert np.all(Tw >= Tu - 1e-9)  # monotone
    assert np.all(Tu[mdp.terminal] == 0)
    x = _vec(mdp, seed + 2)
    Tx = rb.bellman_optimality_operator(mdp, x)
    d_in = np.max(np.abs(u - x))
    assert np.max(np.abs(Tu - Tx)) <= mdp.gamma * d_in + 1e-9 * (1 + d_in)


@SETTINGS
@given(mdps(), st.integers(0, 10**6))
def test_q_from_v_matches_the_one_step_lookahead(mdp, seed):
    v = _vec(mdp, seed)
    q = rb.q_from_v(mdp, v)
    expected = mdp.R + mdp.gamma * np.einsum("sat,t->sa", mdp.P, v)
    expected[mdp.terminal] = 0.0
    np.testing.assert_allclose(q, expected, rtol=1e-10, atol=1e-10)


@SETTINGS
@given(mdps(), st.integers(0, 10**6))
def test_evaluate_policy_is_the_fixed_point_of_T_pi(mdp, seed):
    pi = _policy(mdp, seed)
    v = rb.evaluate_policy(mdp, pi)
    np.testing.assert_allclose(rb.bellman_expectation_operator(mdp, pi, v), v,
                               atol=1e-8 * (1 + np.abs(v).max()))


# ---------------------------------------------------------------- solvers agree
@SETTINGS
@given(mdps(gamma_max=0.9), st.integers(0, 10**6), st.integers(1, 5))
def test_vi_pi_and_truncated_pi_agree_from_any_v0(mdp, seed, n_eval):
    v0 = _vec(mdp, seed, scale=100.0)
    v0[mdp.terminal] = 0.0
    tol = 1e-10
    vi = rb.value_iteration(mdp, tol=tol, v0=v0)
    pi = rb.policy_iteration(mdp)
    tpi = rb.truncated_policy_iteration(mdp, n_eval, tol=tol, v0=v0)
    scale = 1 + np.abs(pi.v).max()
    np.testing.assert_allclose(vi.v, pi.v, atol=1e-7 * scale)
    np.testing.assert_allclose(tpi.v, pi.v, atol=1e-7 * scale)
    # each returned policy is optimal: its exact value is v*
    for res in (vi, pi, tpi):
        np.testing.assert_allclose(rb.evaluate_policy(mdp, res.policy), pi.v, atol=1e-6 * scale)


@SETTINGS
@given(mdps(gamma_max=0.9, terminal=False), st.floats(0.01, 100.0), st.floats(-50.0, 50.0))
def test_optimal_policy_invariant_under_positive_affine_rewards(mdp, a, b):
    # without terminal states, R -> a R + b changes every policy's value by the same
    # affine map, so the set of optimal policies (and its lowest-index member) stays
    base = rb.policy_iteration(mdp)
    moved = rb.policy_iteration(mdp.with_rewards(a * mdp.R + b))
    v_pi = rb.evaluate_policy(mdp, moved.policy)
    np.testing.assert_allclose(v_pi, base.v, atol=1e-8 * (1 + np.abs(base.v).max()))


# ---------------------------------------------------------------- conjugate gradients
@st.composite
def spd_systems(draw):
    n = draw(st.integers(1, 12))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    M = rng.normal(size=(n, n))
    A = M @ M.T + n * np.eye(n)
    b = rng.normal(size=n)
    return A, b


@SETTINGS
@given(spd_systems(), st.sampled_from([1e-6, 1e-3, 1.0, 1e3, -2.5]))
def test_conjugate_gradient_solves_and_scales(system, s):
    A, b = system
    x = rb.conjugate_gradient(lambda v: A @ v, b, tol=1e-12)
    np.testing.assert_allclose(x, np.linalg.solve(A, b), rtol=1e-6, atol=1e-9)
    xs = rb.conjugate_gradient(lambda v: A @ v, s * b, tol=1e-12)
    np.testing.assert_allclose(xs, s * x, rtol=1e-6, atol=1e-9 * abs(s))


# ---------------------------------------------------------------- GAE
@st.composite
def trajectories(draw):
    T = draw(st.integers(1, 30))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    r = rng.normal(size=T)
    v = rng.normal(size=T)
    nv = np.append(v[1:], rng.normal())
    d = (rng.random(T) < 0.1).astype(float)
    return r, v, nv, d


@SETTINGS
@given(trajectories(), st.floats(0.0, 1.0))
def test_gae_lambda_zero_is_the_td_error(traj, gamma):
    r, v, nv, d = traj
    adv = rb.gae(r, v, nv, d, gamma, 0.0)
    np.testing.assert_allclose(adv, r + gamma * (1 - d) * nv - v, atol=1e-12)


@SETTINGS
@given(trajectories(), st.floats(0.0, 1.0))
def test_gae_lambda_one_is_the_monte_carlo_advantage(traj, gamma):
    r, v, nv, d = traj
    T = len(r)
    adv = rb.gae(r, v, nv, d, gamma, 1.0)
    # the discounted return to the end of the episode (or of the data), bootstrapped
    # from next_values at the last step when it is not terminal, minus V(s_t)
    G = np.empty(T)
    acc = nv[-1] * (1 - d[-1])
    for t in range(T - 1, -1, -1):
        acc = r[t] + gamma * (1 - d[t]) * (acc if t < T - 1 else nv[-1])
        G[t] = acc
    np.testing.assert_allclose(adv, G - v, atol=1e-9)


@SETTINGS
@given(trajectories(), trajectories(), st.floats(0.0, 1.0), st.floats(0.0, 1.0))
def test_gae_split_at_a_truncation_changes_nothing(t1, t2, gamma, lam):
    # two episodes back to back, the first cut by a time limit after its last step:
    # computing them together (with the truncation flag) or separately is the same
    r1, v1, nv1, d1 = t1
    r2, v2, nv2, d2 = t2
    d1 = d1.copy()
    d1[-1] = 0.0
    trunc = np.zeros(len(r1) + len(r2))
    trunc[len(r1) - 1] = 1.0
    joint = rb.gae(np.r_[r1, r2], np.r_[v1, v2], np.r_[nv1, nv2], np.r_[d1, d2], gamma, lam,
                   truncations=trunc)
    sep = np.r_[rb.gae(r1, v1, nv1, d1, gamma, lam), rb.gae(r2, v2, nv2, d2, gamma, lam)]
    np.testing.assert_allclose(joint, sep, atol=1e-10)


# ---------------------------------------------------------------- information measures
@st.composite
def distributions(draw, zeros=True):
    n = draw(st.integers(2, 8))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.ones(n))
    if zeros and draw(st.booleans()):
        p[rng.random(n) < 0.3] = 0.0
        if p.sum() == 0:
            p[0] = 1.0
        p = p / p.sum()
    return p


@SETTINGS
@given(distributions(), distributions(zeros=False))
def test_information_measures_match_scipy(p, q):
    if len(q) != len(p):
        q = np.resize(q, len(p))
        q = q / q.sum()
    assert rb.entropy(p) == pytest.approx(scipy.stats.entropy(p), abs=1e-12)
    assert rb.kl_divergence(p, q) == pytest.approx(scipy.special.rel_entr(p, q).sum(), abs=1e-12)
    assert rb.cross_entropy(p, q) == pytest.approx(-(scipy.special.xlogy(p, q)).sum(), abs=1e-12)
    assert rb.total_variation(p, q) == pytest.approx(0.5 * np.abs(p - q).sum(), abs=1e-12)
    assert rb.kl_divergence(p, p) == pytest.approx(0.0, abs=1e-12)


@SETTINGS
@given(st.floats(-5, 5), st.floats(0.05, 5), st.floats(-5, 5), st.floats(0.05, 5))
def test_gaussian_measures_match_scipy(mu_p, s_p, mu_q, s_q):
    assert rb.gaussian_entropy(mu_p, s_p) == pytest.approx(
        scipy.stats.norm(mu_p, s_p).entropy(), rel=1e-10, abs=1e-12)
    # KL by quadrature against the closed form
    xs = np.linspace(mu_p - 12 * s_p, mu_p + 12 * s_p, 20001)
    lp = scipy.stats.norm(mu_p, s_p).logpdf(xs)
    lq = scipy.stats.norm(mu_q, s_q).logpdf(xs)
    kl_num = np.trapezoid(np.exp(lp) * (lp - lq), xs)
    assert rb.gaussian_kl(mu_p, s_p, mu_q, s_q) == pytest.approx(kl_num, rel=1e-5, abs=1e-7)
    lo = min(mu_p - 12 * s_p, mu_q - 12 * s_q)
    hi = max(mu_p + 12 * s_p, mu_q + 12 * s_q)
    ys = np.linspace(lo, hi, 200001)
    dens = scipy.stats.norm(mu_p, s_p).pdf(ys) - scipy.stats.norm(mu_q, s_q).pdf(ys)
    tv_num = 0.5 * np.trapezoid(np.abs(dens), ys)
    assert rb.gaussian_total_variation(mu_p, s_p, mu_q, s_q) == pytest.approx(tv_num, abs=1e-5)
