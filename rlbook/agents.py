"""PPO and TRPO agents on Gymnasium environments (chapter *TRPO and PPO*).

Both agents share one rollout collector over a ``gymnasium.vector.SyncVectorEnv``
and small MLPs (a policy network and a separate value network, ``tanh``
hidden layers, orthogonal initialisation as in Stable-Baselines3 / cleanrl).

* :func:`train_ppo` -- PPO with the clipped surrogate (Schulman et al. 2017),
  GAE (:func:`rlbook.gae`), minibatch Adam epochs, linear annealing of the
  learning rate and of the clip range;
* :func:`train_trpo` -- TRPO (Schulman et al. 2015): conjugate gradients on
  Fisher-vector products and a backtracking line search
  (:func:`rlbook.trpo_step`), with a value network fitted by Adam;
* :func:`evaluate_policy_gym` -- returns of complete evaluation episodes.

**Time limits.**  The vector environment is built with
``autoreset_mode=SAME_STEP``: when an episode ends, ``step`` already returns the
first observation of the next episode and the final observation is in
``info["final_obs"]``.  A *terminated* step (the pole fell) has no future:
``done = 1`` and nothing is bootstrapped.  A *truncated* step (the 500-step time
limit of CartPole-v1) is not terminal for the MDP: its TD error bootstraps from
``V(final_obs)``, and only the GAE recursion is cut (``truncations`` in
:func:`rlbook.gae`).

Discrete action spaces use a categorical policy, 1-D ``Box`` action spaces a
diagonal Gaussian with a state-independent log standard deviation (actions
clipped to the bounds for the environment only).
"""
from __future__ import annotations

import math
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from ._progress import progress_bar
from ._validate import check_gamma, check_int, check_positive
from .ppo import gae, ppo_losses
from .trust_region import fisher_vector_product, trpo_step

__all__ = [
    "PPOConfig",
    "TRPOConfig",
    "LearningCurve",
    "TrainResult",
    "train_ppo",
    "train_trpo",
    "evaluate_policy_gym",
]


# ------------------------------------------------------------------ configs
@dataclass
class PPOConfig:
    """Settings of :func:`train_ppo`.

    The defaults are tuned for CartPole-v1: the rl-baselines3-zoo hyperparameters
    (Raffin et al. 2021: 8 environments x 32 steps, one minibatch of 256,
    gamma 0.98, lambda 0.8, lr 1e-3 and clip 0.2 both annealed linearly to 0,
    no entropy bonus) except ``epochs=10`` instead of 20, which halves the
    gradient steps; on seeds 0-7 every run still reaches a deterministic
    evaluation return of 500 within 100k steps.
    :meth:`rl_zoo_cartpole` gives the zoo's settings exactly."""

    env_id: str = "CartPole-v1"
    """Gymnasium environment id (discrete or 1-D Box actions, Box observations)."""
    total_steps: int = 100_000
    """Budget of environment steps (summed over the parallel environments);
    ``total_steps // (n_envs * n_steps)`` updates are run, so the budget is never exceeded."""
    n_envs: int = 8
    """Number of parallel environments (``gymnasium.vector.SyncVectorEnv``)."""
    n_steps: int = 32
    """Steps per environment per rollout; a rollout holds ``n_envs * n_steps`` transitions."""
    gamma: float = 0.98
    """Discount factor."""
    lam: float = 0.8
    """GAE parameter lambda."""
    lr: float = 1e-3
    """Adam learning rate (initial value if ``anneal_lr``)."""
    anneal_lr: bool = True
    """Decay the learning rate linearly to 0 over the updates."""
    epochs: int = 10
    """Passes over each rollout."""
    minibatch_size: int = 256
    """Transitions per minibatch (must divide ``n_envs * n_steps``)."""
    clip_eps: float = 0.2
    """Clip range epsilon of the surrogate (initial value if ``anneal_clip``)."""
    anneal_clip: bool = True
    """Decay the clip range linearly to 0 over the updates."""
    vf_coef: float = 0.5
    """Weight c_1 of the value loss ``mean((V - R)^2)``."""
    ent_coef: float = 0.0
    """Weight c_2 of the entropy bonus."""
    vf_clip: float | None = None
    """Value clip range (None: no value clipping)."""
    max_grad_norm: float = 0.5
    """Clip the global gradient norm to this value (None: no clipping)."""
    target_kl: float | None = None
    """Stop the epochs of an update early once the approximate KL exceeds this (None: never)."""
    normalize_advantages: bool = True
    """Standardise the advantages within each minibatch (minibatches of one sample are left as they are)."""
    hidden_sizes: tuple = (64, 64)
    """Hidden layer widths of the policy and of the value network (separate networks)."""
    adam_eps: float = 1e-5
    """Adam's epsilon."""
    seed: int = 0
    """Seed of the networks' initialisation, of the action sampling and of the environments."""
    threshold: float | None = None
    """Return defining ``steps_to_threshold``; None: the environment's ``reward_threshold`` (475 for CartPole-v1)."""
    curve_window: int = 20
    """The learning curve averages the returns of this many most recently finished episodes."""
    torch_threads: int = 1
    """``torch.set_num_threads`` during training (restored afterwards); 1 is fastest for these small networks."""

    @classmethod
    def notebook_cartpole(cls, **overrides) -> "PPOConfig":
        """The preset the chapter trains: the defaults (100k steps, 10 epochs),
        seed 0; about 7-10 s on 2 CPU cores, deterministic evaluation return 500."""
        return cls(**{"seed": 0, **overrides})

    @classmethod
    def rl_zoo_cartpole(cls, **overrides) -> "PPOConfig":
        """The rl-baselines3-zoo CartPole-v1 PPO settings exactly (``epochs=20``)."""
        return cls(**{"epochs": 20, **overrides})


