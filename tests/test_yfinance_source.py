"""The live Yahoo source, offline, through yfinance's real request and parsing code.

Chart responses are either real recorded bodies (../shared/data/yahoo_chart) or built from real closes
(../shared/data/prices_daily_close) by tests/yahoo_replay.py and served with `responses` to a
requests.Session handed to yfinance. Clocks and sleeps are injected, so the unfinished-bar rule and the
backoff are checked without waiting.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import numpy as np
import pandas as pd
import polars as pl
import pytest
import requests
import responses

from flows.backfill import backfill
from flows.sources import registry
from flows.sources.base import PRICE_COLUMNS, SourceResult
from flows.sources.validate import validate_prices
from flows.sources.yahoo.client import classify_error, parse_download_errors
from flows.sources.yahoo.parse import wide_to_long
from flows.sources.yahoo.plan import group_starts, read_last_loaded
from flows.sources.yahoo.sessions import EXCHANGES, drop_unfinished_bars, exchange_key, final_through
from flows.sources.yahoo.source import YFinanceConfig, YFinancePriceSource, extract_live_prices, restated_tickers
from tests import test_end_to_end as foundation_e2e
from tests.yahoo_replay import (
    Listing,
    YahooReplay,
    bars_from_closes,
    chart_result,
    et,
    isolate_yfinance,
    read_real_closes,
    recorded_result,
    with_dividend,
)
from warehouse.errors import JevonsSourceError
from warehouse.load import LoadResult, load_frames
from warehouse.migrations import apply_migrations
from warehouse.tables.prices_live import CORPORATE_ACTIONS

pytestmark = pytest.mark.needs_shared


@pytest.fixture
def replay() -> Iterator[YahooReplay]:
    """Yahoo replaced by a replay; yfinance's on-disk caches and memo switched off for the test."""
    gen = isolate_yfinance()
    next(gen)
    rep = YahooReplay()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rm:
        rep.install(rm)
        yield rep
    with pytest.raises(StopIteration):
        next(gen)


