"""Monte Carlo prediction and control (Chapter 5)."""
import numpy as np
import pytest

import rlbook as rb


def _one_state_loop(p=0.75):
    """Singh and Sutton's two-state example: from s, reward 1 and stay with probability p,
    else end. E[G] = 1 / (1 - p)."""
    P = np.zeros((2, 1, 2))
    P[0, 0] = [p, 1 - p]
    P[1, 0, 1] = 1.0
    return rb.FiniteMDP(P, [[1.0], [0.0]], 1.0, [False, True])


def test_incremental_mean_is_the_running_mean():
    x = np.random.default_rng(0).normal(size=(50, 3))
    np.testing.assert_allclose(rb.incremental_mean(x),
                               np.cumsum(x, 0) / np.arange(1, 51)[:, None], rtol=1e-12)
    np.testing.assert_allclose(rb.incremental_mean(x.T, axis=1)[:, -1], x.mean(0))
    with pytest.raises(ValueError, match="no samples"):
        rb.incremental_mean(np.zeros((0, 2)))


def test_first_visit_mask_by_hand():
    keys = np.array([[3, 1, 3, 2, 1], [0, 0, 0, -1, -1]])
    mask = keys >= 0
    want = np.array([[1, 1, 0, 1, 0], [1, 0, 0, 0, 0]], dtype=bool)
    np.testing.assert_array_equal(rb.first_visit_mask(keys, mask), want)
    assert not rb.first_visit_mask(keys, np.zeros_like(mask)).any()
    with pytest.raises(ValueError, match="integer"):
        rb.first_visit_mask(keys.astype(float))
    with pytest.raises(ValueError, match="inconsistent lengths"):
        rb.first_visit_mask(keys, mask[:, :4])


def test_importance_ratios_by_hand():
    pi = np.array([[1.0, 0.0], [0.25, 0.75]])
    beta = np.array([[0.5, 0.5], [0.5, 0.5]])
    s = np.array([[0, 1, 1], [1, 0, -1]])
    a = np.array([[0, 1, 0], [1, 0, -1]])
    rho = rb.importance_ratios(pi, beta, s, a)
    np.testing.assert_allclose(rho[0], [2 * 1.5 * 0.5, 1.5 * 0.5, 0.5])
    np.testing.assert_allclose(rho[1], [1.5 * 2, 2, 1])
    # the order matters: a product from the start of the episode is another quantity
    wrong = np.cumprod(pi[np.maximum(s, 0), np.maximum(a, 0)] / 0.5, axis=1)
    assert not np.allclose(wrong[0], rho[0])


def test_importance_ratio_errors():
    pi = np.full((2, 2), 0.5)
    s = np.zeros((1, 3), dtype=int)
    with pytest.raises(ValueError, match="inconsistent lengths"):
        rb.importance_ratios(pi, pi, s, np.zeros((1, 2), dtype=int))
    with pytest.raises(ValueError, match="inconsistent lengths"):
        rb.importance_ratios(pi, pi, s, s, np.ones((2, 3), dtype=bool))
    with pytest.raises(ValueError, match="one shape"):
        rb.importance_ratios(pi, pi[:1], s, s)
    with pytest.raises(ValueError, match=r"beta\[0, 1\] is 0"):
        rb.importance_ratios(pi, np.array([[1.0, 0.0], [0.5, 0.5]]), s, s + np.array([[0, 1, 0]]))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # nanmean over never-visited
