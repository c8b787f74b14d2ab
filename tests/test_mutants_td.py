"""Mutation-survivor tests for rlbook.model_free.td (issue 14).

Each test checks a contract of the TD learners, never today's output: the update
rule of the docstring replayed by a plain scalar reference implementation on a
trajectory that the test knows (a deterministic corridor, whose episode length
tells its start state), a documented default or field of the result, the label
of the progress bar, or an error message that names the argument.
"""
import numpy as np
import pytest

import rlbook as rb

GAMMA = 0.9


def corridor(L=4, A=2, gamma=GAMMA, allowed=None, seed=0):
    """States ``0..L-1`` live and ``L`` terminal; every action moves one state right,
    so the states of an episode are known from its length (start = ``L - length``).
    Rewards differ by state and action (seeded)."""
    S = L + 1
    P = np.zeros((S, A, S))
    for s in range(L):
        P[s, :, s + 1] = 1.0
    P[L, :, L] = 1.0
    R = np.zeros((S, A))
    R[:L] = np.round(np.random.default_rng(seed).uniform(-1, 1, (L, A)), 3)
    term = np.zeros(S, dtype=bool)
    term[L] = True
    kw = {} if allowed is None else {"allowed": allowed}
    return rb.FiniteMDP(P, R, gamma, term, **kw)


def one_hot_policy(actions, A):
    pi = np.zeros((len(actions), A))
    pi[np.arange(len(actions)), actions] = 1.0
    return pi


def step_size(alpha, n):
    return alpha(np.array([n]))[0] if callable(alpha) else alpha


def ref_prediction(mdp, pi_actions, starts, lengths, alpha, v0, method):
    """TD(0) or every-visit constant-alpha MC on the corridor, one scalar update at a
    time, straight from the docstring equations; returns v, visits and history."""
    L, g = mdp.n_states - 1, mdp.gamma
    v = np.array(v0, dtype=float) * np.ones(mdp.n_states)
    v[L] = 0.0
    cnt = np.zeros(mdp.n_states, dtype=int)
    hist = [v.copy()]
    for s_start, T in zip(starts, lengths):
        states = [s_start + k for k in range(T + 1)]
        rewards = [mdp.R[s, pi_actions[s]] for s in states[:-1]]
        if method == "td":
            for t in range(T):
                s, s2 = states[t], states[t + 1]
                target = rewards[t] + g * (0.0 if s2 == L else v[s2])
                cnt[s] += 1
                v[s] += step_size(alpha, cnt[s]) * (target - v[s])
        else:
            G = np.zeros(T)
            acc = 0.0
            for t in range(T - 1, -1, -1):
                acc = rewards[t] + g * acc
                G[t] = acc
            for t in range(T):
                s = states[t]
                cnt[s] += 1
                v[s] += step_size(alpha, cnt[s]) * (G[t] - v[s])
        hist.append(v.copy())
    return v, cnt, np.array(hist)


# -- prediction: td0_prediction, constant_alpha_mc -----------------------------------------
PREDICTORS = {"td": rb.td0_prediction, "mc": rb.constant_alpha_mc}


@pytest.mark.parametrize("method", ["td", "mc"])
@pytest.mark.parametrize("alpha", [0.5, lambda n: 1.0 / np.sqrt(n)])
def test_prediction_replays_the_update_rule_on_a_corridor(method, alpha):
    L = 5
    mdp = corridor(L)
    acts = [0, 1, 1, 0, 1, 0]
    pi = one_hot_policy(acts, 2)
    v0 = np.array([0.3, -0.2, 0.5, 0.1, -0.4, 7.0])         # the terminal entry becomes 0
    rho0 = np.array([0.1, 0.3, 0.2, 0.2, 0.2, 0.0])
    res = PREDICTORS[method](mdp, 6, pi=pi, alpha=alpha, rng=3, rho0=rho0, n_runs=3, v0=v0,
                             record=True)
    assert res.v.shape == (3, L + 1) and res.history.shape == (3, 7, L + 1)
    assert res.visits.dtype.kind == "i"
    assert not res.truncated.any() and res.truncated.dtype == bool
    starts_all = L - res.episode_lengths
    assert len(np.unique(starts_all)) > 1                   # rho0 is used, not a fixed start
    for j in range(3):
        v, cnt, hist = ref_prediction(mdp, acts, starts_all[j], res.episode_lengths[j], alpha,
                                      v0, method)
        np.testing.assert_allclose(res.v[j], v, rtol=0, atol=1e-12)
        np.testing.assert_array_equal(res.visits[j], cnt)
        np.testing.assert_allclose(res.history[j], hist, rtol=0, atol=1e-12)
        # undiscounted return of each episode
        rets = [sum(mdp.R[s, acts[s]] for s in range(s0, L)) for s0 in starts_all[j]]
        np.testing.assert_allclose(res.episode_returns[j], rets, atol=1e-12)
    st = res.settings
    assert (st.alpha, st.epsilon, st.n, st.n_runs, st.max_steps, st.truncate) == (
        alpha if callable(alpha) else 0.5, None, 1, 3, 10_000, "error")


