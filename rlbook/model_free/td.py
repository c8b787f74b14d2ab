r"""Temporal-difference learning (Chapter 7).

Every learner here estimates a value table from sampled transitions and moves
each visited entry towards a *TD target*:

=====================  ====================================================================
learner                target for the pair ``(S_t, A_t)`` (state ``S_t`` for TD(0))
=====================  ====================================================================
``td0_prediction``     ``R_{t+1} + gamma v(S_{t+1})``
``sarsa``              ``R_{t+1} + gamma q(S_{t+1}, A_{t+1})``
``expected_sarsa``     ``R_{t+1} + gamma sum_a pi(a|S_{t+1}) q(S_{t+1}, a)``
``n_step_sarsa``       ``R_{t+1} + ... + gamma^{n-1} R_{t+n} + gamma^n q(S_{t+n}, A_{t+n})``
``q_learning``         ``R_{t+1} + gamma max_a q(S_{t+1}, a)``
``double_q_learning``  ``R_{t+1} + gamma q'(S_{t+1}, argmax_a q(S_{t+1}, a))``
=====================  ====================================================================

with the value of a terminal state taken as 0. The update is
``x <- x + alpha_n (target - x)``, where ``alpha_n`` is a constant ``alpha``
or a schedule of the entry's visit count ``n = 1, 2, ...``.

All learners share one calling convention, ``learner(mdp, n_episodes, *,
alpha, epsilon, rng, s0=None, n_runs=None, ...)``. With ``n_runs = N`` they
run ``N`` independent learners in lockstep: every array carries a leading run
axis, one Python iteration advances every run by one step (``mdp.step`` is
vectorised), and a run that finishes its episodes idles until the others are
done. The Python work per step therefore does not grow with ``N``.
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .._progress import progress_bar
from .._validate import (as_float_array, as_generator, check_gamma, check_int, check_policy,
                         check_positive, check_unit_interval)
from ..mdp import FiniteMDP, _check_mdp
from ._common import check_start

__all__ = [
    "TDSettings",
    "TDPredictionResult",
    "TDControlResult",
    "td0_prediction",
    "constant_alpha_mc",
    "sarsa",
    "expected_sarsa",
    "n_step_sarsa",
    "q_learning",
    "double_q_learning",
    "batch_td0",
    "batch_mc",
]


# -- settings and results ------------------------------------------------------------------
@dataclass(frozen=True)
class TDSettings:
    """The settings of one call of a TD learner (validated, stored in the result)."""

    #: Step size: a constant in ``(0, 1]``, or a schedule ``n -> alpha_n`` mapping an
    #: integer array of visit counts ``n >= 1`` of the updated entry to step sizes in
    #: ``(0, 1]`` (e.g. ``lambda n: 1 / n``, the sample average).
    alpha: float | Callable
    #: Exploration rate of the epsilon-greedy behaviour policy, in ``[0, 1]``; ``None``
    #: when a fixed policy (``pi`` or ``beta``) chooses the actions.
    epsilon: float | None
    #: Number of rewards in the target before bootstrapping (1 for one-step methods).
    n: int
    #: Number of independent runs in lockstep (``None``: one run, no run axis).
    n_runs: int | None
    #: Cap on the number of steps of one episode.
    max_steps: int
    #: What a capped episode does: ``"error"`` raises ``ValueError``; ``"report"`` ends
    #: the episode (the last target still bootstraps, as it must for a time limit) and
    #: marks it in ``result.truncated``.
    truncate: str


@dataclass(frozen=True, kw_only=True)
class _EpisodeRecord:
    """The per-episode record that prediction and control results share."""

    episode_returns: np.ndarray
    episode_lengths: np.ndarray
    truncated: np.ndarray
    visits: np.ndarray
    history: np.ndarray | None
    settings: TDSettings


@dataclass(frozen=True, kw_only=True)
class TDPredictionResult(_EpisodeRecord):
    """What a prediction learner returns (run axis first when ``n_runs`` is given).

    Attributes
    ----------
    v : ndarray (S,) or (N, S)
        The estimated state values.
    episode_returns : ndarray (n_episodes,) or (N, n_episodes)
        Undiscounted sum of the rewards of each episode.
    episode_lengths : ndarray of int, same shape
        Steps of each episode.
    truncated : ndarray of bool, same shape
        Whether the episode was ended by ``max_steps`` rather than a terminal state.
    visits : ndarray of int (S,) or (N, S)
        How many times each state was updated.
    history : ndarray (n_episodes + 1, S) or (N, n_episodes + 1, S), or None
        With ``record=True``: ``v`` before the first episode and after each episode.
    settings : TDSettings
    """

    v: np.ndarray


@dataclass(frozen=True, kw_only=True)
class TDControlResult(_EpisodeRecord):
    """What a control learner returns (run axis first when ``n_runs`` is given).

    Attributes
    ----------
    q : ndarray (S, A) or (N, S, A)
        The estimated action values (for Double Q-learning the mean of the two tables).
    episode_returns, episode_lengths, truncated : ndarray (n_episodes,) or (N, n_episodes)
        As in :class:`TDPredictionResult`.
    visits : ndarray of int (S, A) or (N, S, A)
        How many times each pair was updated (both tables together for Double Q).
    history : ndarray (n_episodes + 1, S, A) or (N, n_episodes + 1, S, A), or None
        With ``record=True``: ``q`` before the first episode and after each episode.
    settings : TDSettings
    q_pair : tuple of two ndarrays, or None
        Double Q-learning's two tables ``(q1, q2)``.
    """

    q: np.ndarray
    q_pair: tuple | None = None


# -- validation ----------------------------------------------------------------------------
_PROBE = np.arange(1, 10_001)


def _check_alpha(alpha):
    if callable(alpha):
        try:
            out = np.asarray(alpha(_PROBE.copy()), dtype=float)
        except Exception as exc:  # noqa: BLE001 - say which argument failed
            raise ValueError(f"alpha: the schedule raised {type(exc).__name__}: {exc} on the "
                             "visit counts n = 1..10000 (it must accept an integer array)") from exc
        if out.shape != _PROBE.shape:
            raise ValueError(f"alpha: the schedule returned shape {out.shape} for visit counts "
                             f"of shape {_PROBE.shape}; it must act elementwise")
        _check_alpha_values(out, _PROBE)
        return alpha
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real):
        raise TypeError(f"alpha must be a number in (0, 1] or a schedule n -> alpha_n, got {alpha!r}")
    a = float(alpha)
    if not np.isfinite(a) or not 0.0 < a <= 1.0:
        raise ValueError(f"alpha is {alpha!r}, expected a step size in (0, 1]")
    return a


def _check_alpha_values(a, counts):
    bad = ~(np.isfinite(a) & (a > 0) & (a <= 1))
    if bad.any():
        i = int(np.flatnonzero(bad.ravel())[0])
        raise ValueError(f"alpha(n) is {float(a.ravel()[i])!r} at visit count n = {int(counts.ravel()[i])}, "
                         "expected a step size in (0, 1] (a positive schedule)")


def _check_epsilon(epsilon):
    return check_unit_interval(epsilon, "epsilon", "an exploration rate")


def _check_fixed_policy(mdp, pi, name):
    pi = check_policy(pi, mdp.n_states, mdp.n_actions, name)
    live = ~mdp.terminal
    bad = (pi > 0) & ~mdp.allowed & live[:, None]
    if bad.any():
        s, a = (int(x) for x in np.argwhere(bad)[0])
        raise ValueError(f"{name}[{s}, {a}] is {pi[s, a]:.6g} but action {a} is not allowed in "
                         f"state {s}, expected 0")
    return pi


def _settings(alpha, epsilon, n, n_runs, max_steps, truncate):
    alpha = _check_alpha(alpha)
    eps = None if epsilon is None else _check_epsilon(epsilon)
    n = check_int(n, "n", 1)
    if n_runs is not None:
        n_runs = check_int(n_runs, "n_runs", 1)
    max_steps = check_int(max_steps, "max_steps", 1)
    if truncate not in ("error", "report"):
        raise ValueError(f"truncate is {truncate!r}, expected 'error' or 'report'")
    return TDSettings(alpha, eps, n, n_runs, max_steps, truncate)


def _initial_table(x0, shape, name, n_runs, terminal):
    N = 1 if n_runs is None else n_runs
    if isinstance(x0, numbers.Real) and not isinstance(x0, bool):
        table = np.full((N, *shape), float(x0))
        if not np.isfinite(table).all():
            raise ValueError(f"{name} is {x0!r}, expected a finite number")
    else:
        arr = as_float_array(x0, name, shape=shape)
        table = np.broadcast_to(arr, (N, *shape)).copy()
    table[:, terminal] = 0.0          # a terminal state is worth 0 by definition
    return table


# -- lockstep episodes ---------------------------------------------------------------------
class _Lockstep:
    """Bookkeeping for ``N`` runs that play episodes in lockstep.

    It draws start states, steps the environment for every run at once
    (``mdp.step``), chooses behaviour actions, applies the step sizes, records
    each episode's return and length, enforces ``max_steps`` and marks runs
    whose ``n_episodes`` are done as inactive (their rows are no longer updated).
    """

    def __init__(self, mdp, n_episodes, cfg, rng, s0, rho0, progress, desc):
        _check_mdp(mdp)
        self.mdp = mdp
        self.E = check_int(n_episodes, "n_episodes", 1)
        self.cfg = cfg
        self.rng = as_generator(rng)
        self.N = 1 if cfg.n_runs is None else cfg.n_runs
        self.rows = np.arange(self.N)
        self.live = (~mdp.terminal).astype(float)        # 0 at terminal states
        self.allowed = mdp.allowed
        self.all_allowed = bool(mdp.allowed.all())
        self.n_allowed = mdp.allowed.sum(axis=1)
        self.s0, rho0 = check_start(mdp, s0, rho0)
        self.rho0_cdf = None if rho0 is None else np.cumsum(rho0)
        self.ep = np.zeros(self.N, dtype=int)          # episodes finished, per run
        self.t = np.zeros(self.N, dtype=int)           # steps taken in the current episode
        self.ret = np.zeros(self.N)                    # rewards collected in it
        self.returns = np.zeros((self.N, self.E))
        self.lengths = np.zeros((self.N, self.E), dtype=int)
        self.truncated = np.zeros((self.N, self.E), dtype=bool)
        self.active = np.ones(self.N, dtype=bool)
        self.act_rows = self.rows
        self.bar = progress_bar(self.E * self.N, progress, desc=desc, unit="episodes")

    @property
    def running(self) -> bool:
        return self.act_rows.size > 0

    def starts(self, k):
        """``k`` start states: ``s0``, or draws from ``rho0``."""
        if self.s0 is not None:
            return np.full(k, self.s0)
        u = self.rng.random(k) * self.rho0_cdf[-1]
        return np.minimum(np.searchsorted(self.rho0_cdf, u, side="right"), self.rho0_cdf.size - 1)

    def step(self, s, a):
        """``S', R`` for every run (``mdp.step``, vectorised)."""
        return self.mdp.step(s, a, self.rng)

    # behaviour -------------------------------------------------------------------------
    def greedy(self, qs, s, u=None):
        """``argmax_a`` of each row of ``qs`` over the actions allowed in ``s``, ties
        broken uniformly at random (with the uniform draws ``u``, if given)."""
        if not self.all_allowed:
            qs = np.where(self.allowed[s], qs, -np.inf)
        ties = qs == qs.max(axis=1, keepdims=True)
        if u is None:
            u = self.rng.random(qs.shape)
        return (ties * u).argmax(axis=1)

    def epsilon_greedy(self, qs, s, eps):
        """Epsilon-greedy actions: with probability ``eps`` uniform over the allowed
        actions of ``s``, otherwise greedy (ties broken at random)."""
        u = self.rng.random((s.size, qs.shape[1] + 1))
        explore, u = u[:, 0] < eps, u[:, 1:]
        a = self.greedy(qs, s, u)
        if eps > 0 and explore.any():
            # given exploration, the same uniform draws pick an allowed action
            # uniformly (each row uses u for one purpose only)
            w = u if self.all_allowed else u * self.allowed[s]
            a = np.where(explore, w.argmax(axis=1), a)
        return a

    def sample(self, pi_cdf, s):
        """Actions drawn from a fixed policy, given as its cumulative rows ``pi_cdf``."""
        cdf = pi_cdf[s]
        u = self.rng.random(s.size) * cdf[:, -1]
        return np.minimum((cdf <= u[:, None]).sum(axis=1), cdf.shape[1] - 1)

    # updates ---------------------------------------------------------------------------
    def step_size(self, counts):
        alpha = self.cfg.alpha
        if not callable(alpha):
            return alpha
        a = np.asarray(alpha(counts), dtype=float)
        if a.shape != counts.shape:
            raise ValueError(f"alpha: the schedule returned shape {a.shape} for visit counts of "
                             f"shape {counts.shape}; it must act elementwise")
        _check_alpha_values(a, counts)
        return a

    def update(self, table, visits, idx, target, rows=None):
        """``table[idx] += alpha_n (target - table[idx])`` on the active runs (or on
        ``rows``), where ``idx`` is a tuple of index arrays of shape ``(N,)`` whose
        first entry is the run index (``table`` and ``visits`` are C-contiguous)."""
        i = self.act_rows if rows is None else rows
        if i.size < self.N:
            idx = tuple(x[i] for x in idx[1:])
            target = target[i]
        else:
            idx = idx[1:]
        flat = i
        for x, size in zip(idx, table.shape[1:]):                 # C-order flat index
            flat = flat * size + x
        vf, tf = visits.reshape(-1), table.reshape(-1)
        vf[flat] += 1
        alpha = self.step_size(vf[flat])
        old = tf[flat]
        tf[flat] = old + alpha * (target - old)

    # episodes --------------------------------------------------------------------------
    def record(self, r, end):
        """Account one step for every active run; returns the runs whose episode ended
        (terminal state, or ``max_steps`` with ``truncate="report"``)."""
        act = self.active
        self.ret += r * act
        self.t += act
        capped = act & ~end & (self.t >= self.cfg.max_steps)
        if capped.any() and self.cfg.truncate == "error":
            j = int(np.flatnonzero(capped)[0])
            raise ValueError(
                f"episode {int(self.ep[j])} of run {j} reached max_steps = {self.cfg.max_steps} "
                "before a terminal state; raise max_steps, explore more (epsilon), or pass "
                "truncate='report' to end such episodes and mark them in result.truncated")
        done = act & (end | capped)
        if done.any():
            j = np.flatnonzero(done)
            e = self.ep[j]
            self.returns[j, e] = self.ret[j]
            self.lengths[j, e] = self.t[j]
            self.truncated[j, e] = capped[j]
            self.ep[j] += 1
            self.ret[j] = 0.0
            self.t[j] = 0
            self.bar.update(j.size)
            if (self.ep[j] >= self.E).any():
                self.active = self.ep < self.E
                self.act_rows = np.flatnonzero(self.active)
        return done, capped

    def restart(self, s_next, done):
        """Next states, with a fresh start state for every run whose episode ended."""
        if done.any():
            s_next = s_next.copy()
            s_next[done] = self.starts(int(done.sum()))
        return s_next

    def finish(self, squeeze):
        self.bar.close()
        out = (self.returns, self.lengths, self.truncated)
        return tuple(x[0] for x in out) if squeeze else out


