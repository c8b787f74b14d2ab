"""Tests written from mutmut's survivors in rlbook/policy_gradient/average_reward.py
(issue 14): each checks a formula against an independent route or pins the start of an
error message (what was seen and what was expected)."""
import re

import numpy as np
import pytest

import rlbook as rb


def _cycle_and_loops(n_cycle, n_loops):
    """One action: states 0..n_cycle-1 form a cycle, the next n_loops states are self-loops."""
    S = n_cycle + n_loops
    P = np.zeros((S, 1, S))
    for s in range(n_cycle):
        P[s, 0, (s + 1) % n_cycle] = 1.0
    for s in range(n_cycle, S):
        P[s, 0, s] = 1.0
    return rb.FiniteMDP(P, np.zeros((S, 1)), 0.9), np.ones((S, 1))


def test_several_closed_classes_are_listed_in_the_message():
    # 5 closed classes: the first (9 states) is cut after 8 members, the list after 4 classes
    mdp, pi = _cycle_and_loops(9, 4)
    want = ("P_pi has 5 closed classes ({0, 1, 2, 3, 4, 5, 6, 7, ...}; {9}; {10}; {11}; ...), "
            "so its stationary distribution is not unique; the average-reward functions need "
            "exactly one closed class (a unichain policy), e.g. a policy under which every "
            "state can reach one common state")
    with pytest.raises(ValueError, match="^" + re.escape(want) + "$"):
        rb.stationary_distribution(mdp, pi)
    # exactly 8 members and 4 classes: nothing is cut
    mdp, pi = _cycle_and_loops(8, 3)
    want = "P_pi has 4 closed classes ({0, 1, 2, 3, 4, 5, 6, 7}; {8}; {9}; {10}), so"
    with pytest.raises(ValueError, match="^" + re.escape(want)):
        rb.average_reward(mdp, pi)


def test_stationary_weighted_gradient_refuses_terminal_states():
    P = np.zeros((2, 1, 2))
    P[:, 0, 1] = 1.0
    term = rb.FiniteMDP(P, np.zeros((2, 1)), 0.9, terminal=[False, True])
    with pytest.raises(ValueError, match=r"^mdp has terminal states; the stationary weighting "
                                         r"needs a continuing task$"):
        rb.stationary_weighted_gradient(term, np.zeros((2, 1)))
