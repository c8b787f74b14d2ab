"""Tests written from mutmut's survivors in rlbook/trust_region/ (issue 14).

Each test checks a formula against an independent route (a loop, a closed form,
a definition) or pins the start of an error message: the argument's name, the
value seen and what was expected (the package's validation contract).
"""
import warnings

import numpy as np
import pytest
import torch

import rlbook as rb


# ------------------------------------------------------------------ PPO helpers
def test_kl_penalty_objective_is_mean_ratio_times_advantage_minus_beta_kl():
    rng = np.random.default_rng(0)
    ratio = rng.uniform(0.5, 1.5, size=7)
    adv = rng.normal(size=7) * 3.0  # not +-1: ratio / A and ratio * A differ
    kl, beta = 0.03, 1.7
    want = sum(r * a for r, a in zip(ratio, adv)) / 7 - beta * kl
    assert rb.kl_penalty_objective(ratio, adv, kl, beta) == pytest.approx(want, rel=1e-12)
    t = rb.kl_penalty_objective(torch.tensor(ratio), torch.tensor(adv), kl, beta)
    assert float(t) == pytest.approx(want, rel=1e-12)
    # beta = 0 is allowed: the plain importance-weighted surrogate
    assert rb.kl_penalty_objective(ratio, adv, kl, 0.0) == pytest.approx(want + beta * kl)


def test_kl_penalty_objective_refuses_mixed_kinds_and_names_arguments():
    r, a = np.array([1.0, 1.1]), np.array([0.5, -0.2])
    with pytest.raises(TypeError, match="both be numpy arrays or both torch"):
        rb.kl_penalty_objective(torch.tensor(r), a, 0.0, 1.0)
    with pytest.raises(TypeError, match="both be numpy arrays or both torch"):
        rb.kl_penalty_objective(r, torch.tensor(a), 0.0, 1.0)
    with pytest.raises(ValueError, match=r"^beta is -1\.0, expected a finite number >= 0"):
        rb.kl_penalty_objective(r, a, 0.0, -1.0)
    with pytest.raises(ValueError, match=r"^ratio\[1\] is nan"):
        rb.kl_penalty_objective([1.0, np.nan], a, 0.0, 1.0)
    with pytest.raises(ValueError, match=r"^advantages\[0\] is inf"):
        rb.kl_penalty_objective(r, [np.inf, 0.0], 0.0, 1.0)


def test_adaptive_kl_beta_boundaries_are_inclusive():
    # the rule changes beta only strictly outside [target / factor, target * factor]
    assert rb.adaptive_kl_beta(1.0, 0.5, 1.0, factor=2.0) == 1.0
    assert rb.adaptive_kl_beta(1.0, 2.0, 1.0, factor=2.0) == 1.0
    assert rb.adaptive_kl_beta(1.0, 0.0, 1.0) == 0.5  # kl = 0 is allowed
    assert rb.adaptive_kl_beta(3.0, 1.0, 1.0, factor=1.0) == 3.0  # factor 1: a point band


@pytest.mark.parametrize("kwargs, pattern", [
    (dict(beta=0.0), r"^beta is 0\.0, expected a finite number > 0"),
    (dict(kl=-0.5), r"^kl is -0\.5, expected a finite number >= 0"),
    (dict(kl_target=0.0), r"^kl_target is 0\.0, expected a finite number > 0"),
    (dict(factor=0.0), r"^factor is 0\.0, expected a finite number > 0"),
    (dict(factor=0.5), r"^factor is 0\.5, expected a number >= 1"),
    (dict(scale=0.0), r"^scale is 0\.0, expected a finite number > 0"),
    (dict(scale=1.0), r"^scale is 1\.0, expected a number > 1"),
])
def test_adaptive_kl_beta_errors_name_the_argument(kwargs, pattern):
    args = dict(beta=1.0, kl=0.01, kl_target=0.01)
    args.update(kwargs)
    with pytest.raises(ValueError, match=pattern):
        rb.adaptive_kl_beta(**args)


