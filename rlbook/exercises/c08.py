"""Checkers for the coding exercises of Chapter 8, *Value function approximation*."""
from __future__ import annotations

import numpy as np

from ..approximation.linear import lstd, on_policy_distribution, td_matrices
from ..mdp import FiniteMDP, random_mdp
from ._checker import CheckReport, compare_on_cases

__all__ = ["check_td_fixed_point", "check_lstd", "check_double_dqn_targets"]

_EX_TD = "c08 TD fixed point"
_EX_LSTD = "c08 LSTD"
_EX_DDQN = "c08 Double DQN targets"


def _copy(case):
    return {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in case.items()}


def _try(fn, case):
    try:
        return np.asarray(fn(**_copy(case)), dtype=float)
    except Exception:  # noqa: BLE001 - the reader's error is already reported
        return None


# -- the TD fixed point ------------------------------------------------------------------
def _td_cases():
    rng = np.random.default_rng(808)
    cases = []
    for S, k, gamma, on in [(4, 2, 0.9, True), (6, 3, 0.5, True), (8, 3, 0.99, True),
                            (5, 5, 0.9, True), (7, 2, 0.8, False), (10, 4, 0.95, True)]:
        mdp = random_mdp(S, 2, gamma, seed=rng)
        pi = rng.dirichlet(np.ones(2), size=S)
        P_pi = np.einsum("sa,sat->st", pi, mdp.P)
        r_pi = np.einsum("sa,sa->s", pi, mdp.R)
        Phi = rng.standard_normal((S, k))
        d = on_policy_distribution(mdp, pi) if on else rng.dirichlet(np.ones(S))
        cases.append(dict(P_pi=P_pi, r_pi=r_pi, gamma=gamma, Phi=Phi, d=d))
    return cases


def _td_reference(P_pi, r_pi, gamma, Phi, d):
    S = len(r_pi)
    mdp = FiniteMDP(P_pi[:, None, :], r_pi[:, None], gamma)
    A, b = td_matrices(mdp, np.ones((S, 1)), Phi, d)
    return np.linalg.solve(A, b)


def _diagnose_td(fn, cases):
    for case in cases:
        got = _try(fn, case)
        if got is None or got.shape != (case["Phi"].shape[1],):
            return None
        want = _td_reference(**case)
        if np.allclose(got, want, rtol=1e-6, atol=1e-8):
            continue
        P, r, g, Phi, d = (case[n] for n in ("P_pi", "r_pi", "gamma", "Phi", "d"))
        S = len(r)
        v = np.linalg.solve(np.eye(S) - g * P, r)
        D = np.diag(d)
        wrong = {
            "the projection of v_pi (Phi^T D Phi)^-1 Phi^T D v_pi: that is where gradient Monte "
            "Carlo converges; the TD fixed point solves Phi^T D (I - gamma P_pi) Phi w = "
            "Phi^T D r_pi": np.linalg.solve(Phi.T @ D @ Phi, Phi.T @ D @ v),
            "the fixed point without the weighting D (uniform weights): put diag(d) between "
            "Phi^T and the rest": np.linalg.solve(Phi.T @ (Phi - g * P @ Phi), Phi.T @ r),
            "the fixed point with P_pi transposed: the next state's features enter as "
            "P_pi Phi (row s averages phi(s') over s')":
            np.linalg.solve(Phi.T @ D @ (Phi - g * P.T @ Phi), Phi.T @ D @ r),
            "the fixed point without gamma": np.linalg.solve(Phi.T @ D @ (Phi - P @ Phi) + 0 * np.eye(
                Phi.shape[1]), Phi.T @ D @ r) if np.linalg.matrix_rank(
                Phi.T @ D @ (Phi - P @ Phi)) == Phi.shape[1] else None,
        }
        for name, w in wrong.items():
            if w is not None and np.allclose(got, w, rtol=1e-6, atol=1e-8):
                return f"your weights are {name}."
        return None
    return None


def check_td_fixed_point(fn) -> CheckReport:
    r"""Check a reader's ``fn(P_pi, r_pi, gamma, Phi, d)`` returning the weights ``(k,)``
    of the TD fixed point :math:`\Phi^\top D (I - \gamma P_\pi) \Phi w = \Phi^\top D r_\pi`,
    on random chains with on-policy and (one case) off-policy weightings ``d``.

    Hints name the projection of :math:`v_\pi` (the Monte Carlo limit), a missing ``D``,
    a transposed :math:`P_\pi` and a missing :math:`\gamma`.
    """
    return compare_on_cases(_EX_TD, fn, _td_reference, _td_cases(), rtol=1e-6, atol=1e-8,
                            describe=lambda c: (f"S = {len(c['r_pi'])}, k = {c['Phi'].shape[1]}, "
                                                f"gamma = {c['gamma']}"),
                            diagnose=_diagnose_td)


# -- LSTD --------------------------------------------------------------------------------
def _lstd_cases():
    rng = np.random.default_rng(809)
    cases = []
    for S, k, T, gamma in [(4, 2, 50, 0.9), (6, 3, 200, 0.5), (5, 5, 300, 0.99), (8, 3, 100, 0.8)]:
        Phi = rng.standard_normal((S, k))
        s = rng.integers(0, S, T + 1)
        s[:S] = np.arange(S)  # every state visited
        r = rng.standard_normal(T)
        cases.append(dict(Phi=Phi, states=s[:-1], rewards=r, next_states=s[1:], gamma=gamma))
    return cases


