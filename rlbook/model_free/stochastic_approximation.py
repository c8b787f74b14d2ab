"""Stochastic approximation and stochastic gradient descent (Chapter 6).

The Robbins-Monro algorithm finds a root of ``g(w) = 0`` from noisy
observations ``g~(w, eta) = g(w) + eta``:

    w_{k+1} = w_k - a_k g~(w_k, eta_k),

and gradient descent, batch (BGD), mini-batch (MBGD) and stochastic (SGD)
gradient descent are instances of it with ``g = grad f``.
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

from .._progress import progress_bar
from .._validate import as_float_array, as_generator, check_int

__all__ = ["step_sizes", "SAResult", "robbins_monro", "sgd"]


def step_sizes(a, n_iter: int) -> np.ndarray:
    r"""The step sizes ``a_1, ..., a_n`` as an array ``(n_iter,)``.

    Parameters
    ----------
    a : float, callable or array_like
        A constant step size, a function ``k -> a_k`` of the iteration
        ``k = 1, 2, ...`` (e.g. ``lambda k: 1 / k``), or the ``n_iter`` values.
    n_iter : int

    Raises
    ------
    ValueError
        If a step size is not a finite positive number (naming its index ``k``).
    """
    n = check_int(n_iter, "n_iter", 1)
    if callable(a):
        vals = np.array([float(a(k)) for k in range(1, n + 1)])
    elif isinstance(a, numbers.Real) and not isinstance(a, bool):
        vals = np.full(n, float(a))
    else:
        vals = np.asarray(a, dtype=float)
        if vals.shape != (n,):
            raise ValueError(f"a has shape {vals.shape}, expected ({n},): one step size per "
                             "iteration")
    bad = ~np.isfinite(vals) | (vals <= 0)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise ValueError(f"a_{k + 1} (step size of iteration k = {k + 1}) is {float(vals[k])!r}, "
                         "expected a finite number > 0")
    return vals


@dataclass(frozen=True)
class SAResult:
    """What :func:`robbins_monro` and :func:`sgd` return.

    Attributes
    ----------
    w : ndarray
        The last iterate ``w_{n+1}`` (run axis first when ``n_runs`` is given).
    history : ndarray (n_iter + 1, ...)
        ``w_1, w_2, ..., w_{n+1}`` (``w_1 = w0``); run axis first when ``n_runs`` is given.
    a : ndarray (n_iter,)
        The step sizes used.
    """

    w: np.ndarray
    history: np.ndarray
    a: np.ndarray


def robbins_monro(g_tilde, w0, n_iter: int, *, a, rng, n_runs=None,
                  progress: bool = False) -> SAResult:
    r"""The Robbins-Monro algorithm for a root of ``g(w) = 0``:

    .. math:: w_{k+1} = w_k - a_k \tilde g(w_k, \eta_k), \qquad k = 1, 2, \dots

    Converges almost surely to the root ``w*`` when ``0 < c_1 <= grad g <=
    c_2``, ``sum a_k = inf``, ``sum a_k^2 < inf`` and the noise is a
    martingale difference with bounded conditional variance (Chapter 6).

    Parameters
    ----------
    g_tilde : callable
        ``g_tilde(w, rng) -> noisy g(w)``, vectorised: ``w`` has the shape of
        ``w0`` (with a leading run axis when ``n_runs`` is given).
    w0 : float or array_like
        Initial guess ``w_1``.
    n_iter : int
    a : float, callable or array_like
        Step sizes (see :func:`step_sizes`).
    rng : numpy.random.Generator or int
    n_runs : int, optional
        Independent runs in lockstep.
    progress : bool
    """
    n = check_int(n_iter, "n_iter", 1)
    steps = step_sizes(a, n)
    rng = as_generator(rng)
    w = as_float_array(w0, "w0")
    if n_runs is not None:
        w = np.broadcast_to(w, (check_int(n_runs, "n_runs", 1),) + w.shape).copy()
    hist = np.empty((n + 1,) + w.shape)
    hist[0] = w
    bar = progress_bar(n, progress, desc="Robbins-Monro", unit="it")
    for k in range(n):
        w = w - steps[k] * np.asarray(g_tilde(w, rng), dtype=float)
        hist[k + 1] = w
        bar.update()
    bar.close()
    if n_runs is not None:
        hist = np.moveaxis(hist, 0, 1)
    return SAResult(w, hist, steps)


def sgd(grad, data, w0, n_iter: int, *, a, rng, batch_size=1, replace: bool = True,
        n_runs=None) -> SAResult:
    r"""Gradient descent on ``f(w) = (1/n) sum_i f(w, x_i)`` with sampled batches:

    .. math:: w_{k+1} = w_k - a_k \frac{1}{m} \sum_{j \in I_k} \nabla_w f(w_k, x_j),

    where ``I_k`` holds ``m = batch_size`` indices drawn uniformly (with
    replacement by default). ``m = 1`` is SGD, ``1 < m < n`` mini-batch GD
    (MBGD), and ``batch_size=None`` uses every sample at every step: batch
    gradient descent (BGD), i.e. exact gradient descent on the empirical
    objective.

    Parameters
    ----------
    grad : callable
        ``grad(w, x) -> (m, ...) gradients``: ``w`` has the shape of ``w0``
        (with a leading run axis, broadcast as ``(runs, 1, ...)``, when
        ``n_runs`` is given); ``x`` holds the batch, ``(m, ...)`` (or
        ``(runs, m, ...)``).
    data : array_like (n, ...)
        The samples ``x_1, ..., x_n``.
    w0 : float or array_like
    n_iter : int
    a : float, callable or array_like
        Step sizes (see :func:`step_sizes`).
    rng : numpy.random.Generator or int
    batch_size : int or None
    replace : bool
        Draw a batch with replacement (independent uniform indices) or without.
    n_runs : int, optional
        Independent runs in lockstep (each draws its own batches).
    """
    x = as_float_array(data, "data")
    if x.ndim == 0 or x.shape[0] == 0:
        raise ValueError(f"data must hold at least one sample along axis 0, got shape {x.shape}")
    n_data = x.shape[0]
    m = None if batch_size is None else check_int(batch_size, "batch_size", 1)
    if m is not None and not replace and m > n_data:
        raise ValueError(f"batch_size is {m}, expected at most {n_data} (the number of samples) "
                         "when drawing without replacement")
    rng = as_generator(rng)
    runs = None if n_runs is None else check_int(n_runs, "n_runs", 1)

    def g_tilde(w, g):
        if m is None:
            batch = x if runs is None else np.broadcast_to(x, (runs,) + x.shape)
        elif replace:
            idx = g.integers(0, n_data, size=(m,) if runs is None else (runs, m))
            batch = x[idx]
        else:
            shape = (n_data,) if runs is None else (runs, n_data)
            idx = np.argsort(g.random(shape), axis=-1)[..., :m]
            batch = x[idx]
        wb = w if runs is None else w[:, None]
        return np.asarray(grad(wb, batch), dtype=float).mean(axis=0 if runs is None else 1)

    return robbins_monro(g_tilde, w0, n_iter, a=a, rng=rng, n_runs=runs)
