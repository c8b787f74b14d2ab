"""Tests written from mutmut's survivors in rlbook/max_entropy/ (issue 14).

Each test checks a formula against an independent route (a loop, a closed form, a
definition) or pins the start of an error message: the argument's name, the value
seen and what was expected (the package's validation contract).
"""
import math

import numpy as np
import pytest
import torch

import rlbook as rb
from rlbook.max_entropy.squashed import _diag_gaussian_log_prob


# ------------------------------------------------------- categorical projection
def _c51_loop(z, p, r, gamma, done):
    """Bellemare et al. (2017), algorithm 1: split each shifted atom between its two
    neighbours l = floor(b), u = ceil(b) of b = (Tz - z_0) / dz."""
    K, dz = len(z), z[1] - z[0]
    m = np.zeros(K)
    for j in range(K):
        tz = min(max(r + gamma * (1.0 - done) * z[j], z[0]), z[-1])
        b = (tz - z[0]) / dz
        lo, hi = math.floor(b), math.ceil(b)
        if lo == hi:
            m[lo] += p[j]
        else:
            m[lo] += p[j] * (hi - b)
            m[hi] += p[j] * (b - lo)
    return m


@pytest.mark.parametrize("K", [2, 3, 7])
def test_categorical_projection_matches_the_c51_loop_with_clipping_at_both_ends(K):
    rng = np.random.default_rng(K)
    z = np.linspace(-1.0, 2.0, K)
    p = rng.dirichlet(np.ones(K), size=5)
    r = np.array([-5.0, 5.0, 0.3, -0.4, 0.1])   # below z_0, above z_K-1, inside
    done = np.array([0.0, 0.0, 0.0, 1.0, 0.0])
    out = rb.categorical_projection(z, p, r, 0.8, done)
    want = np.array([_c51_loop(z, p[i], r[i], 0.8, done[i]) for i in range(5)])
    np.testing.assert_allclose(out, want, atol=1e-12)
    np.testing.assert_allclose(out[0], np.eye(K)[0], atol=1e-12)     # all mass clipped to z_0
    np.testing.assert_allclose(out[1], np.eye(K)[-1], atol=1e-12)    # all mass clipped to z_K-1


@pytest.mark.parametrize("z, pattern", [
    ([[0.0, 1.0]], r"^z must have 1 dimension\(s\), got shape \(1, 2\)"),
    ([0.0, np.nan, 2.0], r"^z\[1\] is nan, expected a finite number"),
    ([2.0, 1.0, 0.0], r"^z must be a uniform, increasing grid$"),   # uniform but decreasing
    ([1.0, 1.0, 1.0], r"^z must be a uniform, increasing grid$"),   # spacing 0
    ([0.0, 1.0, 2.0 + 1e-7], r"^z must be a uniform, increasing grid$"),  # relative 1e-7
    ([0.0, 1e-3, 2e-3 + 1e-9], r"^z must be a uniform, increasing grid$"),  # absolute 1e-9
    ([0.0], r"^z has 1 atoms, expected at least 2$"),
])
def test_categorical_projection_rejects_bad_grids(z, pattern):
    K = np.asarray(z).shape[-1]
    with pytest.raises(ValueError, match=pattern):
        rb.categorical_projection(z, np.ones(K) / K, 0.0, 0.9)


@pytest.mark.parametrize("kwargs, pattern", [
    (dict(p=[0.5, np.nan, 0.5]), r"^p\[1\] is nan, expected a finite number"),
    (dict(p=[0.5, -0.1, 0.6]), r"^p\[1\] is -0\.1, expected a non-negative probability"),
    (dict(p=[0.5, 0.3, 0.3]), r"^p sums to 1\.1, expected 1 \(a distribution over the support z\)$"),
    (dict(r=np.nan), r"^r is nan, expected a finite number"),
    (dict(terminated=np.nan), r"^terminated is nan, expected a finite number"),
])
def test_categorical_projection_errors_name_the_argument(kwargs, pattern):
    args = dict(z=[0.0, 1.0, 2.0], p=[0.2, 0.3, 0.5], r=0.0, gamma=0.9)
    args.update(kwargs)
    with pytest.raises(ValueError, match=pattern):
        rb.categorical_projection(**args)


