"""Policy improvement theory for tabular MDPs (chapter *TRPO and PPO*).

Everything here is exact (no sampling).  The book's notation (the TRPO paper's
names in parentheses, Schulman et al., 2015):

* ``J(pi) = sum_s rho0(s) v_pi(s)``, the expected discounted return (the paper's
  ``eta(pi)``; :func:`rlbook.policy_objective`);
* ``eta_pi(s) = sum_t gamma^t Pr(S_t = s)``, the *unnormalised* discounted
  visitation (the paper's ``rho_pi``; :func:`rlbook.discounted_visitation`), with
  total mass ``1 / (1 - gamma)``;
* ``nu_pi = (1 - gamma) eta_pi``, the *normalised* discounted state distribution
  (:func:`normalized_visitation`);
* ``A_pi(s, a) = q_pi(s, a) - v_pi(s)``, the advantage (:func:`advantage`), and
  ``epsilon_A = max_{s,a} |A_pi(s, a)|``.

The results the chapter derives and checks with these functions:

* the performance difference lemma (Kakade and Langford, 2002)
  ``J(pi~) = J(pi) + sum_s eta_pi~(s) sum_a pi~(a|s) A_pi(s, a)``;
* the surrogate ``L_pi(pi~) = J(pi) + sum_s eta_pi(s) sum_a pi~(a|s) A_pi(s, a)``
  (the *old* visitation);
* the lower bound ``J(pi~) >= L_pi(pi~) - C D_KL^max(pi, pi~)`` with
  ``C = 4 epsilon_A gamma / (1 - gamma)^2`` (TRPO, Theorem 1);
* the minorise-maximise iteration that this bound licenses.

Argument conventions: functions of policies take ``pi`` (``pi_old``, ``pi_new``),
functions of parameters take ``theta``; see :mod:`rlbook.policy_gradient.objectives`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validate import as_float_array, check_distribution, check_int, check_policy, check_positive
from ..dp.bellman import _q_from_v, _solve_v
from .information import kl_divergence
from ..mdp import FiniteMDP, _check_mdp, policy_matrices
from ..policy_gradient.objectives import _visitation

__all__ = [
    "advantage",
    "normalized_visitation",
    "PerformanceDifference",
    "performance_difference",
    "surrogate_objective",
    "kl_per_state",
    "max_kl",
    "mean_kl",
    "trpo_penalty_coefficient",
    "ImprovementBound",
    "improvement_bound",
    "MMResult",
    "mm_policy_iteration",
]


# --------------------------------------------------------------------------- helpers
def _check_discounted(mdp) -> None:
    _check_mdp(mdp)
    if not mdp.gamma < 1.0:
        raise ValueError(f"mdp.gamma is {mdp.gamma!r}, expected gamma < 1 (the improvement theory "
                         "uses the normalised visitation (1 - gamma) rho_pi and constants in 1 / (1 - gamma))")


def _eval(mdp, pi, rho0):
    """``(eta, v, q, rho)`` of a validated policy."""
    P_pi, r_pi = policy_matrices(mdp, pi)
    v = _solve_v(mdp, P_pi, r_pi)
    q = _q_from_v(mdp, v)
    rho = _visitation(mdp, P_pi, rho0)
    return float(rho0 @ v), v, q, rho


def _check_step(mdp, pi_old, pi_new, rho0):
    """Validated ``(pi_old, pi_new, rho0)`` of a policy step on a discounted MDP."""
    _check_discounted(mdp)
    pi_old = check_policy(pi_old, mdp.n_states, mdp.n_actions, "pi_old")
    pi_new = check_policy(pi_new, mdp.n_states, mdp.n_actions, "pi_new")
    return pi_old, pi_new, check_distribution(rho0, mdp.n_states, "rho0")


def _kl_rows(p, q):
    """``KL(p[s] || q[s])`` for every row (``0 log 0 = 0``, ``inf`` where ``p > 0 = q``)."""
    with np.errstate(over="ignore", divide="ignore"):  # q may underflow far from p: KL = inf or huge
        return np.atleast_1d(kl_divergence(p, q, axis=-1))


def _expected_advantage(weights, pi, A):
    """``sum_s weights(s) sum_a pi(a|s) A(s, a)``."""
    return float(weights @ np.einsum("sa,sa->s", pi, A))


def _check_pair(pi_old, pi_new):
    pi_old = as_float_array(pi_old, "pi_old", ndim=2)
    pi_new = as_float_array(pi_new, "pi_new", ndim=2)
    if pi_new.shape != pi_old.shape:
        raise ValueError(f"pi_new has shape {pi_new.shape}, expected the shape of pi_old {pi_old.shape}")
    pi_old = check_policy(pi_old, *pi_old.shape, name="pi_old")
    pi_new = check_policy(pi_new, *pi_old.shape, name="pi_new")
    return pi_old, pi_new


# --------------------------------------------------------------------------- basic objects
def advantage(mdp: FiniteMDP, pi) -> np.ndarray:
    r"""Advantage ``A_pi(s, a) = q_pi(s, a) - v_pi(s)``, shape ``(S, A)``.

    Exact, from :func:`rlbook.evaluate_policy` and :func:`rlbook.q_from_v`.
    It averages to zero under the policy: ``sum_a pi(a|s) A_pi(s, a) = 0``.
    Terminal states get 0.
    """
    P_pi, r_pi = policy_matrices(mdp, pi)
    v = _solve_v(mdp, P_pi, r_pi)
    return _q_from_v(mdp, v) - v[:, None]


def normalized_visitation(mdp: FiniteMDP, pi, rho0) -> np.ndarray:
    r"""Normalised discounted state distribution ``nu_pi = (1 - gamma) eta_pi``, shape ``(S,)``.

    .. math:: \nu_\pi(s) = (1-\gamma) \sum_{t\ge 0} \gamma^t \Pr(S_t = s \mid S_0 \sim \rho_0, \pi).

    It sums to one when no state is terminal (mass that reaches a terminal
    state is not counted, so with terminal states it sums to less). Requires
    ``gamma < 1``.
    """
    _check_discounted(mdp)
    P_pi, _ = policy_matrices(mdp, pi)
    rho0 = check_distribution(rho0, mdp.n_states, "rho0")
    return (1.0 - mdp.gamma) * _visitation(mdp, P_pi, rho0)


@dataclass(frozen=True)
class PerformanceDifference:
    """Both sides of the performance difference lemma."""

    eta_old: float
    """``eta(pi)``, expected discounted return of the old policy."""
    eta_new: float
    """``eta(pi~)``, expected discounted return of the new policy."""
    lhs: float
    """``eta(pi~) - eta(pi)``."""
    rhs: float
    """``sum_s rho_pi~(s) sum_a pi~(a|s) A_pi(s, a)`` (new visitation, old advantage);
    equals ``1/(1-gamma) E_{s~d_pi~, a~pi~}[A_pi(s, a)]``."""


def performance_difference(mdp: FiniteMDP, pi_old, pi_new, rho0) -> PerformanceDifference:
    r"""Both sides of the performance difference lemma (Kakade and Langford, 2002).

    .. math::
        \eta(\tilde\pi) - \eta(\pi) = \sum_s \rho_{\tilde\pi}(s) \sum_a \tilde\pi(a|s) A_\pi(s, a)
        = \frac{1}{1-\gamma} \mathbb{E}_{s\sim d_{\tilde\pi},\, a\sim\tilde\pi}[A_\pi(s, a)],

    with the unnormalised visitation ``rho_pi~`` of the NEW policy and the
    advantage of the OLD one. ``lhs`` and ``rhs`` agree to rounding error.
    """
    pi_old, pi_new, rho0 = _check_step(mdp, pi_old, pi_new, rho0)
    eta_old, v, q, _ = _eval(mdp, pi_old, rho0)
    eta_new, _, _, rho_new = _eval(mdp, pi_new, rho0)
    rhs = _expected_advantage(rho_new, pi_new, q - v[:, None])
    return PerformanceDifference(eta_old, eta_new, eta_new - eta_old, rhs)


def surrogate_objective(mdp: FiniteMDP, pi_old, pi_new, rho0) -> float:
    r"""The surrogate ``L_pi(pi~)`` of TRPO (Schulman et al., 2015, eq. 3).

    .. math::
        L_\pi(\tilde\pi) = \eta(\pi) + \sum_s \rho_\pi(s) \sum_a \tilde\pi(a|s) A_\pi(s,a)
        = \eta(\pi) + \frac{1}{1-\gamma}\,\mathbb{E}_{s\sim d_\pi,\,a\sim\pi}
          \Big[\frac{\tilde\pi(a|s)}{\pi(a|s)} A_\pi(s,a)\Big].

    The performance difference lemma with the OLD visitation ``rho_pi`` in
    place of ``rho_pi~``. It equals ``eta(pi~)`` at ``pi~ = pi`` and has the
    same gradient there.
    """
    pi_old, pi_new, rho0 = _check_step(mdp, pi_old, pi_new, rho0)
    eta_old, v, q, rho = _eval(mdp, pi_old, rho0)
    return eta_old + _expected_advantage(rho, pi_new, q - v[:, None])


def kl_per_state(pi_old, pi_new) -> np.ndarray:
    r"""``KL(pi_old(.|s) || pi_new(.|s))`` for every state, shape ``(S,)``.

    ``0 log 0 = 0``; the divergence is ``inf`` in a state where ``pi_new``
    gives probability 0 to an action that ``pi_old`` takes.
    """
    pi_old, pi_new = _check_pair(pi_old, pi_new)
    return _kl_rows(pi_old, pi_new)


def max_kl(pi_old, pi_new) -> float:
    r"""``D_KL^max(pi, pi~) = max_s KL(pi(.|s) || pi~(.|s))`` (the old policy first)."""
    return float(kl_per_state(pi_old, pi_new).max())


def mean_kl(mdp: FiniteMDP, pi_old, pi_new, rho0) -> float:
    r"""Average KL ``sum_s d_pi(s) KL(pi(.|s) || pi~(.|s))`` under the OLD normalised
    visitation ``d_pi = (1 - gamma) rho_pi``: the constraint TRPO uses in practice."""
    d = normalized_visitation(mdp, pi_old, rho0)
    kl = kl_per_state(pi_old, pi_new)
    with np.errstate(invalid="ignore"):
        return float(np.sum(np.where(d > 0, d * kl, 0.0)))


def trpo_penalty_coefficient(epsilon, gamma) -> float:
    r"""``C = 4 eps gamma / (1 - gamma)^2`` of TRPO's Theorem 1.

    Parameters
    ----------
    epsilon : float
        ``max_{s,a} |A_pi(s, a)|`` (>= 0).
    gamma : float
        Discount factor in ``[0, 1)``.
    """
    eps = check_positive(epsilon, "epsilon", allow_zero=True)
    g = check_positive(gamma, "gamma", allow_zero=True)
    if g >= 1.0:
        raise ValueError(f"gamma is {gamma!r}, expected a discount factor in [0, 1)")
    return 4.0 * eps * g / (1.0 - g) ** 2


@dataclass(frozen=True)
class ImprovementBound:
    """The terms of ``eta(pi~) >= L_pi(pi~) - C D_KL^max(pi, pi~)``."""

    eta_old: float
    """``eta(pi)``."""
    eta_new: float
    """``eta(pi~)``, the exact return of the new policy."""
    surrogate: float
    """``L_pi(pi~)`` (unnormalised old visitation)."""
    epsilon: float
    """``max_{s,a} |A_pi(s, a)|``."""
    C: float
    """Penalty coefficient used (``4 eps gamma / (1 - gamma)^2`` unless given)."""
    max_kl: float
    """``max_s KL(pi(.|s) || pi~(.|s))``."""
    bound: float
    """``L_pi(pi~) - C D_KL^max``, the lower bound on ``eta(pi~)``."""
    slack: float
    """``eta(pi~) - bound``; the theorem says it is >= 0."""


def improvement_bound(mdp: FiniteMDP, pi_old, pi_new, rho0, C=None) -> ImprovementBound:
    r"""Evaluate TRPO's lower bound (Schulman et al., 2015, Theorem 1).

    .. math::
        \eta(\tilde\pi) \ge L_\pi(\tilde\pi) - C\, D_{KL}^{\max}(\pi, \tilde\pi),
        \qquad C = \frac{4 \epsilon \gamma}{(1-\gamma)^2},\quad
        \epsilon = \max_{s,a} |A_\pi(s,a)|.

    Parameters
    ----------
    mdp : FiniteMDP
        With ``gamma < 1``.
    pi_old, pi_new : array_like (S, A)
        ``pi`` and ``pi~``.
    rho0 : array_like (S,)
    C : float, optional
        Penalty coefficient to use instead of TRPO's (to test other variants
        of the constant); ``>= 0``.

    Returns
    -------
    ImprovementBound
        ``slack = eta(pi~) - (L - C D_KL^max)``; negative means the inequality
        fails for this ``C``.
    """
    pi_old, pi_new, rho0 = _check_step(mdp, pi_old, pi_new, rho0)
    eta_old, v, q, rho = _eval(mdp, pi_old, rho0)
    eta_new, _, _, _ = _eval(mdp, pi_new, rho0)
    A = q - v[:, None]
    L = eta_old + _expected_advantage(rho, pi_new, A)
    eps = float(np.abs(A).max())
    C = trpo_penalty_coefficient(eps, mdp.gamma) if C is None else check_positive(C, "C", allow_zero=True)
    dmax = float(_kl_rows(pi_old, pi_new).max())
    with np.errstate(invalid="ignore"):
        penalty = 0.0 if C == 0.0 else C * dmax
    bound = L - penalty
    return ImprovementBound(eta_old, eta_new, L, eps, C, dmax, bound, eta_new - bound)


# --------------------------------------------------------------------------- MM iteration
@dataclass(frozen=True)
class MMResult:
    """Result of :func:`mm_policy_iteration`."""

    eta: np.ndarray
    """``(n_iter + 1,)`` exact returns ``eta(pi_0), ..., eta(pi_n)``."""
    bound: np.ndarray
    """``(n_iter,)`` value of the maximised minoriser ``M_i(pi_{i+1})``; ``eta[i] <= bound[i] <= eta[i+1]``."""
    step: np.ndarray
    """``(n_iter,)`` step size ``alpha_i`` chosen along the exponentiated-advantage family."""
    max_kl: np.ndarray
    """``(n_iter,)`` ``D_KL^max(pi_i, pi_{i+1})``."""
    pi: np.ndarray
    """``(S, A)`` final policy."""


def _exp_adv(pi, A, alpha):
    with np.errstate(divide="ignore"):  # after a step with C = 0, pi may have zeros: log 0 = -inf keeps them 0
        logits = np.log(pi) + alpha * A
    logits -= logits.max(axis=1, keepdims=True)
    e = np.exp(logits)
    return e / e.sum(axis=1, keepdims=True)


def mm_policy_iteration(mdp: FiniteMDP, rho0, n_iter: int, pi0=None, C=None,
                        n_grid: int = 48) -> MMResult:
    r"""Minorise-maximise policy iteration (TRPO paper, Algorithm 1), tabular and exact.

    At ``pi_i`` the function ``M_i(pi~) = L_{pi_i}(pi~) - C D_KL^max(pi_i, pi~)``
    minorises ``eta`` (``eta >= M_i`` everywhere, by TRPO's Theorem 1) and
    touches it at ``pi_i`` (``M_i(pi_i) = eta(pi_i)``). Hence any ``pi_{i+1}``
    with ``M_i(pi_{i+1}) >= M_i(pi_i)`` gives

    .. math:: \eta(\pi_{i+1}) \ge M_i(\pi_{i+1}) \ge M_i(\pi_i) = \eta(\pi_i).

    **What the maximisation does.** ``M_i`` is maximised over the one-parameter
    family ``pi_alpha(a|s) ∝ pi_i(a|s) exp(alpha A_{pi_i}(s, a))``, ``alpha >= 0``,
    which is the natural policy gradient step of the tabular softmax
    (Kakade, 2001): a log-spaced grid of ``n_grid`` step sizes is scanned and
    the best is refined by golden-section search. ``alpha = 0`` (no change) is
    always a candidate, so ``M_i(pi_{i+1}) >= eta(pi_i)`` holds by
    construction and the returns are monotone. The maximiser over this family
    is not, in general, the maximiser over all policies.

    Parameters
    ----------
    mdp : FiniteMDP
        A discounted MDP (``gamma < 1``: the bound's constant has ``1 - gamma`` in
        its denominator).
    rho0 : array_like (S,)
        Initial-state distribution.
    n_iter : int
        Number of MM steps (>= 0).
    pi0 : array_like (S, A), optional
        Initial policy with full support; uniform by default.
    C : float, optional
        Penalty coefficient; by default TRPO's ``4 eps_i gamma / (1 - gamma)^2``
        recomputed at every iterate from ``eps_i = max |A_{pi_i}|``. ``C = 0``
        maximises the surrogate alone (no guarantee; far along the family some
        actions get probability 0, and ``max_kl`` is then ``inf``).
    n_grid : int
        Number of step sizes scanned per iteration (>= 2).
    """
    _check_discounted(mdp)
    rho0 = check_distribution(rho0, mdp.n_states, "rho0")
    n_iter = check_int(n_iter, "n_iter", 0)
    n_grid = check_int(n_grid, "n_grid", 2)
    S, A_n = mdp.n_states, mdp.n_actions
    if pi0 is None:
        pi = np.full((S, A_n), 1.0 / A_n)
    else:
        pi = check_policy(pi0, S, A_n, "pi0")
        if (pi <= 0).any():
            s, a = np.argwhere(pi <= 0)[0]
            raise ValueError(f"pi0[{s}, {a}] is {pi[s, a]:.6g}, expected a policy with full support "
                             "(the iteration moves in log-probabilities)")
    C_fixed = None if C is None else check_positive(C, "C", allow_zero=True)
    etas, bounds, steps, kls = [], [], [], []
    eta, v, q, rho = _eval(mdp, pi, rho0)
    etas.append(eta)
    for _ in range(n_iter):
        Adv = q - v[:, None]
        eps = float(np.abs(Adv).max())
        Ci = trpo_penalty_coefficient(eps, mdp.gamma) if C_fixed is None else C_fixed

        def M(alpha):
            new = _exp_adv(pi, Adv, alpha)
            gain = float(rho @ np.einsum("sa,sa->s", new, Adv))
            kl = float(_kl_rows(pi, new).max())
            return eta + gain - (0.0 if Ci == 0.0 else Ci * kl), new  # C = 0: no penalty even where KL = inf

        if eps == 0.0:
            best_a, (best_m, best_pi) = 0.0, (eta, pi)
        else:
            # step sizes from 1e-6 / eps to 1e3 / eps: KL ~ alpha^2 eps^2 spans the useful range
            grid = np.concatenate([[0.0], np.geomspace(1e-6, 1e3, n_grid - 1) / eps])
            vals = [M(a)[0] for a in grid]
            k = int(np.argmax(vals))
            best_a, best_m = grid[k], vals[k]
            if 0 < k:
                lo, hi = grid[k - 1], grid[min(k + 1, grid.size - 1)]
                phi = (np.sqrt(5.0) - 1.0) / 2.0
                x1, x2 = hi - phi * (hi - lo), lo + phi * (hi - lo)
                f1, f2 = M(x1)[0], M(x2)[0]
                for _ in range(40):
                    if f1 > f2:
                        hi, x2, f2 = x2, x1, f1
                        x1 = hi - phi * (hi - lo)
                        f1 = M(x1)[0]
                    else:
                        lo, x1, f1 = x1, x2, f2
                        x2 = lo + phi * (hi - lo)
                        f2 = M(x2)[0]
                for a_, f_ in ((x1, f1), (x2, f2)):
                    if f_ > best_m:
                        best_a, best_m = a_, f_
            best_pi = M(best_a)[1]
        kls.append(float(_kl_rows(pi, best_pi).max()))
        pi = best_pi
        bounds.append(best_m)
        steps.append(best_a)
        eta, v, q, rho = _eval(mdp, pi, rho0)
        etas.append(eta)
    return MMResult(np.array(etas), np.array(bounds), np.array(steps), np.array(kls), pi)
