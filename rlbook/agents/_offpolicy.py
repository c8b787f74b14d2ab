"""Machinery shared by the off-policy continuous-control agents (DDPG, TD3, SAC):
configuration checks, the environment loop, Polyak averaging, the result, and
Monte Carlo returns of a policy from chosen states.

The loop runs one Gymnasium environment. It stores ``terminated`` (the MDP
ended: no bootstrap) apart from ``truncated`` (a time limit, as in
``Pendulum-v1`` after 200 steps: the next state is an ordinary state, and the
target bootstraps from it). Actions are exchanged in the normalised box
``[-1, 1]^d``; the loop maps them to the environment's box.
"""
from __future__ import annotations

import copy
import numbers
import time
from dataclasses import dataclass

import numpy as np
import torch

from .._progress import progress_bar
from .._validate import check_int
from ._replay import ReplayBuffer
from ._rollout import _make_result, _torch_session

__all__ = ["polyak_update", "policy_returns_from_states"]

@dataclass(frozen=True)
class _OffPolicyConfig:
    """The settings DDPG, TD3 and SAC share; each agent's config adds its own and may
    change a default (its docstring says which preset the defaults are).

    The defaults are the book's ``Pendulum-v1`` preset: the rl-baselines3-zoo
    settings in everything (steps, warm-up, batch, step sizes, discount, Polyak
    weight, replay size, noise, one update per step) except the width of the hidden
    layers, ``(64, 64)`` instead of the zoo's ``(400, 300)`` (TD3, DDPG) or
    ``(256, 256)`` (SAC). Networks this small solve ``Pendulum-v1`` as reliably (every
    seed tried reaches a deterministic evaluation return above -200 in the 20 000
    steps) and cost a fraction of the time per update."""

    env_id: str = "Pendulum-v1"
    """Gymnasium environment with a bounded 1-D ``Box`` action space."""
    total_steps: int = 20_000
    """Environment steps."""
    seed: int = 0
    """Seed of the environment, the network initialisation and all noise."""
    gamma: float = 0.98
    """Discount factor, in ``[0, 1)``."""
    tau: float = 0.005
    """Polyak weight of the online networks in the target update, in ``(0, 1]``."""
    actor_lr: float = 1e-3
    """Adam step size of the actor."""
    critic_lr: float = 1e-3
    """Adam step size of the critic(s)."""
    batch_size: int = 256
    """Minibatch size of every update."""
    buffer_size: int = 200_000
    """Replay capacity (at least ``batch_size``)."""
    learning_starts: int = 10_000
    """Steps of uniformly random actions before the first update."""
    hidden_sizes: tuple = (64, 64)
    """Hidden layer widths of the actor and of each critic (ReLU); the book's preset
    (the zoo uses ``(400, 300)`` for TD3 and DDPG: pass it to train at the zoo's width)."""
    curve_window: int = 10
    """Episodes averaged in each point of the learning curve."""
    threshold: float | None = -200.0
    """Return that counts as solved (``steps_to_threshold``); None for none."""
    torch_threads: int = 1
    """Torch threads during training (one is fastest for these small networks)."""


#: The fields every off-policy config has, validated by :func:`_check_config`.
_INT_FIELDS = ("total_steps", "buffer_size", "batch_size", "curve_window", "torch_threads")


def _check_real(x, name, lo=None, hi=None, lo_open=False, hi_open=False, what=""):
    if isinstance(x, bool) or not isinstance(x, numbers.Real) or not np.isfinite(float(x)):
        raise ValueError(f"{name} is {x!r}, expected a finite real number{what}")
    x = float(x)
    bad = (lo is not None and (x < lo or (lo_open and x == lo))) or \
          (hi is not None and (x > hi or (hi_open and x == hi)))
    if bad:
        raise ValueError(f"{name} is {x!r}, expected a number in "
                         f"{'(' if lo_open else '['}{lo}, {hi}{')' if hi_open else ']'}{what}")
    return x


