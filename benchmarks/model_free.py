"""Monte Carlo speed: the lockstep learners of rlbook against a plain per-episode loop.

The Monte Carlo learners of Chapter 5 run ``n_runs`` independent learners in
lockstep: the episodes of all runs advance together, one vectorised draw per
time step. This script times, side by side and in one run, the chapter's
workloads done by ``rlbook`` and by a plain Python loop written the textbook
way (one episode at a time, one step at a time, lists and dictionaries, the
successors of each ``(s, a)`` precomputed so that a step is a ``bisect`` on a
short list):

* first-visit MC prediction on blackjack (stick-on-20 policy);
* MC exploring starts on blackjack, 200 learners of 500 episodes (Figure 5.2 of the chapter);
* on-policy MC epsilon-greedy on Zhao's grid world, 200 learners of 100 episodes of
  100 steps (the chapter runs this for two values of epsilon);
* off-policy MC prediction of one blackjack state, ordinary and weighted
  importance sampling, 100 learners (Example 5.4, with 2000 instead of 10 000
  episodes per learner so that the plain loop finishes in seconds).

Both implementations do the same work (same numbers of runs, episodes and
steps); each time is the median of ``--repeats`` runs, the two implementations
called in turn (rlbook, plain, rlbook, ...) so that both see the same machine load.
Goal (C5/C6 issue): at least 10x the plain loop on every workload.

    python benchmarks/model_free.py            # the chapter's workloads, scaled down
    python benchmarks/model_free.py --quick    # smaller, a few seconds
"""
from __future__ import annotations

import argparse
import bisect
import random
import time

import numpy as np

import rlbook as rb


# -- the plain loop -------------------------------------------------------------------------
class PlainEnv:
    """The MDP as Python lists: successors and cumulative probabilities per (s, a)."""

    def __init__(self, mdp):
        S, A = mdp.n_states, mdp.n_actions
        self.succ, self.cdf, self.rew = [], [], []
        for s in range(S):
            row_s, row_c, row_r = [], [], []
            for a in range(A):
                nxt = [int(t) for t in np.flatnonzero(mdp.P[s, a] > 0)]
                row_s.append(nxt)
                row_c.append(list(np.cumsum(mdp.P[s, a, nxt])))
                row_r.append([float(mdp.R_next[s, a, t]) for t in nxt])
            self.succ.append(row_s)
            self.cdf.append(row_c)
            self.rew.append(row_r)
        self.terminal = [bool(t) for t in mdp.terminal]
        self.gamma = mdp.gamma
        self.n_actions = A

    def step(self, s, a):
        cdf = self.cdf[s][a]
        j = min(bisect.bisect_right(cdf, random.random() * cdf[-1]), len(cdf) - 1)
        return self.succ[s][a][j], self.rew[s][a][j]


def plain_episode(env, s, policy, max_steps, first_action=None):
    """One episode: lists of states, actions, rewards."""
    states, actions, rewards = [], [], []
    for t in range(max_steps):
        if env.terminal[s]:
            break
        a = first_action if (t == 0 and first_action is not None) else policy(s)
        s2, r = env.step(s, a)
        states.append(s)
        actions.append(a)
        rewards.append(r)
        s = s2
    return states, actions, rewards


def draw(cdf):
    return bisect.bisect_right(cdf, random.random() * cdf[-1])


def plain_mc_prediction(env, pi, n_episodes, rho0):
    cdf0 = list(np.cumsum(rho0))
    pcdf = [list(np.cumsum(row)) for row in pi]
    total = [0.0] * len(rho0)
    count = [0] * len(rho0)
    for _ in range(n_episodes):
        states, _, rewards = plain_episode(env, draw(cdf0), lambda s: draw(pcdf[s]), 10_000)
        g, first = 0.0, {}
        for t in range(len(states) - 1, -1, -1):
            g = env.gamma * g + rewards[t]
            first[states[t]] = g                        # ends holding the first visit's return
        for s, g in first.items():
            total[s] += g
            count[s] += 1
    return total, count


def plain_mc_control(env, n_runs, n_episodes, epsilon, starts, max_steps, exploring,
                     first_visit):
    S, A = len(env.terminal), env.n_actions
    cdf0 = list(np.cumsum(starts))
    out = []
    for _ in range(n_runs):
        q = [[0.0] * A for _ in range(S)]
        n = [[0] * A for _ in range(S)]
        greedy = [0] * S

        def policy(s):
            if epsilon > 0 and random.random() < epsilon:
                return random.randrange(A)
            return greedy[s]

        for _ in range(n_episodes):
            s0 = draw(cdf0)
            a0 = random.randrange(A) if exploring else None
            states, actions, rewards = plain_episode(env, s0, policy, max_steps, a0)
            g = 0.0
            seen_at = {}
            if first_visit:
                for t, sa in enumerate(zip(states, actions)):
                    seen_at.setdefault(sa, t)
            for t in range(len(states) - 1, -1, -1):
                g = env.gamma * g + rewards[t]
                s, a = states[t], actions[t]
                if first_visit and seen_at[(s, a)] != t:
                    continue
                n[s][a] += 1
                q[s][a] += (g - q[s][a]) / n[s][a]
                greedy[s] = max(range(A), key=lambda b: (q[s][b], -b))
        out.append(q)
    return out


