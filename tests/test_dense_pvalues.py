"""The engine's tabulated Student-t p-values (transforms.event_study.pvalues.two_sided_t_p) are within 1e-12
(absolute) of scipy's `2 * scipy.stats.t.sf(|t|, dof)`: over the whole table grid, for 3 to 60,000 degrees of
freedom, and on every path the tables hand to scipy (non-whole or too few degrees of freedom, |t| beyond the grid,
infinities, NaN). In the far tail, where an absolute bound says little, every p-value stays positive."""

from __future__ import annotations

import numpy as np
from scipy import stats

from transforms.event_study.pvalues import two_sided_t_p

ACCURACY = 1e-12  # absolute: the accuracy transforms/event_study/pvalues.py states


def test_the_whole_table_is_within_the_stated_accuracy() -> None:
    t = np.linspace(0.0, 40.0, 200_001)
    for dof in (3.0, 4.0, 9.0, 30.0, 118.0, 238.0, 248.0, 1000.0, 60_000.0):
        got = two_sided_t_p(t, np.full(t.shape, dof))
        expected = 2 * stats.t.sf(t, dof)
        assert np.max(np.abs(got - expected)) < ACCURACY, dof
        assert (got[expected > 0] > 0).all(), dof  # no tail p-value rounds to zero or below


def test_random_statistics_and_the_direct_paths_are_within_the_stated_accuracy() -> None:
    rng = np.random.default_rng(5)
    t = np.concatenate([rng.standard_normal(30_000) * 3, [0.0, 39.99, 40.0, 45.0, -60.0, np.inf, np.nan]])
    for dof in (3.0, 4.0, 9.0, 118.0, 238.0, 1000.0):
        dofs = np.full(t.shape, dof)
        dofs[:50] = 2.5  # not whole: direct
        dofs[50:60] = 2.0  # too few for a table: direct
        got, expected = two_sided_t_p(t, dofs), 2 * stats.t.sf(np.abs(t), dofs)
        assert np.array_equal(np.isnan(got), np.isnan(expected))
        assert np.nanmax(np.abs(got - expected)) < ACCURACY, dof
    assert np.isnan(two_sided_t_p(np.array([1.0]), np.array([np.nan]))).all()
