"""The Yahoo Finance price source: chunked, retried downloads, then the incremental extract of a run.

Why it is built this way:

- **Batch download.** `yf.download` fetches a chunk of tickers on threads and returns one wide frame;
  `parse.wide_to_long` turns it into long rows with array reshapes, so a 3,000-ticker history converts in
  seconds.
- **No unfinished bar.** `sessions.drop_unfinished_bars` keeps a bar only once its exchange's session closed.
- **Never silently empty.** yfinance's per-ticker errors are captured (`client`): rate limits (HTTP 429) and
  network errors are retried with exponential backoff and jitter within a time budget (the shared
  `flows.sources.retry.RetryPolicy`), a network error that outlasts the retries (or no rows for any ticker)
  raises `JevonsSourceError("Yahoo Finance unreachable: ...")`; a host that does not resolve or refuses the
  connection, with no ticker of the attempt answered, raises it at once (no network: no retry fixes it).
  Rate-limited tickers that never recover and unknown/delisted tickers become recorded warnings naming them.
- **Garbage rejected per row** (`flows.sources.validate.validate_prices`), counted as `rows_rejected`.
- **Restatements as data.** `extract_live_prices` re-fetches a small overlap of each stored ticker; where it
  disagrees with what is stored (`transforms.incremental.detect_restatements`), Yahoo has rescaled the
  adjusted history (dividend, split, correction), so that ticker's full history is fetched again and the
  result carries a `Replacement` per table: the generic loader replaces those tickers' rows (one logged
  `sync` each) instead of upserting them. A refetch shorter than what is stored is not allowed to delete
  history: it is upserted and a `restatement_incomplete` warning says so.

The source never writes to the warehouse; the daily flow hands it a read-only view of what is published.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import polars as pl

from flows.sources.base import ExtractContext, SourceResult, SourceWarning
from flows.sources.retry import RetryPolicy, unreachable_cause
from flows.sources.validate import validate_prices
from flows.sources.yahoo.client import DownloadFn, ErrorKind, classify_error, download, short_error
from flows.sources.yahoo.parse import ACTION_COLUMNS, RAW_SCHEMA, SOURCE_NAME, wide_to_long
from flows.sources.yahoo.plan import _complete_refetch, group_starts, plan_fetch, read_last_loaded, read_stored_since
from flows.sources.yahoo.sessions import drop_unfinished_bars
from transforms.incremental import detect_restatements
from warehouse.connection import connect_read_only
from warehouse.errors import JevonsSourceError
from warehouse.introspect import table_exists
from warehouse.load import Replacement
from warehouse.tables.core import PRICES_DAILY
from warehouse.tables.prices_live import CORPORATE_ACTIONS

if TYPE_CHECKING:
    import pandas as pd
    import requests

log = logging.getLogger(__name__)

STAGE = "prices"


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
    retry_budget_s: float = 180.0
    """Total seconds one chunk may spend waiting between attempts; a wait that would overrun it gives up."""
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
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.session = session
        self.config = config or YFinanceConfig()
        self._now = now or (lambda: datetime.now(UTC))
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._download_fn = download
        self._clock = clock

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
        prices, rejected = validate_prices(raw, self.name)
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

    @property
    def policy(self) -> RetryPolicy:
        """The shared retry policy with this source's knobs: exponential, capped, ±50% jitter, a time budget."""
        c = self.config
        return RetryPolicy(c.max_attempts, c.backoff_base_s, c.backoff_max_s, c.retry_budget_s, (0.5, 1.5))

    def _download(
        self, tickers: list[str], start: date, end_exclusive: date
    ) -> tuple[pd.DataFrame | None, dict[str, str]]:
        """One yf.download call; returns the wide frame and yfinance's per-ticker error texts."""
        return download(
            self._download_fn,
            tickers,
            start,
            end_exclusive,
            threads=self.config.threads,
            timeout_s=self.config.timeout_s,
            session=self.session,
        )

    def _fetch_chunk(self, tickers: list[str], start: date, end: date | None, now: datetime, acc: _Accumulator) -> None:
        """Download one chunk, retrying rate-limited and network-failed tickers with backoff."""
        # yfinance's end is exclusive; without an end ask through tomorrow in UTC+14 so every exchange's
        # latest bar arrives, and let drop_unfinished_bars decide what is final.
        end_exclusive = end + timedelta(days=1) if end is not None else now.astimezone(UTC).date() + timedelta(days=2)
        pending = list(dict.fromkeys(t.upper() for t in tickers))
        last_errors: dict[str, tuple[ErrorKind, str]] = {}
        policy, started = self.policy, self._clock()
        attempts = 0
        while True:
            attempts += 1
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
                if kind == "unreachable" and got:  # others answered: the network is up, a blip is retried
                    kind = "network"
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
            unreachable = [t for t in pending if last_errors[t][0] == "unreachable"]
            if unreachable:  # no network, wrong host or a refused connection: no retry can fix it
                text = last_errors[unreachable[0]][1]
                raise JevonsSourceError(
                    f"Yahoo Finance unreachable: {unreachable_cause(text)}: {short_error(text)} "
                    f"({len(unreachable)} tickers, e.g. {', '.join(unreachable[:5])}; not retried)"
                )
            delay = policy.delay(attempts, self._rng)
            if not policy.allows(attempts, self._clock() - started, delay):
                break
            log.warning(
                "yfinance: %d tickers failed (%s), retrying in %.1fs (attempt %d of %d)",
                len(retry),
                ", ".join(sorted({last_errors[t][0] for t in retry})),
                delay,
                attempts + 1,
                self.config.max_attempts,
            )
            self._sleep(delay)
        network = [t for t in pending if last_errors[t][0] == "network"]
        if network:
            raise JevonsSourceError(
                f"Yahoo Finance unreachable: {short_error(last_errors[network[0]][1])} "
                f"({len(network)} tickers, e.g. {', '.join(network[:5])}, after {attempts} attempts)"
            )
        for ticker in pending:
            acc.failed.append(ticker)
            acc.warnings.append(
                SourceWarning(
                    STAGE,
                    ticker,
                    "rate_limited",
                    f"{ticker}: Yahoo Finance kept rate-limiting (HTTP 429) after {attempts} "
                    f"attempts with backoff; not loaded this run: {last_errors[ticker][1]}",
                )
            )


