"""The rollout machinery of the policy-optimisation agents (chapter *TRPO and PPO*).

The agents share one rollout collector over a vector environment (Gymnasium's
NumPy-vectorised CartPole where there is one, else a ``gymnasium.vector.SyncVectorEnv``)
and small MLPs (a policy network and a separate value network, ``tanh``
hidden layers, orthogonal initialisation as in Stable-Baselines3 / cleanrl).

* :func:`train_ppo` -- PPO with the clipped surrogate (Schulman et al. 2017),
  GAE (:func:`rlbook.gae`), minibatch Adam epochs, linear annealing of the
  learning rate and of the clip range;
* :func:`train_trpo` -- TRPO (Schulman et al. 2015): conjugate gradients on
  Fisher-vector products and a backtracking line search
  (:func:`rlbook.trpo_step`), with a value network fitted by Adam;
* :func:`evaluate_policy_gym` -- returns of complete evaluation episodes.

**Time limits.**  The vector environment resets in the same step
(``autoreset_mode=SAME_STEP``): when an episode ends, ``step`` already returns the
first observation of the next episode and the final observation is in
``info["final_obs"]``.  (Gymnasium's vectorised CartPole resets in the *next*
step; :class:`_SameStepCartPole` resets it in the same step, with the same random
draw.)  A *terminated* step (the pole fell) has no future:
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
import torch

from .._progress import progress_bar
from .._validate import check_gamma, check_int
from ..trust_region.ppo import gae
from ._nets import MLPPolicy, MLPValue, _space_info

__all__ = ["LearningCurve", "TrainResult", "evaluate_policy_gym"]


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
    """Outcome of :func:`train_ppo` / :func:`train_trpo` / :func:`train_a2c`."""

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


@dataclass
class _RolloutConfig:
    """Settings shared by :class:`PPOConfig`, :class:`TRPOConfig` and :class:`A2CConfig`
    (the rollout)."""

    env_id: str = "CartPole-v1"
    """Gymnasium environment id (discrete or 1-D Box actions, Box observations)."""
    total_steps: int = 100_000
    """Budget of environment steps (summed over the parallel environments);
    ``total_steps // (n_envs * n_steps)`` updates are run, so it is never exceeded."""
    n_envs: int = 8
    """Number of parallel environments."""
    n_steps: int = 32
    """Steps per environment per rollout; a rollout holds ``n_envs * n_steps``
    transitions."""
    gamma: float = 0.99
    """Discount factor."""
    lam: float = 0.95
    """GAE parameter lambda."""
    hidden_sizes: tuple = (64, 64)
    """Hidden layer widths of the policy and of the value network (separate networks)."""
    seed: int = 0
    """Seed of the networks' initialisation, of the action sampling (a torch
    generator) and of the environments."""
    threshold: float | None = None
    """Return defining ``steps_to_threshold``; None: the environment's
    ``reward_threshold`` (475 for CartPole-v1)."""
    curve_window: int = 20
    """The learning curve averages the returns of this many most recently finished
    episodes."""
    torch_threads: int = 1
    """``torch.set_num_threads`` during training (restored afterwards); 1 is fastest
    for these small networks."""
    vectorization: str = "auto"
    """How the ``n_envs`` copies are run: ``"vector_entry_point"``, Gymnasium's
    NumPy-vectorised environment (all copies stepped in one array; CartPole only);
    ``"sync"``, a ``SyncVectorEnv`` stepping one Python environment per copy;
    ``"auto"``, the first where the environment has one (the dynamics are the same;
    the episodes' random start states differ)."""


# ------------------------------------------------------------------ helpers
@contextmanager
def _torch_session(seed, threads):
    """Seed torch inside a forked RNG state and set the thread count; restore both on exit."""
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