class Sleeps(list[float]):
    """Records requested sleeps instead of sleeping."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def make_source(now: datetime, sleeps: Sleeps | None = None, **config: object) -> YFinancePriceSource:
    cfg = YFinanceConfig(**{"threads": 4, **config})  # type: ignore[arg-type]
    return YFinancePriceSource(
        requests.Session(),
        config=cfg,
        now=lambda: now,
        sleep=sleeps if sleeps is not None else Sleeps(),
        rng=random.Random(7),
    )


def prices(result: object) -> pl.DataFrame:
    return result.frames["core.prices_daily"]  # type: ignore[attr-defined, no-any-return]


def actions(result: object) -> pl.DataFrame:
    return result.frames["core.corporate_actions"]  # type: ignore[attr-defined, no-any-return]


def energy(
    replay: YahooReplay, real_prices_dir: Path, *tickers: str, start: date, end: date
) -> dict[str, pl.DataFrame]:
    """Serve real closes of `tickers` (as full Yahoo bars) for [start, end]; returns the bars served."""
    out = {}
    for t in tickers:
        bars = bars_from_closes(read_real_closes(real_prices_dir, t, start, end))
        replay.add(t, chart_result(t, bars))
        out[t] = bars
    return out


AFTER_CLOSE = et(date(2026, 8, 3), 20)  # the real closes end on 2026-08-03


# ------------------------------------------------------------------------------------------------------------
# Real recorded Yahoo bodies
# ------------------------------------------------------------------------------------------------------------


def test_recorded_aapl_msft_first_load(replay: YahooReplay, yahoo_chart_dir: Path) -> None:
    for sym in ("AAPL", "MSFT"):
        replay.add(sym, recorded_result(yahoo_chart_dir / f"history_chart_{sym}.json"))
    aapl_raw = recorded_result(yahoo_chart_dir / "history_chart_AAPL.json")
    src = make_source(et(date(2025, 10, 29), 20))
    result = src.fetch(["AAPL", "MSFT"], start=date(2025, 4, 30))

    got = prices(result)
    assert got.schema == pl.Schema(PRICE_COLUMNS)
    assert got.group_by("ticker").len().sort("ticker").rows() == [("AAPL", 127), ("MSFT", 127)]
    aapl = got.filter(pl.col("ticker") == "AAPL").sort("date")
    quote = aapl_raw["indicators"]["quote"][0]
    ny = ZoneInfo("America/New_York")
    expected_dates = [datetime.fromtimestamp(ts, ny).date() for ts in aapl_raw["timestamp"]]
    assert aapl["date"].to_list() == expected_dates  # New York trading dates, no UTC shift
    assert aapl["close"].to_list() == pytest.approx(quote["close"])
    assert aapl["adj_close"].to_list() == pytest.approx(aapl_raw["indicators"]["adjclose"][0]["adjclose"])
    assert aapl["volume"].to_list() == quote["volume"]
    assert aapl["source"].unique().to_list() == ["yfinance"]
    # auto_adjust=False: before the 2025-08-11 dividend adj_close sits below close, after it they agree
    before = aapl.filter(pl.col("date") == date(2025, 5, 1)).row(0, named=True)
    assert before["adj_close"] < before["close"]
    assert aapl.row(-1, named=True)["adj_close"] == pytest.approx(aapl.row(-1, named=True)["close"])
    acts = actions(result).filter(pl.col("ticker") == "AAPL")
    assert acts.select("date", "kind", "value").rows() == [
        (date(2025, 5, 12), "dividend", 0.26),
        (date(2025, 8, 11), "dividend", 0.26),
    ]
    assert result.warnings == [] and result.failed_subjects == [] and result.rejected_rows == 0


def test_recorded_fund_capital_gains_and_dividends(replay: YahooReplay, yahoo_chart_dir: Path) -> None:
    # VFINX, range=max at 3mo: dividends and capital gains as Yahoo lists them for a mutual fund
    raw = recorded_result(yahoo_chart_dir / "history_chart_VFINX.json")
    replay.add("VFINX", raw)
    result = make_source(et(date(2025, 10, 30), 20)).fetch(["VFINX"], start=date(1985, 1, 1))
    first_bar = raw["timestamp"][0]
    expected = {}
    for kind, key in (("capital_gain", "capitalGains"), ("dividend", "dividends")):
        amounts = [e["amount"] for e in raw["events"][key].values() if e["date"] >= first_bar]
        expected[kind] = pytest.approx(sum(amounts))  # cash per share, all of it (two dividends in one
        # quarterly bar are summed by yfinance, so counts can differ by one)
    got = actions(result).group_by("kind").agg(pl.col("value").sum()).sort("kind").rows()
    assert dict(got) == expected
    assert set(actions(result)["source"].to_list()) == {"yfinance"}


@pytest.mark.parametrize(
    ("now", "last_stored"),
    [
        (et(date(2025, 10, 29), 14), date(2025, 10, 28)),  # session running: the live bar is not a close
        (et(date(2025, 10, 29), 16, 10), date(2025, 10, 28)),  # closed, but Yahoo's close not settled yet
        (et(date(2025, 10, 29), 16, 45), date(2025, 10, 29)),  # settled: the bar is final
    ],
)
def test_todays_partial_bar_is_not_stored(
    replay: YahooReplay, yahoo_chart_dir: Path, now: datetime, last_stored: date
) -> None:
    # The recorded AAPL body's last bar is Yahoo's live bar (regularMarketTime 2025-10-29 16:00:01 EDT).
    replay.add("AAPL", recorded_result(yahoo_chart_dir / "history_chart_AAPL.json"))
    got = prices(make_source(now).fetch(["AAPL"], start=date(2025, 10, 1)))
    assert got["date"].max() == last_stored


# ------------------------------------------------------------------------------------------------------------
# Built from real closes: energy tickers, non-US listings, failures
# ------------------------------------------------------------------------------------------------------------


def test_energy_first_load_matches_real_closes(replay: YahooReplay, real_prices_dir: Path) -> None:
    served = energy(replay, real_prices_dir, "CEG", "VST", start=date(2024, 1, 2), end=date(2026, 8, 3))
    result = make_source(AFTER_CLOSE).fetch(["CEG", "VST"], start=date(2024, 1, 2))
    got = prices(result)
    for t, bars in served.items():
        mine = got.filter(pl.col("ticker") == t).sort("date")
        assert mine["date"].to_list() == bars["date"].to_list()
        assert mine["adj_close"].to_list() == pytest.approx(bars["adjclose"].to_list(), rel=1e-12)
    ceg = got.filter(pl.col("ticker") == "CEG").sort("date")
    c = dict(zip(ceg["date"].to_list(), ceg["adj_close"].to_list(), strict=True))
    assert c[date(2025, 1, 27)] / c[date(2025, 1, 24)] - 1 == pytest.approx(-0.2085, abs=1e-4)


@pytest.mark.parametrize(
    ("symbol", "listing", "closed_at", "open_at"),
    [
        ("RWE.DE", Listing("Europe/Berlin", "GER", currency="EUR", session_open=time(9, 0)), (18, 10), (17, 50)),
        ("ORG.AX", Listing("Australia/Sydney", "ASX", currency="AUD", session_open=time(10, 0)), (16, 45), (15, 0)),
    ],
)
def test_non_us_listings_keep_exchange_dates(
    replay: YahooReplay,
    real_prices_dir: Path,
    symbol: str,
    listing: Listing,
    closed_at: tuple[int, int],
    open_at: tuple[int, int],
) -> None:
    # Real NEE closes relabelled as a Frankfurt / Sydney listing; Sydney's 10:00 open is the previous day in UTC.
    bars = bars_from_closes(read_real_closes(real_prices_dir, "NEE", date(2026, 6, 1), date(2026, 8, 3)))
    replay.add(symbol, chart_result(symbol, bars, listing))
    tz = ZoneInfo(listing.tz)
    last = bars["date"][-1]
    before_close = datetime.combine(last, time(*open_at), tzinfo=tz)
    after_close = datetime.combine(last, time(*closed_at), tzinfo=tz)
    got = prices(make_source(after_close).fetch([symbol], start=date(2026, 6, 1)))
    assert got["date"].to_list() == bars["date"].to_list()
    assert got["adj_close"].to_list() == pytest.approx(bars["adjclose"].to_list())
    got = prices(make_source(before_close).fetch([symbol], start=date(2026, 6, 1)))
    assert got["date"].to_list() == bars["date"].to_list()[:-1]


def test_ticker_returning_nothing_is_a_named_warning(replay: YahooReplay, real_prices_dir: Path) -> None:
    energy(replay, real_prices_dir, "CEG", start=date(2026, 1, 2), end=date(2026, 8, 3))
    sleeps = Sleeps()
    result = make_source(AFTER_CLOSE, sleeps).fetch(["CEG", "NOPEX"], start=date(2026, 1, 2))
    assert prices(result)["ticker"].unique().to_list() == ["CEG"]
    assert result.failed_subjects == ["NOPEX"]
    [warning] = result.warnings
    assert (warning.subject, warning.code) == ("NOPEX", "ticker_missing")
    assert "NOPEX" in warning.message and "delisted" in warning.message
    assert sleeps == []  # an unknown ticker is not retried


def test_all_tickers_failing_fails_loudly(replay: YahooReplay) -> None:
    with pytest.raises(JevonsSourceError, match=r"Yahoo Finance unreachable: no prices for any of the 2 tickers"):
        make_source(AFTER_CLOSE).fetch(["NOPEX", "GONEX"], start=date(2026, 1, 2))


def test_rate_limit_then_success(replay: YahooReplay, real_prices_dir: Path) -> None:
    energy(replay, real_prices_dir, "CEG", "VST", start=date(2026, 1, 2), end=date(2026, 8, 3))
    replay.fail("VST", 429, 429)  # yfinance retries a 4xx once itself, so two 429s reach us
    sleeps = Sleeps()
    result = make_source(AFTER_CLOSE, sleeps).fetch(["CEG", "VST"], start=date(2026, 1, 2))
    assert sorted(prices(result)["ticker"].unique().to_list()) == ["CEG", "VST"]
    assert result.warnings == [] and result.failed_subjects == []
    assert len(sleeps) == 1 and 1.0 <= sleeps[0] <= 3.0  # 2 s base, ±50% jitter


def test_rate_limit_that_persists_fails_only_that_ticker(replay: YahooReplay, real_prices_dir: Path) -> None:
    energy(replay, real_prices_dir, "CEG", "VST", start=date(2026, 1, 2), end=date(2026, 8, 3))
    replay.fail("VST", *[429] * 50)
    sleeps = Sleeps()
    result = make_source(AFTER_CLOSE, sleeps, max_attempts=3).fetch(["CEG", "VST"], start=date(2026, 1, 2))
    assert prices(result)["ticker"].unique().to_list() == ["CEG"]
    assert result.failed_subjects == ["VST"]
    assert [(w.subject, w.code) for w in result.warnings] == [("VST", "rate_limited")]
    assert len(sleeps) == 2 and 1.0 <= sleeps[0] <= 3.0 and 2.0 <= sleeps[1] <= 6.0


class _WarmTzCache:
    """yfinance's timezone cache as on a machine that has fetched these tickers before (no probe request)."""

    def lookup(self, ticker: str) -> str:
        return "America/New_York"

    def store(self, ticker: str, tz: str | None) -> None:
        pass


