"""Tests of rlbook.torch_pg: autograd through the closed-form objective, and
REINFORCE on CartPole (short, deterministic)."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
import rlbook as rb  # noqa: E402


@pytest.mark.parametrize("seed", range(3))
def test_objective_and_autograd_match_numpy(seed):
    rng = np.random.default_rng(seed)
    mdp = rb.random_mdp(6, 3, 0.85, seed=seed)
    theta = rng.normal(size=(6, 3))
    rho0 = rng.dirichlet(np.ones(6))
    J = rb.torch_policy_objective(mdp, torch.tensor(theta), rho0)
    assert float(J) == pytest.approx(rb.policy_objective(mdp, rb.softmax_policy(theta), rho0), abs=1e-12)
    np.testing.assert_allclose(rb.autograd_policy_gradient(mdp, theta, rho0),
                               rb.exact_policy_gradient(mdp, theta, rho0), atol=1e-12)


def test_autograd_linear_softmax_and_terminal_states():
    mdp = rb.random_layered_mdp(3, 2, 2, gamma=1.0, seed=1)
    rng = np.random.default_rng(1)
    phi = rng.normal(size=(mdp.n_states, 2, 3))
    w = rng.normal(size=3)
    rho0 = np.zeros(mdp.n_states)
    rho0[:2] = 0.5
    np.testing.assert_allclose(rb.autograd_policy_gradient(mdp, w, rho0, phi=phi),
                               rb.exact_linear_policy_gradient(mdp, w, rho0, phi), atol=1e-12)
    theta = rng.normal(size=(mdp.n_states, 2))
    np.testing.assert_allclose(rb.autograd_policy_gradient(mdp, theta, rho0),
                               rb.exact_policy_gradient(mdp, theta, rho0), atol=1e-12)


def test_reinforce_cartpole_is_deterministic_and_learns():
    cfg = rb.ReinforceConfig(n_episodes=60, seed=0)
    state = torch.random.get_rng_state()
    r1 = rb.train_reinforce(cfg)
    assert torch.equal(state, torch.random.get_rng_state())  # caller's RNG untouched
    r2 = rb.train_reinforce(cfg)
    np.testing.assert_array_equal(r1.returns, r2.returns)
    assert r1.returns.shape == (60,) and np.all(r1.lengths >= 1)
    assert np.all(r1.returns == r1.lengths)  # CartPole pays 1 per step


def test_errors():
    mdp = rb.random_mdp(3, 2, 0.9, seed=0)
    rho0 = np.full(3, 1 / 3)
    with pytest.raises(ValueError, match=r"theta must have shape \(3, 2\)"):
        rb.torch_policy_objective(mdp, torch.zeros(2, 2), rho0)
    with pytest.raises(TypeError, match="theta must be a torch.Tensor"):
        rb.torch_policy_objective(mdp, np.zeros((3, 2)), rho0)
    with pytest.raises(ValueError, match="rho0 sums to"):
        rb.autograd_policy_gradient(mdp, np.zeros((3, 2)), [0.5, 0.2, 0.1])
    with pytest.raises(ValueError, match="phi has shape"):
        rb.autograd_policy_gradient(mdp, np.zeros(4), rho0, phi=np.zeros((3, 2, 3)))
    with pytest.raises(ValueError, match="theta must have 2"):
        rb.autograd_policy_gradient(mdp, np.zeros(6), rho0)
    with pytest.raises(ValueError, match="config.n_episodes is 0"):
        rb.train_reinforce(rb.ReinforceConfig(n_episodes=0))
    with pytest.raises(ValueError, match="gamma is 2"):
        rb.train_reinforce(rb.ReinforceConfig(gamma=2.0))
    with pytest.raises(TypeError, match="config must be a ReinforceConfig"):
        rb.train_reinforce({"n_episodes": 3})
    with pytest.raises(ValueError, match="expected a Box observation and a Discrete action"):
        rb.train_reinforce(rb.ReinforceConfig(env_id="FrozenLake-v1", n_episodes=1))


@pytest.mark.parametrize("field, value, msg", [
    ("episodes_per_update", 0, "config.episodes_per_update is 0"),
    ("hidden", 0, "config.hidden is 0"),
    ("learning_rate", -1.0, "config.learning_rate is -1.0"),
    ("max_steps", 0, "config.max_steps is 0"),
    ("seed", -1, "config.seed is -1"),
])
def test_config_error_paths(field, value, msg):
    with pytest.raises(ValueError, match=msg):
        rb.train_reinforce(rb.ReinforceConfig(**{field: value}))


def test_linear_theta_shape_error():
    mdp = rb.random_mdp(3, 2, 0.9, seed=0)
    with pytest.raises(ValueError, match="theta must have 1"):
        rb.autograd_policy_gradient(mdp, np.zeros((3, 2)), np.full(3, 1 / 3), phi=np.zeros((3, 2, 4)))