class _History:
    def __init__(self, enabled, table, E):
        self.enabled = enabled
        if enabled:
            self.h = np.empty((table.shape[0], E + 1, *table.shape[1:]))
            self.h[:, 0] = table

    def record(self, table, done, ep):
        if self.enabled and done.any():
            j = np.flatnonzero(done)
            self.h[j, ep[j]] = table[j]

    def get(self, squeeze):
        if not self.enabled:
            return None
        return self.h[0] if squeeze else self.h


def _sq(x, squeeze):
    return x[0] if squeeze else x


# -- prediction ----------------------------------------------------------------------------
def _prediction_setup(mdp, n_episodes, pi, alpha, rng, s0, rho0, n_runs, v0, max_steps,
                      truncate, record, progress, desc):
    """What the prediction learners start from: settings, the cumulative rows of
    ``pi``, the lockstep runs, the value table ``v``, its visit counts and history."""
    cfg = _settings(alpha, None, 1, n_runs, max_steps, truncate)
    _check_mdp(mdp)
    pi_cdf = np.cumsum(_check_fixed_policy(mdp, pi, "pi"), axis=1)
    run = _Lockstep(mdp, n_episodes, cfg, rng, s0, rho0, progress, desc)
    v = _initial_table(v0, (mdp.n_states,), "v0", n_runs, mdp.terminal)
    visits = np.zeros((run.N, mdp.n_states), dtype=int)
    return cfg, pi_cdf, run, v, visits, _History(record, v, run.E)