@pytest.mark.parametrize("method", ["td", "mc"])
def test_prediction_single_run_from_s0_and_defaults(method):
    L = 4
    mdp = corridor(L)
    acts = [1, 0, 1, 1, 0]
    pi = one_hot_policy(acts, 2)
    res = PREDICTORS[method](mdp, 3, pi=pi, alpha=0.5, rng=0, s0=1)
    np.testing.assert_array_equal(res.episode_lengths, [3, 3, 3])   # every start is s0 = 1
    assert res.episode_lengths.shape == (3,) and res.v.shape == (L + 1,)
    v, cnt, _ = ref_prediction(mdp, acts, [1] * 3, [3] * 3, 0.5, 0.0, method)  # v0 = 0
    np.testing.assert_allclose(res.v, v, atol=1e-12)
    np.testing.assert_array_equal(res.visits, cnt)
    assert res.v[0] == 0.0                                   # default v0 = 0, never visited
    assert res.history is None                               # record defaults to False
    assert res.settings.n_runs is None and res.settings.max_steps == 10_000


@pytest.mark.parametrize("method", ["td", "mc"])
def test_prediction_rho0_point_mass(method):
    mdp = corridor(4)
    pi = one_hot_policy([0] * 5, 2)
    res = PREDICTORS[method](mdp, 4, pi=pi, alpha=0.5, rng=1, rho0=[0, 0, 1.0, 0, 0])
    np.testing.assert_array_equal(res.episode_lengths, 2)


@pytest.mark.parametrize("method", ["td", "mc"])
def test_prediction_long_episodes_grow_the_buffers(method):
    L = 150                                                  # longer than 2 x 64 steps
    mdp = corridor(L, seed=4)
    acts = [0] * (L + 1)
    pi = one_hot_policy(acts, 2)
    rho0 = np.zeros(L + 1)
    rho0[[0, 100, 140]] = [0.4, 0.3, 0.3]
    res = PREDICTORS[method](mdp, 3, pi=pi, alpha=0.5, rng=2, rho0=rho0, n_runs=2, v0=0.2)
    starts = L - res.episode_lengths
    assert (starts == 0).any() and (starts > 0).any()
    for j in range(2):
        v, cnt, _ = ref_prediction(mdp, acts, starts[j], res.episode_lengths[j], 0.5, 0.2,
                                   method)
        np.testing.assert_allclose(res.v[j], v, atol=1e-12)
        np.testing.assert_array_equal(res.visits[j], cnt)


@pytest.mark.parametrize("method", ["td", "mc"])
def test_prediction_truncated_episode(method):
    # max_steps = 2 on a 4-state corridor from 0: TD bootstraps from v(S_2); MC uses the
    # truncated return
    L = 4
    mdp = corridor(L)
    acts = [1, 0, 1, 0, 0]
    pi = one_hot_policy(acts, 2)
    v0 = np.array([0.1, 0.2, 0.3, 0.4, 0.0])
    res = PREDICTORS[method](mdp, 2, pi=pi, alpha=0.5, rng=0, s0=0, v0=v0, max_steps=2,
                             truncate="report", record=True)
    assert res.truncated.all() and (res.episode_lengths == 2).all()
    v = v0.copy()
    g = mdp.gamma
    r0, r1 = mdp.R[0, 1], mdp.R[1, 0]
    for _ in range(2):
        if method == "td":
            v[0] += 0.5 * (r0 + g * v[1] - v[0])
            v[1] += 0.5 * (r1 + g * v[2] - v[1])
        else:
            v[0] += 0.5 * (r0 + g * r1 - v[0])
            v[1] += 0.5 * (r1 - v[1])
    np.testing.assert_allclose(res.v, v, atol=1e-12)
    np.testing.assert_allclose(res.history[0], v0)


@pytest.mark.parametrize("method", ["td", "mc"])
def test_prediction_v0_errors_name_v0(method):
    mdp = corridor(3)
    pi = one_hot_policy([0] * 4, 2)
    with pytest.raises(ValueError, match=r"v0 must have shape \(4,\)"):
        PREDICTORS[method](mdp, 1, pi=pi, alpha=0.5, rng=0, s0=0, v0=np.zeros(3))
    with pytest.raises(ValueError, match="v0 is nan, expected a finite number"):
        PREDICTORS[method](mdp, 1, pi=pi, alpha=0.5, rng=0, s0=0, v0=float("nan"))


@pytest.mark.parametrize("method,desc", [("td", "TD(0)"), ("mc", "constant-alpha MC")])
def test_prediction_progress_bar_label_and_default_off(method, desc, capsys):
    mdp = corridor(3)
    pi = one_hot_policy([0] * 4, 2)
    PREDICTORS[method](mdp, 4, pi=pi, alpha=0.5, rng=0, s0=0)
    assert capsys.readouterr().out == ""                      # progress defaults to False
    PREDICTORS[method](mdp, 4, pi=pi, alpha=0.5, rng=0, s0=0, n_runs=2, progress=True)
    frames = [f for f in capsys.readouterr().out.split("\r") if f.strip()]
    assert frames and all(f.startswith(desc + ": ") for f in frames)
    assert "8/8 episodes" in frames[-1]


