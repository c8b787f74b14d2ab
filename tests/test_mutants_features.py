"""Survivors of mutmut on rlbook/approximation/features.py (C8): the bucket index on a
box that does not start at 0 or has width other than 1, ``n_buckets`` named and bounded,
the documented width of the dense tile-coding features, argument names in the messages,
the bounds of every count, and the tilings of :func:`rlbook.tile_indices` against the
docstring's definition. Each test checks a contract, not today's output."""
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


# --- input names in the messages (_points, _box, tile_coder) --------------------------


def test_points_are_named_x_and_one_dimensional_x_is_a_batch_of_scalars():
    with pytest.raises(ValueError, match=r"^x\[1, 0\] is nan, expected a finite number$"):
        rb.polynomial_features([[0.5], [np.nan]], 1)
    with pytest.raises(TypeError, match=r"^x must be an array of numbers"):
        rb.polynomial_features([["a"]], 1)
    # a 1-D x is N points of dimension 1: the same features as the column x[:, None]
    x = np.array([0.5, -2.0, 3.0])
    np.testing.assert_array_equal(rb.polynomial_features(x, 2),
                                  np.stack([np.ones(3), x, x**2], axis=1))


def test_box_bounds_are_named_low_and_high():
    x = np.zeros((2, 2))
    with pytest.raises(ValueError, match=r"^low is nan, expected a finite number$"):
        rb.bucket_features(x, np.nan, 1.0, 2)
    with pytest.raises(ValueError, match=r"^low\[1\] is inf, expected a finite number$"):
        rb.bucket_features(x, [0.0, np.inf], 1.0, 2)
    with pytest.raises(ValueError, match=r"^high is nan, expected a finite number$"):
        rb.bucket_features(x, 0.0, np.nan, 2)
    with pytest.raises(ValueError, match=r"^high\[0\] is inf, expected a finite number$"):
        rb.bucket_features(x, 0.0, [np.inf, 1.0], 2)


def test_box_bounds_of_the_wrong_length_are_refused_with_the_shape_message():
    x = np.zeros((2, 2))
    msg = (r"^low and high must have shape \(2,\) like a point of x, "
           r"got \(2,\) and \(3,\)$")
    with pytest.raises(ValueError, match=msg):
        rb.bucket_features(x, 0.0, [1.0, 2.0, 3.0], 2)
    msg = (r"^low and high must have shape \(2,\) like a point of x, "
           r"got \(2,\) and \(1,\)$")
    with pytest.raises(ValueError, match=msg):
        rb.bucket_features(x, 0.0, [1.0], 2)


def test_tile_coder_names_its_bounds():
    with pytest.raises(ValueError, match=r"^low is nan, expected a finite number$"):
        rb.tile_coder(np.nan, 1.0, 2, 2)
    with pytest.raises(ValueError, match=r"^low\[1\] is nan, expected a finite number$"):
        rb.tile_coder([0.0, np.nan], 1.0, 2, 2)
    with pytest.raises(ValueError, match=r"^high is nan, expected a finite number$"):
        rb.tile_coder(0.0, np.nan, 2, 2)
    with pytest.raises(ValueError, match=r"^high\[0\] is inf, expected a finite number$"):
        rb.tile_coder(0.0, [np.inf, 1.0], 2, 2)


# --- one_hot_features, state_aggregation_features ------------------------------------


def test_one_hot_features_bounds():
    np.testing.assert_array_equal(rb.one_hot_features(1), [[1.0]])
    with pytest.raises(ValueError, match=r"^n_states is 0, expected an integer >= 1$"):
        rb.one_hot_features(0)


def test_state_aggregation_refuses_non_1d_or_empty_groups():
    msg = r"^groups must be a non-empty 1-D integer array"
    with pytest.raises(ValueError, match=msg):
        rb.state_aggregation_features(np.array([[0, 1], [1, 0]]))
    with pytest.raises(ValueError, match=msg):
        rb.state_aggregation_features(np.array([], dtype=int))
    # a single state is a valid (non-empty) grouping
    np.testing.assert_array_equal(rb.state_aggregation_features([0]), [[1.0]])


def test_state_aggregation_n_groups_is_named_and_bounded():
    with pytest.raises(ValueError, match=r"^n_groups is 0, expected an integer >= 1$"):
        rb.state_aggregation_features([0, 0], n_groups=0)
    with pytest.raises(TypeError, match=r"^n_groups must be an integer"):
        rb.state_aggregation_features([0, 0], n_groups=1.5)
    # one group: every state in it
    np.testing.assert_array_equal(rb.state_aggregation_features([0, 0], n_groups=1),
                                  np.ones((2, 1)))


def test_state_aggregation_group_equal_to_n_groups_is_out_of_range():
    # groups must lie in [0, n_groups): the value n_groups itself is refused
    with pytest.raises(ValueError, match=r"^groups\[1\] is 2, expected a group in \[0, 1\]$"):
        rb.state_aggregation_features([0, 2], n_groups=2)


# --- polynomial_features -------------------------------------------------------------


def test_polynomial_degree_is_named_and_zero_is_the_constant():
    with pytest.raises(ValueError, match=r"^degree is -1, expected an integer >= 0$"):
        rb.polynomial_features([[0.5, 0.5]], -1)
    np.testing.assert_array_equal(rb.polynomial_features([[2.0, 3.0], [4.0, 5.0]], 0),
                                  np.ones((2, 1)))


