"""What the CartPole agent benchmarks (A2C, DQN, PPO against Stable-Baselines3) share:
the command line, the check that SB3 is importable, and the table cells of one run."""
from __future__ import annotations

import argparse


def parse_args(doc: str, default_steps: int, steps_help: str = "env steps per run",
               extra=None) -> argparse.Namespace:
    """``--seeds``, ``--steps``, ``--eval-episodes``, ``--no-sb3``, plus what ``extra(ap)``
    adds; the script's docstring is the help text."""
    ap = argparse.ArgumentParser(description=doc,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=3, help="number of seeds (0, 1, ...)")
    ap.add_argument("--steps", type=int, default=default_steps, help=steps_help)
    ap.add_argument("--eval-episodes", type=int, default=20)
    ap.add_argument("--no-sb3", action="store_true", help="skip Stable-Baselines3")
    if extra is not None:
        extra(ap)
    return ap.parse_args()


def sb3_version(no_sb3: bool) -> str | None:
    """Stable-Baselines3's version, or None when it is skipped or not importable (said so)."""
    if no_sb3:
        return None
    try:
        import stable_baselines3
    except ImportError:
        print("stable-baselines3 not importable: rlbook only")
        return None
    return stable_baselines3.__version__


def fmt(r: dict, cpu: bool = False) -> str:
    """Evaluation mean and minimum, steps to the threshold, wall (and CPU) seconds."""
    st = "never" if r["steps_to"] is None else f"{r['steps_to']:,}"
    line = f"{r['eval_mean']:7.1f} {r['eval_min']:6.0f} {st:>9} {r['wall']:7.1f}"
    return line + (f" {r['cpu']:6.1f}" if cpu else "")
