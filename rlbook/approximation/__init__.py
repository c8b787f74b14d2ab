"""Value function approximation (C8): features and linear methods."""

__all__: list[str] = []