@dataclass
class TRPOConfig:
    """Settings of :func:`train_trpo` (defaults tuned for CartPole-v1)."""

    env_id: str = "CartPole-v1"
    """Gymnasium environment id."""
    total_steps: int = 100_000
    """Budget of environment steps (``total_steps // (n_envs * n_steps)`` updates)."""
    n_envs: int = 8
    """Number of parallel environments."""
    n_steps: int = 128
    """Steps per environment per rollout (batch ``n_envs * n_steps``)."""
    gamma: float = 0.99
    """Discount factor."""
    lam: float = 0.95
    """GAE parameter lambda."""
    max_kl: float = 0.01
    """Trust-region radius delta on the mean KL(pi_old || pi_new)."""
    cg_iters: int = 10
    """Conjugate-gradient iterations per update."""
    damping: float = 0.1
    """Damping added to the Fisher-vector products."""
    backtrack_iters: int = 10
    """Maximum number of line-search trials."""
    backtrack_coeff: float = 0.8
    """Line-search shrink factor."""
    vf_lr: float = 1e-3
    """Adam learning rate of the value network."""
    vf_epochs: int = 10
    """Passes of the value regression over each rollout."""
    vf_minibatch_size: int = 128
    """Minibatch size of the value regression."""
    normalize_advantages: bool = True
    """Standardise the advantages of each rollout."""
    hidden_sizes: tuple = (64, 64)
    """Hidden layer widths of the policy and of the value network."""
    seed: int = 0
    """Seed of initialisation, action sampling and environments."""
    threshold: float | None = None
    """Return defining ``steps_to_threshold``; None: the environment's ``reward_threshold``."""
    curve_window: int = 20
    """The learning curve averages this many most recently finished episodes."""
    torch_threads: int = 1
    """``torch.set_num_threads`` during training (restored afterwards)."""


@dataclass(frozen=True)
class LearningCurve:
    """Training curve, one point per update; unpacks as ``steps, returns = curve``."""

    steps: np.ndarray
    """Environment steps done at the end of each update."""
    returns: np.ndarray
    """Mean return of the ``curve_window`` most recently finished episodes (nan before the first)."""

    def __iter__(self):
        return iter((self.steps, self.returns))

    def __len__(self):
        return 2


@dataclass(frozen=True)
class TrainResult:
    """Outcome of :func:`train_ppo` / :func:`train_trpo`."""

    policy: object
    """The trained :class:`MLPPolicy` (a ``torch.nn.Module``; ``policy.act(obs)`` gives actions)."""
    value_fn: object
    """The trained :class:`MLPValue` network ``obs -> V(obs)``."""
    curve: LearningCurve
    """Training curve ``(steps, mean recent return)``."""
    wall_time: float
    """Seconds spent in training (environment construction included)."""
    steps_to_threshold: int | None
    """First entry of ``curve.steps`` whose curve value is >= the threshold (None if never)."""
    episode_steps: np.ndarray
    """Environment step at which each training episode finished."""
    episode_returns: np.ndarray
    """Undiscounted return of each finished training episode."""
    total_steps: int
    """Environment steps actually taken."""
    diagnostics: dict = field(default_factory=dict)
    """Per-update arrays (PPO: approx_kl, clip_fraction and value_loss of the last epoch's
    minibatches, entropy of the rollout's policy, lr, clip_eps, epochs run;
    TRPO: kl, step_fraction, accepted, expected_improvement, actual_improvement, value_loss)."""
    config: object = None
    """The configuration used."""


# ----------------------------------------------------------------- networks
def _torch():
    import torch

    return torch


