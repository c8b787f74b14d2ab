import numpy as np
import pytest
import torch

import rlbook as rb
from rlbook.trust_region.natural_gradient import CGInfo, TRPOStepResult


def _spd(rng, n, cond=100.0):
    Q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    return Q @ np.diag(np.geomspace(1.0, cond, n)) @ Q.T


# ------------------------------------------------------------------------ CG
@pytest.mark.parametrize("n", [1, 2, 5, 20, 50])
def test_cg_matches_direct_solve(n):
    rng = np.random.default_rng(n)
    for _ in range(3):
        A = _spd(rng, n, cond=10.0)
        b = rng.normal(size=n)
        x, info = rb.conjugate_gradient(lambda v: A @ v, b, return_info=True)
        np.testing.assert_allclose(x, np.linalg.solve(A, b), rtol=1e-7, atol=1e-9)
        assert isinstance(info, CGInfo) and info.converged
        assert info.num_iter <= n
        assert len(info.residual_norms) == info.num_iter + 1
        assert info.residual_norms[-1] <= 1e-10 * np.linalg.norm(b)


def test_cg_ill_conditioned_needs_more_than_n_iterations_in_floating_point():
    rng = np.random.default_rng(11)
    A = _spd(rng, 30, cond=1e4)
    b = rng.normal(size=30)
    x, info = rb.conjugate_gradient(lambda v: A @ v, b, max_iter=300, return_info=True)
    assert info.converged
    np.testing.assert_allclose(x, np.linalg.solve(A, b), rtol=1e-6)


def test_cg_few_distinct_eigenvalues_terminates_early():
    rng = np.random.default_rng(3)
    Q, _ = np.linalg.qr(rng.normal(size=(30, 30)))
    A = Q @ np.diag(np.repeat([1.0, 4.0, 9.0], 10)) @ Q.T
    b = rng.normal(size=30)
    x, info = rb.conjugate_gradient(lambda v: A @ v, b, return_info=True)
    assert info.num_iter <= 3
    np.testing.assert_allclose(A @ x, b, atol=1e-8)


def test_cg_torch_and_max_iter():
    rng = np.random.default_rng(4)
    A = _spd(rng, 10)
    b = rng.normal(size=10)
    At, bt = torch.tensor(A), torch.tensor(b)
    xt = rb.conjugate_gradient(lambda v: At @ v, bt)
    assert isinstance(xt, torch.Tensor) and xt.dtype == torch.float64
    np.testing.assert_allclose(xt.numpy(), np.linalg.solve(A, b), rtol=1e-7)
    x2, info = rb.conjugate_gradient(lambda v: A @ v, b, max_iter=2, return_info=True)
    assert info.num_iter == 2 and not info.converged
    x0, info0 = rb.conjugate_gradient(lambda v: A @ v, np.zeros(10), return_info=True)
    assert info0.num_iter == 0 and info0.converged and not x0.any()


def test_cg_preconditioner_same_solution():
    rng = np.random.default_rng(5)
    D = np.diag(np.geomspace(1e-4, 1e4, 12))
    A = D @ _spd(rng, 12, cond=5) @ D
    b = rng.normal(size=12)
    dinv = 1 / np.diag(A)
    x, info = rb.conjugate_gradient(lambda v: A @ v, b, return_info=True, preconditioner=lambda r: dinv * r)
    np.testing.assert_allclose(x, np.linalg.solve(A, b), rtol=1e-6)
    assert info.converged


def test_cg_errors():
    A = np.diag([1.0, -1.0, 2.0])
    with pytest.raises(ValueError, match="not positive definite"):
        rb.conjugate_gradient(lambda v: A @ v, np.array([0.0, 1.0, 0.0]))
    with pytest.raises(ValueError, match="not positive definite"):
        rb.conjugate_gradient(lambda v: np.zeros(3), np.ones(3))
    with pytest.raises(ValueError, match="1-D"):
        rb.conjugate_gradient(lambda v: v, np.ones((2, 2)))
    with pytest.raises(ValueError, match="1-D"):
        rb.conjugate_gradient(lambda v: v, torch.ones(2, 2))
    with pytest.raises(ValueError, match="finite"):
        rb.conjugate_gradient(lambda v: v, np.array([1.0, np.inf]))
    with pytest.raises(ValueError, match="non-finite"):
        rb.conjugate_gradient(lambda v: v, torch.tensor([1.0, float("nan")]))
    with pytest.raises(ValueError, match="max_iter"):
        rb.conjugate_gradient(lambda v: v, np.ones(2), max_iter=-1)
    with pytest.raises(ValueError, match="tol"):
        rb.conjugate_gradient(lambda v: v, np.ones(2), tol=-1.0)


