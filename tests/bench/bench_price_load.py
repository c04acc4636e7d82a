"""Benchmark: the live price loader on a simulated 3,000-ticker, 20-year universe, into DuckDB.

Not a timed test (it is a script; `pytest -m slow tests/bench` also runs it, without asserting timings).

What is measured is jevons's own time: yfinance's wide frames (exactly `yf.download(group_by="ticker",
actions=True, auto_adjust=False)`'s shape) are produced by a fake `download` whose own time is subtracted,
so network and Yahoo are excluded while everything jevons does runs for real — reshaping to long rows,
validation, the unfinished-bar rule, the incremental plan read from the warehouse, restatement detection
against stored rows, and the keyed upserts with their ops.load_log rows (the duplicate-key check, then a
plain INSERT of the rows outside each ticker's stored date range and a MERGE of the rest: the key of
core.prices_daily is enforced by the loader, not by a DuckDB index, since migration 6). The peak resident
memory printed is the whole process's, simulated Yahoo's frames included.

    uv run python tests/bench/bench_price_load.py                 # 3,000 tickers x 20 years
    uv run python tests/bench/bench_price_load.py --tickers 300   # quicker
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from flows.sources.base import SourceResult
from flows.sources.yahoo.parse import YF_FIELDS
from flows.sources.yahoo.source import YFinanceConfig, YFinancePriceSource, extract_live_prices, restated_tickers
from warehouse.load import LoadResult, load_frames
from warehouse.migrations import apply_migrations


def load_live_prices(con: duckdb.DuckDBPyConnection, run_id: str, result: SourceResult) -> list[LoadResult]:
    """The daily flow's load of a price result: every frame by table, restated tickers replaced."""
    return load_frames(con, result.frames, run_id=run_id, source=result.source, replacements=result.replacements)


class FakeYahoo:
    """Stands in for `yf.download`: deterministic random-walk bars for any tickers and date range.

    Each ticker has a fixed price path over the whole calendar, so a later "day" re-serves identical overlap
    rows (no restatement) unless a dividend is scheduled. The time spent here is Yahoo's, not jevons's.
    """

    def __init__(self, first: date, last: date, seed: int = 1) -> None:
        self.calendar = pd.bdate_range(first, last)
        self.seed = seed
        self.last = last
        self.spent = 0.0
        self.rows_served = 0
        self._paths: dict[str, np.ndarray] = {}

    def _path(self, ticker: str) -> np.ndarray:
        path = self._paths.get(ticker)
        if path is None:
            rng = np.random.default_rng(abs(hash((ticker, self.seed))) % 2**32)
            steps = rng.normal(0.0003, 0.02, len(self.calendar))
            path = 20.0 * np.exp(np.cumsum(steps))
            self._paths[ticker] = path
        return path

    def __call__(self, tickers: list[str], *, start: str, end: str, **_: Any) -> pd.DataFrame:
        t0 = time.perf_counter()
        lo = self.calendar.searchsorted(pd.Timestamp(start))
        hi = self.calendar.searchsorted(min(pd.Timestamp(end), pd.Timestamp(self.last) + pd.Timedelta(days=1)))
        index = pd.DatetimeIndex(self.calendar[lo:hi], name="Date")
        n = len(index)
        quarterly = np.arange(lo, hi) % 63 == 0
        blocks = []
        for t in tickers:
            close = self._path(t)[lo:hi]
            block = np.empty((n, len(YF_FIELDS)))
            block[:, 0] = close * 0.999  # Open
            block[:, 1] = close * 1.01  # High
            block[:, 2] = close * 0.99  # Low
            block[:, 3] = close  # Close
            block[:, 4] = close * 0.97  # Adj Close
            block[:, 5] = 1_000_000.0  # Volume
            block[:, 6] = 0.0  # Dividends
            block[:, 7] = 0.0  # Stock Splits
            block[:, 8] = 0.0  # Capital Gains
            block[quarterly, 6] = 0.25  # a quarterly dividend, on the same sessions in every request
            blocks.append(block)
        columns = pd.MultiIndex.from_product([tickers, YF_FIELDS], names=["Ticker", "Price"])
        frame = pd.DataFrame(np.hstack(blocks) if blocks else np.empty((n, 0)), index=index, columns=columns)
        self.rows_served += n * len(tickers)
        self.spent += time.perf_counter() - t0
        return frame


def _source(fake: FakeYahoo, now: datetime, history_start: date, chunk: int) -> YFinancePriceSource:
    cfg = YFinanceConfig(history_start=history_start, chunk_size=chunk)
    return YFinancePriceSource(config=cfg, now=lambda: now, sleep=lambda s: None, download=fake)


