"""Value function approximation (C8): features and linear methods."""
from .features import *  # noqa: F401,F403
from .linear import *  # noqa: F401,F403

import sys as _sys  # noqa: E402

# the public names of the submodules (a submodule may share a name with a function)
__all__ = [
    _n for _m in ('features', 'linear')
    for _n in _sys.modules[f"{__name__}.{_m}"].__all__
]