def _mlp(sizes, out_gain):
    torch = _torch()
    nn = torch.nn
    layers = []
    for i in range(len(sizes) - 1):
        lin = nn.Linear(sizes[i], sizes[i + 1])
        last = i == len(sizes) - 2
        nn.init.orthogonal_(lin.weight, gain=out_gain if last else math.sqrt(2))
        nn.init.zeros_(lin.bias)
        layers.append(lin)
        if not last:
            layers.append(nn.Tanh())
    return nn.Sequential(*layers)


def _space_info(env_id, obs_space, act_space):
    import gymnasium as gym

    if not isinstance(obs_space, gym.spaces.Box):
        raise ValueError(f"{env_id}: observation space {obs_space} is not supported, expected a Box")
    if isinstance(act_space, gym.spaces.Discrete):
        return int(np.prod(obs_space.shape)), True, int(act_space.n)
    if isinstance(act_space, gym.spaces.Box) and len(act_space.shape) == 1:
        return int(np.prod(obs_space.shape)), False, int(act_space.shape[0])
    raise ValueError(f"{env_id}: action space {act_space} is not supported; the agents handle "
                     f"Discrete (categorical policy) and 1-D Box (Gaussian policy) action spaces")


def _make_modules():
    torch = _torch()
    nn = torch.nn

    class MLPPolicy(nn.Module):
        """Categorical (discrete actions) or diagonal-Gaussian (Box actions) MLP policy.

        ``forward(obs)`` returns the distribution parameters: normalised
        log-probabilities ``(B, A)`` (categorical), or ``[mean, log_std]``
        ``(B, 2 A)`` (Gaussian).  ``log_prob``, ``entropy``, ``kl`` and ``sample``
        act on those parameters; ``act(obs)`` maps NumPy observations to NumPy
        actions.
        """

        def __init__(self, obs_dim, n_out, hidden_sizes=(64, 64), discrete=True, low=None, high=None):
            super().__init__()
            self.discrete = bool(discrete)
            self.n_out = int(n_out)
            self.net = _mlp([obs_dim, *hidden_sizes, n_out], out_gain=0.01)
            if not self.discrete:
                self.log_std = nn.Parameter(torch.zeros(n_out))
                self.register_buffer("low", torch.as_tensor(low, dtype=torch.float32))
                self.register_buffer("high", torch.as_tensor(high, dtype=torch.float32))

        def forward(self, obs):
            out = self.net(obs)
            if self.discrete:
                return torch.log_softmax(out, dim=-1)
            return torch.cat([out, self.log_std.expand_as(out)], dim=-1)

        def _split(self, params):
            return params[..., :self.n_out], params[..., self.n_out:]

        def log_prob(self, params, actions):
            if self.discrete:
                return params.gather(-1, actions.long().unsqueeze(-1)).squeeze(-1)
            mean, log_std = self._split(params)
            z = (actions - mean) / log_std.exp()
            return (-0.5 * z * z - log_std - 0.5 * math.log(2 * math.pi)).sum(-1)

        def entropy(self, params):
            if self.discrete:
                return -(params.exp() * params).sum(-1)
            _, log_std = self._split(params)
            return (log_std + 0.5 * math.log(2 * math.pi * math.e)).sum(-1)

        def kl(self, old, new):
            """``KL(pi_old(.|s) || pi_new(.|s))`` per row."""
            if self.discrete:
                return (old.exp() * (old - new)).sum(-1)
            mo, lo = self._split(old)
            mn, ln = self._split(new)
            return (ln - lo + ((2 * lo).exp() + (mo - mn) ** 2) / (2 * (2 * ln).exp()) - 0.5).sum(-1)

        def sample(self, params, generator=None):
            if self.discrete:
                return torch.multinomial(params.exp(), 1, generator=generator).squeeze(-1)
            mean, log_std = self._split(params)
            noise = torch.randn(mean.shape, generator=generator, dtype=mean.dtype)
            return mean + log_std.exp() * noise

        def mode(self, params):
            if self.discrete:
                return params.argmax(-1)
            return self._split(params)[0]

        def to_env(self, actions):
            """Tensor of actions -> NumPy actions for the environment (Box: clipped to the bounds)."""
            if self.discrete:
                return actions.numpy()
            return torch.maximum(torch.minimum(actions, self.high), self.low).numpy()

        @torch.no_grad()
        def act(self, obs, deterministic=True, generator=None):
            """NumPy observations ``(N, obs_dim)`` -> NumPy actions ``(N,)`` / ``(N, A)``."""
            obs_t = torch.as_tensor(np.asarray(obs, dtype=np.float32)).reshape(len(obs), -1)
            params = self(obs_t)
            a = self.mode(params) if deterministic else self.sample(params, generator)
            return self.to_env(a)

    class MLPValue(nn.Module):
        """Value network ``obs -> V(obs)``, output shape ``(B,)``."""

        def __init__(self, obs_dim, hidden_sizes=(64, 64)):
            super().__init__()
            self.net = _mlp([obs_dim, *hidden_sizes, 1], out_gain=1.0)

        def forward(self, obs):
            return self.net(obs).squeeze(-1)

    return MLPPolicy, MLPValue


