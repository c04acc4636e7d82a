"""`run_dense_study`: the event study and every group test on dense arrays, the engine production runs.

The returns are scattered once into a (ticker x trading day) matrix (transforms.event_study.scatter); each
benchmark's tickers and events form a block, cut into memory chunks of events (`chunk_cells` bounds the cells of
the working arrays, so memory does not grow with the number of events) that run on several threads
(transforms.event_study.chunk; the kernels and numpy release the GIL); the output frames are then read off the
arrays in key order (transforms.event_study.frames, transforms.event_study.group_stats).

Definitions, skips, warnings and output schemas are the contract's (transforms.event_study.contract; formulas in
docs/methods.md). `tests/test_dense_study.py` checks every column of every output against the independent
reference pipeline (tests/reference/) to 1e-9 on simulated markets with missing days, two benchmarks with
different calendars, unpriced tickers, events after the data and several window configurations. Not produced:
`EventStudyResult.estimation_ar` (left empty; the group tests that need it run here, on arrays).

No Python loop over tickers or days: the loops are over benchmarks (one calendar each, usually one or two),
over chunks of events, over CAR windows and models (a handful), over groups, and over the events with a ticker
missing estimation days (the Kolari-Pynnönen pairs over common days, transforms.event_study.pairwise_corr).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import polars as pl

from transforms.event_study.chunk import compute_chunk
from transforms.event_study.contract import ALL_GROUP, DEFAULT_CONFIG, MODEL_MARKET, EventStudyConfig, EventStudyResult
from transforms.event_study.frames import (
    abnormal_returns_frame,
    event_impact_frame,
    fits_frame,
    release_freed_memory,
    skips_frame,
    warnings_frame,
)
from transforms.event_study.group_stats import group_impact_frame
from transforms.event_study.layout import Arrays, Block, GroupSums, Names
from transforms.event_study.pairwise_corr import add_partial_pairs
from transforms.event_study.scatter import scatter

DEFAULT_CHUNK_CELLS = 1_500_000  # (ticker x model x event x rel_day) cells per chunk of events (12 MB arrays)
_THREADS = max(1, min(4, os.cpu_count() or 1))
_CONCURRENT_ROWS = 3_000_000  # abnormal_returns rows up to which it is built alongside the other frames


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


def run_dense_study(
    returns: pl.DataFrame,
    events: pl.DataFrame,
    universe: pl.DataFrame,
    config: EventStudyConfig = DEFAULT_CONFIG,
    *,
    chunk_cells: int = DEFAULT_CHUNK_CELLS,
) -> DenseStudy:
    """The event study for every model of `config.models` and marts.group_impact, from `ticker, date, ret` returns
    (every ticker, benchmarks included), core.ai_events and core.universe (the reference pipeline's inputs)."""
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
    matrix, axis_days, has_prices = scatter(returns, ticker_names)
    group_names = [*sorted(set(studied["group"].to_list())), ALL_GROUP]
    ticker_group = np.full(len(ticker_names), -1, dtype=np.int64)
    ticker_benchmark = [""] * len(ticker_names)
    for ticker, grp, bench in studied.iter_rows():
        ticker_group[code_of[ticker]] = group_names.index(grp)
        ticker_benchmark[code_of[ticker]] = bench
    bench_of = np.array(ticker_benchmark, dtype=object)
    names = Names(
        tickers=pl.Series("ticker", ticker_names, dtype=pl.String),
        events=ev["event_id"],
        models=pl.Series("model", models, dtype=pl.String),
        groups=pl.Series("group", group_names, dtype=pl.String),
        ticker_group=ticker_group,
        ticker_benchmark=pl.Series("benchmark", ticker_benchmark, dtype=pl.String),
        event_dates=event_days.astype(np.int32),
    )

    # Calendars and day 0 per benchmark: a loop over the (few) benchmarks.
    blocks: list[Block] = []
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
                Block(
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

    out = Arrays(len(ticker_names), len(models), ev.height, len(windows), ar_hi - ar_lo + 1, len(bench_names))
    group = GroupSums(len(group_names), len(models), ev.height, hi - lo + 1, est_hi - est_lo + 1)
    tasks = []
    for block in blocks:
        per_event = block.tickers.size * len(models) * (hi - lo + 1)
        size = max(1, chunk_cells // per_event)
        for start in range(0, block.events.size, size):  # memory chunks of events
            tasks.append((block, np.arange(start, min(start + size, block.events.size))))

    def compute(task: tuple[Block, np.ndarray], data: np.ndarray = matrix) -> None:
        compute_chunk(task[0], task[1], data, axis_days, config, models, windows, out, group)

    if _THREADS > 1 and len(tasks) > 1:  # chunks write disjoint cells (group sums under a lock); numpy frees the GIL
        with ThreadPoolExecutor(_THREADS) as pool:
            list(pool.map(compute, tasks))
    else:
        for task in tasks:
            compute(task)
    # Kolari-Pynnönen pairs with a ticker missing estimation days: after the chunks, as a pair can span two blocks.
    ref_model = models.index(MODEL_MARKET) if MODEL_MARKET in models else 0  # its ARs are the product's
    add_partial_pairs(blocks, matrix, out, config.estimation_window, ticker_group, group, ref_model, _THREADS)
    del compute, matrix  # the largest array so far; the output frames come next
    concurrent = _THREADS > 1 and np.count_nonzero(out.fitted) * len(models) * (ar_hi - ar_lo + 1) < _CONCURRENT_ROWS
    if not concurrent:  # memory first: hand back what the chunks freed (a few ms; not worth it for small frames)
        release_freed_memory()

    # Two halves of the frames at once (numpy and polars free the GIL): abnormal_returns (the largest), skips and
    # warnings on a second thread, the rest here. When abnormal_returns is large enough for memory to matter more
    # than time, one after the other instead, abnormal_returns last, after every array it does not read is freed:
    # the peak is then the finished frames, the input and little else.
    def second() -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
        return (
            abnormal_returns_frame(out, names, ar_lo),
            skips_frame(ev, studied, days, has_prices, code_of, out, names, config),
            warnings_frame(out, names, windows, config),
        )

    if concurrent:
        with ThreadPoolExecutor(1) as pool:
            later = pool.submit(second)
            event_impact, fits = event_impact_frame(out, names, windows), fits_frame(out, names)
            group_impact = group_impact_frame(out, group, names, windows, lo)
            abnormal_returns, skips, warns = later.result()
    else:
        event_impact, fits = event_impact_frame(out, names, windows), fits_frame(out, names)
        group_impact = group_impact_frame(out, group, names, windows, lo)
        skips = skips_frame(ev, studied, days, has_prices, code_of, out, names, config)
        warns = warnings_frame(out, names, windows, config)
        out.release(Arrays.ABNORMAL_RETURNS_INPUTS)
        del group
        release_freed_memory()  # what the frames above freed, before the largest frame is built
        abnormal_returns = abnormal_returns_frame(out, names, ar_lo, consume=True)
    result = EventStudyResult(
        abnormal_returns=abnormal_returns, event_impact=event_impact, skips=skips, warnings=warns, fits=fits
    )
    return DenseStudy(result=result, group_impact=group_impact)