def _check_config(config):
    """Checks common to DDPGConfig, TD3Config and SACConfig (ValueError naming the field)."""
    if not isinstance(config.env_id, str):
        raise TypeError(f"env_id must be a string, got {config.env_id!r}")
    for name in _INT_FIELDS:
        check_int(getattr(config, name), name, minimum=1)
    check_int(config.seed, "seed", minimum=0)
    check_int(config.learning_starts, "learning_starts", minimum=0)
    _check_real(config.gamma, "gamma", 0.0, 1.0, hi_open=True, what=" (discount factor)")
    _check_real(config.tau, "tau", 0.0, 1.0, lo_open=True,
                what=" (Polyak weight of the online network; 1 copies it)")
    for name in ("actor_lr", "critic_lr"):
        _check_real(getattr(config, name), name, 0.0, None, lo_open=True, what=" (> 0)")
    if config.buffer_size < config.batch_size:
        raise ValueError(f"buffer_size is {config.buffer_size}, smaller than batch_size "
                         f"{config.batch_size}: the replay buffer must hold one minibatch")
    hs = config.hidden_sizes
    if not isinstance(hs, (tuple, list)) or len(hs) == 0 or any(
            isinstance(h, bool) or not isinstance(h, numbers.Integral) or h < 1 for h in hs):
        raise ValueError(f"hidden_sizes is {hs!r}, expected a non-empty tuple of positive integers")


def _checked(config, cls):
    """``cls()`` for None; refuses a config of another type; the common checks."""
    config = cls() if config is None else config
    if not isinstance(config, cls):
        raise TypeError(f"config must be a {cls.__name__}, got {type(config).__name__}")
    _check_config(config)
    return config


def _make_env(env_id):
    """The environment, its observation size and action box; refuses what the agents cannot act in."""
    import gymnasium as gym

    env = gym.make(env_id)
    try:
        obs_space, act_space = env.observation_space, env.action_space
        if isinstance(act_space, gym.spaces.Discrete) or not isinstance(act_space, gym.spaces.Box):
            raise ValueError(f"{env_id}: action space {act_space} is not continuous; DDPG, TD3 "
                             f"and SAC need a Box action space (use DQN for discrete actions)")
        if len(act_space.shape) != 1:
            raise ValueError(f"{env_id}: action space shape {act_space.shape}, expected a 1-D Box")
        if not isinstance(obs_space, gym.spaces.Box):
            raise ValueError(f"{env_id}: observation space {obs_space}, expected a Box")
        for name, bound in (("low", act_space.low), ("high", act_space.high)):
            bad = ~np.isfinite(bound)
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise ValueError(f"{env_id}: action bound {name}[{i}] is {bound[i]}, expected a "
                                 f"finite number (the actors squash into a bounded box)")
        if np.any(act_space.high <= act_space.low):
            raise ValueError(f"{env_id}: action bounds low={act_space.low}, high={act_space.high} "
                             f"are empty")
    except BaseException:
        env.close()
        raise
    return env, int(np.prod(obs_space.shape)), int(act_space.shape[0]), act_space.low, act_space.high