_MODULES = None


def _modules():
    global _MODULES
    if _MODULES is None:
        _MODULES = _make_modules()
    return _MODULES


def __getattr__(name):  # MLPPolicy / MLPValue built lazily so that importing rlbook needs no torch
    if name == "MLPPolicy":
        return _modules()[0]
    if name == "MLPValue":
        return _modules()[1]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# ------------------------------------------------------------------ helpers
@contextmanager
def _torch_session(seed, threads):
    """Seed torch inside a forked RNG state and set the thread count; restore both on exit."""
    torch = _torch()
    old_threads = torch.get_num_threads()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        torch.set_num_threads(threads)
        try:
            yield
        finally:
            torch.set_num_threads(old_threads)


def _make_vec_env(env_id, n_envs):
    import gymnasium as gym
    from gymnasium.vector import AutoresetMode, SyncVectorEnv

    return SyncVectorEnv([lambda: gym.make(env_id) for _ in range(n_envs)],
                         autoreset_mode=AutoresetMode.SAME_STEP)


def _check_common(config, kind):
    if not isinstance(config.env_id, str):
        raise TypeError(f"env_id must be a string, got {config.env_id!r}")
    for name in ("total_steps", "n_envs", "n_steps", "curve_window", "torch_threads"):
        check_int(getattr(config, name), name, minimum=1)
    check_int(config.seed, "seed", minimum=0)
    check_gamma(config.gamma)
    lam = config.lam
    if isinstance(lam, bool) or not isinstance(lam, (int, float)) or not 0 <= lam <= 1:
        raise ValueError(f"lam is {lam!r}, expected a number in [0, 1]")
    hs = config.hidden_sizes
    if not isinstance(hs, (tuple, list)) or any(isinstance(h, bool) or not isinstance(h, int) or h < 1 for h in hs):
        raise ValueError(f"hidden_sizes is {hs!r}, expected a tuple of positive integers")
    batch = config.n_envs * config.n_steps
    if config.total_steps < batch:
        raise ValueError(f"total_steps is {config.total_steps}, smaller than one rollout "
                         f"(n_envs * n_steps = {batch})")


def _check_ppo(config):
    if not isinstance(config, PPOConfig):
        raise TypeError(f"config must be a PPOConfig, got {type(config).__name__}")
    _check_common(config, "PPO")
    check_int(config.epochs, "epochs", minimum=1)
    check_int(config.minibatch_size, "minibatch_size", minimum=1)
    batch = config.n_envs * config.n_steps
    if batch % config.minibatch_size:
        raise ValueError(f"minibatch_size is {config.minibatch_size}, which does not divide the "
                         f"rollout size n_envs * n_steps = {batch}")
    check_positive(config.lr, "lr")
    check_positive(config.clip_eps, "clip_eps")
    check_positive(config.vf_coef, "vf_coef", allow_zero=True)
    check_positive(config.ent_coef, "ent_coef", allow_zero=True)
    check_positive(config.adam_eps, "adam_eps")
    for name in ("vf_clip", "max_grad_norm", "target_kl"):
        if getattr(config, name) is not None:
            check_positive(getattr(config, name), name)


def _check_trpo(config):
    if not isinstance(config, TRPOConfig):
        raise TypeError(f"config must be a TRPOConfig, got {type(config).__name__}")
    _check_common(config, "TRPO")
    check_positive(config.max_kl, "max_kl")
    check_int(config.cg_iters, "cg_iters", minimum=1)
    check_positive(config.damping, "damping", allow_zero=True)
    check_int(config.backtrack_iters, "backtrack_iters", minimum=1)
    check_positive(config.backtrack_coeff, "backtrack_coeff")
    if config.backtrack_coeff >= 1:
        raise ValueError(f"backtrack_coeff is {config.backtrack_coeff!r}, expected a number in (0, 1)")
    check_positive(config.vf_lr, "vf_lr")
    check_int(config.vf_epochs, "vf_epochs", minimum=1)
    check_int(config.vf_minibatch_size, "vf_minibatch_size", minimum=1)