def test_mc_prediction_first_visit_unbiased_on_layered_mdp():
    mdp = rb.random_layered_mdp(3, 2, 2, seed=1)
    pi = np.full((mdp.n_states, 2), 0.5)
    v = rb.evaluate_policy(mdp, pi)
    res = rb.mc_prediction(mdp, pi, 20, rng=3, n_runs=400)
    assert res.v.shape == (400, mdp.n_states) and res.episode_returns.shape == (400, 20)
    assert set(np.unique(res.episode_lengths)) == {1, 2, 3}   # starts in every layer
    layer0 = rb.mc_prediction(mdp, pi, 5, rng=3, n_runs=2, rho0=[0.5, 0.5, 0, 0, 0, 0, 0])
    assert (layer0.episode_lengths == 3).all()
    est = res.v[:, :-1]
    se = np.nanstd(est, axis=0, ddof=1) / np.sqrt(np.isfinite(est).sum(0))
    assert np.all(np.abs(np.nanmean(est, 0) - v[:-1]) < 5 * se + 1e-12)
    # power: the same test rejects the values of another policy
    v_other = rb.evaluate_policy(mdp, np.tile([1.0, 0.0], (mdp.n_states, 1)))
    assert np.any(np.abs(np.nanmean(est, 0) - v_other[:-1]) > 5 * se)
    # no state repeats in a layered MDP: every-visit is first-visit
    ev = rb.mc_prediction(mdp, pi, 20, rng=3, n_runs=400, first_visit=False)
    np.testing.assert_array_equal(ev.v, res.v)
    # q: E[G | s, a] = r(s, a) + sum p v
    q = mdp.R + mdp.P @ v
    est_q = np.nanmean(res.q, 0)[:-1]
    se_q = np.nanstd(res.q, 0, ddof=1)[:-1] / np.sqrt(np.isfinite(res.q).sum(0)[:-1])
    assert np.all(np.abs(est_q - q[:-1]) < 5 * se_q + 1e-12)


def test_every_visit_bias_singh_sutton():
    """One episode, p = 0.75: first-visit has mean E[T] = 4, every-visit (E[T] + 1)/2 = 2.5."""
    mdp = _one_state_loop(0.75)
    pi = np.ones((2, 1))
    fv = rb.mc_prediction(mdp, pi, 1, rng=0, n_runs=20_000, s0=0).v[:, 0]
    ev = rb.mc_prediction(mdp, pi, 1, rng=0, n_runs=20_000, s0=0, first_visit=False).v[:, 0]
    for est, want in ((fv, 4.0), (ev, 2.5)):
        assert abs(est.mean() - want) < 5 * est.std(ddof=1) / np.sqrt(est.size)
    assert abs(ev.mean() - 4.0) > 5 * ev.std(ddof=1) / np.sqrt(ev.size)


def test_trace_is_the_running_estimate():
    mdp = _one_state_loop(0.5)
    res = rb.mc_prediction(mdp, np.ones((2, 1)), 30, rng=1, s0=0, n_runs=3, trace=0)
    np.testing.assert_allclose(res.trace, np.cumsum(res.episode_returns, 1) / np.arange(1, 31))
    np.testing.assert_allclose(res.trace[:, -1], res.v[:, 0])


def test_mc_prediction_truncated_on_continuing_task():
    mdp = rb.GridWorld().to_mdp()
    pi = rb.uniform_policy(25, 5)
    res = rb.mc_prediction(mdp, pi, 10, rng=0, max_steps=5, s0=0)
    assert (res.episode_lengths == 5).all()
    with pytest.raises(ValueError, match="max_steps"):
        rb.mc_prediction(mdp, pi, 10, rng=0)


def test_mc_basic_reaches_the_optimal_policy():
    grid = rb.GridWorld()
    mdp = grid.to_mdp()
    pi_star = rb.policy_iteration(mdp)
    res = rb.mc_basic(mdp, 10, episode_length=100, rng=0)
    np.testing.assert_allclose(rb.evaluate_policy(mdp, res.policy), pi_star.v, atol=1e-9)
    assert res.policies.shape == (11, 25) and res.values.shape == (10, 25)
    # too short an episode: only states near the target find it
    short = rb.mc_basic(mdp, 10, episode_length=1, rng=0)
    assert np.any(rb.evaluate_policy(mdp, short.policy) < pi_star.v - 1)
    with pytest.raises(ValueError, match="pi0"):
        rb.mc_basic(mdp, 1, episode_length=3, rng=0, pi0=np.full(25, 7))
    with pytest.raises(ValueError, match="pi0"):
        rb.mc_basic(mdp, 1, episode_length=3, rng=0, pi0=np.zeros(3, dtype=int))


