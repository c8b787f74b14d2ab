"""Deep RL agents on Gymnasium environments, one file per agent, each read next to its algorithm
box; shared machinery (rollouts, replay, networks) lives in ``agents/_*.py``."""
from ._nets import MLPPolicy, MLPValue, QNetwork  # noqa: F401
from ._nets import DeterministicActor, SquashedGaussianActor, QEnsemble  # noqa: F401
from ._rollout import *  # noqa: F401,F403
from ._replay import *  # noqa: F401,F403
from ._offpolicy import *  # noqa: F401,F403
from .reinforce import *  # noqa: F401,F403
from .ppo import *  # noqa: F401,F403
from .trpo import *  # noqa: F401,F403
from .a2c import *  # noqa: F401,F403
from .dqn import *  # noqa: F401,F403
from .ddpg import *  # noqa: F401,F403
from .td3 import *  # noqa: F401,F403
from .sac import *  # noqa: F401,F403

import sys as _sys  # noqa: E402

# the public names of the submodules (a submodule may share a name with a function)
__all__ = ["MLPPolicy", "MLPValue", "QNetwork", "DeterministicActor", "SquashedGaussianActor",
           "QEnsemble"] + [
    _n for _m in ('_rollout', '_replay', '_offpolicy', 'reinforce', 'ppo', 'trpo', 'a2c', 'dqn',
                  'ddpg', 'td3', 'sac')
    for _n in _sys.modules[f"{__name__}.{_m}"].__all__
]
