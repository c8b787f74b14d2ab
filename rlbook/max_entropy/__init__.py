"""Maximum-entropy RL and continuous control: soft Bellman equations and squashed Gaussians."""
from .soft import *  # noqa: F401,F403
from .squashed import *  # noqa: F401,F403
from .distributional import *  # noqa: F401,F403

import sys as _sys  # noqa: E402

__all__ = [_n for _m in ('soft', 'squashed', 'distributional') for _n in _sys.modules[f"{__name__}.{_m}"].__all__]