def test_exploring_starts_finds_the_optimal_policy():
    mdp = rb.random_layered_mdp(3, 2, 2, seed=4)
    v_star = rb.value_iteration(mdp, tol=1e-12).v
    res = rb.mc_exploring_starts(mdp, 600, rng=0, n_runs=10)
    assert res.q.shape == (10, 7, 2) and res.policy.shape == (10, 7, 2)
    for pol in res.policy:
        np.testing.assert_allclose(rb.evaluate_policy(mdp, pol), v_star, atol=1e-9)
    one = rb.mc_exploring_starts(mdp, 5, rng=0)
    assert one.q.shape == (7, 2)


def test_epsilon_one_estimates_the_uniform_policy():
    mdp = rb.random_layered_mdp(2, 2, 3, seed=2)
    pi = rb.uniform_policy(mdp.n_states, 3)
    q = mdp.R + mdp.P @ rb.evaluate_policy(mdp, pi)
    res = rb.mc_epsilon_greedy(mdp, 30, epsilon=1.0, rng=0, n_runs=300)
    est = np.where(res.n_visits > 0, res.q, np.nan)[:, :-1]
    se = np.nanstd(est, 0, ddof=1) / np.sqrt(np.isfinite(est).sum(0))
    assert np.all(np.abs(np.nanmean(est, 0) - q[:-1]) < 5 * se + 1e-12)
    np.testing.assert_allclose(res.policy, 1 / 3)


def test_epsilon_greedy_policy_shape():
    mdp = rb.random_layered_mdp(2, 2, 3, seed=2)
    res = rb.mc_epsilon_greedy(mdp, 50, epsilon=0.3, rng=0)
    np.testing.assert_allclose(res.policy.sum(1), 1.0)
    live = ~mdp.terminal
    assert np.allclose(np.sort(res.policy[live], 1), [0.1, 0.1, 0.8])


def test_off_policy_ordinary_unbiased_weighted_consistent():
    mdp = rb.random_layered_mdp(2, 2, 2, seed=5)
    S = mdp.n_states
    pi = np.tile([0.9, 0.1], (S, 1))
    beta = np.full((S, 2), 0.5)
    v = rb.evaluate_policy(mdp, pi)
    o = rb.off_policy_mc_prediction(mdp, pi, beta, 1, rng=0, n_runs=20_000, s0=0)
    est = o.v[:, 0]
    assert abs(est.mean() - v[0]) < 5 * est.std(ddof=1) / np.sqrt(est.size)
    w = rb.off_policy_mc_prediction(mdp, pi, beta, 2000, rng=1, n_runs=50, s0=0,
                                    weighted=True, trace=0)
    est_w = w.v[:, 0]
    assert abs(est_w.mean() - v[0]) < 5 * est_w.std(ddof=1) / np.sqrt(50) + 1e-3
    np.testing.assert_allclose(w.trace[:, -1], w.v[:, 0])
    # with one episode the weighted estimate is the return itself whenever rho > 0
    w1 = rb.off_policy_mc_prediction(mdp, pi, beta, 1, rng=2, n_runs=50, s0=0, weighted=True)
    ok = w1.weight_sums[:, 0] > 0
    np.testing.assert_allclose(w1.v[ok, 0], w1.episode_returns[ok, 0])


def test_off_policy_equals_on_policy_when_beta_is_pi():
    mdp = rb.random_layered_mdp(2, 2, 2, seed=6)
    pi = np.tile([0.3, 0.7], (mdp.n_states, 1))
    a = rb.off_policy_mc_prediction(mdp, pi, pi, 50, rng=7, n_runs=4)
    b = rb.off_policy_mc_prediction(mdp, pi, pi, 50, rng=7, n_runs=4, weighted=True)
    np.testing.assert_allclose(a.v, b.v)