class _Collector:
    """Runs the vector environment with the current policy and builds rollout batches.

    The per-step forward pass that picks actions runs in NumPy on views of the
    policy's weights (a handful of tiny matrix products, far cheaper than torch's
    per-call overhead at batch size ``n_envs``); log-probabilities, values and
    distribution parameters are then computed in torch in one batched pass over
    the whole rollout, so the losses see exactly torch's numbers.
    """

    def __init__(self, config):
        torch = _torch()
        self.envs = _make_vec_env(config.env_id, config.n_envs)
        sp = self.envs.single_observation_space
        ap = self.envs.single_action_space
        try:
            self.obs_dim, self.discrete, self.n_act = _space_info(config.env_id, sp, ap)
        except ValueError:
            self.envs.close()
            raise
        MLPPolicy, MLPValue = _modules()
        self.policy = MLPPolicy(self.obs_dim, self.n_act, tuple(config.hidden_sizes), self.discrete,
                                None if self.discrete else ap.low, None if self.discrete else ap.high)
        self.value_fn = MLPValue(self.obs_dim, tuple(config.hidden_sizes))
        self.gen = torch.Generator().manual_seed(config.seed)
        self.rng = np.random.default_rng(config.seed)
        obs, _ = self.envs.reset(seed=config.seed)
        self.obs = obs.reshape(config.n_envs, -1).astype(np.float32)
        self.n_envs, self.n_steps, self.gamma, self.lam = config.n_envs, config.n_steps, config.gamma, config.lam
        self.ep_ret = np.zeros(config.n_envs)
        self.ep_steps, self.ep_returns = [], []
        self.steps = 0
        spec = self.envs.envs[0].spec
        self.threshold = config.threshold if config.threshold is not None else (
            spec.reward_threshold if spec is not None else None)
        if not self.discrete:
            self.low, self.high = ap.low, ap.high

    def _np_layers(self):
        return [(m.weight.detach().numpy().T, m.bias.detach().numpy())
                for m in self.policy.net if hasattr(m, "weight")]

    def _np_action(self, layers, obs):
        h = obs
        for i, (W, b) in enumerate(layers):
            h = h @ W + b
            if i < len(layers) - 1:
                h = np.tanh(h)
        if self.discrete:
            z = np.exp(h - h.max(axis=1, keepdims=True))
            cdf = np.cumsum(z, axis=1)
            u = self.rng.random(len(h)) * cdf[:, -1]
            return np.minimum((cdf <= u[:, None]).sum(axis=1), self.n_act - 1)
        std = np.exp(self.policy.log_std.detach().numpy())
        return (h + std * self.rng.standard_normal(h.shape)).astype(np.float32)

    def collect(self):
        """One rollout; returns flat tensors obs, act, logp, params, values, advantages, returns."""
        torch = _torch()
        T, N = self.n_steps, self.n_envs
        b_obs = np.zeros((T, N, self.obs_dim), dtype=np.float32)
        b_act = np.zeros((T, N) if self.discrete else (T, N, self.n_act), dtype=np.int64 if self.discrete else np.float32)
        rew = np.zeros((T, N))
        term = np.zeros((T, N))
        trunc = np.zeros((T, N))
        final = []  # (t, env, final observation) of time-limit truncations
        layers = self._np_layers()
        for t in range(T):
            b_obs[t] = self.obs
            a = self._np_action(layers, self.obs)
            b_act[t] = a
            env_a = a if self.discrete else np.clip(a, self.low, self.high)
            o, r, te, tr, info = self.envs.step(env_a)
            rew[t], term[t], trunc[t] = r, te, tr
            self.obs = o.reshape(N, -1).astype(np.float32)
            self.ep_ret += r
            self.steps += N
            done = te | tr
            if done.any():
                for i in np.flatnonzero(done):
                    self.ep_steps.append(self.steps)
                    self.ep_returns.append(self.ep_ret[i])
                    self.ep_ret[i] = 0.0
                    if tr[i] and not te[i]:
                        final.append((t, i, np.asarray(info["final_obs"][i], dtype=np.float32).reshape(-1)))
        obs = torch.from_numpy(b_obs.reshape(T * N, self.obs_dim))
        act = torch.from_numpy(b_act.reshape(T * N, *b_act.shape[2:]))
        extra = np.concatenate([self.obs] + [f[2][None] for f in final], axis=0)
        with torch.no_grad():
            params = self.policy(obs)
            logp = self.policy.log_prob(params, act)
            v_all = self.value_fn(torch.cat([obs, torch.from_numpy(extra)]))
        vals = v_all[:T * N].numpy().astype(np.float64).reshape(T, N)
        last_v = v_all[T * N:T * N + N].numpy().astype(np.float64)
        # V(s_{t+1}): the next row's value; after a truncation V(final obs); after a termination unused
        next_val = np.concatenate([vals[1:], last_v[None]], axis=0)
        next_val[(term + trunc) > 0] = 0.0
        for k, (t, i, _) in enumerate(final):
            next_val[t, i] = float(v_all[T * N + N + k])
        adv = gae(rew, vals, next_val, term, self.gamma, self.lam, truncations=np.minimum(trunc, 1 - term))
        ret = adv + vals
        v_t = v_all[:T * N]
        return (obs, act, logp, params, v_t,
                torch.as_tensor(adv.reshape(-1), dtype=torch.float32),
                torch.as_tensor(ret.reshape(-1), dtype=torch.float32))

    def recent_mean(self, window):
        return float(np.mean(self.ep_returns[-window:])) if self.ep_returns else float("nan")

    def close(self):
        self.envs.close()


