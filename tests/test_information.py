import numpy as np
import pytest
from scipy.integrate import quad
from scipy.stats import norm

import rlbook as rb


def _rand_pairs(rng, n=200, k=5):
    p = rng.dirichlet(np.ones(k) * 0.5, size=n)
    q = rng.dirichlet(np.ones(k) * 0.5, size=n)
    return p, q


def test_known_values():
    assert rb.entropy([0.5, 0.5]) == pytest.approx(np.log(2))
    assert rb.entropy(np.ones(8) / 8) == pytest.approx(np.log(8))
    assert rb.entropy([1.0, 0.0]) == 0.0
    # KL(Bern(1/2) || Bern(1/4)) = 1/2 log 2 + 1/2 log(2/3)
    assert rb.kl_divergence([0.5, 0.5], [0.25, 0.75]) == pytest.approx(0.5 * np.log(2) + 0.5 * np.log(2 / 3))
    assert rb.kl_divergence([0.3, 0.7], [0.3, 0.7]) == 0.0
    assert rb.total_variation([1, 0, 0], [0, 0.5, 0.5]) == pytest.approx(1.0)
    assert rb.cross_entropy([0.5, 0.5], [0.25, 0.75]) == pytest.approx(-0.5 * np.log(0.25) - 0.5 * np.log(0.75))


def test_zero_conventions():
    assert rb.kl_divergence([0.5, 0.5], [1.0, 0.0]) == np.inf
    assert rb.cross_entropy([0.5, 0.5], [1.0, 0.0]) == np.inf
    # 0 log 0 = 0: a zero in p (even where q is zero) contributes nothing
    assert rb.kl_divergence([1.0, 0.0], [0.5, 0.5]) == pytest.approx(np.log(2))
    assert rb.kl_divergence([1.0, 0.0], [1.0, 0.0]) == 0.0
    assert np.isfinite(rb.cross_entropy([1.0, 0.0], [1.0, 0.0]))


def test_cross_entropy_decomposition_and_pinsker():
    rng = np.random.default_rng(0)
    p, q = _rand_pairs(rng)
    np.testing.assert_allclose(rb.cross_entropy(p, q), rb.entropy(p) + rb.kl_divergence(p, q), rtol=1e-12)
    tv, kl = rb.total_variation(p, q), rb.kl_divergence(p, q)
    assert (kl >= 0).all() and (tv <= 1).all()
    assert (tv <= np.sqrt(kl / 2) + 1e-12).all()
    # not symmetric in general
    assert np.abs(kl - rb.kl_divergence(q, p)).max() > 1e-3


def test_axis_argument():
    rng = np.random.default_rng(1)
    p, q = _rand_pairs(rng, n=7, k=4)
    np.testing.assert_allclose(rb.kl_divergence(p.T, q.T, axis=0), rb.kl_divergence(p, q))
    np.testing.assert_allclose(rb.entropy(p.T, axis=0), rb.entropy(p))
    np.testing.assert_allclose(rb.total_variation(p.T, q.T, axis=0), rb.total_variation(p, q))
    np.testing.assert_allclose(rb.cross_entropy(p.T, q.T, axis=0), rb.cross_entropy(p, q))
    assert rb.entropy(p).shape == (7,)


def test_categorical_errors():
    with pytest.raises(ValueError, match="sums to"):
        rb.entropy([0.5, 0.4])
    with pytest.raises(ValueError, match="non-negative"):
        rb.kl_divergence([1.2, -0.2], [0.5, 0.5])
    with pytest.raises(ValueError, match="same shape"):
        rb.kl_divergence([0.5, 0.5], [0.2, 0.3, 0.5])
    with pytest.raises(ValueError, match="axis"):
        rb.entropy([0.5, 0.5], axis=1)
    with pytest.raises(ValueError, match="scalar"):
        rb.entropy(1.0)
    with pytest.raises(ValueError, match="finite"):
        rb.total_variation([np.nan, 1.0], [0.5, 0.5])
    with pytest.raises(TypeError, match="axis"):
        rb.entropy([0.5, 0.5], axis=0.5)
    with pytest.raises(ValueError, match="no outcomes"):
        rb.entropy(np.zeros((2, 0)))


