"""The TRPO/PPO exercise checkers pass the reference and reject typical wrong answers."""
import numpy as np
import pytest
import torch

import rlbook as rb
from rlbook.exercises import ExerciseFailed
from rlbook.exercises import trpo_ppo as ex


# ---------------------------------------------------------------- GAE
def _gae_loop(rewards, values, next_values, dones, truncations, gamma, lam,
              mask_recursion=True, discount=None):
    T = len(rewards)
    adv = np.zeros(T)
    last = 0.0
    for t in reversed(range(T)):
        nonterm = 1.0 - dones[t]
        keep = nonterm * (1.0 - truncations[t])
        delta = rewards[t] + gamma * nonterm * next_values[t] - values[t]
        carry = gamma * lam if discount is None else discount
        last = delta + carry * (keep if mask_recursion else 1.0) * last
        adv[t] = last
    return adv


def test_gae_checker_accepts_reference_and_loop():
    assert "correct" in repr(ex.check_gae(rb.gae))
    ex.check_gae(_gae_loop)


def test_gae_checker_rejects_unmasked_recursion():
    with pytest.raises(ExerciseFailed, match="GAE.*wrong value"):
        ex.check_gae(lambda **k: _gae_loop(**k, mask_recursion=False))


def test_gae_checker_rejects_wrong_discount():
    with pytest.raises(ExerciseFailed, match="GAE"):
        ex.check_gae(lambda **k: _gae_loop(**k, discount=k["lam"]))


def test_gae_checker_reports_exceptions_and_shapes():
    def boom(**k):
        raise RuntimeError("oops")
    with pytest.raises(ExerciseFailed, match="raised RuntimeError"):
        ex.check_gae(boom)
    with pytest.raises(ExerciseFailed, match="shape"):
        ex.check_gae(lambda **k: rb.gae(**k)[:-1] if len(k["rewards"]) > 1 else np.zeros(3))


# ---------------------------------------------------------------- Fisher-vector product
def _fvp_explicit(pi, d, v):
    """Form F = sum_s d(s) sum_a pi(a|s) g g^T with the score g = e_{s,a} - pi_s (on block s)."""
    S, A = pi.shape
    F = np.zeros((S * A, S * A))
    for s in range(S):
        for a in range(A):
            g = np.zeros((S, A))
            g[s] = -pi[s]
            g[s, a] += 1.0
            g = g.ravel()
            F += d[s] * pi[s, a] * np.outer(g, g)
    return (F @ v.ravel()).reshape(S, A)


def test_fvp_checker_accepts_explicit_fisher():
    ex.check_tabular_fisher_vector_product(_fvp_explicit)


def test_fvp_checker_accepts_torch_double_backprop():
    def fvp(pi, d, v):
        theta0 = torch.tensor(np.log(pi))
        theta = theta0.clone().requires_grad_(True)
        dd = torch.tensor(d)

        def kl():
            logp = torch.log_softmax(theta, dim=1)
            p_old = torch.softmax(theta0, dim=1)
            return (dd * (p_old * (torch.log(p_old) - logp)).sum(dim=1)).sum()

        return rb.fisher_vector_product(kl, [theta], torch.tensor(v.ravel())).numpy().reshape(pi.shape)

    ex.check_tabular_fisher_vector_product(fvp)


def test_fvp_checker_rejects_missing_mean_term():
    with pytest.raises(ExerciseFailed, match="Fisher-vector product: wrong value"):
        ex.check_tabular_fisher_vector_product(lambda pi, d, v: d[:, None] * pi * v)


def test_fvp_checker_rejects_missing_state_weights():
    with pytest.raises(ExerciseFailed, match="Fisher"):
        ex.check_tabular_fisher_vector_product(
            lambda pi, d, v: pi * v - pi * (pi * v).sum(axis=1, keepdims=True))


# ---------------------------------------------------------------- clipped surrogate
def test_clip_checker_accepts_reference():
    ex.check_clipped_surrogate(rb.clipped_surrogate_objective)
    ex.check_clipped_surrogate(
        lambda ratio, advantages, eps: np.mean(np.minimum(ratio * advantages,
                                                          np.clip(ratio, 1 - eps, 1 + eps) * advantages)))


