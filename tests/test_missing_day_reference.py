"""The independent reference of the missing-day group statistics (tests/reference/missing_day_stats.py) checked
on its hand-computed example, against a per-pair computation, and where the fast forms must agree with it."""

from __future__ import annotations

import math

import numpy as np
import pytest
from reference.missing_day_stats import (
    HAND_ESTIMATION_ROWS,
    HAND_EXAMPLE,
    HAND_WINDOW_ROWS,
    corrado_rank_z,
    pairwise_correlations,
    pairwise_mean_correlation,
    rank_u,
    shortcut_mean_correlation,
)

EST = HAND_EXAMPLE[HAND_ESTIMATION_ROWS]


def test_hand_example_pairwise_r_bar() -> None:
    r = pairwise_correlations(EST)
    assert r[0, 1] == pytest.approx(1 / math.sqrt(2), abs=1e-15)
    assert r[0, 2] == pytest.approx(4 * math.sqrt(3) / 7, abs=1e-15)
    assert r[1, 2] == pytest.approx(9 / math.sqrt(364 / 3), abs=1e-15)
    expected = (1 / math.sqrt(2) + 4 * math.sqrt(3) / 7 + 9 / math.sqrt(364 / 3)) / 3
    assert pairwise_mean_correlation(EST) == pytest.approx(expected, abs=1e-15)
    assert expected == pytest.approx(0.8379691, abs=5e-8)


def test_hand_example_shortcut_drifts() -> None:
    bracket = 2 * (10 / math.sqrt(12.5) + 8 / math.sqrt(17.5) + 9 / math.sqrt(35))
    expected = bracket / ((59 / 13 - 1) * 3 * 2)
    assert shortcut_mean_correlation(EST) == pytest.approx(expected, abs=1e-14)
    assert expected == pytest.approx(0.5899052, abs=5e-8)


def test_hand_example_rank_test() -> None:
    u = rank_u(HAND_EXAMPLE)
    assert np.allclose(u[:, 0], np.array([5, -1, 1, 3, -3, -5]) / 14, atol=1e-15)
    assert np.allclose(u[2:, 2], np.array([1, 3, -1, -3]) / 10, atol=1e-15)
    s_plain, s_weighted = math.sqrt(17 / 315), math.sqrt(71 / 1470)
    plain = corrado_rank_z(HAND_EXAMPLE, HAND_WINDOW_ROWS, weighted=False)
    weighted = corrado_rank_z(HAND_EXAMPLE, HAND_WINDOW_ROWS, weighted=True)
    assert plain == pytest.approx((-71 / 210) / s_plain, abs=1e-14) and plain == pytest.approx(-1.4553581, abs=5e-8)
    assert weighted == pytest.approx((-71 / 210) / s_weighted, abs=1e-14)
    assert weighted == pytest.approx(-1.5383974, abs=5e-8)


def test_pairwise_matches_one_pair_at_a_time() -> None:
    rng = np.random.default_rng(7)
    ar = rng.normal(0, 1, (240, 6)) + rng.normal(0, 1, (240, 1))
    ar[rng.random(ar.shape) < 0.2] = np.nan
    r = pairwise_correlations(ar)
    for i in range(6):
        for j in range(i + 1, 6):
            both = ~np.isnan(ar[:, i]) & ~np.isnan(ar[:, j])
            assert r[i, j] == pytest.approx(np.corrcoef(ar[both, i], ar[both, j])[0, 1], abs=1e-12)


def test_fast_forms_equal_the_references_when_no_day_is_missing() -> None:
    rng = np.random.default_rng(8)
    x = rng.normal(0, 0.01, 240)
    y = np.outer(x, rng.uniform(0.5, 1.5, 5)) + rng.normal(0, 0.01, (240, 1)) + rng.normal(0, 0.01, (240, 5))
    design = np.column_stack([np.ones_like(x), x])
    resid = y - design @ np.linalg.lstsq(design, y, rcond=None)[0]  # market-model residuals: mean 0
    assert shortcut_mean_correlation(resid) == pytest.approx(pairwise_mean_correlation(resid), abs=1e-12)
    event = np.vstack([resid, rng.normal(0, 0.01, (3, 5))])
    window = np.arange(240, 243)
    assert corrado_rank_z(event, window, weighted=True) == pytest.approx(
        corrado_rank_z(event, window, weighted=False), abs=1e-12
    )
    gappy = resid.copy()
    gappy[:60, 0] = np.nan  # a late listing: the forms part
    assert abs(shortcut_mean_correlation(gappy) - pairwise_mean_correlation(gappy)) > 1e-3