def _finish(col, config, curve_steps, curve_returns, wall, diagnostics):
    steps = np.asarray(curve_steps, dtype=np.int64)
    rets = np.asarray(curve_returns, dtype=float)
    hit = None
    if col.threshold is not None:
        ok = np.flatnonzero(rets >= col.threshold)
        hit = int(steps[ok[0]]) if len(ok) else None
    col.policy.eval()
    col.value_fn.eval()
    return TrainResult(policy=col.policy, value_fn=col.value_fn, curve=LearningCurve(steps, rets),
                       wall_time=wall, steps_to_threshold=hit,
                       episode_steps=np.asarray(col.ep_steps, dtype=np.int64),
                       episode_returns=np.asarray(col.ep_returns, dtype=float), total_steps=col.steps,
                       diagnostics={k: np.asarray(v) for k, v in diagnostics.items()}, config=config)


# --------------------------------------------------------------------- PPO
def train_ppo(config: PPOConfig | None = None, progress: bool = False) -> TrainResult:
    r"""Train PPO with the clipped surrogate (Schulman et al. 2017) on ``config.env_id``.

    Each update collects ``n_envs * n_steps`` transitions, computes GAE
    advantages and lambda-returns, then runs ``epochs`` passes of minibatch
    Adam on :func:`rlbook.ppo_losses`

    .. math:: -L^{CLIP}(\theta) + c_1\, \mathrm{mean}(V_\phi(s_t) - \hat R_t)^2 - c_2\, \mathrm{mean}\, H(\pi_\theta(\cdot|s_t)),

    with the learning rate and the clip range decayed linearly (``anneal_lr``,
    ``anneal_clip``) and the gradient norm clipped to ``max_grad_norm``.

    Parameters
    ----------
    config : PPOConfig, optional
        Defaults to ``PPOConfig()``: the rl-zoo CartPole-v1 settings with 10 epochs instead of
        the zoo's 20 (:meth:`PPOConfig.rl_zoo_cartpole` has them exactly).
    progress : bool
        Show a progress bar over environment steps.

    Returns
    -------
    TrainResult
    """
    config = PPOConfig() if config is None else config
    _check_ppo(config)
    torch = _torch()
    start = time.perf_counter()
    with _torch_session(config.seed, config.torch_threads):
        col = _Collector(config)
        policy, value_fn = col.policy, col.value_fn
        params = list(policy.parameters()) + list(value_fn.parameters())
        try:
            opt = torch.optim.Adam(params, lr=config.lr, eps=config.adam_eps, fused=True)
        except (RuntimeError, TypeError):  # pragma: no cover - builds without fused CPU Adam
            opt = torch.optim.Adam(params, lr=config.lr, eps=config.adam_eps)
        batch = config.n_envs * config.n_steps
        n_updates = config.total_steps // batch
        mbs = config.minibatch_size
        n_mb = batch // mbs
        curve_steps, curve_returns = [], []
        diag = {k: [] for k in ("approx_kl", "clip_fraction", "entropy", "value_loss", "lr", "clip_eps", "epochs")}
        bar = progress_bar(n_updates * batch, progress, desc="PPO", unit="step")
        no_entropy = torch.zeros(mbs)
        try:
            for u in range(n_updates):
                frac = 1.0 - u / n_updates
                lr = config.lr * frac if config.anneal_lr else config.lr
                eps = config.clip_eps * frac if config.anneal_clip else config.clip_eps
                for g in opt.param_groups:
                    g["lr"] = lr
                obs, act, old_logp, _, old_val, adv, ret = col.collect()
                # standardise only minibatches of >= 2 samples (the std of one sample is nan)
                norm_once = config.normalize_advantages and n_mb == 1 and mbs > 1
                if norm_once:
                    adv = (adv - adv.mean()) / (adv.std() + 1e-8)
                kls, cfs, vls = [], [], []
                epochs_done = 0
                for epoch in range(config.epochs):
                    last_epoch = epoch == config.epochs - 1
                    want_diag = last_epoch or config.target_kl is not None
                    perm = torch.randperm(batch, generator=col.gen) if n_mb > 1 else None
                    stop = False
                    for m in range(n_mb):
                        if perm is None:
                            o_mb, a_mb, lp_mb, r_mb, ov_mb, ad_mb = obs, act, old_logp, ret, old_val, adv
                        else:
                            idx = perm[m * mbs:(m + 1) * mbs]
                            o_mb, a_mb, lp_mb, r_mb, ov_mb, ad_mb = (obs[idx], act[idx], old_logp[idx], ret[idx],
                                                                     old_val[idx], adv[idx])
                            if config.normalize_advantages and mbs > 1:
                                ad_mb = (ad_mb - ad_mb.mean()) / (ad_mb.std() + 1e-8)
                        p = policy(o_mb)
                        ent = policy.entropy(p) if config.ent_coef > 0 else no_entropy
                        out = ppo_losses(policy.log_prob(p, a_mb), lp_mb, ad_mb, value_fn(o_mb), r_mb, ent, eps,
                                         vf_coef=config.vf_coef, ent_coef=config.ent_coef, old_values=ov_mb,
                                         vf_clip=config.vf_clip, diagnostics=want_diag)
                        opt.zero_grad(set_to_none=True)
                        out.total.backward()
                        if config.max_grad_norm is not None:
                            torch.nn.utils.clip_grad_norm_(params, config.max_grad_norm, foreach=True)
                        opt.step()
                        if want_diag:
                            kls.append(float(out.approx_kl))
                            cfs.append(float(out.clip_fraction))
                            vls.append(float(out.value_loss.detach()))
                            if config.target_kl is not None and kls[-1] > config.target_kl:
                                stop = True
                                break
                    epochs_done += 1
                    if stop:
                        break
                with torch.no_grad():
                    ent_mean = float(policy.entropy(policy(obs)).mean())
                diag["approx_kl"].append(float(np.mean(kls)))
                diag["clip_fraction"].append(float(np.mean(cfs)))
                diag["entropy"].append(ent_mean)
                diag["value_loss"].append(float(np.mean(vls)))
                diag["lr"].append(lr)
                diag["clip_eps"].append(eps)
                diag["epochs"].append(epochs_done)
                curve_steps.append(col.steps)
                curve_returns.append(col.recent_mean(config.curve_window))
                bar.update(batch)
                bar.set_postfix(ret=f"{curve_returns[-1]:.1f}", refresh=False)
        finally:
            bar.close()
            col.close()
        wall = time.perf_counter() - start
        return _finish(col, config, curve_steps, curve_returns, wall, diag)