class _EnvLoop:
    """One environment, stepped with normalised actions; keeps the episode statistics."""

    def __init__(self, config, bar):
        self.env, self.obs_dim, self.act_dim, self.low, self.high = _make_env(config.env_id)
        self.scale = (self.high - self.low) / 2
        self.bias = (self.high + self.low) / 2
        obs, _ = self.env.reset(seed=config.seed)
        self.obs = np.asarray(obs, dtype=np.float32).reshape(-1)
        self.ep_ret = 0.0
        self.ep_steps, self.ep_returns = [], []
        self.curve_steps, self.curve_returns = [], []
        self.window = config.curve_window
        self.steps = 0
        self.bar = bar

    def step(self, a):
        """Act with the normalised action ``a``; return the transition as a batch of one,
        ``(s, a, r, s', terminated)``, ready for :meth:`ReplayBuffer.add`."""
        o2, r, te, tr, _ = self.env.step(self.bias + self.scale * a)
        o2 = np.asarray(o2, dtype=np.float32).reshape(-1)
        s = self.obs
        self.steps += 1
        self.ep_ret += r
        self.bar.update(1)
        if te or tr:
            self.ep_steps.append(self.steps)
            self.ep_returns.append(self.ep_ret)
            self.curve_steps.append(self.steps)
            self.curve_returns.append(float(np.mean(self.ep_returns[-self.window:])))
            self.bar.set_postfix(recent_return=f"{self.curve_returns[-1]:.0f}")
            self.ep_ret = 0.0
            obs, _ = self.env.reset()
            self.obs = np.asarray(obs, dtype=np.float32).reshape(-1)
        else:
            self.obs = o2
        return s[None], a[None], (float(r),), o2[None], (float(te),)

    def close(self):
        self.env.close()


def polyak_update(target, online, tau: float) -> None:
    r"""Polyak averaging of a target network, in place, all tensors in one call.

    .. math:: \bar\theta \leftarrow (1 - \tau)\,\bar\theta + \tau\,\theta
              = \bar\theta + \tau(\theta - \bar\theta),

    an exponential moving average of the online parameters with weight ``tau``
    on the newest (chapter *Continuous control and maximum entropy*).
    ``tau = 1`` copies the online network.
    """
    _check_real(tau, "tau", 0.0, 1.0, lo_open=True)
    t_params = [p.data for p in target.parameters()]
    o_params = [p.data for p in online.parameters()]
    if len(t_params) != len(o_params):
        raise ValueError(f"target has {len(t_params)} parameter tensors, online has {len(o_params)}")
    torch._foreach_lerp_(t_params, o_params, float(tau))


class _Agent:
    """The networks, optimisers and two steps of an off-policy actor-critic agent.

    The constructor builds the actor and the critic (in this order: the torch seed
    fixes both) with their target copies and one Adam optimiser each, allocated once.
    A subclass defines ``act`` (the collect step: NumPy observation in, normalised
    action out) and ``update`` (one gradient step on a minibatch of torch tensors).
    The update keeps its losses as tensors (``c_loss``, ``a_loss``, ``q``), read by
    :meth:`diagnostics` at episode ends only, so that no step waits on ``float()``.
    """

    def __init__(self, cfg, actor, critic, actor_target=True):
        self.cfg = cfg
        self.actor, self.critic = actor, critic
        self.actor_targ = copy.deepcopy(actor) if actor_target else None
        self.critic_targ = copy.deepcopy(critic)
        pairs = [(self.critic_targ, critic)] + ([(self.actor_targ, actor)] if actor_target else [])
        self._targ_params = [p for t, _ in pairs for p in t.parameters()]
        self._online_params = [p for _, o in pairs for p in o.parameters()]
        for p in self._targ_params:
            p.requires_grad_(False)
        self.opt_actor = torch.optim.Adam(actor.parameters(), lr=cfg.actor_lr, fused=True)
        self.opt_critic = torch.optim.Adam(critic.parameters(), lr=cfg.critic_lr, fused=True)
        self.gen = torch.Generator().manual_seed(cfg.seed)
        self.c_loss = self.a_loss = torch.tensor(float("nan"))
        self.q = torch.full((1, 1), float("nan"))

    @staticmethod
    def _step(opt, loss):
        """One optimiser step on ``loss``; returns the loss, detached."""
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss.detach()

    @torch.no_grad()
    def _polyak(self):
        """:func:`polyak_update` of every target network, in one fused call."""
        torch._foreach_lerp_(self._targ_params, self._online_params, self.cfg.tau)

    def diagnostics(self):
        """The latest update's ``critic_loss``, ``q_mean`` (mean ``Q_1`` on its
        minibatch) and ``actor_loss``, as floats."""
        return {"critic_loss": float(self.c_loss), "q_mean": float(self.q[0].detach().mean()),
                "actor_loss": float(self.a_loss)}