def test_polynomial_degree_one_block_is_the_coordinates_in_order():
    # the docstring's order (1, x, y, x^2, ...) extended to n = 4: the constant, then
    # x_1, ..., x_4; use distinct primes so that each column identifies its monomial
    x = np.array([[2.0, 3.0, 5.0, 7.0]])
    F = rb.polynomial_features(x, 1)
    np.testing.assert_array_equal(F, [[1.0, 2.0, 3.0, 5.0, 7.0]])
    # degree 2: 1 + 4 + 10 columns, total degree non-decreasing along the columns
    F2 = rb.polynomial_features(x, 2)[0]
    assert F2.shape == (15,)
    np.testing.assert_array_equal(F2[:5], [1.0, 2.0, 3.0, 5.0, 7.0])
    quad = sorted(a * b for i, a in enumerate(x[0]) for b in x[0][i:])
    np.testing.assert_array_equal(np.sort(F2[5:]), quad)


# --- fourier_features ----------------------------------------------------------------


def test_fourier_order_is_named_and_zero_is_the_constant():
    with pytest.raises(ValueError, match=r"^order is -1, expected an integer >= 0$"):
        rb.fourier_features([[0.5]], -1)
    np.testing.assert_array_equal(rb.fourier_features([[0.2, 0.7]], 0), [[1.0]])


def test_fourier_accepts_the_closed_unit_box():
    # x in [0, 1]^n includes the corners: cos(pi c^T x) at x = 0 is 1, at x = 1 is (-1)^c
    F = rb.fourier_features([[0.0], [1.0]], 2)
    np.testing.assert_allclose(F, [[1.0, 1.0, 1.0], [1.0, -1.0, 1.0]], atol=1e-15)
    msg = (r"^x\[0, 1\] is 1.5, expected a point of \[0, 1\]\^n "
           r"\(rescale the state first\)$")
    with pytest.raises(ValueError, match=msg):
        rb.fourier_features([[0.5, 1.5]], 1)


# --- tile_coder / tile_indices -------------------------------------------------------


def test_tile_coder_dimension_comes_from_any_argument():
    # n is the longest of low, high and n_tiles; the others broadcast
    for low, high, nt in [([0.0, 0.0, 0.0], 1.0, 2), (0.0, [1.0, 1.0, 1.0], 2),
                          (0.0, 1.0, [2, 2, 2])]:
        code, k = rb.tile_coder(low, high, 1, nt)
        assert k == 3**3
        idx = code(np.array([[0.1, 0.1, 0.1], [0.9, 0.9, 0.9]]))
        assert idx.shape == (2, 1) and idx[0, 0] != idx[1, 0]


def test_tile_coder_counts_are_named_and_one_is_allowed():
    with pytest.raises(ValueError, match=r"^n_tilings is 0, expected an integer >= 1$"):
        rb.tile_coder(0.0, 1.0, 0, 2)
    # one tiling of one tile per coordinate: 2 tiles per coordinate (one extra)
    code, k = rb.tile_coder([0.0, 0.0], [1.0, 1.0], 1, 1)
    assert k == 4
    idx = code(np.array([[0.2, 0.3], [0.9, 0.1]]))
    np.testing.assert_array_equal(idx, [[0], [0]])  # tiling 0 is unshifted: tile (0, 0)


def _reference_tiles(x, low, high, T, nt):
    """Tile coordinates from the docstring of tile_indices: tiling i shifted by
    -i (2j + 1) w_j / T (mod one tile) along coordinate j, points clipped to the box,
    tiles 0 .. n_tiles[j] (one extra)."""
    N, n = x.shape
    c = np.zeros((N, T, n), dtype=int)
    for m in range(N):
        for i in range(T):
            for j in range(n):
                w = (high[j] - low[j]) / nt[j]
                xj = min(max(x[m, j], low[j]), high[j])
                shift = (i * (2 * j + 1) / T) % 1.0  # in tile widths
                c[m, i, j] = min(int(np.floor((xj - low[j]) / w + shift)), nt[j])
    return c


def test_tile_indices_follow_the_documented_tilings():
    low, high = np.array([-1.0, 2.0, 0.5]), np.array([3.0, 2.5, 6.5])
    nt, T = np.array([2, 3, 4]), 4
    rng = np.random.default_rng(1)
    x = rng.uniform(low - 0.5, high + 0.5, size=(120, 3))  # some points outside the box
    idx = rb.tile_indices(x, low, high, T, nt)
    ref = _reference_tiles(x, low, high, T, nt)
    per = int(np.prod(nt + 1))
    assert idx.shape == (120, T)
    for i in range(T):
        # tiling i owns the index block [i per, (i + 1) per)
        assert ((idx[:, i] >= i * per) & (idx[:, i] < (i + 1) * per)).all()
        # two points share the tiling-i index iff they are in the same tile
        same_idx = idx[:, i][:, None] == idx[:, i][None, :]
        same_tile = (ref[:, None, i, :] == ref[None, :, i, :]).all(axis=2)
        np.testing.assert_array_equal(same_idx, same_tile)
    # the tiles used are distinct indices: as many as there are distinct tiles
    for i in range(T):
        assert len(set(idx[:, i])) == len({tuple(t) for t in ref[:, i, :]})