@pytest.mark.parametrize("tz_cache", ["cold", "warm"])
def test_dns_failure_is_a_failed_run(replay: YahooReplay, monkeypatch: pytest.MonkeyPatch, tz_cache: str) -> None:
    # With a warm timezone cache yfinance's hidden-exception path reports a DNS failure as "possibly
    # delisted; no price data found"; the source must still name the real cause.
    if tz_cache == "warm":
        import yfinance.cache as yf_cache

        monkeypatch.setattr(yf_cache._TzCacheManager, "_tz_cache", _WarmTzCache())
    replay.dns_down = True
    sleeps = Sleeps()
    pattern = r"^Yahoo Finance unreachable: host name not resolved \(no network or DNS\): .*Failed to resolve"
    with pytest.raises(JevonsSourceError, match=pattern) as info:
        make_source(AFTER_CLOSE, sleeps, max_attempts=3).fetch(["CEG", "VST"], start=date(2026, 1, 2))
    assert sleeps == [] and "not retried" in str(info.value)  # no network: a retry cannot fix it, fail fast


def test_duplicate_timestamps_and_garbage_rows(replay: YahooReplay, real_prices_dir: Path) -> None:
    bars = bars_from_closes(read_real_closes(real_prices_dir, "TLN", date(2026, 7, 1), date(2026, 8, 3)))
    replay.add("TLN", chart_result("TLN", bars, duplicate_last=True))
    dates = bars["date"].to_list()
    garbage = bars.with_columns(
        pl.when(pl.col("date") == dates[3]).then(None).otherwise(pl.col("close")).alias("close"),  # Yahoo null
        pl.when(pl.col("date") == dates[5]).then(-1.0).otherwise(pl.col("open")).alias("open"),
        pl.when(pl.col("date") == dates[7]).then(0.0).otherwise(pl.col("adjclose")).alias("adjclose"),
    )
    replay.add("NRG", chart_result("NRG", garbage))
    result = make_source(AFTER_CLOSE).fetch(["TLN", "NRG"], start=date(2026, 7, 1))
    got = prices(result)
    tln = got.filter(pl.col("ticker") == "TLN")
    assert tln["date"].to_list() == dates  # the duplicated last timestamp is one row
    nrg = got.filter(pl.col("ticker") == "NRG")
    assert sorted(set(dates) - set(nrg["date"].to_list())) == [dates[3], dates[5], dates[7]]
    assert result.rejected_rows == 3
    [warning] = [w for w in result.warnings if w.code == "rows_rejected"]
    assert warning.subject == "NRG"
    assert "1 missing_close" in warning.message and "2 non_positive_price" in warning.message