def _lstd_reference(Phi, states, rewards, next_states, gamma):
    return lstd(Phi, states, rewards, next_states, gamma, check_definite=False).w


def _diagnose_lstd(fn, cases):
    for case in cases:
        got = _try(fn, case)
        if got is None or got.shape != (case["Phi"].shape[1],):
            return None
        if np.allclose(got, _lstd_reference(**case), rtol=1e-6, atol=1e-8):
            continue
        X, X2 = case["Phi"][case["states"]], case["Phi"][case["next_states"]]
        r, g = case["rewards"], case["gamma"]
        wrong = {
            "A_hat transposed: A_hat = sum_t phi_t (phi_t - gamma phi_t')^T, the outer product "
            "with phi_t on the left": np.linalg.solve((X - g * X2).T @ X, X.T @ r),
            "the least-squares regression of the rewards on phi (gamma dropped from A_hat)":
            np.linalg.solve(X.T @ X, X.T @ r),
            "the solution of the Bellman residual normal equations (phi - gamma phi') on both "
            "sides: that is residual-gradient least squares, not LSTD":
            np.linalg.solve((X - g * X2).T @ (X - g * X2), (X - g * X2).T @ r),
        }
        for name, w in wrong.items():
            if np.allclose(got, w, rtol=1e-6, atol=1e-8):
                return f"your weights are {name}."
        return None
    return None


def check_lstd(fn) -> CheckReport:
    r"""Check a reader's ``fn(Phi, states, rewards, next_states, gamma)`` returning the LSTD
    weights ``(k,)`` solving :math:`\sum_t \phi_t (\phi_t - \gamma \phi'_t)^\top w =
    \sum_t \phi_t r_{t+1}` (no regularisation).

    Hints name a transposed :math:`\hat A`, a dropped :math:`\gamma` and the Bellman
    residual (residual-gradient) normal equations.
    """
    return compare_on_cases(_EX_LSTD, fn, _lstd_reference, _lstd_cases(), rtol=1e-6,
                            atol=1e-8, describe=lambda c: (
                                f"S = {c['Phi'].shape[0]}, k = {c['Phi'].shape[1]}, "
                                f"T = {len(c['states'])}, gamma = {c['gamma']}"),
                            diagnose=_diagnose_lstd)


# -- Double DQN targets ------------------------------------------------------------------
def _ddqn_cases():
    rng = np.random.default_rng(810)
    cases = []
    for B, A, gamma in [(5, 2, 0.99), (16, 4, 0.9), (32, 6, 0.5), (8, 3, 0.0)]:
        done = (rng.random(B) < 0.3).astype(float)
        done[0] = 1.0
        cases.append(dict(q_next_target=rng.standard_normal((B, A)),
                          q_next_online=rng.standard_normal((B, A)),
                          rewards=rng.standard_normal(B), terminated=done, gamma=gamma))
    return cases


def _ddqn_reference(q_next_target, q_next_online, rewards, terminated, gamma):
    a = q_next_online.argmax(axis=1)
    return rewards + gamma * (1 - terminated) * q_next_target[np.arange(len(a)), a]


def _diagnose_ddqn(fn, cases):
    for case in cases:
        got = _try(fn, case)
        if got is None or got.shape != case["rewards"].shape:
            return None
        if np.allclose(got, _ddqn_reference(**case), atol=1e-10):
            continue
        qt, qo, r, d, g = (case[n] for n in ("q_next_target", "q_next_online", "rewards",
                                              "terminated", "gamma"))
        idx = np.arange(len(r))
        wrong = {
            "DQN targets (the target network both selects and evaluates the action)":
            r + g * (1 - d) * qt.max(1),
            "evaluated with the online network: Double DQN selects with the online network "
            "and evaluates with the target network": r + g * (1 - d) * qo[idx, qt.argmax(1)],
            "bootstrapped through terminal transitions: multiply by (1 - terminated)":
            r + g * qt[idx, qo.argmax(1)],
        }
        for name, y in wrong.items():
            if np.allclose(got, y, atol=1e-10):
                return f"your targets are {name}."
        return None
    return None


def check_double_dqn_targets(fn) -> CheckReport:
    r"""Check a reader's ``fn(q_next_target, q_next_online, rewards, terminated, gamma)``
    (NumPy arrays ``(B, A)``, ``(B, A)``, ``(B,)``, ``(B,)``) returning the Double DQN
    targets :math:`y = r + \gamma (1 - d)\, \hat q(s', \arg\max_a q(s', a))` ``(B,)``.

    Hints name plain DQN targets, swapped networks and bootstrapping through terminals.
    """
    return compare_on_cases(_EX_DDQN, fn, _ddqn_reference, _ddqn_cases(), rtol=0.0,
                            atol=1e-10, describe=lambda c: (
                                f"B = {len(c['rewards'])}, A = {c['q_next_target'].shape[1]}, "
                                f"gamma = {c['gamma']}"),
                            diagnose=_diagnose_ddqn)
