"""Policy gradients (C9, the policy gradient theorem, C10): parametrised policies and
objectives (``objectives``), the theorem (``theorem``), the average-reward setting
(``average_reward``), Monte Carlo estimators (``estimators``), exact trajectory enumeration
(``trajectories``), tabular REINFORCE (``reinforce``) and the autograd route (``autograd``)."""
from .objectives import *  # noqa: F401,F403
from .theorem import *  # noqa: F401,F403
from .average_reward import *  # noqa: F401,F403
from .estimators import *  # noqa: F401,F403
from .trajectories import *  # noqa: F401,F403
from .reinforce import *  # noqa: F401,F403
from .autograd import *  # noqa: F401,F403
from .exact_ascent import *  # noqa: F401,F403
from .actor_critic import *  # noqa: F401,F403
from .deterministic import *  # noqa: F401,F403

import sys as _sys  # noqa: E402

# the public names of the submodules (a submodule may share a name with a function)
__all__ = [
    _n for _m in ('objectives', 'theorem', 'average_reward', 'estimators', 'trajectories', 'reinforce', 'autograd', 'exact_ascent', 'actor_critic', 'deterministic')
    for _n in _sys.modules[f"{__name__}.{_m}"].__all__
]