@pytest.mark.parametrize("eps", [-0.1, 1.5, float("nan")])
def test_epsilon_outside_unit_interval(eps):
    mdp = rb.random_layered_mdp(2, 2, 2, seed=0)
    with pytest.raises(ValueError, match="epsilon"):
        rb.mc_epsilon_greedy(mdp, 5, epsilon=eps, rng=0)
    with pytest.raises(TypeError, match="epsilon"):
        rb.mc_epsilon_greedy(mdp, 5, epsilon="0.1", rng=0)


def test_behaviour_must_cover_target():
    mdp = rb.random_layered_mdp(2, 2, 2, seed=0)
    pi = np.tile([0.5, 0.5], (mdp.n_states, 1))
    beta = np.tile([1.0, 0.0], (mdp.n_states, 1))
    with pytest.raises(ValueError, match=r"beta\[0, 1\] is 0 but pi\[0, 1\]"):
        rb.off_policy_mc_prediction(mdp, pi, beta, 5, rng=0)


def test_start_state_outside_the_mdp():
    mdp = rb.random_layered_mdp(2, 2, 2, seed=0)
    pi = rb.uniform_policy(mdp.n_states, 2)
    for s0 in (-1, mdp.n_states, 99):
        with pytest.raises(ValueError, match="s0"):
            rb.mc_prediction(mdp, pi, 5, rng=0, s0=s0)
        with pytest.raises(ValueError, match="s0"):
            rb.mc_epsilon_greedy(mdp, 5, epsilon=0.1, rng=0, s0=s0)
        with pytest.raises(ValueError, match="s0"):
            rb.off_policy_mc_prediction(mdp, pi, pi, 5, rng=0, s0=s0)
        with pytest.raises(ValueError, match="s0"):
            rb.mc_exploring_starts(mdp, 5, rng=0, s0=s0)
    with pytest.raises(ValueError, match="terminal"):
        rb.mc_prediction(mdp, pi, 5, rng=0, s0=mdp.n_states - 1)
    with pytest.raises(TypeError, match="s0 must be an integer"):
        rb.mc_prediction(mdp, pi, 5, rng=0, s0=1.5)
    with pytest.raises(ValueError, match="not both"):
        rb.mc_prediction(mdp, pi, 5, rng=0, s0=0, rho0=np.full(5, 0.2))


def test_other_bad_inputs():
    mdp = rb.random_layered_mdp(2, 2, 2, seed=0)
    pi = rb.uniform_policy(mdp.n_states, 2)
    with pytest.raises(TypeError, match="rng"):
        rb.mc_prediction(mdp, pi, 5, rng="seed")
    with pytest.raises(ValueError, match="n_episodes"):
        rb.mc_prediction(mdp, pi, 0, rng=0)
    with pytest.raises(ValueError, match="n_runs"):
        rb.mc_exploring_starts(mdp, 5, rng=0, n_runs=0)
    with pytest.raises(ValueError, match="trace"):
        rb.mc_prediction(mdp, pi, 5, rng=0, trace=99)
    with pytest.raises(ValueError, match="pi"):
        rb.mc_prediction(mdp, pi[:, :1], 5, rng=0)
    with pytest.raises(TypeError, match="FiniteMDP"):
        rb.mc_prediction("mdp", pi, 5, rng=0)
    with pytest.raises(ValueError, match="max_steps"):
        rb.mc_prediction(mdp, pi, 5, rng=0, max_steps=0)


