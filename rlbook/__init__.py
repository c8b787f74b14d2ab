"""rlbook: the tested code package of an executable textbook of reinforcement
learning theory.

Subpackages follow the parts of the book; every public name is importable from
the top level (``import rlbook as rb``).

========================  ==============================================
module                    chapters
========================  ==============================================
``mdp``, ``sampling``     C1 basic concepts (finite MDPs, policies, sampling)
``examples``              published environments as finite MDPs
``dp``                    C2-C4 Bellman equations, value and policy iteration
``model_free``            C5-C7 Monte Carlo, stochastic approximation, TD
``approximation``         C8 value function approximation
``policy_gradient``       C9, the policy gradient theorem, C10
``trust_region``          TRPO and PPO
``max_entropy``           maximum-entropy RL and continuous control
``agents``                deep RL agents on Gymnasium environments
``plot``                  figures used throughout
``exercises``             checkers for the coding exercises
========================  ==============================================
"""
from . import exercises, plot  # noqa: F401
from .mdp import *  # noqa: F401,F403
from .sampling import *  # noqa: F401,F403
from .examples import *  # noqa: F401,F403
from .dp import *  # noqa: F401,F403
from .model_free import *  # noqa: F401,F403
from .approximation import *  # noqa: F401,F403
from .policy_gradient import *  # noqa: F401,F403
from .trust_region import *  # noqa: F401,F403
from .max_entropy import *  # noqa: F401,F403
from .agents import *  # noqa: F401,F403
from .plot import plot_convergence, plot_grid  # noqa: F401

__version__ = "0.1.0"