def _record(run, visits, hist, cfg, sq):
    returns, lengths, truncated = run.finish(sq)
    return dict(episode_returns=returns, episode_lengths=lengths, truncated=truncated,
                visits=_sq(visits, sq), history=hist.get(sq), settings=cfg)


def _prediction_result(run, v, visits, hist, cfg, n_runs):
    sq = n_runs is None
    return TDPredictionResult(v=_sq(v, sq), **_record(run, visits, hist, cfg, sq))


def td0_prediction(mdp: FiniteMDP, n_episodes: int, *, pi, alpha, rng, s0=None, rho0=None,
                   n_runs=None, v0=0.0, max_steps: int = 10_000, truncate: str = "error",
                   record: bool = False, progress: bool = False) -> TDPredictionResult:
    r"""TD(0) estimation of the state values ``v_pi`` of a fixed policy.

    After each step ``S_t, A_t ~ pi(.|S_t), R_{t+1}, S_{t+1}``:

    .. math::

        v(S_t) \leftarrow v(S_t) + \alpha_n \big[R_{t+1} + \gamma v(S_{t+1}) - v(S_t)\big],

    the Robbins-Monro iteration for the Bellman equation ``v = r_pi + gamma
    P_pi v`` (Chapter 7; Sutton and Barto, Section 6.1). ``v`` of a terminal
    state is 0.

    Parameters
    ----------
    mdp : FiniteMDP
    n_episodes : int
        Episodes per run.
    pi : array_like (S, A)
        The policy that chooses the actions (and whose values are estimated).
    alpha : float in (0, 1] or callable
        Constant step size, or a schedule of the state's visit count.
    rng : numpy.random.Generator or int
    s0 : int, optional
        Start state of every episode; else drawn from ``rho0`` (default uniform
        over the non-terminal states).
    n_runs : int, optional
        Independent runs in lockstep (adds a leading run axis).
    v0 : float or array_like (S,)
        Initial values (terminal states are set to 0).
    max_steps : int
        Cap on an episode's length; see ``truncate``.
    truncate : {"error", "report"}
        A capped episode raises ``ValueError`` or is ended and reported in
        ``result.truncated`` (its last target still bootstraps from ``v``).
    record : bool
        Keep ``v`` after every episode in ``result.history``.
    progress : bool
        Show a progress bar.
    """
    cfg, pi_cdf, run, v, visits, hist = _prediction_setup(
        mdp, n_episodes, pi, alpha, rng, s0, rho0, n_runs, v0, max_steps, truncate, record,
        progress, "TD(0)")
    g, i = mdp.gamma, run.rows
    s = run.starts(run.N)
    while run.running:
        a = run.sample(pi_cdf, s)                                  # A_t ~ pi(.|S_t)
        s2, r = run.step(s, a)                                     # R_{t+1}, S_{t+1}
        target = r + g * run.live[s2] * v[i, s2]                   # TD target
        run.update(v, visits, (i, s), target)                      # v(S_t) += alpha delta_t
        done, _ = run.record(r, run.live[s2] == 0)
        hist.record(v, done, run.ep)
        s = run.restart(s2, done)
    return _prediction_result(run, v, visits, hist, cfg, n_runs)


