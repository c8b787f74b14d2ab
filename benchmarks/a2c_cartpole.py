"""A2C on CartPole-v1: rlbook's agent vs Stable-Baselines3, side by side.

For each seed both agents train on the same budget of environment steps (the
book's preset, ``rb.A2CConfig().total_steps``, unless ``--steps``), with one
torch thread. SB3 uses the rl-baselines3-zoo CartPole-v1 A2C settings (n_envs=8,
ent_coef=0, and SB3's A2C defaults: n_steps=5, lr 7e-4 constant, RMSprop with
alpha 0.99 and eps 1e-5, gamma 0.99, gae_lambda 1, vf_coef 0.5,
max_grad_norm 0.5, no advantage normalisation); rlbook uses ``rb.A2CConfig()``,
the book's preset (16 copies of the environment in one vectorised NumPy
environment, 16 steps, GAE 0.95, standardised advantages, Adam 1e-3 decaying
linearly). Both are then evaluated on ``--eval-episodes`` deterministic episodes
(rlbook's ``evaluate_policy_gym`` for both, same evaluation seeds). Printed per
seed: mean / min evaluation return, the env steps at which the training curve
(mean of the last 20 finished episodes) first reaches 475, the training wall
time, and the wall-time ratio; the last line states the goal and whether it is met.

Usage::

    python benchmarks/a2c_cartpole.py                 # 3 seeds, the preset's budget, with SB3
    python benchmarks/a2c_cartpole.py --seeds 1 --steps 50000 --no-sb3
"""
from __future__ import annotations

import argparse
import time

import numpy as np

import rlbook as rb

THRESHOLD = 475.0
WINDOW = 20


def run_ours(seed, steps, eval_episodes):
    res = rb.train_a2c(rb.A2CConfig(seed=seed, total_steps=steps, threshold=THRESHOLD,
                                    curve_window=WINDOW, torch_threads=1))
    ev = rb.evaluate_policy_gym(res.policy, "CartPole-v1", eval_episodes, seed=10_000 + seed)
    return dict(eval_mean=ev.mean(), eval_min=ev.min(), steps_to=res.steps_to_threshold,
                wall=res.wall_time, steps=res.total_steps)


def run_sb3(seed, steps, eval_episodes):
    import torch
    from stable_baselines3 import A2C
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.env_util import make_vec_env

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
    torch.set_num_threads(1)
    try:
        start = time.perf_counter()
        env = make_vec_env("CartPole-v1", n_envs=8, seed=seed)
        model = A2C("MlpPolicy", env, ent_coef=0.0, seed=seed, device="cpu",
                    stats_window_size=WINDOW, verbose=0)
        cb = Curve()
        model.learn(total_timesteps=steps, callback=cb)
        wall = time.perf_counter() - start
    finally:
        torch.set_num_threads(old)
    ev = rb.evaluate_policy_gym(lambda obs: model.predict(obs, deterministic=True)[0],
                                "CartPole-v1", eval_episodes, seed=10_000 + seed)
    return dict(eval_mean=ev.mean(), eval_min=ev.min(), steps_to=cb.hit, wall=wall,
                steps=model.num_timesteps)


def fmt(r):
    st = "never" if r["steps_to"] is None else f"{r['steps_to']:,}"
    return f"{r['eval_mean']:7.1f} {r['eval_min']:6.0f} {st:>9} {r['wall']:7.1f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=3, help="number of seeds (0, 1, ...)")
    ap.add_argument("--steps", type=int, default=rb.A2CConfig().total_steps,
                    help="env steps per run")
    ap.add_argument("--eval-episodes", type=int, default=20)
    ap.add_argument("--no-sb3", action="store_true", help="skip Stable-Baselines3")
    args = ap.parse_args()
    try:
        import stable_baselines3
        have_sb3 = not args.no_sb3
    except ImportError:
        have_sb3 = False
        print("stable-baselines3 not importable: rlbook only")

    import torch

    print(f"torch {torch.__version__}, one torch thread for both agents")
    print(f"A2C on CartPole-v1, {args.steps:,} env steps per run, {args.eval_episodes} "
          f"deterministic evaluation episodes, threshold {THRESHOLD:g} (training curve: mean of "
          f"the last {WINDOW} episodes)")
    head = f"{'eval':>7} {'min':>6} {'steps@475':>9} {'wall s':>7}"
    print(f"{'seed':>4} | {'rlbook':^32}"
          + (f" | {'SB3 ' + stable_baselines3.__version__:^32} | ratio" if have_sb3 else ""))
    print(f"{'':>4} | {head}" + (f" | {head} | ours/SB3" if have_sb3 else ""))
    ours_w, sb3_w, ok, sb3_ok = [], [], [], []
    for seed in range(args.seeds):
        r = run_ours(seed, args.steps, args.eval_episodes)
        ours_w.append(r["wall"])
        ok.append(r["eval_mean"] >= THRESHOLD)
        line = f"{seed:>4} | {fmt(r)}"
        if have_sb3:
            s = run_sb3(seed, args.steps, args.eval_episodes)
            sb3_w.append(s["wall"])
            sb3_ok.append(s["eval_mean"] >= THRESHOLD)
            line += f" | {fmt(s)} | {r['wall'] / s['wall']:6.2f}"
        print(line, flush=True)
    summary = (f"rlbook: evaluation return >= {THRESHOLD:g} on {sum(ok)}/{len(ok)} seeds, "
               f"mean wall {np.mean(ours_w):.1f} s")
    if have_sb3:
        ratio = np.sum(ours_w) / np.sum(sb3_w)
        summary += (f"; SB3: {sum(sb3_ok)}/{len(sb3_ok)} seeds, mean wall {np.mean(sb3_w):.1f} s; "
                    f"wall-time ratio ours/SB3 = {ratio:.2f}")
    print(summary)
    goal = all(ok) and (not have_sb3 or ratio <= 0.5)
    print(f"goal (every seed >= {THRESHOLD:g} at <= 0.5 x SB3's wall time): "
          f"{'met' if goal else 'NOT met'}")


if __name__ == "__main__":
    main()
