"""Mutation-survivor tests for ``rlbook/trust_region/ppo.py`` (GAE and the PPO loss) and
``rlbook/policy_gradient/objectives.py`` (issue 14).

Each test checks a contract: the PPO paper's loss (Schulman et al. 2017, eq. 7 and 9)
written out again in NumPy, the documented defaults and diagnostics, or an error message
pinned with ``match=`` on the argument's name (and index / value where the message gives
them). None of them pins today's output.
"""
import numpy as np
import pytest
import torch

import rlbook as rb
from rlbook.trust_region.ppo import _ppo_loss_terms

# ---------------------------------------------------------------------------
# gae: validation of truncations, multi-index messages, empty rollouts
# ---------------------------------------------------------------------------


# the value is printed with repr (``np.float64(0.5)`` under NumPy 2): match the number
def _zeros(*shape):
    return np.zeros(shape)


def test_gae_checks_truncations_are_0_or_1():
    z = _zeros(3)
    with pytest.raises(ValueError, match=r"^truncations\[1\] is \S*0\.5\S*, expected 0 or 1$"):
        rb.gae(z, z, z, z, 0.9, 0.9, truncations=[0.0, 0.5, 0.0])
    with pytest.raises(ValueError, match=r"^truncations\[2\] is \S*2\.0\S*, expected 0 or 1$"):
        rb.lambda_returns(z, z, z, z, 0.9, 0.9, truncations=[0.0, 1.0, 2.0])


def test_gae_names_the_bad_entry_of_a_batch_by_row_and_column():
    z = _zeros(3, 4)
    d = _zeros(3, 4)
    d[1, 2] = 0.5
    with pytest.raises(ValueError, match=r"^dones\[1, 2\] is \S*0\.5\S*, expected 0 or 1$"):
        rb.gae(z, z, z, d, 0.9, 0.9)
    t = _zeros(3, 4)
    t[2, 3] = -1.0
    with pytest.raises(ValueError, match=r"^truncations\[2, 3\] is \S*-1\.0\S*, expected 0 or 1$"):
        rb.gae(z, z, z, z, 0.9, 0.9, truncations=t)


@pytest.mark.parametrize("shape", [(0,), (0, 3)])
def test_gae_refuses_an_empty_rollout(shape):
    # regression: T = 0 used to raise an IndexError from inside the recursion
    z = np.zeros(shape)
    with pytest.raises(ValueError, match=r"^rewards is empty"):
        rb.gae(z, z, z, z, 0.9, 0.9)
    with pytest.raises(ValueError, match=r"^rewards is empty"):
        rb.lambda_returns(z, z, z, z, 0.9, 0.9)


@pytest.mark.parametrize("done", [0.0, 1.0])
def test_gae_of_a_single_step_is_its_td_error(done):
    # T = 1: A_0 = delta_0 = r_0 + gamma (1 - d_0) V(s_1) - V(s_0) for every lambda
    r, v, nv = [1.5], [0.4], [2.0]
    delta = 1.5 + 0.9 * (1 - done) * 2.0 - 0.4
    for lam in (0.0, 0.7, 1.0):
        np.testing.assert_allclose(rb.gae(r, v, nv, [done], 0.9, lam), [delta], rtol=1e-15)
        np.testing.assert_allclose(rb.lambda_returns(r, v, nv, [done], 0.9, lam), [delta + 0.4],
                                   rtol=1e-15)


# ---------------------------------------------------------------------------
# ppo_losses: the loss against the PPO paper, written out in NumPy
# ---------------------------------------------------------------------------


def _ref_loss(new, old, adv, v, ret, ent, eps, c1, c2, old_v=None, vf_clip=None):
    """-L^CLIP + c1 L^VF - c2 S (PPO paper eq. 7 and 9), in NumPy."""
    r = np.exp(new - old)
    l_clip = np.mean(np.minimum(r * adv, np.clip(r, 1 - eps, 1 + eps) * adv))
    if vf_clip is None:
        l_vf = np.mean((v - ret) ** 2)
    else:
        vc = old_v + np.clip(v - old_v, -vf_clip, vf_clip)
        l_vf = np.mean(np.maximum((v - ret) ** 2, (vc - ret) ** 2))
    s = np.mean(ent)
    return -l_clip, l_vf, s, -l_clip + c1 * l_vf - c2 * s


def _batch(B=16, seed=0):
    rng = np.random.default_rng(seed)
    old = np.log(rng.uniform(0.1, 1.0, B))
    new = old + 0.4 * rng.standard_normal(B)
    adv = rng.standard_normal(B)
    v = rng.standard_normal(B)
    ret = rng.standard_normal(B)
    ent = rng.uniform(0.5, 2.0, B)
    return new, old, adv, v, ret, ent


