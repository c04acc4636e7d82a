"""The compiled kernels of the dense engine (transforms/event_study/kernels/*.c) against plain references: Corrado rank
sums against scipy's rankdata row by row (ties, near-ties a key cannot separate, signed zeros, missing days,
unfitted pairs, overlapping and split windows), the group statistics against numpy's nan-reductions, and the
argument checks that keep a wrong call from reading past an array. The engine as a whole is checked against
the reference pipeline (tests/reference/) in tests/test_dense_study.py."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy.stats import rankdata

from transforms.event_study.compiled import kernels
from transforms.event_study.group_stats import GROUP_STATS
from transforms.event_study.ranks import corrado_sums


def _reference_corrado(
    y: np.ndarray,
    x: np.ndarray,
    alpha: np.ndarray,
    beta: np.ndarray,
    fitted: np.ndarray,
    est: slice,
    ranked: np.ndarray,
    group_of: np.ndarray,
    n_groups: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """corrado_sums by a Python loop over rows: U = rankdata(AR) / (M + 1) - 1/2 on the ranked days present."""
    n_t, n_e, n_r = y.shape
    n_m = alpha.shape[1]
    x0 = np.where(np.isnan(x), 0.0, x)
    u_sum = np.zeros((n_groups, n_m, n_e, n_r))
    u_count = np.zeros((n_groups, n_e, n_r))
    share = np.full((n_t, n_m, n_e), np.nan)
    est_day = np.zeros(n_r, dtype=bool)
    est_day[est] = True
    for t in range(n_t):
        for e in range(n_e):
            if not fitted[t, e]:
                continue
            days = np.flatnonzero(ranked & ~np.isnan(y[t, e]))
            for g in (group_of[t], n_groups - 1):
                u_count[g, e, days] += 1
            for m in range(n_m):
                ar = y[t, e, days] - (alpha[t, m, e] + beta[t, m, e] * x0[e, days])
                u = rankdata(ar) / (days.size + 1) - 0.5
                for g in (group_of[t], n_groups - 1):
                    u_sum[g, m, e, days] += u
                on_est = est_day[days]
                if on_est.any():
                    share[t, m, e] = np.count_nonzero(ar[on_est] > 0) / np.count_nonzero(on_est)
    return u_sum, u_count, share


def _inputs(seed: int, n_t: int = 7, n_e: int = 3, n_m: int = 3, n_r: int = 40) -> dict:
    rng = np.random.default_rng(seed)
    y = rng.normal(0, 0.02, (n_t, n_e, n_r))
    y[rng.random(y.shape) < 0.05] = np.nan
    x = rng.normal(0, 0.01, (n_e, n_r))
    x[:, :2] = np.nan  # off the benchmark's calendar: no ticker has a return there
    y[:, :, :2] = np.nan
    alpha = rng.normal(0, 1e-3, (n_t, n_m, n_e))
    beta = rng.uniform(0.5, 1.5, (n_t, n_m, n_e))
    alpha[:, 1], beta[:, 1] = 0.0, 1.0  # market-adjusted
    beta[:, 2] = 0.0  # constant mean
    fitted = rng.random((n_t, n_e)) < 0.85
    return {"y": y, "x": x, "alpha": alpha, "beta": beta, "fitted": fitted}


def _check(case: dict, est: slice, ranked: np.ndarray, n_groups: int = 4) -> None:
    n_t = case["y"].shape[0]
    group_of = np.arange(n_t) % (n_groups - 1)
    args = (case["y"], case["x"], case["alpha"], case["beta"], case["fitted"], est, ranked, group_of, n_groups)
    got = corrado_sums(*args)
    expected = _reference_corrado(*args)
    for name, a, b in zip(("u_sum", "u_count", "share_pos"), got, expected, strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("seed", range(4))
def test_rank_sums_equal_rankdata_on_random_rows(seed: int) -> None:
    ranked = np.ones(40, dtype=bool)
    _check(_inputs(seed), slice(0, 30), ranked)


def test_rank_sums_with_a_gap_between_the_windows_and_a_split_event_window() -> None:
    """Ranked days: estimation 3..24 and event days 28..39 but not 33: part B is not one run of days."""
    ranked = np.zeros(40, dtype=bool)
    ranked[3:25] = True
    ranked[28:40] = True
    ranked[33] = False
    _check(_inputs(11), slice(3, 25), ranked)


def test_rank_sums_with_an_event_window_inside_the_estimation_window() -> None:
    ranked = np.zeros(40, dtype=bool)
    ranked[5:40] = True  # every ranked day is an estimation day: part B is empty
    _check(_inputs(12), slice(5, 40), ranked)


def test_ties_near_ties_and_signed_zeros_take_the_exact_path() -> None:
    """Exact ties (stale prices), values one ulp apart (their keys agree above the index bits, so only the exact
    path can order them), negative and positive zeros (equal: a tie) and zero ARs (not positive)."""
    case = _inputs(5)
    y, beta, alpha = case["y"], case["beta"], case["alpha"]
    alpha[:] = 0.0
    beta[:, 0] = 0.0  # AR = y for model 0, so the planted values are the ARs themselves
    y[0, 0, 5:12] = 0.0125  # a run of ties in the estimation window
    y[0, 0, 35] = 0.0125  # ... tied with an event-window day
    y[1, 0, 6] = 0.01
    y[1, 0, 7] = np.nextafter(0.01, 1.0)  # one ulp above
    y[1, 0, 36] = np.nextafter(0.01, -1.0)  # one ulp below, in the event window
    # The same within the estimation window alone (no event-window day near them), one case a ticker:
    y[4, 0, 5:9] = 0.0125  # exact ties
    y[5, 0, 8] = np.nextafter(0.02, 1.0)  # the earlier day holds the larger of two values one ulp apart:
    y[5, 0, 9] = 0.02  # ordered by day, their keys would rank them the wrong way round
    y[6, 0, 10] = -0.0
    y[6, 0, 11] = 0.0
    y[3, 0, 12] = 5e-324  # positive, but its key agrees with +0.0's above the index bits
    # An estimation day and an event day alone: tied, and one ulp apart with the event day the larger.
    y[0, 1, 20] = y[0, 1, 38] = 0.0333
    y[1, 1, 20] = 0.0444
    y[1, 1, 38] = np.nextafter(0.0444, 1.0)
    y[2, 1, 35] = y[2, 1, 37] = 0.0011  # two event days alone, tied (amid the estimation days' values)
    y[2, 0, 8] = -0.0
    y[2, 0, 9] = 0.0
    y[2, 0, 37] = -0.0
    y[3, 1, 10:30] = 0.0  # zero ARs on estimation days for model 0
    case["fitted"][:, :2] = True
    _check(case, slice(0, 30), np.ones(40, dtype=bool))


def test_a_row_with_every_day_missing_adds_nothing() -> None:
    case = _inputs(6)
    case["y"][0, 0, :] = np.nan
    case["fitted"][0, 0] = True
    _check(case, slice(0, 30), np.ones(40, dtype=bool))


def test_group_stats_equal_numpy_nan_reductions() -> None:
    rng = np.random.default_rng(3)
    n_c, n_m, n_e, n_w, n_g = 40, 2, 3, 2, 4
    car = rng.normal(0, 0.05, (n_c, n_m, n_e, n_w))
    scar = rng.normal(0, 1, (n_c, n_m, n_e, n_w))
    car[rng.random(car.shape) < 0.1] = np.nan
    scar[rng.random(scar.shape) < 0.1] = np.nan
    car[:3, 0, 0, 0] = 0.0  # zero CARs: neither negative nor positive
    fitted = rng.random((n_c, n_e)) < 0.9
    dof = rng.integers(100, 240, (n_c, n_m, n_e)).astype(float)
    share = rng.uniform(0.4, 0.6, (n_c, n_m, n_e))
    group_of = rng.integers(-1, n_g - 1, n_c)  # -1: not studied
    group_of[group_of == 2] = 1  # group 2 has no ticker at all
    stats = np.empty((len(GROUP_STATS), n_g, n_m, n_e, n_w))
    kernels.group_stats(
        np.ascontiguousarray(car.transpose(1, 2, 3, 0)),
        np.ascontiguousarray(scar.transpose(1, 2, 3, 0)),
        np.ascontiguousarray(fitted.T),
        np.ascontiguousarray(dof.transpose(1, 2, 0)),
        np.ascontiguousarray(share.transpose(1, 2, 0)),
        group_of,
        stats,
        n_c,
        n_m,
        n_e,
        n_w,
        n_g,
    )
    got = dict(zip(GROUP_STATS, stats, strict=True))
    tested = fitted[:, None, :, None] & ~np.isnan(car) & ~np.isnan(scar)
    for g in range(n_g):
        rows = group_of >= 0 if g == n_g - 1 else group_of == g
        c = np.where(tested, car, np.nan)[rows]
        z = np.where(tested, scar, np.nan)[rows]
        n = tested[rows].sum(axis=0).astype(float)
        with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN cells (group 2 has no ticker)
            expected = {
                "n": n,
                "caar": np.nanmean(c, axis=0),
                "median_car": np.nanmedian(c, axis=0),
                "share_negative": (c < 0).sum(axis=0) / n,
                "sd_car": np.nanstd(c, axis=0, ddof=1),
                "sum_scar": np.nansum(z, axis=0),
                "mean_scar": np.nanmean(z, axis=0),
                "sd_scar": np.nanstd(z, axis=0, ddof=1),
                "patell_var": np.nansum(np.where(tested, (dof / (dof - 2))[..., None], np.nan)[rows], axis=0),
                "positives": (c > 0).sum(axis=0).astype(float),
                "p_hat": np.nanmean(np.where(tested, share[..., None], np.nan)[rows], axis=0),
            }
        for name in GROUP_STATS:
            np.testing.assert_allclose(got[name][g], expected[name], rtol=1e-12, atol=1e-15, err_msg=f"{name} g{g}")


def test_kernels_refuse_arrays_of_the_wrong_size() -> None:
    """A wrong shape is a TypeError naming the argument, never a read past the end of an array."""
    y = np.zeros((2, 3, 10))
    sums = np.empty((11, 2, 3))
    with pytest.raises(TypeError, match="x: expected 30 items"):
        kernels.estimation_sums(y, np.zeros((3, 9)), sums, 2, 3, 10, 0, 8)
    with pytest.raises(IndexError, match="window out of range"):
        kernels.estimation_sums(y, np.zeros((3, 10)), sums, 2, 3, 10, 0, 11)
    matrix = np.zeros((4, 5))
    with pytest.raises(IndexError, match="out of range"):
        kernels.gather_windows(
            matrix, np.array([0, 9]), np.zeros((3, 10), dtype=np.int64), np.ones((3, 10), bool), y, 4, 5, 2, 3, 10
        )
    with pytest.raises(ValueError, match="not C-contiguous"):  # a strided view is not one buffer
        kernels.estimation_sums(np.zeros((2, 3, 20))[:, :, ::2], np.zeros((3, 10)), sums, 2, 3, 10, 0, 8)


def test_rank_kernels_refuse_positions_bits_and_groups_out_of_range() -> None:
    """Day positions past the window, too few index bits for a part, or a group past the sums: an IndexError."""
    case = _inputs(1, n_t=2, n_e=1, n_r=10)
    case["alpha"], case["beta"] = case["alpha"][:, :1].copy(), case["beta"][:, :1].copy()  # one model
    y, x = case["y"], np.nan_to_num(case["x"])
    a, b, fitted = case["alpha"], case["beta"], case["fitted"].astype(np.uint8)
    pos = np.arange(8, dtype=np.int64)
    keys = np.empty((2, 1, 1, 8), dtype=np.uint64)
    with pytest.raises(IndexError, match="fill_keys: a day position out of range, or 2 index bits too few"):
        kernels.fill_keys(y, x, a, b, fitted, pos, 2, keys, 2, 1, 1, 10, 8)
    with pytest.raises(IndexError, match="fill_keys: a day position out of range"):
        kernels.fill_keys(y, x, a, b, fitted, pos + 5, 3, keys, 2, 1, 1, 10, 8)
    kernels.fill_keys(y, x, a, b, fitted, pos, 3, keys, 2, 1, 1, 10, 8)
    keys.sort(axis=-1)
    empty, none = np.empty((2, 1, 1, 0), dtype=np.uint64), np.empty(0, dtype=np.int64)
    u_sum, u_count, share = np.zeros((2, 1, 1, 10)), np.zeros((2, 1, 10)), np.empty((2, 1, 1))
    with pytest.raises(IndexError, match="rank_sums: a group out of range"):
        kernels.rank_sums(
            keys, empty, 3, 1, y, x, a, b, pos, none, np.array([0, 2]), u_sum, u_count, share, 2, 1, 1, 10, 8, 0, 2
        )
