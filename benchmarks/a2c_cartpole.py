"""A2C on CartPole-v1: rlbook's agent vs Stable-Baselines3, side by side.

For each seed both agents train on the same budget of environment steps (the
book's preset, ``rb.A2CConfig().total_steps``, unless ``--steps``), with one
torch thread, ours first, then SB3 (interleaved, so both see the same load).
SB3 runs the rl-baselines3-zoo CartPole-v1 A2C settings (``n_envs=8``,
``ent_coef=0``, SB3's A2C defaults otherwise); rlbook runs ``rb.A2CConfig()``,
the book's preset; the header prints which settings are equal and what differs.

Equal for both: n_steps 5, gamma 0.99, n-step returns (gae_lambda 1), raw
advantages, RMSprop (alpha 0.99, eps 1e-5) at a constant 7e-4, vf_coef 0.5,
ent_coef 0, gradient norm clipped at 0.5, separate 64-64 tanh policy and value
networks with orthogonal initialisation, the step budget, and the evaluation:
the *final* policy of each tool on ``--eval-episodes`` deterministic episodes
through the same function (rlbook's ``evaluate_policy_gym``, evaluation seeds
``10000 + seed``). Printed per seed: mean / min evaluation return, the env steps
at which the training curve (mean of the last 20 finished episodes) first
reaches 475, the training wall and CPU times (environment construction included;
the CPU time of the process is less sensitive to other load on the machine), and
the wall-time ratio; the last line states the goal and whether it is met.

Usage::

    python benchmarks/a2c_cartpole.py                 # 3 seeds, the preset's budget, with SB3
    python benchmarks/a2c_cartpole.py --seeds 1 --steps 50000 --no-sb3
"""
from __future__ import annotations

import time

import numpy as np

import rlbook as rb
from _cli import fmt, parse_args, sb3_curve, sb3_version

THRESHOLD = 475.0
WINDOW = 20


def run_ours(seed, steps, eval_episodes):
    cpu = time.process_time()
    res = rb.train_a2c(rb.A2CConfig(seed=seed, total_steps=steps, threshold=THRESHOLD,
                                    curve_window=WINDOW, torch_threads=1))
    cpu = time.process_time() - cpu
    ev = rb.evaluate_policy_gym(res.policy, "CartPole-v1", eval_episodes, seed=10_000 + seed)
    return dict(eval_mean=ev.mean(), eval_min=ev.min(), steps_to=res.steps_to_threshold,
                wall=res.wall_time, cpu=cpu, steps=res.total_steps)


def _check_equal(model, cfg):
    """The settings the header calls equal are equal (SB3's defaults vs the preset)."""
    opt = model.policy.optimizer
    sb3 = dict(n_steps=model.n_steps, gamma=model.gamma, lam=model.gae_lambda,
               vf_coef=model.vf_coef, ent_coef=model.ent_coef,
               max_grad_norm=model.max_grad_norm, lr=model.learning_rate,
               normalize_advantages=model.normalize_advantage,
               optimizer=type(opt).__name__.lower(), optim_eps=opt.defaults["eps"])
    ours = {k: getattr(cfg, k) for k in sb3}
    assert sb3 == ours and opt.defaults["alpha"] == 0.99, (sb3, ours)
    assert [l.out_features for l in model.policy.mlp_extractor.policy_net
            if hasattr(l, "out_features")] == list(cfg.hidden_sizes)


def run_sb3(seed, steps, eval_episodes):
    import torch
    from stable_baselines3 import A2C
    from stable_baselines3.common.env_util import make_vec_env

    old = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        start, cpu = time.perf_counter(), time.process_time()
        env = make_vec_env("CartPole-v1", n_envs=8, seed=seed)
        model = A2C("MlpPolicy", env, ent_coef=0.0, seed=seed, device="cpu",
                    stats_window_size=WINDOW, verbose=0)
        _check_equal(model, rb.A2CConfig())
        cb = sb3_curve(WINDOW, THRESHOLD)
        model.learn(total_timesteps=steps, callback=cb)
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    finally:
        torch.set_num_threads(old)
    ev = rb.evaluate_policy_gym(lambda obs: model.predict(obs, deterministic=True)[0],
                                "CartPole-v1", eval_episodes, seed=10_000 + seed)
    return dict(eval_mean=ev.mean(), eval_min=ev.min(), steps_to=cb.hit, wall=wall, cpu=cpu,
                steps=model.num_timesteps)