def test_gaussian_entropy_and_kl():
    assert rb.gaussian_entropy(0.0, 1.0) == pytest.approx(0.5 * np.log(2 * np.pi * np.e))
    # entropy vs numerical integral of -p log p
    h = quad(lambda x: -norm.pdf(x, 1, 2) * norm.logpdf(x, 1, 2), -40, 40)[0]
    assert rb.gaussian_entropy(1.0, 2.0) == pytest.approx(h, rel=1e-9)
    kl = quad(lambda x: norm.pdf(x, 0.3, 0.7) * (norm.logpdf(x, 0.3, 0.7) - norm.logpdf(x, -1, 1.5)), -30, 30)[0]
    assert rb.gaussian_kl(0.3, 0.7, -1.0, 1.5) == pytest.approx(kl, rel=1e-9)
    assert rb.gaussian_kl(2.0, 1.3, 2.0, 1.3) == 0.0
    # vectorised & broadcast
    out = rb.gaussian_kl(np.zeros(3), 1.0, np.array([0.0, 1.0, 2.0]), 1.0)
    np.testing.assert_allclose(out, [0.0, 0.5, 2.0])


@pytest.mark.parametrize("args", [(0, 1, 1, 1), (0, 1, 0, 2), (0.3, 0.5, -1, 1.7), (5, 3, -2, 0.2),
                                  (0, 1, 0, 1 + 1e-7), (1, 2, 1.0001, 2)])
def test_gaussian_tv_against_quadrature(args):
    m1, s1, m2, s2 = args
    num = quad(lambda x: abs(norm.pdf(x, m1, s1) - norm.pdf(x, m2, s2)) / 2, -80, 80,
               points=[m1, m2], limit=500, epsabs=1e-13)[0]
    assert rb.gaussian_total_variation(m1, s1, m2, s2) == pytest.approx(num, abs=1e-9)


def test_gaussian_tv_properties():
    rng = np.random.default_rng(2)
    mp, mq = rng.normal(size=50), rng.normal(size=50)
    sp_, sq = rng.uniform(0.2, 3, 50), rng.uniform(0.2, 3, 50)
    tv = rb.gaussian_total_variation(mp, sp_, mq, sq)
    np.testing.assert_allclose(tv, rb.gaussian_total_variation(mq, sq, mp, sp_), atol=1e-12)
    assert (tv <= np.sqrt(rb.gaussian_kl(mp, sp_, mq, sq) / 2) + 1e-12).all()  # Pinsker
    # equal variances: 2 Phi(|dmu| / (2 sigma)) - 1
    np.testing.assert_allclose(rb.gaussian_total_variation(mp, 1.3, mq, 1.3),
                               2 * norm.cdf(np.abs(mp - mq) / 2.6) - 1, atol=1e-12)
    assert rb.gaussian_total_variation(1.0, 2.0, 1.0, 2.0) == 0.0


def test_gaussian_errors():
    with pytest.raises(ValueError, match="sigma"):
        rb.gaussian_entropy(0.0, 0.0)
    with pytest.raises(ValueError, match="sigma_q"):
        rb.gaussian_kl(0.0, 1.0, 0.0, -1.0)
    with pytest.raises(ValueError, match="sigma_p"):
        rb.gaussian_total_variation(0.0, [1.0, -2.0], 0.0, 1.0)
    with pytest.raises(ValueError, match="broadcast"):
        rb.gaussian_kl(np.zeros(2), 1.0, np.zeros(3), 1.0)


def test_kl_is_not_clipped_at_zero():
    # regression: kl_divergence / gaussian_kl used to return max(kl, 0), which hides
    # sign errors; a pair within roundoff of each other gives a tiny negative sum
    p = np.array([0.39546198954297845, 0.5930180594914135, 0.011519950965607977])
    q = np.array([0.39546198969203294, 0.59301805933506, 0.0115199509729071])
    raw = float(np.sum(p * np.log(p / q)))
    assert raw < 0
    assert rb.kl_divergence(p, q) == raw
    mu, sigma = -1.009618183538736, 0.8112527875345249
    sigma_q = sigma * (1 + 1e-12)
    raw_g = np.log(sigma_q / sigma) + sigma**2 / (2 * sigma_q**2) - 0.5
    assert rb.gaussian_kl(mu, sigma, mu, sigma_q) == raw_g
    # a sign error in a caller (swapping the log ratio) now shows as a negative KL
    r = np.array([0.2, 0.8])
    s_ = np.array([0.5, 0.5])
    assert -rb.kl_divergence(r, s_) < 0
