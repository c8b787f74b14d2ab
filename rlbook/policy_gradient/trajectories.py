"""Exact expectations over trajectories by enumeration (chapter *The policy
gradient theorem*): every path of a short-horizon MDP with its probability."""
from __future__ import annotations

import numpy as np

from .._validate import check_distribution, check_int, check_policy
from ..mdp import FiniteMDP, _check_mdp
from ..sampling import Trajectories

__all__ = ["enumerate_trajectories"]


def enumerate_trajectories(mdp: FiniteMDP, pi, horizon: int, rho0, max_paths: int = 200_000):
    """Every trajectory of ``horizon`` steps with positive probability, and its probability.

    The exact counterpart of :func:`~rlbook.sample_trajectories`: the expectation
    of any per-episode statistic ``f`` is ``probs @ f(traj)`` with no sampling
    error (the chapter uses it to show that importance-weighted estimators have
    the on-policy gradient as their *exact* expectation).

    Returns
    -------
    traj : Trajectories
        One row per trajectory (masked after a terminal state, as sampled).
    probs : ndarray (n_paths,)
        Their probabilities (summing to 1).

    Raises
    ------
    ValueError
        If there would be more than ``max_paths`` trajectories.
    """
    _check_mdp(mdp)
    S, A = mdp.n_states, mdp.n_actions
    pi = check_policy(pi, S, A)
    T = check_int(horizon, "horizon", 1)
    rho0 = check_distribution(rho0, S, "rho0")
    max_paths = check_int(max_paths, "max_paths", 1)
    s = np.flatnonzero(rho0 > 0)
    p = rho0[s]
    hist_s = np.empty((s.size, 0), dtype=int)
    hist_a = np.empty((s.size, 0), dtype=int)
    hist_r = np.empty((s.size, 0))
    hist_m = np.empty((s.size, 0), dtype=bool)
    for _ in range(T):
        alive = ~mdp.terminal[s]
        # branch alive paths over (a, s') with positive probability; keep dead paths as they are
        w = pi[s][:, :, None] * mdp.P[s]  # (n, A, S)
        w[~alive] = 0.0
        idx_n, idx_a, idx_s2 = np.nonzero(w)
        dead = np.flatnonzero(~alive)
        n_new = idx_n.size + dead.size
        if n_new > max_paths:
            raise ValueError(f"enumerating {horizon} steps gives more than max_paths = {max_paths} "
                             "trajectories; use a shorter horizon or sample instead")
        rows = np.concatenate([idx_n, dead])
        a_new = np.concatenate([idx_a, np.full(dead.size, -1)])
        s_next = np.concatenate([idx_s2, s[dead]])
        p_new = np.concatenate([p[idx_n] * w[idx_n, idx_a, idx_s2], p[dead]])
        live_new = np.concatenate([np.ones(idx_n.size, bool), np.zeros(dead.size, bool)])
        st_col = np.where(live_new, s[rows], -1)
        r_col = np.where(live_new, mdp.R[s[rows], np.maximum(a_new, 0)], 0.0)
        hist_s = np.column_stack([hist_s[rows], st_col])
        hist_a = np.column_stack([hist_a[rows], a_new])
        hist_r = np.column_stack([hist_r[rows], r_col])
        hist_m = np.column_stack([hist_m[rows], live_new])
        s, p = s_next, p_new
    return Trajectories(hist_s, hist_a, hist_r, hist_m, s), p
