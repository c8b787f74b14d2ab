"""rlbook: the tested code package of an executable textbook of reinforcement
learning theory.

Modules follow the order in which the book introduces them; every public name
is importable from the top level (``import rlbook as rb``).

========================  ==============================================
module                    chapter
========================  ==============================================
``mdp``, ``gridworld``,   C1 basic concepts
``sampling``
``bellman``               C2 Bellman equation
``optimality``            C3 Bellman optimality equation
``dp``                    C4 value iteration and policy iteration
``policy_gradient``,      C9 policy gradient, the policy gradient theorem
``pg_estimators``,
``torch_pg``
``information``,          TRPO and PPO
``improvement``,
``trust_region``,
``ppo``, ``agents``
``plot``                  figures used throughout
``exercises``             checkers for the coding exercises
========================  ==============================================
"""
from . import exercises, plot  # noqa: F401
from .mdp import *  # noqa: F401,F403
from .gridworld import *  # noqa: F401,F403
from .sampling import *  # noqa: F401,F403
from .bellman import *  # noqa: F401,F403
from .optimality import *  # noqa: F401,F403
from .dp import *  # noqa: F401,F403
from .policy_gradient import *  # noqa: F401,F403
from .pg_estimators import *  # noqa: F401,F403
from .torch_pg import *  # noqa: F401,F403
from .information import *  # noqa: F401,F403
from .improvement import *  # noqa: F401,F403
from .trust_region import *  # noqa: F401,F403
from .ppo import *  # noqa: F401,F403
from .agents import *  # noqa: F401,F403
from .plot import plot_convergence, plot_grid  # noqa: F401

__version__ = "0.1.0"
