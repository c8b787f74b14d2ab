"""Checkers for the coding exercises of Chapter 1, *Basic concepts*."""
from __future__ import annotations

import numpy as np

from ..sampling import discounted_returns
from ._checker import CheckReport, compare_on_cases, variant_hints

__all__ = ["check_discounted_returns"]

_EXERCISE = "c01 discounted returns"


def _cases(seed: int = 2024, n: int = 12):
    rng = np.random.default_rng(seed)
    cases = [
        # hand-picked edge cases first: no discount, myopic agent, a single step
        dict(rewards=rng.integers(-3, 4, size=6).astype(float), gamma=1.0),
        dict(rewards=rng.integers(-3, 4, size=6).astype(float), gamma=0.0),
        dict(rewards=np.array([2.5]), gamma=0.9),
    ]
    for _ in range(n - len(cases)):
        T = int(rng.integers(2, 25))
        cases.append(dict(rewards=np.round(rng.normal(size=T), 3), gamma=float(np.round(rng.uniform(0.05, 0.99), 3))))
    return cases


def _wrong_variants():
    """Typical mistakes, as functions of one case: name -> (function, hint)."""
    def shifted(rewards, gamma):  # sum_k gamma^(k+1) R_{t+k+1}
        return gamma * discounted_returns(rewards, gamma)

    def undiscounted(rewards, gamma):
        return discounted_returns(rewards, 1.0)

    def forward(rewards, gamma):  # accumulates the past instead of the future
        return discounted_returns(rewards[::-1], gamma)[::-1]

    def first_only(rewards, gamma):  # G_0 broadcast to every t
        return np.full(rewards.shape, discounted_returns(rewards, gamma)[0])

    def excludes_current(rewards, gamma):  # G_t starts at R_{t+2}
        G = discounted_returns(rewards, gamma)
        return np.append(G[1:], 0.0)

    return [
        (shifted, "your values equal gamma * G_t: the discount exponent is off by one. "
                  "The first reward R_{t+1} is not discounted: G_t = sum_k gamma^k R_{t+k+1}."),
        (undiscounted, "your values are the undiscounted sums of the remaining rewards: "
                       "multiply R_{t+k+1} by gamma^k."),
        (forward, "your values accumulate the rewards *before* t; G_t sums the rewards from "
                  "R_{t+1} onwards (work backwards from the last step)."),
        (first_only, "every entry equals G_0: compute the return of every time step t."),
        (excludes_current, "your G_t equals the reference G_{t+1}: G_t includes R_{t+1}, which "
                           "is stored at rewards[t]."),
    ]


def check_discounted_returns(fn) -> CheckReport:
    r"""Check a reader's ``fn(rewards, gamma)`` that returns the discounted
    return of every step, ``G[t] = sum_{k >= 0} gamma^k rewards[t + k]``
    (``rewards[t]`` holds ``R_{t+1}``), an array of the same shape ``(T,)``.

    Raises :class:`~rlbook.exercises.ExerciseFailed` with the first case that
    differs and, when the answer matches a typical mistake (discount exponent
    off by one, no discount, returns accumulated forwards, ...), a hint.
    """
    return compare_on_cases(_EXERCISE, fn, discounted_returns, _cases(),
                            diagnose=variant_hints(discounted_returns, _wrong_variants()))

