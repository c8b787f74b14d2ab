"""PPO on CartPole-v1: rlbook's agent vs Stable-Baselines3, two honest ratios.

**Equal settings.**  Both run the rl-baselines3-zoo CartPole-v1 PPO settings
(``rb.PPOConfig.rl_zoo_cartpole``: 8 environments x 32 steps, one minibatch of
256, 20 epochs, gamma 0.98, GAE lambda 0.8, lr 1e-3 and clip range 0.2 both
annealed linearly to 0, no entropy bonus, value coefficient 0.5, gradient norm
0.5, separate 64-64 tanh policy and value networks), on the same number of
environment steps (a whole number of rollouts, so SB3 does not run one more),
with one torch thread each. The ratio is rlbook's training wall time over SB3's.

**Time to solve.**  Each library with its own recommendation: rlbook's default
``rb.PPOConfig()`` (the same settings with 10 epochs) against SB3 with the zoo's
settings; the time, from the start of training, to the end of the rollout at
which the training curve (the mean return of the last 20 finished episodes)
first reaches 475.

Per seed the three runs are interleaved (rlbook zoo, SB3, rlbook default; the
order reversed on odd seeds) after one untimed warm-up run of each, so that all
see the same machine load; the ratios are the medians of the per-seed ratios.
Each trained policy is then evaluated on ``--eval-episodes`` greedy episodes
(rlbook's ``evaluate_policy_gym`` for both, same evaluation seeds). The last
line prints the goal (equal-settings ratio <= 0.5) and whether it is met.

Usage::

    python benchmarks/ppo_cartpole.py                 # 3 seeds, 100k steps, with SB3
    python benchmarks/ppo_cartpole.py --seeds 1 --steps 20000 --no-sb3
"""
from __future__ import annotations

import time
from unittest import mock

import numpy as np

import rlbook as rb
from _cli import parse_args, sb3_curve, sb3_version
from rlbook.agents import _rollout

THRESHOLD = 475.0
WINDOW = 20
GOAL = 0.5
EVAL_SEED = 10_000


def run_ours(cfg, eval_episodes):
    """Train with ``cfg``; the time of each rollout's end is recorded (for the time
    to solve) by wrapping the collector's ``collect``."""
    ends = []
    collect = _rollout._Collector.collect

    def timed(self):
        out = collect(self)
        ends.append(time.perf_counter())
        return out

    with mock.patch.object(_rollout._Collector, "collect", timed):
        start = time.perf_counter()
        res = rb.train_ppo(cfg)
    ev = rb.evaluate_policy_gym(res.policy, cfg.env_id, eval_episodes,
                                seed=EVAL_SEED + cfg.seed)
    solve = None
    if res.steps_to_threshold is not None:
        u = int(np.flatnonzero(res.curve.steps == res.steps_to_threshold)[0])
        solve = ends[u] - start
    return dict(eval_mean=ev.mean(), eval_min=ev.min(), steps_to=res.steps_to_threshold,
                solve=solve, wall=res.wall_time, steps=res.total_steps)


def run_sb3(seed, steps, eval_episodes):
    import torch
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_vec_env

    zoo = rb.PPOConfig.rl_zoo_cartpole()

    def linear(v0):
        return lambda progress_remaining: progress_remaining * v0

    old = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        start = time.perf_counter()
        env = make_vec_env(zoo.env_id, n_envs=zoo.n_envs, seed=seed)
        model = PPO("MlpPolicy", env, n_steps=zoo.n_steps, batch_size=zoo.minibatch_size,
                    gae_lambda=zoo.lam, gamma=zoo.gamma, n_epochs=zoo.epochs,
                    ent_coef=zoo.ent_coef, vf_coef=zoo.vf_coef,
                    max_grad_norm=zoo.max_grad_norm, learning_rate=linear(zoo.lr),
                    clip_range=linear(zoo.clip_eps), seed=seed, device="cpu",
                    stats_window_size=WINDOW, verbose=0)
        cb = sb3_curve(WINDOW, THRESHOLD, start)
        model.learn(total_timesteps=steps, callback=cb)
        wall = time.perf_counter() - start
    finally:
        torch.set_num_threads(old)
    ev = rb.evaluate_policy_gym(lambda obs: model.predict(obs, deterministic=True)[0],
                                zoo.env_id, eval_episodes, seed=EVAL_SEED + seed)
    return dict(eval_mean=ev.mean(), eval_min=ev.min(), steps_to=cb.hit, solve=cb.solve,
                wall=wall, steps=model.num_timesteps)


def fmt(r):
    st = "never" if r["steps_to"] is None else f"{r['steps_to']:,}"
    so = "never" if r["solve"] is None else f"{r['solve']:.1f}"
    return f"{r['eval_mean']:6.1f} {r['eval_min']:4.0f} {st:>9} {so:>7} {r['wall']:6.1f}"


def median_ratio(num, den):
    pairs = [(a, b) for a, b in zip(num, den) if a is not None and b is not None]
    return float(np.median([a / b for a, b in pairs])) if pairs else None


