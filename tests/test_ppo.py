import numpy as np
import pytest
import torch

import rlbook as rb


def _gae_loop(r, v, nv, d, gamma, lam, trunc=None):
    """The plain per-step loop, written independently of the vectorised code."""
    T = len(r)
    adv = np.zeros(T)
    for t in range(T):
        total, coef = 0.0, 1.0
        for k in range(t, T):
            delta = r[k] + gamma * (1 - d[k]) * nv[k] - v[k]
            total += coef * delta
            if d[k] or (trunc is not None and trunc[k]):
                break
            coef *= gamma * lam
        adv[t] = total
    return adv


def _episode_data(rng, T=40, N=None, p_done=0.1):
    shape = (T,) if N is None else (T, N)
    r = rng.normal(size=shape)
    v = rng.normal(size=shape)
    nv = rng.normal(size=shape)
    d = (rng.random(shape) < p_done).astype(float)
    return r, v, nv, d


@pytest.mark.parametrize("gamma,lam", [(0.99, 0.95), (0.9, 0.0), (0.9, 1.0), (1.0, 0.5), (0.0, 0.7)])
def test_gae_matches_plain_loop(gamma, lam):
    rng = np.random.default_rng(0)
    r, v, nv, d = _episode_data(rng)
    np.testing.assert_allclose(rb.gae(r, v, nv, d, gamma, lam), _gae_loop(r, v, nv, d, gamma, lam), atol=1e-12)
    # (T, N): each column is an independent environment
    r, v, nv, d = _episode_data(rng, N=5)
    out = rb.gae(r, v, nv, d, gamma, lam)
    assert out.shape == (40, 5)
    for n in range(5):
        np.testing.assert_allclose(out[:, n], _gae_loop(r[:, n], v[:, n], nv[:, n], d[:, n], gamma, lam), atol=1e-12)


def test_gae_lam0_is_td_error_and_lam1_is_monte_carlo():
    rng = np.random.default_rng(1)
    T, gamma = 25, 0.95
    r, v = rng.normal(size=T), rng.normal(size=T)
    nv = np.append(v[1:], 0.0)  # consistent values along one episode
    d = np.zeros(T)
    d[-1] = 1  # the episode terminates after the last step
    np.testing.assert_allclose(rb.gae(r, v, nv, d, gamma, 0.0), r + gamma * (1 - d) * nv - v, atol=1e-14)
    G = np.array([sum(gamma ** (k - t) * r[k] for k in range(t, T)) for t in range(T)])
    np.testing.assert_allclose(rb.gae(r, v, nv, d, gamma, 1.0), G - v, atol=1e-12)
    np.testing.assert_allclose(rb.lambda_returns(r, v, nv, d, gamma, 1.0), G, atol=1e-12)
    # not terminal: lam = 1 bootstraps from the last next value
    d[-1] = 0
    nv[-1] = 3.0
    np.testing.assert_allclose(rb.gae(r, v, nv, d, gamma, 1.0), G + gamma ** (T - np.arange(T)) * 3.0 - v, atol=1e-12)


def test_gae_truncation_bootstraps_but_stops():
    rng = np.random.default_rng(2)
    r, v, nv, d = _episode_data(rng, p_done=0.0)
    trunc = np.zeros(40)
    trunc[[9, 30]] = 1
    out = rb.gae(r, v, nv, d, 0.9, 0.8, truncations=trunc)
    np.testing.assert_allclose(out, _gae_loop(r, v, nv, d, 0.9, 0.8, trunc), atol=1e-12)
    # at the truncation step the advantage is the one-step TD error bootstrapped from V(final obs)
    assert out[9] == pytest.approx(r[9] + 0.9 * nv[9] - v[9])
    assert out[30] == pytest.approx(r[30] + 0.9 * nv[30] - v[30])


def test_gae_errors():
    r = np.zeros(5)
    with pytest.raises(ValueError, match=r"values has shape \(4,\)"):
        rb.gae(r, np.zeros(4), r, r, 0.9, 0.9)
    with pytest.raises(ValueError, match="next_values has shape"):
        rb.gae(r, r, np.zeros((5, 2)), r, 0.9, 0.9)
    with pytest.raises(ValueError, match="dones has shape"):
        rb.gae(r, r, r, np.zeros(6), 0.9, 0.9)
    with pytest.raises(ValueError, match="truncations has shape"):
        rb.gae(r, r, r, r, 0.9, 0.9, truncations=np.zeros(3))
    with pytest.raises(ValueError, match=r"\(T,\) or \(T, N\)"):
        rb.gae(np.zeros((2, 2, 2)), np.zeros((2, 2, 2)), np.zeros((2, 2, 2)), np.zeros((2, 2, 2)), 0.9, 0.9)
    with pytest.raises(ValueError, match="gamma"):
        rb.gae(r, r, r, r, 1.5, 0.9)
    with pytest.raises(ValueError, match="lam"):
        rb.gae(r, r, r, r, 0.9, -0.1)
    with pytest.raises(TypeError, match="lam"):
        rb.gae(r, r, r, r, 0.9, "a")
    with pytest.raises(ValueError, match=r"dones\[2\]"):
        rb.gae(r, r, r, np.array([0, 0, 0.5, 0, 0]), 0.9, 0.9)
    with pytest.raises(ValueError, match="finite"):
        rb.gae(np.array([0, np.nan, 0, 0, 0]), r, r, r, 0.9, 0.9)


