"""The output frames of the dense engine, built from its arrays (transforms.event_study.layout) in key order.

marts.abnormal_returns, marts.event_impact, marts.event_skips, the warnings and EventStudyResult.fits, each in its
table's key order without a sort or a join: each event_impact column is one `take` of its array, and
abnormal_returns is written row by row in key order by a compiled pass (kernels/abnormal_rows.c). The skip rules
and warnings are the contract's (transforms.event_study.contract: pair_skips, estimation_skips,
window_warnings) applied to the arrays. The key columns of abnormal_returns and event_impact (event_id, ticker,
model, group, benchmark) are polars Enums with the same values as the registry's VARCHAR columns (one or two
bytes a row instead of a string view); DuckDB loads them into those columns as the strings.
"""

from __future__ import annotations

import contextlib
import ctypes

import numpy as np
import polars as pl

from transforms.event_study.compiled import kernels as _kernels
from transforms.event_study.contract import (
    ABNORMAL_RETURNS_SCHEMA,
    EVENT_IMPACT_SCHEMA,
    FITS_SCHEMA,
    EventStudyConfig,
    estimation_skips,
    pair_skips,
    window_warnings,
)
from transforms.event_study.layout import Arrays, Names
from transforms.event_study.pvalues import two_sided_t_p

_AR_CHUNK_CELLS = 1_000_000  # (event x ticker x model x AR day) cells per chunk of abnormal_returns (8 MB arrays)


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


_KEY_NAMES = {"event_id": "events", "ticker": "tickers", "model": "models"}  # abnormal_returns key: Names field


def _code_array(size: int) -> np.ndarray:
    return np.arange(size, dtype=np.uint8 if size <= 256 else np.uint16 if size <= 65536 else np.uint32)


def abnormal_returns_frame(out: Arrays, names: Names, ar_lo: int, *, consume: bool = False) -> pl.DataFrame:
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
            release_freed_memory()
    series: dict[str, pl.Series] = {
        **{k: _enum(k, columns.pop(k), getattr(names, attr).to_list()) for k, attr in _KEY_NAMES.items()},
        "rel_day": pl.Series("rel_day", columns.pop("rel_day")),
        "date": pl.Series("date", columns.pop("date")).cast(pl.Date),
        **{k: pl.Series(k, columns.pop(k)) for k in ("ret", "benchmark_ret", "expected_ret", "abnormal_ret")},
        "car": _float("car", columns.pop("car")),
    }
    return pl.DataFrame([series[k] for k in ABNORMAL_RETURNS_SCHEMA])


def event_impact_frame(out: Arrays, names: Names, windows: list[tuple[int, int]]) -> pl.DataFrame:
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


def warnings_frame(out: Arrays, names: Names, windows: list[tuple[int, int]], config: EventStudyConfig) -> pl.DataFrame:
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


def release_freed_memory() -> None:
    """Hand the memory freed by the chunks back to the system before the output frames are built (glibc keeps
    freed blocks under its adaptive mmap threshold, up to 32 MB each, in the heap, where they would count
    towards the peak a second time). A no-op where there is no glibc."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).malloc_trim(0)


def fits_frame(out: Arrays, names: Names) -> pl.DataFrame:
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


def skips_frame(
    ev: pl.DataFrame,
    studied: pl.DataFrame,
    days: pl.DataFrame,
    has_prices: np.ndarray,
    code_of: dict[str, int],
    out: Arrays,
    names: Names,
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
