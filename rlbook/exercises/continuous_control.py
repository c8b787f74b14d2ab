"""Checkers for the coding exercises of the chapter *Continuous control and maximum entropy*.

Each checker calls the reader's function with keyword arguments on random and
edge cases, compares it with the reference in :mod:`rlbook`, and names the
typical mistake the answer reproduces.
"""
from __future__ import annotations

import numpy as np

from ..max_entropy.distributional import categorical_projection
from ..max_entropy.soft import soft_policy_evaluation
from ..max_entropy.squashed import _diag_gaussian_log_prob, squashed_gaussian_log_prob
from ..mdp import FiniteMDP, random_mdp
from ._checker import CheckReport, compare_on_cases

__all__ = ["check_soft_policy_evaluation", "check_squashed_action_log_prob",
           "check_categorical_projection"]


def _copy(case):
    return {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in case.items()}


def _diagnose(fn, cases, reference, variants):
    """The hint of the first typical mistake ``fn`` reproduces on every case (and that
    differs from the reference on at least one)."""
    outs = []
    for case in cases:
        try:
            with np.errstate(all="ignore"):
                outs.append(np.asarray(fn(**_copy(case)), dtype=float))
        except Exception:  # noqa: BLE001 - the reader's error is already reported
            return None
    for wrong, hint in variants:
        informative = False
        for case, got in zip(cases, outs):
            with np.errstate(all="ignore"):
                bad = np.asarray(wrong(**case), dtype=float)
            if got.shape != bad.shape or not np.allclose(got, bad, rtol=1e-6, atol=1e-8,
                                                         equal_nan=True):
                break
            informative |= not np.allclose(bad, reference(**case), rtol=1e-6, atol=1e-8)
        else:
            if informative:
                return hint
    return None


def _check(exercise, fn, reference, cases, variants, describe=None, rtol=1e-6, atol=1e-8):
    return compare_on_cases(exercise, fn, reference, cases, rtol=rtol, atol=atol,
                            describe=describe,
                            diagnose=lambda f, cs: _diagnose(f, cs, reference, variants))


# -- soft policy evaluation -----------------------------------------------------------------
def _spe_reference(P, R, gamma, pi, alpha):
    return soft_policy_evaluation(FiniteMDP(P, R, gamma), pi, alpha)[0]


def _spe_variant(sign=-1.0, with_alpha=True):
    def wrong(P, R, gamma, pi, alpha):
        S = len(R)
        logpi = np.log(np.where(pi > 0, pi, 1.0))
        a = alpha if with_alpha else 1.0
        r_pi = (pi * (R + sign * a * logpi)).sum(1)
        P_pi = np.einsum("sa,sat->st", pi, P)
        return np.linalg.solve(np.eye(S) - gamma * P_pi, r_pi)
    return wrong


def _spe_cases(seed=1300, n=8):
    rng = np.random.default_rng(seed)
    cases = []
    for k in range(n):
        S, A = int(rng.integers(1, 7)), int(rng.integers(2, 5))
        gamma = [0.9, 0.5, 0.0, 0.99][k % 4]
        mdp = random_mdp(S, A, gamma, seed=rng)
        pi = rng.dirichlet(np.ones(A), size=S)
        if k % 2 == 1:                      # some actions never taken: 0 log 0 = 0
            pi[:, 0] = 0.0
            pi /= pi.sum(1, keepdims=True)
        cases.append(dict(P=np.array(mdp.P), R=np.array(mdp.R), gamma=gamma, pi=pi,
                          alpha=[0.1, 1.0, 3.0][k % 3]))
    return cases


def check_soft_policy_evaluation(fn) -> CheckReport:
    r"""Check ``fn(P, R, gamma, pi, alpha) -> v`` (shape ``(S,)``), the soft values of ``pi``.

    ``v = r_pi + alpha H_pi + gamma P_pi v`` with ``H_pi(s) = -sum_a pi log pi``
    (``0 log 0 = 0``). Cases: random MDPs with ``gamma`` in ``{0, 0.5, 0.9,
    0.99}``, policies that never take some action, ``alpha`` in ``{0.1, 1, 3}``.
    """
    variants = [(_spe_variant(+1.0), "the entropy enters with the wrong sign: the bonus is "
                 "-alpha log pi, which is positive"),
                (_spe_variant(-1.0, with_alpha=False), "the entropy is not multiplied by alpha"),
                (lambda P, R, gamma, pi, alpha: np.linalg.solve(
                    np.eye(len(R)) - gamma * np.einsum("sa,sat->st", pi, P), (pi * R).sum(1)),
                 "these are the ordinary values v_pi: the entropy bonus is missing")]
    return _check("continuous_control soft policy evaluation", fn, _spe_reference,
                  _spe_cases(), variants,
                  describe=lambda c: f"S = {c['R'].shape[0]}, A = {c['R'].shape[1]}, "
                                     f"gamma = {c['gamma']}, alpha = {c['alpha']}, "
                                     f"pi = {np.array2string(c['pi'], precision=3)}")