def test_clipped_objective_hand_cases():
    eps = 0.2
    # (ratio, A) -> min(ratio A, clip(ratio) A)
    cases = [(1.5, 1.0, 1.2), (1.5, -1.0, -1.5), (0.5, 1.0, 0.5), (0.5, -1.0, -0.8), (1.1, 2.0, 2.2), (0.9, -2.0, -1.8)]
    for ratio, A, expected in cases:
        assert rb.clipped_surrogate_objective(np.array([ratio]), np.array([A]), eps) == pytest.approx(expected)
    ratio = np.array([c[0] for c in cases])
    adv = np.array([c[1] for c in cases])
    mean = np.mean([c[2] for c in cases])
    assert rb.clipped_surrogate_objective(ratio, adv, eps) == pytest.approx(mean)
    assert rb.clipped_surrogate_loss(ratio, adv, eps) == pytest.approx(-mean)
    t = rb.clipped_surrogate_objective(torch.tensor(ratio), torch.tensor(adv), eps)
    assert isinstance(t, torch.Tensor) and float(t) == pytest.approx(mean)


def test_clipped_objective_gradients():
    eps = 0.2
    ratio = torch.tensor([1.5, 1.5, 0.5, 0.5, 1.1, 0.9], dtype=torch.float64, requires_grad=True)
    adv = torch.tensor([1.0, -1.0, 1.0, -1.0, 2.0, -2.0], dtype=torch.float64)
    rb.clipped_surrogate_objective(ratio, adv, eps).backward()
    # zero gradient exactly where the clip is active in the min: (1.5, +) and (0.5, -)
    expected = np.array([0.0, -1.0, 1.0, 0.0, 2.0, -2.0]) / 6
    np.testing.assert_allclose(ratio.grad.numpy(), expected)


def test_clipped_objective_errors():
    with pytest.raises(ValueError, match="eps"):
        rb.clipped_surrogate_objective(np.ones(3), np.ones(3), 0.0)
    with pytest.raises(ValueError, match="eps"):
        rb.clipped_surrogate_objective(torch.ones(3), torch.ones(3), -0.1)
    with pytest.raises(ValueError, match="shape"):
        rb.clipped_surrogate_objective(np.ones(3), np.ones(2), 0.2)
    with pytest.raises(TypeError, match="both"):
        rb.clipped_surrogate_objective(torch.ones(3), np.ones(3), 0.2)
    with pytest.raises(ValueError, match="ratio"):
        rb.clipped_surrogate_objective(np.array([1.0, -0.5]), np.ones(2), 0.2)
    with pytest.raises(ValueError, match="empty"):
        rb.clipped_surrogate_objective(np.ones(0), np.ones(0), 0.2)


def test_kl_penalty_and_adaptive_beta():
    ratio, adv = np.array([1.2, 0.8]), np.array([1.0, -1.0])
    assert rb.kl_penalty_objective(ratio, adv, 0.05, 2.0) == pytest.approx(0.2 - 0.1)
    t = rb.kl_penalty_objective(torch.tensor(ratio), torch.tensor(adv), torch.tensor(0.05), 2.0)
    assert isinstance(t, torch.Tensor) and float(t) == pytest.approx(0.1)
    assert rb.adaptive_kl_beta(1.0, 0.001, 0.01) == 0.5  # kl < target / 1.5
    assert rb.adaptive_kl_beta(1.0, 0.02, 0.01) == 2.0  # kl > target * 1.5
    assert rb.adaptive_kl_beta(1.0, 0.01, 0.01) == 1.0
    assert rb.adaptive_kl_beta(1.0, 0.0149, 0.01) == 1.0 and rb.adaptive_kl_beta(1.0, 0.0067, 0.01) == 1.0
    with pytest.raises(ValueError, match="beta"):
        rb.adaptive_kl_beta(0.0, 0.01, 0.01)
    with pytest.raises(ValueError, match="kl_target"):
        rb.adaptive_kl_beta(1.0, 0.01, 0.0)
    with pytest.raises(ValueError, match="kl"):
        rb.adaptive_kl_beta(1.0, -0.01, 0.01)
    with pytest.raises(ValueError, match="scale"):
        rb.adaptive_kl_beta(1.0, 0.01, 0.01, scale=1.0)
    with pytest.raises(ValueError, match="factor"):
        rb.adaptive_kl_beta(1.0, 0.01, 0.01, factor=0.5)
    with pytest.raises(ValueError, match="beta"):
        rb.kl_penalty_objective(ratio, adv, 0.05, -1.0)


