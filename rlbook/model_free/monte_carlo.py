"""Monte Carlo prediction and control (Chapter 5).

Monte Carlo methods estimate values as averages of sampled returns,
``q_pi(s, a) = E[G_t | S_t = s, A_t = a]``, with no model of ``p`` or ``r``:
the MDP is used only to *sample* transitions (``mdp.step`` semantics: the
next state from ``P``, the reward from the reward law ``R_next``).

Every learner runs ``n_runs`` independent learners in lockstep: the episodes
of all runs advance together, one vectorised draw per time step, so that a
figure averaged over 100 runs costs about as much Python as one run. The
per-episode Python loop written the textbook way is in
``benchmarks/model_free.py`` for comparison.
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

from .._progress import progress_bar
from .._validate import as_float_array, check_distribution, check_int, check_policy
from ..dp.optimality import greedy_actions
from ..mdp import FiniteMDP, _bool_mask, _check_mdp

__all__ = [
    "epsilon_greedy_policy",
    "incremental_mean",
    "first_visit_mask",
    "importance_ratios",
    "MCPredictionResult",
    "MCControlResult",
    "MCBasicResult",
    "OffPolicyMCResult",
    "mc_prediction",
    "mc_basic",
    "mc_exploring_starts",
    "mc_epsilon_greedy",
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
def _rng(rng) -> np.random.Generator:
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, numbers.Integral) and not isinstance(rng, bool):
        return np.random.default_rng(int(rng))
    raise TypeError(f"rng must be a numpy.random.Generator or an int seed, got {rng!r}")


def _check_epsilon(epsilon) -> float:
    if isinstance(epsilon, bool) or not isinstance(epsilon, numbers.Real):
        raise TypeError(f"epsilon must be a real number in [0, 1], got {epsilon!r}")
    e = float(epsilon)
    if not np.isfinite(e) or not 0.0 <= e <= 1.0:
        raise ValueError(f"epsilon is {epsilon!r}, expected a number in [0, 1]")
    return e


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


def _check_runs(n_runs):
    return 1 if n_runs is None else check_int(n_runs, "n_runs", 1)


def _allowed(mdp) -> np.ndarray:
    allowed = getattr(mdp, "allowed", None)
    if allowed is None:
        return np.ones((mdp.n_states, mdp.n_actions), dtype=bool)
    return np.asarray(allowed, dtype=bool)


def _start_sampler(mdp, s0, rho0, name_rho="rho0"):
    """A function ``n, rng -> start states (n,)`` from ``s0`` or ``rho0``."""
    S = mdp.n_states
    if s0 is not None:
        if rho0 is not None:
            raise ValueError("give rho0 or s0, not both")
        if isinstance(s0, bool) or not isinstance(s0, numbers.Integral):
            raise ValueError(f"s0 is {s0!r}, expected an integer state in [0, {S - 1}]")
        if not 0 <= s0 < S:
            raise ValueError(f"s0 is {s0}, expected a state of the MDP in [0, {S - 1}]")
        if mdp.terminal[s0]:
            raise ValueError(f"s0 is {s0}, a terminal state: an episode from it has no step")
        s0 = int(s0)
        return lambda n, rng: np.full(n, s0)
    if rho0 is None:
        live = (~mdp.terminal).astype(float)
        rho0 = live / live.sum()
    rho0 = check_distribution(rho0, S, name_rho)
    cdf = np.cumsum(rho0)
    cdf[-1] = 1.0
    return lambda n, rng: np.searchsorted(cdf, rng.random(n), side="right").clip(0, S - 1)


def _max_steps(mdp, max_steps):
    if max_steps is None:
        if not mdp.terminal.any():
            raise ValueError("max_steps is None but the MDP has no terminal state: give the "
                             "episode length max_steps (returns are truncated there)")
        return MAX_EPISODE_STEPS, True
    return check_int(max_steps, "max_steps", 1), False


# -- the environment's law, and episodes in lockstep ----------------------------------------
class _Law:
    """Sampling tables of an MDP: successors and their cumulative probabilities
    per ``(s, a)`` (only the reachable ones, so a draw compares a few numbers),
    the reward of each successor (the reward law ``R_next``) and its noise,
    all flat so that a step is a few one-dimensional gathers."""

    def __init__(self, mdp: FiniteMDP):
        P = mdp.P
        S, A = mdp.n_states, mdp.n_actions
        support = P > 0
        K = int(support.sum(axis=2).max())
        order = np.argsort(~support, axis=2, kind="stable")[:, :, :K]   # successors first
        probs = np.take_along_axis(P, order, axis=2)
        cdf = np.cumsum(probs, axis=2)
        cdf[..., -1] = np.inf                                            # no round-off overrun
        R_next = getattr(mdp, "R_next", None)
        if R_next is None:
            R_next = np.broadcast_to(mdp.R[:, :, None], P.shape)
        rew = np.take_along_axis(np.asarray(R_next, dtype=float), order, axis=2)
        self.K = K
        self.succ = order.reshape(-1)                 # index (s * A + a) * K + j
        self.rew = rew.reshape(-1)
        self.cdf = cdf[..., :-1].reshape(S * A, K - 1)  # the last bound is +inf
        std = getattr(mdp, "reward_std", None)
        self.std = None if std is None or not np.any(std) else np.asarray(std, dtype=float)
        self.A = A
        self.S = S
        self.terminal = mdp.terminal
        self.gamma = mdp.gamma
        allowed = _allowed(mdp)
        self.allowed = allowed
        self.n_allowed = allowed.sum(axis=1)
        self.all_allowed = bool(allowed.all())
        self.allowed_idx = np.argsort(~allowed, axis=1, kind="stable")

    def step(self, s, a, u):
        """Next states and rewards of ``(s, a)`` from uniforms ``u`` (one per pair)."""
        sa = s * self.A + a
        if self.K == 1:
            k = sa
        else:
            k = sa * self.K + (self.cdf[sa] <= u[:, None]).sum(axis=1)
        return self.succ[k], self.rew[k]

    def noise(self, s, a, rng):
        return 0.0 if self.std is None else self.std[s, a] * rng.standard_normal(s.size)

    def random_allowed(self, s, u):
        """A uniformly random available action in each state of ``s``, from uniforms ``u``."""
        if self.all_allowed:
            return (u * self.A).astype(np.int64)
        k = (u * self.n_allowed[s]).astype(np.int64)
        return self.allowed_idx[s, k]


@dataclass(frozen=True)
class _Episodes:
    states: np.ndarray      # (n, T), -1 after the end
    actions: np.ndarray     # (n, T), -1 after the end
    rewards: np.ndarray     # (n, T), rewards[:, t] = R_{t+1}, 0 after the end
    mask: np.ndarray        # (n, T)
    lengths: np.ndarray     # (n,)
    returns: np.ndarray     # (n, T), G_t (0 after the end)


def _rollout(law: _Law, s, rng, choose, max_steps, must_end, a0=None) -> _Episodes:
    """Run ``len(s)`` episodes in lockstep from start states ``s``.

    ``choose(s, idx, u)`` gives the actions of the live episodes ``idx`` in
    states ``s`` from uniforms ``u``; ``a0`` optional first actions (exploring starts).
    """
    n = s.size
    s = s.copy()
    alive = ~law.terminal[s]
    width = min(max_steps, 8)
    # time-major buffers (one contiguous row per step), doubled when full
    states = np.full((width, n), -1)
    actions = np.full((width, n), -1)
    rewards = np.zeros((width, n))
    idx = np.flatnonzero(alive)
    t = 0
    while t < max_steps and idx.size:
        if t == width:
            extra = min(width, max_steps - width)
            states = np.concatenate([states, np.full((extra, n), -1)])
            actions = np.concatenate([actions, np.full((extra, n), -1)])
            rewards = np.concatenate([rewards, np.zeros((extra, n))])
            width += extra
        st = s[idx]
        u = rng.random((2, idx.size))
        a = a0[idx] if (t == 0 and a0 is not None) else choose(st, idx, u[0])
        s2, r = law.step(st, a, u[1])
        if law.std is not None:
            r = r + law.noise(st, a, rng)
        states[t, idx] = st
        actions[t, idx] = a
        rewards[t, idx] = r
        s[idx] = s2
        live = ~law.terminal[s2]
        if not live.all():
            idx = idx[live]
        t += 1
    if must_end and idx.size:
        raise ValueError(f"{idx.size} episode(s) did not end within {max_steps} steps; "
                         "give max_steps to truncate them, or a policy that reaches a terminal "
                         "state")
    G = np.empty((t, n))
    acc = np.zeros(n)
    for k in range(t - 1, -1, -1):
        acc = rewards[k] + law.gamma * acc
        G[k] = acc
    states = np.ascontiguousarray(states[:t].T)
    actions = np.ascontiguousarray(actions[:t].T)
    rewards = np.ascontiguousarray(rewards[:t].T)
    G = np.ascontiguousarray(G.T)
    mask = states >= 0
    return _Episodes(states, actions, rewards, mask, mask.sum(axis=1), G)


def _policy_chooser(pi):
    """Actions drawn from a fixed policy ``(S, A)``."""
    cdf = np.cumsum(pi, axis=1)[:, :-1]            # the last bound is 1: never exceeded

    def choose(s, idx, u):
        return (cdf[s] <= u[:, None]).sum(axis=1)
    return choose


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


def _check_trace(trace, S):
    if trace is None:
        return None
    if isinstance(trace, bool) or not isinstance(trace, numbers.Integral) or not 0 <= trace < S:
        raise ValueError(f"trace is {trace!r}, expected a state in [0, {S - 1}]")
    return int(trace)


def _chunks(total, size):
    for lo in range(0, total, size):
        yield lo, min(total, lo + size)


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
    _check_mdp(mdp)
    S, A = mdp.n_states, mdp.n_actions
    pi = check_policy(pi, S, A)
    _check_pi_allowed(mdp, pi, "pi")
    N = check_int(n_episodes, "n_episodes", 1)
    runs = _check_runs(n_runs)
    rng = _rng(rng)
    start = _start_sampler(mdp, s0, rho0)
    T, must_end = _max_steps(mdp, max_steps)
    trace = _check_trace(trace, S)
    law = _Law(mdp)
    choose = _policy_chooser(pi)
    sum_v = np.zeros(runs * S)
    cnt_v = np.zeros(runs * S)
    sum_q = np.zeros(runs * S * A)
    cnt_q = np.zeros(runs * S * A)
    ep_ret = np.zeros(runs * N)
    ep_len = np.zeros(runs * N, dtype=int)
    tr_sum = np.zeros(runs * N)
    tr_cnt = np.zeros(runs * N)
    total = runs * N                   # episode e belongs to run e % runs, episode e // runs
    bar = progress_bar(total, progress, desc="MC prediction", unit="episodes")
    for lo, hi in _chunks(total, CHUNK):
        eps = _rollout(law, start(hi - lo, rng), rng, choose, T, must_end)
        e = np.arange(lo, hi)[:, None]
        run = e % runs
        m = eps.mask
        ep_ret[lo:hi] = eps.returns[:, 0] if eps.returns.shape[1] else 0.0
        ep_len[lo:hi] = eps.lengths
        mv = first_visit_mask(eps.states, m) if first_visit else m
        mq = first_visit_mask(eps.states * A + eps.actions, m) if first_visit else m
        kv = (run * S + eps.states)[mv]
        sum_v += np.bincount(kv, eps.returns[mv], runs * S)
        cnt_v += np.bincount(kv, minlength=runs * S)
        kq = (run * S * A + eps.states * A + eps.actions)[mq]
        sum_q += np.bincount(kq, eps.returns[mq], runs * S * A)
        cnt_q += np.bincount(kq, minlength=runs * S * A)
        if trace is not None:
            hit = mv & (eps.states == trace)
            tr_sum[lo:hi] = np.where(hit, eps.returns, 0.0).sum(axis=1)
            tr_cnt[lo:hi] = hit.sum(axis=1)
        bar.update(hi - lo)
    bar.close()
    with np.errstate(invalid="ignore", divide="ignore"):
        v = (sum_v / cnt_v).reshape(runs, S)
        q = (sum_q / cnt_q).reshape(runs, S, A)
        tr = None
        if trace is not None:
            # episode index e = k * runs + run  ->  (runs, N) after a transpose
            c = np.cumsum(tr_cnt.reshape(N, runs), axis=0)
            tr = (np.cumsum(tr_sum.reshape(N, runs), axis=0) / c).T
    out = MCPredictionResult(v, q, cnt_v.reshape(runs, S), ep_ret.reshape(N, runs).T,
                             ep_len.reshape(N, runs).T, tr)
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
    rng = _rng(rng)
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
        act = actions
        eps = _rollout(law, s_start, rng, lambda s, i, u: act[s], L, False, a0=a_start)
        g0 = eps.returns[:, 0]
        q = np.zeros((S, A))
        np.add.at(q, (s_start, a_start), g0 / M)
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


def _mc_control(mdp, N, runs, rng, start, T, must_end, epsilon, first_visit, exploring,
                progress, desc):
    law = _Law(mdp)
    S, A = mdp.n_states, mdp.n_actions
    allowed = law.allowed
    sums = np.zeros(runs * S * A)
    cnts = np.zeros(runs * S * A)
    q = np.zeros(runs * S * A)
    neg = np.where(allowed, 0.0, -np.inf).reshape(-1)   # -inf on unavailable actions
    greedy = np.tile(np.argmax(neg.reshape(S, A), axis=1), runs)   # (runs * S,)
    ep_ret = np.zeros((runs, N))
    ep_len = np.zeros((runs, N), dtype=int)
    run_base = np.arange(runs)[:, None] * (S * A)
    neg_runs = np.tile(neg, runs).reshape(runs * S, A)

    def choose(s, idx, u):                             # one uniform per step and episode
        a = greedy[idx * S + s]
        if epsilon > 0:
            explore = u < epsilon                      # then u / epsilon is uniform on [0, 1)
            a = np.where(explore, law.random_allowed(s, np.minimum(u / epsilon, 0.999999)), a)
        return a

    bar = progress_bar(N, progress, desc=desc, unit="episodes")
    for k in range(N):
        s = start(runs, rng)
        a0 = law.random_allowed(s, rng.random(runs)) if exploring else None
        eps = _rollout(law, s, rng, choose, T, must_end, a0=a0)
        m = eps.mask
        key = eps.states * A + eps.actions
        if first_visit:
            m = first_visit_mask(key, m)
        kq = (run_base + key)[m]
        if first_visit:               # keys are distinct within an episode and across runs
            sums[kq] += eps.returns[m]
            cnts[kq] += 1.0
        else:
            sums += np.bincount(kq, eps.returns[m], runs * S * A)
            cnts += np.bincount(kq, minlength=runs * S * A)
        # q(s, a) = average of the returns; the policy improves in the visited states
        q[kq] = sums[kq] / cnts[kq]
        rows = kq // A                                 # run * S + s
        greedy[rows] = np.argmax(q.reshape(runs * S, A)[rows] + neg_runs[rows], axis=1)
        ep_ret[:, k] = eps.returns[:, 0] if eps.returns.shape[1] else 0.0
        ep_len[:, k] = eps.lengths
        bar.update()
    bar.close()
    q = q.reshape(runs, S, A)
    greedy = greedy.reshape(runs, S)
    policy = np.zeros((runs, S, A))
    np.put_along_axis(policy, greedy[..., None], 1.0, axis=2)
    if epsilon > 0:
        n_allowed = np.maximum(law.n_allowed, 1)
        policy = (1 - epsilon) * policy + epsilon * allowed / n_allowed[:, None]
    return MCControlResult(q, policy, cnts.reshape(runs, S, A), ep_ret, ep_len)


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
    _check_mdp(mdp)
    N = check_int(n_episodes, "n_episodes", 1)
    runs = _check_runs(n_runs)
    rng = _rng(rng)
    start = _start_sampler(mdp, s0, rho0)
    T, must_end = _max_steps(mdp, max_steps)
    out = _mc_control(mdp, N, runs, rng, start, T, must_end, 0.0, first_visit, True,
                      progress, "MC exploring starts")
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
    _check_mdp(mdp)
    N = check_int(n_episodes, "n_episodes", 1)
    eps = _check_epsilon(epsilon)
    runs = _check_runs(n_runs)
    rng = _rng(rng)
    start = _start_sampler(mdp, s0, rho0)
    T, must_end = _max_steps(mdp, max_steps)
    out = _mc_control(mdp, N, runs, rng, start, T, must_end, eps, first_visit, False,
                      progress, "MC epsilon-greedy")
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
    _check_mdp(mdp)
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
    N = check_int(n_episodes, "n_episodes", 1)
    runs = _check_runs(n_runs)
    rng = _rng(rng)
    start = _start_sampler(mdp, s0, rho0)
    T, must_end = _max_steps(mdp, max_steps)
    trace = _check_trace(trace, S)
    law = _Law(mdp)
    choose = _policy_chooser(beta)
    num = np.zeros(runs * S)
    den = np.zeros(runs * S)
    cnt = np.zeros(runs * S)
    ep_ret = np.zeros(runs * N)
    ep_len = np.zeros(runs * N, dtype=int)
    tr_num = np.zeros(runs * N)
    tr_den = np.zeros(runs * N)
    total = runs * N
    bar = progress_bar(total, progress, desc="off-policy MC", unit="episodes")
    for lo, hi in _chunks(total, CHUNK):
        eps = _rollout(law, start(hi - lo, rng), rng, choose, T, must_end)
        run = (np.arange(lo, hi) % runs)[:, None]
        m = eps.mask
        rho = importance_ratios(pi, beta, eps.states, eps.actions, m)
        mv = first_visit_mask(eps.states, m) if first_visit else m
        key = (run * S + eps.states)[mv]
        num += np.bincount(key, (rho * eps.returns)[mv], runs * S)
        den += np.bincount(key, rho[mv], runs * S)
        cnt += np.bincount(key, minlength=runs * S)
        ep_ret[lo:hi] = eps.returns[:, 0] if eps.returns.shape[1] else 0.0
        ep_len[lo:hi] = eps.lengths
        if trace is not None:
            hit = mv & (eps.states == trace)
            tr_num[lo:hi] = np.where(hit, rho * eps.returns, 0.0).sum(axis=1)
            tr_den[lo:hi] = np.where(hit, rho if weighted else 1.0, 0.0).sum(axis=1)
        bar.update(hi - lo)
    bar.close()
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