def constant_alpha_mc(mdp: FiniteMDP, n_episodes: int, *, pi, alpha, rng, s0=None, rho0=None,
                      n_runs=None, v0=0.0, max_steps: int = 10_000, truncate: str = "error",
                      record: bool = False, progress: bool = False) -> TDPredictionResult:
    r"""Every-visit constant-alpha Monte Carlo prediction (Sutton and Barto, eq. 6.1).

    At the end of each episode, for ``t = 0, 1, ..., T - 1`` in turn,

    .. math::

        v(S_t) \leftarrow v(S_t) + \alpha_n \big[G_t - v(S_t)\big], \qquad
        G_t = \sum_{k=t}^{T-1} \gamma^{k-t} R_{k+1}.

    The TD(0) update with the target ``R_{t+1} + gamma v(S_{t+1})`` replaced by the
    whole return; the comparison partner of :func:`td0_prediction` in Example
    6.2. Arguments as in :func:`td0_prediction`; an episode capped with
    ``truncate="report"`` is used as if it had ended there (its returns are
    then truncated, so they are biased: Monte Carlo needs complete episodes).
    """
    cfg, pi_cdf, run, v, visits, hist = _prediction_setup(
        mdp, n_episodes, pi, alpha, rng, s0, rho0, n_runs, v0, max_steps, truncate, record,
        progress, "constant-alpha MC")
    g, i = mdp.gamma, run.rows
    cap = 64
    states, rewards = np.zeros((run.N, cap), dtype=int), np.zeros((run.N, cap))
    s = run.starts(run.N)
    while run.running:
        t = run.t.copy()
        a = run.sample(pi_cdf, s)
        s2, r = run.step(s, a)
        if t.max() >= cap:                                         # grow the episode buffers
            states = np.concatenate([states, np.zeros_like(states)], axis=1)
            rewards = np.concatenate([rewards, np.zeros_like(rewards)], axis=1)
            cap *= 2
        states[i, t], rewards[i, t] = s, r
        done, _ = run.record(r, run.live[s2] == 0)
        if done.any():
            j = np.flatnonzero(done)
            T = t[j] + 1
            G = np.zeros((j.size, int(T.max())))
            acc = np.zeros(j.size)
            for k in range(int(T.max()) - 1, -1, -1):              # G_k = R_{k+1} + gamma G_{k+1}
                acc = np.where(k < T, rewards[j, k] + g * acc, 0.0)
                G[:, k] = acc
            for k in range(int(T.max())):                          # forward, one t at a time
                m = k < T
                jj = j[m]
                visits[jj, states[jj, k]] += 1
                alpha_k = run.step_size(visits[jj, states[jj, k]])
                v[jj, states[jj, k]] += alpha_k * (G[m, k] - v[jj, states[jj, k]])
        hist.record(v, done, run.ep)
        s = run.restart(s2, done)
    return _prediction_result(run, v, visits, hist, cfg, n_runs)


