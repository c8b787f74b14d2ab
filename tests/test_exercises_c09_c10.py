"""The C9 and C10 exercise checkers accept the reference and reject the typical mistakes."""
import re

import numpy as np
import pytest

import rlbook as rb
from rlbook.exercises import c09, c10


@pytest.mark.parametrize("check, good, bad, hint", [
    (rb.exercises.check_stationary_distribution, c09._ref_d, c09._column_eig, "LEFT"),
    (rb.exercises.check_stationary_distribution, c09._ref_d, c09._power_d, "balance"),
    (rb.exercises.check_differential_values, c09._ref_h, c09._h_pinned, "pinned"),
    (rb.exercises.check_average_reward_gradient, c09._ref_grad, c09._grad_discounted, "differential"),
    (rb.exercises.check_td_advantage, c10._ref_td, c10._td_no_gamma, "gamma is missing"),
    (rb.exercises.check_td_advantage, c10._ref_td, c10._td_q, "subtracts"),
    (rb.exercises.check_lq_objective, c10._ref_lq, c10._lq_no_sigma, "sigma0"),
    (rb.exercises.check_lq_objective, c10._ref_lq, c10._lq_no_square, "ell^2"),
    (rb.exercises.check_compatible_weights, c10._ref_w, c10._w_advantage, "least-norm"),
])
def test_checker(check, good, bad, hint):
    assert "correct" in repr(check(good))
    with pytest.raises(rb.exercises.ExerciseFailed, match=re.escape(hint)):
        check(bad)


def test_checker_reports_a_crash_and_rejects_non_callables():
    def boom(P_pi):
        raise RuntimeError("nope")

    with pytest.raises(rb.exercises.ExerciseFailed, match="raised RuntimeError"):
        rb.exercises.check_stationary_distribution(boom)
    with pytest.raises(TypeError):
        rb.exercises.check_td_advantage(3)
    with pytest.raises(rb.exercises.ExerciseFailed, match="shape"):
        rb.exercises.check_differential_values(lambda P_pi, r_pi: np.zeros(1))
