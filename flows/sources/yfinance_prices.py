"""Daily prices, dividends and splits from Yahoo Finance through yfinance, loudly.

Why it is built this way:

- **Batch download.** `yf.download` fetches a chunk of tickers on threads and returns one wide frame
  (ticker x field columns). `wide_to_long` turns it into long polars rows with array reshapes, not per-row
  Python, so a 3,000-ticker history converts in seconds. `auto_adjust=False` keeps Yahoo's close (split-adjusted
  only) and adj_close (split- and dividend-adjusted) apart; `actions=True` yields the dividends, splits and
  fund capital gains that explain the difference, stored in `core.corporate_actions`.
- **Exchange-local dates.** `ignore_tz=True` makes yfinance return naive exchange-local midnights, so a
  Frankfurt (`.DE`) or Sydney (`.AX`) session keeps its own date; converting yfinance's tz-aware
  local midnight to UTC would move every European and Asian bar back a day.
- **No unfinished bar.** Yahoo appends the live session as the last bar. `drop_unfinished_bars` keeps a bar
  only once its exchange's regular session has closed (plus a settling margin), from a table of exchange
  suffixes; an unknown suffix waits until the date is over everywhere on Earth.
- **Never silently empty.** `yf.download` catches every per-ticker error, prints it and returns NaN columns;
  a DNS failure even looks like "possibly delisted". During a download this module turns yfinance's
  exception hiding off and captures the `yfinance` logger, so each empty ticker gets the real reason:
  rate limits (HTTP 429) and network errors are retried with exponential backoff and jitter, a network
  error that outlasts the retries (or no rows for any ticker) raises `JevonsSourceError("Yahoo Finance
  unreachable: ...")`, rate-limited tickers that never recover and unknown/delisted tickers become
  recorded warnings naming them while the rest loads.
- **Garbage rejected per row.** Missing or non-finite closes, non-positive prices, negative volumes and
  duplicated dates are dropped and counted per ticker (`rows_rejected` warnings); they never reach
  `core.prices_daily`.

The source never touches the warehouse: the incremental plan and restatement decisions are made by the
caller (`flows.live_prices`) with `transforms.incremental`.
"""

from __future__ import annotations

import contextlib
import logging
import random
import re
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from typing import Any, Literal
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import polars as pl
import requests

from flows.sources.base import PRICE_COLUMNS, SourceResult, SourceWarning
from warehouse.errors import JevonsSourceError

log = logging.getLogger(__name__)

SOURCE_NAME = "yfinance"
STAGE = "prices"

YF_FIELDS = ("Open", "High", "Low", "Close", "Adj Close", "Volume", "Dividends", "Stock Splits", "Capital Gains")
"""Per-ticker columns of `yf.download(..., actions=True, auto_adjust=False)` (Capital Gains only for funds)."""

_PRICE_FIELDS = {
    "Open": "open",
    "High": "high",
    "Low": "low",
    "Close": "close",
    "Adj Close": "adj_close",
    "Volume": "volume",
}
_ACTION_FIELDS = {"Dividends": "dividend", "Stock Splits": "split", "Capital Gains": "capital_gain"}

RAW_SCHEMA = pl.Schema(
    {
        "ticker": pl.String(),
        "date": pl.Date(),
        "open": pl.Float64(),
        "high": pl.Float64(),
        "low": pl.Float64(),
        "close": pl.Float64(),
        "adj_close": pl.Float64(),
        "volume": pl.Float64(),
    }
)
"""Long rows as parsed from yfinance, before validation (volume still float: NaN is possible)."""

ACTION_COLUMNS = pl.Schema(
    {
        "ticker": pl.String(),
        "date": pl.Date(),
        "kind": pl.String(),
        "value": pl.Float64(),
        "source": pl.String(),
    }
)
"""Columns of core.corporate_actions a source provides (all but loaded_at)."""

REJECT_SCHEMA = pl.Schema({"ticker": pl.String(), "reason": pl.String(), "rows": pl.UInt32()})

ErrorKind = Literal["rate_limited", "network", "missing"]


# --------------------------------------------------------------------------------------------------------------
# Exchange sessions: when is a daily bar final?
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Exchange:
    """Where a listing trades: its time zone and the local end of its regular session."""

    tz: str
    close: dtime