def test_episodes_that_never_end_are_reported(monkeypatch):
    monkeypatch.setattr(rb.model_free.monte_carlo, "MAX_EPISODE_STEPS", 500)
    P = np.zeros((2, 2, 2))
    P[0, 0, 0] = 1.0      # action 0 loops forever
    P[0, 1, 1] = 1.0
    P[1, :, 1] = 1.0
    mdp = rb.FiniteMDP(P, np.zeros((2, 2)), 1.0, [False, True])
    with pytest.raises(ValueError, match="did not end"):
        rb.mc_prediction(mdp, np.array([[1.0, 0], [1.0, 0]]), 2, rng=0, s0=0)
    res = rb.mc_prediction(mdp, np.array([[1.0, 0], [1.0, 0]]), 2, rng=0, s0=0, max_steps=4)
    assert (res.episode_lengths == 4).all()


def test_progress_bar_runs(capsys):
    mdp = rb.random_layered_mdp(2, 2, 2, seed=0)
    rb.mc_exploring_starts(mdp, 10, rng=0, progress=True)
    rb.mc_prediction(mdp, rb.uniform_policy(5, 2), 10, rng=0, progress=True)
    rb.off_policy_mc_prediction(mdp, rb.uniform_policy(5, 2), rb.uniform_policy(5, 2), 10,
                                rng=0, progress=True)
    assert "MC exploring starts" in capsys.readouterr().out


def test_results_do_not_depend_on_chunk_boundaries(monkeypatch):
    """Episodes are generated in chunks; the bookkeeping of runs and episodes must
    survive a chunk boundary that falls inside a run's sequence of episodes."""
    monkeypatch.setattr(rb.model_free.monte_carlo, "CHUNK", 7)
    mdp = _one_state_loop(0.5)
    one = np.ones((2, 1))
    res = rb.mc_prediction(mdp, one, 10, rng=2, s0=0, n_runs=3, trace=0)
    np.testing.assert_allclose(res.trace, np.cumsum(res.episode_returns, 1) / np.arange(1, 11))
    np.testing.assert_allclose(res.v[:, 0], res.episode_returns.mean(1))
    np.testing.assert_array_equal(res.n_visits[:, 0], 10)
    off = rb.off_policy_mc_prediction(mdp, one, one, 10, rng=2, s0=0, n_runs=3, trace=0)
    np.testing.assert_allclose(off.trace[:, -1], off.v[:, 0])
    np.testing.assert_allclose(off.v[:, 0], off.episode_returns.mean(1))


def test_sampling_tables_agree_with_a_binary_search():
    """The guide tables of large batches give exactly the outcome of the binary search,
    and both follow the probabilities (a chi-square-sized check on one row)."""
    from rlbook.model_free.monte_carlo import _Law, _Table
    bj = rb.blackjack()
    law = _Law(bj.mdp)
    rng = np.random.default_rng(0)
    tables = [law.table, law.chain(rb.blackjack_threshold_policy(20)).table,
              law.chain(rb.uniform_policy(bj.mdp.n_states, 2)).table, _Table(bj.rho0[None, :])]
    for tab in tables:
        R = tab.bounds.size // tab.K
        rows = rng.integers(0, R, 50_000)
        h = rng.random(50_000) * 0.5
        assert tab.guide is not None
        np.testing.assert_array_equal(tab.draw(rows, h),
                                      tab.bounds.searchsorted(rows + h, side="right"))
    p = np.array([[0.1, 0.0, 0.25, 0.65]])
    tab = _Table(p)
    out = tab.outcome[tab.draw(0, rng.random(200_000) * 0.5)]
    freq = np.bincount(out, minlength=4) / out.size
    se = np.sqrt(p[0] * (1 - p[0]) / out.size)
    assert np.all(np.abs(freq - p[0]) <= 4 * se + 1e-12) and freq[1] == 0


def test_every_visit_is_a_first_visit_only_without_cycles():
    from rlbook.model_free.monte_carlo import _Law
    assert _Law(rb.blackjack().mdp).acyclic                 # the hand only grows
    assert not _Law(rb.GridWorld().to_mdp()).acyclic        # a state can be revisited
