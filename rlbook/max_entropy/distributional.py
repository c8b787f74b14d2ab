"""The categorical projection of a distributional Bellman target (C51, used by D4PG's
critic; chapter *Continuous control and maximum entropy*, "Where to go next")."""
from __future__ import annotations

import numpy as np

from .._validate import as_float_array, check_gamma, check_probabilities

__all__ = ["categorical_projection"]


def categorical_projection(z, p, r, gamma, terminated=None) -> np.ndarray:
    r"""Project the distribution of ``r + gamma (1 - d) Z`` back onto the fixed support ``z``.

    ``Z`` takes value ``z_j`` with probability ``p[..., j]``. Each atom
    ``T z_j = clip(r + gamma (1 - d) z_j, z_0, z_{K-1})`` splits its mass between the
    two neighbouring support points in proportion to closeness:

    .. math:: (\Phi\, \mathcal T p)_i = \sum_j p_j \Big[1 - \frac{|T z_j - z_i|}{\Delta z}\Big]_0^1 ,

    with a uniform grid ``z`` of spacing ``Delta z``. The projection keeps the
    total mass and, when no atom is clipped, the mean: a linear interpolation
    between neighbours reproduces every point exactly.

    Parameters
    ----------
    z : array (K,)
        Uniform, increasing support (``K >= 2``).
    p : array (..., K)
        Probabilities on ``z``.
    r : array (...) or float
        Rewards (broadcast against ``p[..., 0]``).
    gamma : float
    terminated : array (...) of 0/1, optional
        1 where the next state is terminal (the target is ``r`` alone).

    Returns
    -------
    ndarray (..., K)
    """
    z = as_float_array(z, "z", ndim=1)
    if len(z) < 2:
        raise ValueError(f"z has {len(z)} atoms, expected at least 2")
    dz = np.diff(z)
    if np.any(dz <= 0) or not np.allclose(dz, dz[0], rtol=1e-9, atol=0):
        raise ValueError("z must be a uniform, increasing grid")
    p = as_float_array(p, "p")
    if p.ndim == 0 or p.shape[-1] != len(z):
        raise ValueError(f"p must have shape (..., {len(z)}), got {p.shape}")
    check_probabilities(p, "p", "a distribution over the support z")
    gamma = check_gamma(gamma)
    r = as_float_array(r, "r")
    d = np.zeros(()) if terminated is None else as_float_array(terminated, "terminated")
    Tz = np.clip(r[..., None] + gamma * (1.0 - d[..., None]) * z, z[0], z[-1])
    w = np.clip(1.0 - np.abs(Tz[..., None, :] - z[:, None]) / dz[0], 0.0, 1.0)   # (..., K_i, K_j)
    return (w * p[..., None, :]).sum(-1)