US = Exchange("America/New_York", dtime(16, 0))
EXCHANGES: dict[str, Exchange] = {
    "": US,  # no suffix: US listings, and ^ indices quoted in New York
    ".TO": Exchange("America/Toronto", dtime(16, 0)),
    ".V": Exchange("America/Toronto", dtime(16, 0)),
    ".NE": Exchange("America/Toronto", dtime(16, 0)),
    ".SA": Exchange("America/Sao_Paulo", dtime(18, 0)),
    ".MX": Exchange("America/Mexico_City", dtime(15, 0)),
    ".L": Exchange("Europe/London", dtime(16, 35)),
    ".IL": Exchange("Europe/London", dtime(16, 35)),
    ".DE": Exchange("Europe/Berlin", dtime(17, 35)),  # Xetra, incl. closing auction
    ".F": Exchange("Europe/Berlin", dtime(22, 0)),  # Frankfurt floor trades into the evening
    ".BE": Exchange("Europe/Berlin", dtime(22, 0)),
    ".DU": Exchange("Europe/Berlin", dtime(22, 0)),
    ".HM": Exchange("Europe/Berlin", dtime(22, 0)),
    ".HA": Exchange("Europe/Berlin", dtime(22, 0)),
    ".MU": Exchange("Europe/Berlin", dtime(22, 0)),
    ".SG": Exchange("Europe/Berlin", dtime(22, 0)),
    ".PA": Exchange("Europe/Paris", dtime(17, 35)),
    ".AS": Exchange("Europe/Amsterdam", dtime(17, 35)),
    ".BR": Exchange("Europe/Brussels", dtime(17, 35)),
    ".LS": Exchange("Europe/Lisbon", dtime(16, 35)),
    ".MI": Exchange("Europe/Rome", dtime(17, 35)),
    ".MC": Exchange("Europe/Madrid", dtime(17, 35)),
    ".SW": Exchange("Europe/Zurich", dtime(17, 35)),
    ".VI": Exchange("Europe/Vienna", dtime(17, 35)),
    ".CO": Exchange("Europe/Copenhagen", dtime(17, 0)),
    ".ST": Exchange("Europe/Stockholm", dtime(17, 30)),
    ".OL": Exchange("Europe/Oslo", dtime(16, 25)),
    ".HE": Exchange("Europe/Helsinki", dtime(18, 30)),
    ".T": Exchange("Asia/Tokyo", dtime(15, 30)),
    ".HK": Exchange("Asia/Hong_Kong", dtime(16, 10)),
    ".SS": Exchange("Asia/Shanghai", dtime(15, 0)),
    ".SZ": Exchange("Asia/Shanghai", dtime(15, 0)),
    ".KS": Exchange("Asia/Seoul", dtime(15, 30)),
    ".KQ": Exchange("Asia/Seoul", dtime(15, 30)),
    ".TW": Exchange("Asia/Taipei", dtime(13, 30)),
    ".SI": Exchange("Asia/Singapore", dtime(17, 16)),
    ".NS": Exchange("Asia/Kolkata", dtime(15, 30)),
    ".BO": Exchange("Asia/Kolkata", dtime(15, 30)),
    ".AX": Exchange("Australia/Sydney", dtime(16, 12)),
    ".NZ": Exchange("Pacific/Auckland", dtime(16, 45)),
    ".JO": Exchange("Africa/Johannesburg", dtime(17, 0)),
}
"""Yahoo symbol suffix → exchange. Anything else (futures `=F`, FX `=X`, crypto `-USD`, other suffixes) is
treated conservatively: a bar counts as final only once its date has ended in every time zone."""

_SUFFIX = re.compile(r"(\.[A-Z]{1,3})$")


def exchange_key(ticker: str) -> str | None:
    """The EXCHANGES key of a Yahoo symbol ('' for a plain US symbol), or None when unknown."""
    t = ticker.upper()
    if "=" in t or t.endswith("-USD"):
        return None
    m = _SUFFIX.search(t)
    if m is None:
        return ""
    return m.group(1) if m.group(1) in EXCHANGES else None


