"""TD learners: runs in lockstep (rlbook) against the textbook per-step Python loop.

Sutton and Barto's Figure 6.4 needs Sarsa and Q-learning on the cliff, 100 runs x
500 episodes (epsilon = 0.1, alpha = 0.5). This script prints, side by side and in
one run:

* the time of ``rb.sarsa`` and ``rb.q_learning`` with ``n_runs=100`` (one Python
  iteration advances all runs by one step);
* the time of the same work done the textbook way: one run at a time, one step at a
  time, a plain Python loop over scalars (``plain_sarsa`` / ``plain_q_learning``
  below, written from the algorithm boxes);
* a check that both give statistically the same learning curves: the mean return of
  each block of 50 episodes, over the runs, agrees within 5 standard errors.

Times are CPU times of this process (``time.process_time``), so that other jobs on a
shared machine inflate them less; the wall time is printed as well.

Goal (issue 9): at least 10x the plain loop.

    python benchmarks/td.py            # 100 runs x 500 episodes (about a minute)
    python benchmarks/td.py --quick    # 20 runs x 200 episodes
"""
from __future__ import annotations

import argparse
import time

import numpy as np

import rlbook as rb


def plain_learner(mdp, n_episodes, alpha, epsilon, rng, s0, q_learning):
    """One run of Sarsa or Q-learning, one step at a time (the textbook loop)."""
    S, A = mdp.n_states, mdp.n_actions
    q = np.zeros((S, A))
    terminal, gamma = mdp.terminal, mdp.gamma
    returns = np.zeros(n_episodes)

    def choose(s):                         # epsilon-greedy, ties broken at random
        if rng.random() < epsilon:
            return int(rng.integers(A))
        row = q[s]
        best = np.flatnonzero(row == row.max())
        return int(best[rng.integers(best.size)])

    for ep in range(n_episodes):
        s, total = s0, 0.0
        a = choose(s)
        while not terminal[s]:
            if q_learning:
                a = choose(s)
            s2, r = mdp.step(s, a, rng)
            s2, r = int(s2), float(r)
            total += r
            if q_learning:
                target = r + (0.0 if terminal[s2] else gamma * q[s2].max())
            else:
                a2 = choose(s2)
                target = r + (0.0 if terminal[s2] else gamma * q[s2, a2])
            q[s, a] += alpha * (target - q[s, a])
            s = s2
            if not q_learning:
                a = a2
        returns[ep] = total
    return returns


def timed(fn):
    c0, w0 = time.process_time(), time.perf_counter()
    out = fn()
    return out, time.process_time() - c0, time.perf_counter() - w0


def same_curves(a, b, block):
    """Largest |difference| of block means over runs, in standard errors."""
    n_blocks = a.shape[1] // block
    worst = 0.0
    for k in range(n_blocks):
        x = a[:, k * block:(k + 1) * block].mean(axis=1)
        y = b[:, k * block:(k + 1) * block].mean(axis=1)
        se = np.sqrt(x.var(ddof=1) / x.size + y.var(ddof=1) / y.size)
        worst = max(worst, abs(x.mean() - y.mean()) / se)
    return worst


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="20 runs x 200 episodes")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    runs, episodes = (20, 200) if args.quick else (100, 500)
    block = 50
    mdp = rb.cliff_walking()
    print(f"numpy {np.__version__}; cliff walking, {runs} runs x {episodes} episodes, "
          "epsilon = 0.1, alpha = 0.5; CPU seconds (wall in brackets)")
    head = (f"{'learner':>11} {'rlbook':>16} {'plain loop':>17} {'speed-up':>9} "
            f"{'curves differ by':>17}")
    print(head)
    speedups = []
    for name, learner, is_q in (("Sarsa", rb.sarsa, False), ("Q-learning", rb.q_learning, True)):
        res, c_rb, w_rb = timed(lambda: learner(mdp, episodes, alpha=0.5, epsilon=0.1,
                                                rng=args.seed, s0=rb.CLIFF_START, n_runs=runs))
        rng = np.random.default_rng(args.seed + 1)
        plain, c_pl, w_pl = timed(lambda: np.array([
            plain_learner(mdp, episodes, 0.5, 0.1, rng, rb.CLIFF_START, is_q)
            for _ in range(runs)]))
        z = same_curves(res.episode_returns, plain, block)
        assert z < 5, f"{name}: learning curves differ by {z:.1f} standard errors"
        speedups.append(c_pl / c_rb)
        print(f"{name:>11} {c_rb:>8.2f} [{w_rb:>5.2f}] {c_pl:>9.2f} [{w_pl:>5.2f}] "
              f"{c_pl / c_rb:>8.1f}x {z:>10.2f} SE max")
    print(f"(curves: mean return of each block of {block} episodes over the runs, "
          "two-sample z, all blocks within 5 SE)")
    print(f"goal: at least 10x the plain loop -> Sarsa {speedups[0]:.1f}x, Q-learning "
          f"{speedups[1]:.1f}x ({'met' if min(speedups) >= 10 else 'NOT met'})")


if __name__ == "__main__":
    main()