def test_ppo_losses_values():
    g = torch.Generator().manual_seed(0)
    B = 64
    old = torch.log(torch.rand(B, generator=g, dtype=torch.float64))
    new = (old + 0.3 * torch.randn(B, generator=g, dtype=torch.float64)).requires_grad_()
    adv = torch.randn(B, generator=g, dtype=torch.float64)
    values = torch.randn(B, generator=g, dtype=torch.float64, requires_grad=True)
    returns = torch.randn(B, generator=g, dtype=torch.float64)
    ent = torch.rand(B, generator=g, dtype=torch.float64)
    out = rb.ppo_losses(new, old, adv, values, returns, ent, 0.2, vf_coef=0.5, ent_coef=0.01)
    ratio = (new - old).exp().detach().numpy()
    a = adv.numpy()
    pl = -np.mean(np.minimum(ratio * a, np.clip(ratio, 0.8, 1.2) * a))
    vl = np.mean((values.detach().numpy() - returns.numpy()) ** 2)
    assert float(out.policy_loss.detach()) == pytest.approx(pl)
    assert float(out.value_loss.detach()) == pytest.approx(vl)
    assert float(out.entropy_bonus) == pytest.approx(ent.mean().item())
    assert float(out.total.detach()) == pytest.approx(pl + 0.5 * vl - 0.01 * ent.mean().item())
    assert float(out.clip_fraction) == pytest.approx(np.mean(np.abs(ratio - 1) > 0.2))
    assert float(out.approx_kl) == pytest.approx(np.mean(ratio - 1 - np.log(ratio)))
    assert float(out.approx_kl) >= 0
    out.total.backward()
    assert new.grad is not None and values.grad is not None
    # value clipping: max of clipped and unclipped errors
    old_v = values.detach() + 0.5
    out = rb.ppo_losses(new, old, adv, values, returns, ent, 0.2, old_values=old_v, vf_clip=0.1)
    v = values.detach().numpy()
    vc = old_v.numpy() + np.clip(v - old_v.numpy(), -0.1, 0.1)
    assert float(out.value_loss.detach()) == pytest.approx(np.mean(np.maximum((v - returns.numpy()) ** 2, (vc - returns.numpy()) ** 2)))


def test_ppo_approx_kl_estimates_kl():
    # samples a ~ pi_old; approx_kl ~ KL(pi_old || pi_new) within standard errors
    p_old = torch.tensor([0.5, 0.3, 0.2], dtype=torch.float64)
    p_new = torch.tensor([0.45, 0.33, 0.22], dtype=torch.float64)
    g = torch.Generator().manual_seed(3)
    a = torch.multinomial(p_old, 200_000, replacement=True, generator=g)
    lr = torch.log(p_new[a]) - torch.log(p_old[a])
    z = torch.zeros(len(a), dtype=torch.float64)
    out = rb.ppo_losses(torch.log(p_new[a]), torch.log(p_old[a]), z, z, z, z, 0.2)
    k3 = (lr.exp() - 1 - lr).numpy()
    se = k3.std() / np.sqrt(len(k3))
    exact = rb.kl_divergence(p_old.numpy(), p_new.numpy())
    assert abs(float(out.approx_kl) - exact) < 5 * se


def test_ppo_losses_errors():
    x = torch.zeros(4)
    with pytest.raises(ValueError, match="eps"):
        rb.ppo_losses(x, x, x, x, x, x, 0.0)
    with pytest.raises(ValueError, match="returns has shape"):
        rb.ppo_losses(x, x, x, x, torch.zeros(3), x, 0.2)
    with pytest.raises(TypeError, match="advantages"):
        rb.ppo_losses(x, x, np.zeros(4), x, x, x, 0.2)
    with pytest.raises(ValueError, match="old_values"):
        rb.ppo_losses(x, x, x, x, x, x, 0.2, vf_clip=0.2)
    with pytest.raises(ValueError, match="vf_coef"):
        rb.ppo_losses(x, x, x, x, x, x, 0.2, vf_coef=-1.0)
    with pytest.raises(ValueError, match="ent_coef"):
        rb.ppo_losses(x, x, x, x, x, x, 0.2, ent_coef=-1.0)


@pytest.mark.parametrize("to", [np.asarray, torch.tensor])
def test_clipped_surrogate_validates_numpy_and_torch_alike(to):
    # regression: the torch path used to skip the checks of the NumPy path
    with pytest.raises(ValueError, match=r"ratio\[1\] is -0.5"):
        rb.clipped_surrogate_objective(to([1.0, -0.5]), to([1.0, 1.0]), 0.2)
    with pytest.raises(ValueError, match="empty"):
        rb.clipped_surrogate_objective(to(np.ones(0)), to(np.ones(0)), 0.2)
    with pytest.raises(ValueError, match=r"advantages\[0\] is nan"):
        rb.clipped_surrogate_objective(to([1.0, 1.0]), to([np.nan, 1.0]), 0.2)
    with pytest.raises(ValueError, match=r"ratio\[0\] is inf"):
        rb.clipped_surrogate_objective(to([np.inf, 1.0]), to([1.0, 1.0]), 0.2)
    with pytest.raises(ValueError, match="shape"):
        rb.clipped_surrogate_objective(to(np.ones(3)), to(np.ones(2)), 0.2)