class _SameStepCartPole:
    """Gymnasium's NumPy-vectorised CartPole (``CartPoleVectorEnv``) with same-step
    autoreset.

    ``CartPoleVectorEnv`` resets a finished copy at the *next* call of ``step``
    (whose action it ignores, returning reward 0). Here the reset happens at once:
    the copies that finished get their new start state from the same draw the
    environment would make (``np_random.uniform(low, high, (4, k))``), ``step``
    returns it, and the final observation goes to ``info["final_obs"]`` as with
    ``SyncVectorEnv(autoreset_mode=SAME_STEP)``.
    """

    def __init__(self, env):
        self.env = env
        self.num_envs = env.num_envs
        self.single_observation_space = env.single_observation_space
        self.single_action_space = env.single_action_space

    def reset(self, seed=None):
        return self.env.reset(seed=seed)

    def step(self, actions):
        obs, reward, term, trunc, _ = self.env.step(actions)
        done = term | trunc
        info = {}
        if done.any():
            e = self.env
            final = np.empty(self.num_envs, dtype=object)
            for i in np.flatnonzero(done):
                final[i] = obs[i].copy()
            e.state[:, done] = e.np_random.uniform(low=e.low, high=e.high,
                                                   size=(4, int(done.sum())))
            e.steps[done] = 0
            e.prev_done[:] = False
            obs[done] = e.state[:, done].T
            info = {"final_obs": final, "_final_obs": done}
        return obs, reward, term, trunc, info

    def close(self):
        self.env.close()


def _make_rollout_env(env_id, n_envs, vectorization="auto"):
    """The rollout's vector environment, resetting finished copies in the same step:
    Gymnasium's NumPy-vectorised environment where it has one we can reset that way
    (CartPole), else :func:`_make_vec_env`."""
    import gymnasium as gym
    from gymnasium.envs.classic_control.cartpole import CartPoleVectorEnv

    if vectorization != "sync":
        entry = getattr(gym.spec(env_id), "vector_entry_point", None)
        if entry is not None:
            env = gym.make_vec(env_id, num_envs=n_envs,
                               vectorization_mode="vector_entry_point")
            if type(env) is CartPoleVectorEnv:
                return _SameStepCartPole(env)
            env.close()
        if vectorization == "vector_entry_point":
            raise ValueError(f"vectorization is 'vector_entry_point', but {env_id} has no "
                             "NumPy-vectorised environment with same-step reset (CartPole "
                             "has); use 'auto' or 'sync'")
    return _make_vec_env(env_id, n_envs)


def _check_common(config, kind):
    if not isinstance(config.env_id, str):
        raise TypeError(f"env_id must be a string, got {config.env_id!r}")
    for name in ("total_steps", "n_envs", "n_steps", "curve_window", "torch_threads"):
        check_int(getattr(config, name), name, minimum=1)
    check_int(config.seed, "seed", minimum=0)
    mode = getattr(config, "vectorization", "auto")
    if mode not in ("auto", "vector_entry_point", "sync"):
        raise ValueError(f"vectorization is {mode!r}, expected 'auto', "
                         "'vector_entry_point' or 'sync'")
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


