"""Survivors of mutmut on rlbook/approximation/features.py (C8): the bucket index on a
box that does not start at 0 or has width other than 1, ``n_buckets`` named and bounded,
and the documented width of the dense tile-coding features."""
from __future__ import annotations

import numpy as np
import pytest

import rlbook as rb


def test_bucket_cells_on_a_shifted_wider_box():
    # [low, high] = [-2, 4] in 3 buckets: [-2, 0), [0, 2), [2, 4]; outside -> nearest cell.
    # The expected cell is floor((x - low) / (high - low) * n), clipped, written out here.
    x = np.array([[-1.0], [0.5], [3.0], [-5.0], [10.0], [4.0]])
    feats = rb.bucket_features(x, -2.0, 4.0, 3)
    np.testing.assert_array_equal(feats.argmax(axis=1), [0, 1, 2, 0, 2, 2])
    np.testing.assert_array_equal(feats.sum(axis=1), np.ones(6))
    # two coordinates, row-major numbering: cell (i, j) -> 2 i + j
    pts = np.array([[-1.0, 9.0], [3.0, 11.0]])  # second box [8, 12] in 2 buckets
    f2 = rb.bucket_features(pts, [-2.0, 8.0], [4.0, 12.0], [3, 2])
    np.testing.assert_array_equal(f2.argmax(axis=1), [0 * 2 + 0, 2 * 2 + 1])


def test_bucket_counts_are_named_and_one_bucket_is_allowed():
    with pytest.raises(ValueError, match=r"^n_buckets\[1\] is 0, expected an integer >= 1$"):
        rb.bucket_features(np.zeros((2, 2)), 0.0, 1.0, [2, 0])
    one = rb.bucket_features(np.array([[0.3], [0.9]]), 0.0, 1.0, 1)
    np.testing.assert_array_equal(one, np.ones((2, 1)))


def test_dense_tile_features_have_the_documented_width():
    x = np.random.default_rng(0).uniform(0.0, 1.0, size=(7, 2))
    out = rb.tile_features(x, 0.0, 1.0, n_tilings=2, n_tiles=[3, 4])
    assert out.shape == (7, 2 * (3 + 1) * (4 + 1))
    np.testing.assert_array_equal(out.sum(axis=1), np.full(7, 2.0))
