"""The machinery behind the exercise checkers: run a reader's function and the
reference on the same random cases and say, precisely, what differs."""
from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

__all__ = ["ExerciseFailed", "CheckReport", "compare_on_cases", "variant_hints", "keyword_hints",
           "copy_case", "outputs", "mdp_case", "describe_mdp_case"]


class ExerciseFailed(AssertionError):
    """A reader's answer disagrees with the reference; the message says where."""


@dataclass(frozen=True)
class CheckReport:
    """What a passing check returns (shown in the notebook)."""

    exercise: str
    n_cases: int

    def __repr__(self) -> str:
        return f"{self.exercise}: correct on all {self.n_cases} random cases."

    _repr_pretty_ = lambda self, p, cycle: p.text(repr(self))  # noqa: E731


def _fmt(x) -> str:
    return np.array2string(np.asarray(x), precision=5, suppress_small=True, max_line_width=100,
                           threshold=40)


def compare_on_cases(exercise: str, user_fn, reference_fn, cases, rtol=1e-6, atol=1e-8,
                     describe=None, diagnose=None) -> CheckReport:
    """Call ``user_fn(**case)`` and ``reference_fn(**case)`` on every case and
    compare the results as arrays.

    Parameters
    ----------
    describe : callable, optional
        ``case -> str`` used in messages instead of listing the arguments.
    diagnose : callable, optional
        ``(user_fn, cases) -> str or None``, called when a case fails: a hint
        naming the typical mistake the answer matches (appended to the message).

    Raises
    ------
    ExerciseFailed
        On the first case where the function raises, returns the wrong shape
        or differs from the reference; the message shows the case, both
        answers, the first entry that differs and, if ``diagnose`` finds one,
        a hint.
    TypeError
        If ``user_fn`` is not callable.
    """
    if not callable(user_fn):
        raise TypeError(f"{exercise}: expected a function, got {type(user_fn).__name__}")
    cases = list(cases)
    try:
        return _compare(exercise, user_fn, reference_fn, cases, rtol, atol, describe)
    except ExerciseFailed as exc:
        hint = diagnose(user_fn, cases) if diagnose is not None else None
        if hint is None:
            raise
        raise ExerciseFailed(f"{exc}\n  Hint: {hint}") from None


def _compare(exercise, user_fn, reference_fn, cases, rtol, atol, describe) -> CheckReport:
    for k, case in enumerate(cases):
        what = describe(case) if describe else ", ".join(
            f"{n}={_fmt(v) if isinstance(v, np.ndarray) else repr(v)}" for n, v in case.items())
        want = np.asarray(reference_fn(**case), dtype=float)
        try:
            got = user_fn(**{n: (v.copy() if isinstance(v, np.ndarray) else v) for n, v in case.items()})
        except Exception as exc:  # the reader's code failed: show how
            raise ExerciseFailed(
                f"{exercise}: your function raised {type(exc).__name__}: {exc}\n  on case {k}: {what}"
            ) from exc
        try:
            got = np.asarray(got, dtype=float)
        except (TypeError, ValueError):
            raise ExerciseFailed(f"{exercise}: your function returned {type(got).__name__}, "
                                 f"expected an array of shape {want.shape} (case {k}: {what})") from None
        if got.shape != want.shape:
            raise ExerciseFailed(f"{exercise}: your function returned shape {got.shape}, expected "
                                 f"{want.shape}\n  on case {k}: {what}")
        close = np.isclose(got, want, rtol=rtol, atol=atol)
        if not close.all():
            i = tuple(int(j) for j in np.argwhere(~close)[0])
            raise ExerciseFailed(
                f"{exercise}: wrong value on case {k}: {what}\n"
                f"  first difference at index {i}: yours {float(got[i])!r}, expected {float(want[i])!r}\n"
                f"  yours:    {_fmt(got)}\n  expected: {_fmt(want)}")
    return CheckReport(exercise, len(cases))


def copy_case(case) -> dict:
    """The arguments of a case, arrays copied (a reader's function may write into them)."""
    return {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in case.items()}


def outputs(user_fn, cases):
    """The reader's answers on every case as float arrays, or None if one raises
    (the error is reported by :func:`compare_on_cases` already)."""
    outs = []
    for case in cases:
        try:
            outs.append(np.asarray(user_fn(**copy_case(case)), dtype=float))
        except Exception:  # noqa: BLE001 - the reader's error is already reported
            return None
    return outs


def keyword_hints(reference_fn, variants, rtol=1e-6, atol=1e-8):
    """:func:`variant_hints` for mistakes written as keyword switches of the
    reference: ``variants`` pairs ``kwargs`` and a hint, the mistake being
    ``reference_fn(**case, **kwargs)``."""
    return variant_hints(reference_fn,
                         [(hint, functools.partial(reference_fn, **kw)) for kw, hint in variants],
                         rtol=rtol, atol=atol)


def variant_hints(reference_fn, variants, rtol=1e-6, atol=1e-8):
    """A ``diagnose`` for :func:`compare_on_cases` built from named mistakes.

    ``variants`` is a list of pairs of a hint (a string) and ``wrong_fn``, in
    either order: ``wrong_fn(**case)`` computes a typical wrong answer. The
    hint returned is that of the first mistake the reader's function reproduces
    on every case, provided the mistake differs from ``reference_fn`` on at
    least one case (so that a hint is never given for an answer that is right;
    ``reference_fn=None`` skips that guard).
    """
    variants = [(a, b) if callable(a) else (b, a) for a, b in variants]

    def same(a, b):
        a = np.asarray(a, dtype=float)
        b = np.asarray(b, dtype=float)
        return a.shape == b.shape and np.allclose(a, b, rtol=rtol, atol=atol)

    def diagnose(user_fn, cases):
        outs = outputs(user_fn, cases)
        if outs is None:
            return None
        for wrong, hint in variants:
            informative = False
            for case, got in zip(cases, outs):
                try:
                    bad = wrong(**copy_case(case))
                except Exception:  # noqa: BLE001 - a mistake that cannot run here is not this one
                    break
                if not same(got, bad):
                    break
                informative |= reference_fn is None or not same(bad, reference_fn(**case))
            else:
                if informative:
                    return hint
        return None

    return diagnose


def mdp_case(n_states, n_actions, gamma, rng, **extra) -> dict:
    """One case ``dict(P, R, gamma, **extra)`` of plain arrays from
    :func:`~rlbook.random_mdp` (``rng``: a Generator shared by the cases)."""
    from ..mdp import random_mdp

    mdp = random_mdp(n_states, n_actions, gamma, seed=rng)
    return dict(P=np.array(mdp.P), R=np.array(mdp.R), gamma=gamma, **extra)


def describe_mdp_case(case) -> str:
    """``"a random MDP with S = 4, A = 2, gamma = 0.9"`` (and ``tol`` when the case has one)."""
    S, A = np.shape(case["R"])
    extra = "".join(f", {k} = {case[k]:g}" for k in ("gamma", "tol") if k in case)
    return f"a random MDP with S = {S}, A = {A}{extra}"
