"""Synchronous advantage actor-critic, A2C (chapter C10 *Actor-critic methods*).

Read next to the chapter's algorithm box: ``N`` copies of the environment run in
lockstep; every update collects ``n_steps`` steps from each, computes
``n``-step (or GAE) advantages with the critic, and takes one gradient step on

    L = -mean(A_t ln pi(a_t|s_t)) + c_v mean((V(s_t) - R_t)^2) - c_e mean(H(pi(.|s_t))).

The vector environment uses Gymnasium's next-step autoreset: the step after an
episode ends only resets that copy (reward 0, its action ignored), so such
"reset steps" are masked out of the loss. The observation returned with a
*truncated* step is the real last state, from which the return bootstraps;
a *terminated* step bootstraps nothing. Where the environment registers a
vectorised implementation (CartPole-v1 does), ``gymnasium.make_vec`` with
``vectorization_mode="vector_entry_point"`` runs all copies in one NumPy call.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch

from .._progress import progress_bar
from .._validate import check_positive
from ..trust_region.ppo import gae
from ._nets import MLPPolicy, MLPValue, _space_info
from ._rollout import TrainResult, _check_common, _make_result, _torch_session

__all__ = ["A2CConfig", "train_a2c"]


@dataclass
class A2CConfig:
    """Settings of :func:`train_a2c`; the defaults are the book's CartPole-v1 preset.

    The preset is the rl-baselines3-zoo's tuned A2C for CartPole-v1
    (:meth:`rl_zoo_cartpole`: rollouts of 5 steps, n-step returns (``lam = 1``),
    RMSprop at a constant 7e-4, raw advantages, ``c_v = 0.5``, ``c_e = 0``,
    gradient norm clipped at 0.5) with 16 environment copies instead of 8 and
    300k steps instead of 500k: the NumPy-vectorised CartPole steps 16 copies for
    about the price of one, so the batch doubles and the number of updates per
    environment step halves. Measured: the final policy of seeds 0-4 scores 500
    on every deterministic evaluation episode (``benchmarks/a2c_cartpole.py``).
    """

    env_id: str = "CartPole-v1"
    """Gymnasium environment id (Box observations; Discrete or 1-D Box actions)."""
    total_steps: int = 300_000
    """Budget of environment steps summed over the copies (reset steps included);
    ``total_steps // (n_envs * n_steps)`` updates are run."""
    n_envs: int = 16
    """Number of environment copies stepped in lockstep."""
    n_steps: int = 5
    """Steps per copy per update: a batch holds ``n_envs * n_steps`` transitions."""
    gamma: float = 0.99
    """Discount factor."""
    lam: float = 1.0
    """GAE parameter; 1 (the default) gives the n-step return advantage of the original A2C."""
    lr: float = 7e-4
    """Learning rate (initial value if ``anneal_lr``)."""
    anneal_lr: bool = False
    """Decay the learning rate linearly to 0 over the updates."""
    optimizer: str = "rmsprop"
    """``"rmsprop"`` (alpha 0.99, as in A3C and Stable-Baselines3's A2C) or ``"adam"``."""
    optim_eps: float = 1e-5
    """Epsilon of the optimizer."""
    vf_coef: float = 0.5
    """Weight ``c_v`` of the value loss."""
    ent_coef: float = 0.0
    """Weight ``c_e`` of the entropy bonus."""
    max_grad_norm: float | None = 0.5
    """Clip the global gradient norm to this value (None: no clipping)."""
    normalize_advantages: bool = False
    """Standardise the advantages of each batch."""
    hidden_sizes: tuple = (64, 64)
    """Hidden layer widths of the policy and of the (separate) value network."""
    vectorization: str = "auto"
    """``"auto"`` (the environment's own vectorised implementation when it has one,
    else ``"sync"``), ``"vector_entry_point"`` or ``"sync"``."""
    seed: int = 0
    """Seed of the networks, of the action sampling and of the environments."""
    threshold: float | None = None
    """Return defining ``steps_to_threshold``; None: the environment's ``reward_threshold``."""
    curve_window: int = 20
    """The learning curve averages this many most recently finished episodes."""
    torch_threads: int = 1
    """``torch.set_num_threads`` during training (restored afterwards)."""

    @classmethod
    def rl_zoo_cartpole(cls, **overrides) -> "A2CConfig":
        """The rl-baselines3-zoo CartPole-v1 A2C settings: the book's preset with 8
        copies and 500k steps (5 steps per copy, RMSprop 7e-4 without annealing,
        ``lam = 1``, raw advantages, gamma 0.99, ``c_e = 0``, gradient clip 0.5)."""
        return cls(**{"total_steps": 500_000, "n_envs": 8, "n_steps": 5, "lr": 7e-4, "lam": 1.0,
                      "anneal_lr": False, "optimizer": "rmsprop", "normalize_advantages": False,
                      **overrides})