def make_source(config: YFinanceConfig | None = None) -> YFinancePriceSource:
    """The live source the flows use; tests replace this factory to inject a replaying session."""
    return YFinancePriceSource(config=config)


def extract_live_prices(
    source: YFinancePriceSource,
    con: duckdb.DuckDBPyConnection | None,
    tickers: Sequence[str],
    start: date | None = None,
    end: date | None = None,
    progress: Callable[[int], None] | None = None,
) -> SourceResult:
    """Fetch `tickers` incrementally (or from `start` for every ticker when given), detecting restatements.

    `con` is a connection to the warehouse as it stands (read-only is enough), or None for an empty one. The
    restated tickers come back as one `Replacement` per table (scope: those tickers), with the reasons.
    """
    cfg = source.config
    wanted = list(dict.fromkeys(t.upper() for t in tickers))
    last = read_last_loaded(con, wanted, cfg.overlap_days)
    today = end or source.now().astimezone(UTC).date()
    plan = plan_fetch(last, wanted, start, cfg.history_start, cfg.overlap_days, today)
    stored_prices, stored_actions = read_stored_since(con, plan)
    fetched = source.fetch_plan(plan, end, progress=progress)
    prices = fetched.frames["core.prices_daily"]
    actions = fetched.frames.get("core.corporate_actions", pl.DataFrame(schema=ACTION_COLUMNS))
    has_actions = con is not None and table_exists(con, "core.corporate_actions")
    restated = detect_restatements(
        stored_prices,
        prices,
        cfg.restatement_tolerance,
        stored_actions=stored_actions if has_actions else None,
        fetched_actions=actions,
    )
    # Without stored actions (first live run over CSV-loaded history) only price evidence counts.
    restated = restated.filter(pl.col("ticker").is_in(last["ticker"].implode()))
    result = SourceResult(
        source=fetched.source,
        frames={"core.prices_daily": prices, "core.corporate_actions": actions},
        warnings=list(fetched.warnings),
        failed_subjects=list(fetched.failed_subjects),
        rejected_rows=fetched.rejected_rows,
    )
    if restated.is_empty():
        return result

    reasons = dict(restated.iter_rows())
    stored = last.filter(pl.col("ticker").is_in(list(reasons)))
    refetch_plan = stored.select(
        "ticker", pl.min_horizontal(pl.col("first_date"), pl.lit(cfg.history_start)).alias("start")
    )
    full = source.fetch_plan(refetch_plan, end)
    full_prices = full.frames["core.prices_daily"]
    complete = set(_complete_refetch(full_prices, stored)["ticker"].to_list())
    for ticker in sorted(set(reasons) - complete):
        result.warnings.append(
            SourceWarning(
                STAGE,
                ticker,
                "restatement_incomplete",
                f"{ticker}: Yahoo restated the history ({reasons[ticker]}) but the refetch returned less than is "
                "stored, so nothing was deleted; the rows fetched were upserted. The next run retries.",
            )
        )
        del reasons[ticker]
    refetched = pl.col("ticker").is_in(list(complete))
    result.frames = {
        "core.prices_daily": pl.concat([prices.filter(~refetched), full_prices.filter(refetched)]),
        "core.corporate_actions": pl.concat(
            [actions.filter(~refetched), full.frames["core.corporate_actions"].filter(refetched)]
        ),
    }
    result.warnings.extend(full.warnings)
    result.failed_subjects.extend(s for s in full.failed_subjects if s not in result.failed_subjects)
    result.rejected_rows += full.rejected_rows
    if reasons:
        message = "restatement, full history refetched and replaced: " + "; ".join(
            f"{t} ({why})" for t, why in sorted(reasons.items())
        )
        scope = {"ticker": sorted(reasons)}
        result.replacements = [
            Replacement(table.qualified_name, scope, message) for table in (PRICES_DAILY, CORPORATE_ACTIONS)
        ]
    return result


def restated_tickers(result: SourceResult) -> list[str]:
    """The tickers whose stored history `result` replaces (empty when nothing was restated)."""
    return sorted({t for r in result.replacements for t in r.scope.get("ticker", ())})


def extract(ctx: ExtractContext) -> SourceResult:
    """The registry's entry point: the published warehouse read-only (if any), then the incremental fetch."""
    con = connect_read_only(ctx.warehouse) if Path(ctx.warehouse).exists() else None
    try:
        return extract_live_prices(make_source(), con, ctx.tickers, ctx.start, ctx.end)
    finally:
        if con is not None:
            con.close()