# ------------------------------------------------------------------------------------------------------------
# Into the warehouse: incremental days with overlap, restatements
# ------------------------------------------------------------------------------------------------------------


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    c = duckdb.connect()
    apply_migrations(c)
    if not c.sql("SELECT 1 FROM duckdb_tables() WHERE table_name = 'corporate_actions'").fetchall():
        c.execute(CORPORATE_ACTIONS.ddl())  # until migration 2 is registered
    yield c
    c.close()


HISTORY = date(2026, 1, 2)


def serve(replay: YahooReplay, real_prices_dir: Path, ticker: str, end: date, **kw: object) -> pl.DataFrame:
    bars = bars_from_closes(read_real_closes(real_prices_dir, ticker, HISTORY, end))
    replay.add(ticker, chart_result(ticker, bars, **kw))  # type: ignore[arg-type]
    return bars


def load_live_prices(con: duckdb.DuckDBPyConnection, run_id: str, result: SourceResult) -> list[LoadResult]:
    """What the daily flow's load-core does with a source result: every frame by table, replacements synced."""
    return load_frames(con, result.frames, run_id=run_id, source=result.source, replacements=result.replacements)


def run_once(
    con: duckdb.DuckDBPyConnection, now: datetime, tickers: list[str], run_id: str
) -> tuple[dict[str, tuple[int, int, int]], object]:
    src = make_source(now, history_start=HISTORY)
    result = extract_live_prices(src, con, tickers)
    loads = load_live_prices(con, run_id, result)
    seen: set[str] = set()
    out = {}
    for lr in loads:  # load_frames: every table's upsert first, then each replacement's sync
        out[f"{lr.table}{'/sync' if lr.table in seen else ''}"] = (lr.inserted, lr.updated, lr.deleted)
        seen.add(lr.table)
    return out, result


def test_first_load_then_incremental_day_with_overlap(
    replay: YahooReplay, real_prices_dir: Path, con: duckdb.DuckDBPyConnection
) -> None:
    day1, day2 = date(2026, 7, 30), date(2026, 8, 3)  # Thursday, then the next Monday (two new sessions)
    for t in ("CEG", "VST"):
        serve(replay, real_prices_dir, t, day1)
    first, _ = run_once(con, et(day1, 20), ["CEG", "VST"], "r1")
    n1 = con.sql("SELECT count(*) FROM core.prices_daily").fetchall()[0][0]
    assert first["core.prices_daily"] == (n1, 0, 0) and n1 > 2 * 100
    stored_dates = [
        r[0] for r in con.sql("SELECT date FROM core.prices_daily WHERE ticker = 'CEG' ORDER BY date").fetchall()
    ]

    replay.chart_requests.clear()
    for t in ("CEG", "VST"):
        serve(replay, real_prices_dir, t, day2)
    second, result = run_once(con, et(day2, 20), ["CEG", "VST"], "r2")
    # fetched from 5 trading days before the last stored date, so 6 stored + 2 new sessions per ticker
    [req] = replay.history_requests("CEG")
    overlap_start = stored_dates[-6]
    assert int(req["period1"]) == int(
        datetime.combine(overlap_start, time(0), ZoneInfo("America/New_York")).timestamp()
    )
    assert prices(result).group_by("ticker").len().sort("ticker").rows() == [("CEG", 8), ("VST", 8)]
    assert second["core.prices_daily"] == (4, 0, 0)
    assert "core.prices_daily/sync" not in second  # nothing restated

    third, _ = run_once(con, et(day2, 21), ["CEG", "VST"], "r3")
    assert third["core.prices_daily"] == (0, 0, 0)
    assert con.sql("SELECT max(date) FROM core.prices_daily").fetchall() == [(day2,)]