# -- control -------------------------------------------------------------------------------
def _control_setup(mdp, n_episodes, alpha, epsilon, n, rng, s0, rho0, n_runs, q0, max_steps,
                   truncate, policy, policy_name, progress, desc):
    _check_mdp(mdp)
    if policy is not None:
        cdf = np.cumsum(_check_fixed_policy(mdp, policy, policy_name), axis=1)
        cfg = _settings(alpha, None, n, n_runs, max_steps, truncate)
    else:
        cdf = None
        cfg = _settings(alpha, epsilon, n, n_runs, max_steps, truncate)
    run = _Lockstep(mdp, n_episodes, cfg, rng, s0, rho0, progress, desc)
    q = _initial_table(q0, (mdp.n_states, mdp.n_actions), "q0", n_runs, mdp.terminal)
    visits = np.zeros(q.shape, dtype=int)
    return cfg, cdf, run, q, visits


def _behaviour(run, q, s, cdf, eps, rows=None):
    """Actions in states ``s``: from the fixed policy, else epsilon-greedy in ``q``."""
    if cdf is not None:
        return run.sample(cdf, s)
    qs = q[run.rows if rows is None else rows, s]
    return run.epsilon_greedy(qs, s, eps)


def _capped_actions(run, q, s2, a_next, capped, cdf, eps):
    """The action ``A'`` in ``S'`` that a target bootstraps from: ``a_next``, except in a
    run whose episode was cut by ``max_steps`` (its ``a_next`` belongs to the new
    episode's start), where ``A'`` is drawn in the live ``S'``."""
    if capped.any():
        j = np.flatnonzero(capped)
        a_next = a_next.copy()
        a_next[j] = _behaviour(run, q, s2[j], cdf, eps, rows=j)
    return a_next


def _control_result(run, q, visits, hist, cfg, n_runs, q_pair=None):
    sq = n_runs is None
    pair = None if q_pair is None else tuple(_sq(x, sq) for x in q_pair)
    return TDControlResult(q=_sq(q, sq), q_pair=pair, **_record(run, visits, hist, cfg, sq))


def _bootstrap_control(mdp, q, visits, run, cfg, cdf, n_runs, record, value_next):
    """The loop of the one-step learners whose target bootstraps from ``S'`` alone
    (Expected Sarsa, Q-learning): ``target = R + gamma [S' not terminal] value_next(S')``,
    computed before ``q(S, A)`` moves towards it."""
    g, i, eps, hist = mdp.gamma, run.rows, cfg.epsilon, _History(record, q, run.E)
    s = run.starts(run.N)
    while run.running:
        a = _behaviour(run, q, s, cdf, eps)                          # A from S
        s2, r = run.step(s, a)                                       # R, S'
        target = r + g * run.live[s2] * value_next(s2)
        run.update(q, visits, (i, s, a), target)                     # q(S,A) += alpha delta
        done, _ = run.record(r, run.live[s2] == 0)
        hist.record(q, done, run.ep)
        s = run.restart(s2, done)
    return _control_result(run, q, visits, hist, cfg, n_runs)


_CONTROL_DOC = """
    Parameters
    ----------
    mdp : FiniteMDP
    n_episodes : int
        Episodes per run.
    alpha : float in (0, 1] or callable
        Constant step size, or a schedule ``n -> alpha_n`` of the visit count of
        the updated pair (``lambda n: 1 / n`` is the sample average).
    epsilon : float in [0, 1]
        Exploration rate of the epsilon-greedy behaviour policy in ``q``: with
        probability ``epsilon`` an action uniform over ``A(s)``, otherwise a greedy
        one (ties broken uniformly at random).
    rng : numpy.random.Generator or int
    s0 : int, optional
        Start state of every episode; else drawn from ``rho0`` (default uniform over
        the non-terminal states). A terminal or out-of-range ``s0`` is refused.
    n_runs : int, optional
        Independent runs in lockstep (adds a leading run axis to every output).
    q0 : float or array_like (S, A)
        Initial action values (terminal rows are set to 0).
    max_steps : int
        Cap on an episode's length; see ``truncate``.
    truncate : {"error", "report"}
        A capped episode raises ``ValueError`` (never a hang), or is ended and
        marked in ``result.truncated`` (its last target still bootstraps).
    record : bool
        Keep ``q`` after every episode in ``result.history`` (memory
        ``N * n_episodes * S * A`` floats).
    progress : bool
        Show a progress bar.
"""


def sarsa(mdp: FiniteMDP, n_episodes: int, *, alpha, epsilon=0.1, rng, s0=None, rho0=None,
          n_runs=None, pi=None, q0=0.0, max_steps: int = 10_000, truncate: str = "error",
          record: bool = False, progress: bool = False) -> TDControlResult:
    r"""Sarsa (Rummery and Niranjan 1994; Sutton and Barto, Section 6.4).

    .. math::

        q(S_t, A_t) \leftarrow q(S_t, A_t) + \alpha_n
        \big[R_{t+1} + \gamma q(S_{t+1}, A_{t+1}) - q(S_t, A_t)\big],

    with ``A_{t+1}`` chosen in ``S_{t+1}`` by the behaviour policy *before* the
    update: epsilon-greedy in ``q`` (control), or a fixed policy ``pi`` (then
    Sarsa estimates ``q_pi``, the Robbins-Monro iteration for
    ``q = r + gamma P Pi q``).
    """ + _CONTROL_DOC + """    pi : array_like (S, A), optional
        A fixed policy to follow and evaluate instead of epsilon-greedy control.
    """
    cfg, cdf, run, q, visits = _control_setup(mdp, n_episodes, alpha, epsilon, 1, rng, s0, rho0,
                                              n_runs, q0, max_steps, truncate, pi, "pi",
                                              progress, "Sarsa")
    g, i, eps, hist = mdp.gamma, run.rows, cfg.epsilon, _History(record, q, run.E)
    s = run.starts(run.N)
    a = _behaviour(run, q, s, cdf, eps)                              # A from S
    while run.running:
        rows = run.act_rows                                          # runs still learning
        s2, r = run.step(s, a)                                       # take A: R, S'
        end = run.live[s2] == 0
        done, capped = run.record(r, end)
        s_next = run.restart(s2, done)                               # S' (or a new start)
        a_next = _behaviour(run, q, s_next, cdf, eps)                # A' from S'
        a2 = _capped_actions(run, q, s2, a_next, capped, cdf, eps)   # A' where S' is live
        target = r + g * run.live[s2] * q[i, s2, a2]
        run.update(q, visits, (i, s, a), target, rows)               # q(S,A) += alpha delta
        hist.record(q, done, run.ep)
        s, a = s_next, a_next                                        # S <- S', A <- A'
    return _control_result(run, q, visits, hist, cfg, n_runs)


