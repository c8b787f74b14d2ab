"""Mutation-survivor tests for ``rlbook/model_free/monte_carlo.py`` and
``rlbook/model_free/_common.py`` (issue 14).

Each test checks a contract (a docstring, an independent formula or a property
such as "every visit of a pair is counted"), not today's output. Stochastic checks
use fixed seeds and tolerances from standard errors. Equivalent survivors are listed
in ``tests/mutation_equivalents.md`` with their reasons.
"""
import warnings

import numpy as np
import pytest

import rlbook as rb
from rlbook.model_free._common import check_start


def _loop(p):
    """From state 0: reward 1, stay with probability p, else end (state 1, terminal).
    G_0 counts the steps, a geometric variable with mean 1 / (1 - p)."""
    P = np.zeros((2, 1, 2))
    P[0, 0] = [p, 1 - p]
    P[1, 0, 1] = 1.0
    return rb.FiniteMDP(P, [[1.0], [0.0]], 1.0, [False, True])


def _chain3():
    """0 -> 1 -> 2 (terminal), one action, reward 0."""
    P = np.zeros((3, 1, 3))
    P[0, 0, 1] = P[1, 0, 2] = P[2, 0, 2] = 1.0
    return rb.FiniteMDP(P, np.zeros((3, 1)), 1.0, [False, False, True])


# -- incremental_mean ---------------------------------------------------------------------
def test_incremental_mean_of_integers_is_the_float_running_mean():
    np.testing.assert_array_equal(rb.incremental_mean([1, 2, 4]), [1.0, 1.5, 7 / 3])


def test_incremental_mean_error_gives_axis_and_shape():
    with pytest.raises(ValueError, match=r"^x has no samples along axis 1 \(shape \(2, 0\)\)$"):
        rb.incremental_mean(np.zeros((2, 0)), axis=1)


# -- first_visit_mask -----------------------------------------------------------------------
def _first_visits_by_loop(keys, mask):
    out = np.zeros(keys.shape, dtype=bool)
    for n in range(keys.shape[0]):
        seen = set()
        for t in range(keys.shape[1]):
            if mask[n, t] and keys[n, t] not in seen:
                seen.add(keys[n, t])
                out[n, t] = True
    return out


def test_first_visit_mask_default_mask_and_negative_keys():
    rng = np.random.default_rng(0)
    keys = rng.integers(-4, 3, size=(6, 9))          # any integers are keys
    every = np.ones(keys.shape, dtype=bool)
    np.testing.assert_array_equal(rb.first_visit_mask(keys), _first_visits_by_loop(keys, every))
    mask = rng.random(keys.shape) < 0.7
    np.testing.assert_array_equal(rb.first_visit_mask(keys, mask),
                                  _first_visits_by_loop(keys, mask))


def test_first_visit_mask_keys_spanning_the_int64_range():
    keys = np.array([[-2**62, 2**62 - 2, -2**62, 2**62 - 2]])
    np.testing.assert_array_equal(rb.first_visit_mask(keys), [[True, True, False, False]])


def test_first_visit_mask_shape_error_names_both_arrays():
    keys = np.zeros((2, 5), dtype=int)
    with pytest.raises(ValueError, match=r"^mask has shape \(2, 4\) but keys has shape \(2, 5\): "
                                         r"episodes of inconsistent lengths \(every array"):
        rb.first_visit_mask(keys, np.ones((2, 4), dtype=bool))


# -- importance_ratios ----------------------------------------------------------------------
def test_importance_ratio_shape_errors_name_the_arrays():
    pi = np.full((2, 2), 0.5)
    s = np.zeros((1, 3), dtype=int)
    with pytest.raises(ValueError, match=r"^actions has shape \(1, 2\) but states has shape "
                                         r"\(1, 3\): episodes of inconsistent lengths"):
        rb.importance_ratios(pi, pi, s, np.zeros((1, 2), dtype=int))
    with pytest.raises(ValueError, match=r"^mask has shape \(2, 3\) but states has shape "
                                         r"\(1, 3\): episodes of inconsistent lengths"):
        rb.importance_ratios(pi, pi, s, s, np.ones((2, 3), dtype=bool))


def test_importance_ratios_with_an_explicit_mask():
    """rho_{t:T-1} = prod_{k >= t} pi/beta over the valid steps; a masked step has ratio 1,
    whatever its (possibly invalid) state and action. The mask is converted to bool."""
    pi = np.array([[0.2, 0.8], [0.6, 0.4]])
    beta = np.full((2, 2), 0.5)
    s = np.array([[0, 1, 7]])
    a = np.array([[1, 0, 9]])
    want = [[1.6 * 1.2, 1.2, 1.0]]
    for mask in ([[True, True, False]], np.array([[1.0, 1.0, 0.0]])):
        np.testing.assert_allclose(rb.importance_ratios(pi, beta, s, a, mask), want)


