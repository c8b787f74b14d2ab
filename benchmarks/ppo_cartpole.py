"""PPO on CartPole-v1: rlbook's agent vs Stable-Baselines3, side by side.

For each seed, both agents train on the same budget of environment steps.
SB3 uses the rl-baselines3-zoo CartPole-v1 hyperparameters (n_envs=8,
n_steps=32, batch 256, 20 epochs, gamma=0.98, gae_lambda=0.8, lr linearly
annealed from 1e-3, clip range linearly annealed from 0.2, ent_coef=0); rlbook
uses ``rb.PPOConfig()``, the same settings but 10 epochs (``--zoo`` for 20). Both
then run
``--eval-episodes`` deterministic evaluation episodes (rlbook's
``evaluate_policy_gym`` for both, same evaluation seeds).  Printed per seed:
mean / min evaluation return, the env steps at which the training curve (mean
of the last 20 finished episodes) first reaches 475, and the training wall time.

Usage::

    python benchmarks/ppo_cartpole.py                 # 3 seeds, 100k steps, with SB3 if installed
    python benchmarks/ppo_cartpole.py --seeds 1 --steps 20000 --no-sb3
"""
from __future__ import annotations

import argparse
import time

import numpy as np

import rlbook as rb

THRESHOLD = 475.0
WINDOW = 20


def run_ours(seed, steps, eval_episodes, zoo=False):
    cfg = rb.PPOConfig.rl_zoo_cartpole if zoo else rb.PPOConfig
    res = rb.train_ppo(cfg(seed=seed, total_steps=steps, threshold=THRESHOLD, curve_window=WINDOW))
    ev = rb.evaluate_policy_gym(res.policy, "CartPole-v1", eval_episodes, seed=10_000 + seed)
    return dict(eval_mean=ev.mean(), eval_min=ev.min(), steps_to=res.steps_to_threshold,
                wall=res.wall_time, steps=res.total_steps)


def run_sb3(seed, steps, eval_episodes, threads):
    import torch
    from stable_baselines3 import PPO
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.env_util import make_vec_env

    def linear(v0):
        return lambda progress_remaining: progress_remaining * v0

    class Curve(BaseCallback):
        def __init__(self):
            super().__init__()
            self.hit = None

        def _on_step(self):
            return True

        def _on_rollout_end(self):
            buf = [e["r"] for e in self.model.ep_info_buffer]
            if self.hit is None and len(buf) and np.mean(buf[-WINDOW:]) >= THRESHOLD:
                self.hit = self.model.num_timesteps

    old = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        start = time.perf_counter()
        env = make_vec_env("CartPole-v1", n_envs=8, seed=seed)
        model = PPO("MlpPolicy", env, n_steps=32, batch_size=256, gae_lambda=0.8, gamma=0.98, n_epochs=20,
                    ent_coef=0.0, learning_rate=linear(1e-3), clip_range=linear(0.2), seed=seed,
                    device="cpu", stats_window_size=WINDOW, verbose=0)
        cb = Curve()
        model.learn(total_timesteps=steps, callback=cb)
        wall = time.perf_counter() - start
    finally:
        torch.set_num_threads(old)
    ev = rb.evaluate_policy_gym(lambda obs: model.predict(obs, deterministic=True)[0], "CartPole-v1",
                                eval_episodes, seed=10_000 + seed)
    return dict(eval_mean=ev.mean(), eval_min=ev.min(), steps_to=cb.hit, wall=wall, steps=model.num_timesteps)


def fmt(r):
    st = "never" if r["steps_to"] is None else f"{r['steps_to']:,}"
    return f"{r['eval_mean']:7.1f} {r['eval_min']:6.0f} {st:>9} {r['wall']:7.1f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=3, help="number of seeds (0, 1, ...)")
    ap.add_argument("--steps", type=int, default=100_000, help="env steps per run")
    ap.add_argument("--eval-episodes", type=int, default=20)
    ap.add_argument("--zoo", action="store_true", help="rlbook with the zoo's 20 epochs too")
    ap.add_argument("--no-sb3", action="store_true", help="skip Stable-Baselines3")
    ap.add_argument("--sb3-threads", type=int, default=1,
                    help="torch threads for SB3 (default 1, as rlbook; 0: torch's default, which on a "
                         "2-core machine was ~30x slower for SB3 in our measurements)")
    args = ap.parse_args()
    try:
        import stable_baselines3  # noqa: F401
        have_sb3 = not args.no_sb3
    except ImportError:
        have_sb3 = False
        print("stable-baselines3 not importable: rlbook only")

    import torch

    print(f"torch {torch.__version__}, {torch.get_num_threads()} default threads; rlbook epochs = "
          f"{20 if args.zoo else rb.PPOConfig().epochs}; SB3 threads = {args.sb3_threads or 'default'}")
    print(f"PPO on CartPole-v1, {args.steps:,} env steps per run, {args.eval_episodes} deterministic "
          f"evaluation episodes, threshold {THRESHOLD:g} (mean of the last {WINDOW} training episodes)")
    head = f"{'eval':>7} {'min':>6} {'steps@475':>9} {'wall s':>7}"
    print(f"{'seed':>4} | {'rlbook':^32}" + (f" | {'SB3 ' + stable_baselines3.__version__:^32} | ratio" if have_sb3 else ""))
    print(f"{'':>4} | {head}" + (f" | {head} | ours/SB3" if have_sb3 else ""))
    ours_w, sb3_w, ok = [], [], []
    for seed in range(args.seeds):
        r = run_ours(seed, args.steps, args.eval_episodes, args.zoo)
        ours_w.append(r["wall"])
        ok.append(r["eval_mean"] >= THRESHOLD)
        line = f"{seed:>4} | {fmt(r)}"
        if have_sb3:
            s = run_sb3(seed, args.steps, args.eval_episodes, args.sb3_threads)
            sb3_w.append(s["wall"])
            line += f" | {fmt(s)} | {r['wall'] / s['wall']:6.2f}"
        print(line, flush=True)
    summary = f"rlbook: evaluation return >= {THRESHOLD:g} on {sum(ok)}/{len(ok)} seeds, mean wall {np.mean(ours_w):.1f} s"
    if have_sb3:
        summary += f"; SB3 mean wall {np.mean(sb3_w):.1f} s; wall-time ratio ours/SB3 = {np.sum(ours_w) / np.sum(sb3_w):.2f}"
    print(summary)


if __name__ == "__main__":
    main()
