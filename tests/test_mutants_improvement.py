"""Mutation-survivor tests for rlbook/trust_region/improvement.py (issue 14).

Each test checks a contract, not today's output: the docstring's formula
(``C = 4 eps gamma / (1 - gamma)^2``), the MM iteration's definition (every step
maximises ``M_i(pi~) = L_{pi_i}(pi~) - C D_KL^max(pi_i, pi~)`` over the family
``pi_alpha ∝ pi_i exp(alpha A_{pi_i})``), checked against closed forms on
bandit-like MDPs and against an independent recomputation of the chain, or the
start of an error message (the argument's name, the value seen, what was
expected).
"""
import warnings

import numpy as np
import pytest
from scipy.special import expit, softmax

import rlbook as rb
import rlbook.trust_region.improvement as imp
from rlbook.trust_region.improvement import (
    kl_per_state,
    max_kl,
    mm_policy_iteration,
    surrogate_objective,
    trpo_penalty_coefficient,
)


# ------------------------------------------------------------------ instances
def _bandits(b, gamma=0.5):
    """One absorbing state per entry of ``b``; action 0 pays ``b_s``, action 1 ``-b_s``.

    Under the uniform policy ``v = 0``, ``A(s, .) = (b_s, -b_s)``, the visitation is
    ``rho0 / (1 - gamma)``, ``pi_alpha(s) = (sigma(2 alpha b_s), sigma(-2 alpha b_s))``,
    ``sum_a pi_alpha A = b_s tanh(alpha b_s)`` and ``KL(uniform || pi_alpha) =
    log cosh(alpha b_s)``.
    """
    b = np.asarray(b, dtype=float)
    S = b.size
    P = np.zeros((S, 2, S))
    P[np.arange(S), :, np.arange(S)] = 1.0
    return rb.FiniteMDP(P, np.stack([b, -b], axis=1), gamma)


def _logcosh(u):
    """``log cosh u`` without cancellation: ``log1p(2 sinh^2(u / 2))`` for small ``u``."""
    u = abs(float(u))
    if u < 1.0:
        return float(np.log1p(2.0 * np.sinh(u / 2.0) ** 2))
    return u + float(np.log1p(np.exp(-2.0 * u))) - float(np.log(2.0))


def _M_bandits(alpha, b, rho0, gamma, C):
    """Closed form of ``M_0(pi_alpha)`` from the uniform policy on :func:`_bandits`."""
    b = np.asarray(b, dtype=float)
    gain = np.sum(rho0 * b * np.tanh(alpha * b)) / (1 - gamma)
    return gain - C * max(_logcosh(alpha * bs) for bs in b)


# ------------------------------------------------------------------ _check_discounted
def test_gamma_one_message_explains_why():
    mdp = _bandits([1.0]).with_gamma(1.0)
    with pytest.raises(ValueError, match=r"^mdp\.gamma is 1\.0, expected gamma < 1 \(the improvement "
                                         r"theory uses the normalised visitation \(1 - gamma\) rho_pi "
                                         r"and constants in 1 / \(1 - gamma\)\)$"):
        mm_policy_iteration(mdp, [1.0], 1)


