r"""Feature maps for linear value function approximation (chapter C8).

A linear approximation writes :math:`\hat v(s, w) = \phi(s)^\top w`. For a finite
MDP the features of all states stack into the matrix :math:`\Phi \in
\mathbb{R}^{S \times k}` whose row :math:`s` is :math:`\phi(s)^\top`; for a
continuous state the maps below take a batch of points ``x`` of shape
``(N, n)`` and return ``(N, k)``.

* :func:`one_hot_features` -- the tabular case, :math:`\Phi = I`;
* :func:`state_aggregation_features` -- one indicator per group of states;
* :func:`bucket_features` -- aggregation of a box in :math:`\mathbb{R}^n` into a grid of buckets;
* :func:`polynomial_features` -- all monomials of total degree at most ``degree``;
* :func:`fourier_features` -- the cosine basis :math:`\cos(\pi c^\top x)` on :math:`[0, 1]^n`;
* :func:`tile_indices` / :func:`tile_features` -- tile coding (Sutton and Barto, section 9.5.4).
"""
from __future__ import annotations

import itertools

import numpy as np

from .._validate import as_float_array, check_int

__all__ = [
    "one_hot_features",
    "state_aggregation_features",
    "bucket_features",
    "polynomial_features",
    "fourier_features",
    "tile_coder",
    "tile_indices",
    "tile_features",
]


def _points(x, name="x"):
    arr = as_float_array(x, name)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise ValueError(f"{name} must have shape (N, n) (a batch of points), got {arr.shape}")
    return arr


def _box(low, high, n):
    low = as_float_array(low, "low")
    high = as_float_array(high, "high")
    low = np.broadcast_to(low, (n,)) if low.ndim == 0 else low
    high = np.broadcast_to(high, (n,)) if high.ndim == 0 else high
    if low.shape != (n,) or high.shape != (n,):
        raise ValueError(f"low and high must have shape ({n},) like a point of x, got "
                         f"{low.shape} and {high.shape}")
    bad = np.flatnonzero(high <= low)
    if len(bad):
        i = int(bad[0])
        raise ValueError(f"high[{i}] is {high[i]}, expected > low[{i}] = {low[i]}")
    return low, high


def one_hot_features(n_states: int) -> np.ndarray:
    r"""The tabular features :math:`\phi(s) = e_s`, i.e. :math:`\Phi = I_S` of shape ``(S, S)``.

    With them :math:`\hat v(s, w) = w_s`: every linear method of the chapter reduces
    to its tabular version.
    """
    S = check_int(n_states, "n_states", minimum=1)
    return np.eye(S)


def state_aggregation_features(groups, n_groups: int | None = None) -> np.ndarray:
    r"""Indicators of groups of states: :math:`\Phi_{s g} = 1[\text{group}(s) = g]`.

    Parameters
    ----------
    groups : array_like of int, shape (S,)
        ``groups[s]`` is the group of state ``s``, in ``[0, n_groups)``.
    n_groups : int, optional
        Number of groups (default ``max(groups) + 1``).

    Returns
    -------
    ndarray (S, n_groups)
    """
    g = np.asarray(groups)
    if g.ndim != 1 or g.size == 0 or not np.issubdtype(g.dtype, np.integer):
        raise ValueError(f"groups must be a non-empty 1-D integer array, got dtype {g.dtype} "
                         f"and shape {g.shape}")
    k = int(g.max()) + 1 if n_groups is None else check_int(n_groups, "n_groups", minimum=1)
    bad = np.flatnonzero((g < 0) | (g >= k))
    if len(bad):
        i = int(bad[0])
        raise ValueError(f"groups[{i}] is {g[i]}, expected a group in [0, {k - 1}]")
    Phi = np.zeros((g.size, k))
    Phi[np.arange(g.size), g] = 1.0
    return Phi


def bucket_features(x, low, high, n_buckets) -> np.ndarray:
    r"""State aggregation of a box: one indicator per cell of a regular grid.

    The box :math:`[low, high]` is cut into ``n_buckets[j]`` equal intervals along
    coordinate ``j``; a point gets the indicator of its cell (points outside the box
    go to the nearest cell). Cells are numbered row-major.

    Parameters
    ----------
    x : array_like (N, n)
    low, high : array_like (n,) or scalars
    n_buckets : int or sequence of n ints

    Returns
    -------
    ndarray (N, prod(n_buckets))
    """
    x = _points(x)
    n = x.shape[1]
    low, high = _box(low, high, n)
    nb = np.broadcast_to(np.asarray(n_buckets), (n,)).astype(int)
    for j in range(n):
        check_int(int(nb[j]), f"n_buckets[{j}]", minimum=1)
    cell = np.floor((x - low) / (high - low) * nb).astype(int)
    cell = np.clip(cell, 0, nb - 1)
    idx = np.ravel_multi_index(tuple(cell.T), tuple(nb))
    out = np.zeros((x.shape[0], int(np.prod(nb))))
    out[np.arange(x.shape[0]), idx] = 1.0
    return out


def _exponents(n, degree, max_each):
    return [c for c in itertools.product(range(max_each + 1), repeat=n) if sum(c) <= degree]


