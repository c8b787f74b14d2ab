"""DQN on CartPole-v1: rlbook's agent vs Stable-Baselines3, side by side.

For each seed both agents train on the same budget of environment steps with
one torch thread. SB3 runs the rl-baselines3-zoo CartPole-v1 DQN
hyperparameters (lr 2.3e-3, batch 64, buffer 100k, learning_starts 1000,
gamma 0.99, target_update_interval 10, train_freq 256, gradient_steps 128,
exploration_fraction 0.16, exploration_final_eps 0.04, net_arch [256, 256]);
rlbook runs ``rb.DQNConfig()``, the book's preset (see its docstring). Both are
then evaluated on ``--eval-episodes`` deterministic episodes with rlbook's
``evaluate_policy_gym`` on the same evaluation seeds. rlbook's DQN returns the
network with the best periodic greedy evaluation (``eval_interval``); SB3 is
given the same model selection with its ``EvalCallback`` (same interval and
episodes) unless ``--sb3-final``, and both the best and the final SB3 models are
reported. Printed per seed: mean / min evaluation return, the env steps at which
the training curve (mean of the last 20 finished episodes) first reaches 475,
and the training wall time; then the wall-time ratio and the goal line.

Usage::

    python benchmarks/dqn_cartpole.py                  # 3 seeds, 50k steps, with SB3
    python benchmarks/dqn_cartpole.py --seeds 1 --no-sb3
"""
from __future__ import annotations

import os
import tempfile
import time

import numpy as np

import rlbook as rb
from _cli import fmt, parse_args, sb3_curve, sb3_version

THRESHOLD = 475.0
WINDOW = 20


def run_ours(seed, steps, eval_episodes):
    res = rb.train_dqn(rb.DQNConfig(seed=seed, total_steps=steps, threshold=THRESHOLD,
                                    curve_window=WINDOW))
    ev = rb.evaluate_policy_gym(res.policy, "CartPole-v1", eval_episodes, seed=10_000 + seed)
    return dict(eval_mean=ev.mean(), eval_min=ev.min(), steps_to=res.steps_to_threshold,
                wall=res.wall_time)


def run_sb3(seed, steps, eval_episodes, select):
    import torch
    from stable_baselines3 import DQN
    from stable_baselines3.common.callbacks import CallbackList, EvalCallback
    from stable_baselines3.common.env_util import make_vec_env

    cfg = rb.DQNConfig()
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    tmp = tempfile.mkdtemp(prefix="sb3_dqn_")
    try:
        start = time.perf_counter()
        env = make_vec_env("CartPole-v1", n_envs=1, seed=seed)
        model = DQN("MlpPolicy", env, learning_rate=2.3e-3, batch_size=64, buffer_size=100_000,
                    learning_starts=1000, gamma=0.99, target_update_interval=10,
                    train_freq=256, gradient_steps=128, exploration_fraction=0.16,
                    exploration_final_eps=0.04, policy_kwargs=dict(net_arch=[256, 256]),
                    seed=seed, device="cpu", stats_window_size=WINDOW, verbose=0)
        cb = sb3_curve(WINDOW, THRESHOLD, every_step=True)
        cbs = [cb]
        if select:
            eval_env = make_vec_env("CartPole-v1", n_envs=1, seed=10**6 + seed)
            cbs.append(EvalCallback(eval_env, n_eval_episodes=cfg.eval_episodes,
                                    eval_freq=cfg.eval_interval, best_model_save_path=tmp,
                                    deterministic=True, verbose=0))
        model.learn(total_timesteps=steps, callback=CallbackList(cbs))
        wall = time.perf_counter() - start
    finally:
        torch.set_num_threads(old)

    def ev(m):
        return rb.evaluate_policy_gym(lambda obs: m.predict(obs, deterministic=True)[0],
                                      "CartPole-v1", eval_episodes, seed=10_000 + seed)
    final = ev(model)
    best = ev(DQN.load(os.path.join(tmp, "best_model"), device="cpu")) if select else final
    return dict(eval_mean=best.mean(), eval_min=best.min(), final_mean=final.mean(),
                steps_to=cb.hit, wall=wall)




def main():
    args = parse_args(__doc__, rb.DQNConfig().total_steps, extra=lambda ap: ap.add_argument(
        "--sb3-final", action="store_true",
        help="no EvalCallback model selection for SB3 (its final model)"))
    sb3 = sb3_version(args.no_sb3)
    have_sb3 = sb3 is not None
    import torch

    print(f"torch {torch.__version__}; one torch thread for both; rlbook preset: "
          f"{rb.DQNConfig()}")
    print(f"DQN on CartPole-v1, {args.steps:,} env steps per run, {args.eval_episodes} "
          f"deterministic evaluation episodes, threshold {THRESHOLD:g}")
    head = f"{'eval':>7} {'min':>6} {'steps@475':>9} {'wall s':>7}"
    print(f"{'seed':>4} | {'rlbook':^32}" + (
        f" | {'SB3 ' + sb3:^32} | {'SB3 final':>9} | ratio"
        if have_sb3 else ""))
    print(f"{'':>4} | {head}" + (f" | {head} | {'eval':>9} | ours/SB3" if have_sb3 else ""))
    ours_w, sb3_w, ok = [], [], []
    for seed in range(args.seeds):
        r = run_ours(seed, args.steps, args.eval_episodes)
        ours_w.append(r["wall"])
        ok.append(r["eval_mean"] >= THRESHOLD)
        line = f"{seed:>4} | {fmt(r)}"
        if have_sb3:
            s = run_sb3(seed, args.steps, args.eval_episodes, not args.sb3_final)
            sb3_w.append(s["wall"])
            line += f" | {fmt(s)} | {s['final_mean']:9.1f} | {r['wall'] / s['wall']:6.2f}"
        print(line, flush=True)
    summary = (f"rlbook: evaluation return >= {THRESHOLD:g} on {sum(ok)}/{len(ok)} seeds, "
               f"mean wall {np.mean(ours_w):.1f} s")
    if have_sb3:
        ratio = np.sum(ours_w) / np.sum(sb3_w)
        summary += (f"; SB3 mean wall {np.mean(sb3_w):.1f} s; wall-time ratio ours/SB3 = "
                    f"{ratio:.2f}")
        goal = all(ok) and ratio <= 0.5
        summary += f"\ngoal (every seed >= {THRESHOLD:g}, ratio <= 0.5): {'MET' if goal else 'NOT MET'}"
    print(summary)


if __name__ == "__main__":
    main()
