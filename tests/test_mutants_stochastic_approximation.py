"""Survivors of mutmut on rlbook/model_free/stochastic_approximation.py (C6).

Each test states a documented behaviour the survivors broke: the argument named in
an error, the iterate history starting at ``w0``, the step sizes returned, the batch
shapes and the uniform draws of ``sgd`` with independent runs, and the progress bar.
"""
from __future__ import annotations

import re

import numpy as np
import pytest

import rlbook as rb


@pytest.mark.parametrize("call, name", [
    (lambda n: rb.step_sizes(0.1, n), "n_iter"),
    (lambda n: rb.robbins_monro(lambda w, g: w, 0.0, n, a=0.1, rng=0), "n_iter"),
    (lambda n: rb.robbins_monro(lambda w, g: w, 0.0, 3, a=0.1, rng=0, n_runs=n), "n_runs"),
    (lambda n: rb.sgd(lambda w, x: w - x, [1.0], 0.0, 3, a=0.1, rng=0, n_runs=n), "n_runs"),
    (lambda n: rb.sgd(lambda w, x: w - x, [1.0], 0.0, 3, a=0.1, rng=0, batch_size=n),
     "batch_size"),
])
def test_counts_below_one_are_refused_by_name_and_one_is_accepted(call, name):
    with pytest.raises(ValueError, match=rf"^{name} is 0, expected an integer >= 1$"):
        call(0)
    call(1)  # the smallest valid count


@pytest.mark.parametrize("call, name", [
    (lambda bad: rb.robbins_monro(lambda w, g: w, bad, 3, a=0.1, rng=0), "w0"),
    (lambda bad: rb.sgd(lambda w, x: w - x, [1.0, bad], 0.0, 3, a=0.1, rng=0), "data"),
])
def test_non_finite_arrays_are_refused_by_name(call, name):
    with pytest.raises(ValueError, match=rf"^{name}(\[\d+\])? is nan, expected a finite"):
        call(float("nan"))


def test_step_size_error_names_the_iteration():
    with pytest.raises(ValueError, match=re.escape(
            "a_3 (step size of iteration k = 3) is -1.0, expected a finite number > 0")):
        rb.step_sizes([0.5, 0.5, -1.0], 3)
    with pytest.raises(ValueError, match=r"at most 2 \(the number of samples\) when drawing "
                                         r"without replacement$"):
        rb.sgd(lambda w, x: w - x, [1.0, 2.0], 0.0, 3, a=0.1, rng=0, batch_size=3,
               replace=False)


def test_step_sizes_are_floats_and_are_returned():
    vals = rb.step_sizes([1, 2, 3], 3)  # integers given: float step sizes
    assert vals.dtype == np.float64
    res = rb.robbins_monro(lambda w, g: w - 2.0, 0.0, 4, a=lambda k: 1 / k, rng=0)
    np.testing.assert_array_equal(res.a, [1.0, 1 / 2, 1 / 3, 1 / 4])


def test_history_starts_at_w0_and_follows_the_recursion():
    # g(w) = w - 2 without noise, a_k = 1/2: w_{k+1} = w_k - (w_k - 2)/2 = (w_k + 2)/2
    res = rb.robbins_monro(lambda w, g: w - 2.0, 10.0, 3, a=0.5, rng=0)
    np.testing.assert_allclose(res.history, [10.0, 6.0, 4.0, 3.0])
    runs = rb.robbins_monro(lambda w, g: w - 2.0, 10.0, 3, a=0.5, rng=0, n_runs=2)
    np.testing.assert_allclose(runs.history, [[10.0, 6.0, 4.0, 3.0]] * 2)


def test_progress_bar_is_off_by_default_and_names_itself(capsys):
    rb.robbins_monro(lambda w, g: w, 0.0, 5, a=0.5, rng=0)
    assert capsys.readouterr().out == ""
    rb.robbins_monro(lambda w, g: w, 0.0, 5, a=0.5, rng=0, progress=True)
    out = capsys.readouterr().out
    assert re.search(r"Robbins-Monro: 100%\|[^|]*\| 5/5 it(\s|$)", out), out


def test_sgd_batches_with_independent_runs_have_a_run_axis():
    # the documented contract: with n_runs, grad sees w as (runs, 1) and x as (runs, m)
    data = np.arange(6.0)
    seen = []

    def grad(w, x):
        seen.append(x.shape)
        assert w.shape == (3, 1)
        return w - x

    for batch_size, replace in [(None, True), (2, True), (4, False)]:
        seen.clear()
        rb.sgd(grad, data, 0.0, 2, a=0.1, rng=0, batch_size=batch_size, replace=replace,
               n_runs=3)
        m = 6 if batch_size is None else batch_size
        assert seen == [(3, m)] * 2


def test_sgd_without_replacement_draws_distinct_samples_per_run():
    data = np.arange(5.0)
    batches = []
    rb.sgd(lambda w, x: batches.append(x.copy()) or w - x, data, 0.0, 50, a=0.1, rng=1,
           batch_size=5, replace=False, n_runs=2)
    for b in batches:  # every run's batch is a permutation of the data
        np.testing.assert_array_equal(np.sort(b, axis=-1), np.tile(data, (2, 1)))
    # and the two runs draw their own orders (not one order for both)
    assert any(not np.array_equal(b[0], b[1]) for b in batches)


def test_sgd_draws_every_sample_uniformly():
    # 4 samples, batches of 1 with replacement, 4000 draws: each count is
    # Binomial(4000, 1/4), mean 1000, sd sqrt(4000 * 3/16) = 27.4; 5 sd is 137
    data = np.arange(4.0)
    drawn = []
    rb.sgd(lambda w, x: drawn.append(x.copy()) or w - x, data, 0.0, 4000, a=0.01, rng=3)
    counts = np.bincount(np.concatenate(drawn).astype(int), minlength=4)
    sd = np.sqrt(4000 * 0.25 * 0.75)
    assert np.all(np.abs(counts - 1000) < 5 * sd), counts
    # power: never drawing sample 0 would leave counts near (0, 1333, 1333, 1333)
    assert 1000 - 0 > 5 * sd and 1333 - 1000 > 5 * sd


def test_wrong_kinds_of_counts_and_step_arrays_are_named():
    with pytest.raises(TypeError, match=r"^n_iter must be an integer, got 2\.5$"):
        rb.robbins_monro(lambda w, g: w, 0.0, 2.5, a=0.1, rng=0)
    with pytest.raises(TypeError, match=r"^n_runs must be an integer, got 2\.5$"):
        rb.sgd(lambda w, x: w - x, [1.0], 0.0, 3, a=0.1, rng=0, n_runs=2.5)
    with pytest.raises(ValueError, match=re.escape(
            "a has shape (2,), expected (3,): one step size per iteration")):
        rb.step_sizes([0.1, 0.1], 3)


def test_sgd_draws_with_replacement_by_default():
    # batches of n = 5 out of 5 samples: with replacement a batch repeats a sample
    # with probability 1 - 5!/5^5 = 0.96 each time; without, never (tested above)
    data = np.arange(5.0)
    batches = []
    rb.sgd(lambda w, x: batches.append(x.copy()) or w - x, data, 0.0, 20, a=0.1, rng=2,
           batch_size=5)
    assert sum(len(np.unique(b)) < 5 for b in batches) >= 10  # expected 19.2 of 20
