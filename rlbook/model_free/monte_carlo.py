"""Monte Carlo prediction and control (Chapter 5).

Monte Carlo methods estimate values as averages of sampled returns,
``q_pi(s, a) = E[G_t | S_t = s, A_t = a]``, with no model of ``p`` or ``r``:
the MDP is used only to *sample* transitions (``mdp.step`` semantics: the
next state from ``P``, the reward from the reward law ``R_next``).

Every learner runs ``n_runs`` independent learners in lockstep, so that a
figure averaged over 100 runs costs about as much Python as one run:

* with a fixed policy (prediction, off-policy prediction) every episode of
  every run is independent, so all of them are sampled as one batch: one draw
  per time step from a table of the pairs ``(A_t, S_{t+1})`` under the policy,
  and the returns are summed into the averages with ``np.bincount`` (a sample
  average does not depend on the order of its terms);
* in control the episodes of a run follow each other (the policy improves
  after each), while the runs advance together: a step is a handful of
  whole-batch calls (the greedy pair of each run's state from a table, one
  draw from the law), and after the episode ``q`` and the greedy pairs are
  updated in the entries visited.

A draw is an inverse-CDF lookup in a flat table (:class:`_Table`). The
per-episode Python loop written the textbook way is in
``benchmarks/model_free.py`` for comparison.
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

from .._progress import progress_bar
from .._validate import (as_float_array, as_generator, check_int, check_policy,
                         check_unit_interval)
from ..dp.optimality import greedy_actions
from ..mdp import FiniteMDP, _bool_mask, _check_mdp
from ._common import check_start

__all__ = [
    "MCBasicResult",
    "MCControlResult",
    "MCPredictionResult",
    "OffPolicyMCResult",
    "epsilon_greedy_policy",
    "first_visit_mask",
    "importance_ratios",
    "incremental_mean",
    "mc_basic",
    "mc_epsilon_greedy",
    "mc_exploring_starts",
    "mc_prediction",
    "off_policy_mc_prediction",
]

#: Episodes of an MDP with terminal states are cut (with an error) after this many steps.
MAX_EPISODE_STEPS = 100_000
#: Episodes generated together by the prediction learners (small enough to stay in cache).
CHUNK = 16_384


# -- small pure functions ------------------------------------------------------------------
def incremental_mean(x, axis: int = 0) -> np.ndarray:
    r"""Running means of ``x`` along ``axis`` by the incremental update

    .. math:: w_{k+1} = w_k - \frac{1}{k} (w_k - x_k), \qquad k = 1, 2, \dots

    (Chapter 5; Chapter 6 reads it as Robbins-Monro with ``a_k = 1/k``).
    Entry ``k - 1`` of the result is ``w_{k+1} = (x_1 + ... + x_k) / k``.

    Parameters
    ----------
    x : array_like
        Samples, at least one along ``axis``.
    axis : int
    """
    arr = np.moveaxis(np.asarray(x, dtype=float), axis, 0)
    if arr.shape[0] == 0:
        raise ValueError(f"x has no samples along axis {axis} (shape {np.shape(x)})")
    out = np.empty_like(arr)
    w = np.zeros(arr.shape[1:])
    for k in range(1, arr.shape[0] + 1):
        w = w - (w - arr[k - 1]) / k
        out[k - 1] = w
    return np.moveaxis(out, 0, axis)


def _check_shapes(name, arr, ref_name, ref):
    if arr.shape != ref.shape:
        raise ValueError(
            f"{name} has shape {arr.shape} but {ref_name} has shape {ref.shape}: episodes of "
            "inconsistent lengths (every array holds one row per episode, one column per step)")


def first_visit_mask(keys, mask=None) -> np.ndarray:
    """Boolean ``(N, T)`` array, true where ``keys[n, t]`` occurs for the first
    time in episode ``n`` (a state, or a state-action pair encoded as
    ``s * A + a``).

    Parameters
    ----------
    keys : array_like of int, shape (N, T)
    mask : array_like of bool, shape (N, T), optional
        Valid steps (after the end of an episode ``mask`` is false).
    """
    k = np.asarray(keys)
    if k.ndim != 2 or not np.issubdtype(k.dtype, np.integer):
        raise ValueError(f"keys must be a 2-D integer array (N, T), got dtype {k.dtype}, "
                         f"shape {k.shape}")
    m = np.ones(k.shape, dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    _check_shapes("mask", m, "keys", k)
    out = np.zeros(k.shape, dtype=bool)
    if not m.any():
        return out
    flat = np.flatnonzero(m.ravel())
    kk = k.ravel()[flat]
    span = int(kk.max()) - int(kk.min()) + 1
    code = (flat // k.shape[1]) * span + (kk - kk.min())
    _, first = np.unique(code, return_index=True)
    out.ravel()[flat[first]] = True
    return out


def importance_ratios(pi, beta, states, actions, mask=None) -> np.ndarray:
    r"""Per-step importance-sampling ratios of the rest of each episode,

    .. math:: \rho_{t:T-1} = \prod_{k=t}^{T-1} \frac{\pi(A_k \mid S_k)}{\beta(A_k \mid S_k)},

    the weight that turns a return ``G_t`` sampled under the behaviour policy
    ``beta`` into an estimate under the target ``pi`` (Chapter 5).

    Parameters
    ----------
    pi, beta : array_like (S, A)
        Target and behaviour policies.
    states, actions : array_like of int, shape (N, T)
    mask : array_like of bool, shape (N, T), optional
        Valid steps; the ratio of a masked step is 1 and does not enter the products.

    Raises
    ------
    ValueError
        If the arrays have different shapes (episodes of inconsistent
        lengths), or ``beta(a|s) = 0`` for a step actually taken.
    """
    pi = np.asarray(pi, dtype=float)
    beta = np.asarray(beta, dtype=float)
    if pi.ndim != 2 or beta.shape != pi.shape:
        raise ValueError(f"pi and beta must be (S, A) arrays of one shape, got {pi.shape} "
                         f"and {beta.shape}")
    s = np.asarray(states)
    a = np.asarray(actions)
    _check_shapes("actions", a, "states", s)
    m = (s >= 0) if mask is None else np.asarray(mask, dtype=bool)
    _check_shapes("mask", m, "states", s)
    flat = np.where(m, s * pi.shape[1] + a, 0)        # flat (s, a) index, 0 where masked
    b = beta.ravel()[flat]
    bad = m & (b <= 0)
    if bad.any():
        n, t = np.argwhere(bad)[0]
        raise ValueError(f"beta[{s[n, t]}, {a[n, t]}] is 0 but episode {n} took action "
                         f"{a[n, t]} in state {s[n, t]} at step {t}")
    ratio = (pi.ravel() / np.where(beta > 0, beta, 1.0).ravel())[flat]
    step = np.where(m, ratio, 1.0)
    return np.cumprod(step[:, ::-1], axis=1)[:, ::-1]


# -- validation -----------------------------------------------------------------------------
def _check_epsilon(epsilon) -> float:
    return check_unit_interval(epsilon, "epsilon", "an exploration rate")


def epsilon_greedy_policy(q, epsilon, allowed=None) -> np.ndarray:
    r"""The epsilon-greedy policy ``(S, A)`` of action values ``q``.

    .. math:: \pi(a|s) = \begin{cases} 1 - \frac{|\mathcal A(s)| - 1}{|\mathcal A(s)|}\,\epsilon
              & a = a^*(s) \\ \frac{\epsilon}{|\mathcal A(s)|} & a \in \mathcal A(s),\ a \ne a^*(s)
              \\ 0 & a \notin \mathcal A(s) \end{cases}

    where ``a^*(s)`` is the greedy action (ties to the lowest index, as
    :func:`~rlbook.greedy_actions`). The greedy action gets ``epsilon / |A(s)|``
    too, on top of ``1 - epsilon``: every available action has probability at
    least ``epsilon / |A(s)|`` (chapter C5).

    Parameters
    ----------
    q : array_like (S, A)
    epsilon : float in [0, 1]
    allowed : array_like of bool (S, A), optional
        The available actions ``A(s)`` (``mdp.allowed``); all by default.
    """
    q = as_float_array(q, "q", ndim=2)
    eps = _check_epsilon(epsilon)
    allow = _bool_mask(allowed, q.shape, "allowed", default=True)
    n = allow.sum(axis=1)
    if (n == 0).any():
        s = int(np.flatnonzero(n == 0)[0])
        raise ValueError(f"allowed[{s}, :] is all False, expected at least one available action")
    a_star = greedy_actions(q, allowed=allow)
    pi = allow * (eps / n)[:, None]
    pi[np.arange(q.shape[0]), a_star] += 1.0 - eps
    return pi


def _allowed(mdp) -> np.ndarray:
    allowed = getattr(mdp, "allowed", None)
    if allowed is None:
        return np.ones((mdp.n_states, mdp.n_actions), dtype=bool)
    return np.asarray(allowed, dtype=bool)


def _check_trace(trace, S):
    if trace is None:
        return None
    if isinstance(trace, bool) or not isinstance(trace, numbers.Integral) or not 0 <= trace < S:
        raise ValueError(f"trace is {trace!r}, expected a state in [0, {S - 1}]")
    return int(trace)


class _Setup:
    """The calling convention shared by the learners, validated: ``N`` episodes
    per run, ``runs`` runs, the generator ``rng`` and its halves, the start
    states ``start(h)`` (one per half-uniform in ``h``, from ``s0`` or ``rho0``),
    the episode length ``T`` and whether an episode must end before it
    (``must_end``, when ``max_steps`` is None)."""

    def __init__(self, mdp, n_episodes, rng, s0, rho0, n_runs, max_steps):
        _check_mdp(mdp)
        self.N = check_int(n_episodes, "n_episodes", 1)
        self.runs = 1 if n_runs is None else check_int(n_runs, "n_runs", 1)
        self.rng = as_generator(rng)
        self.halves = _Halves(self.rng)
        s0, rho0 = check_start(mdp, s0, rho0, terminal_mass=True)
        if s0 is not None:
            self.rho0 = np.zeros(mdp.n_states)
            self.rho0[s0] = 1.0
            self.start = lambda h: np.full(h.size, s0)
        else:
            self.rho0 = rho0
            table = _Table(rho0[None, :])
            self.start = lambda h: table.outcome[table.draw(0, h)]
        if max_steps is None:
            if not mdp.terminal.any():
                raise ValueError("max_steps is None but the MDP has no terminal state: give the "
                                 "episode length max_steps (returns are truncated there)")
            self.T, self.must_end = MAX_EPISODE_STEPS, True
        else:
            self.T, self.must_end = check_int(max_steps, "max_steps", 1), False

    def batches(self, law, chain, progress, desc, ratio=None):
        """``(lo, hi, steps)`` over the ``runs * N`` independent episodes of a fixed
        policy, in chunks; episode ``e`` belongs to run ``e % runs``."""
        total = self.runs * self.N
        bar = progress_bar(total, progress, desc=desc, unit="episodes")
        for lo in range(0, total, CHUNK):
            hi = min(total, lo + CHUNK)
            s = self.start(self.halves.take(hi - lo))
            yield lo, hi, _sample_steps(law, chain, s, self.halves, self.rng, self.T,
                                        self.must_end, ratio)
            bar.update(hi - lo)
        bar.close()

    def start_pairs(self, law):
        """The exploring starts with their first transition: ``S_0`` from ``rho0`` (or
        ``s0``), ``A_0`` uniform over the actions available in ``S_0``, ``S_1`` from the
        law, as the bounds of one row over the law's outcomes ``j`` (in their order, so
        that ``searchsorted(bounds, h, side="right")`` is ``j``; see :class:`_Table`)."""
        pair = self.rho0[:, None] * law.allowed / np.maximum(law.n_allowed, 1)[:, None]
        row = law.table.row
        p = pair.ravel()[row] * law.P.reshape(row.size // law.table.K, -1)[row, law.nxt]
        bounds = 0.5 * np.cumsum(p)
        bounds[np.flatnonzero(p > 0)[-1]:] = 0.75       # the last outcome drawn has mass
        return bounds

    def per_run(self, x):
        """A per-episode array in chunk order (episode ``e`` at ``e``) as ``(runs, N)``."""
        return x.reshape(self.N, self.runs).T


# -- the environment's law, and episodes in lockstep ----------------------------------------
class _Halves:
    """Uniform numbers on ``[0, 1/2)`` (``u / 2`` for ``u ~ U[0, 1)``, exact in binary),
    drawn from ``rng`` in blocks so that a time step takes a slice, not a call of the
    generator. Halves are what :meth:`_Table.draw` consumes."""

    BLOCK = 1 << 16

    def __init__(self, rng: np.random.Generator):
        self.rng = rng
        self.buf = np.empty(0)
        self.pos = 0

    def take(self, n: int) -> np.ndarray:
        pos = self.pos
        if pos + n > self.buf.size:
            self.buf = self.rng.random(max(self.BLOCK, n))
            self.buf *= 0.5
            pos = 0
        self.pos = pos + n
        return self.buf[pos:pos + n]


class _Table:
    """Inverse-CDF sampling of one outcome per row, for a whole batch of rows in one call.

    ``probs[r, m]`` is the probability of outcome ``m`` in row ``r``. Only the
    outcomes with positive probability are kept, ``K`` per row (padded); the
    flat array ``bounds`` holds ``r + c_k / 2`` with ``c_k`` the cumulative
    probabilities of row ``r``, except that the row's last outcome (and the
    padding) gets ``r + 3/4``. For ``h`` uniform on ``[0, 1/2)``,
    ``searchsorted(bounds, r + h, side="right")`` is then the flat index
    ``r * K + k`` of the outcome with ``c_{k-1} <= 2h < c_k``: the rows never
    overlap, so one call draws every row of the batch, whatever its row.
    ``outcome`` maps a flat index back to the column ``m`` of ``probs``.
    """

    def __init__(self, probs: np.ndarray):
        R = probs.shape[0]
        support = probs > 0
        n_out = support.sum(axis=1)
        K = max(int(n_out.max()), 1)
        order = np.argsort(~support, axis=1, kind="stable")[:, :K]        # outcomes first
        c = np.cumsum(np.take_along_axis(probs, order, axis=1), axis=1)
        c[np.arange(K) >= np.maximum(n_out - 1, 0)[:, None]] = 1.5       # last outcome: 3/4
        self.K = K
        self.bounds = (np.arange(R)[:, None] + 0.5 * c).ravel()
        self.row = np.repeat(np.arange(R), K)
        self.outcome = order.ravel()
        self._inner = np.where(c[:, :K - 1] < 1.5, c[:, :K - 1], np.inf)
        self._guide = False                               # built at the first large draw

    @property
    def guide(self):
        if self._guide is False:
            self._guide = _guide(self._inner, self.K)
        return self._guide

    def draw(self, rows, h):
        """Flat outcome indices of ``rows`` from halves ``h`` (one per row)."""
        if h.size < GUIDED or self.guide is None:
            return self.bounds.searchsorted(rows + h, side="right")
        M, lo, cut = self.guide
        hb = h * (2 * M)                                  # u * M, exact (M a power of 2)
        idx = rows * M + hb.astype(np.int64)              # the bin of u in its row
        return lo[idx] + (hb >= cut[idx])


#: Batches of at least this many draws use the guide tables (linear passes instead of a
#: binary search per draw, which costs a branch misprediction per level).
GUIDED = 1024


def _guide(inner, K, max_cells=1 << 20):
    """Guide tables for :meth:`_Table.draw`: with ``M`` bins of width ``1/M`` per row,
    chosen so that no bin has two inner bounds ``c_i`` strictly inside it, the
    outcome of ``u`` is ``lo + (u >= cut)``: ``lo`` the outcome at the bin's start,
    ``cut`` the one bound inside the bin (``inf`` if none). Returns ``(M, lo, cut * M)``
    (``lo`` as flat outcome indices), or None when no ``M`` with ``R * M <= max_cells``
    separates the bounds (probabilities too small)."""
    R = inner.shape[0]
    M = 2
    while R * M <= max_cells:
        f = np.floor(inner * M)
        interior = np.isfinite(inner) & (f != inner * M)
        clash = interior[:, 1:] & interior[:, :-1] & (f[:, 1:] == f[:, :-1])
        if not clash.any():
            break
        M *= 2
    else:
        return None
    start = np.arange(M) / M                                              # bin starts
    off = 2.0 * np.arange(R)[:, None]                       # rows apart, as in _Table.bounds
    flat = (off + np.minimum(inner, 1.5)).ravel()
    lo = flat.searchsorted(off + start, side="right") - np.arange(R)[:, None] * (K - 1)
    nxt = np.take_along_axis(np.concatenate([inner, np.full((R, 1), np.inf)], axis=1),
                             lo, axis=1)                                  # next bound
    cut = np.where(nxt < (start + 1 / M)[None, :], nxt, np.inf)
    lo_flat = (np.arange(R)[:, None] * K + lo).ravel()
    return M, lo_flat, (cut * M).ravel()


class _Law:
    """The MDP as sampling tables: one draw of ``table`` gives, for a batch of
    pairs ``(s, a)`` (row ``s * A + a``), the next states ``nxt`` and the
    rewards ``rew`` (the reward law ``R_next``; its noise ``reward_std`` is
    added by the caller). A terminal state is made absorbing with reward 0, so
    that finished episodes can keep stepping in lockstep at no cost to the
    estimates (their steps are masked by ``live_sa``)."""

    def __init__(self, mdp: FiniteMDP):
        S, A = mdp.n_states, mdp.n_actions
        P = mdp.P.copy()
        term = np.flatnonzero(mdp.terminal)
        P[term] = 0.0
        P[term, :, term] = 1.0
        R_next = np.asarray(mdp.R_next, dtype=float).reshape(S * A, S)
        self.table = _Table(P.reshape(S * A, S))
        self.nxt = self.table.outcome
        self.rew = R_next[self.table.row, self.nxt]
        self.rew[np.repeat(mdp.terminal, A)[self.table.row]] = 0.0
        std = np.asarray(mdp.reward_std, dtype=float).reshape(-1)
        self.std = std if std.any() else None
        self.S, self.A, self.P, self.R_next = S, A, P, R_next
        self.gamma = mdp.gamma
        self.terminal = mdp.terminal
        self.live = ~mdp.terminal
        self.live_sa = np.repeat(self.live, A)
        self.live_j = self.live_sa[self.table.row]       # the pair of outcome j is live
        allowed = _allowed(mdp)
        self.allowed = allowed
        self.n_allowed = allowed.sum(axis=1)
        self.all_allowed = bool(allowed.all())
        self.allowed_idx = np.argsort(~allowed, axis=1, kind="stable")
        self.acyclic = _acyclic(P, self.live)

    def chain(self, pi) -> _Chain:
        """The sampling table of the pairs ``(A_t, S_{t+1})`` under a fixed policy ``pi``."""
        return _Chain(self, pi)

    def noise(self, sa, rng):
        """The reward noise of the pairs ``sa`` (0 when the reward law is deterministic)."""
        return 0.0 if self.std is None else self.std[sa] * rng.standard_normal(np.shape(sa))


class _Chain:
    """One draw per step under a fixed policy ``pi``: the row is the state
    ``s``, the outcome the pair ``(a, s')`` with probability ``pi(a|s) p(s'|s, a)``;
    ``sa``, ``nxt`` and ``rew`` of the outcome are looked up by its flat index."""

    def __init__(self, law: _Law, pi):
        S, A = law.S, law.A
        joint = (np.asarray(pi, dtype=float)[:, :, None] * law.P).reshape(S, A * S)
        joint[law.terminal] = 0.0
        joint[law.terminal, 0] = 1.0                  # absorbing: never recorded
        self.table = _Table(joint)
        a, s2 = np.divmod(self.table.outcome, S)
        self.sa = self.table.row * A + a
        self.nxt = s2
        self.rew = law.R_next[self.sa, s2]


def _acyclic(P, live) -> bool:
    """Whether no state can be visited twice in an episode: the graph of the
    transitions between non-terminal states (under any action) has no cycle.
    Then every visit is a first visit (blackjack: the hand only grows)."""
    if live.size > 4096:
        return False
    edge = (P > 0).any(axis=1) & live[:, None] & live[None, :]
    indeg = edge.sum(axis=0)
    left = live.copy()
    while True:
        free = left & (indeg == 0)
        if not free.any():
            return not left.any()
        left &= ~free
        indeg = indeg - edge[free].sum(axis=0)


def _first_visits(code) -> np.ndarray:
    """Boolean mask of the first occurrence of each value of ``code`` (a flat array in
    time order): a stable sort puts the earliest occurrence of each value first."""
    order = np.argsort(code, kind="stable")
    sc = code[order]
    first = np.empty(code.size, dtype=bool)
    first[order] = np.concatenate(([True], sc[1:] != sc[:-1]))
    return first


@dataclass(frozen=True)
class _Steps:
    """The steps of a batch of ``n`` episodes, flat and in time order (all the
    steps ``t = 0`` first, then ``t = 1``, ...)."""

    episode: np.ndarray     # episode of each step
    sa: np.ndarray          # s * A + a
    returns: np.ndarray     # G_t
    ratios: np.ndarray | None   # rho_{t:T-1} (off-policy)
    g0: np.ndarray          # (n,) G_0 of each episode (0 for an episode without steps)
    lengths: np.ndarray     # (n,)


def _sample_steps(law, chain, s, halves, rng, max_steps, must_end, ratio=None,
                  a0=None) -> _Steps:
    """Run ``len(s)`` episodes of a fixed policy from start states ``s``, in lockstep:
    one draw from the ``chain`` table per step for the episodes still running (the
    finished ones leave the batch); ``a0`` optional first actions (exploring starts).
    ``ratio`` (``S * A``): per-step importance ratios to multiply into ``rho_{t:T-1}``."""
    n = s.size
    idx = np.flatnonzero(law.live[s])
    s = s[idx]
    steps = []
    while idx.size and len(steps) < max_steps:
        h = halves.take(idx.size)                   # (unused when the step is deterministic)
        if a0 is not None and not steps:
            j = law.table.draw(s * law.A + a0[idx], h)
            sa, nxt, rew = law.table.row[j], law.nxt[j], law.rew[j]
        else:
            j = s if chain.table.K == 1 else chain.table.draw(s, h)
            sa, nxt, rew = chain.sa[j], chain.nxt[j], chain.rew[j]
        if law.std is not None:
            rew = rew + law.noise(sa, rng)
        steps.append((idx, sa, rew))
        s = nxt
        live = law.live[s]
        if not live.all():
            idx = idx[live]
            s = s[live]
    if must_end and idx.size:
        raise ValueError(f"{idx.size} episode(s) did not end within {max_steps} steps; "
                         "give max_steps to truncate them, or a policy that reaches a terminal "
                         "state")
    # returns (and ratios) backwards: acc[e] holds G_{t+1} of episode e (0 after its end)
    acc = np.zeros(n)
    wacc = None if ratio is None else np.ones(n)
    G, W = [None] * len(steps), [None] * len(steps)
    for t in range(len(steps) - 1, -1, -1):
        idx, sa, rew = steps[t]
        g = acc[idx]
        g *= law.gamma
        g += rew
        acc[idx] = g
        G[t] = g
        if ratio is not None:
            w = wacc[idx] * ratio[sa]
            wacc[idx] = w
            W[t] = w
    if not steps:
        empty = np.zeros(0, dtype=np.int64)
        return _Steps(empty, empty, np.zeros(0), None if ratio is None else np.zeros(0), acc,
                      np.zeros(n, dtype=np.int64))
    episode = np.concatenate([x[0] for x in steps])
    return _Steps(episode, np.concatenate([x[1] for x in steps]), np.concatenate(G),
                  None if ratio is None else np.concatenate(W), acc,
                  np.bincount(episode, minlength=n))


def _returns(G, gamma) -> np.ndarray:
    """Turn the rewards ``G[t] = R_{t+1}`` (time first, 0 after an episode's end) into the
    returns ``G_t = R_{t+1} + gamma G_{t+1}``, in place."""
    for t in range(G.shape[0] - 2, -1, -1):
        G[t] += G[t + 1] if gamma == 1.0 else gamma * G[t + 1]
    return G


def _check_pi_allowed(mdp, pi, name):
    bad = (pi > 0) & ~_allowed(mdp) & ~mdp.terminal[:, None]
    if bad.any():
        s, a = np.argwhere(bad)[0]
        raise ValueError(f"{name}[{s}, {a}] is {pi[s, a]:.6g} but action {a} is not available "
                         f"in state {s}")


# -- prediction -----------------------------------------------------------------------------
@dataclass(frozen=True)
class MCPredictionResult:
    """What :func:`mc_prediction` returns (a leading run axis when ``n_runs`` is given).

    Attributes
    ----------
    v : ndarray (S,)
        Average of the returns that followed the (first or every) visits of
        each state; ``nan`` where a state was never visited.
    q : ndarray (S, A)
        The same for state-action pairs.
    n_visits : ndarray (S,)
        Number of returns averaged into ``v``.
    episode_returns : ndarray (n_episodes,)
        The return ``G_0`` of every episode.
    episode_lengths : ndarray (n_episodes,)
        Number of steps of every episode.
    trace : ndarray (n_episodes,) or None
        With ``trace=s``: the estimate of ``v(s)`` after each episode (``nan``
        before the first visit).
    """

    v: np.ndarray
    q: np.ndarray
    n_visits: np.ndarray
    episode_returns: np.ndarray
    episode_lengths: np.ndarray
    trace: np.ndarray | None


def mc_prediction(mdp: FiniteMDP, pi, n_episodes: int, *, rng, first_visit: bool = True,
                  s0=None, rho0=None, n_runs=None, max_steps=None, trace=None,
                  progress: bool = False) -> MCPredictionResult:
    r"""Monte Carlo prediction of ``v_pi`` (and ``q_pi``) by averaging sampled returns.

    .. math:: v(s) = \frac{1}{N(s)} \sum_{i} G^{(i)}(s),

    the mean over the ``N(s)`` returns that followed the first visit of ``s``
    in each episode (``first_visit=True``) or every visit (``False``).

    Parameters
    ----------
    mdp : FiniteMDP
    pi : array_like (S, A)
        The policy that generates the episodes and is evaluated.
    n_episodes : int
        Episodes per run.
    rng : numpy.random.Generator or int
    first_visit : bool
        First-visit (unbiased) or every-visit (biased, consistent) averaging.
    s0 : int, optional
        A fixed start state; else ``rho0`` (uniform over non-terminal states by default).
    rho0 : array_like (S,), optional
    n_runs : int, optional
        Independent runs in lockstep; results gain a leading run axis.
    max_steps : int, optional
        Episode length: returns are truncated after ``max_steps`` steps.
        Required when the MDP has no terminal state.
    trace : int, optional
        Record the estimate of ``v(trace)`` after every episode.
    progress : bool
        Show a progress bar over chunks of episodes.

    Notes
    -----
    The returns are the discounted ``G_t = sum_k gamma^k R_{t+k+1}`` of the
    MDP's ``gamma``; with ``max_steps`` they are truncated, which biases them
    by at most ``gamma^T R_max / (1 - gamma)``.
    """
    run = _Setup(mdp, n_episodes, rng, s0, rho0, n_runs, max_steps)
    S, A = mdp.n_states, mdp.n_actions
    pi = check_policy(pi, S, A)
    _check_pi_allowed(mdp, pi, "pi")
    trace = _check_trace(trace, S)
    law = _Law(mdp)
    runs, N = run.runs, run.N
    sum_v, cnt_v = np.zeros(runs * S), np.zeros(runs * S)
    sum_q, cnt_q = np.zeros(runs * S * A), np.zeros(runs * S * A)
    ep_ret, ep_len = np.zeros(runs * N), np.zeros(runs * N, dtype=int)
    tr_sum, tr_cnt = np.zeros(runs * N), np.zeros(runs * N)
    screen = first_visit and not law.acyclic      # else every visit is a first visit
    for lo, hi, st in run.batches(law, law.chain(pi), progress, "MC prediction"):
        ep_ret[lo:hi], ep_len[lo:hi] = st.g0, st.lengths
        e, G = st.episode, st.returns
        state = st.sa // A
        kv = (e + lo) % runs * S + state                      # run * S + s
        kq = kv * A + st.sa % A                               # run * S * A + s * A + a
        mv = _first_visits(e * S + state) if screen else slice(None)
        mq = _first_visits(e * (S * A) + st.sa) if screen else slice(None)
        sum_v += np.bincount(kv[mv], G[mv], runs * S)
        cnt_v += np.bincount(kv[mv], minlength=runs * S)
        sum_q += np.bincount(kq[mq], G[mq], runs * S * A)
        cnt_q += np.bincount(kq[mq], minlength=runs * S * A)
        if trace is not None:
            hit = state == trace
            if screen:
                hit &= mv
            tr_sum[lo:hi] = np.bincount(e[hit], G[hit], hi - lo)
            tr_cnt[lo:hi] = np.bincount(e[hit], minlength=hi - lo)
    with np.errstate(invalid="ignore", divide="ignore"):
        v = (sum_v / cnt_v).reshape(runs, S)
        q = (sum_q / cnt_q).reshape(runs, S, A)
        tr = None
        if trace is not None:
            tr = np.cumsum(run.per_run(tr_sum), axis=1) / np.cumsum(run.per_run(tr_cnt), axis=1)
    out = MCPredictionResult(v, q, cnt_v.reshape(runs, S), run.per_run(ep_ret),
                             run.per_run(ep_len), tr)
    return _squeeze(out, n_runs)


def _squeeze(result, n_runs):
    if n_runs is not None:
        return result
    vals = {k: (None if v is None else (v[0] if isinstance(v, np.ndarray) else v))
            for k, v in result.__dict__.items()}
    return type(result)(**vals)


# -- MC Basic -------------------------------------------------------------------------------
@dataclass(frozen=True)
class MCBasicResult:
    """What :func:`mc_basic` returns.

    Attributes
    ----------
    q : ndarray (S, A)
        The last Monte Carlo estimate of ``q_{pi_k}``.
    v : ndarray (S,)
        ``max_a q(s, a)`` over the available actions, the value estimate of the last policy.
    policy : ndarray (S, A)
        The last greedy (one-hot) policy.
    policies : ndarray (n_iter + 1, S)
        The greedy actions of ``pi_0, pi_1, ...`` (``pi_0`` from ``pi0``).
    values : ndarray (n_iter, S)
        The value estimates after each iteration.
    """

    q: np.ndarray
    v: np.ndarray
    policy: np.ndarray
    policies: np.ndarray
    values: np.ndarray


def _greedy(q, allowed):
    """Greedy actions over the available ones, ties to the lowest index (``q`` (..., S, A))."""
    return np.where(allowed, q, -np.inf).argmax(axis=-1)


def mc_basic(mdp: FiniteMDP, n_iter: int, *, episode_length: int, rng, n_episodes: int = 1,
             pi0=None) -> MCBasicResult:
    r"""Zhao's MC Basic: policy iteration whose evaluation step is Monte Carlo.

    At iteration ``k`` every available pair ``(s, a)`` starts ``n_episodes``
    episodes of ``episode_length`` steps (first action ``a``, then ``pi_k``);
    ``q_k(s, a)`` is the mean of their discounted returns and

    .. math:: \pi_{k+1}(s) = \arg\max_a q_k(s, a).

    Parameters
    ----------
    mdp : FiniteMDP
    n_iter : int
        Policy-iteration steps.
    episode_length : int
        Steps per episode (returns are truncated there, or end at a terminal state).
    rng : numpy.random.Generator or int
    n_episodes : int
        Episodes per pair (1 suffices for a deterministic MDP and policy).
    pi0 : array_like of int (S,), optional
        Initial deterministic policy as actions (default: the first available action).
    """
    _check_mdp(mdp)
    S, A = mdp.n_states, mdp.n_actions
    K = check_int(n_iter, "n_iter", 1)
    L = check_int(episode_length, "episode_length", 1)
    M = check_int(n_episodes, "n_episodes", 1)
    rng = as_generator(rng)
    halves = _Halves(rng)
    law = _Law(mdp)
    allowed = law.allowed
    if pi0 is None:
        actions = law.allowed_idx[:, 0].copy()
    else:
        actions = np.asarray(pi0)
        if actions.shape != (S,) or not np.issubdtype(actions.dtype, np.integer):
            raise ValueError(f"pi0 must be an integer array of shape ({S},), got {actions.shape}")
        bad = (actions < 0) | (actions >= A)
        bad[~bad] = ~allowed[np.flatnonzero(~bad), actions[~bad]]
        if bad.any():
            s = int(np.flatnonzero(bad)[0])
            raise ValueError(f"pi0[{s}] is {actions[s]}, not an available action of state {s}")
        actions = actions.copy()
    live = ~mdp.terminal
    pairs = np.argwhere(allowed & live[:, None])
    s_start = np.repeat(pairs[:, 0], M)
    a_start = np.repeat(pairs[:, 1], M)
    policies = [actions.copy()]
    values = []
    q = np.zeros((S, A))
    for _ in range(K):
        one_hot = np.zeros((S, A))
        one_hot[np.arange(S), actions] = 1.0
        steps = _sample_steps(law, law.chain(one_hot), s_start, halves, rng, L, False,
                              a0=a_start)
        q = np.zeros((S, A))
        np.add.at(q, (s_start, a_start), steps.g0 / M)
        actions = np.where(live, _greedy(q, allowed), actions)
        policies.append(actions.copy())
        values.append(np.where(live, np.where(allowed, q, -np.inf).max(axis=1), 0.0))
    policy = np.zeros((S, A))
    policy[np.arange(S), actions] = 1.0
    return MCBasicResult(q, values[-1], policy, np.array(policies), np.array(values))


# -- control --------------------------------------------------------------------------------
@dataclass(frozen=True)
class MCControlResult:
    """What the Monte Carlo control learners return (a leading run axis when
    ``n_runs`` is given).

    Attributes
    ----------
    q : ndarray (S, A)
        Averages of the returns that followed each pair (0 where never visited).
    policy : ndarray (S, A)
        The final policy: greedy (exploring starts) or epsilon-greedy in ``q``.
    n_visits : ndarray (S, A)
        Returns averaged into each entry of ``q``.
    episode_returns : ndarray (n_episodes,)
        The return ``G_0`` of every episode.
    episode_lengths : ndarray (n_episodes,)
    """

    q: np.ndarray
    policy: np.ndarray
    n_visits: np.ndarray
    episode_returns: np.ndarray
    episode_lengths: np.ndarray


def _greedy_update(cols, gsa, rows, row_sa, neg):
    """Make ``gsa[z] = s * A + argmax_a q(z, a)`` (the greedy pair of row
    ``z = run * S + s``, ties to the lowest index) in the rows ``rows``; ``cols[a]``
    is the column ``q[:, a]`` of the ``(runs * S, A)`` table and ``neg[a]`` the
    same column of -inf on unavailable actions (or None): one gather per action,
    not NumPy's row-wise argmax (a call per row when rows are short)."""
    if len(cols) == 2 and neg is None:
        gsa[rows] = row_sa[rows] + (cols[1][rows] > cols[0][rows])
        return
    best = cols[0][rows] if neg is None else cols[0][rows] + neg[0][rows]
    arg = np.zeros(rows.size, dtype=np.int64)
    for a in range(1, len(cols)):
        qa = cols[a][rows] if neg is None else cols[a][rows] + neg[a][rows]
        better = qa > best
        if a < len(cols) - 1:
            np.copyto(best, qa, where=better)
        arg[better] = a
    gsa[rows] = row_sa[rows] + arg


def _mc_control(mdp, run: _Setup, epsilon, first_visit, exploring, progress, desc):
    """Episodes in lockstep across runs, one after another within a run.

    A step is a handful of whole-batch calls: the greedy pair of each run's
    state from the table ``gsa`` (or an exploring one), one draw from the law.
    Finished episodes keep stepping in their absorbing terminal states (at no
    cost to the estimates: those steps are left out of the update) until every
    run's episode is over. Then the returns are averaged into ``q`` and the
    policy is made greedy in the states visited.
    """
    law = _Law(mdp)
    S, A, n, halves, tab = law.S, law.A, run.runs, run.halves, law.table
    size = n * S * A
    sums, cnts, q = np.zeros(size), np.zeros(size), np.zeros(size)
    cols = [q.reshape(n * S, A)[:, a] for a in range(A)]
    neg = None if law.all_allowed else list(np.tile(np.where(law.allowed, 0.0, -np.inf), (n, 1)).T)
    shift = A.bit_length() - 1 if A & (A - 1) == 0 else None   # cm // A as a shift
    row_sa = np.tile(np.arange(S) * A, n)               # s * A of row z = run * S + s
    gsa = row_sa + np.tile(law.allowed_idx[:, 0], n)    # greedy pair s * A + a of row z
    all_rows = np.arange(n * S)
    rowbase = np.arange(n) * S
    codebase = np.arange(n) * (S * A)
    ep_ret = np.zeros((run.N, n))
    ep_len = np.zeros((run.N, n), dtype=int)
    has_term = bool(mdp.terminal.any())
    unique = first_visit or law.acyclic     # no live pair twice in an episode's update
    screen = first_visit and not law.acyclic
    explore_scale = 2 * A / epsilon if epsilon > 0 else 0.0
    pairs = run.start_pairs(law) if exploring else None

    def choose(s):                                      # the behaviour pairs s * A + a
        sa = gsa[rowbase + s]
        if epsilon > 0:
            h = halves.take(n)
            if law.all_allowed:                         # kk < A exactly when 2h < epsilon
                kk = (h * explore_scale).astype(np.int64)
                sa = np.where(kk < A, s * A + kk, sa)
            else:
                kk = (h * (2 / epsilon) * law.n_allowed[s]).astype(np.int64).clip(0, A - 1)
                sa = np.where(h < epsilon / 2, s * A + law.allowed_idx[s, kk], sa)
        return sa

    nxt, live_s, take, T = law.nxt, law.live, halves.take, run.T
    draw = (lambda sa: sa) if tab.K == 1 else (lambda sa: tab.draw(sa, take(n)))   # j
    bar = progress_bar(run.N, progress, desc=desc, unit="episodes")
    for k in range(run.N):
        if exploring:                                   # a random (S_0, A_0) and S_1
            j = pairs.searchsorted(take(n), side="right")
        else:
            j = draw(choose(run.start(take(n))))
        js = []
        while True:
            js.append(j)
            s = nxt[j]
            # (not checked after the first step, when some run almost surely goes on: an
            # extra step in the absorbing terminal states changes nothing)
            if has_term and len(js) > 1 and not np.count_nonzero(live_s[s]):
                break
            if len(js) == T:
                if run.must_end:
                    raise ValueError(f"{int(live_s[s].sum())} episode(s) did not end within "
                                     f"{T} steps; give max_steps to truncate them, or a "
                                     "policy that reaches a terminal state")
                break
            j = draw(gsa[rowbase + s] if epsilon == 0 else choose(s))
        t = len(js)
        J = np.array(js)                               # (t, n): the law's outcome of step t
        G = law.rew[J]                                 # R_{t+1}, then G_t in place
        if law.std is not None:
            G += law.noise(tab.row[J], run.rng)
        _returns(G, law.gamma)
        ep_ret[k] = G[0]
        cm = tab.row[J] + codebase                     # run * S * A + s * A + a
        if has_term:                                   # the steps before the end
            live = law.live_j[J]
            ep_len[k] = live.sum(axis=0)
            cm, gm = cm[live], G[live]
        else:
            ep_len[k] = t
            cm, gm = cm.ravel(), G.ravel()
        if screen:
            keep = _first_visits(cm)
            cm, gm = cm[keep], gm[keep]
        few = cm.size * 4 < size
        if unique:                                      # no index twice in cm
            total = sums[cm] + gm
            count = cnts[cm] + 1.0
            sums[cm] = total
            cnts[cm] = count
        elif few:
            np.add.at(sums, cm, gm)
            np.add.at(cnts, cm, 1.0)
        else:
            sums += np.bincount(cm, gm, size)
            cnts += np.bincount(cm, minlength=size)
        # q(s, a) = average of the returns; the policy improves in the visited states
        if few:
            q[cm] = total / count if unique else sums[cm] / cnts[cm]
            _greedy_update(cols, gsa, cm >> shift if shift is not None else cm // A, row_sa,
                           neg)
        else:
            np.divide(sums, cnts, out=q, where=cnts > 0)
            _greedy_update(cols, gsa, all_rows, row_sa, neg)
        bar.update()
    bar.close()
    policy = np.zeros(size)
    policy[codebase.repeat(S) + gsa] = 1.0                # one-hot at the greedy pairs
    policy = policy.reshape(n, S, A)
    if epsilon > 0:
        n_allowed = np.maximum(law.n_allowed, 1)
        policy = (1 - epsilon) * policy + epsilon * law.allowed / n_allowed[:, None]
    return MCControlResult(q.reshape(n, S, A), policy, cnts.reshape(n, S, A), ep_ret.T.copy(),
                           ep_len.T.copy())


def mc_exploring_starts(mdp: FiniteMDP, n_episodes: int, *, rng, s0=None, rho0=None,
                        n_runs=None, max_steps=None, first_visit: bool = True,
                        progress: bool = False) -> MCControlResult:
    r"""Monte Carlo control with exploring starts (MC ES).

    Every episode starts from a random state (``rho0``, uniform over the
    non-terminal states by default) and a uniformly random available first
    action, then follows the greedy policy; after the episode, ``q(s, a)`` is
    the mean of all returns that followed ``(s, a)`` and the policy is made
    greedy, ``pi(s) = argmax_a q(s, a)``, in the states visited.

    Parameters
    ----------
    mdp : FiniteMDP
    n_episodes : int
        Episodes per run.
    rng : numpy.random.Generator or int
    s0 : int, optional
        A fixed start state (only the first action then explores; the calling
        convention of the learners).
    rho0 : array_like (S,), optional
        Distribution of the start states (must cover every state that matters).
    n_runs : int, optional
        Independent runs in lockstep (a leading run axis in the result).
    max_steps : int, optional
        Episode length (required when the MDP has no terminal state).
    first_visit : bool
        First-visit (Sutton and Barto) or every-visit averaging.
    progress : bool
    """
    run = _Setup(mdp, n_episodes, rng, s0, rho0, n_runs, max_steps)
    out = _mc_control(mdp, run, 0.0, first_visit, True, progress, "MC exploring starts")
    return _squeeze(out, n_runs)


def mc_epsilon_greedy(mdp: FiniteMDP, n_episodes: int, *, epsilon: float, rng, s0=None,
                      rho0=None, n_runs=None, max_steps=None, first_visit: bool = False,
                      progress: bool = False) -> MCControlResult:
    r"""On-policy Monte Carlo control with epsilon-greedy policies (Zhao's MC
    epsilon-Greedy; Sutton and Barto's on-policy first-visit MC control with
    ``first_visit=True``).

    Episodes follow the epsilon-greedy policy of the current ``q``:

    .. math:: \pi(a \mid s) = \begin{cases} 1 - \frac{|\mathcal A(s)| - 1}{|\mathcal A(s)|}
              \varepsilon & a = \arg\max_{a'} q(s, a') \\
              \frac{\varepsilon}{|\mathcal A(s)|} & \text{other available } a, \end{cases}

    after each episode ``q(s, a)`` is the mean of the returns that followed
    ``(s, a)`` (every visit by default, as in Zhao) and the policy is updated
    in the visited states.

    Parameters
    ----------
    mdp : FiniteMDP
    n_episodes : int
    epsilon : float
        Exploration rate in ``[0, 1]``.
    rng : numpy.random.Generator or int
    s0 : int, optional
        A fixed start state; else ``rho0`` (uniform over non-terminal states).
    rho0 : array_like (S,), optional
    n_runs : int, optional
    max_steps : int, optional
        Episode length (required when the MDP has no terminal state).
    first_visit : bool
    progress : bool
    """
    run = _Setup(mdp, n_episodes, rng, s0, rho0, n_runs, max_steps)
    eps = _check_epsilon(epsilon)
    out = _mc_control(mdp, run, eps, first_visit, False, progress, "MC epsilon-greedy")
    return _squeeze(out, n_runs)


# -- off-policy prediction ------------------------------------------------------------------
@dataclass(frozen=True)
class OffPolicyMCResult:
    """What :func:`off_policy_mc_prediction` returns (a leading run axis when
    ``n_runs`` is given).

    Attributes
    ----------
    v : ndarray (S,)
        The importance-sampling estimate of ``v_pi`` (``nan`` where never
        visited; weighted: 0 where the weights summed to 0).
    n_visits : ndarray (S,)
        Returns averaged.
    weight_sums : ndarray (S,)
        Sums of the importance ratios (the weighted estimator's denominator).
    episode_returns, episode_lengths : ndarray (n_episodes,)
        Of the behaviour episodes.
    trace : ndarray (n_episodes,) or None
        With ``trace=s``: the estimate of ``v(s)`` after every episode.
    """

    v: np.ndarray
    n_visits: np.ndarray
    weight_sums: np.ndarray
    episode_returns: np.ndarray
    episode_lengths: np.ndarray
    trace: np.ndarray | None


def off_policy_mc_prediction(mdp: FiniteMDP, pi, beta, n_episodes: int, *, rng,
                             weighted: bool = False, first_visit: bool = True, s0=None,
                             rho0=None, n_runs=None, max_steps=None, trace=None,
                             progress: bool = False) -> OffPolicyMCResult:
    r"""Off-policy Monte Carlo prediction of ``v_pi`` from episodes of ``beta``.

    With ``rho = rho_{t:T-1}`` the importance ratio of the rest of the episode
    (:func:`importance_ratios`) and the sums over the ``n(s)`` visits of ``s``,

    .. math:: V_{\mathrm{ord}}(s) = \frac{\sum \rho\, G}{n(s)}, \qquad
              V_{\mathrm{w}}(s) = \frac{\sum \rho\, G}{\sum \rho}

    (ordinary and weighted importance sampling; the weighted estimate is 0
    while the ratios sum to 0, as in Sutton and Barto).

    Parameters
    ----------
    mdp : FiniteMDP
    pi, beta : array_like (S, A)
        Target and behaviour policies; ``beta`` must cover ``pi``:
        ``beta(a|s) > 0`` wherever ``pi(a|s) > 0``.
    n_episodes : int
    rng : numpy.random.Generator or int
    weighted : bool
        Weighted (True) or ordinary (False) importance sampling.
    first_visit, s0, rho0, n_runs, max_steps, trace, progress
        As in :func:`mc_prediction`.

    Raises
    ------
    ValueError
        If ``beta`` does not cover ``pi`` (naming ``pi[s, a]`` and ``beta[s, a]``).
    """
    run = _Setup(mdp, n_episodes, rng, s0, rho0, n_runs, max_steps)
    S, A = mdp.n_states, mdp.n_actions
    pi = check_policy(pi, S, A, "pi")
    beta = check_policy(beta, S, A, "beta")
    _check_pi_allowed(mdp, beta, "beta")
    uncovered = (pi > 0) & (beta <= 0) & ~mdp.terminal[:, None]
    if uncovered.any():
        s, a = np.argwhere(uncovered)[0]
        raise ValueError(f"beta[{s}, {a}] is 0 but pi[{s}, {a}] is {pi[s, a]:.6g}: the "
                         "behaviour policy must give positive probability to every action "
                         "the target policy can take (coverage)")
    trace = _check_trace(trace, S)
    law = _Law(mdp)
    runs, N = run.runs, run.N
    ratio = (pi / np.where(beta > 0, beta, 1.0)).ravel()
    num, den, cnt = np.zeros(runs * S), np.zeros(runs * S), np.zeros(runs * S)
    ep_ret, ep_len = np.zeros(runs * N), np.zeros(runs * N, dtype=int)
    tr_num, tr_den = np.zeros(runs * N), np.zeros(runs * N)
    screen = first_visit and not law.acyclic      # else every visit is a first visit
    for lo, hi, st in run.batches(law, law.chain(beta), progress, "off-policy MC", ratio):
        ep_ret[lo:hi], ep_len[lo:hi] = st.g0, st.lengths
        e, rho = st.episode, st.ratios
        state = st.sa // A
        if screen:
            mv = _first_visits(e * S + state)
            e, rho, state, G = e[mv], rho[mv], state[mv], st.returns[mv]
        else:
            G = st.returns
        key = (e + lo) % runs * S + state
        rho_g = rho * G
        num += np.bincount(key, rho_g, runs * S)
        den += np.bincount(key, rho, runs * S)
        cnt += np.bincount(key, minlength=runs * S)
        if trace is not None:
            hit = state == trace
            tr_num[lo:hi] = np.bincount(e[hit], rho_g[hit], hi - lo)
            tr_den[lo:hi] = (np.bincount(e[hit], rho[hit], hi - lo) if weighted
                             else np.bincount(e[hit], minlength=hi - lo))
    with np.errstate(invalid="ignore", divide="ignore"):
        if weighted:
            v = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.where(cnt > 0, 0.0, np.nan))
        else:
            v = num / cnt
        tr = None
        if trace is not None:
            cn = np.cumsum(tr_num.reshape(N, runs), axis=0)
            cd = np.cumsum(tr_den.reshape(N, runs), axis=0)
            if weighted:
                tr = np.where(cd > 0, cn / np.where(cd > 0, cd, 1.0), 0.0).T
            else:
                tr = (cn / cd).T
    out = OffPolicyMCResult(v.reshape(runs, S), cnt.reshape(runs, S), den.reshape(runs, S),
                            ep_ret.reshape(N, runs).T, ep_len.reshape(N, runs).T, tr)
    return _squeeze(out, n_runs)
