"""Dynamic programming (C2-C4): Bellman operators and policy evaluation (``bellman``), the
Bellman optimality operator and greedy policies (``optimality``), value iteration, policy
iteration and truncated policy iteration (``iteration``)."""
from .bellman import *  # noqa: F401,F403
from .optimality import *  # noqa: F401,F403
from .iteration import *  # noqa: F401,F403

import sys as _sys  # noqa: E402

# the public names of the submodules (a submodule may share a name with a function)
__all__ = [
    _n for _m in ('bellman', 'optimality', 'iteration')
    for _n in _sys.modules[f"{__name__}.{_m}"].__all__
]
