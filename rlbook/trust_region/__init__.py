"""Trust regions and PPO: information measures (``information``), policy improvement theory
(``improvement``), conjugate gradients, natural gradients and the TRPO step (``natural_gradient``),
GAE and the PPO losses (``ppo``)."""
from .information import *  # noqa: F401,F403
from .improvement import *  # noqa: F401,F403
from .natural_gradient import *  # noqa: F401,F403
from .ppo import *  # noqa: F401,F403

import sys as _sys  # noqa: E402

# the public names of the submodules (a submodule may share a name with a function)
__all__ = [
    _n for _m in ('information', 'improvement', 'natural_gradient', 'ppo')
    for _n in _sys.modules[f"{__name__}.{_m}"].__all__
]