def test_importance_ratios_one_pair_with_masked_steps():
    np.testing.assert_array_equal(
        rb.importance_ratios([[1.0]], [[1.0]], [[0, -1, -1]], [[0, -1, -1]]), [[1, 1, 1]])


def test_importance_ratios_zero_beta_off_the_episode_is_silent():
    """beta(a|s) = 0 is an error only for a step actually taken: elsewhere (here
    pair (0, 0), which a masked step also points at) no division by 0 happens."""
    pi = np.array([[0.0, 1.0], [1.0, 0.0]])
    beta = np.array([[0.0, 1.0], [0.0, 1.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rho = rb.importance_ratios(pi, beta, [[0, -1]], [[1, -1]])
    np.testing.assert_array_equal(rho, [[1.0, 1.0]])


# -- reward noise (the reward law's standard deviation) -------------------------------------
def _noisy_bandit(std):
    P = np.zeros((2, 1, 2))
    P[0, 0, 1] = P[1, 0, 1] = 1.0
    return rb.FiniteMDP(P, [[1.0], [0.0]], 1.0, [False, True], reward_std=[[std], [0.0]])


def _check_mean_and_std(x, mean, std):
    n = x.size
    assert abs(x.mean() - mean) < 5 * std / np.sqrt(n)
    # the sample standard deviation has standard error about std / sqrt(2 n)
    assert abs(x.std(ddof=1) - std) < 5 * std / np.sqrt(2 * n)


def test_prediction_returns_carry_the_reward_noise():
    """One step of reward R ~ N(1, 2^2): G_0 has mean 1 and standard deviation 2, and
    the episodes are independent."""
    res = rb.mc_prediction(_noisy_bandit(2.0), [[1.0], [1.0]], 400, rng=0, s0=0)
    _check_mean_and_std(res.episode_returns, 1.0, 2.0)


def test_control_returns_carry_the_reward_noise():
    res = rb.mc_exploring_starts(_noisy_bandit(2.0), 1, rng=1, n_runs=400)
    _check_mean_and_std(res.episode_returns[:, 0], 1.0, 2.0)        # independent runs
    res = rb.mc_epsilon_greedy(_noisy_bandit(2.0), 1, epsilon=0.5, rng=2, n_runs=400)
    _check_mean_and_std(res.episode_returns[:, 0], 1.0, 2.0)


# -- mc_basic -------------------------------------------------------------------------------
def _restricted():
    """Two live states, three actions, some unavailable (with tempting rewards), gamma 0.9.
    State 0: a0 -> end (reward 0), a1 -> state 1 (reward 1), a2 unavailable (reward 5).
    State 1: a0 -> end (reward 2), a1 unavailable (reward 10), a2 -> end (reward 0)."""
    P = np.zeros((3, 3, 3))
    P[0, 0, 2] = P[0, 1, 1] = P[0, 2, 2] = 1.0
    P[1, :, 2] = 1.0
    P[2, :, 2] = 1.0
    R = np.array([[0.0, 1.0, 5.0], [2.0, 10.0, 0.0], [0.0, 0.0, 0.0]])
    allowed = np.array([[True, True, False], [True, False, True], [True, True, True]])
    return rb.FiniteMDP(P, R, 0.9, [False, False, True], allowed=allowed)


def test_mc_basic_respects_available_actions():
    mdp = _restricted()
    res = rb.mc_basic(mdp, 1, episode_length=5, rng=0)
    # pi_0 = the first available action: 0 in both live states
    np.testing.assert_array_equal(res.policies[0][:2], [0, 0])
    # q_{pi_0} by hand (deterministic MDP, one episode per available pair suffices)
    want = {(0, 0): 0.0, (0, 1): 1 + 0.9 * 2.0, (1, 0): 2.0, (1, 2): 0.0}
    for (s, a), q in want.items():
        assert res.q[s, a] == pytest.approx(q)
    # no episode starts from an unavailable pair, and greedy picks only available actions
    assert res.q[0, 2] == 0.0 and res.q[1, 1] == 0.0
    np.testing.assert_array_equal(res.policies[1][:2], [1, 0])
    np.testing.assert_allclose(res.v[:2], [2.8, 2.0])
    res = rb.mc_basic(mdp, 3, episode_length=5, rng=0)
    assert all(mdp.allowed[s, a] for pol in res.policies for s, a in enumerate(pol[:2]))


def test_mc_basic_pi0():
    mdp = _restricted()
    res = rb.mc_basic(mdp, 1, episode_length=5, rng=0, pi0=np.array([1, 2, 0]))
    np.testing.assert_array_equal(res.policies[0], [1, 2, 0])
    assert res.q[0, 1] == pytest.approx(1.0)          # then pi0(1) = 2, reward 0
    for pi0, s, a in (([3, 0, 0], 0, 3), ([0, 3, 0], 1, 3), ([2, 0, 0], 0, 2),
                      ([0, 1, 0], 1, 1), ([-1, 0, 0], 0, -1)):
        with pytest.raises(ValueError, match=rf"^pi0\[{s}\] is {a}, not an available action "
                                             rf"of state {s}$"):
            rb.mc_basic(mdp, 1, episode_length=5, rng=0, pi0=np.array(pi0))
    with pytest.raises(ValueError, match=r"^pi0 must be an integer array of shape \(3,\)"):
        rb.mc_basic(mdp, 1, episode_length=5, rng=0, pi0=np.array([0.0, 0.0, 0.0]))


@pytest.mark.parametrize("name", ["n_iter", "episode_length", "n_episodes"])
def test_mc_basic_counts_are_named_and_at_least_one(name):
    kw = {"n_iter": 1, "episode_length": 3, "n_episodes": 1}
    kw[name] = 0
    with pytest.raises(ValueError, match=rf"^{name} is 0, expected an integer >= 1$"):
        rb.mc_basic(_loop(0.5), kw.pop("n_iter"), rng=0, **kw)
    kw = {"n_iter": 1, "episode_length": 3, "n_episodes": 1}
    kw[name] = 1.5
    with pytest.raises(TypeError, match=rf"^{name} must be an integer"):
        rb.mc_basic(_loop(0.5), kw.pop("n_iter"), rng=0, **kw)


def test_mc_basic_one_episode_per_pair_by_default():
    mdp = _loop(0.5)
    a = rb.mc_basic(mdp, 2, episode_length=10, rng=5)
    b = rb.mc_basic(mdp, 2, episode_length=10, rng=5, n_episodes=1)
    np.testing.assert_array_equal(a.values, b.values)


def test_mc_basic_follows_the_transition_law_after_the_first_step():
    """q(0, 0) is the mean of G = min(Geometric(1/2), L) over M episodes:
    E[G] = sum_{t<L} p^t, and Var[G] <= p / (1 - p)^2 = 2."""
    p, L, M = 0.5, 10, 4000
    res = rb.mc_basic(_loop(p), 1, episode_length=L, rng=0, n_episodes=M)
    want = (1 - p**L) / (1 - p)
    assert abs(res.q[0, 0] - want) < 5 * np.sqrt(2.0 / M)


# -- mc_epsilon_greedy ----------------------------------------------------------------------
def test_epsilon_greedy_progress_bar_off_by_default_and_named(capsys):
    rb.mc_epsilon_greedy(_loop(0.5), 5, epsilon=0.1, rng=0)
    assert capsys.readouterr().out == ""
    rb.mc_epsilon_greedy(_loop(0.5), 5, epsilon=0.1, rng=0, progress=True)
    assert capsys.readouterr().out.lstrip("\r").startswith("MC epsilon-greedy: ")


def test_epsilon_greedy_every_visit_by_default():
    """Every visit (the default, as in Zhao): each step's pair is counted; first visit:
    each pair at most once per episode."""
    mdp = _loop(0.75)
    res = rb.mc_epsilon_greedy(mdp, 30, epsilon=0.1, rng=0, s0=0)
    assert res.n_visits[0, 0] == res.episode_lengths.sum() > 30
    res = rb.mc_epsilon_greedy(mdp, 30, epsilon=0.1, rng=0, s0=0, first_visit=True)
    assert res.n_visits[0, 0] == 30
    # the first visit of state 0 is at t = 0: its return is the episode's return
    assert res.q[0, 0] == pytest.approx(res.episode_returns.mean(), rel=1e-12)


def test_epsilon_greedy_uses_rho0_and_max_steps():
    mdp = rb.random_layered_mdp(3, 2, 2, seed=1)
    res = rb.mc_epsilon_greedy(mdp, 20, epsilon=0.3, rng=0, rho0=[0.5, 0.5, 0, 0, 0, 0, 0])
    assert (res.episode_lengths == 3).all()          # every episode starts in layer 0
    res = rb.mc_epsilon_greedy(_loop(0.9), 50, epsilon=0.1, rng=0, max_steps=2)
    assert res.episode_lengths.max() == 2


def test_epsilon_zero_never_explores():
    """epsilon = 0 is the greedy policy of the current q: no exploring start, ties to the
    lowest index."""
    P = np.zeros((2, 2, 2))
    P[:, :, 1] = 1.0
    mdp = rb.FiniteMDP(P, [[-1.0, 1.0], [0.0, 0.0]], 1.0, [False, True])
    res = rb.mc_epsilon_greedy(mdp, 40, epsilon=0.0, rng=0)
    # episode 1 takes action 0 (tie at q = 0), then q(0, 0) = -1 < q(0, 1): action 1
    np.testing.assert_array_equal(res.n_visits[0], [1, 39])


# -- _common.check_start --------------------------------------------------------------------
def test_check_start_fixed_state():
    mdp = _chain3()
    for s0 in (0, 1, np.int64(1)):
        s, rho = check_start(mdp, s0, None)
        assert s == s0 and type(s) is int and rho is None
    with pytest.raises(ValueError, match=r"^give rho0 or s0, not both$"):
        check_start(mdp, 0, [1.0, 0.0, 0.0])
    for bad in (True, 1.5):
        with pytest.raises(TypeError, match=rf"^s0 must be an integer state, got {bad!r}$"):
            check_start(mdp, bad, None)
    for bad in (-1, 3, 4):
        with pytest.raises(ValueError, match=rf"^s0 is {bad}, expected a state in \[0, 2\]$"):
            check_start(mdp, bad, None)
    with pytest.raises(ValueError, match=r"^s0 is 2, a terminal state; expected a non-terminal "
                                         r"start state \(an episode from it has no step\)$"):
        check_start(mdp, 2, None)


def test_check_start_distribution():
    mdp = _chain3()
    s, rho = check_start(mdp, None, None)            # uniform over the non-terminal states
    assert s is None
    np.testing.assert_array_equal(rho, [0.5, 0.5, 0.0])
    s, rho = check_start(mdp, None, [0.25, 0.75, 0.0])
    assert s is None
    np.testing.assert_array_equal(rho, [0.25, 0.75, 0.0])
    with pytest.raises(ValueError, match=r"^rho0 must have shape \(3,\)"):
        check_start(mdp, None, [0.5, 0.5])
    with pytest.raises(ValueError, match=r"^rho0\[2\] is 0.5 but state 2 is terminal; "
                                         r"expected start states that are not terminal$"):
        check_start(mdp, None, [0.5, 0.0, 0.5])
    s, rho = check_start(mdp, None, [0.5, 0.0, 0.5], terminal_mass=True)
    np.testing.assert_array_equal(rho, [0.5, 0.0, 0.5])
    P = np.ones((1, 1, 1))
    with pytest.raises(ValueError, match=r"^every state of mdp is terminal; there is nothing "
                                         r"to learn$"):
        check_start(rb.FiniteMDP(P, np.zeros((1, 1)), 1.0, [True]), None, None)


# -- mc_basic: the values -------------------------------------------------------------------
def test_mc_basic_values_are_the_max_over_available_actions():
    """v(s) = max over available a of q(s, a) (0 in the terminal state, where q is 0);
    values[k] is that of iteration k, and v the last one."""
    mdp = _restricted()
    res = rb.mc_basic(mdp, 1, episode_length=5, rng=0)
    np.testing.assert_allclose(res.v, [2.8, 2.0, 0.0])
    res = rb.mc_basic(mdp, 3, episode_length=5, rng=0)
    assert res.values.shape == (3, 3) and res.policies.shape == (4, 3)
    np.testing.assert_array_equal(res.values[-1], res.v)
    want = np.where(mdp.allowed, res.q, -np.inf).max(axis=1)
    np.testing.assert_allclose(res.v[:2], want[:2])


# -- cyclic episodes: first and every visit, chunks, trace ----------------------------------
def _cycle():
    """0 -> 1 -> 2 -> 0 (or the terminal state 3 with probability 1/2 from 2), two actions
    with the same transitions, rewards 1, 2, 3 on leaving 0, 1, 2 (action 1: +10)."""
    P = np.zeros((4, 2, 4))
    P[0, :, 1] = P[1, :, 2] = 1.0
    P[2, :, 0] = P[2, :, 3] = 0.5
    P[3, :, 3] = 1.0
    R = np.array([[1.0, 11.0], [2.0, 12.0], [3.0, 13.0], [0.0, 0.0]])
    return rb.FiniteMDP(P, R, 0.9, [False, False, False, True])


PI1 = np.tile([0.0, 1.0], (4, 1))                 # always action 1


@pytest.mark.parametrize("first_visit", [True, False])
def test_prediction_q_and_v_agree_when_the_policy_is_deterministic(monkeypatch, first_visit):
    """With a deterministic policy the pair (s, pi(s)) is visited exactly when s is, so
    q(s, pi(s)) and v(s) average the same returns, first-visit or every-visit, across
    chunk boundaries."""
    monkeypatch.setattr(rb.model_free.monte_carlo, "CHUNK", 20)
    mdp = _cycle()
    res = rb.mc_prediction(mdp, PI1, 30, rng=3, s0=0, first_visit=first_visit)
    np.testing.assert_allclose(res.q[:3, 1], res.v[:3], rtol=1e-12)
    assert np.isnan(res.q[:3, 0]).all()
    if first_visit:                                 # every episode visits 0, 1, 2
        np.testing.assert_array_equal(res.n_visits[:3], 30)
    else:
        assert res.n_visits[:3].sum() == res.episode_lengths.sum() > 90
    assert np.issubdtype(res.episode_lengths.dtype, np.integer)
    assert res.trace is None


@pytest.mark.parametrize("first_visit", [True, False])
def test_prediction_trace_is_the_running_estimate_of_its_state(monkeypatch, first_visit):
    """trace[k] is v(trace) after episode k: the mean of the returns of the (first or
    every) visits of that state so far, nan before the first; its last entry is v."""
    monkeypatch.setattr(rb.model_free.monte_carlo, "CHUNK", 7)
    res = rb.mc_prediction(_cycle(), PI1, 30, rng=4, first_visit=first_visit, trace=0,
                           n_runs=3)
    np.testing.assert_allclose(res.trace[:, -1], res.v[:, 0], rtol=1e-12)
    # the estimate changes only after an episode that visited the state
    visited = np.isfinite(res.trace)
    assert visited.any() and not visited.all()      # some runs start away from state 0


def test_prediction_warns_of_nothing_for_unvisited_states():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = rb.mc_prediction(_chain3(), [[1.0]] * 3, 5, rng=0, s0=1, trace=0)
        off = rb.off_policy_mc_prediction(_chain3(), [[1.0]] * 3, [[1.0]] * 3, 5, rng=0,
                                          s0=1, trace=0)
    assert np.isnan(res.v[0]) and np.isnan(res.trace).all() and res.v[1] == 0.0
    assert np.isnan(off.v[0]) and np.isnan(off.trace).all()


def test_prediction_policy_errors_name_pi():
    mdp = _restricted()
    with pytest.raises(ValueError, match=r"^pi must have shape \(3, 3\), got \(2, 3\)"):
        rb.mc_prediction(mdp, np.full((2, 3), 1 / 3), 5, rng=0)
    with pytest.raises(ValueError, match=r"^pi must have shape \(3, 3\), got \(3, 2\)"):
        rb.mc_prediction(mdp, np.full((3, 2), 0.5), 5, rng=0)
    bad = np.tile([0.5, 0.0, 0.5], (3, 1))
    with pytest.raises(ValueError, match=r"^pi\[0, 2\] is 0.5 but action 2 is not available "
                                         r"in state 0$"):
        rb.mc_prediction(mdp, bad, 5, rng=0)


@pytest.mark.parametrize("learner", ["mc_prediction", "off_policy_mc_prediction",
                                     "mc_exploring_starts"])
def test_progress_bars_off_by_default_and_named(capsys, learner):
    mdp, pi = _loop(0.5), [[1.0], [1.0]]
    name = {"mc_prediction": "MC prediction", "off_policy_mc_prediction": "off-policy MC",
            "mc_exploring_starts": "MC exploring starts"}[learner]
    args = {"mc_prediction": (mdp, pi, 5), "off_policy_mc_prediction": (mdp, pi, pi, 5),
            "mc_exploring_starts": (mdp, 5)}[learner]
    fn = getattr(rb, learner)
    fn(*args, rng=0)
    assert capsys.readouterr().out == ""
    fn(*args, rng=0, progress=True)
    assert capsys.readouterr().out.lstrip("\r").startswith(name + ": ")


# -- mc_exploring_starts --------------------------------------------------------------------
def test_exploring_starts_first_visit_by_default():
    res = rb.mc_exploring_starts(_loop(0.75), 30, rng=0, s0=0)
    assert res.n_visits[0, 0] == 30
    res = rb.mc_exploring_starts(_loop(0.75), 30, rng=0, s0=0, first_visit=False)
    assert res.n_visits[0, 0] == res.episode_lengths.sum() > 30


def test_exploring_starts_uses_rho0_and_max_steps():
    mdp = rb.random_layered_mdp(3, 2, 2, seed=1)
    res = rb.mc_exploring_starts(mdp, 20, rng=0, rho0=[0.5, 0.5, 0, 0, 0, 0, 0])
    assert (res.episode_lengths == 3).all()
    res = rb.mc_exploring_starts(_loop(0.9), 50, rng=0, max_steps=2)
    assert res.episode_lengths.max() == 2


def test_exploring_starts_draw_available_first_actions_uniformly():
    """S_0 ~ rho0 (uniform over 0, 1), A_0 uniform over the actions available in S_0:
    the start pairs (0, 0), (1, 0), (1, 1) have probabilities 1/2, 1/4, 1/4."""
    P = np.zeros((3, 2, 3))
    P[:, :, 2] = 1.0
    allowed = [[True, False], [True, True], [True, True]]
    mdp = rb.FiniteMDP(P, np.zeros((3, 2)), 1.0, [False, False, True], allowed=allowed)
    n = 4000
    res = rb.mc_exploring_starts(mdp, 1, rng=0, n_runs=n)
    counts = res.n_visits.sum(axis=0)[:2]
    assert counts[0, 1] == 0
    p = np.array([0.5, 0.25, 0.25])
    freq = np.array([counts[0, 0], counts[1, 0], counts[1, 1]]) / n
    assert np.all(np.abs(freq - p) < 5 * np.sqrt(p * (1 - p) / n))


# -- off_policy_mc_prediction ---------------------------------------------------------------
def _two_armed():
    """One state, two actions to the end: rewards 3 and 7."""
    P = np.zeros((2, 2, 2))
    P[:, :, 1] = 1.0
    return rb.FiniteMDP(P, [[3.0, 7.0], [0.0, 0.0]], 1.0, [False, True])


def test_weighted_estimate_is_zero_while_the_ratios_sum_to_zero():
    """pi takes action 0, beta each action with 1/2: one episode per run has ratio 2
    (action 0, G = 3) or 0 (action 1). Weighted: v = 3, or 0 while the weights sum to 0."""
    pi, beta = [[1.0, 0.0], [1.0, 0.0]], [[0.5, 0.5], [0.5, 0.5]]
    res = rb.off_policy_mc_prediction(_two_armed(), pi, beta, 1, rng=0, n_runs=40,
                                      weighted=True, trace=0)
    took0 = res.weight_sums[:, 0] > 0
    assert took0.any() and not took0.all()
    np.testing.assert_array_equal(res.weight_sums[:, 0], np.where(took0, 2.0, 0.0))
    np.testing.assert_array_equal(res.v[:, 0], np.where(took0, 3.0, 0.0))
    np.testing.assert_array_equal(res.trace[:, -1], res.v[:, 0])
    np.testing.assert_array_equal(res.n_visits[:, 0], 1)
    np.testing.assert_array_equal(res.episode_lengths, 1)


@pytest.mark.parametrize("weighted", [True, False])
def test_off_policy_trace_ends_at_the_estimate(weighted):
    """Ratios 1/2 (action 0) or 3/2 (action 1), so weight sums in (0, 1] occur."""
    pi, beta = [[0.25, 0.75], [1.0, 0.0]], [[0.5, 0.5], [0.5, 0.5]]
    res = rb.off_policy_mc_prediction(_two_armed(), pi, beta, 1, rng=1, n_runs=20,
                                      weighted=weighted, trace=0)
    assert ((res.weight_sums[:, 0] > 0) & (res.weight_sums[:, 0] <= 1)).any()
    np.testing.assert_allclose(res.trace[:, -1], res.v[:, 0], rtol=1e-12)
    assert res.trace.shape == (20, 1)


def test_off_policy_trace_of_a_state_missed_by_late_episodes(monkeypatch):
    """Episodes that start in 2 miss state 0, also at the end of a chunk."""
    monkeypatch.setattr(rb.model_free.monte_carlo, "CHUNK", 7)
    for weighted in (True, False):
        res = rb.off_policy_mc_prediction(_cycle(), PI1, PI1, 30, rng=4, n_runs=3, trace=0,
                                          weighted=weighted)
        np.testing.assert_allclose(res.trace[:, -1], res.v[:, 0], rtol=1e-12)


@pytest.mark.parametrize("first_visit", [True, False])
def test_off_policy_visits_on_a_cycle(first_visit):
    mdp = _cycle()
    res = rb.off_policy_mc_prediction(mdp, PI1, PI1, 30, rng=3, s0=0, first_visit=first_visit)
    if first_visit:
        np.testing.assert_array_equal(res.n_visits[:3], 30)
    else:
        assert res.n_visits[:3].sum() == res.episode_lengths.sum() > 90
    assert np.issubdtype(res.episode_lengths.dtype, np.integer)
    assert res.trace is None


def test_off_policy_uses_rho0_and_max_steps():
    mdp = rb.random_layered_mdp(3, 2, 2, seed=1)
    pi = rb.uniform_policy(mdp.n_states, 2)
    res = rb.off_policy_mc_prediction(mdp, pi, pi, 20, rng=0, rho0=[0.5, 0.5, 0, 0, 0, 0, 0])
    assert (res.episode_lengths == 3).all()
    one = [[1.0], [1.0]]
    res = rb.off_policy_mc_prediction(_loop(0.9), one, one, 50, rng=0, max_steps=2)
    assert res.episode_lengths.max() == 2


def test_off_policy_policy_errors_name_the_policy():
    mdp = _restricted()
    ok = np.tile([0.5, 0.5, 0.0], (3, 1))
    for name, shape in (("pi", (2, 3)), ("pi", (3, 2)), ("beta", (2, 3)), ("beta", (3, 2))):
        bad = np.full(shape, 1 / shape[1])
        args = (bad, ok) if name == "pi" else (ok, bad)
        with pytest.raises(ValueError, match=rf"^{name} must have shape \(3, 3\), got "):
            rb.off_policy_mc_prediction(mdp, *args, 5, rng=0)
    unavailable = np.tile([0.5, 0.0, 0.5], (3, 1))
    with pytest.raises(ValueError, match=r"^beta\[0, 2\] is 0.5 but action 2 is not "
                                         r"available in state 0$"):
        rb.off_policy_mc_prediction(mdp, ok, unavailable, 5, rng=0)
    pi = np.tile([0.0, 1.0, 0.0], (3, 1))
    with pytest.raises(ValueError, match=r"^beta\[0, 1\] is 0 but pi\[0, 1\] is 1: the "
                                         r"behaviour policy must give positive probability "
                                         r"to every action the target policy can take "
                                         r"\(coverage\)$"):
        rb.off_policy_mc_prediction(mdp, pi, np.tile([1.0, 0.0, 0.0], (3, 1)), 5, rng=0)


def test_off_policy_zero_behaviour_probability_where_pi_is_zero():
    """beta(a|s) = 0 is allowed where pi(a|s) = 0 too (and in terminal states): no
    warning, and the estimate is that of pi."""
    mdp = _two_armed()
    pi = [[1.0, 0.0], [0.0, 1.0]]
    beta = [[1.0, 0.0], [1.0, 0.0]]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = rb.off_policy_mc_prediction(mdp, pi, beta, 5, rng=0)
    assert res.v[0] == 3.0 and res.n_visits[0] == 5


# -- epsilon-greedy control: the behaviour policy and the final policy ----------------------
def _one_step(allowed, reward=0.0, std=None):
    """Live states 0..S-2 lead to the terminal state S-1 under every action."""
    allowed = np.asarray(allowed, dtype=bool)
    S, A = allowed.shape[0] + 1, allowed.shape[1]
    P = np.zeros((S, A, S))
    P[:, :, -1] = 1.0
    R = np.zeros((S, A))
    R[:-1] = reward
    sd = None if std is None else np.vstack([np.full((S - 1, A), std), np.zeros((1, A))])
    return rb.FiniteMDP(P, R, 1.0, np.arange(S) == S - 1,
                        allowed=np.vstack([allowed, np.ones((1, A), dtype=bool)]),
                        reward_std=sd)


@pytest.mark.parametrize("allowed", [[[1, 0, 1], [1, 1, 1], [0, 1, 1]],
                                     [[1, 1, 1], [1, 1, 1]]])
def test_epsilon_greedy_first_episode_follows_the_epsilon_greedy_policy(allowed):
    """With q = 0 the greedy action is the first available one; the first episode's
    action is drawn from pi(a|s) = 1 - eps + eps/|A(s)| (greedy), eps/|A(s)| (other
    available actions), 0 (unavailable), in every live state."""
    eps, n = 0.5, 4000
    mdp = _one_step(allowed)
    res = rb.mc_epsilon_greedy(mdp, 1, epsilon=eps, rng=0, n_runs=n)
    counts = res.n_visits.sum(axis=0)[:-1]                    # (live S, A)
    pi = rb.epsilon_greedy_policy(np.zeros(counts.shape), eps, np.asarray(allowed, bool))
    m = counts.sum(axis=1, keepdims=True)
    assert (m > n / len(allowed) / 2).all()
    assert (counts[pi == 0] == 0).all()
    se = np.sqrt(pi * (1 - pi) / m)
    assert np.all(np.abs(counts / m - pi) <= 5 * se + 1e-12)


def test_epsilon_greedy_final_policy_is_epsilon_greedy_in_q():
    """policy = the epsilon-greedy policy of the returned q over the available actions
    (ties to the lowest index); unavailable actions are never taken. Noisy rewards of
    mean -1 make the untried actions (q = 0) and the distinct q values matter."""
    eps = 0.5
    allowed = np.array([[1, 0, 1], [1, 1, 1], [0, 1, 1]], dtype=bool)
    mdp = _one_step(allowed, reward=-1.0, std=1.0)
    res = rb.mc_epsilon_greedy(mdp, 6, epsilon=eps, rng=1, n_runs=100)
    assert (res.n_visits[:, :-1][:, ~allowed] == 0).all()
    for q, policy in zip(res.q, res.policy):
        np.testing.assert_allclose(policy[:-1], rb.epsilon_greedy_policy(q[:-1], eps, allowed))
    assert np.issubdtype(res.episode_lengths.dtype, np.integer)


def test_epsilon_greedy_final_policy_on_long_episodes():
    """Episodes with more steps than a quarter of the q table (the whole-table update)."""
    eps = 0.3
    res = rb.mc_epsilon_greedy(_cycle(), 5, epsilon=eps, rng=2, n_runs=20, s0=0)
    assert res.episode_lengths.min() >= 3
    for q, policy in zip(res.q, res.policy):
        np.testing.assert_allclose(policy, rb.epsilon_greedy_policy(q, eps))


def test_greedy_compares_the_exact_action_values():
    """q(0, 0) = -1e-20 < q(0, 1) = 0 after the first episode: the greedy action is 1
    from then on (action 2 is unavailable)."""
    P = np.zeros((2, 3, 2))
    P[:, :, 1] = 1.0
    mdp = rb.FiniteMDP(P, [[-1e-20, 0.0, 0.0], [0.0, 0.0, 0.0]], 1.0, [False, True],
                       allowed=[[True, True, False], [True, True, True]])
    res = rb.mc_epsilon_greedy(mdp, 5, epsilon=0.0, rng=0)
    np.testing.assert_array_equal(res.n_visits[0], [1, 4, 0])


# -- the guide tables of large batches --------------------------------------------------------
def _check_guided_draws(probs, rng):
    from rlbook.model_free.monte_carlo import GUIDED, _Table
    tab = _Table(np.asarray(probs, dtype=float))
    R = tab.bounds.size // tab.K
    n = max(GUIDED, 20_000)
    rows = rng.integers(0, R, n)
    h = rng.random(n) * 0.5
    # also the halves at the cumulative probabilities and at the bin edges (exact binary)
    edges = np.concatenate([np.cumsum(probs, axis=1).ravel() / 2, np.arange(256) / 512])
    edges = edges[(edges >= 0) & (edges < 0.5)]
    h[:edges.size] = edges
    want = tab.bounds.searchsorted(rows + h, side="right")
    np.testing.assert_array_equal(tab.draw(rows, h), want)
    return tab


def test_guided_draws_equal_the_binary_search():
    """A batch of at least GUIDED draws uses the guide tables; every draw must be the
    outcome of the binary search, on bounds at binary fractions and on crowded bounds."""
    rng = np.random.default_rng(0)
    tables = [[[0.25, 0.25, 0.5], [0.5, 0.125, 0.375], [1.0, 0.0, 0.0]],
              rng.dirichlet(np.ones(5), size=7),
              rng.dirichlet(np.full(6, 0.2), size=50),
              [[0.01, 0.011, 0.012, 0.967], [0.3, 0.3, 0.3, 0.1]],
              [[0.5, 0.1, 0.1, 0.3]]]       # a first bound on every bin edge
    for i, probs in enumerate(tables):
        tab = _check_guided_draws(np.asarray(probs), rng)
        assert (tab.guide is not None) or i == 2     # tiny Dirichlet(0.2) gaps may need none
    # bounds too close for any guide within the size limit: the binary search is used
    tab = _check_guided_draws(np.array([[1e-300, 1e-300, 1.0 - 2e-300]]), rng)
    assert tab.guide is None


@pytest.mark.parametrize("q", [np.zeros(3), np.zeros((2, 2, 1))])
def test_epsilon_greedy_policy_rejects_q_that_is_not_a_table(q):
    """q must be (S, A): a vector or a 3-D array is refused with a message naming q."""
    with pytest.raises(ValueError, match=r"^q must have 2 dimension\(s\), got shape"):
        rb.epsilon_greedy_policy(q, 0.1)


def test_epsilon_greedy_policy_rejects_a_mask_of_the_wrong_shape():
    with pytest.raises(ValueError, match=r"^allowed must have shape \(2, 2\), got \(2, 3\)"):
        rb.epsilon_greedy_policy(np.zeros((2, 2)), 0.1, np.ones((2, 3), dtype=bool))


@pytest.mark.parametrize("allowed, bad", [([[1, 0], [0, 0], [1, 1]], 1),
                                          ([[1, 1], [1, 0], [1, 1], [0, 0]], 3),
                                          ([[0, 0], [0, 0]], 0)])
def test_epsilon_greedy_policy_names_the_first_state_without_actions(allowed, bad):
    """The message names the first state whose row of ``allowed`` is all False (rows
    with one available action before it are fine)."""
    allowed = np.asarray(allowed, dtype=bool)
    with pytest.raises(ValueError, match=rf"^allowed\[{bad}, :\] is all False, expected at least"):
        rb.epsilon_greedy_policy(np.zeros(allowed.shape), 0.1, allowed)
