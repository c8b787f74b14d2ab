"""Figures used across the book: grid-world value maps with policy arrows and
convergence curves."""
from __future__ import annotations

import numpy as np

from ._validate import as_float_array

__all__ = ["plot_grid", "plot_convergence"]

_ARROWS = ((0.0, 0.35), (0.35, 0.0), (0.0, -0.35), (-0.35, 0.0))  # up, right, down, left (x, y up)


def plot_grid(grid, values=None, policy=None, ax=None, title=None, fmt="{:.1f}", cmap="viridis",
              colorbar=True):
    """Draw a :class:`~rlbook.GridWorld`: a heat map of ``values`` with the
    numbers written in, the policy as arrows (length proportional to the
    probability of the move; a circle for *stay*), forbidden cells hatched in
    orange and the target outlined in blue.

    Parameters
    ----------
    grid : GridWorld
    values : array_like (S,), optional
    policy : array_like (S, A), optional
    ax : matplotlib Axes, optional
    title : str, optional
    fmt : str
        Format of the value written in each cell (``None`` for no numbers).
    cmap : str
    colorbar : bool

    Returns
    -------
    ax : matplotlib Axes
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Circle, Rectangle

    n_r, n_c = grid.n_rows, grid.n_cols
    if ax is None:
        _, ax = plt.subplots(figsize=(0.9 * n_c + 1.2, 0.9 * n_r + 0.4))
    if values is not None:
        vals = as_float_array(values, "values", shape=(grid.n_states,)).reshape(n_r, n_c)
        im = ax.imshow(vals, cmap=cmap, origin="upper", extent=(-0.5, n_c - 0.5, n_r - 0.5, -0.5))
        if colorbar:
            ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="value")
        if fmt is not None:
            lo, hi = float(vals.min()), float(vals.max())
            for r in range(n_r):
                for c in range(n_c):
                    light = hi > lo and (vals[r, c] - lo) / (hi - lo) > 0.6
                    ax.text(c, r + 0.3, fmt.format(vals[r, c]), ha="center", va="center",
                            fontsize=8, color="black" if light else "white")
    for (r, c) in grid.forbidden:
        ax.add_patch(Rectangle((c - 0.5, r - 0.5), 1, 1, facecolor="orange",
                               alpha=0.55 if values is not None else 0.9, hatch="//",
                               edgecolor="darkorange", lw=0))
    tr, tc = grid.target
    ax.add_patch(Rectangle((tc - 0.5, tr - 0.5), 1, 1, fill=values is None, facecolor="lightskyblue",
                           edgecolor="royalblue", lw=3))
    if policy is not None:
        pi = as_float_array(policy, "policy", shape=(grid.n_states, grid.n_actions))
        for s in range(grid.n_states):
            r, c = divmod(s, n_c)
            for a, (dx, dy) in enumerate(_ARROWS):
                p = pi[s, a]
                if p > 1e-3:
                    scale = 0.35 + 0.65 * p  # a visible minimum length, longer when likelier
                    ax.arrow(c, r - 0.05, scale * dx, -scale * dy, width=0.012 + 0.025 * p,
                             head_width=0.1, head_length=0.07, length_includes_head=True,
                             color="crimson", alpha=0.35 + 0.6 * p)
            if pi[s, 4] > 1e-3:
                ax.add_patch(Circle((c, r - 0.05), 0.05 + 0.08 * pi[s, 4], fill=False,
                                    edgecolor="crimson", lw=1 + pi[s, 4], alpha=0.35 + 0.6 * pi[s, 4]))
    ax.set_xticks(range(n_c))
    ax.set_yticks(range(n_r))
    ax.set_xticks(np.arange(-0.5, n_c), minor=True)
    ax.set_yticks(np.arange(-0.5, n_r), minor=True)
    ax.grid(which="minor", color="grey", lw=0.8)
    ax.tick_params(which="minor", length=0)
    ax.set_xlim(-0.5, n_c - 0.5)
    ax.set_ylim(n_r - 0.5, -0.5)
    ax.set_xlabel("column")
    ax.set_ylabel("row")
    if title:
        ax.set_title(title)
    return ax


def plot_convergence(curves, ax=None, xlabel="iteration $k$",
                     ylabel=r"$\|v_k - v^*\|_\infty$", logy=True, title=None):
    """Plot error curves, one per named method.

    Parameters
    ----------
    curves : dict[str, array_like]
        Label -> sequence of errors (iteration ``k`` on the x axis).
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.6))
    for label, err in curves.items():
        e = np.asarray(err, dtype=float)
        ax.plot(np.arange(e.size), e, marker="o" if e.size < 30 else None, ms=3, label=label)
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.legend()
    ax.grid(alpha=0.3)
    return ax