def final_through(exchange: Exchange | None, now: datetime, settle: timedelta) -> date:
    """Last local trading date whose daily bar is final at `now` (aware) on this exchange.

    A bar is final once the regular session has closed and `settle` has passed (Yahoo's official close lands
    a few minutes after the closing auction). For an unknown exchange the date must be over at UTC-12.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if exchange is None:
        return (now.astimezone(UTC) - timedelta(hours=12)).date() - timedelta(days=1)
    local = now.astimezone(ZoneInfo(exchange.tz))
    closed = datetime.combine(local.date(), exchange.close, tzinfo=local.tzinfo) + settle
    return local.date() if local >= closed else local.date() - timedelta(days=1)


def drop_unfinished_bars(frame: pl.DataFrame, now: datetime, settle: timedelta = timedelta(minutes=30)) -> pl.DataFrame:
    """Rows of `frame` (ticker, date, ...) whose session was over at `now`: today's live bar is not a close."""
    if frame.is_empty():
        return frame
    tickers = frame["ticker"].unique()
    keys = [exchange_key(t) for t in tickers.to_list()]  # one per ticker, not per row
    limits = {k: final_through(EXCHANGES.get(k) if k is not None else None, now, settle) for k in set(keys)}
    if len(set(limits.values())) == 1:  # one cutoff for all (the usual case): a plain filter, no join
        return frame.filter(pl.col("date") <= next(iter(limits.values())))
    cutoff = pl.DataFrame(
        {"ticker": tickers, "_final_through": [limits[k] for k in keys]},
        schema={"ticker": pl.String(), "_final_through": pl.Date()},
    )
    return (
        frame.join(cutoff, on="ticker", how="left")
        .filter(pl.col("date") <= pl.col("_final_through"))
        .drop("_final_through")
    )


# --------------------------------------------------------------------------------------------------------------
# Parsing yfinance's wide frame, and validating rows
# --------------------------------------------------------------------------------------------------------------