# ----------------------------------------------------------------------- FVP
def _tiny_policy(seed=0):
    torch.manual_seed(seed)
    net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 3)).double()
    obs = torch.randn(6, 3, dtype=torch.float64)
    return net, obs


def test_fvp_matches_explicit_fisher():
    net, obs = _tiny_policy()
    params = list(net.parameters())
    shapes = [p.shape for p in params]
    sizes = [p.numel() for p in params]
    d = sum(sizes)
    with torch.no_grad():
        old_logp = torch.log_softmax(net(obs), -1)

    def kl_fn():
        logp = torch.log_softmax(net(obs), -1)
        return (old_logp.exp() * (old_logp - logp)).sum(-1).mean()

    def unflatten(flat):
        out, i = {}, 0
        for (name, _), shp, k in zip(net.named_parameters(), shapes, sizes):
            out[name] = flat[i:i + k].reshape(shp)
            i += k
        return out

    theta0 = torch.cat([p.detach().reshape(-1) for p in params])

    def logp_of(flat):
        return torch.log_softmax(torch.func.functional_call(net, unflatten(flat), (obs,)), -1)

    # Fisher = E_s E_a[score score^T] from the Jacobian of the log-probabilities
    J = torch.autograd.functional.jacobian(logp_of, theta0)  # (B, A, d)
    pi = old_logp.exp()
    F = torch.einsum("ba,bai,baj->ij", pi, J, J) / obs.shape[0]
    # ... and equals the Hessian of the mean KL at theta_old
    H = torch.autograd.functional.hessian(
        lambda f: (pi * (old_logp - logp_of(f))).sum(-1).mean(), theta0)
    np.testing.assert_allclose(H.numpy(), F.numpy(), atol=1e-12)
    gen = torch.Generator().manual_seed(1)
    for damping in (0.0, 0.1):
        for _ in range(3):
            v = torch.randn(d, generator=gen, dtype=torch.float64)
            fv = rb.fisher_vector_product(kl_fn, params, v, damping=damping)
            np.testing.assert_allclose(fv.numpy(), (F @ v + damping * v).numpy(), atol=1e-12)


def test_fvp_errors():
    net, obs = _tiny_policy()
    params = list(net.parameters())

    def kl_fn():
        return net(obs).pow(2).mean()

    with pytest.raises(ValueError, match="shape"):
        rb.fisher_vector_product(kl_fn, params, torch.ones(3, dtype=torch.float64))
    with pytest.raises(TypeError, match="torch.Tensor"):
        rb.fisher_vector_product(kl_fn, params, np.ones(31))
    with pytest.raises(ValueError, match="damping"):
        rb.fisher_vector_product(kl_fn, params, torch.ones(31, dtype=torch.float64), damping=-1.0)
    with pytest.raises(ValueError, match="scalar"):
        rb.fisher_vector_product(lambda: net(obs), params, torch.ones(31, dtype=torch.float64))


# ------------------------------------------------- natural policy gradient
def _explicit_fisher(pi, d):
    S, A = pi.shape
    F = np.zeros((S * A, S * A))
    for s in range(S):
        F[s * A:(s + 1) * A, s * A:(s + 1) * A] = d[s] * (np.diag(pi[s]) - np.outer(pi[s], pi[s]))
    return F


def _advantage(mdp, pi):
    v = rb.evaluate_policy(mdp, pi)
    q = rb.q_from_v(mdp, v)
    return q - v[:, None]


@pytest.mark.parametrize("seed", range(4))
def test_npg_equals_pinv_and_kakade(seed):
    rng = np.random.default_rng(seed)
    S, A, gamma = 7, 4, 0.9
    mdp = rb.random_mdp(S, A, gamma=gamma, seed=seed)
    theta = 2 * rng.normal(size=(S, A))
    rho0 = rng.dirichlet(np.ones(S))
    x, info = rb.natural_policy_gradient(mdp, theta, rho0, return_info=True)
    assert x.shape == (S, A) and info.converged
    pi = rb.softmax_policy(theta)
    d = (1 - gamma) * rb.discounted_visitation(mdp, pi, rho0)
    F = _explicit_fisher(pi, d)
    g = rb.exact_policy_gradient(mdp, theta, rho0).ravel()
    ref = np.linalg.pinv(F, rcond=1e-13, hermitian=True) @ g
    np.testing.assert_allclose(x.ravel(), ref, atol=1e-8 * np.abs(ref).max())
    np.testing.assert_allclose(F @ x.ravel(), g, atol=1e-10)
    adv = _advantage(mdp, pi)
    np.testing.assert_allclose(x, (adv - adv.mean(1, keepdims=True)) / (1 - gamma), atol=1e-8)
    # min-norm: orthogonal to the per-state constants
    np.testing.assert_allclose(x.sum(1), 0, atol=1e-10)
    # unpreconditioned CG gives the same answer
    np.testing.assert_allclose(rb.natural_policy_gradient(mdp, theta, rho0, precondition=False), x,
                               atol=1e-6 * np.abs(x).max())