def test_lambda_returns_stop_at_a_truncation():
    # lam = 1: the lambda-return is the discounted reward sum up to the cut plus
    # gamma^k times the value of the observation at the cut (bootstrapped)
    g = 0.9
    r = np.array([1.0, 2.0, 3.0, 4.0])
    v = np.array([0.5, -0.5, 1.5, 2.5])
    nv = np.array([-0.5, 7.0, 2.5, 11.0])
    dones = np.zeros(4)
    trunc = np.array([0.0, 1.0, 0.0, 0.0])
    want = np.array([r[0] + g * r[1] + g**2 * nv[1], r[1] + g * nv[1],
                     r[2] + g * r[3] + g**2 * nv[3], r[3] + g * nv[3]])
    got = rb.lambda_returns(r, v, nv, dones, g, 1.0, truncations=trunc)
    np.testing.assert_allclose(got, want, rtol=1e-12)


# ----------------------------------------------------------------- mean KL
def test_mean_kl_skips_unvisited_states_where_kl_is_infinite():
    # state 2 is terminal: d = 0 there, and pi_new drops an action pi_old takes,
    # so KL is infinite in that state; it must not reach the average (0 * inf)
    P = np.zeros((3, 2, 3))
    P[0, 0, 1] = P[0, 1, 2] = 1.0
    P[1, :, 0] = 1.0
    P[2, :, 2] = 1.0
    R = np.array([[1.0, 0.0], [0.5, -1.0], [0.0, 0.0]])
    mdp = rb.FiniteMDP(P, R, 0.9, terminal=[False, False, True])
    rho0 = np.array([0.6, 0.4, 0.0])
    old = np.array([[0.5, 0.5], [0.3, 0.7], [0.5, 0.5]])
    new = np.array([[0.8, 0.2], [0.6, 0.4], [1.0, 0.0]])
    d = rb.normalized_visitation(mdp, old, rho0)
    assert d[2] == 0.0 and d[:2].min() > 0
    want = sum(d[s] * sum(old[s, a] * np.log(old[s, a] / new[s, a]) for a in range(2))
               for s in range(2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no 0 * inf warning escapes either
        got = rb.mean_kl(mdp, old, new, rho0)
    assert got == pytest.approx(want, rel=1e-12)


# ----------------------------------------------------------------- information measures
def test_cross_entropy_with_zero_probabilities_is_silent_and_exact():
    p = np.array([0.5, 0.5, 0.0])
    q = np.array([0.25, 0.75, 0.0])
    want = -(0.5 * np.log(0.25) + 0.5 * np.log(0.75))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # log 0 and 0 * log 0 raise no warning
        assert rb.cross_entropy(p, q) == pytest.approx(want, rel=1e-14)


def test_entropy_names_its_argument():
    with pytest.raises(ValueError, match=r"^p\[0\] is -0\.1, expected a non-negative probability"):
        rb.entropy([-0.1, 1.1])


# ----------------------------------------------------------------- policy-step validation
def _tr_mdp():
    rng = np.random.default_rng(5)
    return rb.FiniteMDP(rng.dirichlet(np.ones(3), size=(3, 2)), rng.normal(size=(3, 2)), 0.8)


@pytest.mark.parametrize("call, pattern", [
    (lambda: rb.kl_per_state(np.full(2, 0.5), np.full((1, 2), 0.5)), r"^pi_old must have 2 dimension"),
    (lambda: rb.kl_per_state(np.full((1, 2), 0.5), np.full(2, 0.5)), r"^pi_new must have 2 dimension"),
    (lambda: rb.kl_per_state(np.full(2, 0.5), np.full(2, 0.5)), r"^pi_old must have 2 dimension"),
    (lambda: rb.kl_per_state([[0.5, 0.6]], [[0.5, 0.5]]), r"^pi_old\[0, :\] sums to 1\.1"),
    (lambda: rb.kl_per_state([[0.5, 0.5]], [[0.5, 0.6]]), r"^pi_new\[0, :\] sums to 1\.1"),
    (lambda: rb.surrogate_objective(_tr_mdp(), np.full((3, 3), 1 / 3), np.full((3, 2), 0.5), np.ones(3) / 3),
     r"^pi_old must have shape \(3, 2\), got \(3, 3\)"),
    (lambda: rb.surrogate_objective(_tr_mdp(), np.full((3, 2), 0.5), np.full((3, 3), 1 / 3), np.ones(3) / 3),
     r"^pi_new must have shape \(3, 2\), got \(3, 3\)"),
    (lambda: rb.surrogate_objective(_tr_mdp(), np.full((3, 2), 0.5), np.full((4, 2), 0.5), np.ones(3) / 3),
     r"^pi_new must have shape \(3, 2\), got \(4, 2\)"),
    (lambda: rb.surrogate_objective(_tr_mdp(), np.full((3, 2), 0.5), np.full((3, 2), 0.5), np.ones(2) / 2),
     r"^rho0 must have shape \(3,\), got \(2,\)"),
    (lambda: rb.normalized_visitation(_tr_mdp(), np.full((3, 2), 0.5), np.ones(2) / 2),
     r"^rho0 must have shape \(3,\), got \(2,\)"),
    (lambda: rb.normalized_visitation(_tr_mdp(), np.full((3, 2), 0.5), np.ones(3)),
     r"^rho0 sums to 3, expected 1"),
])
def test_policy_step_errors_name_the_argument(call, pattern):
    with pytest.raises(ValueError, match=pattern):
        call()


def test_improvement_bound_terms_and_penalty_coefficients():
    mdp = _tr_mdp()
    rho0 = np.array([0.2, 0.3, 0.5])
    old = np.array([[0.5, 0.5], [0.2, 0.8], [0.6, 0.4]])
    new = np.array([[0.7, 0.3], [0.1, 0.9], [1.0, 0.0]])  # drops an action: max KL = inf
    b = rb.improvement_bound(mdp, old, new, rho0, C=0.0)
    assert b.eta_old == pytest.approx(rb.policy_objective(mdp, old, rho0), rel=1e-12)
    assert b.eta_new == pytest.approx(rb.policy_objective(mdp, new, rho0), rel=1e-12)
    assert b.max_kl == np.inf
    assert b.bound == b.surrogate  # C = 0: no penalty, not 0 * inf
    new2 = np.array([[0.7, 0.3], [0.1, 0.9], [0.9, 0.1]])
    b1 = rb.improvement_bound(mdp, old, new2, rho0, C=1.0)
    assert b1.max_kl > 0
    assert b1.bound == pytest.approx(b1.surrogate - b1.max_kl, rel=1e-12)


# ----------------------------------------------------------------- clipped surrogate
def test_clipped_surrogate_accepts_a_zero_ratio_and_returns_a_python_float():
    # ratio 0: the new policy gives the action probability 0, a legal ratio
    ratio, adv = np.array([0.0, 1.0, 1.5]), np.array([-2.0, 1.0, 3.0])
    kappa = 0.2
    want = np.mean([min(r * a, min(max(r, 1 - kappa), 1 + kappa) * a) for r, a in zip(ratio, adv)])
    out = rb.clipped_surrogate_objective(ratio, adv, kappa)
    assert type(out) is float  # not np.float64: its repr would leak into the chapters
    assert out == pytest.approx(want, rel=1e-14)


def test_clipped_surrogate_error_messages():
    with pytest.raises(ValueError, match=r"^ratio is empty$"):
        rb.clipped_surrogate_objective(np.array([]), np.array([]), 0.2)
    with pytest.raises(TypeError, match=r"got Tensor and ndarray$"):
        rb.clipped_surrogate_objective(torch.ones(2), np.ones(2), 0.2)
    with pytest.raises(TypeError, match=r"got ndarray and Tensor$"):
        rb.clipped_surrogate_objective(np.ones(2), torch.ones(2), 0.2)


# ----------------------------------------------------------------- natural gradient and TRPO step
def test_npg_undiscounted_uses_the_normalised_visit_counts():
    # gamma = 1: d = eta / sum(eta), so by Kakade's identity
    # F^+ grad J = sum(eta) * (A(s, a) - mean_b A(s, b)) on visited states
    mdp = rb.random_layered_mdp(3, 2, 3, gamma=1.0, seed=4)
    theta = np.random.default_rng(4).normal(size=(mdp.n_states, mdp.n_actions))
    rho0 = np.zeros(mdp.n_states)
    rho0[:2] = 0.5
    pi = rb.softmax_policy(theta)
    eta = rb.discounted_visitation(mdp, pi, rho0)
    A = rb.advantage(mdp, pi)
    want = eta.sum() * (A - A.mean(axis=1, keepdims=True)) * (eta > 0)[:, None]
    assert eta.sum() == pytest.approx(3.0)  # three decisions per episode
    np.testing.assert_allclose(rb.natural_policy_gradient(mdp, theta, rho0), want, atol=1e-8)


@pytest.mark.parametrize("offset", [-100.0, 100.0])
def test_trpo_step_measures_improvement_from_the_old_surrogate(offset):
    # a quadratic surrogate with a large value at x0: the improvement is L(x) - L(x0),
    # whatever L(x0) is; with F = I the full step is sqrt(2 delta / g^T g) g
    g = np.array([0.3, -0.4])
    L = lambda x: offset + g @ x - 0.5 * x @ x  # noqa: E731
    kl = lambda x: 0.25 * x @ x  # noqa: E731  (below the quadratic model: the full step fits)
    res = rb.trpo_step(np.zeros(2), g, lambda v: v, L, kl, delta=0.02)
    beta = np.sqrt(2 * 0.02 / (g @ g))
    assert res.accepted and res.step_fraction == 1.0
    np.testing.assert_allclose(res.x, beta * g, rtol=1e-10)
    assert res.actual_improvement == pytest.approx(L(beta * g) - offset, rel=1e-9)
    # a surrogate that only gets worse along g is never accepted, whatever its level
    worse = lambda x: offset - 10.0 * x @ x  # noqa: E731
    assert not rb.trpo_step(np.zeros(2), g, lambda v: v, worse, kl, delta=0.02).accepted


def test_ppo_value_clip_bounds_the_move_on_both_sides():
    c = 0.2
    old = [0.0, 0.0, 0.0, 1.0, 1.0]
    val = [0.5, -0.5, 0.1, 1.3, 0.6]   # moves +0.5, -0.5, +0.1, +0.3, -0.4
    ret = [1.0, -1.0, 2.0, 0.0, 3.0]
    want = []
    for v, o, r in zip(val, old, ret):
        vc = o + min(max(v - o, -c), c)
        want.append(max((v - r) ** 2, (vc - r) ** 2))
    t = lambda x: torch.tensor(x, dtype=torch.float64)  # noqa: E731
    z = torch.zeros(5, dtype=torch.float64)
    out = rb.ppo_losses(z, z, z, t(val), t(ret), z, 0.2, old_values=t(old), vf_clip=c)
    assert float(out.value_loss) == pytest.approx(sum(want) / 5, rel=1e-12)
    plain = rb.ppo_losses(z, z, z, t(val), t(ret), z, 0.2)
    assert float(plain.value_loss) == pytest.approx(np.mean((np.array(val) - ret) ** 2), rel=1e-12)


def test_trpo_step_result_fields_accepted_rejected_and_zero_gradient():
    g = np.array([0.3, -0.4])
    kl = lambda x: 0.25 * x @ x  # noqa: E731
    beta = np.sqrt(2 * 0.02 / (g @ g))
    ok = rb.trpo_step(np.zeros(2, dtype=int), g, lambda v: v, lambda x: g @ x - 0.5 * x @ x, kl, delta=0.02)
    assert ok.x.dtype == np.float64 and ok.beta == pytest.approx(beta)
    assert ok.expected_improvement == pytest.approx(g @ ok.step) and ok.kl == pytest.approx(kl(ok.step))
    assert isinstance(ok.cg_info, rb.CGInfo)
    bad = rb.trpo_step(np.zeros(2), g, lambda v: v, lambda x: -(x @ x), kl, delta=0.02)
    assert bad.accepted is False and bad.beta == pytest.approx(beta)
    np.testing.assert_array_equal(bad.x, np.zeros(2))
    np.testing.assert_array_equal(bad.step, np.zeros(2))
    np.testing.assert_allclose(bad.full_step, beta * g)
    assert (bad.expected_improvement, bad.actual_improvement, bad.kl, bad.step_fraction) == (0.0, 0.0, 0.0, 0.0)
    assert isinstance(bad.cg_info, rb.CGInfo)
    flat = rb.trpo_step(np.zeros(2), np.zeros(2), lambda v: v, lambda x: 0.0, kl, delta=0.02)
    assert flat.accepted is False and flat.beta == 0.0
    np.testing.assert_array_equal(flat.full_step, np.zeros(2))


def test_trpo_step_acceptance_boundaries():
    g = np.array([1.0, 0.0])
    full = np.sqrt(2 * 0.02)
    # a surrogate that never improves (improvement 0) is not accepted
    assert not rb.trpo_step(np.zeros(2), g, lambda v: v, lambda x: 5.0, lambda x: 0.0, 0.02).accepted
    # KL exactly delta is inside the trust region
    assert rb.trpo_step(np.zeros(2), g, lambda v: v, lambda x: x[0], lambda x: 0.02, 0.02).accepted
    # only the 11th fraction 0.5**10 improves: the default 10 backtracking steps do not reach it
    L = lambda x: x[0] if x[0] <= full * 0.5 ** 9.5 else -1.0  # noqa: E731
    assert not rb.trpo_step(np.zeros(2), g, lambda v: v, L, lambda x: 0.0, 0.02).accepted
    assert rb.trpo_step(np.zeros(2), g, lambda v: v, L, lambda x: 0.0, 0.02, backtrack_iters=11).accepted
    # one CG iteration and one backtracking step are allowed
    assert rb.trpo_step(np.zeros(2), g, lambda v: v, lambda x: x[0], lambda x: 0.0, 0.02, cg_iters=1,
                        backtrack_iters=1).accepted


@pytest.mark.parametrize("kwargs, pattern", [
    (dict(delta=0.0), r"^delta is 0\.0, expected a finite number > 0"),
    (dict(cg_iters=0), r"^cg_iters is 0, expected an integer >= 1"),
    (dict(backtrack_iters=0), r"^backtrack_iters is 0, expected an integer >= 1"),
    (dict(backtrack_coeff=0.0), r"^backtrack_coeff is 0\.0, expected a finite number > 0"),
    (dict(backtrack_coeff=1.0), r"^backtrack_coeff is 1\.0, expected a number in \(0, 1\)"),
    (dict(accept_ratio=-1.0), r"^accept_ratio is -1\.0, expected a finite number >= 0"),
])
def test_trpo_step_errors_name_the_argument(kwargs, pattern):
    args = dict(delta=0.01)
    args.update(kwargs)
    with pytest.raises(ValueError, match=pattern):
        rb.trpo_step(np.zeros(2), np.ones(2), lambda v: v, lambda x: 0.0, lambda x: 0.0, **args)


def test_trpo_step_rejection_keeps_x0_and_cg_settings_are_passed_on():
    g = np.array([0.3, -0.4])
    kl = lambda x: 0.25 * x @ x  # noqa: E731
    bad = rb.trpo_step(np.array([1, 2]), g, lambda v: v, lambda x: -(x @ x), kl, delta=0.02)
    assert not bad.accepted and bad.x.dtype == np.float64
    np.testing.assert_array_equal(bad.x, [1.0, 2.0])
    np.testing.assert_array_equal(bad.step, np.zeros(2))
    # the CG budget: F = diag(1..12) needs 12 iterations; the default budget is 10
    F = np.arange(1.0, 13.0)
    fvp = lambda v: F * v  # noqa: E731
    res = rb.trpo_step(np.zeros(12), np.ones(12), fvp, lambda x: x.sum(), lambda x: 0.0, 0.01)
    assert res.cg_info.num_iter == 10
    res = rb.trpo_step(np.zeros(12), np.ones(12), fvp, lambda x: x.sum(), lambda x: 0.0, 0.01, cg_iters=1)
    assert res.cg_info.num_iter == 1


def test_trpo_step_accept_ratio_is_a_fraction_of_the_predicted_gain():
    # linear surrogate along g = e_1 with F = I: the actual gain equals the prediction exactly
    g = np.array([1.0, 0.0])
    step = lambda **k: rb.trpo_step(np.zeros(2), g, lambda v: v, lambda x: x[0],  # noqa: E731
                                    lambda x: 0.0, 0.02, **k)
    assert step(accept_ratio=0.5).step_fraction == 1.0  # 0.2 > 0.5 * 0.2
    assert not step(accept_ratio=1.0).accepted  # the gain must exceed the prediction strictly


# ----------------------------------------------------------------- natural policy gradient internals
def _fisher_from_scores(pi, d):
    """``F = sum_s d(s) sum_a pi(a|s) (e_a - pi_s)(e_a - pi_s)^T``, block diagonal (S A, S A)."""
    S, A = pi.shape
    F = np.zeros((S * A, S * A))
    for s in range(S):
        for a in range(A):
            score = np.eye(A)[a] - pi[s]  # grad of log softmax at (s, a) w.r.t. theta[s, :]
            F[s * A:(s + 1) * A, s * A:(s + 1) * A] += d[s] * pi[s, a] * np.outer(score, score)
    return F


@pytest.mark.parametrize("precondition", [True, False])
def test_npg_one_cg_step_uses_the_fisher_diagonal_as_preconditioner(precondition):
    # after one (P)CG step x_1 = (b^T z / z^T F z) z with z = M^-1 b, M = diag(F) (or I);
    # the projection then removes the row means (b's rows already sum to zero)
    mdp = rb.random_mdp(4, 3, gamma=0.9, seed=3)
    rng = np.random.default_rng(3)
    theta, rho0 = 1.5 * rng.normal(size=(4, 3)), rng.dirichlet(np.ones(4))
    pi = rb.softmax_policy(theta)
    d = 0.1 * rb.discounted_visitation(mdp, pi, rho0)
    F = _fisher_from_scores(pi, d)
    b = rb.exact_policy_gradient(mdp, theta, rho0).ravel()
    z = b / np.diag(F) if precondition else b
    x1 = (b @ z) / (z @ F @ z) * z
    x1 = (x1.reshape(4, 3) - x1.reshape(4, 3).mean(axis=1, keepdims=True))
    x, info = rb.natural_policy_gradient(mdp, theta, rho0, cg_iters=1, precondition=precondition,
                                         return_info=True)
    assert info.num_iter == 1
    np.testing.assert_allclose(x, x1, rtol=1e-10, atol=1e-14)
    # the two preconditioners give different first steps (the check has power)
    z_other = b if precondition else b / np.diag(F)
    x_other = (b @ z_other) / (z_other @ F @ z_other) * z_other
    assert np.abs(x_other.reshape(4, 3) - x_other.reshape(4, 3).mean(1, keepdims=True) - x).max() > 1e-3


def test_npg_cg_budget_default_and_tolerance_are_passed_on():
    mdp = rb.random_mdp(3, 2, gamma=0.9, seed=2)
    theta = np.random.default_rng(2).normal(size=(3, 2))
    rho0 = np.ones(3) / 3
    # tol = 0 with damping (F + damping I positive definite): CG uses the whole default
    # budget of 2 S A = 12 iterations
    _, info = rb.natural_policy_gradient(mdp, theta, rho0, tol=0.0, damping=0.5, return_info=True)
    assert info.num_iter == 12 and not info.converged
    # a loose tolerance stops CG at the first residual below tol * ||b||
    for tol in (0.5, 1e-3):
        _, info = rb.natural_policy_gradient(mdp, theta, rho0, tol=tol, return_info=True)
        norms = info.residual_norms
        first = int(np.argmax(norms <= tol * norms[0]))
        assert info.converged and first > 0 and info.num_iter == first
    # cg_iters = 1 is a legal budget and is respected
    _, info = rb.natural_policy_gradient(mdp, theta, rho0, cg_iters=1, return_info=True)
    assert info.num_iter == 1


def test_npg_errors_name_the_argument():
    mdp = rb.random_mdp(3, 2, gamma=0.9, seed=2)
    theta, rho0 = np.zeros((3, 2)), np.ones(3) / 3
    with pytest.raises(ValueError, match=r"^damping is -1\.0, expected a finite number >= 0"):
        rb.natural_policy_gradient(mdp, theta, rho0, damping=-1.0)
    with pytest.raises(ValueError, match=r"^cg_iters is 0, expected an integer >= 1"):
        rb.natural_policy_gradient(mdp, theta, rho0, cg_iters=0)


def test_npg_deterministic_state_is_a_null_direction():
    # theta[0] = (800, 0, 0): pi(.|0) = (1, 0, 0) exactly (exp(-800) underflows), so F's block
    # at state 0 is zero; the pseudo-inverse gives 0 there and Kakade's formula elsewhere
    mdp = rb.random_mdp(4, 3, gamma=0.9, seed=6)
    rng = np.random.default_rng(6)
    theta, rho0 = rng.normal(size=(4, 3)), rng.dirichlet(np.ones(4))
    theta[0] = (800.0, 0.0, 0.0)
    pi = rb.softmax_policy(theta)
    assert pi[0, 1] == 0.0 and rb.discounted_visitation(mdp, pi, rho0)[0] > 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x, info = rb.natural_policy_gradient(mdp, theta, rho0, return_info=True)
    assert info.converged
    np.testing.assert_array_equal(x[0], 0.0)
    A = rb.advantage(mdp, pi)
    np.testing.assert_allclose(x[1:], (A[1:] - A[1:].mean(1, keepdims=True)) / 0.1, atol=1e-8)


def test_npg_round_off_error_reports_the_smallest_probability_on_visited_states():
    # 7 visited states with pi(a|s) down to ~1e-28 (F numerically singular) and an 8th state
    # that is never reached and has a still smaller probability: it must not be reported
    base = rb.random_mdp(7, 4, gamma=0.9, seed=0)
    P = np.zeros((8, 4, 8))
    P[:7, :, :7] = base.P
    P[7, :, 7] = 1.0
    R = np.zeros((8, 4))
    R[:7] = base.R
    mdp = rb.FiniteMDP(P, R, 0.9)
    rng = np.random.default_rng(0)
    theta = np.zeros((8, 4))
    theta[:7] = 30.0 * rng.normal(size=(7, 4))
    theta[7] = (100.0, 0.0, 0.0, 0.0)
    rho0 = np.zeros(8)
    rho0[:7] = rng.dirichlet(np.ones(7))
    pi = rb.softmax_policy(theta)
    smallest = pi[:7].min()
    assert pi[7].min() < smallest < 1e-20
    with pytest.raises(ValueError, match=r"^the matrix is not positive definite.*round-off.*"
                       rf"on a visited state is {smallest:.3g}\); pass damping > 0$"):
        rb.natural_policy_gradient(mdp, theta, rho0)


def test_trpo_step_passes_cg_tol_on():
    # F = diag(1..12): with a loose cg_tol CG stops at the first residual below cg_tol ||g||
    F = np.arange(1.0, 13.0)
    for tol in (0.5, 0.05):
        res = rb.trpo_step(np.zeros(12), np.ones(12), lambda v: F * v, lambda x: x.sum(),
                           lambda x: 0.0, 0.01, cg_iters=12, cg_tol=tol)
        norms = res.cg_info.residual_norms
        first = int(np.argmax(norms <= tol * norms[0]))
        assert res.cg_info.converged and 0 < first < 12 and res.cg_info.num_iter == first
