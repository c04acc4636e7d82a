"""The event study and every group test on dense arrays: the same numbers as `transforms.event_study` followed
by `transforms.group_tests`, in a fraction of the time and memory.

Why a second engine: the long-format polars pipeline materialises one row per (event, ticker, model, day) of
the estimation window (14 M rows with three string keys for 500 tickers x 40 events x 3 models) and groups them
again for the residual cross-correlation and the rank test. Here the returns are scattered once into a
(ticker x trading day) matrix; each (event, ticker) window is a gather of that matrix at `day0 + rel_day` on
the benchmark's calendar, and every per-pair statistic is a pass along the day axis. The per-row loops (the
scatter, the gather, the estimation sums, the CAR windows, the Kolari-Pynnönen group sums of the standardized
residuals z (never an array of z), the Corrado rank sums (transforms.dense_ranks), the abnormal_returns rows,
the group statistics and the tabulated p-values) are compiled C (transforms/_dense_kernels.c; why:
transforms/compiled.py); numpy and polars do the rest. Results land in (ticker x model x event x window) arrays
indexed by sorted ticker, model, event and window, so the output frames come out in key order without a sort
or a join: each event_impact column is one `take`, and abnormal_returns is written row by row in key order.

Definitions, skips, warnings and output schemas are exactly those of `transforms.event_study` (its docstring
has the formulas; the skip rules and warnings come from its `pair_skips`, `estimation_skips` and
`window_warnings`) and `transforms.group_tests` (the group tests; README "Statistics"), except that the key
columns of abnormal_returns and event_impact (event_id, ticker, model, group, benchmark) are polars Enums:
one or two bytes a row instead of a 16-byte string view (7.6 M rows for 3,000 tickers x 40 events x 3 models),
with the same values; DuckDB loads them into the marts' VARCHAR columns as the strings.
`tests/test_dense_study.py` checks every column of every output against the long pipeline to 1e-9 on
simulated markets with missing days, two benchmarks with different calendars, unpriced tickers, events after
the data and several window configurations. Not produced: `EventStudyResult.estimation_ar` (left empty; the
group tests that need it run here, on arrays). Student-t p-values come from tables per degrees of freedom
(transforms.dense_pvalues, within 1e-12 of scipy).

No Python loop over tickers or events: the loops are over benchmarks (one calendar each, usually one or two),
over memory chunks of events (`chunk_cells` bounds the cells of the working arrays, so memory does not grow
with the number of events; chunks run on two threads, the kernels and numpy releasing the GIL), over CAR
windows and models (a handful) and over groups.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import threading
import typing
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy import special

from transforms.compiled import kernels as _kernels
from transforms.dense_pvalues import two_sided_t_p
from transforms.dense_ranks import corrado_sums
from transforms.event_study import (
    ABNORMAL_RETURNS_SCHEMA,
    DEFAULT_CONFIG,
    EVENT_IMPACT_SCHEMA,
    FITS_SCHEMA,
    MODEL_CONSTANT_MEAN,
    MODEL_MARKET,
    MODEL_MARKET_ADJUSTED,
    EventStudyConfig,
    EventStudyResult,
    estimation_skips,
    pair_skips,
    window_warnings,
)
from transforms.group_tests import ALL_GROUP, GROUP_IMPACT_SCHEMA

DEFAULT_CHUNK_CELLS = 1_500_000  # (ticker x model x event x rel_day) cells per chunk of events (12 MB arrays)
_THREADS = max(1, min(4, os.cpu_count() or 1))
_AR_CHUNK_CELLS = 1_000_000  # (event x ticker x model x AR day) cells per chunk of abnormal_returns (8 MB arrays)
_CONCURRENT_ROWS = 3_000_000  # abnormal_returns rows up to which it is built alongside the other frames

# Model codes of transforms/_dense_kernels.c (window_stats).
_MODEL_KINDS = {MODEL_MARKET: 0, MODEL_MARKET_ADJUSTED: 1, MODEL_CONSTANT_MEAN: 2}
_SUMS = ("sum_x", "sum_y", "sum_xx", "sum_xy", "sum_yy", "x_mean", "y_mean", "s_xx", "s_xy", "s_yy")


@dataclass
class DenseStudy:
    """`result`: the event study (EventStudyResult; estimation_ar empty; abnormal_returns and event_impact with Enum
    key columns); `group_impact`: marts.group_impact."""

    result: EventStudyResult
    group_impact: pl.DataFrame


def _require(frame: pl.DataFrame, what: str, columns: tuple[str, ...], key: tuple[str, ...] | None) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{what} lacks column(s) {missing}; has {frame.columns}")
    if key is not None:
        dupes = frame.select(key).filter(pl.struct(key).is_duplicated())
        if dupes.height:
            raise ValueError(f"{what} repeats {list(key)}: {dupes.unique().head(3).rows()}")


def _normal_p(z: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return np.asarray(2.0 * special.ndtr(-np.abs(z)), dtype=np.float64)


@dataclass
class _Block:
    """One benchmark's priced tickers x the events with a day 0 on its calendar."""

    tickers: np.ndarray  # ticker codes, sorted by group (then code)
    group_ids: np.ndarray  # the groups present among them, in that order
    group_starts: np.ndarray  # where each group's run of tickers starts
    events: np.ndarray  # event codes
    day0_pos: np.ndarray  # per event: position of day 0 in the benchmark calendar
    calendar: np.ndarray  # matrix columns of the benchmark's trading days
    x: np.ndarray  # benchmark returns on the calendar
    n_groups: int  # every group of the study, 'all' last
    bench: int  # the benchmark's index (axis 0 of _Arrays.bench_*)

    def group_sums(self, values: np.ndarray) -> np.ndarray:
        """Sums over the block's tickers (axis 0 of `values`) per group, 'all' last: (groups, ...).

        The tickers come in runs of one group, so this is one reduceat (not a BLAS product with the membership
        matrix: multi-threaded BLAS on these skinny products was 5x slower on a busy 2-core machine)."""
        sums = np.zeros((self.n_groups, *values.shape[1:]))
        sums[self.group_ids] = np.add.reduceat(values, self.group_starts, axis=0)
        sums[-1] = values.sum(axis=0)
        return sums