@pytest.mark.parametrize("scale", [5.0, 10.0, 15.0])
def test_npg_near_deterministic_policies(scale):
    # pi(a|s) down to ~1e-14: F's condition number ~1e14, the Jacobi-preconditioned CG still
    # reproduces Kakade's identity
    rng = np.random.default_rng(0)
    mdp = rb.random_mdp(7, 4, gamma=0.9, seed=0)
    theta = scale * rng.normal(size=(7, 4))
    rho0 = rng.dirichlet(np.ones(7))
    x, info = rb.natural_policy_gradient(mdp, theta, rho0, return_info=True)
    assert info.converged
    adv = _advantage(mdp, rb.softmax_policy(theta))
    np.testing.assert_allclose(x, (adv - adv.mean(1, keepdims=True)) / 0.1, atol=1e-5)


def test_npg_unreached_and_terminal_states_get_zero():
    # chain 0 -> 1 -> 2 (terminal); state 3 never reached
    S, A = 4, 2
    P = np.zeros((S, A, S))
    P[0, :, 1] = 1
    P[1, 0, 2] = 1
    P[1, 1, 0] = 1
    P[2, :, 2] = 1
    P[3, :, 3] = 1
    R = np.array([[0.0, 1.0], [2.0, -1.0], [0.0, 0.0], [5.0, 0.0]])
    mdp = rb.FiniteMDP(P, R, 0.8, terminal=np.array([False, False, True, False]))
    rng = np.random.default_rng(0)
    theta = rng.normal(size=(S, A))
    rho0 = np.array([1.0, 0, 0, 0])
    x = rb.natural_policy_gradient(mdp, theta, rho0)
    np.testing.assert_array_equal(x[2:], 0.0)
    pi = rb.softmax_policy(theta)
    d = 0.2 * rb.discounted_visitation(mdp, pi, rho0)
    ref = np.linalg.pinv(_explicit_fisher(pi, d), rcond=1e-13) @ rb.exact_policy_gradient(mdp, theta, rho0).ravel()
    np.testing.assert_allclose(x.ravel(), ref, atol=1e-9)
    adv = _advantage(mdp, pi)
    np.testing.assert_allclose(x[:2], (adv[:2] - adv[:2].mean(1, keepdims=True)) / 0.2, atol=1e-9)


def test_npg_damping_and_errors():
    mdp = rb.random_mdp(5, 3, gamma=0.9, seed=1)
    rng = np.random.default_rng(1)
    theta, rho0 = rng.normal(size=(5, 3)), np.ones(5) / 5
    pi = rb.softmax_policy(theta)
    d = 0.1 * rb.discounted_visitation(mdp, pi, rho0)
    F = _explicit_fisher(pi, d)
    Pm = np.kron(np.eye(5), np.eye(3) - np.ones((3, 3)) / 3)  # projector onto mean-zero rows
    g = rb.exact_policy_gradient(mdp, theta, rho0).ravel()
    ref = np.linalg.pinv(Pm @ (F + 0.05 * np.eye(15)) @ Pm, rcond=1e-12) @ g
    np.testing.assert_allclose(rb.natural_policy_gradient(mdp, theta, rho0, damping=0.05).ravel(), ref, atol=1e-9)
    with pytest.raises(ValueError, match="damping"):
        rb.natural_policy_gradient(mdp, theta, rho0, damping=-1.0)
    with pytest.raises(ValueError, match="cg_iters"):
        rb.natural_policy_gradient(mdp, theta, rho0, cg_iters=0)
    with pytest.raises(ValueError, match="theta"):
        rb.natural_policy_gradient(mdp, theta[:, :2], rho0)
    with pytest.raises(ValueError, match="rho0"):
        rb.natural_policy_gradient(mdp, theta, np.ones(5))


