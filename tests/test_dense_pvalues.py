"""The tabulated Student-t p-values keep their relative accuracy in the far tail (where an absolute bound says
nothing): every p-value is positive and within 1e-8 of scipy's in relative terms, down to p ≈ 1e-110."""

from __future__ import annotations

import numpy as np
from scipy import stats

from transforms.dense_pvalues import two_sided_t_p


def test_relative_accuracy_over_the_whole_table() -> None:
    t = np.linspace(0.0, 40.0, 200_001)
    for dof in (3.0, 30.0, 118.0, 238.0, 248.0):
        got = two_sided_t_p(t, np.full(t.shape, dof))
        expected = 2 * stats.t.sf(t, dof)
        assert (got > 0).all(), dof
        tiny = expected > 1e-300
        assert np.max(np.abs(got[tiny] - expected[tiny]) / expected[tiny]) < 1e-8, dof