def _t(x):
    return torch.as_tensor(np.asarray(x, dtype=np.float64))


def test_ppo_losses_default_coefficients_are_half_and_zero():
    # documented defaults: vf_coef c1 = 0.5, ent_coef c2 = 0 (the entropy does not count)
    arrs = _batch()
    out = rb.ppo_losses(*map(_t, arrs), 0.2)
    pl, vl, s, total = _ref_loss(*arrs, 0.2, 0.5, 0.0)
    assert s > 0.5  # the entropy term would show if c2 were not 0
    assert float(out.total) == pytest.approx(total, rel=1e-12)
    assert float(out.policy_loss) == pytest.approx(pl, rel=1e-12)
    assert float(out.value_loss) == pytest.approx(vl, rel=1e-12)


def test_ppo_losses_accepts_zero_value_coefficient():
    # c1 >= 0: with vf_coef = 0 the total is the policy loss minus c2 times the entropy
    arrs = _batch(seed=1)
    out = rb.ppo_losses(*map(_t, arrs), 0.2, vf_coef=0.0, ent_coef=0.01)
    pl, vl, s, total = _ref_loss(*arrs, 0.2, 0.0, 0.01)
    assert vl > 0.1
    assert float(out.total) == pytest.approx(total, rel=1e-12)
    assert float(out.total) == pytest.approx(pl - 0.01 * s, rel=1e-12)
    out = rb.ppo_losses(*map(_t, arrs), 0.2, vf_coef=0, ent_coef=0)
    assert float(out.total) == pytest.approx(pl, rel=1e-12)


def test_ppo_losses_with_value_clipping_matches_eq_9_variant():
    arrs = _batch(seed=2)
    old_v = arrs[3] + np.linspace(-1, 1, len(arrs[3]))
    out = rb.ppo_losses(*map(_t, arrs), 0.15, vf_coef=0.7, ent_coef=0.02,
                        old_values=_t(old_v), vf_clip=0.3)
    pl, vl, s, total = _ref_loss(*arrs, 0.15, 0.7, 0.02, old_v=old_v, vf_clip=0.3)
    assert float(out.value_loss) == pytest.approx(vl, rel=1e-12)
    assert float(out.total) == pytest.approx(total, rel=1e-12)


def test_ppo_losses_diagnostics_false_gives_none():
    # PPOLosses: approx_kl and clip_fraction are None with diagnostics=False
    arrs = _batch(seed=3)
    out = rb.ppo_losses(*map(_t, arrs), 0.2, diagnostics=False)
    assert out.approx_kl is None
    assert out.clip_fraction is None
    assert float(out.total) == pytest.approx(_ref_loss(*arrs, 0.2, 0.5, 0.0)[3], rel=1e-12)


def test_clip_fraction_counts_strictly_outside_the_clip_range():
    # PPOLosses.clip_fraction: the fraction of samples with |rho - 1| > eps (strict).
    # eps is set to |rho_0 - 1| computed with the same operations as the loss, so
    # sample 0 lies exactly on the boundary and is not counted.
    old = torch.log(torch.tensor([0.5, 0.5, 0.5, 0.5], dtype=torch.float64))
    new = torch.log(torch.tensor([0.7, 0.5, 0.5, 0.95], dtype=torch.float64))
    eps = float(((new - old).exp() - 1).abs()[0])
    assert 0.3 < eps < 0.5
    z = torch.zeros(4, dtype=torch.float64)
    out = rb.ppo_losses(new, old, z, z, z, z, eps)
    # samples 1, 2 have rho = 1, sample 3 has rho = 1.9: one of four is outside
    assert float(out.clip_fraction) == 0.25


def test_loss_terms_without_entropy_leave_the_term_out():
    # _ppo_loss_terms: entropy=None leaves the entropy term out (no bonus, total = c2 = 0)
    arrs = _batch(seed=4)
    t = list(map(_t, arrs))
    out = _ppo_loss_terms(*t[:5], None, 0.2, 0.5, 0.0, None, None, True)
    assert out.entropy_bonus is None
    assert float(out.total) == pytest.approx(_ref_loss(*arrs, 0.2, 0.5, 0.0)[3], rel=1e-12)


# ---------------------------------------------------------------------------
# ppo_losses: argument checks, each message pinned on the argument's name
# ---------------------------------------------------------------------------

_NAMES = ["new_log_prob", "old_log_prob", "advantages", "values", "returns", "entropy"]


