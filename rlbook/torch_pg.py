"""Placeholder module: filled in by its chapter's work (see rlbook/__init__.py)."""
__all__: list[str] = []