def _expected_q(run, q, s, cdf_pi, eps):
    """``sum_a pi(a|s) q(s, a)`` for the behaviour policy: the fixed ``pi``, or the
    epsilon-greedy policy in ``q``, whose expectation is ``eps mean_{A(s)} q(s, .) +
    (1 - eps) max_{A(s)} q(s, .)`` whatever the tie-breaking."""
    qs = q[run.rows, s]
    if cdf_pi is not None:
        pi_s = np.diff(cdf_pi[s], axis=1, prepend=0.0)
        return np.einsum("na,na->n", pi_s, np.where(pi_s > 0, qs, 0.0))
    allowed = run.allowed[s]
    best = np.where(allowed, qs, -np.inf).max(axis=1)
    mean = np.where(allowed, qs, 0.0).sum(axis=1) / run.n_allowed[s]
    return eps * mean + (1 - eps) * best


def expected_sarsa(mdp: FiniteMDP, n_episodes: int, *, alpha, epsilon=0.1, rng, s0=None,
                   rho0=None, n_runs=None, pi=None, q0=0.0, max_steps: int = 10_000,
                   truncate: str = "error", record: bool = False,
                   progress: bool = False) -> TDControlResult:
    r"""Expected Sarsa (van Seijen et al. 2009; Sutton and Barto, Section 6.6).

    .. math::

        q(S_t, A_t) \leftarrow q(S_t, A_t) + \alpha_n
        \Big[R_{t+1} + \gamma \sum_{a} \pi(a \mid S_{t+1}) q(S_{t+1}, a) - q(S_t, A_t)\Big],

    where ``pi`` is the behaviour policy: epsilon-greedy in the current ``q``
    (control) or a fixed policy ``pi``. The expectation is over the next
    *action* only; ``S_{t+1}`` is the sampled next state of the pair
    ``(S_t, A_t)``: the target estimates ``q_pi(S_t, A_t)``, the Bellman equation
    conditioned on the state *and* the action.
    """ + _CONTROL_DOC + """    pi : array_like (S, A), optional
        A fixed policy to follow and evaluate instead of epsilon-greedy control.
    """
    cfg, cdf, run, q, visits = _control_setup(mdp, n_episodes, alpha, epsilon, 1, rng, s0, rho0,
                                              n_runs, q0, max_steps, truncate, pi, "pi",
                                              progress, "Expected Sarsa")
    return _bootstrap_control(mdp, q, visits, run, cfg, cdf, n_runs, record,
                              lambda s2: _expected_q(run, q, s2, cdf, cfg.epsilon))


def q_learning(mdp: FiniteMDP, n_episodes: int, *, alpha, epsilon=0.1, rng, s0=None,
               rho0=None, n_runs=None, beta=None, q0=0.0, max_steps: int = 10_000,
               truncate: str = "error", record: bool = False,
               progress: bool = False) -> TDControlResult:
    r"""Q-learning (Watkins 1989; Watkins and Dayan 1992; Sutton and Barto, Section 6.5).

    .. math::

        q(S_t, A_t) \leftarrow q(S_t, A_t) + \alpha_n
        \big[R_{t+1} + \gamma \max_{a \in \mathcal{A}(S_{t+1})} q(S_{t+1}, a) - q(S_t, A_t)\big],

    the Robbins-Monro iteration for the Bellman optimality equation. Off-policy:
    the behaviour policy (epsilon-greedy in ``q``, or a fixed ``beta``) only
    decides which pairs are visited.
    """ + _CONTROL_DOC + """    beta : array_like (S, A), optional
        A fixed behaviour policy instead of epsilon-greedy in ``q``.
    """
    cfg, cdf, run, q, visits = _control_setup(mdp, n_episodes, alpha, epsilon, 1, rng, s0, rho0,
                                              n_runs, q0, max_steps, truncate, beta, "beta",
                                              progress, "Q-learning")
    return _bootstrap_control(mdp, q, visits, run, cfg, cdf, n_runs, record,     # max_a q(S', a)
                              lambda s2: np.where(run.allowed[s2], q[run.rows, s2], -np.inf)
                              .max(axis=1))