def test_clip_checker_rejects_max_instead_of_min():
    with pytest.raises(ExerciseFailed, match="clipped surrogate"):
        ex.check_clipped_surrogate(
            lambda ratio, advantages, eps: np.mean(np.maximum(ratio * advantages,
                                                              np.clip(ratio, 1 - eps, 1 + eps) * advantages)))


def test_clip_checker_rejects_clip_without_min():
    with pytest.raises(ExerciseFailed, match="clipped surrogate"):
        ex.check_clipped_surrogate(
            lambda ratio, advantages, eps: np.mean(np.clip(ratio, 1 - eps, 1 + eps) * advantages))


def test_clip_checker_rejects_loss_sign():
    with pytest.raises(ExerciseFailed, match="clipped surrogate"):
        ex.check_clipped_surrogate(rb.clipped_surrogate_loss)


# ---------------------------------------------------------------- KL Hessian
def test_hessian_checker_accepts_reference_and_autograd():
    ex.check_categorical_kl_hessian(lambda p: np.diag(p) - np.outer(p, p))

    def by_autograd(p):
        theta0 = torch.tensor(np.log(p))

        def kl(theta):
            return (torch.tensor(p) * (torch.tensor(np.log(p)) - torch.log_softmax(theta, 0))).sum()

        return torch.autograd.functional.hessian(kl, theta0).numpy()

    ex.check_categorical_kl_hessian(by_autograd)


def test_hessian_checker_rejects_diagonal_only():
    with pytest.raises(ExerciseFailed, match="Hessian"):
        ex.check_categorical_kl_hessian(lambda p: np.diag(p))


def test_checkers_are_exported():
    for name in ex.__all__:
        assert getattr(rb.exercises, name) is getattr(ex, name)


def _hint(check, fn):
    with pytest.raises(rb.exercises.ExerciseFailed) as err:
        check(fn)
    return str(err.value).split("Hint:")[-1] if "Hint:" in str(err.value) else ""


def test_check_gae_covers_truncations_and_names_the_mistakes():
    from rlbook.exercises import trpo_ppo as ex

    assert ex.check_gae(ex._gae_reference).n_cases == 16
    assert any(c["truncations"].any() for c in ex._gae_cases())
    assert "truncations are ignored" in _hint(rb.exercises.check_gae,
                                              ex._gae_ignore_truncations)
    assert "treated as a termination" in _hint(rb.exercises.check_gae,
                                              ex._gae_truncation_as_termination)
    assert "lambda, not gamma * lambda" in _hint(rb.exercises.check_gae, ex._carry)


def test_check_linear_fisher_vector_product():
    from rlbook.exercises import trpo_ppo as ex

    # the reference is F v with F formed from the scores
    rng = np.random.default_rng(0)
    theta, phi = rng.standard_normal(4), rng.standard_normal((3, 5, 4))
    d, v = rng.dirichlet(np.ones(3)), rng.standard_normal(4)
    pi, sc = rb.linear_softmax_policy(theta, phi), rb.linear_softmax_score(theta, phi)
    F = np.einsum("s,sa,sai,saj->ij", d, pi, sc, sc)
    np.testing.assert_allclose(ex._linear_fvp_reference(theta, phi, d, v), F @ v,
                               atol=1e-12)
    rb.exercises.check_linear_fisher_vector_product(ex._linear_fvp_reference)
    assert "not centred" in _hint(rb.exercises.check_linear_fisher_vector_product,
                                  ex._linear_fvp_no_centering)


def test_check_gaussian_fisher():
    from rlbook.exercises import trpo_ppo as ex

    rb.exercises.check_gaussian_fisher(ex._gaussian_fisher_reference)
    hint = _hint(rb.exercises.check_gaussian_fisher,
                 lambda sigma: np.diag(np.concatenate([1 / sigma**2, 2 / sigma**2])))
    assert "(mu, sigma)" in hint


def test_clip_and_hessian_hints():
    hint = _hint(rb.exercises.check_clipped_surrogate, lambda ratio, advantages, eps: float(
        np.mean(np.clip(ratio, 1 - eps, 1 + eps) * advantages)))
    assert "without the min" in hint
    assert "-p p^T" in _hint(rb.exercises.check_categorical_kl_hessian, lambda p: np.diag(p))
