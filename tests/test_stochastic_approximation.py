"""Stochastic approximation and SGD (Chapter 6)."""
import numpy as np
import pytest

import rlbook as rb


def test_step_sizes_forms():
    np.testing.assert_allclose(rb.step_sizes(lambda k: 1 / k, 4), [1, 1 / 2, 1 / 3, 1 / 4])
    np.testing.assert_allclose(rb.step_sizes(0.1, 3), [0.1] * 3)
    np.testing.assert_allclose(rb.step_sizes([0.3, 0.2], 2), [0.3, 0.2])


@pytest.mark.parametrize("a", [0.0, -1.0, lambda k: 1 / k - 0.5, [0.1, 0.0, 0.1], float("inf")])
def test_non_positive_step_sizes(a):
    with pytest.raises(ValueError, match="step size"):
        rb.step_sizes(a, 3)
    with pytest.raises(ValueError, match="step size"):
        rb.robbins_monro(lambda w, g: w, 0.0, 3, a=a, rng=0)


def test_step_sizes_shape():
    with pytest.raises(ValueError, match="one step size per"):
        rb.step_sizes([0.1, 0.1], 3)


def test_rm_with_one_over_k_gives_sample_means():
    x = np.random.default_rng(0).normal(3.0, 1.0, 100)
    it = iter(x)
    res = rb.robbins_monro(lambda w, g: w - next(it), 7.0, 100, a=lambda k: 1 / k, rng=0)
    np.testing.assert_allclose(res.history[1:], np.cumsum(x) / np.arange(1, 101), rtol=1e-12)
    assert res.history.shape == (101,) and res.w == res.history[-1]


def test_rm_finds_root_of_tanh_with_noise():
    res = rb.robbins_monro(lambda w, g: np.tanh(w - 1) + g.normal(0, 0.5, np.shape(w)), 3.0,
                           3000, a=lambda k: 1 / k, rng=1, n_runs=200)
    assert res.history.shape == (200, 3001)
    final = res.w
    assert abs(final.mean() - 1.0) < 5 * final.std(ddof=1) / np.sqrt(200)
    # constant step keeps fluctuating; 1/k^2 stops short
    const = rb.robbins_monro(lambda w, g: np.tanh(w - 1) + g.normal(0, 0.5, np.shape(w)), 3.0,
                             3000, a=0.5, rng=1, n_runs=200)
    assert const.w.std() > 3 * final.std()
    short = rb.robbins_monro(lambda w, g: np.tanh(w - 1), 3.0, 3000, a=lambda k: 1 / k**2,
                             rng=1)
    assert short.w > 1.5


def test_sgd_bgd_is_gradient_descent():
    x = np.random.default_rng(2).normal(size=(20, 2))
    res = rb.sgd(lambda w, b: w - b, x, np.array([5.0, -5.0]), 10, a=0.3, rng=0,
                 batch_size=None)
    xbar = x.mean(0)
    want = xbar + 0.7 ** np.arange(11)[:, None] * (np.array([5.0, -5.0]) - xbar)
    np.testing.assert_allclose(res.history, want, rtol=1e-12)


def test_sgd_variants_run_and_shapes():
    x = np.random.default_rng(3).normal(size=(50,))
    for m, rep in ((1, True), (5, True), (5, False), (50, False)):
        r = rb.sgd(lambda w, b: w - b, x, 0.0, 200, a=lambda k: 1 / k, rng=0, batch_size=m,
                   replace=rep, n_runs=4)
        assert r.history.shape == (4, 201)
    # m = n without replacement is BGD
    r = rb.sgd(lambda w, b: w - b, x, 0.0, 1, a=1.0, rng=0, batch_size=50, replace=False)
    assert r.w == pytest.approx(x.mean())
    r1 = rb.sgd(lambda w, b: w - b, x, 0.0, 1, a=1.0, rng=0)
    assert r1.w in x


def test_sgd_bad_inputs():
    x = np.zeros(5)
    with pytest.raises(ValueError, match="batch_size"):
        rb.sgd(lambda w, b: w - b, x, 0.0, 3, a=0.1, rng=0, batch_size=6, replace=False)
    with pytest.raises(ValueError, match="batch_size"):
        rb.sgd(lambda w, b: w - b, x, 0.0, 3, a=0.1, rng=0, batch_size=0)
    with pytest.raises(ValueError, match="data"):
        rb.sgd(lambda w, b: w - b, np.zeros(0), 0.0, 3, a=0.1, rng=0)
    with pytest.raises(ValueError, match="step size"):
        rb.sgd(lambda w, b: w - b, x, 0.0, 3, a=-0.1, rng=0)
    with pytest.raises(TypeError, match="rng"):
        rb.sgd(lambda w, b: w - b, x, 0.0, 3, a=0.1, rng=None)
