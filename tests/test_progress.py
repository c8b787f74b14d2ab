"""The progress bar of the training loops: deterministic text, bounded redraws."""
import contextlib
import io

from rlbook._progress import N_REDRAWS, progress_bar


def run(total, step, enabled=True):
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        bar = progress_bar(total, enabled, desc="train", unit="step")
        n = 0
        while n < total:
            k = min(step, total - n)
            bar.update(k)
            n += k
            bar.set_postfix(ret=f"{n / 100:.1f}")
        bar.close()
    return buf.getvalue()


def test_bar_is_deterministic_and_bounded():
    for total, step in [(100_000, 1024), (39_936, 4096), (200, 4), (7, 1)]:
        out = run(total, step)
        assert out == run(total, step)  # no timings or rates in the text
        frames = [f for f in out.split("\r") if f]
        assert len(frames) <= N_REDRAWS + 1
        assert "100%" in frames[-1] and f"{total}/{total}" in frames[-1]
        assert sum("100%" in f for f in frames) == 1  # the final state is drawn once
        assert "it/s" not in out and "step/s" not in out and "<" not in out


def test_disabled_bar_prints_nothing():
    assert run(1000, 10, enabled=False) == ""
