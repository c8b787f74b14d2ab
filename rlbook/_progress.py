"""Progress bars for long loops (``progress=True`` in the training functions)."""
from __future__ import annotations

import sys


def progress_bar(total: int, enabled: bool, desc: str = "", unit: str = "it"):
    """A text ``tqdm`` bar (not a widget, so it renders in the built book and
    in a terminal alike), or a do-nothing stand-in when ``enabled`` is false."""
    if not enabled:
        return _NoBar()
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit=unit, file=sys.stdout, mininterval=0.5,
                dynamic_ncols=False, ncols=90, leave=True)


class _NoBar:
    def update(self, n=1):
        pass

    def set_postfix(self, *args, **kwargs):
        pass

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