def test_restatement_after_a_dividend_replaces_the_history(
    replay: YahooReplay, real_prices_dir: Path, con: duckdb.DuckDBPyConnection
) -> None:
    day1, day2 = date(2026, 7, 30), date(2026, 8, 3)
    for t in ("CEG", "SO"):
        serve(replay, real_prices_dir, t, day1)
    run_once(con, et(day1, 20), ["CEG", "SO"], "r1")
    n_so = con.sql("SELECT count(*) FROM core.prices_daily WHERE ticker = 'SO'").fetchall()[0][0]
    old_first = con.sql("SELECT adj_close FROM core.prices_daily WHERE ticker = 'SO' ORDER BY date LIMIT 1").fetchall()

    # SO goes ex-dividend (0.74 per share) on Friday: Yahoo rescales its whole adjusted history
    ex = date(2026, 7, 31)
    serve(replay, real_prices_dir, "CEG", day2)
    so = bars_from_closes(read_real_closes(real_prices_dir, "SO", HISTORY, day2))
    replay.add("SO", chart_result("SO", with_dividend(so, ex, 0.74), dividends={ex: 0.74}))
    replay.chart_requests.clear()
    loads, result = run_once(con, et(day2, 20), ["CEG", "SO"], "r2")

    assert restated_tickers(result) == ["SO"]  # type: ignore[arg-type]
    periods = [int(r["period1"]) for r in replay.history_requests("SO")]
    history_epoch = int(datetime.combine(HISTORY, time(0), ZoneInfo("America/New_York")).timestamp())
    assert len(periods) == 2 and periods[1] == history_epoch  # incremental, then the full refetch
    assert loads["core.prices_daily"] == (2, 0, 0)  # CEG's two new days, upserted
    assert loads["core.prices_daily/sync"] == (2, n_so, 0)  # SO: 2 new days, every old row rescaled, none lost
    new_first = con.sql("SELECT adj_close FROM core.prices_daily WHERE ticker = 'SO' ORDER BY date LIMIT 1").fetchall()
    prev_close = so.filter(pl.col("date") < ex)["close"][-1]
    assert new_first[0][0] == pytest.approx(old_first[0][0] * (1 - 0.74 / prev_close))
    assert con.sql("SELECT ticker, date, kind, value FROM core.corporate_actions").fetchall() == [
        ("SO", ex, "dividend", 0.74)
    ]
    [(message,)] = con.sql(
        "SELECT message FROM ops.load_log WHERE run_id = 'r2' AND table_name = 'core.prices_daily' "
        "AND rows_deleted = 0 AND message IS NOT NULL"
    ).fetchall()
    assert message.startswith("restatement, full history refetched and replaced: SO (adj_close/close ratio on")


def test_truncated_refetch_never_deletes_history(
    replay: YahooReplay, real_prices_dir: Path, con: duckdb.DuckDBPyConnection
) -> None:
    day1, day2 = date(2026, 7, 30), date(2026, 8, 3)
    serve(replay, real_prices_dir, "SO", day1)
    run_once(con, et(day1, 20), ["SO"], "r1")
    n_so = con.sql("SELECT count(*) FROM core.prices_daily").fetchall()[0][0]
    # Yahoo restates but only serves the last month: the refetch cannot replace the stored history
    ex = date(2026, 7, 31)
    so = bars_from_closes(read_real_closes(real_prices_dir, "SO", date(2026, 7, 1), day2))
    replay.add("SO", chart_result("SO", with_dividend(so, ex, 0.74), dividends={ex: 0.74}))
    loads, result = run_once(con, et(day2, 20), ["SO"], "r2")
    assert [(w.subject, w.code) for w in result.warnings] == [("SO", "restatement_incomplete")]  # type: ignore[attr-defined]
    assert "core.prices_daily/sync" not in loads
    assert con.sql("SELECT count(*) FROM core.prices_daily").fetchall()[0][0] == n_so + 2


def test_read_last_loaded_uses_real_trading_days(con: duckdb.DuckDBPyConnection, real_prices_dir: Path) -> None:
    closes = read_real_closes(real_prices_dir, "CEG", date(2025, 6, 1), date(2025, 7, 8))  # spans July 4th
    frame = bars_from_closes(closes).select(
        pl.lit("CEG").alias("ticker"),
        "date",
        "open",
        "high",
        "low",
        "close",
        pl.col("adjclose").alias("adj_close"),
        pl.col("volume").cast(pl.Int64),
        pl.lit("test").alias("source"),
    )
    con.register("f", frame.to_arrow())
    con.execute("INSERT INTO core.prices_daily SELECT *, now() FROM f")
    last = read_last_loaded(con, ["CEG", "NEW"], 5)
    assert last.select("ticker", "last_date", "overlap_start").rows() == [("CEG", date(2025, 7, 8), date(2025, 6, 30))]


# ------------------------------------------------------------------------------------------------------------
# Pure helpers
# ------------------------------------------------------------------------------------------------------------


def _wide(group_by: str) -> pd.DataFrame:
    idx = pd.DatetimeIndex(["2025-01-02", "2025-01-03", "2025-01-06"], name="Date")
    data = {
        ("AAA", "Open"): [1.0, 2.0, np.nan],
        ("AAA", "High"): [1.1, 2.1, np.nan],
        ("AAA", "Low"): [0.9, 1.9, np.nan],
        ("AAA", "Close"): [1.0, 2.0, np.nan],
        ("AAA", "Adj Close"): [0.9, 1.9, np.nan],
        ("AAA", "Volume"): [10.0, 20.0, np.nan],
        ("AAA", "Dividends"): [0.0, 0.5, np.nan],
        ("AAA", "Stock Splits"): [0.0, 0.0, np.nan],
        ("BBB", "Close"): [np.nan, 5.0, 6.0],
        ("BBB", "Adj Close"): [np.nan, 5.0, 6.0],
        ("BBB", "Volume"): [np.nan, 1.0, 2.0],
        ("BBB", "Stock Splits"): [np.nan, 0.0, 2.0],
    }
    frame = pd.DataFrame(data, index=idx)
    frame.columns = pd.MultiIndex.from_tuples(frame.columns, names=["Ticker", "Price"])
    return frame.swaplevel(0, 1, axis=1) if group_by == "column" else frame


