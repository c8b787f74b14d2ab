"""Blackjack as an exact finite MDP (Chapter 5), against Gymnasium's Blackjack-v1."""
import numpy as np
import pytest

import rlbook as rb


@pytest.fixture(scope="module")
def bj():
    return rb.blackjack()


def test_structure(bj):
    m = bj.mdp
    assert m.n_states == 213 and m.n_actions == 2 and m.gamma == 1.0
    assert m.terminal.sum() == 3 and m.terminal[[bj.LOSE, bj.DRAW, bj.WIN]].all()
    np.testing.assert_allclose(bj.rho0.sum(), 1.0)
    assert bj.rho0[bj.mdp.terminal].sum() == 0
    # naturals: 2 * (1/13) * (4/13) of the hands
    nat = sum(bj.rho0[bj.natural_state(d)] for d in range(1, 11))
    assert nat == pytest.approx(2 * 4 / 169)
    # sticking on 21 (no natural) never loses; a natural draws only against a dealer natural
    s = bj.state(21, 6, False)
    assert bj.mdp.P[s, 0, bj.LOSE] == 0
    assert bj.mdp.P[bj.natural_state(1), 0, bj.DRAW] == pytest.approx(4 / 13)
    assert bj.mdp.P[bj.natural_state(5), 0, bj.WIN] == 1.0
    # hitting a hard 20 busts unless the card is an ace
    assert bj.mdp.P[bj.state(20, 3, False), 1, bj.LOSE] == pytest.approx(12 / 13)
    assert bj.mdp.P[bj.state(20, 3, False), 1, bj.state(21, 3, False)] == pytest.approx(1 / 13)
    # a usable ace never busts on one hit
    assert bj.mdp.P[bj.state(20, 3, True), 1, bj.LOSE] == 0


def test_state_indexing_and_decode(bj):
    seen = set()
    for ua in (False, True):
        for p in range(12, 22):
            for d in range(1, 11):
                s = bj.state(p, d, ua)
                assert bj.decode(s) == (p, d, ua)
                seen.add(s)
    assert seen == set(range(200))
    assert bj.decode(bj.natural_state(7)) == ("natural", 7)
    assert [bj.decode(t) for t in (bj.LOSE, bj.DRAW, bj.WIN)] == ["lose", "draw", "win"]
    v = np.arange(213.0)
    assert bj.grid(v, True)[13 - 12, 2 - 1] == bj.state(13, 2, True)


@pytest.mark.parametrize("args", [(11, 2, True), (22, 2, True), (13, 0, True), (13, 11, False),
                                  (13, 2, 2), (13.0, 2, True)])
def test_state_rejects_bad_input(bj, args):
    with pytest.raises(ValueError):
        bj.state(*args)


def test_bad_inputs(bj):
    with pytest.raises(ValueError, match="dealer_card"):
        bj.natural_state(0)
    with pytest.raises(ValueError, match="s is"):
        bj.decode(213)
    with pytest.raises(ValueError, match="x has shape"):
        bj.grid(np.zeros(200), True)
    with pytest.raises(ValueError, match="threshold"):
        rb.blackjack_threshold_policy(11)


def test_known_values(bj):
    """Sutton and Barto's Example 5.4: v(13, usable ace, dealer 2) under stick-on-20 is
    about -0.27726 (their estimate from 1e8 episodes, standard error about 1e-4)."""
    pi = rb.blackjack_threshold_policy(20)
    v = rb.evaluate_policy(bj.mdp, pi)
    assert v[bj.state(13, 2, True)] == pytest.approx(-0.27726, abs=4e-4)
    # Figure 5.2's optimal policy: no usable ace, stick on 17+ always, hit 12 vs 2, 3
    pol = rb.value_iteration(bj.mdp, tol=1e-12).policy
    hit = bj.grid(pol[:, 1], False)
    assert not hit[17 - 12:].any()
    assert hit[12 - 12, [1, 2]].all() and not hit[12 - 12, 3:6].any()
    assert hit[16 - 12, [0, 6, 7, 8, 9]].all() and not hit[16 - 12, 1:6].any()
    hit_ua = bj.grid(pol[:, 1], True)
    assert hit_ua[18 - 12, [0, 8, 9]].all() and not hit_ua[18 - 12, 1:8].any()
    assert not hit_ua[19 - 12:].any() and hit_ua[:18 - 12].all()


def _play_gym(policy_actions, n, seed):
    """Play n hands of Gymnasium's Blackjack-v1 (sab=True), hitting below 12 and
    following the MDP policy above; returns rewards and first observed decision state."""
    gym = pytest.importorskip("gymnasium")
    env = gym.make("Blackjack-v1", sab=True)
    bj = rb.blackjack()
    rewards = np.empty(n)
    firsts = np.empty(n, dtype=int)
    obs, _ = env.reset(seed=seed)
    for i in range(n):
        first = None
        while True:
            p, d, ua = obs
            if p < 12:
                a = 1
            else:
                natural = first is None and p == 21 and ua and _is_natural(env)
                s = bj.natural_state(d) if natural else bj.state(p, d, bool(ua))
                first = s if first is None else first
                a = int(policy_actions[s])
            obs, r, term, trunc, _ = env.step(a)
            if term or trunc:
                break
        rewards[i], firsts[i] = r, first
        obs, _ = env.reset()
    return rewards, firsts


def _is_natural(env):
    return sorted(env.unwrapped.player) == [1, 10]


def test_matches_gymnasium_by_simulation(bj):
    """Mean return of two policies and the start distribution agree with Gymnasium within
    5 standard errors (win probability, mean return, every start state)."""
    n = 10_000
    for thr, seed in ((20, 1), (17, 2)):
        pi = rb.blackjack_threshold_policy(thr)
        v = rb.evaluate_policy(bj.mdp, pi)
        r, firsts = _play_gym(pi.argmax(axis=1), n, seed)
        exact = v @ bj.rho0
        se = r.std(ddof=1) / np.sqrt(n)
        assert abs(r.mean() - exact) < 5 * se, (thr, r.mean(), exact, se)
        # P(win) too
        p_win = (r == 1).mean()
        P_pi = np.einsum("sa,sat->st", pi, bj.mdp.P)
        absorb = np.linalg.matrix_power(P_pi, 30)
        p_exact = bj.rho0 @ absorb[:, bj.WIN]
        assert abs(p_win - p_exact) < 5 * np.sqrt(p_exact * (1 - p_exact) / n)
    freq = np.bincount(firsts, minlength=213) / n
    k = bj.rho0 > 0
    z = (freq[k] - bj.rho0[k]) / np.sqrt(bj.rho0[k] * (1 - bj.rho0[k]) / n)
    assert np.abs(z).max() < 5


def test_power_natural_rule_matters(bj):
    """Values of the natural states differ from the soft 21 reached by hitting: the
    extra states are needed for an exact MDP."""
    v = rb.evaluate_policy(bj.mdp, rb.blackjack_threshold_policy(20))
    for d in range(1, 11):
        assert v[bj.natural_state(d)] > v[bj.state(21, d, True)]