def _train(config, progress, name, make_agent):
    """Run an off-policy agent: collect one transition per step into the replay buffer
    and, after ``learning_starts`` steps, make one update per step on a uniform
    minibatch (``train_freq = gradient_steps = 1``)."""
    t0 = time.perf_counter()
    bar = progress_bar(config.total_steps, progress, desc=f"{name} {config.env_id}",
                       unit="steps")
    with _torch_session(config.seed, config.torch_threads), bar:
        loop = _EnvLoop(config, bar)
        try:
            agent = make_agent(config, loop)
            buf = ReplayBuffer(max(min(config.buffer_size, config.total_steps),
                                   config.batch_size),
                               (loop.obs_dim,), (loop.act_dim,), action_dtype=np.float32)
            rng = np.random.default_rng(config.seed)
            diag = {"step": []}
            for t in range(config.total_steps):
                a = agent.act(loop.obs, t, rng)
                n_eps = len(loop.ep_returns)
                buf.add(*loop.step(a))
                if t >= config.learning_starts:
                    agent.update(buf.sample(config.batch_size, rng, as_torch=True))
                if len(loop.ep_returns) > n_eps:
                    diag["step"].append(loop.steps)
                    for k, v in agent.diagnostics().items():
                        diag.setdefault(k, []).append(v)
            return _make_result(config, config.threshold, agent.actor, agent.critic,
                                loop.curve_steps, loop.curve_returns, t0, loop.ep_steps,
                                loop.ep_returns, loop.steps, diag)
        finally:
            loop.close()


@torch.no_grad()
def policy_returns_from_states(policy, env_id: str, states, gamma: float, horizon: int):
    r"""Discounted Monte Carlo returns of a deterministic policy started in given states.

    .. math:: G(s) = \sum_{t=0}^{H-1} \gamma^t r_{t+1}, \qquad s_0 = s,\ a_t = \mu(s_t),

    without the environment's time limit (the unwrapped environment), so that
    ``G`` estimates the infinite-horizon value ``q_mu(s, mu(s))`` up to
    ``gamma^H max|r| / (1 - gamma)``. Used to measure a critic's overestimation.

    Parameters
    ----------
    policy : actor with ``act(obs, deterministic=True)``
    env_id : str
        A classic-control environment whose unwrapped state is the attribute
        ``state`` (``Pendulum-v1``: ``(theta, theta_dot)``).
    states : array (N, k)
        Physical states to start from.
    gamma : float
    horizon : int

    Returns
    -------
    returns : ndarray (N,)
    first_obs : ndarray (N, obs_dim)
        The observations of the start states (to query a critic).
    """
    import gymnasium as gym

    states = np.asarray(states, dtype=np.float64)
    if states.ndim != 2:
        raise ValueError(f"states must have shape (N, k), got {states.shape}")
    _check_real(gamma, "gamma", 0.0, 1.0)
    horizon = check_int(horizon, "horizon", minimum=1)
    envs = [gym.make(env_id).unwrapped for _ in range(len(states))]
    for i, (e, s) in enumerate(zip(envs, states)):
        e.reset(seed=i)
        if not hasattr(e, "state") or not hasattr(e, "_get_obs"):
            raise ValueError(f"{env_id}: the unwrapped environment has no settable `state`")
        e.state = s.copy()
    obs = np.stack([e._get_obs() for e in envs]).astype(np.float32)
    first = obs.copy()
    G = np.zeros(len(states))
    disc = 1.0
    for _ in range(horizon):
        acts = policy.act(obs, deterministic=True)
        out = [e.step(a) for e, a in zip(envs, acts)]
        G += disc * np.array([o[1] for o in out])
        obs = np.stack([o[0] for o in out]).astype(np.float32)
        disc *= gamma
    for e in envs:
        e.close()
    return G, first