def run(n_tickers: int, years: int, chunk: int, workdir: Path) -> dict[str, float]:
    """Full history load, then one incremental day; returns the figures."""
    last = date(2026, 7, 31)  # a Friday
    first = last - timedelta(days=365 * years)
    tickers = [f"T{i:04d}" for i in range(n_tickers)]
    fake = FakeYahoo(first, last + timedelta(days=3))
    con = duckdb.connect(str(workdir / "bench.duckdb"))
    apply_migrations(con)
    from warehouse.tables.prices_live import CORPORATE_ACTIONS

    if not con.sql("SELECT 1 FROM duckdb_tables() WHERE table_name = 'corporate_actions'").fetchall():
        con.execute(CORPORATE_ACTIONS.ddl())

    # 1. Full load, chunk by chunk as `jevons backfill` does.
    fake.last = last
    now = datetime.combine(last, datetime.min.time(), UTC) + timedelta(hours=23)
    source = _source(fake, now, first, chunk)
    t0 = time.perf_counter()
    rows = 0
    load_s = 0.0
    for i in range(0, n_tickers, chunk):
        result = extract_live_prices(source, con, tickers[i : i + chunk])
        t_load = time.perf_counter()
        loads = load_live_prices(con, "bench-full", result)
        load_s += time.perf_counter() - t_load
        rows += loads[0].inserted
    t_load = time.perf_counter()
    con.execute("CHECKPOINT")
    load_s += time.perf_counter() - t_load
    full_total = time.perf_counter() - t0
    full_own = full_total - fake.spent

    # 2. One incremental day for every ticker: plan from the warehouse, fetch overlap + 1 new day, check, load.
    fake.spent = 0.0
    fake.last = last + timedelta(days=3)  # Monday
    now = datetime.combine(fake.last, datetime.min.time(), UTC) + timedelta(hours=23)
    source = _source(fake, now, first, chunk)
    t0 = time.perf_counter()
    result = extract_live_prices(source, con, tickers)
    loads = load_live_prices(con, "bench-day", result)
    day_total = time.perf_counter() - t0
    day_own = day_total - fake.spent
    stored = con.sql("SELECT count(*) FROM core.prices_daily").fetchall()[0][0]
    con.close()
    return {
        "tickers": n_tickers,
        "rows_full": rows,
        "full_total_s": full_total,
        "full_own_s": full_own,
        "rows_per_s": rows / full_own,
        "extract_s": full_own - load_s,
        "load_s": load_s,
        "day_rows_fetched": result.frames["core.prices_daily"].height,
        "day_inserted": loads[0].inserted,
        "day_updated": loads[0].updated,
        "day_restated": len(restated_tickers(result)),
        "day_total_s": day_total,
        "day_own_s": day_own,
        "stored_rows": stored,
        "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2,  # Linux: KiB
    }


def report(fig: dict[str, float]) -> str:
    return "\n".join(
        [
            f"full load: {fig['rows_full']:,.0f} rows for {fig['tickers']:,.0f} tickers in {fig['full_own_s']:.1f} s "
            f"of jevons time ({fig['full_total_s']:.1f} s incl. simulated Yahoo) -> {fig['rows_per_s']:,.0f} rows/s",
            f"  of which parse/validate/plan/restatement checks {fig['extract_s']:.1f} s "
            f"({fig['rows_full'] / fig['extract_s']:,.0f} rows/s) and"
            f" DuckDB upserts + checkpoint {fig['load_s']:.1f} s "
            f"({fig['rows_full'] / fig['load_s']:,.0f} rows/s)",
            f"incremental day: {fig['day_rows_fetched']:,.0f} rows fetched (overlap + new day), "
            f"{fig['day_inserted']:,.0f} inserted, {fig['day_updated']:,.0f} updated, "
            f"{fig['day_restated']:,.0f} restated, in {fig['day_own_s']:.2f} s of jevons time "
            f"({fig['day_total_s']:.2f} s incl. simulated Yahoo); warehouse holds {fig['stored_rows']:,.0f} rows",
            f"peak resident memory of the process: {fig['peak_rss_gb']:.2f} GB",
        ]
    )


@pytest.mark.slow
def test_bench_small(tmp_path: Path) -> None:
    """Runs the benchmark on a small universe (correctness of the script, not a timing)."""
    fig = run(n_tickers=120, years=3, chunk=50, workdir=tmp_path)
    print(report(fig))
    assert fig["day_inserted"] == 120 and fig["day_updated"] == 0 and fig["day_restated"] == 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickers", type=int, default=3000)
    parser.add_argument("--years", type=int, default=20)
    parser.add_argument("--chunk", type=int, default=100, help="tickers per yf.download call / load")
    args = parser.parse_args()
    random.seed(0)
    with tempfile.TemporaryDirectory() as tmp:
        fig = run(args.tickers, args.years, args.chunk, Path(tmp))
    print(report(fig))


if __name__ == "__main__":
    main()
