"""Model-free prediction and control (C5-C7): Monte Carlo, stochastic approximation, TD learning."""

__all__: list[str] = []
