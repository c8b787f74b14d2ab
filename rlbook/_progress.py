"""Progress bars for long loops (``progress=True`` in the training functions)."""
from __future__ import annotations

import sys

#: How many times a bar redraws over a run (besides its first draw).
N_REDRAWS = 5


def progress_bar(total: int, enabled: bool, desc: str = "", unit: str = "it"):
    """A text ``tqdm`` bar, or a do-nothing stand-in when ``enabled`` is false.

    The bar is text (not a widget), so it renders in a terminal, in Jupyter and
    in the built book alike. It redraws every ``total / N_REDRAWS`` units of
    progress rather than on a timer, and shows no elapsed time or rate, so two
    runs of a seeded training print the same lines (a notebook stays
    deterministic and the book shows a short, fixed record of the run).
    """
    if not enabled:
        return _NoBar()
    from tqdm import tqdm

    class _Bar(tqdm):
        # set_postfix redraws at once by default; redraw at the bar's own pace.
        def set_postfix(self, ordered_dict=None, refresh=False, **kwargs):
            return super().set_postfix(ordered_dict, refresh, **kwargs)

        def close(self):
            # if the last redraw already shows the final count, end the line
            # without drawing it a second time (the book would show it twice)
            if not getattr(self, "disable", True) and self.n == getattr(self, "last_print_n", -1):
                self.display = lambda *args, **kwargs: True
            super().close()

    return _Bar(total=total, desc=desc, unit=unit, file=sys.stdout, leave=True, ncols=90,
                dynamic_ncols=False, mininterval=0, maxinterval=float("inf"),
                miniters=max(1, -(-int(total) // N_REDRAWS)),
                bar_format="{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} {unit}{postfix}")


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
