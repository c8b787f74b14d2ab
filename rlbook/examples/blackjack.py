"""Sutton and Barto's blackjack (Example 5.1) as an exact finite MDP (Chapter 5).

The game is played with an infinite deck: every card is drawn independently,
``1`` (ace) to ``9`` with probability ``1/13`` each and ``10`` (ten, jack,
queen, king) with probability ``4/13``. The player sees their own sum, the
dealer's face-up card and whether they hold a *usable* ace (one counted as
11 without going bust). Sums below 12 are always hit (no decision is
involved: a hit cannot bust them), so the decision states are the 200
triples ``(player_sum 12-21, dealer_card 1-10, usable_ace)``. The dealer
draws to 17 or more (stands on a soft 17). A *natural* (an ace and a ten as
the first two cards) wins unless the dealer also holds one, as in
Gymnasium's ``Blackjack-v1`` with ``sab=True``; it is kept as a state of its
own, because its value differs from that of a 21 reached by hitting.

Because the deck is infinite, the dealer's play after the player sticks is a
fixed random experiment per face-up card; its outcome distribution is
computed exactly by recursion, and the whole game becomes a finite MDP with
``gamma = 1`` and three terminal outcome states (lose, draw, win) whose
entry pays ``-1``, ``0``, ``+1`` through ``R_next``.
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..mdp import FiniteMDP

__all__ = ["Blackjack", "blackjack", "blackjack_threshold_policy"]

#: Probability of each card value 1..10 (index 0 unused).
CARD_PROBS = np.array([0.0] + [1 / 13] * 9 + [4 / 13])
#: Actions.
STICK, HIT = 0, 1
N_DECISION = 200
N_NATURAL = 10
LOSE, DRAW, WIN = 210, 211, 212
N_STATES = 213


def _hand_value(hard: int, has_ace: bool) -> tuple[int, bool]:
    """Best total of a hand with hard total ``hard`` and whether an ace is usable."""
    if has_ace and hard + 10 <= 21:
        return hard + 10, True
    return hard, False


@lru_cache(maxsize=None)
def _dealer_final(hard: int, has_ace: bool) -> tuple:
    """Distribution of the dealer's final score from a hand (hard total, ace held):
    a tuple of probabilities for scores 17, 18, 19, 20, 21 and bust (index 5)."""
    total, _ = _hand_value(hard, has_ace)
    out = np.zeros(6)
    if total > 21:
        out[5] = 1.0
    elif total >= 17:
        out[total - 17] = 1.0
    else:
        for c in range(1, 11):
            out += CARD_PROBS[c] * np.array(_dealer_final(hard + c, has_ace or c == 1))
    return tuple(out)


def dealer_outcomes(dealer_card: int) -> tuple[np.ndarray, float]:
    """Exact distribution of the dealer's play given the face-up card.

    Returns ``(p_final, p_natural)``: ``p_final[i]`` is the probability that
    the dealer ends on ``17 + i`` (``i < 5``) or busts (``i = 5``), and
    ``p_natural`` the probability that the two first cards are a natural.
    """
    p = np.zeros(6)
    for h in range(1, 11):
        p += CARD_PROBS[h] * np.array(_dealer_final(dealer_card + h, dealer_card == 1 or h == 1))
    p_nat = CARD_PROBS[10] if dealer_card == 1 else (CARD_PROBS[1] if dealer_card == 10 else 0.0)
    return p, float(p_nat)


def _check_card(x, name, lo, hi):
    if isinstance(x, bool) or not isinstance(x, numbers.Integral) or not lo <= x <= hi:
        raise ValueError(f"{name} is {x!r}, expected an integer in [{lo}, {hi}]")
    return int(x)


@dataclass(frozen=True, eq=False)
class Blackjack:
    """Blackjack as a finite MDP (build it with :func:`blackjack`).

    Attributes
    ----------
    mdp : FiniteMDP
        213 states: 200 decision states (:meth:`state`), 10 natural states
        (:meth:`natural_state`), and the terminal outcome states ``LOSE``,
        ``DRAW``, ``WIN`` (210, 211, 212); actions ``0 = stick``,
        ``1 = hit``; ``gamma = 1``; rewards are paid on entering an outcome
        state (``R_next``).
    rho0 : ndarray (213,)
        Distribution of the first decision state of a hand (two cards each,
        then automatic hits below 12).
    """

    mdp: FiniteMDP
    rho0: np.ndarray
    STICK = STICK
    HIT = HIT
    LOSE = LOSE
    DRAW = DRAW
    WIN = WIN

    def state(self, player_sum: int, dealer_card: int, usable_ace: bool) -> int:
        """Index of the decision state ``(player_sum 12-21, dealer_card 1-10
        (1 = ace), usable_ace)``."""
        p = _check_card(player_sum, "player_sum", 12, 21)
        d = _check_card(dealer_card, "dealer_card", 1, 10)
        if not isinstance(usable_ace, (bool, np.bool_)) and usable_ace not in (0, 1):
            raise ValueError(f"usable_ace is {usable_ace!r}, expected a bool")
        return int(bool(usable_ace)) * 100 + (p - 12) * 10 + (d - 1)

    def natural_state(self, dealer_card: int) -> int:
        """Index of the state "the player holds a natural, the dealer shows
        ``dealer_card``"."""
        return N_DECISION + _check_card(dealer_card, "dealer_card", 1, 10) - 1

    def decode(self, s: int) -> tuple:
        """``(player_sum, dealer_card, usable_ace)`` of decision state ``s``;
        ``("natural", dealer_card)`` for a natural state; ``"lose"``,
        ``"draw"`` or ``"win"`` for an outcome."""
        s = _check_card(s, "s", 0, N_STATES - 1)
        if s < N_DECISION:
            ua, rest = divmod(s, 100)
            p, d = divmod(rest, 10)
            return (p + 12, d + 1, bool(ua))
        if s < N_DECISION + N_NATURAL:
            return ("natural", s - N_DECISION + 1)
        return ("lose", "draw", "win")[s - LOSE]

    def grid(self, x, usable_ace: bool) -> np.ndarray:
        """The entries of a per-state array ``x`` (``(S,)`` or ``(S, ...)``)
        on the decision states with the given ``usable_ace``, as a
        ``(10, 10, ...)`` array indexed ``[player_sum - 12, dealer_card - 1]``."""
        x = np.asarray(x)
        if x.shape[:1] != (N_STATES,):
            raise ValueError(f"x has shape {x.shape}, expected ({N_STATES}, ...)")
        off = 100 * int(bool(usable_ace))
        return x[off:off + 100].reshape((10, 10) + x.shape[1:])