def _by_ticker_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with (ticker, field) column levels, whichever `group_by` produced it."""
    if not isinstance(frame.columns, pd.MultiIndex) or frame.columns.nlevels != 2:
        raise ValueError("expected yf.download's two-level (ticker, field) columns; pass multi_level_index=True")
    if set(frame.columns.get_level_values(0)) & set(YF_FIELDS):
        return frame.swaplevel(0, 1, axis=1)
    return frame


def _exchange_dates(index: pd.Index) -> np.ndarray:
    """Index → numpy datetime64[D] of the exchange-local dates (tz-aware indexes keep their wall clock)."""
    dt_index = pd.DatetimeIndex(index)
    if dt_index.tz is not None:
        dt_index = dt_index.tz_localize(None)
    return np.asarray(dt_index.normalize().values.astype("datetime64[D]"))


def _field_major(wide: pd.DataFrame, names: list[str]) -> np.ndarray:
    """The frame's values as a C-contiguous (tickers x fields x dates) float64 cube, every (ticker, field) present.

    yf.download's frame is one float64 block already laid out ticker-major (pandas stores a block column by
    column), so in the usual case this is a view of it; reindexing (a missing or reordered ticker or field, a
    duplicated column) and non-float blocks take the general path.
    """
    level0 = wide.columns.get_level_values(0).astype(str).str.upper()
    columns = pd.MultiIndex.from_arrays([level0, wide.columns.get_level_values(1)])
    full = pd.MultiIndex.from_product([names, YF_FIELDS])
    if columns.equals(full) and all(dtype == np.float64 for dtype in wide.dtypes):
        values = wide.to_numpy(dtype=np.float64)  # NaN is already the float missing value
    else:
        aligned = wide.set_axis(columns, axis=1)
        if columns.has_duplicates:
            aligned = aligned.loc[:, ~columns.duplicated()]
        values = aligned.reindex(columns=full).to_numpy(dtype=np.float64, na_value=np.nan)
    # (dates x tickers*fields) -> (tickers*fields x dates): free when pandas handed out its block's transpose.
    return np.ascontiguousarray(values.T).reshape(len(names), len(YF_FIELDS), len(wide.index))


def wide_to_long(frame: pd.DataFrame | None, tickers: Sequence[str]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """yf.download's wide frame → (long price rows RAW_SCHEMA, corporate actions ACTION_COLUMNS).

    Array reshapes per chunk, no per-row Python: the frame's values are viewed as a tickers x fields x dates
    cube (`_field_major`), each price field becomes one contiguous ticker-major column (one copy), and the
    rows come out ordered by (ticker, date). A (ticker, date) with every price and the volume missing is only
    the union of the tickers' calendars (or a ticker yfinance returned nothing for) and is dropped here; a row
    with some values but no close is kept for `validate_prices` to reject and count. Actions are the non-zero
    Dividends / Stock Splits / Capital Gains cells, found with `np.nonzero` on the cube.
    """
    names = [t.upper() for t in dict.fromkeys(tickers)]
    if frame is None or frame.empty or not names:
        return pl.DataFrame(schema=RAW_SCHEMA), pl.DataFrame(schema=ACTION_COLUMNS)
    wide = _by_ticker_columns(frame)
    cube = _field_major(wide, names)
    n_tickers, n_dates = len(names), len(wide.index)
    dates = _exchange_dates(wide.index).astype(np.int64).astype(np.int32)  # days since 1970: polars Date's layout
    field_index = {name: i for i, name in enumerate(YF_FIELDS)}

    columns = {dst: cube[:, field_index[src], :].reshape(-1) for src, dst in _PRICE_FIELDS.items()}
    present = np.zeros(n_tickers * n_dates, dtype=bool)
    for values in columns.values():
        present |= ~np.isnan(values)
    ticker_idx = np.repeat(np.arange(n_tickers, dtype=np.uint32), n_dates)
    date_col = np.tile(dates, n_tickers)
    if not present.all():
        columns = {name: values[present] for name, values in columns.items()}
        ticker_idx, date_col = ticker_idx[present], date_col[present]
    names_series = pl.Series("ticker", names, dtype=pl.String)
    prices = pl.DataFrame(
        [
            names_series.gather(ticker_idx),
            pl.Series("date", date_col, dtype=pl.Int32).cast(pl.Date),
            *[pl.Series(name, values, dtype=pl.Float64, nan_to_null=False) for name, values in columns.items()],
        ]
    )

    action_frames = []
    for src, kind in _ACTION_FIELDS.items():
        block = cube[:, field_index[src], :]
        t_idx, d_idx = np.nonzero(~np.isnan(block) & (block != 0))  # in (ticker, date) order
        action_frames.append(
            pl.DataFrame(
                {
                    "ticker": names_series.gather(t_idx.astype(np.uint32)),
                    "date": pl.Series(dates[d_idx], dtype=pl.Int32).cast(pl.Date),
                    "kind": pl.Series([kind], dtype=pl.String).gather(np.zeros(len(t_idx), dtype=np.uint32)),
                    "value": pl.Series(block[t_idx, d_idx], dtype=pl.Float64),
                }
            )
        )
    actions = pl.concat(action_frames).with_columns(pl.lit(SOURCE_NAME).alias("source"))
    return prices.cast(RAW_SCHEMA), actions.cast(ACTION_COLUMNS).sort("ticker", "date", "kind")


def _sorted_by_key(frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` ordered by (ticker, date), sorting only when needed (yfinance chunks arrive ordered)."""
    prev_ticker, prev_date = pl.col("ticker").shift(1), pl.col("date").shift(1)
    in_order = (pl.col("ticker") > prev_ticker) | ((pl.col("ticker") == prev_ticker) & (pl.col("date") >= prev_date))
    if frame.height < 2 or frame.select(in_order.fill_null(True).all()).item():
        return frame
    return frame.sort("ticker", "date", maintain_order=True)