# -- batch methods: _check_batch, batch_td0, batch_mc ---------------------------------------
def certainty_equivalence(episodes, S, gamma, terminal):
    """Values of the MDP with the batch's empirical transitions and mean rewards: the
    fixed point of batch TD(0), solved as one linear system."""
    n, r = np.zeros((S, S)), np.zeros(S)
    for st, rw in episodes:
        for t, x in enumerate(rw):
            n[st[t], st[t + 1]] += 1
            r[st[t]] += x
    visits = n.sum(axis=1)
    vis = visits > 0
    P = np.where(vis[:, None], n / np.maximum(visits, 1)[:, None], 0.0)
    P[:, terminal] = 0.0
    rbar = np.where(vis, r / np.maximum(visits, 1), 0.0)
    A = np.eye(S) - gamma * P
    return np.linalg.solve(A, rbar)


def mean_returns(episodes, S, gamma):
    """Every-visit Monte Carlo: the mean of the discounted returns after each visit."""
    sums, counts = np.zeros(S), np.zeros(S)
    for st, rw in episodes:
        T = len(rw)
        for t in range(T):
            G = sum(gamma ** k * rw[t + k] for k in range(T - t))
            sums[st[t]] += G
            counts[st[t]] += 1
    out = np.full(S, np.nan)
    out[counts > 0] = sums[counts > 0] / counts[counts > 0]
    return out


BATCH = [([0, 1, 3], [0.5, -1.0]), ([1, 0, 3], [2.0, 1.0]), ([1, 3], [0.25])]


def test_batch_td0_defaults_reach_the_certainty_equivalence_values():
    # state 1 is visited 3 times per sweep: the default alpha = 0.01 converges in a few
    # thousand sweeps (a step above 2/3 would diverge); state 2 is never visited and keeps
    # the default v0 = 0; state 3 ends every episode and is terminal by default (value 0)
    v = rb.batch_td0(BATCH, 4, max_iter=20_000)
    term = np.array([False, False, False, True])
    np.testing.assert_allclose(v, certainty_equivalence(BATCH, 4, 1.0, term), atol=1e-8)
    assert v[2] == 0.0 and v[3] == 0.0


def test_batch_td0_v0_and_the_default_terminal_mask():
    # a terminal state is worth 0 whatever v0 says; an unvisited state keeps v0
    g = 0.5
    v = rb.batch_td0(BATCH, 4, gamma=g, alpha=0.1, v0=0.75)
    term = np.array([False, False, False, True])
    want = certainty_equivalence(BATCH, 4, g, term)
    want[2] = 0.75
    np.testing.assert_allclose(v, want, atol=1e-9)
    v = rb.batch_td0(BATCH, 4, gamma=g, alpha=0.1, v0=[0.1, 0.2, -0.5, 9.0])
    want[2] = -0.5
    np.testing.assert_allclose(v, want, atol=1e-9)


def test_batch_td0_explicit_terminal():
    # no terminal state: an episode that ends in state 1 bootstraps from v0(1), as
    # state 1 is never updated; terminal given as 0/1 is a bool mask
    eps = [([0, 1], [1.0])]
    v = rb.batch_td0(eps, 2, gamma=0.5, alpha=0.5, terminal=[False, False], v0=[0.0, 2.0])
    np.testing.assert_allclose(v, [1.0 + 0.5 * 2.0, 2.0], atol=1e-10)
    v = rb.batch_td0(eps, 2, gamma=0.5, alpha=0.5, terminal=[0, 1], v0=[0.0, 2.0])
    np.testing.assert_allclose(v, [1.0, 0.0], atol=1e-10)
    # a 0/1 mask is read as bool, not as indices: v = (1 + 0.5 * 1, 1, 0)
    eps3 = [([0, 1, 2], [1.0, 1.0])]
    v = rb.batch_td0(eps3, 3, gamma=0.5, alpha=0.5, terminal=[0, 0, 1])
    np.testing.assert_allclose(v, [1.5, 1.0, 0.0], atol=1e-10)
    with pytest.raises(ValueError, match=r"terminal must have shape \(2,\), got \(3,\)"):
        rb.batch_td0(eps, 2, terminal=[False, False, True])


def test_batch_td0_stops_at_the_first_change_strictly_below_tol():
    # one pair, alpha = 1/2, target 1: the changes are 1/4, 1/8, ... from v0 = 1/2
    eps = [([0, 1], [1.0])]
    v = rb.batch_td0(eps, 2, alpha=0.5, v0=[0.5, 0.0], tol=0.25)
    assert v[0] == 0.875                                     # 1/4 is not below 1/4
    v = rb.batch_td0(eps, 2, alpha=0.5, v0=[0.5, 0.0], tol=0.2500001)
    assert v[0] == 0.75
    # already at the fixed point: one sweep suffices, and max_iter = 1 is allowed
    v = rb.batch_td0(eps, 2, alpha=0.5, v0=[1.0, 0.0], max_iter=1)
    np.testing.assert_array_equal(v, [1.0, 0.0])


def test_batch_td0_argument_errors_name_the_argument():
    eps = [([0, 1], [1.0])]
    with pytest.raises(ValueError, match=r"alpha is 0.0, expected a finite number > 0"):
        rb.batch_td0(eps, 2, alpha=0.0)
    with pytest.raises(ValueError, match=r"tol is -1.0, expected a finite number > 0"):
        rb.batch_td0(eps, 2, tol=-1.0)
    with pytest.raises(ValueError, match=r"max_iter is 0, expected an integer >= 1"):
        rb.batch_td0(eps, 2, max_iter=0)
    with pytest.raises(TypeError, match=r"max_iter must be an integer"):
        rb.batch_td0(eps, 2, max_iter=2.5)
    with pytest.raises(ValueError, match=r"v0 must have shape \(2,\), got \(3,\)"):
        rb.batch_td0(eps, 2, v0=np.zeros(3))
    with pytest.raises(ValueError, match=r"v0\[1\] is inf, expected a finite number"):
        rb.batch_td0(eps, 2, v0=[0.0, np.inf])


