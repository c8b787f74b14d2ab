"""SAC, TD3 and DDPG on Pendulum-v1: rlbook's agents vs Stable-Baselines3's, side by side.

Both libraries use the rl-baselines3-zoo Pendulum-v1 settings, which are the
defaults of ``rb.SACConfig``, ``rb.TD3Config`` and ``rb.DDPGConfig``:

* SAC: 20k steps, lr 1e-3, SB3's other defaults (buffer 1e6, batch 256, tau
  0.005, gamma 0.99, 100 random steps, [256, 256], automatic temperature with
  target entropy -1);
* TD3 and DDPG: 20k steps, gamma 0.98, buffer 200k, 10k random steps, Gaussian
  exploration noise 0.1, lr 1e-3, [400, 300], batch 256, tau 0.005 (TD3: policy
  delay 2, target noise 0.2 clipped at 0.5).

Each run trains on the same number of environment steps, with one torch thread,
then runs ``--eval-episodes`` deterministic evaluation episodes (rlbook's
``evaluate_policy_gym`` for both libraries, same evaluation seeds). Printed per
algorithm and seed: mean / min evaluation return and training wall time, and
the wall-time ratio rlbook / SB3, and the same for process CPU time (on a
loaded machine the wall time of a long run follows the load it happened to
meet; the CPU time much less). The last line states the goal: every seed
solves (evaluation return >= -200) in at most half of SB3's wall time.

Runs alternate rlbook, SB3, rlbook, ... per seed, so that both see the same
machine load. The header also prints the matrix-product FLOPs of one gradient
update of each library (torch's ``FlopCounterMode``): both spend most of an
update in these products, with the same kernels, so the wall-time ratio cannot
fall much below the FLOP ratio times SB3's share of time in them.

Usage::

    python benchmarks/continuous_control.py                    # 2 seeds, all three agents
    python benchmarks/continuous_control.py --algos sac --seeds 3 --no-sb3
    python benchmarks/continuous_control.py --algos sac --seeds 1 --first-seed 1   # seed 1 only
"""
from __future__ import annotations

import argparse
import time
from dataclasses import replace

import numpy as np
import torch

import rlbook as rb

THRESHOLD = -200.0
ENV = "Pendulum-v1"


#: What both libraries share, per algorithm (printed in the header).
SAME = {
    "sac": "  sac: same for both: 20k steps, 1 update per env step (train_freq 1, gradient_steps 1), "
           "learning_starts 100, batch 256, buffer 1e6, lr 1e-3 (actor, critics, temperature), "
           "gamma 0.99, tau 0.005, [256, 256] ReLU nets, twin critics, automatic temperature "
           "(initial 1, target entropy -1), target update every step",
    "td3": "  td3: same for both: 20k steps, 1 update per env step (train_freq 1, gradient_steps 1), "
           "learning_starts 10k, batch 256, buffer 200k, lr 1e-3, gamma 0.98, tau 0.005, "
           "[400, 300] ReLU nets, exploration noise N(0, 0.1), policy delay 2, target noise 0.2 "
           "clipped at 0.5, twin critics",
    "ddpg": "  ddpg: same for both: 20k steps, 1 update per env step (train_freq 1, gradient_steps 1), "
            "learning_starts 10k, batch 256, buffer 200k, lr 1e-3, gamma 0.98, tau 0.005, "
            "[400, 300] ReLU nets, exploration noise N(0, 0.1), one critic, actor and targets "
            "every step",
}


OURS = {"sac": (rb.SACConfig, rb.train_sac), "td3": (rb.TD3Config, rb.train_td3),
        "ddpg": (rb.DDPGConfig, rb.train_ddpg)}


def run_ours(algo, seed, steps, eval_episodes, learning_starts=None):
    cfg, train = OURS[algo]
    cfg = cfg(seed=seed, total_steps=steps)
    if learning_starts is not None:
        cfg = replace(cfg, learning_starts=learning_starts)
    cpu = time.process_time()
    res = train(cfg)
    cpu = time.process_time() - cpu
    ev = rb.evaluate_policy_gym(res.policy, ENV, eval_episodes, seed=10_000 + seed)
    return dict(eval_mean=ev.mean(), eval_min=ev.min(), wall=res.wall_time, cpu=cpu)


def make_sb3(algo, seed, learning_starts=None):
    import gymnasium as gym
    from stable_baselines3 import DDPG, SAC, TD3
    from stable_baselines3.common.noise import NormalActionNoise

    env = gym.make(ENV)
    if algo == "sac":
        model = SAC("MlpPolicy", env, learning_rate=1e-3, seed=seed, device="cpu", verbose=0,
                    learning_starts=100 if learning_starts is None else learning_starts)
    else:
        noise = NormalActionNoise(mean=np.zeros(1), sigma=0.1 * np.ones(1))
        cls = TD3 if algo == "td3" else DDPG
        model = cls("MlpPolicy", env, gamma=0.98, buffer_size=200_000,
                    learning_starts=10_000 if learning_starts is None else learning_starts,
                    action_noise=noise, gradient_steps=1, train_freq=1, learning_rate=1e-3,
                    policy_kwargs=dict(net_arch=[400, 300]), seed=seed, device="cpu", verbose=0)
    return model