# ---------------------------------------------------------------------- TRPO
def _bandit(kind="numpy"):
    """Softmax over 4 arms: surrogate L(x) = sum_a pi_x(a) A(a), KL(pi_x0 || pi_x)."""
    rng = np.random.default_rng(7)
    x0 = rng.normal(size=4)
    adv = np.array([1.0, -0.5, 0.2, -0.3])

    def softmax(x):
        z = np.exp(x - x.max())
        return z / z.sum()

    p0 = softmax(x0)
    adv = adv - p0 @ adv  # advantages have mean zero under pi_x0
    F = np.diag(p0) - np.outer(p0, p0) + 1e-3 * np.eye(4)
    grad = p0 * adv  # d/dx sum_a pi_x(a) A(a) at x0
    surrogate = lambda x: float(softmax(np.asarray(x)) @ adv)  # noqa: E731
    kl = lambda x: rb.kl_divergence(p0, softmax(np.asarray(x)))  # noqa: E731
    if kind == "torch":
        return (torch.tensor(x0), torch.tensor(grad), lambda v: torch.tensor(F) @ v,
                surrogate, kl, F, adv, p0)
    return x0, grad, lambda v: F @ v, surrogate, kl, F, adv, p0


@pytest.mark.parametrize("kind", ["numpy", "torch"])
@pytest.mark.parametrize("delta", [1e-3, 0.01, 0.1, 1.0])
def test_trpo_step_within_trust_region(kind, delta):
    x0, grad, fvp, surrogate, kl, F, adv, p0 = _bandit(kind)
    res = rb.trpo_step(x0, grad, fvp, surrogate, kl, delta)
    assert isinstance(res, TRPOStepResult) and res.accepted
    assert type(res.x) is type(x0)
    full = np.asarray(res.full_step)
    # the full step sits on the boundary of the quadratic trust region
    assert 0.5 * full @ F @ full == pytest.approx(delta, rel=1e-6)
    np.testing.assert_allclose(np.asarray(res.x), np.asarray(x0) + res.step_fraction * full)
    assert res.kl <= delta and res.kl == pytest.approx(kl(res.x))
    assert res.actual_improvement > 0
    assert res.actual_improvement == pytest.approx(surrogate(res.x) - surrogate(x0))
    assert res.expected_improvement == pytest.approx(float(np.asarray(grad) @ np.asarray(res.step)))
    if delta <= 0.01:  # small steps: the quadratic models of L and KL are accurate
        assert res.kl == pytest.approx(delta * res.step_fraction**2, rel=0.2)
        assert res.actual_improvement == pytest.approx(res.expected_improvement, rel=0.2)


def test_trpo_step_backtracks_and_rejects():
    x0, grad, fvp, surrogate, kl, F, adv, p0 = _bandit()
    # a KL that is 100x the true one forces backtracking
    res = rb.trpo_step(x0, grad, fvp, surrogate, lambda x: 100 * kl(x), 0.01)
    assert res.accepted and res.step_fraction < 1 and 100 * kl(res.x) <= 0.01
    # a surrogate that never improves: x0 returned, accepted False
    res = rb.trpo_step(x0, grad, fvp, lambda x: -surrogate(x), kl, 0.01, backtrack_iters=5)
    assert not res.accepted and res.step_fraction == 0.0
    np.testing.assert_array_equal(res.x, x0)
    # zero gradient: nothing to do
    res = rb.trpo_step(x0, 0 * grad, fvp, surrogate, kl, 0.01)
    assert not res.accepted and res.beta == 0.0


def test_trpo_step_errors():
    x0, grad, fvp, surrogate, kl, *_ = _bandit()
    with pytest.raises(ValueError, match="delta"):
        rb.trpo_step(x0, grad, fvp, surrogate, kl, 0.0)
    with pytest.raises(ValueError, match="delta"):
        rb.trpo_step(x0, grad, fvp, surrogate, kl, -0.1)
    with pytest.raises(ValueError, match="backtrack_coeff"):
        rb.trpo_step(x0, grad, fvp, surrogate, kl, 0.01, backtrack_coeff=1.0)
    with pytest.raises(ValueError, match="backtrack_iters"):
        rb.trpo_step(x0, grad, fvp, surrogate, kl, 0.01, backtrack_iters=0)
    with pytest.raises(ValueError, match="cg_iters"):
        rb.trpo_step(x0, grad, fvp, surrogate, kl, 0.01, cg_iters=0)
    with pytest.raises(ValueError, match="accept_ratio"):
        rb.trpo_step(x0, grad, fvp, surrogate, kl, 0.01, accept_ratio=-1.0)
    with pytest.raises(ValueError, match="same shape"):
        rb.trpo_step(x0, grad[:2], fvp, surrogate, kl, 0.01)
    with pytest.raises(ValueError, match="not positive definite"):
        rb.trpo_step(x0, grad, lambda v: -v, surrogate, kl, 0.01)