def plain_off_policy(env, pi, beta, n_runs, n_episodes, s0, weighted):
    bcdf = [list(np.cumsum(row)) for row in beta]
    out = []
    for _ in range(n_runs):
        num = den = 0.0
        for _ in range(n_episodes):
            states, actions, rewards = plain_episode(env, s0, lambda s: draw(bcdf[s]), 10_000)
            g, rho = 0.0, 1.0
            for t in range(len(states) - 1, -1, -1):
                g = env.gamma * g + rewards[t]
                rho *= pi[states[t]][actions[t]] / beta[states[t]][actions[t]]
            num += rho * g
            den += rho if weighted else 1.0
        out.append(num / den if den else 0.0)
    return out


# -- the workloads --------------------------------------------------------------------------
def workloads(scale):
    bj = rb.blackjack()
    mdp = bj.mdp
    stick20 = rb.blackjack_threshold_policy(20)
    beta = rb.uniform_policy(mdp.n_states, 2)
    starts = np.r_[np.full(200, 1 / 200), np.zeros(13)]
    s13 = bj.state(13, 2, True)
    grid = rb.GridWorld().to_mdp()
    n_pred = int(100_000 * scale)
    es_eps = int(500 * scale)
    eg_eps = int(100 * scale)
    off_eps = int(2000 * scale)
    env_bj, env_grid = PlainEnv(mdp), PlainEnv(grid)
    pi_list, beta_list = stick20.tolist(), beta.tolist()
    uniform25 = np.full(25, 1 / 25)
    return [
        (f"MC prediction, blackjack, {n_pred} episodes",
         lambda: rb.mc_prediction(mdp, stick20, n_pred, rng=0, rho0=bj.rho0),
         lambda: plain_mc_prediction(env_bj, pi_list, n_pred, bj.rho0)),
        (f"MC exploring starts, blackjack, 200 runs x {es_eps} episodes",
         lambda: rb.mc_exploring_starts(mdp, es_eps, rng=0, rho0=starts, n_runs=200),
         lambda: plain_mc_control(env_bj, 200, es_eps, 0.0, starts, 10_000, True, True)),
        (f"MC eps-greedy, grid world, 200 runs x {eg_eps} episodes x 100 steps",
         lambda: rb.mc_epsilon_greedy(grid, eg_eps, epsilon=0.2, rng=0, n_runs=200,
                                      max_steps=100),
         lambda: plain_mc_control(env_grid, 200, eg_eps, 0.2, uniform25, 100, False, False)),
        (f"off-policy MC (ordinary + weighted), 100 runs x {off_eps} episodes",
         lambda: [rb.off_policy_mc_prediction(mdp, stick20, beta, off_eps, rng=0, s0=s13,
                                              n_runs=100, weighted=w) for w in (False, True)],
         lambda: [plain_off_policy(env_bj, pi_list, beta_list, 100, off_eps, s13, w)
                  for w in (False, True)]),
    ]


def median_times(fns, repeats):
    """Median wall time of each function, the calls interleaved (``f, g, f, g, ...``)
    so that both see the same machine load."""
    times = [[] for _ in fns]
    for _ in range(repeats):
        for fn, ts in zip(fns, times):
            t0 = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - t0)
    return [float(np.median(ts)) for ts in times]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller workloads")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    random.seed(0)
    scale = 0.2 if args.quick else 1.0
    print(f"numpy {np.__version__}; median of {args.repeats} repeats, seconds")
    print(f"{'workload':66s} {'rlbook':>8} {'plain':>8} {'speed-up':>9} {'>= 10x':>7}")
    speedups = []
    for name, fast, plain in workloads(scale):
        t_fast, t_plain = median_times([fast, plain], args.repeats)
        speedups.append(t_plain / t_fast)
        ok = "yes" if speedups[-1] >= 10 else "NO"
        print(f"{name:66s} {t_fast:>8.3f} {t_plain:>8.3f} {speedups[-1]:>8.1f}x {ok:>7}",
              flush=True)
    worst = min(speedups)
    rows = ", ".join(f"{s:.1f}x" for s in speedups)
    print(f"goal: at least 10x the plain loop on every workload ({rows}) -> "
          f"{'met on every row' if worst >= 10 else 'NOT met'} (worst {worst:.1f}x)")


if __name__ == "__main__":
    main()
