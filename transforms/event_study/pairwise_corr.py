"""Kolari-Pynnönen r-bar over common days: the pairs with a ticker missing estimation days.

Kolari and Pynnönen (2010, "Event study testing with cross-sectional correlation of abnormal returns", Review of
Financial Studies 23(11)) define r-bar as the average of the pairwise sample correlations of the tickers'
estimation-window abnormal returns. Where a ticker misses days, each pair's correlation is the ordinary Pearson r
over the days both tickers have, centred on those days' means (tests/reference/missing_day_stats.py, the
independent numpy reference, and tests/reference/group_tests.py, the long-frame oracle).

The engine splits the pairs in two (docs/methods.md, "r-bar"):

- Pairs of two *full* tickers (a return on every estimation day, non-constant ARs): the chunks accumulate the
  fast form `sum_t[(sum_i z_it)^2 - sum_i z_it^2] / (T - 1)` per group (transforms/event_study/chunk.py,
  kernels/kolari_pynnonen.c). It is not an approximation there: z_i is demeaned and divided by its sample sd over
  the same T days for every full ticker, so `sum_t z_it z_jt = (T - 1) r_ij` exactly and the bracket is the sum
  of r_ij over the ordered pairs (tests/test_pairwise_corr.py checks it to 1e-12).
- Pairs with a *partial* ticker (this module, after the chunks, because a pair can span two benchmark blocks):
  per event, the estimation ARs of every fitted ticker (NaN where missing) as a (tickers x days) array; for the K
  partial rows against all N columns the cross products over common days are the masked product `A_K A^T` (zeros
  on missing days), and each ticker's sums and sums of squares over the other's days its full-row sums less those
  over the other ticker's missing days (few), in one compiled pass over the pairs that also forms each r and sums
  it per group (kernels/kolari_pynnonen.c, kp_pair_sums).

Days are matched by relative day (each ticker's day 0 on its own benchmark calendar), as everywhere in the group
tests. No Python loop over pairs, tickers or days: one iteration per event that has a partial ticker.
"""

from __future__ import annotations

import numpy as np

from transforms.event_study.compiled import kernels as _kernels
from transforms.event_study.layout import Arrays, Block, GroupSums

_BLAS_TILE = 1 << 18
"""Multiply-adds of one matrix-product tile: OpenBLAS runs a product of at most 65536 x 4 of them on the calling
thread (its GEMM_MULTITHREAD_THRESHOLD), so these products never wake BLAS's threads, which would compete with the
engine's own for the cores (measured: a 3x larger CPU time on a busy machine). Any size gives the same result."""


def _cross_products(a0: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """(M, K, N): a0[m, rows[k]] . a0[m, j], the sums over common days of a_i a_j (a0 is 0 on missing days), as
    BLAS products in tiles of at most _BLAS_TILE multiply-adds (a loop over tiles, not over tickers or days)."""
    n_m, n_t, n_d = a0.shape
    a_k = a0[:, rows]
    cross = np.empty((n_m, rows.size, n_t))
    cols = min(n_t, 128)
    step = max(1, _BLAS_TILE // (cols * max(n_d, 1)))
    for m in range(n_m):
        for r in range(0, rows.size, step):
            for c in range(0, n_t, cols):
                np.matmul(a_k[m, r : r + step], a0[m, c : c + cols].T, out=cross[m, r : r + step, c : c + cols])
    return cross


def partial_pair_sums(ar: np.ndarray, partial: np.ndarray, group_of: np.ndarray, n_groups: int) -> np.ndarray:
    """Sums over the unordered pairs (i, j) with at least one partial ticker and both in one group (and, last,
    over all pairs: group 'all') of r_ij and of 1 (the pairs with a defined r): (2, n_groups, M).

    ar: (M, N, D) estimation ARs of N tickers per model, NaN where the ticker has no return (the same days for
    every model); partial: (N,) bool; group_of: (N,) group index in [0, n_groups - 1). A pair with fewer than 2
    common days or a constant series on them has no r and is left out (as a NaN in a mean of correlations is).
    The cross products over common days are products of the ARs with zeros on the missing days
    (_cross_products); each ticker's sums over the other's days its own sums less those over the other's missing
    days, which only partial tickers have and which are few: one compiled pass over the pairs
    (kernels/kolari_pynnonen.c, kp_pair_sums)."""
    n_m, n_t, n_d = ar.shape
    out = np.zeros((2, n_groups, n_m))
    rows = np.flatnonzero(partial)
    if rows.size == 0 or n_t < 2:
        return out
    valid = np.ascontiguousarray(~np.isnan(ar[0]))
    a0 = np.ascontiguousarray(np.where(valid, ar, 0.0))  # (M, N, D)
    cross = _cross_products(a0, rows)
    row, day = np.nonzero(~valid[rows])  # the partial tickers' missing days, row by row
    miss_start = np.zeros(rows.size + 1, dtype=np.int64)
    np.cumsum(np.bincount(row, minlength=rows.size), out=miss_start[1:])
    part_of = np.full(n_t, -1, dtype=np.int64)
    part_of[rows] = np.arange(rows.size)
    _kernels.kp_pair_sums(
        a0,
        np.ascontiguousarray(a0.transpose(0, 2, 1)),  # day-major: a day's values of every ticker together
        cross,
        a0.sum(-1),
        (a0 * a0).sum(-1),
        valid.sum(-1).astype(np.float64),
        np.ascontiguousarray(valid.T),
        rows.astype(np.int64),
        part_of,
        miss_start,
        day.astype(np.int64),
        np.ascontiguousarray(group_of, dtype=np.int64),
        out,
        n_m,
        n_t,
        n_d,
        rows.size,
        day.size,
        n_groups,
    )
    return out


def add_partial_pairs(
    blocks: list[Block],
    matrix: np.ndarray,
    out: Arrays,
    estimation_window: tuple[int, int],
    ticker_group: np.ndarray,
    group: GroupSums,
) -> None:
    """group.pair_sum / group.pair_count += the partial pairs' r_ij and count (partial_pair_sums) of every event
    with a fitted ticker missing estimation days, from the returns `matrix` and the fits in `out`."""
    est_lo, est_hi = estimation_window
    rel = np.arange(est_lo, est_hi + 1)
    n_days = rel.size
    partial = out.fitted & (out.n < n_days)  # (codes, E)
    n_groups = group.pair_sum.shape[0]
    for e in np.flatnonzero(partial.any(axis=0)).tolist():  # one iteration per event with a partial ticker
        ars, codes = [], []
        for block in blocks:
            at = int(np.searchsorted(block.events, e))
            if at >= block.events.size or block.events[at] != e:
                continue
            tk = block.tickers[out.fitted[block.tickers, e]]
            if tk.size == 0:
                continue
            pos = block.day0_pos[at] + rel
            exists = (pos >= 0) & (pos < block.calendar.size)
            pos = np.clip(pos, 0, block.calendar.size - 1)
            y = matrix[tk[:, None], block.calendar[pos][None, :]]  # (T, D)
            y[:, ~exists] = np.nan
            x = np.where(exists, block.x[pos], 0.0)
            alpha, beta = out.alpha[tk, :, e].T, out.beta[tk, :, e].T  # (M, T)
            ars.append(y[None] - (alpha[:, :, None] + beta[:, :, None] * x[None, None, :]))
            codes.append(tk)
        if not codes:
            continue
        tickers = np.concatenate(codes)
        sums = partial_pair_sums(np.concatenate(ars, axis=1), partial[tickers, e], ticker_group[tickers], n_groups)
        group.pair_sum[:, :, e] += sums[0]
        group.pair_count[:, :, e] += sums[1]