def validate_prices(raw: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(clean PRICE_COLUMNS rows, rejected counts per ticker and reason).

    A row is rejected when close or adj_close is missing or NaN, any price is non-finite or not positive,
    volume is negative, or its (ticker, date) already appeared (the first occurrence is kept, as yfinance
    itself does). Missing open/high/low/volume alone are not garbage: they are stored as NULL. Duplicates
    are found by comparing neighbours in key order, which is linear; a hash or window over millions of
    rows would cost more than the rest of the load.
    """
    price_cols = ["open", "high", "low", "close", "adj_close"]
    ordered = _sorted_by_key(raw)
    duplicate = (pl.col("ticker") == pl.col("ticker").shift(1)) & (pl.col("date") == pl.col("date").shift(1))
    is_missing = {c: pl.col(c).is_null() | pl.col(c).is_nan() for c in price_cols}
    rules = [  # in order of precedence: a row is counted under its first broken rule
        ("missing_close", is_missing["close"] | is_missing["adj_close"]),
        ("non_finite_price", pl.any_horizontal([pl.col(c).is_infinite() for c in price_cols]).fill_null(False)),
        (
            "non_positive_price",
            pl.any_horizontal([(pl.col(c) <= 0) & ~is_missing[c] for c in price_cols]).fill_null(False),
        ),
        ("negative_volume", (pl.col("volume") < 0).fill_null(False)),
        ("duplicate_date", duplicate.fill_null(False)),
    ]
    if not ordered.select(pl.any_horizontal([rule for _, rule in rules]).any()).item():
        # The usual case: nothing to reject, so no per-row reason is built.
        checked = ordered
        rejected = pl.DataFrame(schema=REJECT_SCHEMA)
    else:
        reason: Any = pl
        for code, rule in rules:
            reason = reason.when(rule).then(pl.lit(code))
        checked = ordered.with_columns(reason.otherwise(pl.lit(None, pl.String)).alias("_reject"))
        rejected = (
            checked.filter(pl.col("_reject").is_not_null())
            .group_by("ticker", "_reject")
            .agg(pl.len().alias("rows"))
            .rename({"_reject": "reason"})
            .sort("ticker", "reason")
            .cast(REJECT_SCHEMA)
        )
        checked = checked.filter(pl.col("_reject").is_null())
    clean = checked.select(
        "ticker",
        "date",
        *[pl.col(c).fill_nan(None) for c in ("open", "high", "low")],
        "close",
        "adj_close",
        pl.col("volume").fill_nan(None).round(0).cast(pl.Int64).alias("volume"),
        pl.lit(SOURCE_NAME).alias("source"),
    )
    return clean.cast(pl.Schema(PRICE_COLUMNS)), rejected


# --------------------------------------------------------------------------------------------------------------
# What yfinance said: captured errors and their classification
# --------------------------------------------------------------------------------------------------------------

_SUMMARY_LINE = re.compile(r"^\[(?P<syms>[^\]]*)\]: (?P<err>.*)$", re.DOTALL)
_TICKER_LINE = re.compile(r"^\$(?P<sym>[^:\s]+): (?P<err>.*)$", re.DOTALL)
_TZ_LINE = re.compile(r"^Failed to get ticker '(?P<sym>[^']+)' reason: (?P<err>.*)$", re.DOTALL)

_RATE_LIMIT_MARKERS = ("YFRateLimitError", "Too Many Requests", "Rate limited", "429")
_NETWORK_MARKERS = (
    "ConnectionError",
    "NameResolution",
    "Failed to resolve",
    "Could not resolve",
    "name resolution",
    "Name or service not known",
    "nodename nor servname",
    "Max retries exceeded",
    "Connection refused",
    "Connection reset",
    "Connection aborted",
    "RemoteDisconnected",
    "timed out",
    "Timeout",
    "SSLError",
    "ProxyError",
    "ChunkedEncodingError",
    "curl: (",
    "YAHOO! FINANCE IS CURRENTLY DOWN",
)


def parse_download_errors(messages: Sequence[str]) -> dict[str, str]:
    """Per-ticker error text from the `yfinance` logger's messages during one download.

    yf.download ends with lines `['A', 'B']: <repr of the exception>`; PriceHistory logs `$A: <reason>` and the
    timezone probe `Failed to get ticker 'A' reason: <error>` when exceptions are hidden. The summary line wins;
    several reasons for one ticker are joined.
    """
    found: dict[str, list[str]] = {}
    for msg in messages:
        text = msg.strip()
        m = _SUMMARY_LINE.match(text)
        if m is not None:
            for sym in re.findall(r"'([^']+)'", m.group("syms")):
                found.setdefault(sym.upper(), []).insert(0, m.group("err").strip())
            continue
        for pattern in (_TICKER_LINE, _TZ_LINE):
            m = pattern.match(text)
            if m is not None:
                found.setdefault(m.group("sym").upper(), []).append(m.group("err").strip())
                break
    return {sym: " | ".join(dict.fromkeys(errs)) for sym, errs in found.items()}


def classify_error(text: str) -> ErrorKind:
    """rate_limited (retry later), network (retry; Yahoo unreachable if it persists) or missing (warn)."""
    if any(m in text for m in _RATE_LIMIT_MARKERS):
        return "rate_limited"
    if any(m in text for m in _NETWORK_MARKERS):
        return "network"
    return "missing"


class _Capture(logging.Handler):
    """Collects the yfinance logger's records during one download."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.errors: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
        except Exception:  # a malformed library record must not break the download
            message = str(record.msg)
        if record.levelno >= logging.ERROR:
            self.errors.append(message)
        else:
            log.debug("yfinance: %s", message)


@contextlib.contextmanager
def _yfinance_errors_visible() -> Iterator[_Capture]:
    """Capture yfinance's log and let its per-ticker exceptions carry the real cause.

    By default yfinance hides exceptions (a DNS failure becomes "possibly delisted"); with them visible,
    yf.download still catches each ticker's exception but reports `repr(exc)`. Its own error lines are kept
    out of the user's console: this module reports every failure itself, as warnings or a failed run.
    """
    import yfinance as yf

    logger = logging.getLogger("yfinance")
    capture = _Capture()
    old_level, old_propagate = logger.level, logger.propagate
    old_hide = yf.config.debug.hide_exceptions
    logger.addHandler(capture)
    logger.propagate = False
    if not logger.isEnabledFor(logging.ERROR):
        logger.setLevel(logging.ERROR)
    yf.config.debug.hide_exceptions = False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pandas deprecation noise from inside yfinance
            yield capture
    finally:
        yf.config.debug.hide_exceptions = old_hide
        logger.removeHandler(capture)
        logger.setLevel(old_level)
        logger.propagate = old_propagate


# --------------------------------------------------------------------------------------------------------------
# The source
# --------------------------------------------------------------------------------------------------------------

DownloadFn = Callable[..., "pd.DataFrame | None"]


@dataclass(frozen=True)
class YFinanceConfig:
    """Knobs of the live source; the defaults suit a daily run of a few thousand tickers."""

    history_start: date = date(2015, 1, 1)
    """First date fetched for a ticker never loaded."""
    overlap_days: int = 5
    """Trading days re-fetched before the last loaded date, to notice restatements."""
    chunk_size: int = 100
    """Tickers per yf.download call: bounds memory and how much one failure costs."""
    threads: int = 8
    """Parallel HTTP requests inside one yf.download call."""
    max_attempts: int = 4
    """Attempts per chunk for rate-limited or network-failed tickers (1 = no retry)."""
    backoff_base_s: float = 2.0
    """Delay before the 2nd attempt; doubles each attempt, capped by backoff_max_s, with ±50% jitter."""
    backoff_max_s: float = 60.0
    timeout_s: float = 20.0
    """HTTP timeout per request."""
    settle: timedelta = timedelta(minutes=30)
    """How long after an exchange's close its daily bar counts as final."""
    restatement_tolerance: float = 1e-4
    """Relative change of adj_close/close or close in the overlap that means Yahoo restated the history."""
    merge_start_days: int = 31
    """Fetch groups whose start dates lie within this many days are fetched together from the earliest."""


@dataclass
class _Accumulator:
    """Everything one fetch collects across its chunks."""

    prices: list[pl.DataFrame] = field(default_factory=list)
    actions: list[pl.DataFrame] = field(default_factory=list)
    warnings: list[SourceWarning] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    downloaded_rows: int = 0
    reasons: dict[str, str] = field(default_factory=dict)


def group_starts(plan: pl.DataFrame, merge_days: int) -> list[tuple[date, list[str]]]:
    """Fetch batches from a plan (ticker, start): tickers whose starts lie within `merge_days` of the group's
    earliest start share one yf.download start (re-fetching a few extra stored days is cheap and idempotent).
    """
    if plan.is_empty():
        return []
    ordered = plan.select("ticker", "start").unique(subset="ticker", keep="first", maintain_order=True).sort("start")
    group_start = []
    current: date | None = None
    for s in ordered["start"].unique().sort().to_list():  # one entry per distinct start date, not per ticker
        if current is None or (s - current).days > merge_days:
            current = s
        group_start.append((s, current))
    mapping = pl.DataFrame(group_start, schema={"start": pl.Date(), "group": pl.Date()}, orient="row")
    grouped = (
        ordered.join(mapping, on="start", how="left")
        .group_by("group", maintain_order=True)
        .agg(pl.col("ticker"))
        .sort("group")
    )
    return [(g, list(t)) for g, t in grouped.iter_rows()]


class YFinancePriceSource:
    """PriceSource over Yahoo Finance (`yf.download`), with loud failures and bounded retries.

    `session` is handed to yfinance: a `requests.Session` lets tests replay recorded responses through
    yfinance's real parsing (its default curl_cffi session cannot be intercepted). `now`, `sleep` and `rng`
    are injectable so the unfinished-bar rule and the backoff schedule are testable without waiting;
    `download` replaces `yf.download` in the benchmark.
    """

    name = SOURCE_NAME

    def __init__(
        self,
        session: requests.Session | None = None,
        *,
        config: YFinanceConfig | None = None,
        now: Callable[[], datetime] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        download: DownloadFn | None = None,
    ) -> None:
        self.session = session
        self.config = config or YFinanceConfig()
        self._now = now or (lambda: datetime.now(UTC))
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._download_fn = download

    def now(self) -> datetime:
        """The source's clock (aware): decides which bars are final and what "today" is."""
        return self._now()

    # -- PriceSource --------------------------------------------------------------------------------------------

    def fetch(self, tickers: list[str], start: date | None = None, end: date | None = None) -> SourceResult:
        """Every ticker from `start` (default: the configured history start) through `end` (default: today)."""
        first = start or self.config.history_start
        plan = pl.DataFrame({"ticker": [t.upper() for t in tickers]}, schema={"ticker": pl.String()}).with_columns(
            pl.lit(first).alias("start")
        )
        return self.fetch_plan(plan, end)

    def fetch_plan(
        self,
        plan: pl.DataFrame,
        end: date | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> SourceResult:
        """Fetch each ticker of `plan` (ticker, start) from its start through `end`, chunk by chunk.

        Returns prices (only final bars, validated) and corporate actions. Raises JevonsSourceError when
        Yahoo is unreachable: a network error outlasting the retries, or no rows for any ticker asked.
        `progress(n)` is called after each chunk with the number of tickers it covered.
        """
        now = self.now()
        acc = _Accumulator()
        requested = 0
        for start, tickers in group_starts(plan, self.config.merge_start_days):
            for i in range(0, len(tickers), self.config.chunk_size):
                chunk = tickers[i : i + self.config.chunk_size]
                requested += len(chunk)
                self._fetch_chunk(chunk, start, end, now, acc)
                if progress is not None:
                    progress(len(chunk))
        if requested and acc.downloaded_rows == 0:
            sample = "; ".join(f"{t}: {r}" for t, r in list(acc.reasons.items())[:3]) or "no error reported"
            raise JevonsSourceError(
                f"Yahoo Finance unreachable: no prices for any of the {requested} tickers asked ({sample})"
            )
        raw = pl.concat(acc.prices) if acc.prices else pl.DataFrame(schema=RAW_SCHEMA)
        actions = pl.concat(acc.actions) if acc.actions else pl.DataFrame(schema=ACTION_COLUMNS)
        prices, rejected = validate_prices(raw)
        acc.warnings.extend(self._rejection_warnings(rejected))
        return SourceResult(
            source=self.name,
            frames={
                "core.prices_daily": prices,
                "core.corporate_actions": actions.unique(
                    subset=["ticker", "date", "kind"], keep="first", maintain_order=True
                ),
            },
            warnings=acc.warnings,
            failed_subjects=list(dict.fromkeys(acc.failed)),
            rejected_rows=int(rejected["rows"].sum()) if rejected.height else 0,
        )

    # -- internals ---------------------------------------------------------------------------------------------

    @staticmethod
    def _rejection_warnings(rejected: pl.DataFrame) -> list[SourceWarning]:
        per_ticker = rejected.group_by("ticker", maintain_order=True).agg(
            pl.col("rows").sum().alias("total"),
            pl.format("{} {}", pl.col("rows"), pl.col("reason")).str.join(", ").alias("detail"),
        )
        return [
            SourceWarning(STAGE, t, "rows_rejected", f"{t}: {n} rows from Yahoo rejected ({detail})")
            for t, n, detail in per_ticker.iter_rows()
        ]

    def _backoff(self, attempt: int) -> float:
        """Delay before attempt `attempt + 1`: exponential, capped, with ±50% jitter so clients spread out."""
        base = min(self.config.backoff_max_s, self.config.backoff_base_s * 2**attempt)
        return base * (0.5 + self._rng.random())

    def _download(
        self, tickers: list[str], start: date, end_exclusive: date
    ) -> tuple[pd.DataFrame | None, dict[str, str]]:
        """One yf.download call; returns the wide frame and yfinance's per-ticker error texts."""
        import yfinance as yf
        from yfinance.data import YfData

        # yfinance memoises past-range responses for the process; a retry must really ask again.
        with contextlib.suppress(AttributeError):
            YfData.cache_get.cache_clear()
        fn = self._download_fn or yf.download
        with _yfinance_errors_visible() as capture:
            frame = fn(
                tickers,
                start=start.isoformat(),
                end=end_exclusive.isoformat(),
                auto_adjust=False,
                actions=True,
                repair=False,
                keepna=False,
                ignore_tz=True,
                group_by="ticker",
                multi_level_index=True,
                threads=max(1, min(self.config.threads, len(tickers))),
                progress=False,
                timeout=self.config.timeout_s,
                session=self.session,
            )
        return frame, parse_download_errors(capture.errors)

    def _fetch_chunk(self, tickers: list[str], start: date, end: date | None, now: datetime, acc: _Accumulator) -> None:
        """Download one chunk, retrying rate-limited and network-failed tickers with backoff."""
        # yfinance's end is exclusive; without an end ask through tomorrow in UTC+14 so every exchange's
        # latest bar arrives, and let drop_unfinished_bars decide what is final.
        end_exclusive = end + timedelta(days=1) if end is not None else now.astimezone(UTC).date() + timedelta(days=2)
        pending = list(dict.fromkeys(t.upper() for t in tickers))
        last_errors: dict[str, tuple[ErrorKind, str]] = {}
        for attempt in range(self.config.max_attempts):
            frame, errors = self._download(pending, start, end_exclusive)
            raw, actions = wide_to_long(frame, pending)
            acc.downloaded_rows += raw.height
            raw = raw.filter(pl.col("date") >= start)
            actions = actions.filter(pl.col("date") >= start)
            if end is not None:
                raw = raw.filter(pl.col("date") <= end)
                actions = actions.filter(pl.col("date") <= end)
            acc.prices.append(drop_unfinished_bars(raw, now, self.config.settle))
            acc.actions.append(drop_unfinished_bars(actions, now, self.config.settle))
            got = set(raw["ticker"].unique().to_list())
            retry: list[str] = []
            for ticker in pending:
                if ticker in got:
                    continue
                text = errors.get(ticker, "yfinance returned no rows and no error")
                kind = classify_error(text)
                last_errors[ticker] = (kind, text)
                acc.reasons.setdefault(ticker, text)
                if kind == "missing":
                    acc.warnings.append(
                        SourceWarning(
                            STAGE,
                            ticker,
                            "ticker_missing",
                            f"{ticker}: Yahoo Finance returned no prices from {start} "
                            f"(possibly delisted or renamed): {text}",
                        )
                    )
                    acc.failed.append(ticker)
                else:
                    retry.append(ticker)
            if not retry:
                return
            pending = retry
            if attempt + 1 < self.config.max_attempts:
                delay = self._backoff(attempt)
                log.warning(
                    "yfinance: %d tickers failed (%s), retrying in %.1fs (attempt %d of %d)",
                    len(retry),
                    ", ".join(sorted({last_errors[t][0] for t in retry})),
                    delay,
                    attempt + 2,
                    self.config.max_attempts,
                )
                self._sleep(delay)
        network = [t for t in pending if last_errors[t][0] == "network"]
        if network:
            raise JevonsSourceError(
                f"Yahoo Finance unreachable: {last_errors[network[0]][1]} "
                f"({len(network)} tickers, e.g. {', '.join(network[:5])}, after {self.config.max_attempts} attempts)"
            )
        for ticker in pending:
            acc.failed.append(ticker)
            acc.warnings.append(
                SourceWarning(
                    STAGE,
                    ticker,
                    "rate_limited",
                    f"{ticker}: Yahoo Finance kept rate-limiting (HTTP 429) after {self.config.max_attempts} "
                    f"attempts with backoff; not loaded this run: {last_errors[ticker][1]}",
                )
            )
