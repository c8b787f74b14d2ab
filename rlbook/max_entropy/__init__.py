"""Maximum-entropy RL and continuous control: soft Bellman equations and squashed Gaussians."""

__all__: list[str] = []
