"""Progress bars for long loops (``progress=True`` in the training functions)."""
from __future__ import annotations

import sys


def progress_bar(total: int, enabled: bool, desc: str = "", unit: str = "it"):
    """A text ``tqdm`` bar (not a widget, so it renders in the built book and
    in a terminal alike), or a do-nothing stand-in when ``enabled`` is false."""
    if not enabled:
        return _NoBar()
    from tqdm import tqdm

    class _Bar(tqdm):
        # set_postfix redraws at once by default, which ignores mininterval and
        # floods notebook output; redraw at the bar's own pace instead.
        def set_postfix(self, ordered_dict=None, refresh=False, **kwargs):
            return super().set_postfix(ordered_dict, refresh, **kwargs)

    return _Bar(total=total, desc=desc, unit=unit, file=sys.stdout, mininterval=0.5,
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
