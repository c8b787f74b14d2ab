"""Numerical helpers shared by the tests (independent of rlbook, so they can check it)."""
import numpy as np


def central_difference(f, x, h=1e-6):
    """Central finite differences ``(f(x + h e_i) - f(x - h e_i)) / 2h`` for every entry i
    of the array ``x`` (error O(h^2) for smooth ``f``)."""
    out = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = h
        out[i] = (f(x + e) - f(x - e)) / (2 * h)
    return out