def _hit_targets(player_sum: int, usable: bool):
    """Next states and probabilities of one hit from a decision state."""
    hard = player_sum - 10 if usable else player_sum
    out = {}
    for c in range(1, 11):
        total, ua = _hand_value(hard + c, usable or c == 1)
        s2 = LOSE if total > 21 else int(ua) * 100 + (total - 12) * 10
        out[(s2, total > 21)] = out.get((s2, total > 21), 0.0) + CARD_PROBS[c]
    return out


def _start_distribution() -> np.ndarray:
    """First decision state: deal two cards, hit automatically below 12."""
    rho = np.zeros(N_STATES)

    def settle(hard, ace, prob, d):  # hit until the best total is >= 12 (never busts)
        total, ua = _hand_value(hard, ace)
        if total >= 12:
            rho[int(ua) * 100 + (total - 12) * 10 + d - 1] += prob
            return
        for c in range(1, 11):
            settle(hard + c, ace or c == 1, prob * CARD_PROBS[c], d)

    for d in range(1, 11):
        for c1 in range(1, 11):
            for c2 in range(1, 11):
                prob = CARD_PROBS[d] * CARD_PROBS[c1] * CARD_PROBS[c2]
                if sorted((c1, c2)) == [1, 10]:
                    rho[N_DECISION + d - 1] += prob
                else:
                    settle(c1 + c2, c1 == 1 or c2 == 1, prob, d)
    return rho


def blackjack() -> Blackjack:
    """Sutton and Barto's blackjack (Example 5.1) as an exact finite MDP.

    Infinite deck, dealer stands on 17 or more, a natural wins unless the
    dealer has one too (Gymnasium's ``Blackjack-v1`` with ``sab=True``).
    Returns a :class:`Blackjack` with ``.mdp`` (``gamma = 1``, terminal
    outcome states, rewards ``-1, 0, +1`` paid on entering them through
    ``R_next``), ``.rho0`` and ``.state(player_sum, dealer_card, usable_ace)``.
    Actions: ``0 = stick``, ``1 = hit``.
    """
    S, A = N_STATES, 2
    P = np.zeros((S, A, S))
    for d in range(1, 11):
        p_final, p_nat = dealer_outcomes(d)
        dealer_score = np.array([17, 18, 19, 20, 21, 0])
        for ua in (False, True):
            for p in range(12, 22):
                s = int(ua) * 100 + (p - 12) * 10 + d - 1
                # stick: compare with the dealer's final score (0 when bust)
                P[s, STICK, WIN] = p_final[p > dealer_score].sum()
                P[s, STICK, DRAW] = p_final[p == dealer_score].sum()
                P[s, STICK, LOSE] = p_final[p < dealer_score].sum()
                for (s2, bust), prob in _hit_targets(p, ua).items():
                    P[s, HIT, s2 + (0 if bust else d - 1)] += prob
        n = N_DECISION + d - 1
        P[n, STICK, DRAW] = p_nat
        P[n, STICK, WIN] = 1.0 - p_nat
        P[n, HIT] = P[100 + 9 * 10 + d - 1, HIT]  # hitting a natural: like a soft 21
    for t in (LOSE, DRAW, WIN):
        P[t, :, t] = 1.0
    R_next = np.zeros((S, A, S))
    R_next[:N_DECISION + N_NATURAL, :, LOSE] = -1.0
    R_next[:N_DECISION + N_NATURAL, :, WIN] = 1.0
    terminal = np.zeros(S, dtype=bool)
    terminal[[LOSE, DRAW, WIN]] = True
    mdp = FiniteMDP(P, None, 1.0, terminal, R_next=R_next)
    rho0 = _start_distribution()
    rho0.setflags(write=False)
    return Blackjack(mdp, rho0)


def blackjack_threshold_policy(threshold: int) -> np.ndarray:
    """The policy that sticks on a sum of ``threshold`` or more and hits
    below (Sutton and Barto's Figure 5.1 uses ``threshold = 20``); a natural
    sticks. Returns a one-hot ``(213, 2)`` array."""
    t = _check_card(threshold, "threshold", 12, 22)
    pi = np.zeros((N_STATES, 2))
    sums = np.tile(np.repeat(np.arange(12, 22), 10), 2)
    pi[:N_DECISION, STICK] = sums >= t
    pi[:N_DECISION, HIT] = sums < t
    pi[N_DECISION:, STICK] = 1.0
    return pi