# -------------------------------------------------------------------- TRPO
def train_trpo(config: TRPOConfig | None = None, progress: bool = False) -> TrainResult:
    r"""Train TRPO (Schulman et al. 2015) on ``config.env_id``.

    Each update collects a rollout, computes GAE advantages, and takes one
    :func:`rlbook.trpo_step` on the flat policy parameters: the surrogate
    ``L(theta) = mean(pi_theta(a|s) / pi_old(a|s) * A)``, its gradient ``g``,
    ``d = F^{-1} g`` by ``cg_iters`` conjugate-gradient steps on
    :func:`rlbook.fisher_vector_product` of the mean KL (with ``damping``), the
    step ``sqrt(2 delta / d^T F d) d`` and a backtracking line search enforcing
    ``mean KL <= max_kl``.  The value network then regresses the
    lambda-returns for ``vf_epochs`` epochs of Adam.
    """
    config = TRPOConfig() if config is None else config
    _check_trpo(config)
    torch = _torch()
    from torch.nn.utils import parameters_to_vector, vector_to_parameters

    start = time.perf_counter()
    with _torch_session(config.seed, config.torch_threads):
        col = _Collector(config)
        policy, value_fn = col.policy, col.value_fn
        pparams = list(policy.parameters())
        vopt = torch.optim.Adam(value_fn.parameters(), lr=config.vf_lr)
        batch = config.n_envs * config.n_steps
        n_updates = config.total_steps // batch
        curve_steps, curve_returns = [], []
        diag = {k: [] for k in ("kl", "step_fraction", "accepted", "expected_improvement",
                                "actual_improvement", "value_loss", "entropy")}
        bar = progress_bar(n_updates * batch, progress, desc="TRPO", unit="step")
        try:
            for _ in range(n_updates):
                obs, act, old_logp, old_params, _, adv, ret = col.collect()
                if config.normalize_advantages and adv.numel() > 1:
                    adv = (adv - adv.mean()) / (adv.std() + 1e-8)

                def surrogate_t():
                    return ((policy.log_prob(policy(obs), act) - old_logp).exp() * adv).mean()

                def surrogate_fn(x):
                    vector_to_parameters(x, pparams)
                    with torch.no_grad():
                        return float(surrogate_t())

                def kl_fn(x):
                    vector_to_parameters(x, pparams)
                    with torch.no_grad():
                        return float(policy.kl(old_params, policy(obs)).mean())

                x0 = parameters_to_vector(pparams).detach().clone()
                grad = parameters_to_vector(torch.autograd.grad(surrogate_t(), pparams)).detach()

                def fvp(v):
                    vector_to_parameters(x0, pparams)
                    return fisher_vector_product(lambda: policy.kl(old_params, policy(obs)).mean(),
                                                 pparams, v, damping=config.damping)

                res = trpo_step(x0, grad, fvp, surrogate_fn, kl_fn, config.max_kl, cg_iters=config.cg_iters,
                                backtrack_iters=config.backtrack_iters, backtrack_coeff=config.backtrack_coeff)
                vector_to_parameters(res.x, pparams)
                # value regression on the lambda-returns
                vl = []
                mb = min(config.vf_minibatch_size, batch)
                for _ in range(config.vf_epochs):
                    perm = torch.randperm(batch, generator=col.gen)
                    for m in range(0, batch - mb + 1, mb):
                        idx = perm[m:m + mb]
                        loss = ((value_fn(obs[idx]) - ret[idx]) ** 2).mean()
                        vopt.zero_grad(set_to_none=True)
                        loss.backward()
                        vopt.step()
                        vl.append(loss.detach())
                with torch.no_grad():
                    ent = float(policy.entropy(policy(obs)).mean())
                diag["kl"].append(res.kl)
                diag["step_fraction"].append(res.step_fraction)
                diag["accepted"].append(res.accepted)
                diag["expected_improvement"].append(res.expected_improvement)
                diag["actual_improvement"].append(res.actual_improvement)
                diag["value_loss"].append(float(torch.stack(vl).mean()))
                diag["entropy"].append(ent)
                curve_steps.append(col.steps)
                curve_returns.append(col.recent_mean(config.curve_window))
                bar.update(batch)
                bar.set_postfix(ret=f"{curve_returns[-1]:.1f}", refresh=False)
        finally:
            bar.close()
            col.close()
        wall = time.perf_counter() - start
        return _finish(col, config, curve_steps, curve_returns, wall, diag)