@pytest.mark.parametrize("group_by", ["ticker", "column"])
def test_wide_to_long_reshapes_without_loops(group_by: str) -> None:
    long, acts = wide_to_long(_wide(group_by), ["AAA", "BBB", "CCC"])
    assert long.select("ticker", "date", "close", "adj_close").rows() == [
        ("AAA", date(2025, 1, 2), 1.0, 0.9),
        ("AAA", date(2025, 1, 3), 2.0, 1.9),
        ("BBB", date(2025, 1, 3), 5.0, 5.0),
        ("BBB", date(2025, 1, 6), 6.0, 6.0),
    ]
    assert acts.select("ticker", "date", "kind", "value").rows() == [
        ("AAA", date(2025, 1, 3), "dividend", 0.5),
        ("BBB", date(2025, 1, 6), "split", 2.0),
    ]


def test_wide_to_long_keeps_local_wall_dates_of_aware_index() -> None:
    frame = _wide("ticker")
    frame.index = frame.index.tz_localize("Europe/Berlin")  # midnight Berlin = 23:00 UTC the day before
    long, _ = wide_to_long(frame, ["AAA"])
    assert long["date"].to_list() == [date(2025, 1, 2), date(2025, 1, 3)]


def test_validate_prices_rejects_and_counts_per_row() -> None:
    d = date(2025, 1, 2)
    raw = pl.DataFrame(
        {
            "ticker": ["A", "A", "A", "A", "A", "A", "B"],
            "date": [d, d + timedelta(1), d + timedelta(2), d + timedelta(3), d + timedelta(4), d, d],
            "open": [1.0, None, 1.0, float("inf"), 1.0, 1.0, float("nan")],
            "high": [1.0] * 7,
            "low": [1.0] * 7,
            "close": [1.0, 1.0, float("nan"), 1.0, 1.0, 2.0, 3.0],
            "adj_close": [1.0, 1.0, 1.0, 1.0, -1.0, 2.0, 3.0],
            "volume": [1.0, float("nan"), 1.0, 1.0, 1.0, 1.0, -5.0],
        }
    )
    clean, rejected = validate_prices(raw, "yfinance")
    assert clean.select("ticker", "date", "open", "volume").rows() == [
        ("A", d, 1.0, 1),
        ("A", d + timedelta(1), None, None),
    ]
    assert rejected.rows() == [
        ("A", "duplicate_date", 1),
        ("A", "missing_close", 1),
        ("A", "non_finite_price", 1),
        ("A", "non_positive_price", 1),
        ("B", "negative_volume", 1),
    ]


def test_parse_and_classify_yfinance_errors() -> None:
    messages = [
        "\n3 Failed downloads:",
        "['MSFT', 'AAPL']: YFRateLimitError('Too Many Requests. Rate limited. Try after a while.')",
        "['ZZZZ']: HTTPError('404 Client Error: Not Found for url: https://query2.finance.yahoo.com/v10/x')",
        "$OLD: possibly delisted; no timezone found",
        "Failed to get ticker 'NET' reason: HTTPSConnectionPool(host='query2.finance.yahoo.com', port=443): "
        "Max retries exceeded (Caused by NameResolutionError(\"Failed to resolve 'query2.finance.yahoo.com'\"))",
        "['NET']: possibly delisted; no timezone found",
    ]
    errors = parse_download_errors(messages)
    assert set(errors) == {"MSFT", "AAPL", "ZZZZ", "OLD", "NET"}
    assert {t: classify_error(e) for t, e in errors.items()} == {
        "MSFT": "rate_limited",
        "AAPL": "rate_limited",
        "ZZZZ": "missing",
        "OLD": "missing",
        "NET": "unreachable",  # hidden DNS failure behind "possibly delisted" is still seen: fail fast
    }
    curl = "DNSError('Failed to perform, curl: (6) Could not resolve host: query2.finance.yahoo.com')"
    assert classify_error(curl) == "unreachable"
    assert classify_error("ConnectionError('Failed to perform, curl: (7) Failed to connect: Connection refused')") == (
        "unreachable"
    )
    assert classify_error("Timeout('Failed to perform, curl: (28) Operation timed out after 20001 ms')") == "network"
    assert classify_error("ConnectionError('Connection reset by peer')") == "network"