class _Collector:
    """Runs the vector environment with the current policy and builds rollout batches.

    Actions are sampled by the torch policy (``policy.sample``, in inference mode)
    with noise drawn once per rollout from the collector's torch generator
    (:meth:`MLPPolicy.noise`); log-probabilities, values and distribution parameters
    are then recomputed in one batched pass over the whole rollout, so the losses
    see exactly the numbers of the distribution that acted.
    """

    def __init__(self, config):
        import gymnasium as gym

        self.envs = _make_rollout_env(config.env_id, config.n_envs,
                                      getattr(config, "vectorization", "auto"))
        sp = self.envs.single_observation_space
        ap = self.envs.single_action_space
        try:
            self.obs_dim, self.discrete, self.n_act = _space_info(config.env_id, sp, ap)
        except ValueError:
            self.envs.close()
            raise
        self.policy = MLPPolicy(self.obs_dim, self.n_act, tuple(config.hidden_sizes), self.discrete,
                                None if self.discrete else ap.low, None if self.discrete else ap.high)
        self.value_fn = MLPValue(self.obs_dim, tuple(config.hidden_sizes))
        self.gen = torch.Generator().manual_seed(config.seed)
        obs, _ = self.envs.reset(seed=config.seed)
        self.obs = obs.reshape(config.n_envs, -1).astype(np.float32)
        self.n_envs, self.n_steps, self.gamma, self.lam = config.n_envs, config.n_steps, config.gamma, config.lam
        self.ep_ret = np.zeros(config.n_envs)
        self.ep_steps, self.ep_returns = [], []
        self.steps = 0
        spec = gym.spec(config.env_id)
        self.threshold = config.threshold if config.threshold is not None else (
            spec.reward_threshold if spec is not None else None)
        if not self.discrete:
            self.low, self.high = ap.low, ap.high

    def _act(self, obs, noise):
        """Sample actions for a batch of observations with the torch policy itself
        (inference mode), given this step's noise."""
        with torch.inference_mode():
            params = self.policy(torch.from_numpy(obs))
            return self.policy.sample(params, noise=noise).numpy()

    def collect(self, grad=False):
        """One rollout; returns flat tensors obs, act, logp, params, values, advantages, returns.

        ``grad=True`` keeps the autograd graph of the batched pass (logp, params and
        values), for an agent that takes its gradient step on this very pass (A2C)."""
        T, N = self.n_steps, self.n_envs
        b_obs = np.zeros((T, N, self.obs_dim), dtype=np.float32)
        b_act = np.zeros((T, N) if self.discrete else (T, N, self.n_act), dtype=np.int64 if self.discrete else np.float32)
        rew = np.zeros((T, N))
        term = np.zeros((T, N))
        trunc = np.zeros((T, N))
        final = []  # (t, env, final observation) of time-limit truncations
        noise = self.policy.noise((T, N), self.gen)
        for t in range(T):
            b_obs[t] = self.obs
            a = self._act(self.obs, noise[t])
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
        with torch.set_grad_enabled(grad):
            params = self.policy(obs)
            logp = self.policy.log_prob(params, act)
            v_all = self.value_fn(torch.cat([obs, torch.from_numpy(extra)]))
        v_np = v_all.detach().numpy()
        vals = v_np[:T * N].astype(np.float64).reshape(T, N)
        last_v = v_np[T * N:T * N + N].astype(np.float64)
        # V(s_{t+1}): the next row's value; after a truncation V(final obs); after a termination unused
        next_val = np.concatenate([vals[1:], last_v[None]], axis=0)
        next_val[(term + trunc) > 0] = 0.0
        for k, (t, i, _) in enumerate(final):
            next_val[t, i] = float(v_np[T * N + N + k])
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


class _Training:
    """One training run's bookkeeping: the collector, the progress bar, the learning
    curve and the per-update diagnostics; :meth:`result` packs a :class:`TrainResult`.

    Use inside :func:`_torch_session` (the networks are built here)."""

    def __init__(self, config, desc, progress):
        self.start = time.perf_counter()
        self.config = config
        self.col = _Collector(config)
        self.batch = config.n_envs * config.n_steps
        self.n_updates = config.total_steps // self.batch
        self.bar = progress_bar(self.n_updates * self.batch, progress, desc=desc,
                                unit="step")
        self.curve_steps, self.curve_returns = [], []
        self.diagnostics = {}

    def end_update(self, **diagnostics):
        """Record one update's diagnostics and the learning curve's next point."""
        for k, v in diagnostics.items():
            self.diagnostics.setdefault(k, []).append(v)
        self.curve_steps.append(self.col.steps)
        self.curve_returns.append(self.col.recent_mean(self.config.curve_window))
        self.bar.update(self.batch)
        self.bar.set_postfix(ret=f"{self.curve_returns[-1]:.1f}", refresh=False)

    def close(self):
        self.bar.close()
        self.col.close()

    def result(self):
        col = self.col
        return _make_result(self.config, col.threshold, col.policy, col.value_fn,
                            self.curve_steps, self.curve_returns, self.start, col.ep_steps,
                            col.ep_returns, col.steps, self.diagnostics)


def _make_result(config, threshold, policy, value_fn, curve_steps, curve_returns, start,
                 ep_steps, ep_returns, total_steps, diagnostics):
    """The :class:`TrainResult` of a finished run (rollout and off-policy agents): the
    curve, its first step at ``threshold``, the networks switched to eval mode."""
    steps = np.asarray(curve_steps, dtype=np.int64)
    rets = np.asarray(curve_returns, dtype=float)
    hit = None
    if threshold is not None:
        ok = np.flatnonzero(rets >= threshold)
        hit = int(steps[ok[0]]) if len(ok) else None
    policy.eval()
    value_fn.eval()
    return TrainResult(
        policy=policy, value_fn=value_fn, curve=LearningCurve(steps, rets),
        wall_time=time.perf_counter() - start, steps_to_threshold=hit,
        episode_steps=np.asarray(ep_steps, dtype=np.int64),
        episode_returns=np.asarray(ep_returns, dtype=float), total_steps=total_steps,
        diagnostics={k: np.asarray(v) for k, v in diagnostics.items()}, config=config)


