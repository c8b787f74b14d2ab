"""Conjugate gradients, Fisher-vector products, natural gradients and the TRPO
step (chapter *TRPO and PPO*).

The natural gradient ``F^{-1} g`` (Kakade 2001) and the TRPO step (Schulman et
al. 2015) both need the solution of a linear system whose matrix, the Fisher
information ``F``, is far too large to form for a neural network.  Conjugate
gradients (Hestenes & Stiefel 1952; Nocedal & Wright, ch. 5) only need the map
``v -> F v``, which double back-propagation of the mean KL divergence provides
at the cost of about two gradient evaluations.

Argument conventions: the natural gradient of a tabular policy takes ``theta``
(a function of parameters), the KL and surrogate callables of :func:`trpo_step`
take flat parameter vectors; see :mod:`rlbook.policy_gradient.objectives`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .._validate import is_torch as _is_torch
from .._validate import check_int, check_positive
from ..mdp import FiniteMDP, _check_mdp
from ..policy_gradient.objectives import discounted_visitation, softmax_policy
from ..policy_gradient.theorem import exact_policy_gradient

__all__ = [
    "CGInfo",
    "conjugate_gradient",
    "fisher_vector_product",
    "natural_policy_gradient",
    "TRPOStepResult",
    "trpo_step",
]


def _dot(a, b) -> float:
    if _is_torch(a):
        import torch

        return float(torch.dot(a.reshape(-1), b.reshape(-1)))
    return float(np.dot(a.ravel(), b.ravel()))


def _norm(a) -> float:
    return math.sqrt(max(_dot(a, a), 0.0))


@dataclass(frozen=True)
class CGInfo:
    """Diagnostics of a :func:`conjugate_gradient` run."""

    num_iter: int
    """Number of CG iterations performed (matrix-vector products with ``A``)."""
    residual_norms: np.ndarray
    """``||b - A x_k||`` for ``k = 0, ..., num_iter`` (the recursively updated residuals)."""
    converged: bool
    """Whether ``||r_k|| <= tol * ||b||`` was reached within ``max_iter`` iterations."""


def conjugate_gradient(Avp: Callable, b, max_iter: int | None = None, tol: float = 1e-10,
                       return_info: bool = False, preconditioner: Callable | None = None):
    r"""Solve ``A x = b`` for a symmetric positive definite ``A`` given only ``x -> A x``.

    Starting from ``x_0 = 0, r_0 = p_0 = b`` (Hestenes & Stiefel 1952):

    .. math::
        \alpha_k = \frac{r_k^\top r_k}{p_k^\top A p_k},\quad
        x_{k+1} = x_k + \alpha_k p_k,\quad r_{k+1} = r_k - \alpha_k A p_k,\quad
        p_{k+1} = r_{k+1} + \frac{r_{k+1}^\top r_{k+1}}{r_k^\top r_k} p_k .

    In exact arithmetic the iterate ``x_k`` minimises ``(1/2) x^T A x - b^T x``
    over the Krylov space ``span{b, A b, ..., A^{k-1} b}``, so the solution is
    reached after at most ``n`` (the number of distinct eigenvalues) steps.

    Parameters
    ----------
    Avp : callable
        ``v -> A v`` for a vector of the same kind and shape as ``b``.
    b : ndarray or torch.Tensor, shape (n,)
        Right-hand side; NumPy arrays and torch tensors are both accepted and
        the solution has the same type.
    max_iter : int, optional
        Maximum number of iterations, default ``len(b)``.
    tol : float
        Stop when ``||r_k|| <= tol * ||b||`` (relative residual).
    return_info : bool
        Also return a :class:`CGInfo`.
    preconditioner : callable, optional
        ``r -> M^{-1} r`` for a symmetric positive definite ``M`` (preconditioned
        CG: ``z_k = M^{-1} r_k`` replaces ``r_k`` in the directions and in
        ``r_k^T z_k``). ``None`` means ``M = I``.

    Returns
    -------
    x : same type as ``b``
        (``x, info``) if ``return_info``.

    Raises
    ------
    ValueError
        If some search direction has ``p^T A p <= 0``: the matrix is not
        positive definite (CG would divide by zero or climb), or if ``b`` is
        not a finite 1-D vector.
    """
    torch_mode = _is_torch(b)
    if torch_mode:
        b = b.detach()
        if b.dim() != 1:
            raise ValueError(f"b must be a 1-D tensor, got shape {tuple(b.shape)}")
        if not bool(b.isfinite().all()):
            raise ValueError("b contains non-finite entries")
        n = b.shape[0]
    else:
        b = np.asarray(b, dtype=np.float64)
        if b.ndim != 1:
            raise ValueError(f"b must be a 1-D array, got shape {b.shape}")
        if not np.isfinite(b).all():
            i = int(np.argwhere(~np.isfinite(b))[0, 0])
            raise ValueError(f"b[{i}] is {b[i]}, expected a finite number")
        n = b.shape[0]
    max_iter = n if max_iter is None else check_int(max_iter, "max_iter", minimum=0)
    tol = check_positive(tol, "tol", allow_zero=True)

    x = b * 0
    r = b.clone() if torch_mode else b.copy()
    z = preconditioner(r) if preconditioner is not None else r
    p = z.clone() if torch_mode else z.copy()
    rz = _dot(r, z)
    b_norm = _norm(b)
    norms = [b_norm]
    converged = b_norm == 0.0 or b_norm <= tol * b_norm
    k = 0
    while not converged and k < max_iter:
        Ap = Avp(p)
        if torch_mode:
            Ap = Ap.detach()
        pAp = _dot(p, Ap)
        if not pAp > 0:
            raise ValueError(
                f"the matrix is not positive definite: p^T A p = {pAp:.6g} <= 0 for the search "
                f"direction of CG iteration {k} (conjugate gradients need a symmetric positive "
                f"definite A; add damping or check the matrix-vector product)")
        alpha = rz / pAp
        x = x + alpha * p
        r = r - alpha * Ap
        k += 1
        r_norm = _norm(r)
        norms.append(r_norm)
        if r_norm <= tol * b_norm:
            converged = True
            break
        z = preconditioner(r) if preconditioner is not None else r
        rz_new = _dot(r, z)
        p = z + (rz_new / rz) * p
        rz = rz_new
    if return_info:
        return x, CGInfo(num_iter=k, residual_norms=np.asarray(norms), converged=bool(converged))
    return x


def fisher_vector_product(kl_fn: Callable, params, v, damping: float = 0.0):
    r"""Fisher-vector product ``(F + damping I) v`` by double back-propagation.

    ``kl_fn()`` must return the mean KL divergence
    ``mean_s KL(pi_old(.|s) || pi_theta(.|s))`` as a scalar tensor, computed
    with the old distribution *detached*.  Its gradient vanishes at
    ``theta = theta_old`` and its Hessian there is the Fisher information
    ``F = E[grad log pi grad log pi^T]``, so

    .. math:: F v = \nabla_\theta\big( (\nabla_\theta \overline{KL})^\top v \big)

    costs two backward passes and never forms ``F`` (which has ``d^2`` entries).

    Parameters
    ----------
    kl_fn : callable
        ``() -> scalar tensor``, the mean KL, re-evaluated on each call.
    params : sequence of torch.Tensor
        The parameters ``theta`` (requiring grad), in the order of ``v``.
    v : torch.Tensor, shape (d,)
        Flat vector, ``d = sum(p.numel() for p in params)``.
    damping : float
        Adds ``damping * v`` (Tikhonov damping, as in TRPO implementations).

    Returns
    -------
    torch.Tensor, shape (d,)
    """
    import torch

    params = list(params)
    d = sum(p.numel() for p in params)
    if not isinstance(v, torch.Tensor):
        raise TypeError(f"v must be a torch.Tensor, got {type(v).__name__}")
    if v.dim() != 1 or v.shape[0] != d:
        raise ValueError(f"v must have shape ({d},) (the number of parameters), got {tuple(v.shape)}")
    damping = check_positive(damping, "damping", allow_zero=True)
    kl = kl_fn()
    if kl.dim() != 0:
        raise ValueError(f"kl_fn() must return a scalar tensor, got shape {tuple(kl.shape)}")
    grads = torch.autograd.grad(kl, params, create_graph=True)
    flat = torch.cat([g.reshape(-1) for g in grads])
    gv = torch.dot(flat, v.detach().to(flat.dtype))
    hv = torch.autograd.grad(gv, params, allow_unused=True)
    out = torch.cat([(h if h is not None else torch.zeros_like(p)).reshape(-1)
                     for h, p in zip(hv, params)]).detach()
    if damping:
        out = out + damping * v.detach()
    return out


# -------------------------------------------------------------- tabular softmax
def natural_policy_gradient(mdp: FiniteMDP, theta, rho0, cg_iters: int | None = None,
                            damping: float = 0.0, return_info: bool = False,
                            precondition: bool = True, tol: float = 1e-10):
    r"""Natural policy gradient ``F^+ grad_theta J`` of a tabular softmax policy.

    The Fisher information under the normalised discounted state distribution
    ``d = (1 - gamma) eta`` is block diagonal over states,

    .. math:: F = \sum_s d(s)\, \mathbb E_{a\sim\pi(\cdot|s)}[\nabla\log\pi\,\nabla\log\pi^\top],
              \qquad (F v)_s = d(s)\big(\pi_s \odot v_s - \pi_s\, (\pi_s^\top v_s)\big),

    and this formula is the (matrix-free) Fisher-vector product handed to
    :func:`conjugate_gradient`; ``F`` itself is never formed.

    **Pseudo-inverse.**  ``F`` is singular: adding a constant to all
    preferences of one state does not change the policy, so every per-state
    constant direction ``e_s 1^T`` is in its null space, and so is every
    direction of a state with ``d(s) = 0``.  ``grad J`` is orthogonal to that
    null space (its rows sum to zero), and so is every ``F v``.  CG therefore
    solves the consistent singular system, and the result is projected onto
    the orthogonal complement of the null space (rows with zero mean, zero rows
    where ``d(s) = 0``), which removes whatever null-space component the
    iterates picked up.  On that complement ``F`` is positive definite, so the
    projected solution is the minimum-norm solution ``F^+ grad J`` (unique).
    (``grad J`` and ``F v`` are not re-projected at every step: their rows sum
    to zero already, and subtracting a round-off-sized row mean would swamp the
    entries ``~ pi(a|s)`` of rarely chosen actions.)

    Kakade's identity: ``grad J[s, a] = eta(s) pi(a|s) A_pi(s, a)``, hence
    where ``d(s) > 0``

    .. math:: (F^+\nabla J)[s, a] = \frac{A_\pi(s, a) - \frac1{|A|}\sum_b A_\pi(s, b)}{1-\gamma}.

    Parameters
    ----------
    mdp : FiniteMDP
    theta : array_like (S, A)
        Softmax preferences.
    rho0 : array_like (S,)
        Initial-state distribution.
    cg_iters : int, optional
        CG iterations, default ``2 * S * A``.  In exact arithmetic CG stops after at
        most ``S (A - 1)`` iterations (the dimension of the subspace); the extra
        iterations absorb the loss of conjugacy to round-off on ill-conditioned
        Fishers (tiny ``pi(a|s)``).
    damping : float
        Solve ``(F + damping I) x = grad J`` on the subspace instead.
    return_info : bool
        Also return the :class:`CGInfo`.
    precondition : bool
        Use preconditioned CG with the Jacobi preconditioner ``M = diag(F)``,
        ``M[(s, a), (s, a)] = d(s) pi(a|s) (1 - pi(a|s))`` (plus ``damping``).
        It removes the spread of ``d(s)`` and of ``pi(a|s)`` from the condition
        number, so near-deterministic policies (large ``theta``) still converge.
        The preconditioned iterates may pick up per-state constants (null
        directions of ``F``); the final projection removes them, which again
        gives the minimum-norm solution.
    tol : float
        Relative residual tolerance of CG.

    Returns
    -------
    ndarray (S, A)  (and a :class:`CGInfo` if ``return_info``)

    Raises
    ------
    ValueError
        If round-off makes a curvature ``p^T F p`` non-positive, which happens
        only for nearly deterministic policies (smallest ``pi(a|s)`` below about
        ``1e-30``, condition number of ``F`` beyond double precision); pass
        ``damping > 0`` then.

    Notes
    -----
    With ``gamma = 1`` (episodic tasks) ``(1 - gamma) eta`` vanishes; ``d`` is
    then ``eta / sum(eta)`` instead.  Actions whose probability underflows
    (``d(s) pi(a|s) < 1e-150``) are treated as null directions of ``F``.
    """
    _check_mdp(mdp)
    damping = check_positive(damping, "damping", allow_zero=True)
    grad = exact_policy_gradient(mdp, theta, rho0)
    pi = softmax_policy(theta)
    eta = discounted_visitation(mdp, pi, rho0)
    d = (1.0 - mdp.gamma) * eta if mdp.gamma < 1 else eta / eta.sum()
    S, A = pi.shape
    live = d > 0
    mask = live[:, None].astype(float)

    def project(v):
        return (v - v.mean(axis=1, keepdims=True)) * mask

    def Fvp(x):
        v = x.reshape(S, A)
        Fv = d[:, None] * (pi * v - pi * (pi * v).sum(axis=1, keepdims=True)) + damping * v
        return (Fv * mask).ravel()

    # Jacobi preconditioner: the diagonal of F (+ damping); entries that underflow (pi(a|s)
    # below ~1e-150) are treated as null directions of F
    diag = d[:, None] * pi * (1.0 - pi) + damping
    usable = (diag > 1e-150) & live[:, None]
    inv_diag = np.where(usable, 1.0 / np.where(usable, diag, 1.0), 0.0)

    def M_inv(x):
        return (x.reshape(S, A) * inv_diag).ravel()

    b = (grad * mask).ravel()
    iters = 2 * S * A if cg_iters is None else check_int(cg_iters, "cg_iters", minimum=1)
    try:
        x, info = conjugate_gradient(Fvp, b, max_iter=iters, tol=tol, return_info=True,
                                     preconditioner=M_inv if precondition else None)
    except ValueError as exc:
        live_pi = pi[live]
        raise ValueError(
            f"{exc}. Here F is positive semi-definite, so this is round-off: F is numerically "
            f"singular because the policy is nearly deterministic (smallest pi(a|s) on a visited state "
            f"is {live_pi.min() if live_pi.size else float('nan'):.3g}); pass damping > 0") from None
    x = project(x.reshape(S, A))
    return (x, info) if return_info else x


# ------------------------------------------------------------------------- TRPO
@dataclass(frozen=True)
class TRPOStepResult:
    """Outcome of one :func:`trpo_step`."""

    x: object
    """New parameters (``x0 + step``; ``x0`` itself if no step was accepted)."""
    step: object
    """The step taken, ``step_fraction * full_step`` (zeros if rejected)."""
    full_step: object
    """``beta * d``: the step to the boundary of the quadratic trust region."""
    beta: float
    """``sqrt(2 delta / d^T F d)``, the scale putting the full step on the boundary."""
    expected_improvement: float
    """First-order predicted improvement ``g^T step`` of the returned step (0 if rejected)."""
    actual_improvement: float
    """``surrogate_fn(x) - surrogate_fn(x0)`` of the returned step (0 if rejected)."""
    kl: float
    """``kl_fn(x)`` at the returned parameters (0 if rejected)."""
    step_fraction: float
    """Accepted line-search fraction ``backtrack_coeff ** i`` (0 if rejected)."""
    accepted: bool
    """Whether the line search found an acceptable step."""
    cg_info: CGInfo
    """Diagnostics of the CG solve of ``F d = g``."""


def trpo_step(x0, grad, fvp: Callable, surrogate_fn: Callable, kl_fn: Callable, delta: float,
              cg_iters: int = 10, backtrack_iters: int = 10, backtrack_coeff: float = 0.5,
              accept_ratio: float = 0.0, cg_tol: float = 1e-10) -> TRPOStepResult:
    r"""One TRPO update on a flat parameter vector (Schulman et al. 2015, appendix C).

    1. ``d ~= F^{-1} g`` by ``cg_iters`` conjugate-gradient iterations on ``fvp``;
    2. ``beta = sqrt(2 delta / d^T F d)`` so that the quadratic model of the KL,
       ``(1/2) (beta d)^T F (beta d)``, equals ``delta``: the full step is ``beta d``;
    3. backtracking line search over fractions ``backtrack_coeff ** i``,
       ``i = 0, ..., backtrack_iters - 1``: accept the first ``x = x0 + frac * beta d``
       whose surrogate improves, ``surrogate_fn(x) > surrogate_fn(x0)``, by more than
       ``accept_ratio`` times the first-order prediction ``frac * g^T beta d``, and whose
       exact KL satisfies ``kl_fn(x) <= delta``;
    4. if no fraction is accepted, return ``x0`` with ``accepted=False``.

    Parameters
    ----------
    x0 : ndarray or torch.Tensor, shape (n,)
        Current parameters (NumPy or torch; the results have the same type).
    grad : same type, shape (n,)
        Gradient ``g`` of the surrogate at ``x0``.
    fvp : callable
        ``v -> F v`` (Fisher at ``x0``, usually with a little damping).
    surrogate_fn : callable
        ``x -> L(x)``, the surrogate advantage to be maximised (float or scalar tensor).
    kl_fn : callable
        ``x -> mean KL(pi_x0 || pi_x)`` (float or scalar tensor).
    delta : float
        Trust-region radius (``max_kl``), > 0.
    """
    delta = check_positive(delta, "delta")
    cg_iters = check_int(cg_iters, "cg_iters", minimum=1)
    backtrack_iters = check_int(backtrack_iters, "backtrack_iters", minimum=1)
    backtrack_coeff = check_positive(backtrack_coeff, "backtrack_coeff")
    if backtrack_coeff >= 1:
        raise ValueError(f"backtrack_coeff is {backtrack_coeff!r}, expected a number in (0, 1)")
    accept_ratio = check_positive(accept_ratio, "accept_ratio", allow_zero=True)
    torch_mode = _is_torch(x0)
    if torch_mode:
        x0 = x0.detach()
        grad = grad.detach()
    else:
        x0 = np.asarray(x0, dtype=np.float64)
        grad = np.asarray(grad, dtype=np.float64)
    if tuple(x0.shape) != tuple(grad.shape) or len(x0.shape) != 1:
        raise ValueError(f"x0 and grad must be 1-D of the same shape, got {tuple(x0.shape)} "
                         f"and {tuple(grad.shape)}")
    d, info = conjugate_gradient(fvp, grad, max_iter=cg_iters, tol=cg_tol, return_info=True)
    Fd = fvp(d)
    if torch_mode:
        Fd = Fd.detach()
    dFd = _dot(d, Fd)
    zero = x0 * 0

    def rejected(beta, full):
        return TRPOStepResult(x=x0, step=zero, full_step=full, beta=beta, expected_improvement=0.0,
                              actual_improvement=0.0, kl=0.0, step_fraction=0.0, accepted=False,
                              cg_info=info)

    if not dFd > 0:  # zero gradient: nothing to do
        return rejected(0.0, zero)
    beta = math.sqrt(2.0 * delta / dFd)
    full = beta * d
    expected_full = _dot(grad, full)
    L0 = float(surrogate_fn(x0))
    frac = 1.0
    for _ in range(backtrack_iters):
        x = x0 + frac * full
        improvement = float(surrogate_fn(x)) - L0
        kl = float(kl_fn(x))
        expected = frac * expected_full
        if (np.isfinite(kl) and kl <= delta and improvement > 0
                and improvement > accept_ratio * expected):
            return TRPOStepResult(x=x, step=frac * full, full_step=full, beta=beta,
                                  expected_improvement=expected, actual_improvement=improvement,
                                  kl=kl, step_fraction=frac, accepted=True, cg_info=info)
        frac *= backtrack_coeff
    return rejected(beta, full)
