"""Corrado rank sums for the event-study engine (transforms.event_study.chunk): compiled kernels around numpy's
vectorised sort.

Why this module: the rank test needs, for every (ticker, event, model), the rank of each day's abnormal return
among the estimation and event-window days (261 by default), and a full argsort of every row would dominate the
whole engine. numpy's SIMD sort is fast only for unsigned keys in rows of at most 256, so each row is split in
two: the estimation days (part A) and the other ranked days (part B, the event window), each sorted on its own
and merged here, in one linear pass per row.

The sort keys are the abnormal returns mapped to unsigned integers that order as the floats do (-0.0 taken as +0.0),
with the low bits replaced by the day's index in its part, so a sorted key says which day it is. Two keys that differ
above those bits order their values strictly, so the ranks come from the keys alone; a row with two keys that agree
above them (equal values, or values within ~2^-44 of each other), or with an estimation AR at +0.0's key (positive or
not), takes the exact path: the values are read back (recomputed with the same expression as the reference,
tests/reference/event_study.py: y - (alpha + beta x)), put in exact order by an insertion pass, merged, and ties
(equal values) share their average rank, as scipy's rankdata does. The result is exact: the same ranks as a full
argsort (tests/test_dense_kernels.py checks rows with ties, one-ulp near-ties and signed zeros against rankdata;
tests/test_dense_study.py the whole engine against the reference pipeline).

Tickers go a block at a time (_CACHE_KEYS keys), so that each block's keys stay in the CPU cache from filling
through sorting to ranking.

The two loops (key filling; the merge and the rank sums) are C (kernels/ranks.c; transforms/event_study/compiled.py
says why C). They release the GIL, so the engine's chunks still run on several threads.

Where the Corrado statistic is formed: this module returns the per-group sums of the centred ranks (u_sum) and the
count of tickers ranked per day (u_count); the mean rank per day U_t and s_U are computed from them in
transforms/event_study/group_stats.py (group_impact_frame).
"""

from __future__ import annotations

import numpy as np

from transforms.event_study.compiled import kernels as _kernels

_CACHE_KEYS = 1 << 16  # sort keys per block of tickers (512 KB: fits the L2 cache)


def index_bits(width: int) -> int:
    """Low key bits that hold a day's index in a part of `width` days."""
    return max(1, (max(width, 1) - 1).bit_length())


def corrado_sums(
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
    """(u_sum (G, M, E, R), u_count (G, E, R), share_pos (T, M, E)) for one chunk: the centred Corrado ranks of
    every fitted (ticker, event, model) summed per group (index `n_groups - 1`: all tickers) and rel_day, how
    many tickers have a ranked return on each day, and each row's share of positive estimation ARs (NaN for
    pairs that are not fitted).

    y: (T, E, R) ticker returns (NaN where absent) on rel days R; x: (E, R) benchmark returns, NaN off its
    calendar; alpha, beta: (T, M, E); fitted: (T, E); est: the estimation days' slice of R; ranked: (R,) bool,
    the days ranked (estimation and event window); group_of: (T,) each ticker's group index (< n_groups - 1)."""
    n_t, n_e, n_r = y.shape
    n_m = alpha.shape[1]
    if alpha.shape != (n_t, n_m, n_e) or beta.shape != alpha.shape or fitted.shape != (n_t, n_e):
        raise ValueError(
            f"corrado_sums: shapes y {y.shape}, alpha {alpha.shape}, beta {beta.shape}, fitted {fitted.shape}"
        )
    if x.shape != (n_e, n_r) or ranked.shape != (n_r,) or group_of.shape != (n_t,):
        raise ValueError(
            f"corrado_sums: shapes y {y.shape}, x {x.shape}, ranked {ranked.shape}, group_of {group_of.shape}"
        )
    pos_a = np.arange(est.start, est.stop, dtype=np.int64)
    in_a = np.zeros(n_r, dtype=bool)
    in_a[est] = True
    pos_b = np.flatnonzero(ranked & ~in_a).astype(np.int64)
    bits_a, bits_b = index_bits(pos_a.size), index_bits(pos_b.size)
    y = np.ascontiguousarray(y, dtype=np.float64)
    x_finite = np.ascontiguousarray(np.where(np.isnan(x), 0.0, x), dtype=np.float64)
    alpha = np.ascontiguousarray(alpha, dtype=np.float64)
    beta = np.ascontiguousarray(beta, dtype=np.float64)
    fitted_bytes = np.ascontiguousarray(fitted, dtype=np.uint8)
    u_sum = np.zeros((n_groups, n_m, n_e, n_r))
    u_count = np.zeros((n_groups, n_e, n_r))
    share_pos = np.full((n_t, n_m, n_e), np.nan)
    group_of = np.ascontiguousarray(group_of, dtype=np.int64)
    if group_of.size and (group_of.min() < 0 or group_of.max() >= n_groups - 1):
        raise ValueError(f"corrado_sums: group indices must lie in [0, {n_groups - 1})")
    # Tickers a few at a time, so that each block's keys stay in the CPU cache from filling through sorting to
    # ranking (one pass over a whole chunk's keys from main memory would cost more than the ranking itself).
    step = max(1, _CACHE_KEYS // max(1, n_m * n_e * (pos_a.size + pos_b.size)))
    keys_a = np.empty((min(step, n_t), n_m, n_e, pos_a.size), dtype=np.uint64)
    keys_b = np.empty((min(step, n_t), n_m, n_e, pos_b.size), dtype=np.uint64)
    for lo in range(0, n_t, step):
        hi = min(lo + step, n_t)
        ka, kb, yb = keys_a[: hi - lo], keys_b[: hi - lo], y[lo:hi]
        ab, bb = alpha[lo:hi], beta[lo:hi]
        for pos, bits, keys in ((pos_a, bits_a, ka), (pos_b, bits_b, kb)):
            _kernels.fill_keys(
                yb, x_finite, ab, bb, fitted_bytes[lo:hi], pos, bits, keys, hi - lo, n_m, n_e, n_r, pos.size
            )
            keys.sort(axis=-1)  # numpy's SIMD sort, in place, without the GIL
        _kernels.rank_sums(
            ka,
            kb,
            bits_a,
            bits_b,
            yb,
            x_finite,
            ab,
            bb,
            pos_a,
            pos_b,
            group_of[lo:hi],
            u_sum,
            u_count,
            share_pos[lo:hi],
            hi - lo,
            n_m,
            n_e,
            n_r,
            pos_a.size,
            pos_b.size,
            n_groups,
        )
    u_sum[-1] = u_sum[:-1].sum(axis=0)  # 'all': every group's tickers
    u_count[-1] = u_count[:-1].sum(axis=0)
    return u_sum, u_count, share_pos
