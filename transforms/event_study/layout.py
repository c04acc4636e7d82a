"""The dense engine's data layout: how the returns, the per-pair results and the group sums are held.

A study is a set of benchmark blocks (`Block`: one benchmark's calendar, its priced tickers sorted into runs of
one group, and the events with a day 0 on it). Every per-pair result lands in `Arrays`, indexed by sorted ticker
code, model, event and window, so the output frames (transforms.event_study.frames) come out in key order
without a sort or a join. `GroupSums` accumulates the per-group sums the Kolari-Pynnönen and Corrado tests need
across blocks, and `Names` maps the integer codes back to the strings of the output.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
import polars as pl

from transforms.event_study.fits import SUMS


@dataclass
class Block:
    """One benchmark's priced tickers x the events with a day 0 on its calendar."""

    tickers: np.ndarray  # ticker codes, sorted by group (then code)
    group_ids: np.ndarray  # the groups present among them, in that order
    group_starts: np.ndarray  # where each group's run of tickers starts
    events: np.ndarray  # event codes
    day0_pos: np.ndarray  # per event: position of day 0 in the benchmark calendar
    calendar: np.ndarray  # matrix columns of the benchmark's trading days
    x: np.ndarray  # benchmark returns on the calendar
    n_groups: int  # every group of the study, 'all' last
    bench: int  # the benchmark's index (axis 0 of Arrays.bench_*)

    def group_sums(self, values: np.ndarray) -> np.ndarray:
        """Sums over the block's tickers (axis 0 of `values`) per group, 'all' last: (groups, ...).

        The tickers come in runs of one group, so this is one reduceat (not a BLAS product with the membership
        matrix, whose multi-threaded BLAS would compete with the engine's own threads on these skinny products)."""
        sums = np.zeros((self.n_groups, *values.shape[1:]))
        sums[self.group_ids] = np.add.reduceat(values, self.group_starts, axis=0)
        sums[-1] = values.sum(axis=0)
        return sums


class Arrays:
    """Every per-pair result, indexed [ticker code, (model,) event code, (window or AR day)]; what depends only on
    the benchmark's calendar (its returns, trading days and dates in the AR window) is kept once per benchmark,
    indexed [benchmark, event code, AR day] (the last benchmark row: none, for tickers without a block)."""

    # What abnormal_returns_frame reads: the rest can be released before it is built (`release`).
    ABNORMAL_RETURNS_INPUTS = (
        "fitted",
        "alpha",
        "beta",
        "ar_ret",
        "bench_code",
        "bench_x",
        "bench_exists",
        "bench_date",
    )

    def __init__(self, codes: int, models: int, events: int, windows: int, ar_days: int, benchmarks: int) -> None:
        self.computed = np.zeros((codes, events), dtype=bool)  # went through the estimation
        self.fitted = np.zeros((codes, events), dtype=bool)  # enough days and event-window data
        self.n = np.zeros((codes, events), dtype=np.int32)
        self.n_missing = np.zeros((codes, events), dtype=np.int32)
        self.with_data = np.zeros((codes, events), dtype=bool)
        self.day0 = np.zeros((codes, events), dtype=np.int32)
        self.sums = {k: np.full((codes, events), np.nan) for k in (*SUMS, "alpha", "beta", "sigma")}
        shape_m = (codes, models, events)
        self.alpha, self.beta, self.sigma = np.full(shape_m, np.nan), np.full(shape_m, np.nan), np.full(shape_m, np.nan)
        self.dof, self.share_pos = np.full(shape_m, np.nan), np.full(shape_m, np.nan)
        shape_w = (codes, models, events, windows)
        self.car, self.car_t = np.full(shape_w, np.nan), np.full(shape_w, np.nan)
        self.car_se, self.scar = np.full(shape_w, np.nan), np.full(shape_w, np.nan)
        self.days = np.zeros((codes, events, windows), dtype=np.int64)
        self.raw = np.full((codes, events, windows), np.nan)
        # The ticker returns in the AR window, one (ticker, AR day) array per event: abnormal_returns_frame frees them
        # event by event as it writes their rows.
        self.ar_ret = [np.full((codes, ar_days), np.nan) for _ in range(events)]
        self.bench_code = np.full(codes, benchmarks, dtype=np.intp)  # each ticker's benchmark index
        shape_b = (benchmarks + 1, events, ar_days)
        self.bench_x = np.full(shape_b, np.nan)  # benchmark return
        self.bench_exists = np.zeros(shape_b, dtype=bool)  # a benchmark trading day
        self.bench_date = np.zeros(shape_b, dtype=np.int32)  # its date

    def ar_returns(self, events: slice) -> np.ndarray:
        """The ticker returns in the AR window of `events`: (event, ticker, AR day)."""
        return np.stack(self.ar_ret[events]) if events.stop > events.start else np.empty((0, *self.ar_ret[0].shape))

    def release(self, keep: tuple[str, ...]) -> None:
        """Free every array but those named in `keep` (left empty, of the same number of dimensions)."""
        for name, value in vars(self).items():
            if name in keep:
                continue
            if isinstance(value, np.ndarray):
                setattr(self, name, np.empty((0,) * value.ndim, dtype=value.dtype))
            elif isinstance(value, dict):
                value.clear()


class GroupSums:
    """Sums over the tickers of each group (last: 'all') per model, event and rel_day, accumulated over blocks
    (under `lock`: blocks of different benchmarks share events); the Kolari-Pynnönen pair sums of the pairs with
    a partial ticker are added after the chunks (transforms.event_study.pairwise_corr)."""

    def __init__(self, groups: int, models: int, events: int, n_rel: int, n_est: int) -> None:
        self.z_sum = np.zeros((groups, models, events, n_est))  # standardized estimation ARs of the full tickers
        self.z_sq = np.zeros((groups, models, events))  # their squares, summed over days too
        self.fast = np.zeros((groups, models, events))  # full tickers (every estimation day, not constant)
        self.tickers = np.zeros((groups, models, events))  # fitted tickers (ranked by the Corrado test)
        self.pair_sum = np.zeros((groups, models, events))  # r_ij over the pairs with a partial ticker
        self.pair_count = np.zeros((groups, models, events))  # and how many such pairs have an r
        self.u_sum = np.zeros((groups, models, events, n_rel))  # centred ranks
        self.u_count = np.zeros((groups, models, events, n_rel))
        self.lock = threading.Lock()


@dataclass
class Names:
    tickers: pl.Series
    events: pl.Series
    models: pl.Series
    groups: pl.Series  # group names, 'all' last
    ticker_group: np.ndarray  # group index per ticker code (-1: not studied)
    ticker_benchmark: pl.Series  # benchmark per ticker code ('' when not studied)
    event_dates: np.ndarray  # int32 days per event code