# -------------------------------------------------------------- evaluation
def evaluate_policy_gym(policy, env_id: str, n_episodes: int, seed: int, deterministic: bool = True,
                        max_steps: int = 100_000) -> np.ndarray:
    """Undiscounted returns of ``n_episodes`` complete episodes of ``policy``.

    The episodes run in parallel, one per sub-environment of a vector
    environment seeded with ``seed, seed + 1, ...``, each counted exactly once
    (taking the first ``n`` episodes to finish from fewer environments would
    over-represent short episodes).

    Parameters
    ----------
    policy : MLPPolicy or callable
        A trained :class:`MLPPolicy` (``policy.act(obs, deterministic)``), or any
        callable mapping a NumPy batch of observations to a batch of actions.
    env_id : str
    n_episodes : int
    seed : int
    deterministic : bool
        Greedy (mode) actions; otherwise actions are sampled with a torch
        generator seeded by ``seed``.
    max_steps : int
        Safety cap on the number of vector steps.

    Returns
    -------
    ndarray (n_episodes,)
    """
    n_episodes = check_int(n_episodes, "n_episodes", minimum=1)
    seed = check_int(seed, "seed", minimum=0)
    if hasattr(policy, "act"):
        torch = _torch()
        gen = torch.Generator().manual_seed(seed)
        act = lambda o: policy.act(o, deterministic=deterministic, generator=gen)  # noqa: E731
    elif callable(policy):
        act = policy
    else:
        raise TypeError(f"policy must be an MLPPolicy or a callable, got {type(policy).__name__}")
    torch_threads = None
    if hasattr(policy, "act"):
        torch_threads = _torch().get_num_threads()
        _torch().set_num_threads(1)  # tiny forward passes: one thread avoids OpenMP overhead
    try:
        envs = _make_vec_env(env_id, n_episodes)
    except BaseException:
        if torch_threads is not None:
            _torch().set_num_threads(torch_threads)
        raise
    try:
        _space_info(env_id, envs.single_observation_space, envs.single_action_space)
        obs, _ = envs.reset(seed=seed)
        returns = np.zeros(n_episodes)
        running = np.ones(n_episodes, dtype=bool)
        for _ in range(max_steps):
            obs, r, te, tr, _ = envs.step(np.asarray(act(obs.reshape(n_episodes, -1))))
            returns += np.where(running, r, 0.0)
            running &= ~(te | tr)
            if not running.any():
                break
        else:
            raise RuntimeError(f"evaluation did not finish within max_steps={max_steps} steps")
    finally:
        envs.close()
        if torch_threads is not None:
            _torch().set_num_threads(torch_threads)
    return returns
