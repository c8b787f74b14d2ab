"""Mutation-survivor tests for trust_region/information and trust_region/natural_gradient.

Each test checks a contract (docstring, error message naming the argument, an
independent formula such as numerical integration or ``numpy.linalg.solve``, or an
explicit Fisher matrix), not today's output.  Grouped by function.
"""
import warnings

import numpy as np
import pytest
import torch
from scipy.integrate import quad
from scipy.stats import norm

import rlbook as rb


def _no_warnings(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return fn(*args, **kwargs)


# --------------------------------------------------------------------------- _out
def test_scalar_results_are_python_floats_and_batches_stay_arrays():
    # documented return type "float or ndarray": a single distribution gives a float
    p, q = [0.5, 0.5], [0.25, 0.75]
    scalars = [rb.entropy(p), rb.cross_entropy(p, q), rb.kl_divergence(p, q),
               rb.total_variation(p, q), rb.gaussian_entropy(0.0, 2.0),
               rb.gaussian_kl(0.0, 1.0, 1.0, 2.0), rb.gaussian_total_variation(0.0, 1.0, 1.0, 2.0)]
    assert [type(x) for x in scalars] == [float] * len(scalars)
    batch = rb.kl_divergence([p, q], [q, p])
    assert isinstance(batch, np.ndarray) and batch.shape == (2,)


# ------------------------------------------------ _categorical, _pair, kl_divergence
def test_categorical_message_names_the_moved_axis():
    p = [[0.5, 0.5], [0.6, 0.5]]  # columns are the distributions (axis 0); column 0 sums to 1.1
    q = [[0.5, 0.5], [0.5, 0.5]]
    with pytest.raises(ValueError, match=r"^p \(axis 0 moved last\)\[0, :\] sums to 1\.1"):
        rb.kl_divergence(p, q, axis=0)


def test_pair_messages_name_p_and_q():
    with pytest.raises(ValueError, match=r"^p\[1\] is -0\.5, expected a non-negative"):
        rb.kl_divergence([1.5, -0.5], [0.5, 0.5])
    with pytest.raises(ValueError, match=r"^q\[1\] is -0\.5, expected a non-negative"):
        rb.kl_divergence([0.5, 0.5], [1.5, -0.5])


def test_kl_with_common_zero_outcomes_is_exact_and_silent():
    # 0 log(0/0) = 0 by convention: no nan, no floating-point warning
    p = np.array([0.25, 0.75, 0.0])
    assert _no_warnings(rb.kl_divergence, p, p) == 0.0
    expected = 0.25 * np.log(0.25 / 0.5) + 0.75 * np.log(0.75 / 0.5)
    got = _no_warnings(rb.kl_divergence, p, [0.5, 0.5, 0.0])
    assert got == pytest.approx(expected, rel=1e-14)


# ------------------------------------------------------------------- _gauss_args
def test_gauss_args_non_finite_message_names_the_argument():
    with pytest.raises(ValueError, match=r"^mu_p is nan, expected a finite number"):
        rb.gaussian_kl(np.nan, 1.0, 0.0, 1.0)
    with pytest.raises(ValueError, match=r"^mu_q is inf, expected a finite number"):
        rb.gaussian_total_variation(0.0, 1.0, np.inf, 1.0)


def test_gauss_args_sigma_message_gives_the_index_only_for_arrays():
    with pytest.raises(ValueError, match=r"^sigma_q\[1\] is \S*-1\.0\S*, expected a standard"):
        rb.gaussian_kl(0.0, 1.0, 0.0, [1.0, -1.0, 2.0])
    with pytest.raises(ValueError, match=r"^sigma_p\[0, 1\] is \S*0\.0\S*, expected a standard"):
        rb.gaussian_total_variation(0.0, [[1.0, 0.0]], 0.0, 1.0)
    with pytest.raises(ValueError, match=r"^sigma_p is \S*-2\.0\S*, expected a standard"):
        rb.gaussian_kl(0.0, -2.0, 0.0, 1.0)
    with pytest.raises(ValueError, match=r"^sigma is \S*0\.0\S*, expected a standard"):
        rb.gaussian_entropy(0.0, 0.0)


def test_gauss_args_broadcast_message_lists_every_shape():
    msg = (r"^arguments cannot be broadcast together: mu_p \(2,\), sigma_p \(3,\), "
           r"mu_q \(\), sigma_q \(\)$")
    with pytest.raises(ValueError, match=msg):
        rb.gaussian_kl([0.0, 0.0], [1.0, 1.0, 1.0], 0.0, 1.0)


# ------------------------------------------------------ gaussian_total_variation
def _tv_quad(mu_p, sigma_p, mu_q, sigma_q):
    """(1/2) int |p - q| by adaptive quadrature (independent of the closed form)."""
    lo = min(mu_p - 12 * sigma_p, mu_q - 12 * sigma_q)
    hi = max(mu_p + 12 * sigma_p, mu_q + 12 * sigma_q)
    f = lambda x: abs(norm.pdf(x, mu_p, sigma_p) - norm.pdf(x, mu_q, sigma_q))  # noqa: E731
    pts = np.linspace(lo, hi, 41)[1:-1]
    return 0.5 * quad(f, lo, hi, points=pts, limit=400, epsabs=1e-13)[0]


@pytest.mark.parametrize("args", [(0.0, 1.0, 0.0, 2.0), (0.0, 1.0, 0.0, 1.0 + 1e-3),
                                  (1.0, 1.0, 4.0, 4.0), (-2.0, 3.0, 5.0, 0.5),
                                  (0.3, 0.7, -0.2, 0.7)])
def test_gaussian_tv_matches_quadrature(args):
    got = _no_warnings(rb.gaussian_total_variation, *args)
    assert got == pytest.approx(_tv_quad(*args), abs=1e-9)


def test_gaussian_tv_of_numerically_identical_gaussians_is_zero_not_nan():
    # the means differ by far less than sigma; Pinsker bounds TV by sqrt(KL / 2),
    # KL = (mu_p - mu_q)^2 / (2 sigma^2) < 1e-300; the log-ratio's coefficients b and c
    # underflow to 0, which used to give 0 / 0 = nan
    for args in [(1e-20, 1e154, 2e-20, 1e154), (0.0, 1e3, 1e-320, 1e3)]:
        got = _no_warnings(rb.gaussian_total_variation, *args)
        assert 0.0 <= got <= 1e-150
    vec = rb.gaussian_total_variation([1e-20, 0.0], 1e154, [2e-20, 1.0], 1e154)
    assert vec[0] == 0.0 and vec[1] == pytest.approx(0.0, abs=1e-150)
    # identical Gaussians: exactly 0, silently
    assert _no_warnings(rb.gaussian_total_variation, [1.5, 0.0], 2.0, [1.5, 0.0], 2.0).tolist() \
        == [0.0, 0.0]


def test_gaussian_tv_is_scale_invariant_and_silent_at_huge_scales():
    # TV is invariant under x -> s x; at s = 1e153 the root c / qq of the log-ratio is a
    # division by zero (qq underflows), which must stay silent
    for ratio in (1 + 1e-12, 1 + 1e-14):
        ref = rb.gaussian_total_variation(0.0, 1.0, 0.0, ratio)
        got = _no_warnings(rb.gaussian_total_variation, 0.0, 1e153, 0.0, 1e153 * ratio)
        assert got == pytest.approx(ref, abs=1e-9)
    ref = rb.gaussian_total_variation(0.0, 1.0, 0.0, 2.0)
    got = _no_warnings(rb.gaussian_total_variation, 0.0, 1e153, 0.0, 2e153)
    assert got == pytest.approx(ref, rel=1e-12)


# ------------------------------------------------------------ conjugate_gradient
_A = np.array([[4.0, 1.0, 0.0], [1.0, 3.0, 1.0], [0.0, 1.0, 2.0]])


def test_cg_converts_a_float32_right_hand_side_to_float64():
    b = np.array([1.0, 2.0, 3.0], dtype=np.float32)
    x = rb.conjugate_gradient(lambda v: _A @ v, b)
    assert x.dtype == np.float64
    np.testing.assert_allclose(x, np.linalg.solve(_A, b.astype(np.float64)), rtol=1e-12)


def test_cg_non_finite_b_messages():
    with pytest.raises(ValueError, match=r"^b\[1\] is nan, expected a finite number"):
        rb.conjugate_gradient(lambda v: v, [1.0, np.nan, np.inf])
    with pytest.raises(ValueError, match=r"^b contains non-finite entries"):
        rb.conjugate_gradient(lambda v: v, torch.tensor([1.0, float("nan")]))


def test_cg_argument_errors_name_the_argument():
    with pytest.raises(ValueError, match=r"^max_iter is -1, expected an integer >= 0"):
        rb.conjugate_gradient(lambda v: v, [1.0], max_iter=-1)
    with pytest.raises(ValueError, match=r"^tol is -1"):
        rb.conjugate_gradient(lambda v: v, [1.0], tol=-1.0)


def test_cg_max_iter_zero_returns_the_starting_point():
    b = np.array([1.0, 2.0, 3.0])
    x, info = rb.conjugate_gradient(lambda v: _A @ v, b, max_iter=0, return_info=True)
    np.testing.assert_array_equal(x, np.zeros(3))
    assert info.num_iter == 0 and not info.converged
    np.testing.assert_allclose(info.residual_norms, [np.linalg.norm(b)])


@pytest.mark.parametrize("tol", [1.0, 2.0])
def test_cg_stops_at_once_when_the_initial_residual_meets_the_tolerance(tol):
    # ||r_0|| = ||b|| <= tol ||b|| for tol >= 1: x_0 = 0 is accepted, no iteration
    x, info = rb.conjugate_gradient(lambda v: _A @ v, np.array([1.0, 2.0, 3.0]), tol=tol,
                                    return_info=True)
    np.testing.assert_array_equal(x, np.zeros(3))
    assert info.num_iter == 0 and info.converged


def test_cg_tol_zero_stops_on_an_exactly_zero_residual():
    # A = I: alpha_0 = 1 and r_1 = b - b = 0 exactly, so ||r_1|| <= 0 * ||b|| holds
    b = np.array([1.0, -2.0, 0.5])
    x, info = rb.conjugate_gradient(lambda v: v, b, tol=0.0, return_info=True)
    np.testing.assert_array_equal(x, b)
    assert info.num_iter == 1 and info.converged


def test_cg_keeps_the_torch_dtype_of_b_even_without_a_numpy_counterpart():
    # bfloat16 has no NumPy dtype: the inner products must stay in torch. A = 2 I is
    # solved exactly in one step (alpha = 1/2).
    b = torch.tensor([1.0, 2.0, -4.0], dtype=torch.bfloat16)
    x = rb.conjugate_gradient(lambda v: 2 * v, b)
    assert x.dtype == torch.bfloat16
    assert torch.equal(x, b / 2)


# -------------------------------------------------------- fisher_vector_product
def _softmax_kl(theta, pi_old):
    logp = torch.log_softmax(theta, dim=-1)
    return (pi_old * (torch.log(pi_old) - logp)).sum()


def test_fvp_argument_errors():
    theta = torch.zeros(3, requires_grad=True)
    pi_old = torch.full((3,), 1 / 3)
    with pytest.raises(TypeError, match=r"^v must be a torch\.Tensor, got ndarray"):
        rb.fisher_vector_product(lambda: _softmax_kl(theta, pi_old), [theta], np.ones(3))
    with pytest.raises(ValueError, match=r"^damping is -1"):
        rb.fisher_vector_product(lambda: _softmax_kl(theta, pi_old), [theta], torch.ones(3),
                                 damping=-1.0)


def test_fvp_accepts_v_of_another_dtype_than_the_parameters():
    # softmax policy with logits theta: F = diag(pi) - pi pi^T at theta = theta_old
    theta0 = torch.tensor([0.2, -0.5, 1.0])
    theta = theta0.clone().requires_grad_(True)  # float32
    pi = torch.softmax(theta0, dim=-1)
    v = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)
    out = rb.fisher_vector_product(lambda: _softmax_kl(theta, pi), [theta], v)
    pi64 = pi.double().numpy()
    F = np.diag(pi64) - np.outer(pi64, pi64)
    np.testing.assert_allclose(out.double().numpy(), F @ v.numpy(), rtol=1e-5, atol=1e-6)


def test_fvp_parameter_outside_the_curvature_gets_a_zero_block():
    # KL + 0 * w.sum(): the Hessian's w block is 0, and the w entries of F v are 0
    theta0 = torch.tensor([0.1, 0.4, -0.3], dtype=torch.float64)
    theta = theta0.clone().requires_grad_(True)
    w = torch.ones(2, dtype=torch.float64, requires_grad=True)
    pi = torch.softmax(theta0, dim=-1)
    v = torch.tensor([1.0, 0.5, -1.0, 3.0, -2.0], dtype=torch.float64)
    out = rb.fisher_vector_product(lambda: _softmax_kl(theta, pi) + 0.0 * w.sum(), [theta, w], v)
    pin = pi.numpy()
    F = np.diag(pin) - np.outer(pin, pin)
    np.testing.assert_allclose(out[:3].numpy(), F @ v[:3].numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(out[3:].numpy(), np.zeros(2))
