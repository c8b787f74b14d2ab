"""Published environments as finite MDPs: Zhao's grid world and Sutton and Barto's grid worlds (C1-C4);
later chapters add the random walk, blackjack, cliff walking, the maximisation-bias MDP, Baird's
counterexample and the short corridor."""
from .gridworld import *  # noqa: F401,F403
from .blackjack import *  # noqa: F401,F403
from .baird import *  # noqa: F401,F403
from .random_walk import *  # noqa: F401,F403
from .cliff import *  # noqa: F401,F403
from .maximization_bias import *  # noqa: F401,F403

import sys as _sys  # noqa: E402

# the public names of the submodules (a submodule may share a name with a function)
__all__ = [
    _n for _m in ('gridworld', 'blackjack', 'baird', 'random_walk', 'cliff', 'maximization_bias')
    for _n in _sys.modules[f"{__name__}.{_m}"].__all__
]
