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
  per event, every pair (i, j) with i partial, from its sums over the common days C_ij.

How the pairs are summed, per event (`event_pair_sums`; the loops in kernels/kolari_pynnonen.c). Write a0_i for
ticker i's ARs with 0 on its missing days: a0_it = v_it (y_it - alpha_i - beta_i x_t), v_it = 1 on the days it
has a return. Over C_ij the pair needs n, sum a_i, sum a_i^2, the same for j, and the cross product
sum_t a0_it a0_jt. The single sums are each ticker's sums over its own days less those on the other's missing
days (only partial tickers have any, and few). The cross products are the expensive part (partial tickers x all
tickers x days): one matrix product P = A0_K A0^T of the *reference* model's a0 (the market model's where the
study has it: the best fit, so the smallest ARs) serves every model, since another model's ARs differ from the
reference's by d_it = (alpha_i - alpha_ref,i) + (beta_i - beta_ref,i) x_t, a line in the benchmark return:

    a0_i = a0ref_i - v_i d_i, so sum_t a0_it a0_jt = P_ij - sum_t a0ref_it d_jt + sum_{t missed by j} a0ref_it d_jt
                                                     - sum_t d_it a0_jt + sum_{t missed by i} d_it a0_jt,

where sum_t a0ref_it d_jt and sum_t d_it a0_jt are each ticker's sums of its a0 and of a0 x_t (over every day,
per benchmark) times the other's alpha and beta differences, and the two corrections run over the missing days
only. For the reference model every term but P_ij is 0, so it is exactly the direct product. The product runs on
one BLAS thread (`_one_blas_thread`): BLAS's own threads would compete with the engine's for the cores (measured
on this 2-core machine: more CPU time, no faster). Days are matched by relative day (each ticker's day 0 on its
own benchmark calendar), as everywhere in the group tests. No Python loop over pairs, tickers or days: one
iteration per event that has a partial ticker, the events dealt out to the engine's threads.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import numpy as np
from threadpoolctl import ThreadpoolController

from transforms.event_study.compiled import kernels as _kernels
from transforms.event_study.layout import Arrays, Block, GroupSums


