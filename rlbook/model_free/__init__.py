"""Model-free prediction and control (C5-C7): Monte Carlo, stochastic approximation, TD learning."""
from .monte_carlo import *  # noqa: F401,F403
from .stochastic_approximation import *  # noqa: F401,F403
from .td import *  # noqa: F401,F403

import sys as _sys  # noqa: E402

# the public names of the submodules (a submodule may share a name with a function)
__all__ = [
    _n for _m in ('monte_carlo', 'stochastic_approximation', 'td')
    for _n in _sys.modules[f"{__name__}.{_m}"].__all__
]