def test_batch_mc_is_the_mean_of_the_returns():
    g = 0.8
    v = rb.batch_mc(BATCH, 5, gamma=g)
    want = mean_returns(BATCH, 5, g)
    np.testing.assert_allclose(v[:2], want[:2], atol=1e-12)
    # never-visited states (2, 4) and the terminal state 3 (no return follows it) are nan
    assert np.isnan(v[2:]).all()
    # gamma defaults to 1
    np.testing.assert_allclose(rb.batch_mc(BATCH, 5)[:2], mean_returns(BATCH, 5, 1.0)[:2],
                               atol=1e-12)


def test_batch_mc_single_state():
    # n_states = 1 is allowed: state 0 visited twice, returns 1 + 0.5 * 2 and 2
    np.testing.assert_allclose(rb.batch_mc([([0, 0, 0], [1.0, 2.0])], 1, gamma=0.5),
                               [(2.0 + 2.0) / 2])


@pytest.mark.parametrize("fn", [rb.batch_td0, rb.batch_mc])
def test_batch_validation_messages(fn):
    with pytest.raises(ValueError, match=r"n_states is 0, expected an integer >= 1"):
        fn([([0, 1], [1.0])], 0)
    with pytest.raises(TypeError, match=r"n_states must be an integer"):
        fn([([0, 1], [1.0])], 2.0)
    with pytest.raises(ValueError, match=r"episodes\[1\] rewards must have 1 dimension"):
        fn([([0, 1], [1.0]), ([0, 1], [[1.0]])], 2)
    with pytest.raises(ValueError, match=r"episodes\[0\] rewards\[0\] is nan"):
        fn([([0, 1], [np.nan])], 2)
    with pytest.raises(ValueError, match=r"episodes\[0\] states must be a 1-D integer array"):
        fn([([[0, 1]], [1.0])], 2)
    with pytest.raises(ValueError, match=r"episodes\[0\] states must be a 1-D integer array"):
        fn([([0.0, 1.0], [1.0])], 2)
    with pytest.raises(ValueError, match=r"episodes\[0\] has 2 states and 2 rewards, expected "
                       r"one more state than rewards \(S_0, \.\.\., S_T with R_1, \.\.\., R_T\)"):
        fn([([0, 1], [1.0, 2.0])], 2)
    with pytest.raises(ValueError, match=r"episodes\[1\] states\[1\] is 2, expected a state "
                                         r"in \[0, 1\]$"):
        fn([([0, 1], [1.0]), ([0, 2], [1.0])], 2)
    with pytest.raises(ValueError, match=r"^episodes is empty, expected at least one episode$"):
        fn([], 2)


# -- one-step control: _expected_q, expected_sarsa, q_learning, double_q_learning -----------
ALLOWED = np.array([[1, 1, 1], [1, 1, 0], [0, 1, 0], [1, 1, 1], [1, 1, 1]], dtype=bool)


def backward_fixed_point(mdp, value_of_next):
    """``q(s, a) = R(s, a) + gamma value_of_next(q(s + 1, .), allowed(s + 1))`` on the
    corridor, computed from the end; disallowed pairs stay 0 (the default q0)."""
    L = mdp.n_states - 1
    q = np.zeros((L + 1, mdp.n_actions))
    for s in range(L - 1, -1, -1):
        nxt = 0.0 if s + 1 == L else value_of_next(q[s + 1], mdp.allowed[s + 1])
        q[s] = np.where(mdp.allowed[s], mdp.R[s] + mdp.gamma * nxt, 0.0)
    return q


def eps_greedy_expectation(eps):
    return lambda row, allowed: eps * row[allowed].mean() + (1 - eps) * row[allowed].max()


def greedy_value(row, allowed):
    return row[allowed].max()


