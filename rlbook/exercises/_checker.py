"""The machinery behind the exercise checkers: run a reader's function and the
reference on the same random cases and say, precisely, what differs."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["ExerciseFailed", "CheckReport", "compare_on_cases", "hints_from_variants"]


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


def hints_from_variants(variants, rtol=1e-6, atol=1e-8):
    """A ``diagnose`` for :func:`compare_on_cases` built from typical mistakes.

    ``variants`` is a list of ``(hint, wrong_fn)``: ``wrong_fn`` implements one
    typical mistake with the reference's signature.  The returned function names
    the first mistake whose outputs the reader's function reproduces on every case
    (or returns None)."""

    def diagnose(user_fn, cases):
        for hint, wrong in variants:
            try:
                if all(np.allclose(np.asarray(user_fn(**_copied(c)), dtype=float),
                                   np.asarray(wrong(**_copied(c)), dtype=float),
                                   rtol=rtol, atol=atol) for c in cases):
                    return hint
            except Exception:  # noqa: BLE001 - a crash is not this mistake
                continue
        return None

    return diagnose


def _copied(case):
    return {n: (v.copy() if isinstance(v, np.ndarray) else v) for n, v in case.items()}