def double_q_learning(mdp: FiniteMDP, n_episodes: int, *, alpha, epsilon=0.1, rng, s0=None,
                      rho0=None, n_runs=None, beta=None, q0=0.0, max_steps: int = 10_000,
                      truncate: str = "error", record: bool = False,
                      progress: bool = False) -> TDControlResult:
    r"""Double Q-learning (van Hasselt 2010; Sutton and Barto, Section 6.7).

    Two tables; at each step a fair coin picks the one to update, say ``q1``:

    .. math::

        q_1(S_t, A_t) \leftarrow q_1(S_t, A_t) + \alpha_n
        \big[R_{t+1} + \gamma q_2\big(S_{t+1}, \arg\max_a q_1(S_{t+1}, a)\big) - q_1(S_t, A_t)\big],

    (and symmetrically for ``q2``): one table chooses the maximising action, the
    other, whose noise is independent, values it. The behaviour policy is
    epsilon-greedy in ``q1 + q2`` (or a fixed ``beta``). ``result.q`` is
    ``(q1 + q2) / 2`` and ``result.q_pair`` the two tables; ties in the argmax
    are broken at random.
    """ + _CONTROL_DOC + """    beta : array_like (S, A), optional
        A fixed behaviour policy instead of epsilon-greedy in ``q1 + q2``.
    """
    cfg, cdf, run, q1, visits = _control_setup(mdp, n_episodes, alpha, epsilon, 1, rng, s0,
                                               rho0, n_runs, q0, max_steps, truncate, beta,
                                               "beta", progress, "Double Q-learning")
    g, i, eps = mdp.gamma, run.rows, cfg.epsilon
    qq = np.stack([q1, q1.copy()], axis=1)                          # (N, 2, S, A)
    n2 = np.zeros(qq.shape, dtype=int)
    hist = _History(record, qq.mean(axis=1), run.E)
    s = run.starts(run.N)
    while run.running:
        a = _behaviour(run, qq[:, 0] + qq[:, 1], s, cdf, eps)      # A from q1 + q2
        s2, r = run.step(s, a)
        k = (run.rng.random(run.N) < 0.5).astype(int)               # which table to update
        a_star = run.greedy(qq[i, k, s2], s2)                        # argmax by one table
        target = r + g * run.live[s2] * qq[i, 1 - k, s2, a_star]     # valued by the other
        run.update(qq, n2, (i, k, s, a), target)
        done, _ = run.record(r, run.live[s2] == 0)
        if hist.enabled:
            hist.record(qq.mean(axis=1), done, run.ep)
        s = run.restart(s2, done)
    return _control_result(run, qq.mean(axis=1), n2.sum(axis=1), hist, cfg, n_runs,
                           q_pair=(qq[:, 0], qq[:, 1]))


def n_step_sarsa(mdp: FiniteMDP, n_episodes: int, *, n: int, alpha, epsilon=0.1, rng, s0=None,
                 rho0=None, n_runs=None, pi=None, q0=0.0, max_steps: int = 10_000,
                 truncate: str = "error", record: bool = False,
                 progress: bool = False) -> TDControlResult:
    r"""n-step Sarsa (Sutton and Barto, Section 7.2).

    With ``tau = t - n + 1``, once ``R_{t+1}, S_{t+1}, A_{t+1}`` are known,

    .. math::

        G_{\tau:\tau+n} = \sum_{k=1}^{n} \gamma^{k-1} R_{\tau+k}
                          + \gamma^n q(S_{\tau+n}, A_{\tau+n}), \qquad
        q(S_\tau, A_\tau) \leftarrow q(S_\tau, A_\tau) + \alpha_n
        \big[G_{\tau:\tau+n} - q(S_\tau, A_\tau)\big],

    where rewards after the terminal time ``T`` are absent and the bootstrap
    term is dropped when ``tau + n >= T``; the pairs of the last ``n - 1``
    steps are updated when the episode ends. ``n = 1`` is :func:`sarsa` (same
    random draws, same result).
    """ + _CONTROL_DOC + """    n : int
        Number of rewards before bootstrapping, ``n >= 1``.
    pi : array_like (S, A), optional
        A fixed policy to follow and evaluate instead of epsilon-greedy control.
    """
    cfg, cdf, run, q, visits = _control_setup(mdp, n_episodes, alpha, epsilon, n, rng, s0, rho0,
                                              n_runs, q0, max_steps, truncate, pi, "pi",
                                              progress, f"{n}-step Sarsa")
    n, g, i, eps, N = cfg.n, mdp.gamma, run.rows, cfg.epsilon, run.N
    hist = _History(record, q, run.E)
    L = n + 1                                                        # ring buffers of n + 1 steps
    S_buf, A_buf = np.zeros((N, L), dtype=int), np.zeros((N, L), dtype=int)
    R_buf = np.zeros((N, L))
    disc = g ** np.arange(n + 1)

    def n_step_return(tau, last, bootstrap):
        """G_{tau:last} (+ gamma^(last - tau) q(S_last, A_last) where ``bootstrap``)."""
        G = np.zeros(tau.size)
        for k in range(1, n + 1):
            m = tau + k <= last
            G += np.where(m, disc[k - 1] * R_buf[i, (tau + k) % L], 0.0)
        s_l, a_l = S_buf[i, last % L], A_buf[i, last % L]
        return G + np.where(bootstrap, g ** (last - tau) * q[i, s_l, a_l], 0.0)

    s = run.starts(N)
    a = _behaviour(run, q, s, cdf, eps)
    S_buf[:, 0], A_buf[:, 0] = s, a
    while run.running:
        learning = run.active.copy()                                 # runs still learning
        t = run.t.copy()                                             # time of (S_t, A_t)
        s2, r = run.step(s, a)                                       # R_{t+1}, S_{t+1}
        end = run.live[s2] == 0
        done, capped = run.record(r, end)
        s_next = run.restart(s2, done)
        a_next = _behaviour(run, q, s_next, cdf, eps)
        a2 = _capped_actions(run, q, s2, a_next, capped, cdf, eps)   # A_{t+1}
        S_buf[i, (t + 1) % L], A_buf[i, (t + 1) % L], R_buf[i, (t + 1) % L] = s2, a2, r
        tau = t + 1 - n
        ready = learning & (tau >= 0)
        if ready.any():                                              # update (S_tau, A_tau)
            tau_c = np.maximum(tau, 0)
            G = n_step_return(tau_c, t + 1, ~end)
            s_tau, a_tau = S_buf[i, tau_c % L], A_buf[i, tau_c % L]
            _masked_update(run, q, visits, ready, s_tau, a_tau, G)
        if done.any():                                               # flush the last n - 1 pairs
            for k in range(1, n):
                tau_k = t + 1 - n + k
                m = done & (tau_k >= 0)
                if not m.any():
                    continue
                tau_c = np.maximum(tau_k, 0)
                G = n_step_return(tau_c, t + 1, capped)
                s_tau, a_tau = S_buf[i, tau_c % L], A_buf[i, tau_c % L]
                _masked_update(run, q, visits, m, s_tau, a_tau, G)
            S_buf[done, 0], A_buf[done, 0] = s_next[done], a_next[done]
        hist.record(q, done, run.ep)
        s, a = s_next, a_next
    return _control_result(run, q, visits, hist, cfg, n_runs)


