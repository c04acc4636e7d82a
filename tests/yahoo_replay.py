"""Offline Yahoo Finance for tests: chart bodies built from real closes or recorded, served through `responses`.

yfinance is exercised for real (cookie/crumb dance, timezone probe, chart request, JSON parsing, event merge,
timezone handling); only the socket is replaced. `YahooReplay` answers `/v8/finance/chart/<SYM>` like Yahoo:
`period1`/`period2` select bars with `period1 <= timestamp < period2` (events likewise), `range=` (yfinance's
timezone probe) returns the last bar, an unknown symbol gets Yahoo's 404 body. Per-symbol failures (HTTP 429,
connection errors) can be queued, and `dns_down` makes every Yahoo host fail like a DNS outage.
"""

from __future__ import annotations

import copy
import json
import re
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit
from zoneinfo import ZoneInfo

import polars as pl
import requests
import responses

CHART_URL = re.compile(r"https://query[12]\.finance\.yahoo\.com/v8/finance/chart/[^?]+")
QUOTE_SUMMARY_URL = re.compile(r"https://query[12]\.finance\.yahoo\.com/v10/finance/quoteSummary/.*")
CRUMB_URL = re.compile(r"https://query[12]\.finance\.yahoo\.com/v1/test/getcrumb.*")
COOKIE_URL = re.compile(r"https://(fc|guce|consent)\.yahoo\.com.*")

NOT_FOUND = {
    "chart": {"result": None, "error": {"code": "Not Found", "description": "No data found, symbol may be delisted"}}
}
DNS_ERROR = (
    "HTTPSConnectionPool(host='query2.finance.yahoo.com', port=443): Max retries exceeded with url: /v8/finance/chart "
    "(Caused by NameResolutionError(\"Failed to resolve 'query2.finance.yahoo.com' ([Errno -3] Temporary failure in "
    'name resolution)"))'
)


def _epoch(d: date, at: time, tz: str) -> int:
    return int(datetime.combine(d, at, tzinfo=ZoneInfo(tz)).timestamp())


def read_real_closes(
    real_prices_dir: Path, ticker: str, start: date | None = None, end: date | None = None
) -> pl.DataFrame:
    """(date, close) of a real `TICKER.csv` from ../shared/data/prices_daily_close, optionally clipped."""
    frame = pl.read_csv(real_prices_dir / f"{ticker}.csv", schema={"Date": pl.Date, "Close": pl.Float64}).rename(
        {"Date": "date", "Close": "close"}
    )
    if start is not None:
        frame = frame.filter(pl.col("date") >= start)
    if end is not None:
        frame = frame.filter(pl.col("date") <= end)
    return frame.sort("date")


def bars_from_closes(closes: pl.DataFrame) -> pl.DataFrame:
    """Full daily bars from (date, close): adjclose = close (no dividends yet), plausible OHLC and volume."""
    return (
        closes.sort("date")
        .with_columns(
            pl.col("close").shift(1).fill_null(pl.col("close")).alias("open"),
            pl.col("close").alias("adjclose"),
            (1_000_000 + pl.int_range(pl.len()) * 17).alias("volume"),
        )
        .with_columns(
            (pl.max_horizontal("open", "close") * 1.005).alias("high"),
            (pl.min_horizontal("open", "close") * 0.995).alias("low"),
        )
        .select("date", "open", "high", "low", "close", "adjclose", "volume")
    )


def with_dividend(bars: pl.DataFrame, ex_date: date, amount: float) -> pl.DataFrame:
    """Bars as Yahoo shows them after a dividend going ex on `ex_date`: adjclose before it scaled down.

    Yahoo's factor is 1 - amount / close of the last session before the ex-date; close is left unchanged.
    """
    prev_close = bars.filter(pl.col("date") < ex_date).sort("date")["close"][-1]
    factor = 1 - amount / prev_close
    return bars.with_columns(
        pl.when(pl.col("date") < ex_date)
        .then(pl.col("adjclose") * factor)
        .otherwise(pl.col("adjclose"))
        .alias("adjclose")
    )


@dataclass
class Listing:
    """How a symbol is listed: Yahoo meta fields and the local time its daily bars are stamped with."""

    tz: str = "America/New_York"
    exchange: str = "NYQ"
    instrument: str = "EQUITY"
    currency: str = "USD"
    session_open: time = time(9, 30)