# ------------------------------------------------------- soft values and policies
from scipy.special import logsumexp, softmax  # noqa: E402


@pytest.mark.parametrize("shape", [(4,), (2, 3, 4), (3, 1)])
def test_soft_value_and_boltzmann_policy_act_on_the_last_axis(shape):
    rng = np.random.default_rng(len(shape))
    q, alpha = 3.0 * rng.normal(size=shape), 0.7
    np.testing.assert_allclose(rb.soft_value(q, alpha), alpha * logsumexp(q / alpha, axis=-1),
                               rtol=1e-12)
    np.testing.assert_allclose(rb.boltzmann_policy(q, alpha), softmax(q / alpha, axis=-1),
                               rtol=1e-12)


@pytest.mark.parametrize("fn", ["soft_value", "boltzmann_policy"])
@pytest.mark.parametrize("q, pattern", [
    (np.zeros((2, 0)), r"^q must have actions on a non-empty last axis, got shape \(2, 0\)$"),
    (np.float64(1.0), r"^q must have actions on a non-empty last axis, got shape \(\)$"),
    ([0.0, np.nan], r"^q\[1\] is nan, expected a finite number"),
])
def test_soft_value_and_boltzmann_policy_errors_name_q(fn, q, pattern):
    with pytest.raises(ValueError, match=pattern):
        getattr(rb, fn)(q, 1.0)


def _soft_mdp():
    """States 0, 1 live, state 2 terminal; deterministic moves."""
    P = np.zeros((3, 2, 3))
    P[0, 0, 1] = P[0, 1, 2] = 1.0
    P[1, 0, 0] = P[1, 1, 2] = 1.0
    P[2, :, 2] = 1.0
    R = np.array([[1.0, -0.5], [0.3, 2.0], [0.0, 0.0]])
    return rb.FiniteMDP(P, R, 0.9, terminal=[False, False, True])


def test_soft_bellman_operator_names_v():
    with pytest.raises(ValueError, match=r"^v must have shape \(3,\), got \(2,\)"):
        rb.soft_bellman_operator(_soft_mdp(), np.zeros(2), 1.0)


def test_soft_policy_evaluation_with_a_terminal_state_against_a_linear_solve():
    # v = pi-weighted (R - alpha log pi) + gamma P_pi v on live states, v = 0 on the terminal
    mdp, alpha = _soft_mdp(), 0.5
    pi = np.array([[0.3, 0.7], [1.0, 0.0], [0.5, 0.5]])    # a zero probability too
    live = [0, 1]
    ent = np.array([-sum(p * np.log(p) for p in row if p > 0) for row in pi])
    r_pi = (pi * mdp.R).sum(1) + alpha * ent
    P_pi = np.einsum("sa,sat->st", pi, mdp.P)
    v = np.zeros(3)
    v[live] = np.linalg.solve(np.eye(2) - 0.9 * P_pi[np.ix_(live, live)], r_pi[live])
    got_v, got_q = rb.soft_policy_evaluation(mdp, pi, alpha)
    np.testing.assert_allclose(got_v, v, atol=1e-12)
    q = mdp.R + 0.9 * mdp.P @ v
    q[2] = 0.0
    np.testing.assert_allclose(got_q, q, atol=1e-12)
    with pytest.raises(ValueError, match=r"^pi must have shape \(3, 2\), got \(2, 2\)"):
        rb.soft_policy_evaluation(mdp, pi[:2], alpha)
    with pytest.raises(ValueError, match=r"^pi must have shape \(3, 2\), got \(3, 3\)"):
        rb.soft_policy_evaluation(mdp, np.full((3, 3), 1 / 3), alpha)