def test_final_through_per_exchange_across_dst() -> None:
    settle = timedelta(minutes=30)
    # 2025-03-10: New York already on EDT, Berlin still on CET
    now = datetime(2025, 3, 10, 20, 29, tzinfo=UTC)  # 16:29 EDT: closed, not settled
    assert final_through(EXCHANGES[""], now, settle) == date(2025, 3, 9)
    assert final_through(EXCHANGES[""], now + timedelta(minutes=1), settle) == date(2025, 3, 10)
    assert final_through(EXCHANGES[".DE"], datetime(2025, 3, 10, 17, 4, tzinfo=UTC), settle) == date(2025, 3, 9)
    assert final_through(EXCHANGES[".DE"], datetime(2025, 3, 10, 17, 5, tzinfo=UTC), settle) == date(2025, 3, 10)
    # unknown listing: only once the date is over at UTC-12
    assert final_through(None, datetime(2025, 3, 11, 11, 59, tzinfo=UTC), settle) == date(2025, 3, 9)
    assert final_through(None, datetime(2025, 3, 11, 12, 0, tzinfo=UTC), settle) == date(2025, 3, 10)
    assert [exchange_key(t) for t in ("CEG", "^GSPC", "BRK-B", "RWE.DE", "CL=F", "BTC-USD", "X.ZZ")] == [
        "",
        "",
        "",
        ".DE",
        None,
        None,
        None,
    ]


def test_drop_unfinished_bars_is_per_ticker() -> None:
    d = date(2025, 3, 10)
    frame = pl.DataFrame({"ticker": ["CEG", "CEG", "RWE.DE", "RWE.DE"], "date": [d - timedelta(1), d] * 2})
    kept = drop_unfinished_bars(frame, datetime(2025, 3, 10, 18, 0, tzinfo=UTC))  # Berlin closed, NY open
    assert kept.sort("ticker", "date").rows() == [
        ("CEG", d - timedelta(1)),
        ("RWE.DE", d - timedelta(1)),
        ("RWE.DE", d),
    ]


def test_group_starts_merges_close_start_dates() -> None:
    plan = pl.DataFrame(
        {
            "ticker": ["A", "B", "C", "D"],
            "start": [date(2026, 7, 27), date(2026, 7, 20), date(2015, 1, 1), date(2026, 7, 27)],
        }
    )
    assert group_starts(plan, merge_days=31) == [(date(2015, 1, 1), ["C"]), (date(2026, 7, 20), ["B", "A", "D"])]
    assert group_starts(plan, merge_days=0) == [
        (date(2015, 1, 1), ["C"]),
        (date(2026, 7, 20), ["B"]),
        (date(2026, 7, 27), ["A", "D"]),
    ]


# ------------------------------------------------------------------------------------------------------------
# jevons backfill, and the daily flow on the replayed live source
# ------------------------------------------------------------------------------------------------------------


def _factory(now: datetime, history_start: date = HISTORY, **config: object) -> object:
    def make(config_: YFinanceConfig | None = None) -> YFinancePriceSource:
        return make_source(now, history_start=history_start, **config)

    return make