class _Arrays:
    """Every per-pair result, indexed [ticker code, (model,) event code, (window or AR day)]; what depends only on
    the benchmark's calendar (its returns, trading days and dates in the AR window) is kept once per benchmark,
    indexed [benchmark, event code, AR day] (the last benchmark row: none, for tickers without a block)."""

    # What _abnormal_returns reads: the rest can be released before it is built (`release`).
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
        self.sums = {k: np.full((codes, events), np.nan) for k in (*_SUMS, "alpha", "beta", "sigma")}
        shape_m = (codes, models, events)
        self.alpha, self.beta, self.sigma = np.full(shape_m, np.nan), np.full(shape_m, np.nan), np.full(shape_m, np.nan)
        self.dof, self.share_pos = np.full(shape_m, np.nan), np.full(shape_m, np.nan)
        shape_w = (codes, models, events, windows)
        self.car, self.car_t = np.full(shape_w, np.nan), np.full(shape_w, np.nan)
        self.car_se, self.scar = np.full(shape_w, np.nan), np.full(shape_w, np.nan)
        self.days = np.zeros((codes, events, windows), dtype=np.int64)
        self.raw = np.full((codes, events, windows), np.nan)
        # The ticker returns in the AR window, one (ticker, AR day) array per event: _abnormal_returns frees them
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


class _GroupSums:
    """Sums over the tickers of each group (last: 'all') per model, event and rel_day, accumulated over blocks
    (under `lock`: blocks of different benchmarks share events)."""

    def __init__(self, groups: int, models: int, events: int, n_rel: int, n_est: int) -> None:
        self.z_sum = np.zeros((groups, models, events, n_est))  # standardized estimation ARs
        self.z_sq = np.zeros((groups, models, events))  # their squares, summed over days too
        self.tickers = np.zeros((groups, models, events))
        self.t_sum = np.zeros((groups, models, events))  # sum of estimation lengths n_i
        self.t_sq = np.zeros((groups, models, events))  # sum of n_i^2
        self.u_sum = np.zeros((groups, models, events, n_rel))  # centred ranks
        self.u_count = np.zeros((groups, models, events, n_rel))
        self.lock = threading.Lock()