def _soft_vi_reference(mdp, alpha, tol):
    """Soft value iteration written out: the first n with ||v_n - v_{n-1}|| <= tol (1-g)/g."""
    g = mdp.gamma
    v = np.zeros(mdp.n_states)
    for n in range(1, 10_000):
        q = mdp.R + g * mdp.P @ v
        vn = np.where(mdp.terminal, 0.0, alpha * logsumexp(q / alpha, axis=1))
        if np.max(np.abs(vn - v)) <= tol * (1 - g) / g:
            return n, vn
        v = vn


@pytest.mark.parametrize("tol", [1e-1, 2e-2, 3e-3, 1e-4])
def test_soft_value_iteration_stops_at_the_first_sweep_meeting_the_rule(tol):
    mdp, alpha = _soft_mdp(), 0.5
    n, v = _soft_vi_reference(mdp, alpha, tol)
    res = rb.soft_value_iteration(mdp, alpha, tol=tol)
    assert res.converged is True and res.num_iter == n
    np.testing.assert_allclose(res.v, v, atol=1e-12)
    q = mdp.R + 0.9 * mdp.P @ res.v
    q[2] = 0.0                          # terminal rows of q are 0, not R + gamma P v
    np.testing.assert_allclose(res.q, q, atol=1e-12)
    np.testing.assert_allclose(res.policy, softmax(q / alpha, axis=1), atol=1e-12)


def test_soft_value_iteration_stopping_rule_edge_cases():
    # one state, one action, reward 1, gamma = 1/2, tol = 1: the first change is exactly
    # tol (1 - gamma) / gamma = 1, and equality stops
    P = np.ones((1, 1, 1))
    one = rb.FiniteMDP(P, np.ones((1, 1)), 0.5)
    res = rb.soft_value_iteration(one, 2.0, tol=1.0)
    assert res.num_iter == 1 and res.converged is True and res.v[0] == 1.0
    # gamma = 0: the first sweep is exact (v = soft max of R) and stops
    zero = rb.FiniteMDP(np.ones((1, 2, 1)), np.array([[1.0, 3.0]]), 0.0)
    res = rb.soft_value_iteration(zero, 0.5)
    assert res.num_iter == 1 and res.converged is True
    assert res.v[0] == pytest.approx(0.5 * logsumexp(np.array([1.0, 3.0]) / 0.5), rel=1e-14)
    # max_iter = 1 is a legal budget; not converged is False (not None)
    res = rb.soft_value_iteration(_soft_mdp(), 0.5, tol=1e-12, max_iter=1)
    assert res.num_iter == 1 and res.converged is False


def test_soft_value_iteration_default_budget_is_100000_sweeps():
    # gamma = 1 - 1e-9, one self-loop state paying 1: each sweep adds about 1
    slow = rb.FiniteMDP(np.ones((1, 1, 1)), np.ones((1, 1)), 1.0 - 1e-9)
    res = rb.soft_value_iteration(slow, 1.0)
    assert res.num_iter == 100_000 and res.converged is False