def run_sb3(algo, seed, steps, eval_episodes, learning_starts=None):
    start, cpu = time.perf_counter(), time.process_time()
    model = make_sb3(algo, seed, learning_starts)
    model.learn(total_timesteps=steps)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    ev = rb.evaluate_policy_gym(lambda obs: model.predict(obs, deterministic=True)[0], ENV,
                                eval_episodes, seed=10_000 + seed)
    return dict(eval_mean=ev.mean(), eval_min=ev.min(), wall=wall, cpu=cpu)


def update_flops(algo, k=4, n=300):
    """Matrix-product FLOPs per gradient update (torch's ``FlopCounterMode``): rlbook's
    from two short runs that differ by ``k`` updates, SB3's from ``k`` calls of its train
    step on a filled buffer. Both libraries spend most of an update in these products."""
    from torch.utils.flop_counter import FlopCounterMode

    def count(fn):
        with FlopCounterMode(display=False) as fc:
            fn()
        return fc.get_total_flops()

    cfg, train = OURS[algo]
    ours = (count(lambda: train(cfg(total_steps=n, learning_starts=n - k)))
            - count(lambda: train(cfg(total_steps=n, learning_starts=n)))) / k
    model = make_sb3(algo, 0, learning_starts=n)
    model.learn(total_timesteps=n)
    theirs = count(lambda: model.train(gradient_steps=k, batch_size=model.batch_size)) / k
    return ours, theirs


def fmt(r):
    return f"{r['eval_mean']:7.1f} {r['eval_min']:7.1f} {r['wall']:7.1f} {r['cpu']:7.1f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--algos", default="sac,td3,ddpg")
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--first-seed", type=int, default=0,
                    help="seeds first-seed, ..., first-seed + seeds - 1 (to split a run)")
    ap.add_argument("--steps", type=int, default=20_000)
    ap.add_argument("--eval-episodes", type=int, default=10)
    ap.add_argument("--learning-starts", type=int, default=None,
                    help="override the random warm-up steps of both libraries (short timing runs)")
    ap.add_argument("--no-sb3", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(1)
    have_sb3 = not args.no_sb3
    if have_sb3:
        try:
            import stable_baselines3
            sb3_version = stable_baselines3.__version__
        except ImportError:
            have_sb3 = False
            print("stable-baselines3 not importable: rlbook only")
    print(f"torch {torch.__version__}, 1 thread; {ENV}, {args.steps:,} env steps per run, "
          f"{args.eval_episodes} deterministic evaluation episodes"
          + ("" if args.learning_starts is None else
             f"; learning_starts overridden to {args.learning_starts}"))
    for algo in args.algos.split(","):
        print(SAME[algo])
        if have_sb3:
            ours, theirs = update_flops(algo)
            print(f"  {algo}: matrix-product GFLOP per gradient update: rlbook {ours / 1e9:.3f}, "
                  f"SB3 {theirs / 1e9:.3f} (ratio {ours / theirs:.2f})")
    head = f"{'eval':>7} {'min':>7} {'wall s':>7} {'cpu s':>7}"
    print(f"{'algo':>5} {'seed':>4} | {'rlbook':^31}"
          + (f" | {'SB3 ' + sb3_version:^31} | ratio ours/SB3" if have_sb3 else ""))
    print(f"{'':>5} {'':>4} | {head}" + (f" | {head} |  wall   cpu" if have_sb3 else ""))
    solved, ratios = [], []
    for algo in args.algos.split(","):
        ours_w, sb3_w = [], []
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            r = run_ours(algo, seed, args.steps, args.eval_episodes, args.learning_starts)
            ours_w.append(r["wall"])
            solved.append(r["eval_mean"] >= THRESHOLD)
            line = f"{algo:>5} {seed:>4} | {fmt(r)}"
            if have_sb3:
                s = run_sb3(algo, seed, args.steps, args.eval_episodes, args.learning_starts)
                sb3_w.append(s["wall"])
                line += (f" | {fmt(s)} | {r['wall'] / s['wall']:5.2f} "
                         f"{r['cpu'] / s['cpu']:5.2f}")
            print(line, flush=True)
        if have_sb3:
            ratios.append(np.sum(ours_w) / np.sum(sb3_w))
            print(f"{algo:>5} total wall: rlbook {np.sum(ours_w):.1f} s, SB3 {np.sum(sb3_w):.1f} s, "
                  f"ratio {ratios[-1]:.2f}")
    met = all(solved) and have_sb3 and all(r <= 0.5 for r in ratios)
    print(f"rlbook solved (eval >= {THRESHOLD:g}) {sum(solved)}/{len(solved)} runs"
          + (f"; wall-time ratios ours/SB3 {', '.join(f'{r:.2f}' for r in ratios)}" if have_sb3 else "")
          + f". Goal (every seed solves, ratio <= 0.5): {'met' if met else 'not met'}")


if __name__ == "__main__":
    main()
