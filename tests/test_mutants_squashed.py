"""Mutation-survivor tests for ``rlbook/max_entropy/squashed.py`` (issue 14).

Each test checks a contract: the density of ``a = c tanh(u)`` by a numerical change of
variables (SciPy's normal log-density plus the log of a finite-difference derivative of
``u = atanh(a / c)``), or an error message pinned with ``match=`` on the argument's name,
index and value. None of them pins today's output.
"""
import re

import numpy as np
import pytest
import torch
from scipy.stats import norm

import rlbook as rb


def _numerical_log_density(a, mean, std, c, h=1e-6):
    """log p(a) for a = c tanh(u), u ~ N(mean, std^2), one dimension at a time:
    log N(u(a)) + log |du/da| with u(a) = atanh(a / c) and du/da by central differences."""
    u = np.arctanh(a / c)
    du_da = (np.arctanh((a + h) / c) - np.arctanh((a - h) / c)) / (2 * h)
    return (norm.logpdf(u, mean, std) + np.log(np.abs(du_da))).sum(-1)


@pytest.mark.parametrize("kind", ["numpy", "torch"])
@pytest.mark.parametrize("scale", [1.0, 2.5, [1.0, 3.0]])
def test_squashed_log_prob_is_the_density_of_the_action(kind, scale):
    u = np.array([[0.4, -1.1], [1.5, 0.2], [-0.7, 0.9]])
    mean, log_std = np.array([0.1, -0.5]), np.array([0.3, -0.2])
    c = np.broadcast_to(np.asarray(scale, dtype=np.float64), u.shape)
    a = c * np.tanh(u)
    ref = _numerical_log_density(a, mean, np.exp(log_std), c)
    if kind == "numpy":
        got = rb.squashed_gaussian_log_prob(u, mean, log_std, scale)
    else:
        t = lambda x: torch.as_tensor(x, dtype=torch.float64)  # noqa: E731
        got = rb.squashed_gaussian_log_prob(t(u), t(mean), t(log_std), scale).numpy()
    # central differences: relative error of du/da about h^2 |u'''/u'| + 1e-16 / h
    np.testing.assert_allclose(got, ref, rtol=1e-7, atol=1e-7)


def test_mixed_kinds_message_names_each_argument_and_its_type():
    with pytest.raises(TypeError, match=r"got u ndarray, mean Tensor, log_std Tensor$"):
        rb.squashed_gaussian_log_prob(np.zeros(2), torch.zeros(2), torch.zeros(2))
    with pytest.raises(TypeError, match=r"got u Tensor, mean Tensor, log_std ndarray$"):
        rb.squashed_gaussian_log_prob(torch.zeros(2), torch.zeros(2), np.zeros(2))


@pytest.mark.parametrize("k, name", [(0, "u"), (1, "mean"), (2, "log_std"), (3, "scale")])
def test_squashed_log_prob_names_the_non_finite_argument(k, name):
    args = [np.zeros(2), np.zeros(2), np.zeros(2), np.ones(2)]
    args[k] = np.array([1.0, np.nan])
    with pytest.raises(ValueError, match=rf"^{name}\[1\] is nan, expected a finite number$"):
        rb.squashed_gaussian_log_prob(*args)


@pytest.mark.parametrize("scale, shown", [([1.0, 0.0], r"scale\[1\] is 0\.0"),
                                          ([-2.0, 1.0], r"scale\[0\] is -2\.0"),
                                          (0.0, r"scale\[0\] is 0\.0")])
def test_squashed_log_prob_numpy_names_a_non_positive_half_width(scale, shown):
    z = np.zeros(2)
    with pytest.raises(ValueError, match=rf"^{shown}, expected a positive half-width$"):
        rb.squashed_gaussian_log_prob(z, z, z, scale)


@pytest.mark.parametrize("shapes", [((3,), (2,), (2,), ()), ((2,), (3,), (2,), ()),
                                    ((2,), (2,), (3,), ()), ((2,), (2,), (2,), (3,))])
def test_squashed_log_prob_names_all_shapes_when_one_does_not_broadcast(shapes):
    su, sm, sl, sc = shapes
    args = [np.zeros(su), np.zeros(sm), np.zeros(sl), np.ones(sc)]

    def fmt(s):
        return re.escape(str(s))

    msg = (rf"^u {fmt(su)}, mean {fmt(sm)}, log_std {fmt(sl)} and scale {fmt(sc)} "
           r"do not broadcast$")
    with pytest.raises(ValueError, match=msg):
        rb.squashed_gaussian_log_prob(*args)


def test_squashed_log_prob_refuses_a_scalar_u():
    with pytest.raises(ValueError, match=r"^u must have at least one dimension \(the action "
                                         r"axis, summed over\)$"):
        rb.squashed_gaussian_log_prob(0.5, 0.0, 0.0)