@pytest.mark.parametrize("kwargs, pattern", [
    (dict(tol=0.0), r"^tol is 0\.0, expected a finite number > 0"),
    (dict(max_iter=0), r"^max_iter is 0, expected an integer >= 1"),
])
def test_soft_value_iteration_errors_name_the_argument(kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        rb.soft_value_iteration(_soft_mdp(), 0.5, **kwargs)


# ------------------------------------------------------- soft Q-learning
def test_soft_q_learning_first_two_updates_on_a_deterministic_mdp():
    # deterministic moves: the sampled target is R + gamma * soft max of q at the
    # successor (0 at the terminal state); step sizes c_n = (n + 1)^-omega, c_0 = 1
    mdp, alpha, omega = _soft_mdp(), 0.5, 0.8
    nxt = mdp.P.argmax(axis=2)
    q0 = np.array([[0.4, -1.0], [2.0, 0.1], [5.0, 5.0]])   # terminal row is reset to 0

    def target(q):
        v = alpha * logsumexp(q / alpha, axis=1)
        v[2] = 0.0
        return mdp.R + 0.9 * v[nxt]

    q = q0.copy()
    q[2] = 0.0
    q1 = q + 1.0 * (target(q) - q)
    q1[2] = 0.0
    q2 = q1 + 2.0 ** -omega * (target(q1) - q1)
    q2[2] = 0.0
    res = rb.soft_q_learning(mdp, 2, alpha=alpha, rng=0, omega=omega, q0=q0)
    np.testing.assert_allclose(res.q, q2, atol=1e-12)
    v = alpha * logsumexp(q2 / alpha, axis=1)
    v[2] = 0.0
    np.testing.assert_allclose(res.v, v, atol=1e-12)
    np.testing.assert_allclose(res.policy, softmax(q2 / alpha, axis=1), atol=1e-12)
    assert res.num_iter == 2 and res.converged is True
    one = rb.soft_q_learning(mdp, 1, alpha=alpha, rng=0, omega=1, q0=q0)   # omega = 1 allowed
    np.testing.assert_allclose(one.q, q1, atol=1e-12)


def test_soft_q_learning_is_reproducible_from_its_seed():
    mdp = rb.random_mdp(4, 2, gamma=0.8, seed=1)
    a = rb.soft_q_learning(mdp, 5, alpha=0.3, rng=7)
    b = rb.soft_q_learning(mdp, 5, alpha=0.3, rng=7)
    np.testing.assert_array_equal(a.q, b.q)


@pytest.mark.parametrize("kwargs, pattern", [
    (dict(n_iter=0), r"^n_iter is 0, expected an integer >= 1"),
    (dict(omega=True), r"^omega is True, expected a step-size exponent in \(0\.5, 1\]"),
    (dict(omega=0.5), r"^omega is 0\.5, expected a step-size exponent in \(0\.5, 1\]"),
    (dict(omega=1.5), r"^omega is 1\.5, expected a step-size exponent in \(0\.5, 1\]"),
    (dict(q0=np.zeros((2, 2))), r"^q0 must have shape \(3, 2\), got \(2, 2\)"),
    (dict(q0=np.zeros(6)), r"^q0 must have shape \(3, 2\), got \(6,\)"),
    (dict(q0=np.full((3, 2), np.nan)), r"^q0\[0, 0\] is nan, expected a finite number"),
])
def test_soft_q_learning_errors_name_the_argument(kwargs, pattern):
    args = dict(n_iter=1, alpha=0.5, rng=0)
    args.update(kwargs)
    with pytest.raises(ValueError, match=pattern):
        rb.soft_q_learning(_soft_mdp(), **args)


# ------------------------------------------------------- squashed Gaussian
def _squashed_reference(u, mean, log_std, scale):
    """log N(u; mean, std) - sum log(c (1 - tanh(u)^2)), from scipy.stats."""
    from scipy.stats import norm
    u, mean, log_std = (np.asarray(x, dtype=np.float64) for x in (u, mean, log_std))
    scale = np.broadcast_to(np.asarray(scale, dtype=np.float64), u.shape)
    return (norm.logpdf(u, mean, np.exp(log_std)) - np.log(scale * (1 - np.tanh(u) ** 2))).sum(-1)


def test_log1m_tanh_sq_computes_in_double_precision():
    u = np.array([0.3, -2.0, 4.0], dtype=np.float32)
    out = rb.log1m_tanh_sq(u)
    assert out.dtype == np.float64
    u64 = u.astype(np.float64)
    np.testing.assert_allclose(out, np.log(1 - np.tanh(u64) ** 2), rtol=1e-12)


def test_squashed_log_prob_default_scale_is_one():
    u, mean, log_std = np.array([[0.4, -1.2]]), np.array([0.1, -0.5]), np.array([0.2, -0.3])
    np.testing.assert_allclose(rb.squashed_gaussian_log_prob(u, mean, log_std),
                               _squashed_reference(u, mean, log_std, 1.0), rtol=1e-12)


def test_squashed_log_prob_torch_with_per_dimension_scale():
    u = torch.tensor([[0.4, -1.2]], dtype=torch.float64)
    mean, log_std = torch.tensor([0.1, -0.5], dtype=torch.float64), torch.zeros(2, dtype=torch.float64)
    scale = np.array([1.0, 2.5])
    out = rb.squashed_gaussian_log_prob(u, mean, log_std, scale)
    np.testing.assert_allclose(out.numpy(), _squashed_reference(u.numpy(), mean.numpy(), log_std.numpy(),
                                                                scale), rtol=1e-12)


@pytest.mark.parametrize("scale", [0.0, -1.0])
def test_squashed_log_prob_torch_rejects_a_non_positive_scalar_scale(scale):
    z = torch.zeros(1, 2, dtype=torch.float64)
    with pytest.raises(ValueError, match=rf"^scale is {scale}, expected a finite positive half-width$"):
        rb.squashed_gaussian_log_prob(z, z, z, scale)


def test_squashed_log_prob_torch_keeps_the_dtype_and_sums_over_the_last_axis():
    g = torch.Generator().manual_seed(1)
    u, mean = torch.randn(2, 4, 3, generator=g), torch.randn(2, 4, 3, generator=g)
    log_std = 0.3 * torch.randn(2, 4, 3, generator=g)
    ref2 = _squashed_reference(u.numpy(), mean.numpy(), log_std.numpy(), 2.0)
    out = rb.squashed_gaussian_log_prob(u.double(), mean.double(), log_std.double(), 2.0)
    assert out.shape == (2, 4)
    np.testing.assert_allclose(out.numpy(), ref2, rtol=1e-12)
    scale = np.array([1.0, 2.5, 0.5])   # per-dimension half-widths, float64, with float32 inputs
    out32 = rb.squashed_gaussian_log_prob(u, mean, log_std, scale)
    assert out32.dtype == torch.float32
    np.testing.assert_allclose(out32.numpy(), _squashed_reference(u.numpy(), mean.numpy(),
                                                                  log_std.numpy(), scale), rtol=1e-5)


@pytest.mark.parametrize("scale, shown", [([1.0, 0.0], r"\[1\.0, 0\.0\]"), ([1.0, -2.0], r"\[1\.0, -2\.0\]"),
                                          ([np.inf, 1.0], r"\[inf, 1\.0\]")])
def test_squashed_log_prob_torch_rejects_non_positive_half_widths(scale, shown):
    z = torch.zeros(1, 2, dtype=torch.float64)
    with pytest.raises(ValueError, match=rf"^scale is {shown}, expected finite positive half-widths$"):
        rb.squashed_gaussian_log_prob(z, z, z, scale)


@pytest.mark.parametrize("torch_at", [0, 1, 2])
def test_squashed_log_prob_refuses_mixed_numpy_and_torch(torch_at):
    # NumPy in, NumPy out; torch in, torch out: a mix is a TypeError naming every argument
    args = [np.zeros(2), np.zeros(2), np.zeros(2)]
    args[torch_at] = torch.zeros(2)
    with pytest.raises(TypeError, match=r"all torch tensors or all NumPy arrays, got "
                                        r"u \w+, mean \w+, log_std \w+"):
        rb.squashed_gaussian_log_prob(*args)
    with pytest.raises(TypeError, match="u, mean and log_std must be"):
        _diag_gaussian_log_prob(*args)
    # all of one kind: the same number either way
    ref = rb.squashed_gaussian_log_prob(np.zeros(2), np.zeros(2), np.zeros(2))
    out = rb.squashed_gaussian_log_prob(torch.zeros(2), torch.zeros(2), torch.zeros(2))
    assert isinstance(out, torch.Tensor) and isinstance(ref, np.floating | np.ndarray)
    np.testing.assert_allclose(float(out), float(ref), rtol=1e-6)
