"""Checkers for the book's coding exercises.

Each ``check_*`` function takes the reader's function, runs it and the
reference on random cases, and either returns a short report or raises
:class:`ExerciseFailed` with a message that says what is wrong. Checkers live
in one module per chapter (``c01``, ``c02``, ..., ``pg_theorem``,
``trpo_ppo``); every name a module lists in ``__all__`` is re-exported here,
so ``rb.exercises.check_returns(my_fn)`` works.
"""
import importlib
import pkgutil

from ._checker import CheckReport, ExerciseFailed, compare_on_cases

__all__ = ["CheckReport", "ExerciseFailed", "compare_on_cases"]

for _info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    if _info.name.startswith("_"):
        continue
    _mod = importlib.import_module(f"{__name__}.{_info.name}")
    for _name in getattr(_mod, "__all__", []):
        globals()[_name] = getattr(_mod, _name)
        __all__.append(_name)
del importlib, pkgutil