@pytest.mark.parametrize("learner,value_of_next", [
    (rb.expected_sarsa, eps_greedy_expectation(0.4)),
    (rb.q_learning, greedy_value),
    (rb.double_q_learning, greedy_value),
])
def test_control_alpha_1_reaches_its_fixed_point_exactly(learner, value_of_next):
    # alpha = 1 on a deterministic corridor: each update copies its target, so once the
    # pairs downstream are final, one visit makes a pair final: the fixed point of the
    # docstring's target is reached exactly (mean and max over the allowed actions only)
    mdp = corridor(4, A=3, allowed=ALLOWED, seed=5)
    n_ep = 400 if learner is rb.double_q_learning else 150   # two tables to settle
    res = learner(mdp, n_ep, alpha=1.0, epsilon=0.4, rng=7, n_runs=2, record=True)
    want = backward_fixed_point(mdp, value_of_next)
    for j in range(2):
        np.testing.assert_allclose(res.q[j], want, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(res.history[:, -1], res.q)
    np.testing.assert_array_equal(res.history[:, 0], 0.0)
    assert res.visits.dtype.kind == "i"
    np.testing.assert_array_equal(res.visits[:, ~ALLOWED], 0)
    np.testing.assert_array_equal(res.visits.sum(axis=(1, 2)), res.episode_lengths.sum(axis=1))
    st = res.settings
    assert (st.alpha, st.epsilon, st.n, st.n_runs, st.max_steps, st.truncate) == (
        1.0, 0.4, 1, 2, 10_000, "error")


@pytest.mark.parametrize("learner", [rb.sarsa, rb.expected_sarsa, rb.q_learning,
                                     rb.double_q_learning])
def test_control_defaults(learner, capsys):
    mdp = corridor(3, A=3, allowed=ALLOWED[1:], seed=1)
    res = learner(mdp, 4, alpha=0.5, rng=0, s0=0)
    assert res.history is None and res.q.shape == (4, 3)      # record=False, no run axis
    assert capsys.readouterr().out == ""                      # progress=False
    assert res.settings.epsilon == 0.1 and res.settings.max_steps == 10_000
    assert res.settings.truncate == "error" and res.settings.n == 1
    assert res.settings.n_runs is None
    np.testing.assert_array_equal(res.q[~mdp.allowed], 0.0)   # q0 = 0, never updated
    assert res.visits.dtype.kind == "i"


@pytest.mark.parametrize("learner,desc", [
    (rb.sarsa, "Sarsa"), (rb.expected_sarsa, "Expected Sarsa"), (rb.q_learning, "Q-learning"),
    (rb.double_q_learning, "Double Q-learning"),
    (lambda *a, **k: rb.n_step_sarsa(*a, n=3, **k), "3-step Sarsa")])
def test_control_progress_bar_label(learner, desc, capsys):
    learner(corridor(3), 3, alpha=0.5, rng=0, s0=0, n_runs=2, progress=True)
    frames = [f for f in capsys.readouterr().out.split("\r") if f.strip()]
    assert frames and all(f.startswith(desc + ": ") for f in frames)
    assert "6/6 episodes" in frames[-1]


@pytest.mark.parametrize("learner,name", [
    (rb.sarsa, "pi"), (rb.expected_sarsa, "pi"), (rb.q_learning, "beta"),
    (rb.double_q_learning, "beta"), (lambda *a, **k: rb.n_step_sarsa(*a, n=2, **k), "pi")])
def test_fixed_policy_is_named_and_followed(learner, name):
    mdp = corridor(4, A=3, allowed=ALLOWED, seed=2)
    bad = np.full((5, 3), 1 / 3)
    with pytest.raises(ValueError, match=rf"^{name}\[1, 2\] is 0.333333 but action 2 is not "
                                         r"allowed in state 1, expected 0$"):
        learner(mdp, 2, alpha=0.5, rng=0, s0=0, **{name: bad})
    with pytest.raises(ValueError, match=rf"^{name} must have shape \(5, 3\)"):
        learner(mdp, 2, alpha=0.5, rng=0, s0=0, **{name: np.ones((5, 1))})
    # a one-hot behaviour policy: only its pairs are ever updated
    acts = [2, 0, 1, 1, 0]
    pol = one_hot_policy(acts, 3)
    res = learner(mdp, 6, alpha=0.5, rng=0, n_runs=2, **{name: pol})
    assert res.settings.epsilon is None
    mask = pol[:4] > 0
    assert (res.visits[:, :4][:, ~mask] == 0).all()
    np.testing.assert_array_equal(res.visits.sum(axis=(1, 2)), res.episode_lengths.sum(axis=1))


def test_double_q_behaviour_is_greedy_in_the_sum_of_the_tables():
    # one state, two actions to the end, rewards 1 and 0, epsilon = 0: once either table
    # rates action 0 above 0 (its first update with reward 1), q1 + q2 prefers it for good
    P = np.zeros((2, 2, 2))
    P[:, :, 1] = 1.0
    R = np.array([[1.0, 0.0], [0.0, 0.0]])
    mdp = rb.FiniteMDP(P, R, 1.0, np.array([False, True]))
    res = rb.double_q_learning(mdp, 20, alpha=0.5, epsilon=0.0, rng=3, s0=0, n_runs=30)
    ret = res.episode_returns
    for j in range(30):
        first = np.flatnonzero(ret[j] == 1.0)
        assert first.size and (ret[j, first[0]:] == 1.0).all()
    q1, q2 = res.q_pair
    np.testing.assert_allclose(res.q, (q1 + q2) / 2)
    assert res.settings.n == 1 and res.visits.dtype.kind == "i"


# -- n_step_sarsa, _masked_update -----------------------------------------------------------
def ref_n_step(mdp, acts, episodes, n, alpha, q0=0.0):
    """n-step Sarsa under a one-hot policy on the corridor, one pair at a time in the
    order tau = 0, 1, ...: ``G = sum_{k=1}^{h} gamma^(k-1) R_{tau+k}
    (+ gamma^h q(S_{tau+h}, A_{tau+h}))``, ``h = min(n, T - tau)``, bootstrapping when
    ``tau + n < T`` or the episode was cut by ``max_steps``."""
    L, g = mdp.n_states - 1, mdp.gamma
    q = np.array(q0, dtype=float) * np.ones((mdp.n_states, mdp.n_actions))
    q[L] = 0.0                                               # a terminal row is 0
    cnt = np.zeros(q.shape, dtype=int)
    for start, T, cut in episodes:
        S = [start + k for k in range(T + 1)]
        A = [acts[s] for s in S]
        Rw = [mdp.R[S[t], A[t]] for t in range(T)]
        for tau in range(T):
            h = min(n, T - tau)
            G = sum(g ** (k - 1) * Rw[tau + k - 1] for k in range(1, h + 1))
            if tau + n < T or cut:
                G += g ** h * q[S[tau + h], A[tau + h]]
            cnt[S[tau], A[tau]] += 1
            q[S[tau], A[tau]] += step_size(alpha, cnt[S[tau], A[tau]]) * (
                G - q[S[tau], A[tau]])
    return q, cnt


NSTEP = {1: rb.sarsa, 3: lambda *a, **k: rb.n_step_sarsa(*a, n=3, **k),
         2: lambda *a, **k: rb.n_step_sarsa(*a, n=2, **k)}


@pytest.mark.parametrize("n", [1, 2, 3])
def test_n_step_sarsa_replays_the_n_step_update(n):
    L = 7                                                    # episodes longer than n + 1
    mdp = corridor(L, A=2, seed=6)
    acts = [1, 0, 0, 1, 1, 0, 1, 0]
    pi = one_hot_policy(acts, 2)
    rho0 = np.array([0.3, 0.0, 0.2, 0.0, 0.1, 0.2, 0.2, 0.0])
    alpha = lambda k: 1.0 / k ** 0.6                         # a visit-count schedule
    q0 = 0.3
    res = NSTEP[n](mdp, 5, alpha=alpha, rng=4, rho0=rho0, n_runs=3, pi=pi, q0=q0,
                   record=True)
    assert len(np.unique(res.episode_lengths)) > 1           # rho0 is used
    for j in range(3):
        eps = [(L - T, T, False) for T in res.episode_lengths[j]]
        q, cnt = ref_n_step(mdp, acts, eps, n, alpha, q0)
        np.testing.assert_allclose(res.q[j], q, rtol=0, atol=1e-12)
        np.testing.assert_array_equal(res.visits[j], cnt)
    np.testing.assert_array_equal(res.history[:, -1], res.q)
    st = res.settings
    assert (st.epsilon, st.n, st.n_runs, st.max_steps, st.truncate) == (None, n, 3, 10_000,
                                                                         "error")


@pytest.mark.parametrize("n", [1, 2, 3])
def test_n_step_sarsa_truncated_episodes_bootstrap(n):
    # max_steps = 4 on a corridor of 6 from state 0: every episode is cut at S_4, where
    # the fixed policy's action A_4 supplies the bootstrap of the last pairs
    L = 6
    mdp = corridor(L, A=2, seed=8)
    acts = [0, 1, 1, 0, 1, 0, 0]
    pi = one_hot_policy(acts, 2)
    q0 = np.linspace(-1, 1, 14).reshape(7, 2)
    res = NSTEP[n](mdp, 3, alpha=0.5, rng=0, s0=0, pi=pi, q0=q0, max_steps=4,
                   truncate="report")
    assert res.truncated.all() and (res.episode_lengths == 4).all()
    want, cnt = ref_n_step(mdp, acts, [(0, 4, True)] * 3, n, 0.5, q0)
    np.testing.assert_allclose(res.q, want, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(res.visits, cnt)


def test_n_step_sarsa_defaults_and_names(capsys):
    mdp = corridor(3)
    res = rb.n_step_sarsa(mdp, 3, n=2, alpha=0.5, rng=0, rho0=[0, 0, 1.0, 0])
    assert capsys.readouterr().out == ""                      # progress=False
    np.testing.assert_array_equal(res.episode_lengths, 1)     # rho0 is used
    assert res.history is None and res.settings.max_steps == 10_000
    assert res.settings.n == 2 and res.settings.epsilon == 0.1
    np.testing.assert_array_equal(res.q[:2], 0.0)             # q0 defaults to 0


@pytest.mark.parametrize("above", [1.5, 2.0, 3.0])
def test_alpha_schedule_above_one_is_refused_with_its_visit_count(above):
    """A schedule must stay in (0, 1] at every visit count: one that exceeds 1 from the
    7th visit on is refused, naming the value, the count and the interval."""
    mdp = rb.random_mdp(3, 2, gamma=0.9, seed=0)
    with pytest.raises(ValueError, match=(rf"^alpha\(n\) is {above} at visit count n = 7, "
                                          r"expected a step size in \(0, 1\] \(a positive schedule\)$")):
        rb.sarsa(mdp, 2, alpha=lambda n: np.where(n >= 7, above, 1.0), rng=0, s0=0)


# -- the lockstep behaviour: tie-breaking, exploration, sampling, truncated runs ----------
def _one_step(A=2, gamma=GAMMA):
    """One live state 0 whose every action ends the episode in terminal state 1 with
    reward 0: each run's single action is its first (and only) behaviour choice."""
    P = np.zeros((2, A, 2))
    P[:, :, 1] = 1.0
    return rb.FiniteMDP(P, np.zeros((2, A)), gamma, np.array([False, True]))


def _first_action_frequency(res, a=0):
    """Fraction of runs whose single step took action ``a`` in state 0."""
    return res.visits[:, 0, a].mean()


N_RUNS = 4000
SE_HALF = np.sqrt(0.25 / N_RUNS)        # standard error of a frequency near 1/2


def test_greedy_ties_are_broken_uniformly_in_each_run():
    """q = 0: both actions tie, so the greedy choice is uniform (each run its own draw).
    A tie-break that always takes the first tied action gives frequency 1 (147 SE away)."""
    res = rb.sarsa(_one_step(), 1, alpha=0.5, epsilon=0.0, rng=0, s0=0, n_runs=N_RUNS)
    assert (res.visits[:, 0].sum(axis=1) == 1).all()
    assert abs(_first_action_frequency(res) - 0.5) <= 5 * SE_HALF


def test_epsilon_greedy_explores_independently_of_the_action_choice():
    """q0 makes action 1 greedy; with epsilon = 0.5 the non-greedy action has probability
    epsilon / |A| = 0.25. Deciding to explore with a draw that also ranks the actions
    would give 0.125 (18 standard errors away)."""
    eps = 0.5
    q0 = np.array([[0.0, 1.0], [0.0, 0.0]])
    res = rb.sarsa(_one_step(), 1, alpha=0.5, epsilon=eps, rng=1, s0=0, n_runs=N_RUNS, q0=q0)
    p = eps / 2
    se = np.sqrt(p * (1 - p) / N_RUNS)
    assert abs(_first_action_frequency(res) - p) <= 5 * se


def test_fixed_policy_draws_an_independent_action_in_each_run():
    """Sarsa evaluating the uniform policy: each run draws its own action, so the
    frequency of action 0 is 1/2 (one draw shared by all runs gives 0 or 1)."""
    res = rb.sarsa(_one_step(), 1, alpha=0.5, pi=np.full((2, 2), 0.5), rng=2, s0=0,
                   n_runs=N_RUNS)
    assert abs(_first_action_frequency(res) - 0.5) <= 5 * SE_HALF


def _random_walk(L=6, gamma=1.0):
    """States 0..L-1 live, L terminal; action 0 stays or moves right at random, action 1
    moves right: episode lengths differ between runs, so max_steps cuts some runs'
    episodes and not others in the same lockstep step."""
    S = L + 1
    P = np.zeros((S, 2, S))
    for s in range(L):
        P[s, 0, s] = P[s, 0, s + 1] = 0.5
        P[s, 1, s + 1] = 1.0
    P[L, :, L] = 1.0
    R = -np.ones((S, 2))
    R[L] = 0.0
    return rb.FiniteMDP(P, R, gamma, np.arange(S) == L)


@pytest.mark.parametrize("learner, kw", [(rb.sarsa, {}), (rb.n_step_sarsa, {"n": 2})])
def test_truncated_episodes_in_some_runs_only(learner, kw):
    """With several runs, max_steps cuts the episodes of some runs while the others go
    on; each cut episode is reported (length max_steps, marked truncated), the others
    end at the terminal state with length < max_steps or exactly at it, and the
    learned q stays finite."""
    mdp, max_steps = _random_walk(), 8
    res = learner(mdp, 20, alpha=0.3, epsilon=0.5, rng=3, s0=0, n_runs=6,
                  max_steps=max_steps, truncate="report", **kw)
    assert res.truncated.any() and not res.truncated.all()
    # runs reach max_steps at different lockstep steps: the same episode index is cut in
    # some runs and not in others
    assert (res.truncated.any(axis=0) & ~res.truncated.all(axis=0)).any()
    assert (res.episode_lengths[res.truncated] == max_steps).all()
    assert (res.episode_lengths[~res.truncated] <= max_steps).all()
    assert (res.episode_lengths >= mdp.n_states - 1).all()
    assert np.isfinite(res.q).all()


def test_double_q_learning_single_run_pair_has_the_shape_of_q():
    """n_runs=None: q and both tables of q_pair are (S, A) (no run axis)."""
    mdp = _one_step(A=3)
    res = rb.double_q_learning(mdp, 5, alpha=0.5, epsilon=0.3, rng=0, s0=0)
    assert res.q.shape == (2, 3)
    assert [x.shape for x in res.q_pair] == [(2, 3), (2, 3)]
    np.testing.assert_allclose((res.q_pair[0] + res.q_pair[1]) / 2, res.q)


def test_lockstep_greedy_without_draws_breaks_ties_uniformly_per_row():
    """``_Lockstep.greedy`` with no draws given (the argmax of Double Q-learning's target)
    draws its own tie-breaks, independently per row: with every action tied, each of
    A = 3 actions is chosen with frequency 1/3 (a single shared draw would pick the same
    action in every row: frequency 1 or 0), and an action that is not allowed is never
    chosen."""
    from rlbook.model_free.td import _Lockstep
    run = _Lockstep.__new__(_Lockstep)          # only the fields that greedy reads
    run.rng = np.random.default_rng(0)
    n, A = 6000, 3
    run.all_allowed, run.allowed = True, np.ones((1, A), dtype=bool)
    a = run.greedy(np.zeros((n, A)), np.zeros(n, dtype=int))
    freq = np.bincount(a, minlength=A) / n
    assert np.all(np.abs(freq - 1 / A) <= 5 * np.sqrt((1 / A) * (1 - 1 / A) / n))
    run.all_allowed, run.allowed = False, np.array([[True, False, True]])
    a = run.greedy(np.zeros((n, A)), np.zeros(n, dtype=int))
    freq = np.bincount(a, minlength=A) / n
    assert freq[1] == 0 and abs(freq[0] - 0.5) <= 5 * np.sqrt(0.25 / n)



def test_batch_td0_gives_up_after_the_documented_default_of_sweeps():
    """max_iter defaults to 1,000,000 sweeps (the docstring): a batch that can never
    converge (alpha = 2 on one transition makes v(0) alternate 0, 2, 0, ... exactly)
    is given up after exactly that many, as the message says. About 10 s: the only way
    to see the default is to run it out."""
    import re
    documented = int(re.search(r"max_iter : int, default ([\d_]+)",
                               rb.batch_td0.__doc__).group(1).replace("_", ""))
    assert documented == 1_000_000
    with pytest.raises(ValueError, match=(rf"^batch_td0 did not converge in max_iter = "
                                          rf"{documented} sweeps \(last change 2 > tol")):
        rb.batch_td0([([0, 1], [1.0])], 2, alpha=2.0)


# -- settings and messages of the lockstep runner ---------------------------------------
def test_max_steps_of_one_and_a_single_run_are_valid():
    """max_steps >= 1 and n_runs >= 1 (one step per episode, one run, are allowed)."""
    mdp = corridor(L=1)
    res = rb.sarsa(mdp, 2, alpha=0.5, rng=0, s0=0, max_steps=1, n_runs=1)
    assert res.episode_lengths.shape == (1, 2) and (res.episode_lengths == 1).all()


@pytest.mark.parametrize("max_steps", [0, -2])
def test_max_steps_below_one_is_refused_by_name(max_steps):
    with pytest.raises(ValueError, match=rf"^max_steps is {max_steps}, expected an integer >= 1$"):
        rb.sarsa(corridor(), 2, alpha=0.1, rng=0, s0=0, max_steps=max_steps)


def test_max_steps_error_message_in_full():
    """The message names the episode and the run, the cap, and the three ways out."""
    with pytest.raises(ValueError, match=(
            r"^episode 0 of run 0 reached max_steps = 1 before a terminal state; raise "
            r"max_steps, explore more \(epsilon\), or pass truncate='report' to end such "
            r"episodes and mark them in result\.truncated$")):
        rb.sarsa(corridor(), 2, alpha=0.1, rng=0, s0=0, max_steps=1)


def test_alpha_schedule_that_raises_is_reported_with_its_exception():
    def schedule(n):
        raise KeyError("boom")
    with pytest.raises(ValueError, match=(
            r"^alpha: the schedule raised KeyError: 'boom' on the visit counts n = 1\.\.10000 "
            r"\(it must accept an integer array\)$")):
        rb.sarsa(corridor(), 2, alpha=schedule, rng=0, s0=0)


def test_start_states_follow_rho0_including_the_last_state():
    """Start states drawn from rho0 = (0, 0.2, 0.3, 0.5) on an MDP whose state 0 is
    terminal and whose live states 1-3 end the episode in one step (so each run's single
    visited state is its start): frequencies within 5 standard errors, the last state
    (index S - 1, where the cumulative sum ends) included."""
    S = 4
    P = np.zeros((S, 1, S))
    P[:, 0, 0] = 1.0
    mdp = rb.FiniteMDP(P, np.zeros((S, 1)), GAMMA, np.arange(S) == 0)
    rho0 = np.array([0.0, 0.2, 0.3, 0.5])
    n = 6000
    res = rb.sarsa(mdp, 1, alpha=0.5, rng=4, rho0=rho0, n_runs=n)
    starts = res.visits[:, :, 0].argmax(axis=1)
    assert (res.visits.sum(axis=(1, 2)) == 1).all()
    freq = np.bincount(starts, minlength=S) / n
    assert np.all(np.abs(freq - rho0) <= 5 * np.sqrt(rho0 * (1 - rho0) / n) + 1e-12)


def test_runs_that_finish_early_raise_no_warning():
    """Runs whose episodes are done stop accumulating rewards quietly (no division by
    a zero mask, no nan in their bookkeeping)."""
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = rb.sarsa(_random_walk(), 3, alpha=0.3, epsilon=0.5, rng=5, s0=0, n_runs=5)
    assert np.isfinite(res.episode_returns).all()


def test_schedule_whose_shape_changes_after_the_probe_is_refused():
    """A schedule that acts elementwise on the probe counts 1..10000 but returns a scalar
    for the learner's counts is refused when it is used, naming alpha and the shapes."""
    def schedule(n):
        return np.full(n.shape, 0.5) if n.size == 10_000 else 0.5
    with pytest.raises(ValueError, match=(r"^alpha: the schedule returned shape \(\) for visit "
                                          r"counts of shape \(1,\); it must act elementwise$")):
        rb.sarsa(_one_step(A=1), 2, alpha=schedule, rng=0, s0=0)


def test_schedule_that_leaves_the_unit_interval_after_the_probe_is_refused():
    """The probe checks n = 1..10000; a schedule that exceeds 1 from the 10001st visit on
    is refused at that visit, with the value and the count."""
    with pytest.raises(ValueError, match=(r"^alpha\(n\) is 2\.0 at visit count n = 10001, "
                                          r"expected a step size in \(0, 1\]")):
        rb.sarsa(_one_step(A=1), 10_001, alpha=lambda n: np.where(n > 10_000, 2.0, 0.5),
                 rng=0, s0=0)
