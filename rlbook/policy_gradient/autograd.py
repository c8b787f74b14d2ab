"""PyTorch routes to the policy gradient (chapter *The policy gradient theorem*).

* An exact, differentiable closed form of the objective,
  ``J(theta) = rho0^T (I - gamma P_pi)^{-1} r_pi``, so that autograd gives a
  gradient that is independent of the policy gradient theorem.
* REINFORCE with a small neural policy on a Gymnasium environment with a
  discrete action space (``CartPole-v1`` in the chapter).
"""
from __future__ import annotations


import numpy as np

from .._validate import as_float_array, check_distribution
from ..mdp import FiniteMDP, _check_mdp

__all__ = [
    "torch_policy_objective",
    "autograd_policy_gradient",
]


def _torch():
    import torch

    return torch


def torch_policy_objective(mdp: FiniteMDP, theta, rho0, phi=None):
    r"""``J(theta) = rho0^T (I - gamma P_pi)^{-1} r_pi`` as a differentiable torch scalar.

    ``pi = softmax(theta)`` row by row (tabular, ``theta`` of shape ``(S, A)``) or
    ``pi = softmax(phi theta)`` (linear softmax, ``theta`` of shape ``(d,)`` and
    features ``phi`` of shape ``(S, A, d)``). The linear system is solved on the
    non-terminal states (terminal states have value 0). Nothing here uses the
    policy gradient theorem, so ``torch.autograd`` on this function is an
    independent route to ``grad J``.

    Parameters
    ----------
    mdp : FiniteMDP
    theta : torch.Tensor
        Parameters (float64; set ``requires_grad=True`` to differentiate).
    rho0 : array_like (S,)
    phi : array_like (S, A, d), optional

    Returns
    -------
    J : torch.Tensor (0-dimensional)
    """
    torch = _torch()
    _check_mdp(mdp)
    S, A = mdp.n_states, mdp.n_actions
    rho0 = check_distribution(rho0, S, "rho0")
    if not isinstance(theta, torch.Tensor):
        raise TypeError(f"theta must be a torch.Tensor, got {type(theta).__name__}")
    theta = theta.to(torch.float64)
    if phi is None:
        if tuple(theta.shape) != (S, A):
            raise ValueError(f"theta must have shape ({S}, {A}), got {tuple(theta.shape)}")
        logits = theta
    else:
        phi = as_float_array(phi, "phi", ndim=3)
        if phi.shape[:2] != (S, A) or tuple(theta.shape) != (phi.shape[2],):
            raise ValueError(f"phi has shape {phi.shape} and theta {tuple(theta.shape)}; expected "
                             f"phi ({S}, {A}, d) and theta (d,)")
        logits = torch.as_tensor(phi) @ theta
    pi = torch.softmax(logits, dim=1)
    P = torch.as_tensor(np.array(mdp.P))
    R = torch.as_tensor(np.array(mdp.R))
    P_pi = torch.einsum("sa,sat->st", pi, P)
    r_pi = (pi * R).sum(dim=1)
    live = torch.as_tensor(np.array(~mdp.terminal))
    if mdp.gamma == 1.0:
        from ..dp.bellman import _proper_check

        _proper_check(mdp, P_pi.detach().numpy())
    n = int(live.sum())
    M = torch.eye(n, dtype=torch.float64) - mdp.gamma * P_pi[live][:, live]
    v = torch.linalg.solve(M, r_pi[live])
    return torch.as_tensor(rho0)[live] @ v


def autograd_policy_gradient(mdp: FiniteMDP, theta, rho0, phi=None) -> np.ndarray:
    """``grad_theta J`` by automatic differentiation of :func:`torch_policy_objective`.

    Parameters
    ----------
    mdp : FiniteMDP
    theta : array_like (S, A), or (d,) with ``phi``
    rho0 : array_like (S,)
    phi : array_like (S, A, d), optional

    Returns
    -------
    grad : ndarray, the shape of ``theta``
    """
    torch = _torch()
    th = as_float_array(theta, "theta", ndim=2 if phi is None else 1)
    t = torch.tensor(th, dtype=torch.float64, requires_grad=True)
    J = torch_policy_objective(mdp, t, rho0, phi)
    (g,) = torch.autograd.grad(J, t)
    return g.numpy().copy()


# ---------------------------------------------------------------------------
# REINFORCE with a neural policy on a Gymnasium environment
# ---------------------------------------------------------------------------







