"""Checkers for the coding exercises of Chapter 6, *Stochastic approximation*."""
from __future__ import annotations

import numpy as np

from ._checker import CheckReport, compare_on_cases, keyword_hints

__all__ = ["check_sample_weights", "check_mbgd"]

_EX_W = "c06 weights of the samples"
_EX_MB = "c06 mini-batch gradient descent"


# -- weights of w_1, x_1, ..., x_n in w_{n+1} ---------------------------------------------------
def _w_reference(a, shift=False, no_w1=False):
    a = np.asarray(a, dtype=float)
    n = a.size
    out = np.zeros(n + 1)
    keep = np.cumprod((1 - a)[::-1])[::-1]          # keep[i] = prod_{j >= i} (1 - a_j)
    out[0] = 0.0 if no_w1 else keep[0]
    for i in range(n):
        tail = keep[i] if shift else (keep[i + 1] if i + 1 < n else 1.0)
        out[i + 1] = a[i] * tail
    return out


def _w_cases():
    rng = np.random.default_rng(606)
    cases = [dict(a=1 / np.arange(1, 6)), dict(a=np.full(4, 0.3)), dict(a=np.array([0.5])),
             dict(a=1 / np.arange(1, 8) ** 2), dict(a=np.array([1.0, 1.0, 0.2]))]
    for _ in range(3):
        cases.append(dict(a=np.round(rng.uniform(0.05, 1.0, int(rng.integers(2, 9))), 3)))
    return cases


def check_sample_weights(fn) -> CheckReport:
    r"""Check a reader's ``fn(a)`` returning the weights ``(n + 1,)`` with which
    ``w_{n+1}`` of ``w_{k+1} = w_k - a_k (w_k - x_k)`` combines ``w_1, x_1, ...,
    x_n``: ``w_{n+1} = c_0 w_1 + sum_i c_i x_i`` with ``c_0 = prod_j (1 - a_j)``
    and ``c_i = a_i prod_{j > i} (1 - a_j)``. Cases include ``a_k = 1/k`` (equal
    weights, ``c_0 = 0``), constant steps and ``a_k = 1``.
    """
    variants = [
        (dict(shift=True), "the weight of x_i multiplies (1 - a_j) for j > i only: x_i enters at "
         "step i with weight a_i, and only the later steps shrink it."),
        (dict(no_w1=True), "w_1 keeps the weight prod_j (1 - a_j), which is not 0 unless some "
         "a_j = 1 (e.g. a_1 = 1 with a_k = 1/k)."),
    ]
    return compare_on_cases(
        _EX_W, fn, _w_reference, _w_cases(), rtol=1e-9, atol=1e-12,
        describe=lambda c: f"a = {np.array2string(c['a'], precision=3)}",
        diagnose=keyword_hints(_w_reference, variants))


# -- mini-batch gradient descent for mean estimation -----------------------------------------
def _mb_reference(x, w0, a, batches, total=False, resample=False):
    w = np.asarray(w0, dtype=float).copy()
    out = [w.copy()]
    for k, idx in enumerate(batches):
        g = (w - x[idx]).sum(axis=0) if total else (w - x[idx]).mean(axis=0)
        w = w - a[k] * g
        out.append(w.copy())
    return np.array(out)


def _mb_cases():
    rng = np.random.default_rng(607)
    cases = []
    for k in range(6):
        n, d, m, K = int(rng.integers(3, 12)), int(rng.integers(1, 4)), int(rng.integers(1, 4)), \
            int(rng.integers(2, 7))
        x = np.round(rng.normal(size=(n, d)) * 5, 2)
        w0 = np.round(rng.normal(size=d) * 10, 2)
        a = 1 / np.arange(1, K + 1) if k % 2 else np.full(K, 0.2)
        batches = rng.integers(0, n, size=(K, m + (k == 0)))
        cases.append(dict(x=x, w0=w0, a=a, batches=batches))
    return cases


def check_mbgd(fn) -> CheckReport:
    r"""Check a reader's ``fn(x, w0, a, batches)`` for mini-batch gradient descent
    on ``f(w) = E[||w - X||^2 / 2]`` from the data ``x`` ``(n, d)``: starting
    at ``w0`` ``(d,)``, ``w_{k+1} = w_k - a_k (1/m) sum_{j in I_k} (w_k - x_j)``
    with ``I_k = batches[k]`` ``(m,)``; return all iterates ``(K + 1, d)``.
    """
    variants = [
        (dict(total=True), "average the gradients over the batch (divide by m): with a sum, "
         "the step grows with the batch size."),
    ]
    return compare_on_cases(
        _EX_MB, fn, _mb_reference, _mb_cases(), rtol=1e-9, atol=1e-9,
        describe=lambda c: (f"n = {c['x'].shape[0]} samples in dimension {c['x'].shape[1]}, "
                            f"{c['batches'].shape[0]} batches of {c['batches'].shape[1]}"),
        diagnose=keyword_hints(_mb_reference, variants))