def test_backfill_chunks_with_progress(
    replay: YahooReplay, real_prices_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import flows.sources.yahoo.source as live

    for t in ("CEG", "VST", "SO", "NRG", "TLN"):
        serve(replay, real_prices_dir, t, date(2026, 8, 3))
    monkeypatch.setattr(live, "make_source", _factory(AFTER_CLOSE))
    seen: list[tuple[int, int]] = []
    wh = tmp_path / "w.duckdb"
    summary = backfill(
        date(2026, 3, 2),
        date(2026, 6, 30),
        ["CEG", "VST", "SO", "NRG", "TLN"],
        str(wh),
        chunk_size=2,
        progress=lambda done, total: seen.append((done, total)),
    )
    assert seen == [(2, 5), (4, 5), (5, 5)]
    assert (summary.status, summary.chunks_done, summary.chunks_total) == ("completed", 3, 3)
    ro = duckdb.connect(str(wh), read_only=True)
    span = ro.sql("SELECT min(date), max(date), count(DISTINCT ticker) FROM core.prices_daily").fetchall()
    runs = ro.sql("SELECT flow, status FROM ops.runs").fetchall()
    ro.close()
    assert span == [(date(2026, 3, 2), date(2026, 6, 30), 5)]
    assert runs == [("backfill", "completed")]


def test_backfill_failure_midway_keeps_finished_chunks(
    replay: YahooReplay, real_prices_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import flows.sources.yahoo.source as live

    for t in ("CEG", "VST", "SO", "NRG"):
        serve(replay, real_prices_dir, t, date(2026, 8, 3))
    replay.fail("SO", *[requests.exceptions.ConnectionError("Failed to resolve 'query2.finance.yahoo.com'")] * 50)
    monkeypatch.setattr(live, "make_source", _factory(AFTER_CLOSE))
    wh = tmp_path / "w.duckdb"
    with pytest.raises(JevonsSourceError, match=r"backfill stopped at chunk 2 of 2: Yahoo Finance unreachable") as err:
        backfill(date(2026, 3, 2), None, ["CEG", "VST", "SO", "NRG"], str(wh), chunk_size=2)
    assert "re-run with --tickers SO,NRG" in str(err.value)
    ro = duckdb.connect(str(wh), read_only=True)
    tickers = ro.sql("SELECT DISTINCT ticker FROM core.prices_daily ORDER BY 1").fetchall()
    runs = ro.sql("SELECT flow, status FROM ops.runs").fetchall()
    not_loaded = ro.sql("SELECT subject FROM ops.warnings WHERE code = 'backfill_not_loaded' ORDER BY 1").fetchall()
    ro.close()
    assert tickers == [("CEG",), ("VST",)]  # the finished chunk is published
    assert runs == [("backfill", "failed")]
    assert not_loaded == [("NRG",), ("SO",)]


def test_cli_backfill_shows_progress_and_totals(
    replay: YahooReplay, real_prices_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    import flows.sources.yahoo.source as live
    from flows.cli import app

    for t in ("CEG", "VST", "SO"):
        serve(replay, real_prices_dir, t, date(2026, 8, 3))
    monkeypatch.setattr(live, "make_source", _factory(AFTER_CLOSE))
    wh = tmp_path / "w.duckdb"
    args = ["backfill", "--start", "2026-06-01", "--end", "2026-06-30", "--tickers", "CEG,VST", "--tickers", "SO"]
    out = CliRunner().invoke(app, [*args, "--chunk-size", "2", "-w", str(wh)], terminal_width=160)
    assert out.exit_code == 0, out.output
    assert "3/3" in out.output and "core.prices_daily" in out.output and "completed" in out.output
    ro = duckdb.connect(str(wh), read_only=True)
    assert ro.sql("SELECT count(DISTINCT ticker), max(date) FROM core.prices_daily").fetchall() == [
        (3, date(2026, 6, 30))
    ]
    ro.close()


def test_daily_run_with_yahoo_unreachable_fails_loudly(
    replay: YahooReplay, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import flows.daily as daily_flow
    import flows.sources.yahoo.source as live

    replay.dns_down = True
    monkeypatch.setattr(live, "make_source", _factory(AFTER_CLOSE, max_attempts=2))
    monkeypatch.setattr(registry, "SOURCES", [replace(s, retries=()) for s in registry.SOURCES])  # fail at once
    wh = tmp_path / "w.duckdb"
    with pytest.raises(JevonsSourceError, match=r"^Yahoo Finance unreachable: .*Failed to resolve"):
        daily_flow.daily(warehouse=str(wh))
    ro = duckdb.connect(str(wh), read_only=True)
    runs = ro.sql("SELECT status, summary_json FROM ops.runs").fetchall()
    prices_rows = ro.sql("SELECT count(*) FROM core.prices_daily").fetchall()
    ro.close()
    assert len(runs) == 1 and runs[0][0] == "failed" and "Yahoo Finance unreachable" in runs[0][1]
    assert prices_rows == [(0,)]


@pytest.fixture(scope="module")
def real_run(tmp_path_factory: pytest.TempPathFactory, real_prices_dir: Path) -> Iterator[tuple[Path, object, object]]:
    """The foundation's end-to-end run, twice, with prices from the replayed live source instead of CSV files.

    Every real close file is served as Yahoo chart data; the universe's other tickers get Yahoo's 404.
    """
    import flows.sources.yahoo.source as live
    from flows.daily import daily

    wh = tmp_path_factory.mktemp("e2e_live") / "jevons.duckdb"
    gen = isolate_yfinance()
    next(gen)
    rep = YahooReplay()
    for path in sorted(real_prices_dir.glob("*.csv")):
        rep.add(path.stem, chart_result(path.stem, bars_from_closes(read_real_closes(real_prices_dir, path.stem))))
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rm, pytest.MonkeyPatch.context() as mp:
        rep.install(rm)
        mp.setattr(live, "make_source", _factory(AFTER_CLOSE, history_start=date(2015, 1, 1)))
        first = daily(warehouse=str(wh))
        second = daily(warehouse=str(wh))
        yield wh, first, second
    with pytest.raises(StopIteration):
        next(gen)


def test_replayed_run_loaded_live_prices(real_run: tuple[Path, object, object]) -> None:
    wh = real_run[0]
    ro = duckdb.connect(str(wh), read_only=True)
    sources = ro.sql("SELECT DISTINCT source FROM core.prices_daily").fetchall()
    first_date = ro.sql("SELECT min(date) FROM core.prices_daily").fetchall()
    ro.close()
    assert sources == [("yfinance",)]
    assert first_date == [(date(2015, 1, 2),)]  # the configured history start, first session of 2015


# The foundation's end-to-end assertions, collected again here: pytest resolves their `real_run` fixture from
# this module, so they check the run above, whose prices came through yfinance from the replay.
test_replayed_deepseek_selloff_day0 = foundation_e2e.test_deepseek_selloff_day0
test_replayed_three_mile_island_deal = foundation_e2e.test_three_mile_island_deal
test_replayed_rerun_is_idempotent = foundation_e2e.test_rerun_is_idempotent
test_replayed_missing_tickers_are_warnings = foundation_e2e.test_missing_universe_tickers_are_recorded_warnings
test_replayed_summary_headline = foundation_e2e.test_summary_headline