class _BlasLimit:
    """BLAS limited to one thread while any caller is inside (the first in sets it, the last out restores it, so
    concurrent studies in one process do not undo each other's limit)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.users = 0
        self.controller: ThreadpoolController | None = None
        self.limiter: Any = None


_BLAS = _BlasLimit()


@contextmanager
def _one_blas_thread() -> Iterator[None]:
    """Inside: BLAS on the calling thread alone (_BlasLimit)."""
    with _BLAS.lock:
        if _BLAS.users == 0:
            if _BLAS.controller is None:
                _BLAS.controller = ThreadpoolController()
            _BLAS.limiter = _BLAS.controller.limit(limits=1, user_api="blas")
        _BLAS.users += 1
    try:
        yield
    finally:
        with _BLAS.lock:
            _BLAS.users -= 1
            if _BLAS.users == 0:
                _BLAS.limiter.restore_original_limits()
                _BLAS.limiter = None


class _Workspace:
    """The per-event arrays, allocated once per study and reused (views of the right shape), so the events do not
    each pay for fresh memory."""

    def __init__(self) -> None:
        self._buffers: dict[str, np.ndarray] = {}

    def take(self, name: str, *shape: int) -> np.ndarray:
        size = int(np.prod(shape))
        buffer = self._buffers.get(name)
        if buffer is None or buffer.size < size:
            buffer = self._buffers[name] = np.empty(size)
        return buffer[:size].reshape(shape)


def event_pair_sums(
    y: np.ndarray,
    x: np.ndarray,
    col_block: np.ndarray,
    alpha: np.ndarray,
    beta: np.ndarray,
    n_partial: int,
    group_of: np.ndarray,
    n_groups: int,
    ref: int = 0,
    work: _Workspace | None = None,
) -> np.ndarray:
    """Sums over the unordered pairs (i, j) with at least one partial ticker and both in one group (and, last,
    over all pairs: group 'all') of r_ij and of 1 (the pairs with a defined r): (2, n_groups, M), for one event.

    y: (N, D) estimation-window returns of N tickers (NaN where missing), the n_partial partial ones first (the
    others have every day); x: (B, D) the benchmark returns of each block; col_block: (N,) each ticker's block;
    alpha, beta: (M, N) each model's fit, so ar = y - (alpha + beta x); group_of: (N,) group index in
    [0, n_groups - 1); ref: the model whose ARs are multiplied (the module docstring has the algebra). A pair with
    fewer than 2 common days or a constant series on them has no r and is left out (as a NaN in a mean of
    correlations is)."""
    n_t, n_d = y.shape
    n_m, n_b = alpha.shape[0], x.shape[0]
    out = np.zeros((2, n_groups, n_m))
    if n_partial == 0 or n_t < 2:
        return out
    work = work or _Workspace()
    y = np.ascontiguousarray(y, dtype=np.float64)
    x = np.ascontiguousarray(x, dtype=np.float64)
    col_block = np.ascontiguousarray(col_block, dtype=np.int64)
    alpha = np.ascontiguousarray(alpha, dtype=np.float64)
    beta = np.ascontiguousarray(beta, dtype=np.float64)
    a0_ref, y_t = work.take("a0_ref", n_t, n_d), work.take("y_t", n_d, n_t)
    sums, sq, n_valid = work.take("sums", n_m, n_t), work.take("sq", n_m, n_t), work.take("n_valid", n_t)
    xsum, p = work.take("xsum", n_m, n_b, n_t), work.take("p", n_partial, n_t)
    _kernels.kp_prepare(
        y, x, col_block, alpha, beta, a0_ref, y_t, sums, sq, n_valid, xsum, n_m, n_t, n_d, n_b, n_partial, ref
    )
    with _one_blas_thread():
        np.matmul(a0_ref[:n_partial], a0_ref.T, out=p)  # (K, N): the one product over days
    row, day = np.nonzero(np.isnan(y[:n_partial]))  # the partial tickers' missing days, row by row
    miss_start = np.zeros(n_partial + 1, dtype=np.int64)
    np.cumsum(np.bincount(row, minlength=n_partial), out=miss_start[1:])
    _kernels.kp_pair_sums(
        p,
        y,
        y_t,
        x,
        col_block,
        np.ascontiguousarray(group_of, dtype=np.int64),
        alpha,
        beta,
        alpha - alpha[ref],
        beta - beta[ref],
        sums,
        sq,
        n_valid,
        xsum,
        miss_start,
        day.astype(np.int64),
        out,
        n_m,
        n_t,
        n_d,
        n_b,
        n_partial,
        day.size,
        n_groups,
        ref,
    )
    return out


def partial_pair_sums(ar: np.ndarray, partial: np.ndarray, group_of: np.ndarray, n_groups: int) -> np.ndarray:
    """`event_pair_sums` from the ARs themselves: ar (M, N, D), NaN where missing (the same days for every model);
    partial: (N,) bool, the tickers with a missing day. Each model is its own reference (given ARs, not returns and
    fits, there is no line between the models' ARs to share a product through)."""
    n_m, n_t, n_d = ar.shape
    order = np.r_[np.flatnonzero(partial), np.flatnonzero(~partial)]
    none = np.zeros((1, n_t))
    out = np.zeros((2, n_groups, n_m))
    for m in range(n_m):  # a handful of models
        out[:, :, m : m + 1] = event_pair_sums(
            ar[m][order],
            np.zeros((1, n_d)),
            np.zeros(n_t, dtype=np.int64),
            none,
            none,
            int(partial.sum()),
            group_of[order],
            n_groups,
        )
    return out


def _event_returns(
    blocks: list[Block], matrix: np.ndarray, out: Arrays, rel: np.ndarray, partial: np.ndarray, e: int, work: _Workspace
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int] | None:
    """Event e's fitted tickers' estimation returns, partial tickers first: (y (N, D), x (B, D), col_block (N),
    ticker codes (N), partial count), or None when no block has fitted tickers for it."""
    pieces, xs = [], []
    for block in blocks:  # a handful of benchmarks
        at = int(np.searchsorted(block.events, e))
        if at >= block.events.size or block.events[at] != e:
            continue
        tk = block.tickers[out.fitted[block.tickers, e]]
        if tk.size == 0:
            continue
        pos = block.day0_pos[at] + rel
        exists = (pos >= 0) & (pos < block.calendar.size)
        pos = np.clip(pos, 0, block.calendar.size - 1)
        xs.append(np.where(exists, block.x[pos], 0.0))
        pieces.append((tk, len(xs) - 1, block.calendar[pos].astype(np.int64), exists))
    if not pieces:
        return None
    codes = [tk[partial[tk] == first] for first in (True, False) for tk, _, _, _ in pieces]  # partial ones first
    n_t = sum(c.size for c in codes)
    y = work.take("y", n_t, rel.size)
    at = 0
    for sel, (_, _, cols, exists) in zip(codes, pieces * 2, strict=True):
        _kernels.gather_windows(
            matrix, sel, cols, exists, y[at : at + sel.size], matrix.shape[0], matrix.shape[1], sel.size, 1, rel.size
        )  # NaN where the ticker has no return and off the calendar
        at += sel.size
    col_block = np.concatenate(
        [np.full(c.size, b, dtype=np.int64) for c, (_, b, _, _) in zip(codes, pieces * 2, strict=True)]
    )
    n_partial = sum(c.size for c in codes[: len(pieces)])
    return y, np.stack(xs), col_block, np.concatenate(codes), n_partial


def add_partial_pairs(
    blocks: list[Block],
    matrix: np.ndarray,
    out: Arrays,
    estimation_window: tuple[int, int],
    ticker_group: np.ndarray,
    group: GroupSums,
    ref_model: int = 0,
    threads: int = 1,
) -> None:
    """group.pair_sum / group.pair_count += the partial pairs' r_ij and count (event_pair_sums) of every event
    with a fitted ticker missing estimation days, from the returns `matrix` and the fits in `out`; ref_model: the
    model whose ARs are multiplied (the market model's where the study has it). With `threads` > 1 the events are
    dealt out to that many threads, each with its own workspace: every event adds to its own slice of the group
    sums, and the kernels and the product run without the GIL."""
    est_lo, est_hi = estimation_window
    rel = np.arange(est_lo, est_hi + 1)
    partial = out.fitted & (out.n < rel.size)  # (codes, E)
    n_groups = group.pair_sum.shape[0]
    events = np.flatnonzero(partial.any(axis=0)).tolist()  # the events with a partial ticker

    def run(mine: list[int]) -> None:
        work = _Workspace()
        for e in mine:  # one iteration per event with a partial ticker
            returns = _event_returns(blocks, matrix, out, rel, partial[:, e], e, work)
            if returns is None:
                continue
            y, x, col_block, codes, n_partial = returns
            alpha, beta = out.alpha[codes, :, e].T, out.beta[codes, :, e].T  # (M, N)
            sums = event_pair_sums(
                y, x, col_block, alpha, beta, n_partial, ticker_group[codes], n_groups, ref_model, work
            )
            group.pair_sum[:, :, e] += sums[0]
            group.pair_count[:, :, e] += sums[1]

    threads = max(1, min(threads, len(events)))
    with _one_blas_thread():
        if threads == 1:
            run(events)
            return
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(run, [events[k::threads] for k in range(threads)]))