# -- log-density of a squashed action -------------------------------------------------------
def _sq_reference(a, mean, log_std, scale):
    return squashed_gaussian_log_prob(np.arctanh(a / scale), mean, log_std, scale)


def _sq_cases(seed=1301, n=8):
    rng = np.random.default_rng(seed)
    cases = []
    for k in range(n):
        B, d = int(rng.integers(1, 6)), int(rng.integers(1, 4))
        scale = [1.0, 2.0, 0.5, np.round(rng.uniform(0.5, 3), 2)][k % 4]
        a = scale * rng.uniform(-0.999, 0.999, size=(B, d))
        cases.append(dict(a=a, mean=rng.normal(size=(B, d)),
                          log_std=rng.uniform(-1.5, 1.0, size=(B, d)), scale=float(scale)))
    return cases


def check_squashed_action_log_prob(fn) -> CheckReport:
    r"""Check ``fn(a, mean, log_std, scale) -> (B,)``, the log-density of *actions* ``a``.

    ``a = scale * tanh(u)``, ``u ~ N(mean, exp(log_std)^2)``, arrays ``(B, d)``,
    the result summed over the last axis. Cases include actions within 0.1 % of
    the bounds and ``scale`` in ``{0.5, 1, 2, ...}``.
    """
    def no_jacobian(a, mean, log_std, scale):
        return _diag_gaussian_log_prob(np.arctanh(a / scale), mean, log_std)

    def no_scale(a, mean, log_std, scale):
        return squashed_gaussian_log_prob(np.arctanh(a / scale), mean, log_std, 1.0)

    def unscaled_atanh(a, mean, log_std, scale):
        u = np.arctanh(np.clip(a, -1 + 1e-12, 1 - 1e-12))
        return squashed_gaussian_log_prob(u, mean, log_std, scale)

    variants = [(no_jacobian, "the change-of-variables term -sum log(scale (1 - tanh(u)^2)) is "
                 "missing: this is the density of u, not of a"),
                (no_scale, "the Jacobian misses the factor scale: d a / d u = scale (1 - tanh(u)^2)"),
                (unscaled_atanh, "invert the squashing with u = atanh(a / scale), not atanh(a)")]
    return _check("continuous_control squashed action log-density", fn, _sq_reference,
                  _sq_cases(), variants, rtol=1e-6, atol=1e-6)


# -- categorical projection -----------------------------------------------------------------
def _cp_cases(seed=1302, n=8):
    rng = np.random.default_rng(seed)
    cases = []
    for k in range(n):
        K, B = int(rng.integers(3, 12)), int(rng.integers(1, 5))
        lo = float(rng.uniform(-10, -1))
        z = np.linspace(lo, lo + float(rng.uniform(2, 20)), K)
        span = z[-1] - z[0]
        cases.append(dict(z=z, p=rng.dirichlet(np.ones(K), size=B),
                          r=rng.uniform(-0.5, 0.5, B) * span,      # some atoms leave the support
                          gamma=[0.9, 0.5, 1.0, 0.99][k % 4],
                          terminated=(rng.random(B) < 0.3).astype(float)))
    return cases


def check_categorical_projection(fn) -> CheckReport:
    r"""Check ``fn(z, p, r, gamma, terminated) -> (B, K)``, the projected target distribution.

    ``z`` is a uniform grid ``(K,)``, ``p`` is ``(B, K)``, ``r`` and
    ``terminated`` are ``(B,)``. Atoms ``r + gamma (1 - d) z_j`` outside
    ``[z_0, z_{K-1}]`` are clipped to the nearest end before the mass is split.
    """
    def no_clip(z, p, r, gamma, terminated):
        dz = z[1] - z[0]
        Tz = r[:, None] + gamma * (1 - terminated[:, None]) * z
        w = np.clip(1 - np.abs(Tz[:, None, :] - z[:, None]) / dz, 0, 1)
        return (w * p[:, None, :]).sum(-1)

    def no_done(z, p, r, gamma, terminated):
        return categorical_projection(z, p, r, gamma)

    variants = [(no_clip, "atoms outside [z_0, z_K-1] lose their mass: clip T z_j to the "
                 "support first"),
                (no_done, "a terminal transition's target is r alone: multiply gamma z by "
                 "(1 - terminated)")]
    return _check("continuous_control categorical projection", fn, categorical_projection,
                  _cp_cases(), variants)
