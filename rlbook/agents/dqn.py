"""Deep Q-networks (Mnih et al. 2013, 2015) and Double DQN (van Hasselt et al. 2016) on
Gymnasium environments with discrete actions (chapter C8).

The loop follows the chapter's algorithm box: act epsilon-greedily and store
transitions in the replay buffer (:class:`rlbook.agents._replay.ReplayBuffer`);
every ``train_freq`` environment steps run ``gradient_steps`` minibatch updates
of the Huber loss against targets computed in one batched pass of the target
network; copy the online network into the target network every
``target_update_interval`` gradient steps.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch

from .._progress import progress_bar
from .._validate import check_config, check_gamma, check_int, check_positive
from ._nets import QNetwork
from ._replay import ReplayBuffer
from ._rollout import (TrainResult, _make_result, _make_vec_env, _torch_session,
                       evaluate_policy_gym)

__all__ = ["DQNConfig", "train_dqn", "dqn_targets"]


@dataclass
class DQNConfig:
    """Settings of :func:`train_dqn`; the defaults are the book's CartPole-v1 preset.

    The preset keeps the rl-baselines3-zoo CartPole-v1 DQN schedule (Raffin et
    al. 2021: 50k steps, training phases of 128 gradient steps every 256 env
    steps, a target network refreshed once per phase, epsilon decayed over the
    first 16% of the steps) with a 64x64 network instead of 256x256, a learning
    rate of 1e-3 instead of 2.3e-3, Double DQN targets, and model selection by
    periodic greedy evaluation.
    :meth:`rl_zoo_cartpole` gives the zoo's settings.
    """

    env_id: str = "CartPole-v1"
    """Gymnasium environment id (Discrete actions, Box observations)."""
    total_steps: int = 50_000
    """Budget of environment steps (summed over the parallel environments)."""
    n_envs: int = 1
    """Parallel environments (``gymnasium.vector.SyncVectorEnv``, same-step autoreset)."""
    gamma: float = 0.99
    """Discount factor gamma (< 1: the targets bootstrap without end)."""
    lr: float = 1e-3
    """Adam learning rate."""
    buffer_size: int = 50_000
    """Capacity of the replay buffer (transitions); at least ``batch_size``."""
    batch_size: int = 64
    """Transitions per minibatch."""
    learning_starts: int = 1_000
    """Environment steps of pure exploration before the first update; at least ``batch_size``."""
    train_freq: int = 256
    """Environment steps between training phases."""
    gradient_steps: int = 128
    """Minibatch updates per training phase."""
    target_update_interval: int = 128
    """Gradient steps between copies of the online network into the target network."""
    exploration_fraction: float = 0.16
    """Fraction of ``total_steps`` over which epsilon decays linearly from
    ``exploration_initial_eps`` to ``exploration_final_eps``."""
    exploration_initial_eps: float = 1.0
    """Initial epsilon of the epsilon-greedy behaviour policy."""
    exploration_final_eps: float = 0.04
    """Final epsilon."""
    double_q: bool = True
    """Double DQN targets (select the next action with the online network, evaluate it
    with the target network); False: the DQN target ``max_a Q_target(s', a)``."""
    huber_delta: float = 1.0
    """Threshold of the Huber loss (quadratic below, linear above); None: squared loss."""
    max_grad_norm: float | None = 10.0
    """Clip the global gradient norm to this value (None: no clipping)."""
    hidden_sizes: tuple = (64, 64)
    """Hidden layer widths of the Q-network (ReLU)."""
    seed: int = 0
    """Seed of the network initialisation, of exploration, of sampling and of the environments."""
    threshold: float | None = None
    """Return defining ``steps_to_threshold``; None: the environment's ``reward_threshold``."""
    curve_window: int = 20
    """The learning curve averages the returns of this many most recently finished episodes."""
    eval_interval: int | None = 5_000
    """Every this many environment steps, run ``eval_episodes`` greedy episodes and keep a
    copy of the network if its mean return is the best so far; the result's policy is that
    best copy (as Stable-Baselines3's ``EvalCallback`` keeps ``best_model``). None: return
    the final network."""
    eval_episodes: int = 10
    """Greedy evaluation episodes per model-selection evaluation (seeds disjoint from the
    book's final evaluations: ``10**6 + seed * 1000 + k``)."""
    torch_threads: int = 1
    """``torch.set_num_threads`` during training (restored afterwards)."""

    @classmethod
    def rl_zoo_cartpole(cls, **overrides) -> "DQNConfig":
        """The rl-baselines3-zoo CartPole-v1 DQN hyperparameters (as run by
        Stable-Baselines3: 256x256 network, 128 gradient steps per 256 env steps,
        the target refreshed before each training phase, DQN targets, no Huber
        change: SB3 uses the smooth L1 loss, i.e. Huber with delta 1)."""
        kw = dict(total_steps=50_000, lr=2.3e-3, batch_size=64, buffer_size=100_000,
                  learning_starts=1_000, gamma=0.99, train_freq=256, gradient_steps=128,
                  target_update_interval=128, exploration_fraction=0.16,
                  exploration_final_eps=0.04, hidden_sizes=(256, 256), double_q=False)
        return cls(**{**kw, **overrides})


def _check_dqn(config):
    check_config(config, DQNConfig)
    if not isinstance(config.env_id, str):
        raise TypeError(f"env_id must be a string, got {config.env_id!r}")
    for name in ("total_steps", "n_envs", "buffer_size", "batch_size", "train_freq",
                 "gradient_steps", "target_update_interval", "curve_window", "torch_threads"):
        check_int(getattr(config, name), name, minimum=1)
    check_int(config.learning_starts, "learning_starts", minimum=0)
    check_int(config.seed, "seed", minimum=0)
    g = check_gamma(config.gamma)
    if g == 1.0:
        raise ValueError("gamma is 1.0, expected gamma < 1: DQN bootstraps through "
                         "time-limit truncations, so undiscounted targets need not be bounded")
    if config.buffer_size < config.batch_size:
        raise ValueError(f"buffer_size is {config.buffer_size}, below batch_size "
                         f"{config.batch_size}: the replay buffer must hold a batch")
    if config.learning_starts < config.batch_size:
        raise ValueError(f"learning_starts is {config.learning_starts}, below batch_size "
                         f"{config.batch_size}: the first minibatch would repeat transitions")
    check_positive(config.lr, "lr")
    for name in ("exploration_fraction", "exploration_initial_eps", "exploration_final_eps"):
        v = getattr(config, name)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v <= 1:
            raise ValueError(f"{name} is {v!r}, expected a number in [0, 1]")
    if config.eval_interval is not None:
        check_int(config.eval_interval, "eval_interval", minimum=1)
    check_int(config.eval_episodes, "eval_episodes", minimum=1)
    for name in ("huber_delta", "max_grad_norm"):
        if getattr(config, name) is not None:
            check_positive(getattr(config, name), name)
    hs = config.hidden_sizes
    if not isinstance(hs, (tuple, list)) or any(
            isinstance(h, bool) or not isinstance(h, int) or h < 1 for h in hs):
        raise ValueError(f"hidden_sizes is {hs!r}, expected a tuple of positive integers")


def dqn_targets(q_target, q_online, rewards, next_obs, terminated, gamma, double_q):
    r"""Batched DQN / Double DQN regression targets.

    .. math::

        y = r + \gamma (1 - d) \, \hat q(s', a^*), \qquad
        a^* = \operatorname{argmax}_a \hat q(s', a) \text{ (DQN)}, \quad
        a^* = \operatorname{argmax}_a q(s', a) \text{ (Double DQN)},

    with ``q_target`` the target network :math:`\hat q` and ``q_online`` the
    online network :math:`q`; ``d = 1`` marks a terminal ``s'``.

    Parameters
    ----------
    q_target, q_online : callable
        Networks mapping ``(B, obs_dim)`` tensors to ``(B, A)`` action values.
    rewards, terminated : tensor ``(B,)``
    next_obs : tensor ``(B, obs_dim)``
    gamma : float
    double_q : bool

    Returns
    -------
    tensor ``(B,)``, without gradient.
    """
    with torch.no_grad():
        q_next = q_target(next_obs)
        if double_q:
            a_star = q_online(next_obs).argmax(dim=1, keepdim=True)
            v_next = q_next.gather(1, a_star).squeeze(1)
        else:
            v_next = q_next.max(dim=1).values
        return rewards + gamma * (1.0 - terminated) * v_next


def train_dqn(config: DQNConfig | None = None, progress: bool = False) -> TrainResult:
    r"""Train DQN (Mnih et al. 2015) or Double DQN on ``config.env_id``.

    Minimises over minibatches :math:`B` drawn from the replay buffer the Huber
    loss of the TD error against a frozen target network,

    .. math:: L(w) = \frac{1}{|B|} \sum_{(s, a, r, s', d) \in B}
              H_\delta\big(y - q(s, a; w)\big),
              \qquad y = r + \gamma (1 - d) \hat q(s', a^*; w^-),

    (see :func:`dqn_targets`), copying :math:`w^- \leftarrow w` every
    ``target_update_interval`` gradient steps.

    Parameters
    ----------
    config : DQNConfig, optional
        Defaults to ``DQNConfig()``, the book's CartPole-v1 preset.
    progress : bool
        Show a progress bar over environment steps.

    Returns
    -------
    TrainResult
        ``policy`` and ``value_fn`` are both the trained :class:`QNetwork`
        (its ``act`` is the greedy policy); ``diagnostics`` holds per training
        phase ``loss`` (mean Huber loss), ``q_mean`` (mean of ``q(s, a)`` over
        the phase's minibatches), ``epsilon`` and ``steps``, and per model-selection
        evaluation ``eval_steps`` and ``eval_mean_return``.

    Notes
    -----
    A time-limit truncation is not a terminal state: its transition is stored
    with the real final observation and ``d = 0``, so the target bootstraps.
    """
    import gymnasium as gym

    config = DQNConfig() if config is None else config
    _check_dqn(config)
    start = time.perf_counter()
    with _torch_session(config.seed, config.torch_threads):
        envs = _make_vec_env(config.env_id, config.n_envs)
        try:
            sp, ap = envs.single_observation_space, envs.single_action_space
            if not isinstance(ap, gym.spaces.Discrete):
                raise ValueError(f"{config.env_id}: action space {ap} is not Discrete; DQN "
                                 "maximises over a finite set of actions (use DDPG, TD3 or "
                                 "SAC for continuous actions)")
            if not isinstance(sp, gym.spaces.Box):
                raise ValueError(f"{config.env_id}: observation space {sp} is not a Box")
            result = _train(config, envs, int(np.prod(sp.shape)), int(ap.n), progress, start)
        finally:
            envs.close()
    return result


def _train(config, envs, obs_dim, n_act, progress, start):
    N = config.n_envs
    rng = np.random.default_rng(config.seed)
    q = QNetwork(obs_dim, n_act, tuple(config.hidden_sizes))
    q_targ = QNetwork(obs_dim, n_act, tuple(config.hidden_sizes))
    q_targ.load_state_dict(q.state_dict())
    q_targ.requires_grad_(False)
    try:
        opt = torch.optim.Adam(q.parameters(), lr=config.lr, fused=True)
    except (RuntimeError, TypeError):  # pragma: no cover - builds without fused CPU Adam
        opt = torch.optim.Adam(q.parameters(), lr=config.lr)
    layers = q.numpy_layers()  # views: Adam's in-place steps show through
    buf = ReplayBuffer(config.buffer_size, (obs_dim,), ())
    loss_fn = (torch.nn.HuberLoss(delta=config.huber_delta) if config.huber_delta is not None
               else torch.nn.MSELoss())
    threshold = config.threshold
    if threshold is None and envs.envs[0].spec is not None:
        threshold = envs.envs[0].spec.reward_threshold

    obs, _ = envs.reset(seed=config.seed)
    obs = obs.reshape(N, -1).astype(np.float32)
    ep_ret = np.zeros(N)
    ep_steps, ep_returns = [], []
    curve_steps, curve_returns = [], []
    diag = {k: [] for k in ("steps", "loss", "q_mean", "epsilon")}
    evals = {"steps": [], "mean_return": []}
    best, best_ret = None, -np.inf
    next_eval = config.eval_interval
    n_iters = config.total_steps // N
    decay = max(1, int(config.exploration_fraction * config.total_steps))
    eps0, eps1 = config.exploration_initial_eps, config.exploration_final_eps
    n_grad = 0
    steps = 0
    next_train = config.learning_starts + config.train_freq
    bar = progress_bar(n_iters * N, progress, desc="DQN", unit="step")
    try:
        for _ in range(n_iters):
            # --- act epsilon-greedily and store the transitions
            eps = eps0 + (eps1 - eps0) * min(1.0, steps / decay)
            a = QNetwork.numpy_q(layers, obs).argmax(axis=1)
            explore = rng.random(N) < eps
            if explore.any():
                a = np.where(explore, rng.integers(0, n_act, size=N), a)
            o2, r, te, tr, info = envs.step(a)
            o2 = o2.reshape(N, -1).astype(np.float32)
            next_obs = o2
            done = te | tr
            if done.any():
                next_obs = o2.copy()
                for i in np.flatnonzero(done):  # same-step autoreset: s' is the final obs
                    next_obs[i] = np.asarray(info["final_obs"][i], np.float32).reshape(-1)
            buf.add(obs, a, r, next_obs, te)
            ep_ret += r
            steps += N
            if done.any():
                for i in np.flatnonzero(done):
                    ep_steps.append(steps)
                    ep_returns.append(ep_ret[i])
                    ep_ret[i] = 0.0
            obs = o2
            bar.update(N)
            # --- training phase: gradient_steps minibatch updates
            if steps >= next_train:
                next_train += config.train_freq
                losses, qs = [], []
                for _ in range(config.gradient_steps):
                    b = buf.sample(config.batch_size, rng, as_torch=True)
                    y = dqn_targets(q_targ, q, b.rewards, b.next_obs, b.terminated,
                                    config.gamma, config.double_q)
                    q_sa = q(b.obs).gather(1, b.actions.unsqueeze(1)).squeeze(1)
                    loss = loss_fn(q_sa, y)
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
                    if config.max_grad_norm is not None:
                        torch.nn.utils.clip_grad_norm_(q.parameters(), config.max_grad_norm)
                    opt.step()
                    n_grad += 1
                    if n_grad % config.target_update_interval == 0:
                        q_targ.load_state_dict(q.state_dict())
                    losses.append(loss.detach())
                    qs.append(q_sa.detach().mean())
                diag["steps"].append(steps)
                diag["loss"].append(float(torch.stack(losses).mean()))
                diag["q_mean"].append(float(torch.stack(qs).mean()))
                diag["epsilon"].append(eps)
                curve_steps.append(steps)
                curve_returns.append(float(np.mean(ep_returns[-config.curve_window:]))
                                     if ep_returns else float("nan"))
                if ep_returns:
                    bar.set_postfix(ret=f"{curve_returns[-1]:.0f}")
            # --- model selection: keep the best greedy network seen
            if next_eval is not None and (steps >= next_eval or steps >= n_iters * N):
                next_eval += config.eval_interval
                ret = evaluate_policy_gym(lambda o: QNetwork.numpy_q(layers, o).argmax(1),
                                          config.env_id, config.eval_episodes,
                                          seed=10**6 + config.seed * 1000 + len(evals["steps"]))
                evals["steps"].append(steps)
                evals["mean_return"].append(float(ret.mean()))
                if ret.mean() > best_ret:
                    best_ret = float(ret.mean())
                    best = {k: v.clone() for k, v in q.state_dict().items()}
    finally:
        bar.close()
    if best is not None:
        q.load_state_dict(best)
    diag.update({f"eval_{k}": v for k, v in evals.items()})
    return _make_result(config, threshold, q, q, curve_steps, curve_returns, start, ep_steps,
                        ep_returns, steps, diag)