def _masked_update(run, q, visits, mask, s, a, target):
    """The n-step update on the runs in ``mask``."""
    j = np.flatnonzero(mask)
    if j.size == 0:
        return
    idx = (j, s[j], a[j])
    visits[idx] += 1
    alpha = run.step_size(visits[idx])
    q[idx] += alpha * (target[j] - q[idx])


# -- batch methods (Example 6.3) ------------------------------------------------------------
def _check_batch(episodes, n_states, gamma):
    """The batch as ``(n_states, [(states, rewards), ...], gamma)``, validated."""
    S = check_int(n_states, "n_states", 1)
    eps = []
    for k, ep in enumerate(episodes):
        try:
            states, rewards = ep
        except (TypeError, ValueError):
            raise ValueError(f"episodes[{k}] must be a pair (states, rewards)") from None
        st = np.asarray(states)
        rw = as_float_array(rewards, f"episodes[{k}] rewards", ndim=1)
        if st.ndim != 1 or not np.issubdtype(st.dtype, np.integer):
            raise ValueError(f"episodes[{k}] states must be a 1-D integer array, got {st!r}")
        if st.size != rw.size + 1:
            raise ValueError(f"episodes[{k}] has {st.size} states and {rw.size} rewards, expected "
                             "one more state than rewards (S_0, ..., S_T with R_1, ..., R_T)")
        bad = (st < 0) | (st >= S)
        if bad.any():
            j = int(np.flatnonzero(bad)[0])
            raise ValueError(f"episodes[{k}] states[{j}] is {st[j]}, expected a state in [0, {S - 1}]")
        eps.append((st, rw))
    if not eps:
        raise ValueError("episodes is empty, expected at least one episode")
    return S, eps, check_gamma(gamma)


def batch_td0(episodes, n_states: int, *, gamma: float = 1.0, alpha: float = 0.01,
              terminal=None, v0=0.0, tol: float = 1e-12, max_iter: int = 1_000_000):
    r"""Batch TD(0) (Sutton and Barto, Section 6.3): present a fixed batch of episodes
    again and again, summing the TD(0) increments over the whole batch before
    changing ``v``:

    .. math::

        v \leftarrow v + \alpha \sum_{\text{batch}} \big[R_{t+1} + \gamma v(S_{t+1}) - v(S_t)\big] e_{S_t},

    until the change is below ``tol``. For ``alpha`` small enough this converges
    to the certainty-equivalence estimate: the values of the MDP whose
    transition probabilities and rewards are the batch's empirical ones.

    Parameters
    ----------
    episodes : sequence of (states, rewards)
        ``states`` ``S_0, ..., S_T`` (ints), ``rewards`` ``R_1, ..., R_T``. The last
        state of an episode is terminal.
    n_states : int
    gamma, alpha, tol : float
    terminal : array_like of bool (S,), optional
        States of value 0 (default: the last state of every episode).
    v0 : float or array_like (S,)
    max_iter : int, default 1_000_000
        Sweeps through the batch before a ``ValueError`` says the sweeps did not converge.

    Returns
    -------
    v : ndarray (S,)
    """
    S, eps, g = _check_batch(episodes, n_states, gamma)
    alpha = check_positive(alpha, "alpha")
    tol = check_positive(tol, "tol")
    max_iter = check_int(max_iter, "max_iter", 1)
    term = np.zeros(S, dtype=bool)
    if terminal is None:
        for st, _ in eps:
            term[st[-1]] = True
    else:
        term = np.asarray(terminal, dtype=bool)
        if term.shape != (S,):
            raise ValueError(f"terminal must have shape ({S},), got {term.shape}")
    s_t = np.concatenate([st[:-1] for st, _ in eps])
    s_n = np.concatenate([st[1:] for st, _ in eps])
    r = np.concatenate([rw for _, rw in eps])
    live = (~term[s_n]).astype(float)
    v = np.full(S, float(v0)) if np.isscalar(v0) else as_float_array(v0, "v0", shape=(S,)).copy()
    v[term] = 0.0
    for _ in range(max_iter):
        delta = r + g * live * v[s_n] - v[s_t]
        inc = alpha * np.bincount(s_t, weights=delta, minlength=S)
        v += inc
        if np.max(np.abs(inc)) < tol:
            return v
    raise ValueError(f"batch_td0 did not converge in max_iter = {max_iter} sweeps (last change "
                     f"{np.max(np.abs(inc)):.3g} > tol = {tol:g}); lower alpha or raise max_iter")


def batch_mc(episodes, n_states: int, *, gamma: float = 1.0) -> np.ndarray:
    r"""Batch Monte Carlo (every visit): the mean of the returns ``G_t`` that follow the
    visits to each state in a fixed batch, the limit of batch constant-alpha MC
    (Sutton and Barto, Section 6.3). Unvisited states get ``nan``.

    Parameters
    ----------
    episodes : sequence of (states, rewards)
        As in :func:`batch_td0`.
    n_states : int
    gamma : float

    Returns
    -------
    v : ndarray (S,)
    """
    S, eps, g = _check_batch(episodes, n_states, gamma)
    tot, cnt = np.zeros(S), np.zeros(S)
    for st, rw in eps:
        G = 0.0
        for k in range(rw.size - 1, -1, -1):
            G = rw[k] + g * G
            tot[st[k]] += G
            cnt[st[k]] += 1
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(cnt > 0, tot / np.where(cnt > 0, cnt, 1), np.nan)