@pytest.mark.parametrize("k", range(6))
def test_ppo_losses_names_the_argument_that_is_not_a_tensor(k):
    args = [torch.zeros(3, dtype=torch.float64) for _ in range(6)]
    args[k] = np.zeros(3)
    with pytest.raises(TypeError, match=rf"^{_NAMES[k]} must be a torch\.Tensor, got ndarray$"):
        rb.ppo_losses(*args, 0.2)


@pytest.mark.parametrize("k", range(1, 6))
def test_ppo_losses_names_the_argument_of_the_wrong_shape(k):
    args = [torch.zeros(3, dtype=torch.float64) for _ in range(6)]
    args[k] = torch.zeros(2, dtype=torch.float64)
    with pytest.raises(ValueError, match=rf"^{_NAMES[k]} has shape \(2,\) but new_log_prob has "
                                         r"shape \(3,\)$"):
        rb.ppo_losses(*args, 0.2)


@pytest.mark.parametrize("name, kw, msg", [
    ("vf_coef", {"vf_coef": -1.0}, r"^vf_coef is -1\.0, expected a finite number >= 0$"),
    ("ent_coef", {"ent_coef": -0.5}, r"^ent_coef is -0\.5, expected a finite number >= 0$"),
    ("vf_clip", {"vf_clip": -0.1, "old_values": torch.zeros(3)},
     r"^vf_clip is -0\.1, expected a finite number > 0$"),
    ("vf_clip", {"vf_clip": 0.0, "old_values": torch.zeros(3)},
     r"^vf_clip is 0\.0, expected a finite number > 0$"),
    ("old_values", {"vf_clip": 0.2}, r"^vf_clip needs old_values \(the value predictions at "
                                     r"collection time\)$"),
])
def test_ppo_losses_coefficient_messages(name, kw, msg):
    x = torch.zeros(3)
    with pytest.raises(ValueError, match=msg):
        rb.ppo_losses(x, x, x, x, x, x, 0.2, **kw)


@pytest.mark.parametrize("eps", [0.0, -0.2])
def test_eps_message_names_eps(eps):
    x = torch.zeros(3)
    msg = rf"^eps is {eps!r}, expected a finite number > 0$"
    with pytest.raises(ValueError, match=msg):
        rb.ppo_losses(x, x, x, x, x, x, eps)
    with pytest.raises(ValueError, match=msg):
        rb.clipped_surrogate_objective(np.ones(2), np.ones(2), eps)


# ---------------------------------------------------------------------------
# policy_gradient/objectives: softmax_policy
# ---------------------------------------------------------------------------


def test_softmax_policy_is_the_defining_ratio_on_every_row():
    # pi(a|s) = exp(theta[s, a]) / sum_b exp(theta[s, b]), for a non-square theta (S != A)
    # and a square one (S = A, where a wrong axis still broadcasts)
    rng = np.random.default_rng(5)
    for shape in [(4, 3), (3, 3), (1, 5)]:
        theta = rng.normal(size=shape)
        e = np.exp(theta)
        np.testing.assert_allclose(rb.softmax_policy(theta), e / e.sum(axis=1)[:, None],
                                   rtol=1e-13)


def test_softmax_policy_is_stable_row_by_row():
    # the documented stabilisation leaves each row's distribution unchanged; rows far
    # below the largest preference of another row must not underflow to 0/0
    theta = np.array([[0.0, np.log(3.0)], [-2000.0, -2000.0 + np.log(3.0)], [800.0, 800.0]])
    pi = rb.softmax_policy(theta)
    np.testing.assert_allclose(pi, [[0.25, 0.75], [0.25, 0.75], [0.5, 0.5]], rtol=1e-12)


def test_softmax_policy_single_action_is_certain():
    np.testing.assert_array_equal(rb.softmax_policy([[3.0], [-7.0]]), [[1.0], [1.0]])


@pytest.mark.parametrize("theta, msg", [
    (np.zeros(3), r"^theta must have 2 dimension\(s\), got shape \(3,\)$"),
    (np.zeros((2, 2, 2)), r"^theta must have 2 dimension\(s\), got shape \(2, 2, 2\)$"),
    (np.zeros((2, 0)), r"^theta has shape \(2, 0\), expected at least one action$"),
    ([[0.0, np.inf]], r"^theta\[0, 1\] is inf, expected a finite number$"),
])
def test_softmax_policy_messages(theta, msg):
    with pytest.raises(ValueError, match=msg):
        rb.softmax_policy(theta)


def test_softmax_policy_type_message():
    with pytest.raises(TypeError, match=r"^theta must be an array of numbers"):
        rb.softmax_policy([["a", "b"]])
