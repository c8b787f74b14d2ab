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


def sb3_curve(window: int, threshold: float, start: float | None = None,
              every_step: bool = False):
    """An SB3 callback that records the training curve as rlbook does: the first step
    count (``hit``) at which the mean return of the last ``window`` episodes reaches
    ``threshold``, and with ``start`` (a ``time.perf_counter()`` reading) the seconds it
    took (``solve``). Checked at each rollout's end, or at every step (``every_step``,
    for off-policy agents whose rollouts are single steps)."""
    import time

    import numpy as np
    from stable_baselines3.common.callbacks import BaseCallback

    class Curve(BaseCallback):
        def __init__(self):
            super().__init__()
            self.hit = self.solve = None

        def _check(self):
            buf = [e["r"] for e in self.model.ep_info_buffer]
            if self.hit is None and len(buf) and np.mean(buf[-window:]) >= threshold:
                self.hit = self.model.num_timesteps
                if start is not None:
                    self.solve = time.perf_counter() - start

        def _on_step(self):
            if every_step:
                self._check()
            return True

        def _on_rollout_end(self):
            if not every_step:
                self._check()

    return Curve()