def _check_a2c(config):
    if not isinstance(config, A2CConfig):
        raise TypeError(f"config must be an A2CConfig, got {type(config).__name__}")
    _check_common(config, "A2C")  # env, budget, seed, gamma, lam, widths, one batch
    check_positive(config.lr, "lr")
    check_positive(config.optim_eps, "optim_eps")
    check_positive(config.vf_coef, "vf_coef", allow_zero=True)
    check_positive(config.ent_coef, "ent_coef", allow_zero=True)
    if config.max_grad_norm is not None:
        check_positive(config.max_grad_norm, "max_grad_norm")
    if config.optimizer not in ("adam", "rmsprop"):
        raise ValueError(f"optimizer is {config.optimizer!r}, expected 'adam' or 'rmsprop'")
    if config.vectorization not in ("auto", "vector_entry_point", "sync"):
        raise ValueError(f"vectorization is {config.vectorization!r}, expected 'auto', "
                         "'vector_entry_point' or 'sync'")


class _NumpyActor:
    """The policy's forward pass and sampling in NumPy, for the rollout.

    The weights are NumPy *views* of the torch parameters (same memory), so every
    optimizer step (in place) is seen at once. For the few observations of one
    vector step, NumPy's small matrix products cost several times less than
    torch's per-operation dispatch; the loss is still computed by torch.
    Sampling uses its own seeded ``numpy.random.Generator``: inverse-CDF draws
    for the categorical policy, ``mean + exp(log_std) * noise`` for the Gaussian.
    """

    def __init__(self, policy, seed):
        mods = list(policy.net)
        lin = [m for m in mods if isinstance(m, torch.nn.Linear)]
        tanh = all(isinstance(m, torch.nn.Tanh) for m in mods[1::2])
        if len(mods) != 2 * len(lin) - 1 or not tanh:
            raise TypeError("_NumpyActor expects Linear layers separated by Tanh")
        self.layers = [(m.weight.detach().numpy().T, m.bias.detach().numpy()) for m in lin]
        self.discrete = policy.discrete
        if not self.discrete:
            self.log_std = policy.log_std.detach().numpy()
            self.low, self.high = policy.low.numpy(), policy.high.numpy()
        self.rng = np.random.default_rng(seed)

    def sample(self, obs):
        """Observations ``(N, obs_dim)`` -> (actions to store, actions for the environment)."""
        h = obs
        for w, b in self.layers[:-1]:
            h = np.tanh(h @ w + b)
        w, b = self.layers[-1]
        out = h @ w + b
        if self.discrete:
            p = np.exp(out - out.max(axis=1, keepdims=True))
            cdf = np.cumsum(p, axis=1)
            u = self.rng.random(len(obs)) * cdf[:, -1]
            a = np.minimum((cdf < u[:, None]).sum(axis=1), out.shape[1] - 1)
            return a, a
        a = (out + np.exp(self.log_std) * self.rng.standard_normal(out.shape)).astype(np.float32)
        return a, np.clip(a, self.low, self.high)