def main():
    args = parse_args(__doc__, 100_000, "env steps per run (rounded down to whole rollouts)")
    sb3 = sb3_version(args.no_sb3)
    have_sb3 = sb3 is not None
    import torch

    zoo = rb.PPOConfig.rl_zoo_cartpole()
    rollout = zoo.n_envs * zoo.n_steps
    steps = args.steps // rollout * rollout
    if steps < rollout:
        raise SystemExit(f"--steps must be at least one rollout ({rollout})")
    print(f"torch {torch.__version__}, one torch thread for each run; "
          f"rlbook vectorization: {zoo.vectorization}")
    print(f"PPO on CartPole-v1, {steps:,} env steps per run ({steps // rollout} rollouts of "
          f"{zoo.n_envs} envs x {zoo.n_steps} steps); {args.eval_episodes} greedy evaluation "
          f"episodes; solved: training curve (mean of the last {WINDOW} episodes) "
          f">= {THRESHOLD:g}")
    print(f"equal settings (rl-zoo, both): epochs {zoo.epochs}, minibatch "
          f"{zoo.minibatch_size}, gamma {zoo.gamma}, lambda {zoo.lam}, lr {zoo.lr} and clip "
          f"{zoo.clip_eps} annealed, vf_coef {zoo.vf_coef}, max_grad_norm "
          f"{zoo.max_grad_norm}, hidden {zoo.hidden_sizes}; rlbook default: epochs "
          f"{rb.PPOConfig().epochs}")

    def cfg(seed, epochs, n=steps):
        return rb.PPOConfig(seed=seed, total_steps=n, threshold=THRESHOLD,
                            curve_window=WINDOW, epochs=epochs)

    # untimed warm-up: imports and first calls
    run_ours(cfg(0, zoo.epochs, rollout * 2), 1)
    if have_sb3:
        run_sb3(0, rollout * 2, 1)

    head = f"{'eval':>6} {'min':>4} {'steps@475':>9} {'solve s':>7} {'wall s':>6}"
    cols = [f"rlbook zoo ({zoo.epochs} epochs)"]
    if have_sb3:
        cols.append(f"SB3 {sb3} zoo")
    cols.append(f"rlbook default ({rb.PPOConfig().epochs} epochs)")
    print(f"{'seed':>4} | " + " | ".join(f"{c:^37}" for c in cols)
          + (" | equal  solve" if have_sb3 else ""))
    print(f"{'':>4} | " + " | ".join([head] * len(cols))
          + (" | ratio  ratio" if have_sb3 else ""))
    rows = {"zoo": [], "sb3": [], "default": []}
    for seed in range(args.seeds):
        order = ["zoo", "sb3", "default"] if have_sb3 else ["zoo", "default"]
        if seed % 2:
            order.reverse()
        got = {}
        for kind in order:
            if kind == "sb3":
                got[kind] = run_sb3(seed, steps, args.eval_episodes)
            else:
                epochs = zoo.epochs if kind == "zoo" else rb.PPOConfig().epochs
                got[kind] = run_ours(cfg(seed, epochs), args.eval_episodes)
            rows[kind].append(got[kind])
        line = f"{seed:>4} | {fmt(got['zoo'])}"
        if have_sb3:
            line += f" | {fmt(got['sb3'])}"
        line += f" | {fmt(got['default'])}"
        if have_sb3:
            eq = got["zoo"]["wall"] / got["sb3"]["wall"]
            so = median_ratio([got["default"]["solve"]], [got["sb3"]["solve"]])
            line += f" | {eq:5.2f}  " + ("  n/a" if so is None else f"{so:5.2f}")
        print(line, flush=True)

    for kind, name in (("zoo", "rlbook zoo"), ("sb3", "SB3 zoo"),
                       ("default", "rlbook default")):
        if rows[kind]:
            ok = sum(r["eval_mean"] >= THRESHOLD for r in rows[kind])
            solved = sum(r["solve"] is not None for r in rows[kind])
            print(f"{name}: greedy evaluation >= {THRESHOLD:g} on {ok}/{len(rows[kind])} "
                  f"seeds, solved in training on {solved}/{len(rows[kind])}, median wall "
                  f"{np.median([r['wall'] for r in rows[kind]]):.1f} s")
    if not have_sb3:
        print(f"goal (equal-settings wall-time ratio rlbook/SB3 <= {GOAL}): not measured "
              f"(no SB3)")
        return
    eq = median_ratio([r["wall"] for r in rows["zoo"]], [r["wall"] for r in rows["sb3"]])
    total = sum(r["wall"] for r in rows["zoo"]) / sum(r["wall"] for r in rows["sb3"])
    so = median_ratio([r["solve"] for r in rows["default"]], [r["solve"] for r in rows["sb3"]])
    print(f"equal-settings wall-time ratio rlbook/SB3 (same settings, steps, threads): "
          f"median {eq:.2f} over {len(rows['zoo'])} seeds (ratio of sums {total:.2f})")
    print("time-to-solve ratio rlbook default / SB3 zoo: " + (
        "n/a (no seed solved by both)" if so is None else f"median {so:.2f}"))
    print(f"goal (equal-settings wall-time ratio rlbook/SB3 <= {GOAL}): "
          f"{'MET' if eq <= GOAL else 'NOT MET'} ({eq:.2f})")


if __name__ == "__main__":
    main()