def chart_result(
    symbol: str,
    bars: pl.DataFrame,
    listing: Listing | None = None,
    *,
    dividends: dict[date, float] | None = None,
    splits: dict[date, tuple[int, int]] | None = None,
    capital_gains: dict[date, float] | None = None,
    live_at: datetime | None = None,
    duplicate_last: bool = False,
) -> dict[str, Any]:
    """One `chart.result[0]` object in Yahoo's shape from bars (date, open, high, low, close, adjclose, volume).

    Timestamps are the local session open, as Yahoo stamps daily bars. `live_at` restamps the last bar with
    the live regularMarketTime (Yahoo's unfinished bar); `duplicate_last` repeats the last bar's timestamp.
    """
    listing = listing or Listing()
    rows = bars.sort("date").to_dicts()
    stamps = [_epoch(r["date"], listing.session_open, listing.tz) for r in rows]
    if live_at is not None and stamps:
        stamps[-1] = int(live_at.timestamp())
    if duplicate_last and rows:
        rows.append(dict(rows[-1]))
        stamps.append(stamps[-1])

    def col(name: str) -> list[Any]:
        return [r[name] for r in rows]

    def event(d: date) -> int:
        return _epoch(d, listing.session_open, listing.tz)

    events: dict[str, Any] = {}
    if dividends:
        events["dividends"] = {str(event(d)): {"amount": a, "date": event(d)} for d, a in dividends.items()}
    if splits:
        events["splits"] = {
            str(event(d)): {"date": event(d), "numerator": n, "denominator": k, "splitRatio": f"{n}:{k}"}
            for d, (n, k) in splits.items()
        }
    if capital_gains:
        events["capitalGains"] = {str(event(d)): {"amount": a, "date": event(d)} for d, a in capital_gains.items()}
    last = stamps[-1] if stamps else 0
    offset = int(ZoneInfo(listing.tz).utcoffset(datetime.fromtimestamp(last, UTC).replace(tzinfo=None)).total_seconds())
    meta = {
        "currency": listing.currency,
        "symbol": symbol,
        "exchangeName": listing.exchange,
        "fullExchangeName": listing.exchange,
        "instrumentType": listing.instrument,
        "firstTradeDate": stamps[0] if stamps else None,
        "regularMarketTime": last,
        "hasPrePostMarketData": False,
        "gmtoffset": offset,
        "timezone": "LOCAL",
        "exchangeTimezoneName": listing.tz,
        "regularMarketPrice": rows[-1]["close"] if rows else None,
        "chartPreviousClose": rows[0]["close"] if rows else None,
        "priceHint": 2,
        "dataGranularity": "1d",
        "range": "",
        "validRanges": ["1d", "5d", "1mo", "3mo", "6mo", "1y", "2y", "5y", "10y", "ytd", "max"],
    }
    result: dict[str, Any] = {
        "meta": meta,
        "timestamp": stamps,
        "indicators": {
            "quote": [{k: col(k) for k in ("open", "high", "low", "close", "volume")}],
            "adjclose": [{"adjclose": col("adjclose")}],
        },
    }
    if events:
        result["events"] = events
    return result


def recorded_result(path: Path) -> dict[str, Any]:
    """`chart.result[0]` of a real recorded body (../shared/data/yahoo_chart/*.json)."""
    body = json.loads(path.read_text(encoding="utf-8"))
    return dict(body["chart"]["result"][0])


def slice_result(result: dict[str, Any], period1: int | None, period2: int | None, last_n: int | None = None) -> dict:
    """The part of a chart result Yahoo returns for [period1, period2) (or its last `last_n` bars)."""
    out = copy.deepcopy(result)
    stamps: list[int] = result.get("timestamp", [])
    if last_n is not None:
        keep = list(range(max(0, len(stamps) - last_n), len(stamps)))
    else:
        lo = period1 if period1 is not None else -(2**62)
        hi = period2 if period2 is not None else 2**62
        keep = [i for i, ts in enumerate(stamps) if lo <= ts < hi]
    if not keep:
        out.pop("timestamp", None)
        out.pop("events", None)
        out["indicators"] = {"quote": [{}], "adjclose": [{}]}
        return out
    out["timestamp"] = [stamps[i] for i in keep]
    quote = result["indicators"]["quote"][0]
    out["indicators"]["quote"] = [{k: [v[i] for i in keep] for k, v in quote.items()}]
    if "adjclose" in result["indicators"]:
        adj = result["indicators"]["adjclose"][0]["adjclose"]
        out["indicators"]["adjclose"] = [{"adjclose": [adj[i] for i in keep]}]
    lo_ts, hi_ts = out["timestamp"][0], out["timestamp"][-1]
    if "events" in result:
        events = {
            kind: {k: v for k, v in items.items() if lo_ts - 86400 < int(v["date"]) <= hi_ts}
            for kind, items in result["events"].items()
        }
        out["events"] = {k: v for k, v in events.items() if v}
    return out