def _model_params(
    models: list[str], nf: np.ndarray, sums: dict[str, np.ndarray]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """alpha, beta, dof, sigma of every model, shape (tickers, models, events), from the estimation sums."""
    with np.errstate(invalid="ignore", divide="ignore"):
        beta_m = sums["s_xy"] / sums["s_xx"]
        alpha_m = sums["y_mean"] - beta_m * sums["x_mean"]
        alphas, betas, dofs, ssrs = [], [], [], []
        for m in models:
            if m == MODEL_MARKET:
                alphas.append(alpha_m)
                betas.append(beta_m)
                dofs.append(nf - 2)
                ssrs.append(np.clip(sums["s_yy"] - beta_m * sums["s_xy"], 0.0, None))
            elif m == MODEL_MARKET_ADJUSTED:
                alphas.append(np.zeros_like(nf))
                betas.append(np.ones_like(nf))
                dofs.append(nf - 1)
                ssrs.append(np.clip(sums["s_yy"] - 2 * sums["s_xy"] + sums["s_xx"], 0.0, None))
            else:
                alphas.append(sums["y_mean"])
                betas.append(np.zeros_like(nf))
                dofs.append(nf - 1)
                ssrs.append(sums["s_yy"])
        dof = np.stack(dofs, 1)
        sigma = np.where(dof > 0, np.sqrt(np.stack(ssrs, 1) / dof), np.nan)
    return np.stack(alphas, 1), np.stack(betas, 1), dof, sigma


def _compute_chunk(
    block: _Block,
    events: np.ndarray,
    matrix: np.ndarray,
    axis_days: np.ndarray,
    config: EventStudyConfig,
    models: list[str],
    windows: list[tuple[int, int]],
    out: _Arrays,
    group: _GroupSums,
) -> None:
    """Every statistic of one benchmark block for the events at positions `events` of block.events."""
    (est_lo, est_hi), (ar_lo, ar_hi) = config.estimation_window, config.ar_window
    lo, hi = min(est_lo, ar_lo), max(est_hi, ar_hi)
    rel = np.arange(lo, hi + 1)
    ev = block.events[events]
    tk = block.tickers
    n_t, n_e, n_m = tk.size, ev.size, len(models)
    pos = block.day0_pos[events][:, None] + rel[None, :]  # (E, R) positions in the benchmark calendar
    exists = (pos >= 0) & (pos < block.calendar.size)  # a benchmark trading day: a row of the long panel
    pos = np.clip(pos, 0, block.calendar.size - 1)
    columns = block.calendar[pos]
    x = np.where(exists, block.x[pos], np.nan)  # (E, R)
    x_finite = np.where(exists, x, 0.0)  # (E, R): 0 off the calendar, where no ticker has a return either
    y = np.empty((n_t, n_e, rel.size))  # (T, E, R): NaN off the calendar and where the ticker has no return
    _kernels.gather_windows(matrix, tk, columns, exists, y, matrix.shape[0], matrix.shape[1], n_t, n_e, rel.size)

    est = slice(est_lo - lo, est_hi - lo + 1)
    packed = np.empty((len(_SUMS) + 1, n_t, n_e))
    _kernels.estimation_sums(y, x_finite, packed, n_t, n_e, rel.size, est.start, est.stop)
    nf = packed[0]
    n = nf.astype(np.int64)
    sums = dict(zip(_SUMS, packed[1:], strict=True))
    alpha, beta, dof, sigma = _model_params(models, nf, sums)

    arw = slice(ar_lo - lo, ar_hi - lo + 1)
    with_data = ~np.isnan(y[:, :, arw]).all(axis=-1)  # a return somewhere in the event window
    fitted = (n >= config.min_estimation_days) & with_data
    ix: tuple[np.ndarray, np.ndarray] = np.ix_(tk, ev)  # type: ignore[assignment]
    out.computed[ix] = True
    out.fitted[ix] = fitted
    out.with_data[ix] = with_data
    out.n[ix] = n
    out.n_missing[ix] = exists[None, :, est].sum(axis=-1) - n
    out.day0[ix] = np.broadcast_to(axis_days[block.calendar[block.day0_pos[events]]], (n_t, n_e))
    mi = np.arange(n_m)
    ixm: tuple[np.ndarray, np.ndarray, np.ndarray] = np.ix_(tk, mi, ev)  # type: ignore[assignment]
    market = models.index(MODEL_MARKET) if MODEL_MARKET in models else None
    for key in _SUMS:
        out.sums[key][ix] = sums[key]
    if market is not None:
        out.sums["alpha"][ix], out.sums["beta"][ix] = alpha[:, market], beta[:, market]
        out.sums["sigma"][ix] = sigma[:, market]
    else:
        m_alpha, m_beta, _, m_sigma = _model_params([MODEL_MARKET], nf, sums)
        out.sums["alpha"][ix], out.sums["beta"][ix], out.sums["sigma"][ix] = m_alpha[:, 0], m_beta[:, 0], m_sigma[:, 0]
    out.alpha[ixm], out.beta[ixm], out.sigma[ixm], out.dof[ixm] = alpha, beta, sigma, dof

    # Kolari-Pynnönen: z_it = (AR_it - mean_i AR) / sd_i on the fitted tickers' valid estimation days, summed per
    # group and day. AR_it - mean_i = y_it - ybar_i - beta_i (x_t - xbar_i) for all three models, and sd_i (sample
    # sd of the estimation ARs) is sigma_i sqrt(dof_i / (n_i - 1)): one compiled pass adds weight_i (y_it - shift_i
    # - beta_i x_t) into the group's day (never an array of z). The squares sum to n_i - 1 per ticker (sum of
    # squared deviations / their sample variance).
    group_of = np.repeat(block.group_ids, np.diff(np.append(block.group_starts, n_t))).astype(np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        sd = sigma * np.sqrt(dof / (nf[:, None] - 1))
        weight = np.where(fitted[:, None, :], 1.0 / sd, 0.0)  # (T, M, E)
        shift = sums["y_mean"][:, None] - beta * sums["x_mean"][:, None]  # ybar_i - beta_i xbar_i
        z_sq = np.where(fitted[:, None, :], np.where(sd > 0, nf[:, None] - 1, np.nan), 0.0)
    z_sum = np.zeros((block.n_groups, n_m, n_e, est.stop - est.start))
    _kernels.kp_sums(
        y,
        x_finite,
        weight,
        shift,
        beta,
        fitted,
        group_of,
        z_sum,
        n_t,
        n_m,
        n_e,
        rel.size,
        est.start,
        est.stop,
        block.n_groups,
    )
    z_sum[-1] = z_sum[:-1].sum(axis=0)
    fit_f = fitted.astype(np.float64)
    tickers = block.group_sums(fit_f)[:, None, :]
    t_sum = block.group_sums(fit_f * nf)[:, None, :]
    t_sq = block.group_sums(fit_f * nf * nf)[:, None, :]
    z_sq_sum = block.group_sums(z_sq)  # (G, M, E)

    # Corrado: ranks over the estimation and event-window days with a return of each fitted (ticker, event),
    # one model at a time (the days ranked do not depend on the model): transforms.dense_ranks.
    rank_day = np.zeros(rel.size, dtype=bool)
    rank_day[est] = True
    rank_day[arw] = True
    u_sum, u_count, share_pos = corrado_sums(y, x, alpha, beta, fitted, est, rank_day, group_of, block.n_groups)
    out.share_pos[ixm] = share_pos
    with group.lock:
        group.z_sum[:, :, ev] += z_sum
        group.z_sq[:, :, ev] += z_sq_sum
        group.tickers[:, :, ev] += tickers
        group.t_sum[:, :, ev] += t_sum
        group.t_sq[:, :, ev] += t_sq
        group.u_sum[:, :, ev] += u_sum
        group.u_count[:, :, ev] += u_count[:, None]

    # Event window: the rows of marts.abnormal_returns (finished in _abnormal_returns) and the CAR windows.
    for j, e in enumerate(ev.tolist()):
        out.ar_ret[e][tk] = y[:, j, arw]
    out.bench_code[tk] = block.bench
    out.bench_x[block.bench, ev] = x[:, arw]
    out.bench_exists[block.bench, ev] = exists[:, arw]
    out.bench_date[block.bench, ev] = axis_days[columns[:, arw]]
    _kernels.window_stats(
        y,
        x_finite,
        alpha,
        beta,
        sigma,
        nf,
        sums["x_mean"],
        sums["s_xx"],
        np.array([_MODEL_KINDS[m] for m in models], dtype=np.int64),
        np.array([a - lo for a, _ in windows], dtype=np.int64),
        np.array([b - a + 1 for a, b in windows], dtype=np.int64),
        np.concatenate([tk, ev]).astype(np.int64),
        out.car,
        out.car_t,
        out.car_se,
        out.scar,
        out.days,
        out.raw,
        n_t,
        n_m,
        n_e,
        rel.size,
        len(windows),
        out.car.shape[0],
        out.car.shape[2],
    )


@dataclass
class _Names:
    tickers: pl.Series
    events: pl.Series
    models: pl.Series
    groups: pl.Series  # group names, 'all' last
    ticker_group: np.ndarray  # group index per ticker code (-1: not studied)
    ticker_benchmark: pl.Series  # benchmark per ticker code ('' when not studied)
    event_dates: np.ndarray  # int32 days per event code


def _enum(name: str, codes: np.ndarray, categories: list[str]) -> pl.Series:
    """An Enum column from integer codes into `categories`, without building a string per row: the output frames'
    key columns (8 or 16 bits a row instead of a string view, which DuckDB loads into VARCHAR columns as the
    strings)."""
    dtype = pl.Enum(categories)
    physical = pl.Series([], dtype=dtype).to_physical().dtype  # UInt8, UInt16 or UInt32 by the number of categories
    return pl.Series(name, codes).cast(physical).cat.to(dtype)


def _float(name: str, values: np.ndarray) -> pl.Series:
    """A Float64 column with NaN as null (zero-copy when there is no NaN)."""
    series = pl.Series(name, values)
    return series.fill_nan(None) if np.isnan(values).any() else series


# The statistics of transforms/_dense_kernels.c's group_stats, in its order.
_GROUP_STATS = (
    "n",
    "caar",
    "median_car",
    "share_negative",
    "sd_car",
    "sum_scar",
    "mean_scar",
    "sd_scar",
    "patell_var",
    "positives",
    "p_hat",
)
_KEY_NAMES = {"event_id": "events", "ticker": "tickers", "model": "models"}  # abnormal_returns key: _Names field


def _code_array(size: int) -> np.ndarray:
    return np.arange(size, dtype=np.uint8 if size <= 256 else np.uint16 if size <= 65536 else np.uint32)


def _abnormal_returns(out: _Arrays, names: _Names, ar_lo: int, *, consume: bool = False) -> pl.DataFrame:
    """marts.abnormal_returns rows in (event, ticker, model, rel_day) order, from the dense arrays.

    The frame is the largest thing this module makes (7.6 M rows for 3,000 tickers x 40 events x 3 models): each
    column is allocated once at its final length and filled by chunks of events (the rows come in event order),
    each chunk's rows written in key order by one compiled pass (abnormal_rows: expected = alpha + beta x, the
    AR, and the cumulative AR, null from the first benchmark day without a return), never sorted; the working
    arrays are those of one chunk (about _AR_CHUNK_CELLS cells), and keys are Enum codes. `consume`: free each
    event's returns (out.ar_ret) once its rows are written, so that the columns grow into their memory."""
    n_c, n_m, n_e = out.alpha.shape
    n_a = out.ar_ret[0].shape[-1] if n_e else 0
    per_event = np.array(
        [np.count_nonzero(out.fitted[:, e, None] & ~np.isnan(out.ar_ret[e])) * n_m for e in range(n_e)], dtype=np.int64
    )
    total = int(per_event.sum())
    codes = {"event_id": _code_array(n_e), "ticker": _code_array(n_c), "model": _code_array(n_m)}
    columns: dict[str, np.ndarray] = {
        **{k: np.empty(total, dtype=v.dtype) for k, v in codes.items()},
        "rel_day": np.empty(total, dtype=np.int32),
        "date": np.empty(total, dtype=np.int32),
        **{k: np.empty(total) for k in ("ret", "benchmark_ret", "expected_ret", "abnormal_ret", "car")},
    }
    fitted_bytes = np.ascontiguousarray(out.fitted, dtype=np.uint8)
    bench_code = out.bench_code.astype(np.int64)
    bench_exists = out.bench_exists.astype(np.uint8)
    step = max(1, _AR_CHUNK_CELLS // max(1, n_c * n_m * n_a))
    stop = 0
    for first in range(0, n_e, step):
        es = slice(first, min(first + step, n_e))
        rows = slice(stop, stop + int(per_event[es].sum()))
        stop = rows.stop
        written = _kernels.abnormal_rows(
            np.ascontiguousarray(out.ar_returns(es)),  # (e, C, A)
            fitted_bytes,
            bench_code,
            out.bench_x,
            bench_exists,
            out.bench_date,
            out.alpha,
            out.beta,
            columns["event_id"][rows],
            columns["ticker"][rows],
            columns["model"][rows],
            columns["rel_day"][rows],
            columns["date"][rows],
            columns["ret"][rows],
            columns["benchmark_ret"][rows],
            columns["expected_ret"][rows],
            columns["abnormal_ret"][rows],
            columns["car"][rows],
            es.start,
            es.stop - es.start,
            n_c,
            n_m,
            n_e,
            n_a,
            out.bench_x.shape[0],
            ar_lo,
        )
        if written != rows.stop - rows.start:
            raise AssertionError(f"abnormal_returns: {written} rows for events {es}, counted {rows.stop - rows.start}")
        if consume:
            out.ar_ret[es] = [np.empty((0, 0))] * (es.stop - es.start)
            _release_freed_memory()
    series: dict[str, pl.Series] = {
        **{k: _enum(k, columns.pop(k), getattr(names, attr).to_list()) for k, attr in _KEY_NAMES.items()},
        "rel_day": pl.Series("rel_day", columns.pop("rel_day")),
        "date": pl.Series("date", columns.pop("date")).cast(pl.Date),
        **{k: pl.Series(k, columns.pop(k)) for k in ("ret", "benchmark_ret", "expected_ret", "abnormal_ret")},
        "car": _float("car", columns.pop("car")),
    }
    return pl.DataFrame([series[k] for k in ABNORMAL_RETURNS_SCHEMA])


def _event_impact(out: _Arrays, names: _Names, windows: list[tuple[int, int]]) -> pl.DataFrame:
    """marts.event_impact in (event, ticker, model, window) order: the (event, ticker) pairs fitted, each with
    every model and window; each column is one `take` of its array at flat positions computed once."""
    n_c, n_m, n_e, n_w = out.car.shape
    e_idx, c_idx = np.nonzero(out.fitted.T)  # the pairs in (event, ticker) order
    pair = (c_idx * n_e + e_idx)[:, None, None]  # (P, 1, 1) positions in (C, E) arrays
    m = np.arange(n_m)[None, :, None]
    w = np.arange(n_w)[None, None, :]
    shape = (c_idx.size, n_m, n_w)
    at_model = np.broadcast_to((c_idx[:, None, None] * n_m + m) * n_e + e_idx[:, None, None], shape).reshape(-1)
    at_window = at_model * n_w + np.broadcast_to(w, shape).reshape(-1)
    at_pair = np.broadcast_to(pair, shape).reshape(-1)
    at_pair_window = np.broadcast_to(pair * n_w + w, shape).reshape(-1)

    def rows(values: np.ndarray) -> np.ndarray:  # a (M, W)-pattern value, repeated for each pair
        return np.broadcast_to(values, shape).reshape(-1)

    def each_pair(values: np.ndarray) -> np.ndarray:  # one value per pair
        return np.repeat(values, n_m * n_w)

    def per_window(values: np.ndarray) -> np.ndarray:  # (C, M, E, W)
        return values.reshape(-1).take(at_window)

    def per_model(values: np.ndarray) -> np.ndarray:  # (C, M, E)
        return values.reshape(-1).take(at_model)

    def per_pair(values: np.ndarray) -> np.ndarray:  # (C, E)
        return np.ascontiguousarray(values).reshape(-1).take(at_pair)

    def per_pair_window(values: np.ndarray) -> np.ndarray:  # (C, E, W)
        return values.reshape(-1).take(at_pair_window)

    studied = names.ticker_group >= 0
    benchmarks = sorted(set(names.ticker_benchmark.filter(pl.Series(studied)).to_list()))
    bench_code = np.zeros(n_c, dtype=np.int64)
    bench_code[studied] = np.searchsorted(benchmarks, names.ticker_benchmark.filter(pl.Series(studied)).to_list())
    group_code = np.maximum(names.ticker_group, 0)
    dof = per_model(out.dof)
    car_t, scar = per_window(out.car_t), per_window(out.scar)
    columns: dict[str, pl.Series] = {
        "event_id": _enum("event_id", each_pair(_code_array(n_e)[e_idx]), names.events.to_list()),
        "event_date": pl.Series("event_date", each_pair(names.event_dates[e_idx])).cast(pl.Date),
        "day0": pl.Series("day0", per_pair(out.day0)).cast(pl.Date),
        "ticker": _enum("ticker", each_pair(_code_array(n_c)[c_idx]), names.tickers.to_list()),
        "group": _enum("group", each_pair(group_code[c_idx]), names.groups.to_list()),
        "model": _enum("model", rows(_code_array(n_m)[:, None]), names.models.to_list()),
        "window_start": pl.Series("window_start", rows(np.array([a for a, _ in windows], dtype=np.int32))),
        "window_end": pl.Series("window_end", rows(np.array([b for _, b in windows], dtype=np.int32))),
        "car": _float("car", per_window(out.car)),
        "car_t": _float("car_t", car_t),
        "p_value": _float("p_value", two_sided_t_p(car_t, dof)),
        "raw_return": _float("raw_return", per_pair_window(out.raw)),
        "alpha": _float("alpha", per_model(out.alpha)),
        "beta": _float("beta", per_model(out.beta)),
        "sigma": _float("sigma", per_model(out.sigma)),
        "n_estimation": pl.Series("n_estimation", per_pair(out.n).astype(np.int32)),
        "benchmark": _enum("benchmark", each_pair(bench_code[c_idx]), benchmarks),
        "car_se": _float("car_se", per_window(out.car_se)),
        "scar": _float("scar", scar),
        "scar_p": _float("scar_p", two_sided_t_p(scar, dof)),
        "n_missing_estimation": pl.Series("n_missing_estimation", per_pair(out.n_missing).astype(np.int32)),
    }
    return pl.DataFrame([columns[k] for k in EVENT_IMPACT_SCHEMA])


def _group_impact(
    out: _Arrays, group: _GroupSums, names: _Names, windows: list[tuple[int, int]], rel_lo: int
) -> pl.DataFrame:
    """marts.group_impact (transforms.group_tests definitions) from the window arrays and the group sums."""
    n_c, n_m, n_e, n_w = out.car.shape
    n_groups = len(names.groups)
    # Per (group, model, event, window) over the tested tickers (fitted, with a CAR and a SCAR): one compiled
    # pass for the sums, one for the deviations and the medians (transforms/_dense_kernels.c: group_stats).
    stats = np.empty((len(_GROUP_STATS), n_groups, n_m, n_e, n_w))
    _kernels.group_stats(  # ticker-last copies: each cell's values contiguous
        np.ascontiguousarray(out.car.transpose(1, 2, 3, 0)),
        np.ascontiguousarray(out.scar.transpose(1, 2, 3, 0)),
        np.ascontiguousarray(out.fitted.T),
        np.ascontiguousarray(out.dof.transpose(1, 2, 0)),
        np.ascontiguousarray(out.share_pos.transpose(1, 2, 0)),
        names.ticker_group.astype(np.int64),
        stats,
        n_c,
        n_m,
        n_e,
        n_w,
        n_groups,
    )
    s = dict(zip(_GROUP_STATS, stats, strict=True))  # (G, M, E, W) each
    with np.errstate(invalid="ignore", divide="ignore"):
        n = s["n"]
        sqrt_n = np.sqrt(n)
        csect_t = s["caar"] / (s["sd_car"] / sqrt_n)
        patell_z = s["sum_scar"] / np.sqrt(s["patell_var"])
        bmp_t = s["mean_scar"] / (s["sd_scar"] / sqrt_n)
        gsign_z = (s["positives"] - n * s["p_hat"]) / np.sqrt(n * s["p_hat"] * (1 - s["p_hat"]))
        # Kolari-Pynnönen r-bar: sum over days of ((sum z)^2 - sum z^2) / ((T - 1) N (N - 1)), T = the
        # row-weighted mean estimation length (sum n_i^2 / sum n_i), N = tickers with estimation ARs.
        t_mean = group.t_sq / group.t_sum
        cross = (group.z_sum**2).sum(-1) - group.z_sq
        rbar = np.where(group.tickers > 1, cross / ((t_mean - 1) * group.tickers * (group.tickers - 1)), np.nan)
        rbar4 = np.broadcast_to(rbar[..., None], n.shape)
        kp_bmp_t = bmp_t * np.sqrt((1 - rbar4) / (1 + (n - 1) * rbar4))
        # Corrado: mean centred rank per day over the tickers present; spread over every ranked day.
        present = group.u_count > 0
        u_bar = np.where(present, group.u_sum / np.where(present, group.u_count, 1.0), 0.0)
        s_u = np.sqrt((u_bar**2).sum(-1) / present.sum(-1))
        cum = np.concatenate([np.zeros((*u_bar.shape[:-1], 1)), np.cumsum(u_bar, axis=-1)], axis=-1)
        rank_z = np.stack(
            [(cum[..., b - rel_lo + 1] - cum[..., a - rel_lo]) / (np.sqrt(b - a + 1) * s_u) for a, b in windows],
            -1,
        )
    # Rows in (event, group name, model, window) order, for the (group, model, event, window) cells with n > 0.
    group_order = np.argsort(np.array(names.groups.to_list(), dtype=object))
    e, sorted_g, m, w = np.nonzero((n > 0)[group_order].transpose(2, 0, 1, 3))  # (E, G sorted, M, W)
    g = group_order[sorted_g]
    pick = (g, m, e, w)
    starts = np.array([a for a, _ in windows], dtype=np.int32)
    ends = np.array([b for _, b in windows], dtype=np.int32)
    nn = n[pick]
    frame = pl.DataFrame(
        {
            "event_id": names.events.gather(e),
            "group": names.groups.gather(g),
            "model": names.models.gather(m),
            "window_start": starts[w],
            "window_end": ends[w],
            "n": nn.astype(np.int32),
            "caar": s["caar"][pick],
            "median_car": s["median_car"][pick],
            "share_negative": s["share_negative"][pick],
            "csect_t": csect_t[pick],
            "csect_p": two_sided_t_p(csect_t[pick], nn - 1),
            "patell_z": patell_z[pick],
            "patell_p": _normal_p(patell_z[pick]),
            "bmp_t": bmp_t[pick],
            "bmp_p": two_sided_t_p(bmp_t[pick], nn - 1),
            "mean_residual_corr": rbar4[pick],
            "kp_bmp_t": kp_bmp_t[pick],
            "kp_bmp_p": two_sided_t_p(kp_bmp_t[pick], nn - 1),
            "rank_z": rank_z[pick],
            "rank_p": _normal_p(rank_z[pick]),
            "gsign_z": gsign_z[pick],
            "gsign_p": _normal_p(gsign_z[pick]),
        }
    )
    return frame.with_columns(pl.col(pl.Float64).fill_nan(None)).select(
        [pl.col(k).cast(t) for k, t in GROUP_IMPACT_SCHEMA.items()]
    )


def _warnings(out: _Arrays, names: _Names, windows: list[tuple[int, int]], config: EventStudyConfig) -> pl.DataFrame:
    """event_window_gap and window_incomplete warnings (transforms.event_study.window_warnings) from the arrays."""
    bench_exists = out.bench_exists[out.bench_code]  # (C, E, A)
    c, e, a = np.nonzero(
        out.fitted[:, :, None] & bench_exists & np.isnan(out.ar_returns(slice(0, len(out.ar_ret))).transpose(1, 0, 2))
    )
    del bench_exists
    gaps = pl.DataFrame(
        {
            "event_id": names.events.gather(e),
            "ticker": names.tickers.gather(c),
            "rel_day": (a + config.ar_window[0]).astype(np.int32),
            "date": pl.Series(out.bench_date[out.bench_code[c], e, a]).cast(pl.Date),
        }
    )
    lengths = np.array([b - a + 1 for a, b in windows])
    c, e, w = np.nonzero(out.fitted[:, :, None] & (out.days != lengths))
    incomplete = pl.DataFrame(
        {
            "event_id": names.events.gather(e),
            "ticker": names.tickers.gather(c),
            "window_start": np.array([a for a, _ in windows], dtype=np.int32)[w],
            "window_end": np.array([b for _, b in windows], dtype=np.int32)[w],
            "days": out.days[c, e, w],
            "length": lengths[w],
        }
    )
    return window_warnings(gaps, incomplete, config).sort("subject", "code")


_SLICE_ROWS = 1 << 20  # input rows converted to numpy at a time (bounds the scatter's working memory)


def _release_freed_memory() -> None:
    """Hand the memory freed by the chunks back to the system before the output frames are built (glibc keeps
    freed blocks under its adaptive mmap threshold, up to 32 MB each, in the heap, where they would count
    towards the peak a second time). A no-op where there is no glibc."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).malloc_trim(0)


def _ticker_codes(ticker: pl.Series, names: list[str]) -> np.ndarray:
    """int32 position of each row's ticker in `names` (len(names) for any other ticker or null), without a
    string per row: inputs sorted by ticker come in runs (one lookup per run; a Categorical or Enum column's runs
    are found on its integer codes); otherwise an Enum maps its categories, a Categorical its distinct values, and
    anything else is cast to an Enum of `names`."""
    other = len(names)
    code_of = {name: i for i, name in enumerate(names)}
    categorical = isinstance(ticker.dtype, pl.Categorical | pl.Enum)
    runs = (ticker.to_physical() if categorical else ticker.cast(pl.String)).rle()
    if runs.len() <= max(1024, ticker.len() // 16):
        lengths = runs.struct.field("len")
        values = ticker.gather(lengths.cum_sum() - lengths).cast(pl.String).to_list()  # each run's first row
        run_codes = np.array([other if v is None else code_of.get(v, other) for v in values], dtype=np.int32)
        return np.repeat(run_codes, lengths.to_numpy())
    del runs
    if isinstance(ticker.dtype, pl.Enum):
        categories = ticker.dtype.categories.to_list()
        lookup = np.array([*(code_of.get(v, other) for v in categories), other], dtype=np.int32)  # last: null
        physical = ticker.to_physical()
        if physical.null_count():
            physical = physical.cast(pl.Int32).fill_null(len(categories))
        return lookup[physical.to_numpy()]
    if categorical:
        present = ticker.unique().drop_nulls()
        present_codes = present.to_physical().cast(pl.Int64).to_numpy()
        lookup = np.full(int(present_codes.max(initial=-1)) + 2, other, dtype=np.int32)  # last entry: null
        lookup[present_codes] = [code_of.get(v, other) for v in present.cast(pl.String).to_list()]
        return lookup[ticker.to_physical().cast(pl.Int64).fill_null(lookup.size - 1).to_numpy()]
    enum = ticker.cast(pl.String).cast(pl.Enum(names), strict=False).to_physical()
    return enum.cast(pl.Int32).fill_null(other).to_numpy()


def _scatter(returns: pl.DataFrame, names: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(matrix, axis_days, has_prices): the returns of `names` as a (ticker code x trading day) matrix with NaN
    where absent, the int32 day numbers of its columns, and which codes have any return. Duplicates raise.

    The input is converted to numpy once, a slice of _SLICE_ROWS rows at a time (an int32 code and day and a
    float64 return a row: 16 bytes, the return zero-copy where polars can), then two compiled passes run over the
    slices: the days with a return, then the values (a repeated (ticker, date) is found as a cell written twice).
    At the large case's size (15 M rows) that is 0.24 GB held while the matrix is built, well under the study's
    peak, which comes at its end."""
    n = len(names)
    codes = _ticker_codes(returns["ticker"], names)
    days = returns["date"].cast(pl.Date).cast(pl.Int32)
    rets = returns["ret"].cast(pl.Float64)
    bounds = range(0, returns.height, _SLICE_ROWS)

    def piece(start: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        ret = np.ascontiguousarray(rets.slice(start, _SLICE_ROWS).to_numpy(), dtype=np.float64)  # nulls: NaN
        day = np.ascontiguousarray(days.slice(start, _SLICE_ROWS).to_numpy(), dtype=np.int32)
        return np.ascontiguousarray(codes[start : start + ret.size]), day, ret

    if days.null_count() == days.len():
        return np.full((n, 0), np.nan), np.zeros(0, np.int32), np.zeros(n, dtype=bool)
    first, last = int(typing.cast(int, days.min())), int(typing.cast(int, days.max()))
    days = days.fill_null(last + 1)  # outside the span: counted by scatter_counts and refused below
    span = last - first + 1
    present = np.zeros(span, dtype=np.int64)
    priced = np.zeros(n, dtype=np.int64)
    undated = 0
    pieces = [piece(start) for start in bounds]  # converted once, for both passes
    for code, day, ret in pieces:
        undated += _kernels.scatter_counts(code, day, ret, present, priced, ret.size, n, first, span)
    if undated:
        raise ValueError(f"returns has {undated} rows with a return but no date")
    axis_days = (np.flatnonzero(present) + first).astype(np.int32)
    column_of = np.cumsum(present > 0) - 1
    matrix = np.full((n, axis_days.size), np.nan)
    repeated = 0
    for code, day, ret in pieces:
        repeated += _kernels.scatter_fill(code, day, ret, column_of, matrix, ret.size, n, first, span, axis_days.size)
    del pieces
    if repeated:
        valid = returns.filter(pl.col("ret").is_not_null() & pl.col("ret").is_not_nan())
        dupes = valid.filter(
            pl.col("ticker").cast(pl.String).is_in(names) & pl.struct("ticker", "date").is_duplicated()
        )
        found = [(str(t), str(d)) for t, d in dupes.select("ticker", "date").head(3).rows()]
        raise ValueError(f"returns repeats ['ticker', 'date']: {found}")
    return matrix, axis_days, priced > 0


def run_dense_study(
    returns: pl.DataFrame,
    events: pl.DataFrame,
    universe: pl.DataFrame,
    config: EventStudyConfig = DEFAULT_CONFIG,
    *,
    chunk_cells: int = DEFAULT_CHUNK_CELLS,
) -> DenseStudy:
    """The event study for every model of `config.models` and marts.group_impact, from the inputs of
    `transforms.event_study.run_event_study` (`ticker, date, ret` returns, core.ai_events, core.universe)."""
    _require(events, "events", ("event_id", "event_date"), ("event_id",))
    _require(universe, "universe", ("ticker", "group", "benchmark"), ("ticker",))
    _require(returns, "returns", ("ticker", "date", "ret"), None)
    models = sorted(config.models)
    windows = sorted(config.car_windows)
    (est_lo, est_hi), (ar_lo, ar_hi) = config.estimation_window, config.ar_window
    lo, hi = min(est_lo, ar_lo), max(est_hi, ar_hi)
    ev = events.select(pl.col("event_id").cast(pl.String), pl.col("event_date").cast(pl.Date)).sort("event_id")
    event_days = ev["event_date"].cast(pl.Int32).to_numpy()
    studied = universe.filter(pl.col("ticker") != pl.col("benchmark")).select(
        pl.col("ticker").cast(pl.String), pl.col("group").cast(pl.String), pl.col("benchmark").cast(pl.String)
    )
    bench_names = sorted(set(studied["benchmark"].to_list()))
    ticker_names = sorted(set(studied["ticker"].to_list()) | set(bench_names))
    code_of = {name: i for i, name in enumerate(ticker_names)}
    matrix, axis_days, has_prices = _scatter(returns, ticker_names)
    group_names = [*sorted(set(studied["group"].to_list())), ALL_GROUP]
    ticker_group = np.full(len(ticker_names), -1, dtype=np.int64)
    ticker_benchmark = [""] * len(ticker_names)
    for ticker, grp, bench in studied.iter_rows():
        ticker_group[code_of[ticker]] = group_names.index(grp)
        ticker_benchmark[code_of[ticker]] = bench
    bench_of = np.array(ticker_benchmark, dtype=object)
    names = _Names(
        tickers=pl.Series("ticker", ticker_names, dtype=pl.String),
        events=ev["event_id"],
        models=pl.Series("model", models, dtype=pl.String),
        groups=pl.Series("group", group_names, dtype=pl.String),
        ticker_group=ticker_group,
        ticker_benchmark=pl.Series("benchmark", ticker_benchmark, dtype=pl.String),
        event_dates=event_days.astype(np.int32),
    )

    # Calendars and day 0 per benchmark: a loop over the (few) benchmarks.
    blocks: list[_Block] = []
    bench_rows: list[pl.DataFrame] = []
    for bench_index, bench in enumerate(bench_names):
        calendar = np.flatnonzero(~np.isnan(matrix[code_of[bench]]))
        if calendar.size == 0:
            continue
        cal_days = axis_days[calendar]
        day0_pos = np.searchsorted(cal_days, event_days, side="left")
        has_day0 = day0_pos < calendar.size
        bench_rows.append(
            pl.DataFrame(
                {
                    "event_id": ev["event_id"],
                    "benchmark": [bench] * ev.height,
                    "day0": pl.Series(cal_days[np.minimum(day0_pos, calendar.size - 1)]).cast(pl.Date),
                    "has_day0": has_day0,
                    "last_date": pl.Series([int(cal_days[-1])] * ev.height, dtype=pl.Int32).cast(pl.Date),
                }
            ).with_columns(pl.when("has_day0").then("day0").alias("day0"))
        )
        tickers = np.flatnonzero((bench_of == bench) & has_prices)  # studied tickers on this benchmark
        tickers = tickers[np.argsort(ticker_group[tickers], kind="stable")]  # runs of one group each
        run = np.flatnonzero(np.r_[True, np.diff(ticker_group[tickers]) != 0]) if tickers.size else tickers
        with_day0 = np.flatnonzero(has_day0)
        if tickers.size and with_day0.size:
            blocks.append(
                _Block(
                    tickers,
                    ticker_group[tickers[run]],
                    run,
                    with_day0,
                    day0_pos[with_day0],
                    calendar,
                    matrix[code_of[bench], calendar],
                    len(group_names),
                    bench_index,
                )
            )
    days = (
        pl.concat(bench_rows).drop("has_day0")
        if bench_rows
        else pl.DataFrame(schema={"event_id": pl.String, "benchmark": pl.String, "day0": pl.Date, "last_date": pl.Date})
    )

    out = _Arrays(len(ticker_names), len(models), ev.height, len(windows), ar_hi - ar_lo + 1, len(bench_names))
    group = _GroupSums(len(group_names), len(models), ev.height, hi - lo + 1, est_hi - est_lo + 1)
    tasks = []
    for block in blocks:
        per_event = block.tickers.size * len(models) * (hi - lo + 1)
        size = max(1, chunk_cells // per_event)
        for start in range(0, block.events.size, size):  # memory chunks of events
            tasks.append((block, np.arange(start, min(start + size, block.events.size))))

    def compute(task: tuple[_Block, np.ndarray], data: np.ndarray = matrix) -> None:
        _compute_chunk(task[0], task[1], data, axis_days, config, models, windows, out, group)

    if _THREADS > 1 and len(tasks) > 1:  # chunks write disjoint cells (group sums under a lock); numpy frees the GIL
        with ThreadPoolExecutor(_THREADS) as pool:
            list(pool.map(compute, tasks))
    else:
        for task in tasks:
            compute(task)
    del compute, matrix  # the largest array so far; the output frames come next
    concurrent = _THREADS > 1 and np.count_nonzero(out.fitted) * len(models) * (ar_hi - ar_lo + 1) < _CONCURRENT_ROWS
    if not concurrent:  # memory first: hand back what the chunks freed (a few ms; not worth it for small frames)
        _release_freed_memory()

    # Two halves of the frames at once (numpy and polars free the GIL): abnormal_returns (the largest), skips and
    # warnings on a second thread, the rest here. When abnormal_returns is large enough for memory to matter more
    # than time, one after the other instead, abnormal_returns last, after every array it does not read is freed:
    # the peak is then the finished frames, the input and little else.
    def second() -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
        return (
            _abnormal_returns(out, names, ar_lo),
            _skips(ev, studied, days, has_prices, code_of, out, names, config),
            _warnings(out, names, windows, config),
        )

    if concurrent:
        with ThreadPoolExecutor(1) as pool:
            later = pool.submit(second)
            event_impact, fits = _event_impact(out, names, windows), _fits(out, names)
            group_impact = _group_impact(out, group, names, windows, lo)
            abnormal_returns, skips, warns = later.result()
    else:
        event_impact, fits = _event_impact(out, names, windows), _fits(out, names)
        group_impact = _group_impact(out, group, names, windows, lo)
        skips = _skips(ev, studied, days, has_prices, code_of, out, names, config)
        warns = _warnings(out, names, windows, config)
        out.release(_Arrays.ABNORMAL_RETURNS_INPUTS)
        del group
        _release_freed_memory()  # what the frames above freed, before the largest frame is built
        abnormal_returns = _abnormal_returns(out, names, ar_lo, consume=True)
    result = EventStudyResult(
        abnormal_returns=abnormal_returns, event_impact=event_impact, skips=skips, warnings=warns, fits=fits
    )
    return DenseStudy(result=result, group_impact=group_impact)


def _fits(out: _Arrays, names: _Names) -> pl.DataFrame:
    """EventStudyResult.fits (the market-model estimation sums of the fitted pairs) in (event, ticker) order."""
    e, c = np.nonzero(out.fitted.T)
    return (
        pl.DataFrame(
            {
                "event_id": names.events.gather(e),
                "ticker": names.tickers.gather(c),
                "n": out.n[c, e],
                "n_missing": out.n_missing[c, e],
                **{k: v[c, e] for k, v in out.sums.items()},
                "dof": out.n[c, e] - 2,
            }
        )
        .with_columns(pl.col(pl.Float64).fill_nan(None))
        .select([pl.col(k).cast(t) for k, t in FITS_SCHEMA.items()])
    )


def _skips(
    ev: pl.DataFrame,
    studied: pl.DataFrame,
    days: pl.DataFrame,
    has_prices: np.ndarray,
    code_of: dict[str, int],
    out: _Arrays,
    names: _Names,
    config: EventStudyConfig,
) -> pl.DataFrame:
    """marts.event_skips rows: the rules of transforms.event_study (pair_skips, estimation_skips) on the arrays."""
    priced = pl.DataFrame({"ticker": [t for t, c in code_of.items() if has_prices[c]]}, schema={"ticker": pl.String})
    before, _ = pair_skips(ev, studied, days.join(ev, on="event_id"), priced)
    c, e = np.nonzero(out.computed & (out.n < config.min_estimation_days))
    too_few = pl.DataFrame({"event_id": names.events.gather(e), "ticker": names.tickers.gather(c), "n": out.n[c, e]})
    c, e = np.nonzero(out.computed & (out.n >= config.min_estimation_days) & ~out.with_data)
    no_window = pl.DataFrame({"event_id": names.events.gather(e), "ticker": names.tickers.gather(c)})
    return pl.concat([before, estimation_skips(too_few, no_window, config)]).sort("event_id", "ticker")