# ------------------------------------------------------------------ _kl_rows
def test_kl_per_state_with_a_subnormal_probability_raises_no_warning():
    # KL(p || q) with q = 1e-320 > 0: p / q overflows; the divergence is huge (about
    # 0.5 log(0.5 / 1e-320) = 368) or inf, and no overflow warning escapes
    p = np.array([[0.5, 0.5], [0.5, 0.5]])
    q = np.array([[1.0 - 1e-320, 1e-320], [0.25, 0.75]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        kl = kl_per_state(p, q)
    assert kl[0] >= 0.5 * np.log(0.5) + 0.5 * np.log(0.5 / 1e-320) - 1e-9
    assert kl[1] == pytest.approx(0.5 * np.log(0.5 / 0.25) + 0.5 * np.log(0.5 / 0.75), rel=1e-14)


# ------------------------------------------------------------------ trpo_penalty_coefficient
@pytest.mark.parametrize("eps", [0.0, 0.5, 3.0])
@pytest.mark.parametrize("gamma", [0.0, 0.25, 0.9, 0.99])
def test_penalty_coefficient_formula(eps, gamma):
    # C = 4 eps gamma / (1 - gamma)^2 (TRPO, Theorem 1): eps = 0 or gamma = 0 gives C = 0
    want = 4.0 * eps * gamma / ((1.0 - gamma) * (1.0 - gamma))
    assert trpo_penalty_coefficient(eps, gamma) == pytest.approx(want, rel=1e-14, abs=0.0)


def test_penalty_coefficient_exact_value():
    # eps = 3, gamma = 1/4: 4 * 3 * (1/4) / (3/4)^2 = 3 / (9/16) = 16/3
    assert trpo_penalty_coefficient(3, 0.25) == pytest.approx(16 / 3, rel=1e-15)


@pytest.mark.parametrize("args, exc, pattern", [
    ((-1.0, 0.5), ValueError, r"^epsilon is -1\.0, expected a finite number >= 0$"),
    ((np.inf, 0.5), ValueError, r"^epsilon is inf, expected a finite number >= 0$"),
    ((1.0, -0.5), ValueError, r"^gamma is -0\.5, expected a finite number >= 0$"),
    ((1.0, "x"), TypeError, r"^gamma must be a real number, got 'x'$"),
    ((1.0, 1.0), ValueError, r"^gamma is 1\.0, expected a discount factor in \[0, 1\)$"),
])
def test_penalty_coefficient_messages(args, exc, pattern):
    with pytest.raises(exc, match=pattern):
        trpo_penalty_coefficient(*args)


# ------------------------------------------------------------------ mm_policy_iteration: validation
def test_mm_validation_messages():
    mdp = _bandits([1.0, 2.0])
    rho0 = np.array([0.5, 0.5])
    with pytest.raises(ValueError, match=r"^rho0 must have shape \(2,\), got \(3,\)$"):
        mm_policy_iteration(mdp, np.ones(3) / 3, 1)
    with pytest.raises(ValueError, match=r"^rho0 sums to 1\.2, expected 1"):
        mm_policy_iteration(mdp, [0.6, 0.6], 1)
    with pytest.raises(ValueError, match=r"^n_iter is -1, expected an integer >= 0$"):
        mm_policy_iteration(mdp, rho0, -1)
    with pytest.raises(ValueError, match=r"^n_grid is 1, expected an integer >= 2$"):
        mm_policy_iteration(mdp, rho0, 1, n_grid=1)
    with pytest.raises(ValueError, match=r"^pi0 must have shape \(2, 2\), got \(3, 2\)$"):
        mm_policy_iteration(mdp, rho0, 1, pi0=np.full((3, 2), 0.5))
    with pytest.raises(ValueError, match=r"^pi0 must have shape \(2, 2\), got \(2, 3\)$"):
        mm_policy_iteration(mdp, rho0, 1, pi0=np.full((2, 3), 1 / 3))
    with pytest.raises(ValueError, match=r"^pi0\[1, :\] sums to 1\.5, expected 1"):
        mm_policy_iteration(mdp, rho0, 1, pi0=[[0.5, 0.5], [0.75, 0.75]])
    with pytest.raises(ValueError, match=r"^C is -1\.0, expected a finite number >= 0$"):
        mm_policy_iteration(mdp, rho0, 1, C=-1.0)


def test_mm_full_support_message_names_the_first_zero_entry():
    mdp = _bandits([1.0, 2.0, 0.5])
    pi0 = np.array([[0.5, 0.5], [1.0, 0.0], [0.5, 0.5]])
    with pytest.raises(ValueError, match=r"^pi0\[1, 1\] is 0, expected a policy with full support "
                                         r"\(the iteration moves in log-probabilities\)$"):
        mm_policy_iteration(mdp, np.ones(3) / 3, 1, pi0=pi0)


def test_mm_accepts_a_full_support_pi0_and_starts_there():
    mdp, rho0 = _bandits([1.0, -2.0]), np.array([0.3, 0.7])
    pi0 = np.array([[0.2, 0.8], [0.9, 0.1]])
    res = mm_policy_iteration(mdp, rho0, 1, pi0=pi0)
    assert res.eta[0] == pytest.approx(rb.policy_objective(mdp, pi0, rho0), rel=1e-12)
    assert res.eta[1] > res.eta[0]


# ------------------------------------------------------------------ mm_policy_iteration: the step
def _sech2(x):
    e = np.exp(-2.0 * np.abs(x))
    return 4.0 * e / (1.0 + e) ** 2


def _C_single(b, gamma, u_star):
    """``C`` whose maximiser of ``M_0`` on one bandit state is ``alpha* = u* / b``:
    ``dM/dalpha = 0`` gives ``sinh(2 u*) = 2 b / (C (1 - gamma))``."""
    return 2.0 * b / ((1.0 - gamma) * np.sinh(2.0 * u_star))


def _C_pair(b0, b1, gamma, alpha_star):
    """``C`` whose maximiser on two bandit states (``rho0 = (1/2, 1/2)``, ``b0 > b1``) is
    ``alpha*``: ``dM/dalpha = [b0^2 sech^2(alpha b0) + b1^2 sech^2(alpha b1)] / (2 (1 - gamma))
    - C b0 tanh(alpha b0) = 0`` (the max KL is state 0's)."""
    num = (b0 ** 2 * _sech2(alpha_star * b0) + b1 ** 2 * _sech2(alpha_star * b1)) / (2 * (1 - gamma))
    return num / (b0 * np.tanh(alpha_star * b0))


def _first_step_cases():
    cases = []
    # TRPO's C = 4 eps gamma / (1 - gamma)^2 on one state: eps = b and the closed-form
    # maximiser is alpha* = asinh((1 - gamma) / (2 gamma)) / (2 b); b = 1 makes eps exactly 1,
    # b = 1e-3 and 40 put alpha* far from 1 (the scan is in units of 1 / eps)
    for b, gamma in ((1.0, 0.5), (1e-3, 0.9), (40.0, 0.7)):
        cases.append(([b], gamma, None, np.arcsinh((1 - gamma) / (2 * gamma)) / (2 * b)))
    # a given C puts alpha* eps = u* anywhere: near the bottom of the scan (1.2e-6; the
    # maximum is flat there), mid-range
    for u_star in (1.2e-6, 1e-3, 0.05, 3.0):
        cases.append(([3.0], 0.5, _C_single(3.0, 0.5, u_star), u_star / 3.0))
    # two states, the second with advantages 300 times smaller: alpha* eps far up the scan
    # (below 355, where the new policy's smallest probability e^(-2 alpha eps) is still
    # a normal number: below it kl_divergence overflows to inf)
    for top in (100.0, 300.0):
        b = [2.0, 2.0 / 300.0]
        cases.append((b, 0.5, _C_pair(b[0], b[1], 0.5, top / 2.0), top / 2.0))
    return cases


@pytest.mark.parametrize("b, gamma, C, alpha_star", _first_step_cases())
def test_mm_first_step_is_the_closed_form_maximiser(b, gamma, C, alpha_star):
    b = np.asarray(b, dtype=float)
    rho0 = np.full(b.size, 1.0 / b.size)
    mdp = _bandits(b, gamma)
    res = mm_policy_iteration(mdp, rho0, 1, C=C)
    C_used = 4 * b.max() * gamma / (1 - gamma) ** 2 if C is None else C
    # alpha* is the maximiser of the closed form: a dense scan finds nothing better
    M_star = _M_bandits(alpha_star, b, rho0, gamma, C_used)
    scan = [_M_bandits(a, b, rho0, gamma, C_used) for a in alpha_star * np.geomspace(1e-3, 1e3, 601)]
    assert M_star > 0.0 and M_star >= max(scan)
    # round-off of M: a few ulps of its terms, C KL included; near its maximum M is flat,
    # so M tells step sizes apart only beyond sqrt(2 tol / |M''|)
    tol = 2e-15 * (1.0 + C_used + np.abs(b).sum() / (1 - gamma))
    u = alpha_star * b
    curv = (np.sum(rho0 * b ** 3 * 2 * _sech2(u) * np.tanh(u)) / (1 - gamma)
            + C_used * b.max() ** 2 * _sech2(u.max()))  # -M''(alpha*)
    step_rtol = max(1e-7, 4 * np.sqrt(2 * tol / curv) / alpha_star)
    step = res.step[0]
    assert step == pytest.approx(alpha_star, rel=step_rtol)
    assert res.bound[0] >= M_star - tol
    assert res.bound[0] == pytest.approx(_M_bandits(step, b, rho0, gamma, C_used), abs=tol)
    assert res.eta[0] == 0.0
    assert res.eta[1] >= res.bound[0] - tol  # the minoriser (for TRPO's C, Theorem 1)
    # the new policy is the family member at the reported step, and max_kl its divergence
    pi1 = np.stack([expit(2 * step * b), expit(-2 * step * b)], axis=1)
    np.testing.assert_allclose(res.pi, pi1, rtol=1e-9, atol=1e-300)
    assert res.max_kl[0] == pytest.approx(max(_logcosh(step * bs) for bs in b), rel=1e-9, abs=1e-15)


def test_mm_without_advantage_does_not_move():
    # every action is the same in every state: A = 0, eps = 0, so every pi_alpha is pi_0
    # and the iteration reports no step, no divergence and the bound eta
    mdp, rho0 = _bandits([0.0, 0.0], 0.8), np.array([0.25, 0.75])
    pi0 = np.array([[0.3, 0.7], [0.6, 0.4]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = mm_policy_iteration(mdp, rho0, 2, pi0=pi0)
    np.testing.assert_array_equal(res.step, [0.0, 0.0])
    np.testing.assert_array_equal(res.max_kl, [0.0, 0.0])
    np.testing.assert_array_equal(res.bound, res.eta[:-1])
    np.testing.assert_array_equal(res.pi, pi0)
    res0 = mm_policy_iteration(mdp, rho0, 1, pi0=pi0, C=0.0)  # C = 0 is allowed (C >= 0)
    assert res0.step[0] == 0.0 and res0.bound[0] == res0.eta[0]


def test_mm_stays_put_when_the_advantage_is_only_in_unvisited_states():
    # state 0 (where rho0 puts all its mass) is absorbing and its actions are equal; the
    # advantages live in state 1, never visited: every alpha > 0 gains nothing and pays
    # C D_KL^max > 0, so alpha = 0 is the unique maximiser of M over the family
    P = np.zeros((2, 2, 2))
    P[0, :, 0] = 1.0
    P[1, :, 1] = 1.0
    mdp = rb.FiniteMDP(P, np.array([[0.3, 0.3], [1.0, -1.0]]), 0.9)
    rho0 = np.array([1.0, 0.0])
    res = mm_policy_iteration(mdp, rho0, 2)
    np.testing.assert_array_equal(res.step, [0.0, 0.0])
    np.testing.assert_array_equal(res.bound, res.eta[:-1])
    np.testing.assert_array_equal(res.pi, np.full((2, 2), 0.5))
    assert res.eta[0] == pytest.approx(0.3 / (1 - 0.9), rel=1e-12)


def test_mm_with_C_zero_maximises_the_surrogate_along_the_family():
    # C = 0 is allowed: M_i is the surrogate L_{pi_i}, increasing in alpha here (state 1's
    # advantages are 1e5 times smaller than eps, so it never saturates within the scan);
    # state 2 has no advantage at all. Far up the scan state 0's worse action gets
    # probability 0: D_KL^max = inf, which C = 0 must not turn into nan.
    b = [2.0, 2e-5, 0.0]
    mdp, rho0 = _bandits(b, 0.5), np.array([0.4, 0.4, 0.2])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = mm_policy_iteration(mdp, rho0, 2, C=0.0)
    assert np.all(np.isfinite(res.bound)) and np.all(np.isfinite(res.eta))
    np.testing.assert_allclose(res.pi.sum(axis=1), 1.0, rtol=1e-12)
    pi1 = np.stack([expit(2 * res.step[0] * np.array(b)), expit(-2 * res.step[0] * np.array(b))], 1)
    L = surrogate_objective(mdp, np.full((3, 2), 0.5), pi1, rho0)
    assert res.bound[0] == pytest.approx(L, rel=1e-12)
    assert res.bound[0] >= res.eta[0]
    # the surrogate grows with alpha: nothing on a scan of smaller steps beats the step
    for a in res.step[0] * np.geomspace(1e-6, 1.0, 40):
        pa = np.stack([expit(2 * a * np.array(b)), expit(-2 * a * np.array(b))], 1)
        assert surrogate_objective(mdp, np.full((3, 2), 0.5), pa, rho0) <= res.bound[0] + 1e-13
    assert res.eta[2] >= res.eta[1] >= res.eta[0]
    assert res.max_kl[0] == max_kl(np.full((3, 2), 0.5), pi1)


def test_mm_finds_a_maximiser_high_up_the_scan():
    # state 0: pi_0 = (1e-3, 1 - 1e-3), r = (1, 0), so A = (0.999, -0.001) and eps = 0.999;
    # its better action saturates early and its KL then grows like alpha. State 1 (tiny
    # advantages +-1/690) keeps the surrogate growing, and C = 9e-7 balances the two near
    # alpha eps = 680, where every probability is still a normal number (KL finite)
    P = np.zeros((2, 2, 2))
    P[0, :, 0] = 1.0
    P[1, :, 1] = 1.0
    b1 = 1.0 / 690
    mdp = rb.FiniteMDP(P, np.array([[1.0, 0.0], [b1, -b1]]), 0.5)
    rho0, pi0, C = np.array([0.5, 0.5]), np.array([[1e-3, 1 - 1e-3], [0.5, 0.5]]), 9e-7
    Adv = rb.advantage(mdp, pi0)
    eps = np.abs(Adv).max()
    np.testing.assert_allclose(Adv, [[0.999, -0.001], [b1, -b1]], rtol=1e-12)

    def M(a):
        return _M(mdp, rho0, pi0, softmax(np.log(pi0) + a * Adv, axis=1), C)

    scan = np.linspace(300.0, 705.0, 811) / eps
    vals = [M(a) for a in scan]
    j = int(np.argmax(vals))
    assert 0 < j < scan.size - 1  # an interior maximum, near alpha eps = 680
    res = mm_policy_iteration(mdp, rho0, 1, pi0=pi0, C=C)
    assert res.bound[0] >= vals[j] - 1e-12
    assert res.bound[0] == pytest.approx(M(res.step[0]), abs=1e-12)
    assert res.step[0] == pytest.approx(scan[j], abs=2 * (scan[1] - scan[0]))


# ------------------------------------------------------------------ mm_policy_iteration: the chain
def _M(mdp, rho0, pi, new, C):
    return surrogate_objective(mdp, pi, new, rho0) - C * max_kl(pi, new)


@pytest.mark.parametrize("seed, C", [(0, None), (1, None), (2, 0.5)])
def test_mm_chain_recomputed_independently(seed, C):
    # pi_{i+1} = pi_i exp(step_i A_{pi_i}) / Z; eta_i = J(pi_i); bound_i = M_i(pi_{i+1})
    # with C_i = 4 eps_i gamma / (1 - gamma)^2 (eps_i = max |A_{pi_i}|) unless C is given;
    # max_kl_i = D_KL^max(pi_i, pi_{i+1}); and no step on a dense scan beats step_i
    rng = np.random.default_rng(seed)
    S, A, gamma = 4, 3, 0.8
    mdp = rb.random_mdp(S, A, gamma, seed=rng)
    rho0 = rng.dirichlet(np.ones(S))
    pi0 = rb.softmax_policy(rng.standard_normal((S, A)))
    n = 3
    res = mm_policy_iteration(mdp, rho0, n, pi0=pi0, C=C)
    assert res.eta.shape == (n + 1,) and res.bound.shape == res.step.shape == res.max_kl.shape == (n,)
    assert res.step.dtype == res.max_kl.dtype == np.float64
    pi = pi0
    for i in range(n):
        assert res.eta[i] == pytest.approx(rb.policy_objective(mdp, pi, rho0), rel=1e-10)
        Adv = rb.advantage(mdp, pi)
        eps = np.abs(Adv).max()
        Ci = 4 * eps * gamma / (1 - gamma) ** 2 if C is None else C
        assert res.step[i] > 0.0
        new = softmax(np.log(pi) + res.step[i] * Adv, axis=1)
        assert res.bound[i] == pytest.approx(_M(mdp, rho0, pi, new, Ci), rel=1e-9)
        assert res.max_kl[i] == pytest.approx(max_kl(pi, new), rel=1e-7)
        assert res.bound[i] >= res.eta[i]
        scan = np.geomspace(1e-7, 1e3, 200) / eps
        best = max(_M(mdp, rho0, pi, softmax(np.log(pi) + a * Adv, axis=1), Ci) for a in scan)
        assert res.bound[i] >= best - 1e-12 * (1 + abs(best))
        pi = new
    np.testing.assert_allclose(res.pi, pi, rtol=1e-7, atol=1e-14)
    assert res.eta[n] == pytest.approx(rb.policy_objective(mdp, pi, rho0), rel=1e-10)


# ------------------------------------------------------------------ mm_policy_iteration: n_grid
def test_mm_default_n_grid_is_48():
    mdp, rho0 = rb.random_mdp(3, 2, 0.7, seed=4), np.array([0.2, 0.3, 0.5])
    a, b = mm_policy_iteration(mdp, rho0, 2), mm_policy_iteration(mdp, rho0, 2, n_grid=48)
    for f in ("eta", "bound", "step", "max_kl", "pi"):
        np.testing.assert_array_equal(getattr(a, f), getattr(b, f))


def test_mm_with_two_grid_points_still_improves():
    # n_grid = 2 (the minimum): alpha = 0 and one step size; the refinement still finds
    # a better policy than pi_0 when there is advantage to gain
    mdp, rho0 = rb.random_mdp(3, 2, 0.7, seed=4), np.array([0.2, 0.3, 0.5])
    res = mm_policy_iteration(mdp, rho0, 1, n_grid=2)
    assert res.step[0] > 0 and res.eta[1] > res.eta[0] and res.bound[0] > res.eta[0]


@pytest.mark.parametrize("n_grid", [2, 3, 7, None])
def test_mm_scans_n_grid_log_spaced_step_sizes(monkeypatch, n_grid):
    # the docstring: "a log-spaced grid of n_grid step sizes is scanned" with alpha = 0 among
    # them; the code's comment: the positive ones run from 1e-6 / eps to 1e3 / eps
    seen = []
    orig = imp._exp_adv

    def spy(pi, A, alpha):
        seen.append(float(alpha))
        return orig(pi, A, alpha)

    monkeypatch.setattr(imp, "_exp_adv", spy)
    mdp, rho0 = _bandits([3.0], 0.5), np.array([1.0])
    kw = {} if n_grid is None else {"n_grid": n_grid}
    mm_policy_iteration(mdp, rho0, 1, **kw)
    g = 48 if n_grid is None else n_grid
    eps = 3.0
    grid = np.array(seen[:g])
    assert grid[0] == 0.0
    np.testing.assert_allclose(grid[1:] * eps, np.geomspace(1e-6, 1e3, g - 1), rtol=1e-12)
    # the evaluations after the scan refine inside it
    assert all(0.0 <= a <= grid[-1] for a in seen[g:])