def polynomial_features(x, degree: int) -> np.ndarray:
    r"""All monomials :math:`\prod_j x_j^{c_j}` of total degree :math:`\sum_j c_j \le`
    ``degree``.

    Ordered by total degree: for a point :math:`(x, y)` and degree 2 the features
    are :math:`(1, x, y, x^2, xy, y^2)` (Zhao's grid-world features). There are :math:`\binom{n + \text{degree}}{n}`
    of them.

    Parameters
    ----------
    x : array_like (N, n)
    degree : int >= 0

    Returns
    -------
    ndarray (N, k)
    """
    x = _points(x)
    d = check_int(degree, "degree", minimum=0)
    C = np.array(sorted(_exponents(x.shape[1], d, d), key=lambda c: (sum(c), c[::-1])))
    return np.prod(x[:, None, :] ** C[None, :, :], axis=2)


def fourier_features(x, order: int) -> np.ndarray:
    r"""The Fourier cosine basis :math:`\phi_c(x) = \cos(\pi\, c^\top x)`,
    :math:`c \in \{0, \dots, \text{order}\}^n` (Konidaris et al. 2011; Sutton and
    Barto, section 9.5.2).

    ``x`` must lie in :math:`[0, 1]^n` (rescale first); the constant feature
    (``c = 0``) comes first. There are :math:`(\text{order} + 1)^n` features.

    Parameters
    ----------
    x : array_like (N, n), entries in [0, 1]
    order : int >= 0

    Returns
    -------
    ndarray (N, (order + 1)**n)
    """
    x = _points(x)
    o = check_int(order, "order", minimum=0)
    bad = np.argwhere((x < 0) | (x > 1))
    if len(bad):
        i, j = bad[0]
        raise ValueError(f"x[{i}, {j}] is {x[i, j]}, expected a point of [0, 1]^n "
                         "(rescale the state first)")
    C = np.array(list(itertools.product(range(o + 1), repeat=x.shape[1])), dtype=float)
    return np.cos(np.pi * x @ C.T)


def tile_coder(low, high, n_tilings: int, n_tiles):
    r"""A fast tile coder: validates once and returns ``code(x) -> indices`` ``(N, n_tilings)``.

    Same tiles as :func:`tile_indices` (which calls it), for hot loops that code a
    batch of points per step: the returned function does no input validation
    (``x`` must be a float array ``(N, n)``).

    Returns
    -------
    code : callable ``(N, n) -> (N, n_tilings)`` of int
    n_features : int
        ``n_tilings * prod(n_tiles + 1)``.
    """
    low = as_float_array(low, "low")
    high = as_float_array(high, "high")
    n = max(low.size, high.size, np.asarray(n_tiles).size)
    low, high = _box(low, high, n)
    T = check_int(n_tilings, "n_tilings", minimum=1)
    nt = np.broadcast_to(np.asarray(n_tiles), (n,)).astype(int)
    for j in range(n):
        check_int(int(nt[j]), f"n_tiles[{j}]", minimum=1)
    scale = nt / (high - low)
    shifts = (np.arange(T)[:, None] * (2 * np.arange(n) + 1)[None, :] / T) % 1.0  # (T, n)
    strides = np.cumprod(np.r_[1, (nt + 1)[::-1][:-1]])[::-1].astype(np.int64)  # row-major
    per_tiling = int(np.prod(nt + 1))
    offsets = per_tiling * np.arange(T, dtype=np.int64)

    def code(x):
        u = (np.minimum(np.maximum(x, low), high) - low) * scale  # in tile widths
        c = np.minimum(np.floor(u[:, None, :] + shifts).astype(np.int64), nt)  # (N, T, n)
        return c @ strides + offsets

    return code, T * per_tiling


def tile_indices(x, low, high, n_tilings: int, n_tiles) -> np.ndarray:
    r"""Active tiles of tile coding: one tile per tiling, as global feature indices.

    Each tiling is a grid of ``n_tiles[j]`` tiles of width
    :math:`w_j = (high_j - low_j) / n\_tiles_j` along coordinate ``j``, with one
    extra tile per coordinate so that shifted tilings still cover the box. Tiling
    :math:`i` is shifted by :math:`-\,i\,(2j + 1) w_j / n\_tilings` (modulo one tile)
    along coordinate ``j``: the asymmetric displacements ``1, 3, 5, ...`` recommended
    by Sutton and Barto (section 9.5.4), so that tilings do not all shift along the
    diagonal.

    Parameters
    ----------
    x : array_like (N, n)
    low, high : array_like (n,) or scalars
        The box the tilings cover; points outside are clipped onto it.
    n_tilings : int
    n_tiles : int or sequence of n ints
        Tiles per coordinate of one tiling.

    Returns
    -------
    ndarray of int (N, n_tilings)
        Indices into a feature vector of length
        ``n_tilings * prod(n_tiles + 1)``; entry ``[m, i]`` is the active tile of
        tiling ``i`` for point ``m``.
    """
    x = _points(x)
    n = x.shape[1]
    _box(low, high, n)
    code, _ = tile_coder(np.broadcast_to(as_float_array(low, "low"), (n,)),
                         np.broadcast_to(as_float_array(high, "high"), (n,)), n_tilings,
                         np.broadcast_to(np.asarray(n_tiles), (n,)))
    return code(x)


def tile_features(x, low, high, n_tilings: int, n_tiles) -> np.ndarray:
    r"""Dense binary tile-coding features: ``(N, n_tilings * prod(n_tiles + 1))`` with
    exactly ``n_tilings`` ones per row (see :func:`tile_indices`)."""
    idx = tile_indices(x, low, high, n_tilings, n_tiles)
    nt = np.broadcast_to(np.asarray(n_tiles), (_points(x).shape[1],)).astype(int)
    k = n_tilings * int(np.prod(nt + 1))
    out = np.zeros((idx.shape[0], k))
    np.put_along_axis(out, idx, 1.0, axis=1)
    return out
