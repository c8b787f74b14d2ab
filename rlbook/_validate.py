"""Boundary checks shared by every public function of :mod:`rlbook`.

Each helper raises :class:`ValueError` (or :class:`TypeError`) whose message
names the argument, the offending index where there is one, the value seen and
what was expected, e.g. ``P[3, 1, :] sums to 0.97, expected 1``.
"""
from __future__ import annotations

import numbers

import numpy as np

#: Tolerance on the sum of a probability row.
PROB_ATOL = 1e-8


def _idx(index) -> str:
    return ", ".join(str(int(i)) for i in np.atleast_1d(index))


def _at(name: str, index) -> str:
    """``name[i, j]`` for an entry of an array, ``name`` alone for a 0-d array."""
    return f"{name}[{_idx(index)}]" if len(index) else name


def as_float_array(x, name: str, ndim: int | None = None, shape: tuple | None = None) -> np.ndarray:
    """``x`` as a float64 array with finite entries, of the given rank / shape.

    ``shape`` may contain ``None`` for a free dimension.
    """
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be an array of numbers, got {type(x).__name__}: {exc}") from None
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimension(s), got shape {arr.shape}")
    if shape is not None:
        if arr.ndim != len(shape) or any(e is not None and e != s for e, s in zip(shape, arr.shape)):
            want = "(" + ", ".join("?" if e is None else str(e) for e in shape) + ("," if len(shape) == 1 else "") + ")"
            raise ValueError(f"{name} must have shape {want}, got {arr.shape}")
    bad = ~np.isfinite(arr)
    if bad.any():
        i = np.argwhere(bad)[0]
        raise ValueError(f"{_at(name, i)} is {arr[tuple(i)]}, expected a finite number")
    return arr


def check_probabilities(arr: np.ndarray, name: str, what: str = "a probability distribution") -> None:
    """Entries non-negative and the last axis summing to one."""
    neg = arr < 0
    if neg.any():
        i = np.argwhere(neg)[0]
        raise ValueError(f"{_at(name, i)} is {arr[tuple(i)]:.6g}, expected a non-negative "
                         "probability")
    sums = arr.sum(axis=-1)
    bad = np.abs(sums - 1.0) > PROB_ATOL
    if bad.any():
        i = np.argwhere(bad)[0] if sums.ndim else np.array([], dtype=int)
        where = f"{name}[{_idx(i)}, :]" if sums.ndim else name
        raise ValueError(f"{where} sums to {float(sums[tuple(i)]):.10g}, expected 1 ({what})")


def check_unit_interval(x, name: str, what: str) -> float:
    """``x`` as a float in ``[0, 1]`` (``what`` it is, for the message: "a discount factor")."""
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError(f"{name} must be a real number in [0, 1], got {x!r}")
    v = float(x)
    if not np.isfinite(v) or not 0.0 <= v <= 1.0:
        raise ValueError(f"{name} is {x!r}, expected {what} in [0, 1]")
    return v


def check_gamma(gamma) -> float:
    return check_unit_interval(gamma, "gamma", "a discount factor")


def check_positive(x, name: str, allow_zero: bool = False) -> float:
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {x!r}")
    v = float(x)
    if not np.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} is {x!r}, expected a finite number {bound}")
    return v


def check_int(x, name: str, minimum: int = 0) -> int:
    if isinstance(x, bool) or not isinstance(x, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {x!r}")
    if x < minimum:
        raise ValueError(f"{name} is {x}, expected an integer >= {minimum}")
    return int(x)


def check_policy(pi, n_states: int, n_actions: int, name: str = "pi") -> np.ndarray:
    """A stochastic policy ``(S, A)`` whose rows are distributions over actions."""
    arr = as_float_array(pi, name, shape=(n_states, n_actions))
    check_probabilities(arr, name, "the action distribution of a policy in one state")
    return arr


def check_distribution(x, n: int, name: str) -> np.ndarray:
    """A probability vector of length ``n``."""
    arr = as_float_array(x, name, shape=(n,))
    check_probabilities(arr, name, "a distribution over states")
    return arr


def check_vector(x, n: int, name: str) -> np.ndarray:
    return as_float_array(x, name, shape=(n,))


def is_torch(x) -> bool:
    """Whether ``x`` is a torch tensor (without importing torch)."""
    return type(x).__module__.startswith("torch")


def as_generator(rng, name: str = "rng", allow_none: bool = False) -> np.random.Generator:
    """The one way :mod:`rlbook` takes randomness: a ``numpy.random.Generator``
    (used as is, so successive calls continue its stream) or an int seed
    (``numpy.random.default_rng(seed)``); ``None`` only where ``allow_none``."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None and allow_none:
        return np.random.default_rng()
    if isinstance(rng, numbers.Integral) and not isinstance(rng, bool):
        if rng < 0:
            raise ValueError(f"{name} is {rng}, expected a non-negative int seed or a Generator")
        return np.random.default_rng(int(rng))
    raise TypeError(f"{name} must be a numpy.random.Generator or an int seed, "
                    f"got {type(rng).__name__}")


def check_positive_entries(arr: np.ndarray, name: str, what: str = "> 0") -> None:
    """Every entry of ``arr`` strictly positive; otherwise a ValueError naming the first bad
    index and its value, e.g. ``std[1] is 0.0, expected a standard deviation > 0``."""
    flat = np.atleast_1d(arr)
    bad = np.argwhere(flat <= 0)
    if len(bad):
        i = bad[0]
        raise ValueError(f"{name}[{_idx(i)}] is {flat[tuple(i)]}, expected {what}")


def check_config(config, cls: type) -> None:
    """``config`` is an instance of the settings dataclass ``cls``; otherwise a TypeError
    naming both types (a reader passing a dict or another agent's config)."""
    if not isinstance(config, cls):
        raise TypeError(f"config must be a {cls.__name__}, got {type(config).__name__}")