def main():
    args = parse_args(__doc__, rb.A2CConfig().total_steps)
    sb3 = sb3_version(args.no_sb3)
    have_sb3 = sb3 is not None

    import gymnasium  # noqa: F401  (imported before any timing, for both tools)
    import torch

    cfg = rb.A2CConfig()
    print(f"torch {torch.__version__}, one torch thread for both agents")
    print(f"A2C on CartPole-v1, {args.steps:,} env steps per run for both, {args.eval_episodes} "
          f"deterministic evaluation episodes of the final policy, same function and seeds, "
          f"threshold {THRESHOLD:g} (training curve: mean of the last {WINDOW} episodes)")
    print(f"equal: n_steps {cfg.n_steps}, gamma {cfg.gamma}, lambda {cfg.lam:g} (n-step "
          f"returns), raw advantages, {cfg.optimizer} lr {cfg.lr:g} constant (alpha 0.99, eps "
          f"{cfg.optim_eps:g}), vf_coef {cfg.vf_coef}, ent_coef {cfg.ent_coef:g}, grad clip "
          f"{cfg.max_grad_norm}, separate 64-64 tanh nets, orthogonal init")
    envs = ("rlbook steps all copies in gymnasium's NumPy-vectorised CartPole (one array "
            "operation per step, same-step reset), SB3 each copy in Python (DummyVecEnv); both "
            "budgets count transitions only")
    if cfg.n_envs == 8:
        print(f"equal also: n_envs 8; differs: only the implementation: {envs}")
    else:
        print(f"differs: n_envs {cfg.n_envs} (rlbook) vs 8 (zoo): the NumPy-vectorised "
              f"CartPole steps {cfg.n_envs} copies for about the price of one; {envs}")
    head = f"{'eval':>7} {'min':>6} {'steps@475':>9} {'wall s':>7} {'cpu s':>6}"
    print(f"{'seed':>4} | {'rlbook':^39}"
          + (f" | {'SB3 ' + sb3:^39} | ratio" if have_sb3 else ""))
    print(f"{'':>4} | {head}" + (f" | {head} | ours/SB3" if have_sb3 else ""))
    ours_w, sb3_w, ours_c, sb3_c, ok, sb3_ok = [], [], [], [], [], []
    for seed in range(args.seeds):
        r = run_ours(seed, args.steps, args.eval_episodes)
        ours_w.append(r["wall"])
        ours_c.append(r["cpu"])
        ok.append(r["eval_mean"] >= THRESHOLD)
        line = f"{seed:>4} | {fmt(r, cpu=True)}"
        if have_sb3:
            s = run_sb3(seed, args.steps, args.eval_episodes)
            sb3_w.append(s["wall"])
            sb3_c.append(s["cpu"])
            sb3_ok.append(s["eval_mean"] >= THRESHOLD)
            line += f" | {fmt(s, cpu=True)} | {r['wall'] / s['wall']:6.2f}"
        print(line, flush=True)
    summary = (f"rlbook: evaluation return >= {THRESHOLD:g} on {sum(ok)}/{len(ok)} seeds, "
               f"mean wall {np.mean(ours_w):.1f} s")
    if have_sb3:
        ratio = np.sum(ours_w) / np.sum(sb3_w)
        summary += (f"; SB3: {sum(sb3_ok)}/{len(sb3_ok)} seeds, mean wall {np.mean(sb3_w):.1f} s; "
                    f"wall-time ratio ours/SB3 = {ratio:.2f} (CPU time "
                    f"{np.sum(ours_c) / np.sum(sb3_c):.2f})")
    print(summary)
    goal = all(ok) and (not have_sb3 or ratio <= 0.5)
    print(f"goal (every seed >= {THRESHOLD:g} at <= 0.5 x SB3's wall time): "
          f"{'met' if goal else 'NOT met'}")


if __name__ == "__main__":
    main()