@dataclass
class YahooReplay:
    """Registered chart results per symbol plus queued failures; answers yfinance's requests."""

    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    failures: dict[str, list[int | Exception]] = field(default_factory=dict)
    dns_down: bool = False
    chart_requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, symbol: str, result: dict[str, Any]) -> None:
        self.results[symbol.upper()] = result

    def fail(self, symbol: str, *outcomes: int | Exception) -> None:
        """Queue outcomes for the symbol's next chart requests: an HTTP status or an exception to raise."""
        self.failures.setdefault(symbol.upper(), []).extend(outcomes)

    def history_requests(self, symbol: str) -> list[dict[str, str]]:
        """Parameters of the symbol's price requests (not the timezone probes)."""
        return [p for s, p in self.chart_requests if s == symbol.upper() and "period1" in p]

    def _down(self) -> None:
        if self.dns_down:
            raise requests.exceptions.ConnectionError(DNS_ERROR)

    def chart(self, request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        self._down()
        url = urlsplit(str(request.url))
        symbol = unquote(url.path.rsplit("/", 1)[-1]).upper()
        params = {k: v[0] for k, v in parse_qs(url.query).items()}
        with self._lock:
            self.chart_requests.append((symbol, params))
            queued = self.failures.get(symbol)
            outcome = queued.pop(0) if queued else None
        if isinstance(outcome, Exception):
            raise outcome
        if isinstance(outcome, int):
            return outcome, {"Content-Type": "text/plain"}, "Edge: Too Many Requests"
        result = self.results.get(symbol)
        if result is None:
            return 404, {"Content-Type": "application/json"}, json.dumps(NOT_FOUND)
        if "range" in params:
            part = slice_result(result, None, None, last_n=1)
        else:
            part = slice_result(result, _int(params.get("period1")), _int(params.get("period2")))
        return 200, {"Content-Type": "application/json"}, json.dumps({"chart": {"result": [part], "error": None}})

    def other(self, status: int, body: str) -> Any:
        def answer(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
            self._down()
            return status, {}, body

        return answer

    def install(self, rm: responses.RequestsMock) -> None:
        rm.add_callback(responses.GET, CHART_URL, callback=self.chart)
        rm.add_callback(responses.GET, COOKIE_URL, callback=self.other(200, ""))
        rm.add_callback(responses.POST, COOKIE_URL, callback=self.other(200, ""))
        rm.add_callback(responses.GET, CRUMB_URL, callback=self.other(200, "replayCrumb"))
        rm.add_callback(
            responses.GET,
            QUOTE_SUMMARY_URL,
            callback=self.other(404, json.dumps({"quoteSummary": {"result": None, "error": {"code": "Not Found"}}})),
        )


def _int(value: str | None) -> int | None:
    return int(value) if value is not None else None


def isolate_yfinance() -> Iterator[None]:
    """Make yfinance deterministic for a test: no on-disk timezone/cookie cache, no memoised responses.

    With the caches in place a symbol's timezone from an earlier test would skip the probe request, and a
    past-range response would be served from memory instead of the replay.
    """
    import yfinance.cache as yf_cache
    from yfinance.data import YfData

    saved = (yf_cache._TzCacheManager._tz_cache, yf_cache._CookieCacheManager._Cookie_cache)
    yf_cache._TzCacheManager._tz_cache = yf_cache._TzCacheDummy()
    yf_cache._CookieCacheManager._Cookie_cache = yf_cache._CookieCacheDummy()
    YfData.cache_get.cache_clear()
    try:
        yield
    finally:
        yf_cache._TzCacheManager._tz_cache, yf_cache._CookieCacheManager._Cookie_cache = saved
        YfData.cache_get.cache_clear()


def trading_days(closes: pl.DataFrame) -> Sequence[date]:
    return closes["date"].to_list()


def et(d: date, hh: int, mm: int = 0) -> datetime:
    """An aware New York wall-clock time, for injected clocks."""
    return datetime.combine(d, time(hh, mm), tzinfo=ZoneInfo("America/New_York"))


def days(n: int) -> timedelta:
    return timedelta(days=n)
