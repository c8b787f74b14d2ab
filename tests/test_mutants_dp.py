"""Mutation-survivor tests for rlbook/dp/bellman.py, rlbook/dp/iteration.py,
rlbook/dp/optimality.py and rlbook/mdp.py (issue 14).

Each test checks a contract (the docstring's equation, an independent route such as
the linear solve ``(I - gamma P_pi)^-1 r_pi`` or brute force over deterministic
policies, a property of the operators, or an error message pinned from its start with
the argument's name), never today's output.
"""
import itertools
import re

import numpy as np
import pytest

import rlbook as rb


def _improper_graph():
    """gamma = 1, one action: 0 -> 1 -> 2 (terminal); 3 <-> 4 loop forever; 5 -> 3."""
    P = np.zeros((6, 1, 6))
    P[0, 0, 1] = P[1, 0, 2] = P[2, 0, 2] = 1.0
    P[3, 0, 4] = P[4, 0, 3] = 1.0
    P[5, 0, 3] = 1.0
    R = -np.ones((6, 1))
    R[2] = 0.0
    return rb.FiniteMDP(P, R, 1.0,
                        terminal=[False, False, True, False, False, False])


# ----------------------------------------------------------------- bellman: _proper_check
def test_gamma_one_without_terminal_state_message():
    mdp = rb.random_mdp(3, 2, 1.0, seed=0)
    msg = ("gamma is 1 and the MDP has no terminal state, so the discounted sum of rewards "
           "need not converge; give a discount factor below 1 or mark terminal states")
    for call in (rb.evaluate_policy, rb.iterative_policy_evaluation):
        with pytest.raises(ValueError, match="^" + re.escape(msg) + "$"):
            call(mdp, rb.uniform_policy(3, 2))


def test_improper_policy_message_names_the_first_stuck_state_and_counts_the_others():
    mdp = _improper_graph()
    # states 3, 4 and 5 never reach the terminal state 2; 0 and 1 do
    msg = ("pi is improper: from state 3 (and 2 other state(s)) a terminal state is never "
           "reached, so with gamma = 1 its value is not defined")
    for call in (rb.evaluate_policy, rb.iterative_policy_evaluation):
        with pytest.raises(ValueError, match="^" + re.escape(msg) + "$"):
            call(mdp, np.ones((6, 1)))