class _FlatOptimizer:
    r"""Adam or RMSprop with global gradient-norm clipping, on one flat vector.

    The parameters are re-seated as slices of a single vector (values unchanged; the
    modules keep their ``Parameter`` objects), so clipping and the update are a
    handful of operations on that vector instead of loops over a dozen small tensors,
    whose per-tensor overhead outweighs the arithmetic at these sizes. A step is
    ``torch.nn.utils.clip_grad_norm_`` followed by ``torch.optim.Adam`` or
    ``torch.optim.RMSprop`` (no weight decay, momentum or centring): with ``g`` the
    clipped gradient, step ``k`` and learning rate ``alpha``,

    .. math:: \text{Adam (Kingma and Ba 2015):}\quad
              m \leftarrow \beta_1 m + (1 - \beta_1) g, \quad
              v \leftarrow \beta_2 v + (1 - \beta_2) g^2, \quad
              \theta \leftarrow \theta - \frac{\alpha}{1 - \beta_1^k}
              \frac{m}{\sqrt{v / (1 - \beta_2^k)} + \epsilon};

    .. math:: \text{RMSprop (Tieleman and Hinton 2012):}\quad
              v \leftarrow \rho v + (1 - \rho) g^2, \quad
              \theta \leftarrow \theta - \alpha \frac{g}{\sqrt{v} + \epsilon}.
    """

    def __init__(self, params, eps, rule="adam", betas=(0.9, 0.999), rho=0.99):
        if rule not in ("adam", "rmsprop"):
            raise ValueError(f"rule is {rule!r}, expected 'adam' or 'rmsprop'")
        self.params = list(params)
        with torch.no_grad():
            self.flat = torch.cat([p.reshape(-1) for p in self.params])
            offset = 0
            for p in self.params:
                p.data = self.flat[offset:offset + p.numel()].view_as(p)
                offset += p.numel()
        self.m = torch.zeros_like(self.flat) if rule == "adam" else None
        self.v = torch.zeros_like(self.flat)
        self.rule, self.eps, (self.beta1, self.beta2), self.rho = rule, eps, betas, rho
        self.k = 0

    def step(self, loss, lr, max_grad_norm=None):
        """One clipped step on ``loss`` with learning rate ``lr``."""
        grads = torch.autograd.grad(loss, self.params, allow_unused=True,
                                    materialize_grads=True)
        with torch.no_grad():
            g = torch.cat([x.reshape(-1) for x in grads])
            if max_grad_norm is not None:
                norm = torch.linalg.vector_norm(g)
                g.mul_(torch.clamp(max_grad_norm / (norm + 1e-6), max=1.0))
            self.k += 1
            if self.rule == "rmsprop":
                self.v.mul_(self.rho).addcmul_(g, g, value=1 - self.rho)
                self.flat.addcdiv_(g, self.v.sqrt().add_(self.eps), value=-lr)
                return
            b1, b2 = self.beta1, self.beta2
            self.m.lerp_(g, 1 - b1)
            self.v.mul_(b2).addcmul_(g, g, value=1 - b2)
            denom = (self.v.sqrt() / math.sqrt(1 - b2 ** self.k)).add_(self.eps)
            self.flat.addcdiv_(self.m, denom, value=-lr / (1 - b1 ** self.k))


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
        gen = torch.Generator().manual_seed(seed)
        act = lambda o: policy.act(o, deterministic=deterministic, generator=gen)  # noqa: E731
    elif callable(policy):
        act = policy
    else:
        raise TypeError(f"policy must be an MLPPolicy or a callable, got {type(policy).__name__}")
    torch_threads = None
    if hasattr(policy, "act"):
        torch_threads = torch.get_num_threads()
        torch.set_num_threads(1)  # tiny forward passes: one thread avoids OpenMP overhead
    try:
        envs = _make_vec_env(env_id, n_episodes)
    except BaseException:
        if torch_threads is not None:
            torch.set_num_threads(torch_threads)
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
            torch.set_num_threads(torch_threads)
    return returns