def _make_envs(config):
    import gymnasium as gym

    mode = config.vectorization
    spec = gym.spec(config.env_id)
    if mode == "auto":
        mode = "vector_entry_point" if getattr(spec, "vector_entry_point", None) else "sync"
    if mode == "vector_entry_point":
        return gym.make_vec(config.env_id, num_envs=config.n_envs, vectorization_mode="vector_entry_point")
    return gym.make_vec(config.env_id, num_envs=config.n_envs, vectorization_mode="sync")


def train_a2c(config: A2CConfig | None = None, progress: bool = False) -> TrainResult:
    r"""Train synchronous advantage actor-critic (A2C; Mnih et al. 2016, synchronous form).

    Per update: collect ``n_steps`` steps from each of ``n_envs`` copies with the
    current policy; compute the advantages ``A_t`` with :func:`rlbook.gae`
    (``lam = 1``: ``A_t = sum_{j<n} gamma^j r_{t+j} + gamma^n V(s_{t+n}) - V(s_t)``,
    cut at episode ends) and the targets ``R_t = A_t + V(s_t)``; take one step of
    the optimizer on

    .. math:: -\frac1B\sum_t A_t \ln\pi_\theta(a_t|s_t) + c_v \frac1B\sum_t (V_w(s_t) - R_t)^2
              - c_e \frac1B\sum_t H(\pi_\theta(\cdot|s_t))

    over the ``B`` valid (non-reset) transitions.

    Parameters
    ----------
    config : A2CConfig, optional
        Defaults to ``A2CConfig()``, the book's CartPole-v1 preset.
    progress : bool
        Show a progress bar over environment steps.

    Returns
    -------
    TrainResult
        ``diagnostics`` holds per-update ``entropy``, ``value_loss`` and ``lr``.
    """
    config = A2CConfig() if config is None else config
    _check_a2c(config)
    start = time.perf_counter()
    with _torch_session(config.seed, config.torch_threads):
        envs = _make_envs(config)
        try:
            obs_dim, discrete, n_act = _space_info(config.env_id, envs.single_observation_space,
                                                   envs.single_action_space)
        except ValueError:
            envs.close()
            raise
        ap = envs.single_action_space
        policy = MLPPolicy(obs_dim, n_act, tuple(config.hidden_sizes), discrete,
                           None if discrete else ap.low, None if discrete else ap.high)
        value_fn = MLPValue(obs_dim, tuple(config.hidden_sizes))
        params = list(policy.parameters()) + list(value_fn.parameters())
        if config.optimizer == "adam":
            opt = torch.optim.Adam(params, lr=config.lr, eps=config.optim_eps, foreach=True)
        else:  # foreach: one multi-tensor kernel per operation instead of one per parameter
            opt = torch.optim.RMSprop(params, lr=config.lr, alpha=0.99, eps=config.optim_eps,
                                      foreach=True)
        actor = _NumpyActor(policy, config.seed)
        N, T = config.n_envs, config.n_steps
        batch = N * T
        n_updates = config.total_steps // batch
        obs, _ = envs.reset(seed=config.seed)
        obs = np.asarray(obs, dtype=np.float32).reshape(N, obs_dim)
        prev_done = np.zeros(N, dtype=bool)
        ep_ret = np.zeros(N)
        ep_steps, ep_returns = [], []
        steps = 0
        spec = getattr(envs, "spec", None)
        threshold = config.threshold if config.threshold is not None else (
            getattr(spec, "reward_threshold", None) if spec is not None else None)
        b_obs = np.zeros((T + 1, N, obs_dim), dtype=np.float32)
        b_act = np.zeros((T, N) if discrete else (T, N, n_act),
                         dtype=np.int64 if discrete else np.float32)
        rew = np.zeros((T, N))
        term = np.zeros((T, N))
        trunc = np.zeros((T, N))
        valid = np.zeros((T, N), dtype=bool)
        curve_steps, curve_returns = [], []
        diag = {"entropy": [], "value_loss": [], "lr": []}
        bar = progress_bar(n_updates * batch, progress, desc="A2C", unit="step")
        try:
            for upd in range(n_updates):
                lr = config.lr * (1.0 - upd / n_updates) if config.anneal_lr else config.lr
                for g in opt.param_groups:
                    g["lr"] = lr
                # 1. collect n_steps from every copy with the current policy
                for t in range(T):
                    b_obs[t] = obs
                    valid[t] = ~prev_done            # a reset step carries no transition
                    a, a_env = actor.sample(obs)
                    b_act[t] = a
                    o, r, te, tr, _ = envs.step(a_env)
                    rew[t], term[t], trunc[t] = r, te, tr
                    obs = np.asarray(o, dtype=np.float32).reshape(N, obs_dim)
                    ep_ret += r
                    steps += N
                    done = np.asarray(te) | np.asarray(tr)
                    for i in np.flatnonzero(done):
                        ep_steps.append(steps)
                        ep_returns.append(float(ep_ret[i]))
                        ep_ret[i] = 0.0
                    prev_done = done
                b_obs[T] = obs
                # 2. advantages and targets: bootstrap from V(s_{t+1}) (the real last state
                #    after a truncation), nothing after a termination
                o_all = torch.from_numpy(b_obs.reshape((T + 1) * N, obs_dim))
                v_all = value_fn(o_all)
                v_np = v_all.detach().numpy().astype(np.float64).reshape(T + 1, N)
                adv = gae(rew, v_np[:T], v_np[1:], term, config.gamma, config.lam,
                          truncations=np.minimum(trunc, 1 - term))
                ret = adv + v_np[:T]
                # 3. one gradient step on the masked A2C loss
                obs_t, v_t = o_all[:T * N], v_all[:T * N]
                act_t = torch.from_numpy(b_act.reshape(T * N, *b_act.shape[2:]))
                adv_t = torch.as_tensor(adv.reshape(-1), dtype=torch.float32)
                ret_t = torch.as_tensor(ret.reshape(-1), dtype=torch.float32)
                if not valid.all():                  # drop the reset steps
                    m = torch.from_numpy(valid.reshape(-1))
                    obs_t, v_t, act_t, adv_t, ret_t = (x[m] for x in (obs_t, v_t, act_t, adv_t,
                                                                        ret_t))
                if config.normalize_advantages and len(adv_t) > 1:
                    adv_t = (adv_t - adv_t.mean()) / (adv_t.std() + 1e-8)
                p = policy(obs_t)
                logp = policy.log_prob(p, act_t)
                v_loss = ((v_t - ret_t) ** 2).mean()
                loss = -(adv_t * logp).mean() + config.vf_coef * v_loss
                if config.ent_coef > 0:
                    ent = policy.entropy(p).mean()
                    loss = loss - config.ent_coef * ent
                else:                                # diagnostic only: keep it off the graph
                    with torch.no_grad():
                        ent = policy.entropy(p).mean()
                opt.zero_grad(set_to_none=True)
                loss.backward()
                if config.max_grad_norm is not None:
                    torch.nn.utils.clip_grad_norm_(params, config.max_grad_norm, foreach=True)
                opt.step()
                diag["entropy"].append(float(ent.detach()))
                diag["value_loss"].append(float(v_loss.detach()))
                diag["lr"].append(lr)
                curve_steps.append(steps)
                curve_returns.append(float(np.mean(ep_returns[-config.curve_window:]))
                                     if ep_returns else float("nan"))
                bar.update(batch)
                bar.set_postfix(ret=f"{curve_returns[-1]:.1f}", refresh=False)
        finally:
            bar.close()
            envs.close()
        return _make_result(config, threshold, policy, value_fn, curve_steps, curve_returns,
                            start, ep_steps, ep_returns, steps, diag)
