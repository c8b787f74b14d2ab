"""Tests written from mutmut's survivors in rlbook/sampling.py (issue 14)."""
import numpy as np
import pytest

import rlbook as rb


def test_discounted_returns_names_rewards_and_matches_the_sum():
    with pytest.raises(ValueError, match=r"^rewards\[1\] is nan, expected a finite number"):
        rb.discounted_returns([1.0, np.nan], 0.9)
    r = np.array([[1.0, 2.0, 3.0], [0.0, -1.0, 4.0]])
    want = [[sum(0.9 ** k * row[t + k] for k in range(3 - t)) for t in range(3)] for row in r]
    np.testing.assert_allclose(rb.discounted_returns(r, 0.9), want, rtol=1e-14)
