"""Data-quality checks on frames (pure: no I/O). Each returns one result row: check, table_name, status, detail.

The flow runs them after its loads and before publication; `POLICIES` says which failures stop the run
(`fail`) and which are recorded as warnings (`warn`). Every check is a vectorised polars expression over the
whole table, so it costs milliseconds even on millions of rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
import polars as pl

POLICIES: dict[str, str] = {
    "duplicate_keys": "fail",
    "non_positive_prices": "fail",
    "calendar_gaps": "warn",
    "price_jumps": "warn",
    "electricity_hours_missing": "warn",
    "stale_source": "warn",
}
"""What a failing check does: 'fail' stops the run before publication, 'warn' is recorded and shown."""


@dataclass(frozen=True)
class CheckResult:
    """One check's outcome; status is pass, warn or fail (a failing 'warn'-policy check reports warn)."""

    check: str
    table_name: str
    passed: bool
    detail: str

    @property
    def policy(self) -> str:
        return POLICIES[self.check]

    @property
    def status(self) -> str:
        return "pass" if self.passed else self.policy


def _first(items: Sequence[object], n: int = 5) -> str:
    shown = ", ".join(str(i) for i in items[:n])
    return shown + (f" … (+{len(items) - n})" if len(items) > n else "")


def duplicate_keys(frame: pl.DataFrame, key: Sequence[str], table_name: str) -> CheckResult:
    """No two rows share a key (a guard for tables whose key is enforced by the loader, not an index)."""
    dup = frame.select(list(key)).is_duplicated()
    n = int(dup.sum())
    offenders = frame.filter(dup).select(list(key)).unique().head(5).rows()
    return CheckResult("duplicate_keys", table_name, n == 0, f"{n} rows share a key" + (f": {offenders}" if n else ""))


def non_positive_prices(prices: pl.DataFrame) -> CheckResult:
    """Every adjusted close (and close, where present) is positive."""
    bad = prices.filter((pl.col("adj_close") <= 0) | (pl.col("close").fill_null(1.0) <= 0))
    rows = bad.select("ticker", "date").head(5).rows()
    return CheckResult(
        "non_positive_prices",
        "core.prices_daily",
        bad.is_empty(),
        f"{bad.height} non-positive prices" + (f": {rows}" if rows else ""),
    )


def calendar_gaps(prices: pl.DataFrame, calendar: pl.Series, max_gap_days: int = 3) -> CheckResult:
    """Tickers missing benchmark trading days inside their own history (a listing's life, not before or after).

    Warns for tickers with more than `max_gap_days` missing sessions between their first and last row.
    """
    cal = pl.DataFrame({"date": calendar.unique().sort()}).with_row_index("idx")
    spans = prices.group_by("ticker").agg(
        pl.col("date").min().alias("first"), pl.col("date").max().alias("last"), pl.len().alias("rows")
    )
    expected = (
        spans.join_where(cal, pl.col("date") >= pl.col("first"), pl.col("date") <= pl.col("last"))
        .group_by("ticker")
        .agg(pl.len().alias("expected"))
    )
    present = prices.join(cal.select("date"), on="date", how="semi").group_by("ticker").agg(pl.len().alias("present"))
    gaps = (
        expected.join(present, on="ticker", how="left")
        .with_columns((pl.col("expected") - pl.col("present").fill_null(0)).alias("missing"))
        .filter(pl.col("missing") > max_gap_days)
        .sort("missing", descending=True)
    )
    detail = f"{gaps.height} tickers miss more than {max_gap_days} benchmark trading days inside their history"
    if gaps.height:
        detail += ": " + _first([f"{t} ({m})" for t, m in gaps.select("ticker", "missing").rows()])
    return CheckResult("calendar_gaps", "core.prices_daily", gaps.is_empty(), detail)


def price_jumps(prices: pl.DataFrame, actions: pl.DataFrame | None = None, threshold: float = 0.4) -> CheckResult:
    """Daily adjusted-close moves beyond ±threshold on a day without a corporate action (likely a bad price,
    an unadjusted split, or a real event worth a look)."""
    rets = (
        prices.sort("ticker", "date")
        .with_columns((pl.col("adj_close") / pl.col("adj_close").shift(1).over("ticker") - 1).alias("ret"))
        .filter(pl.col("ret").abs() > threshold)
    )
    if actions is not None and not actions.is_empty():
        rets = rets.join(actions.select("ticker", "date").unique(), on=["ticker", "date"], how="anti")
    rows = [
        f"{t} {d} {r:+.1%}"
        for t, d, r in rets.sort(pl.col("ret").abs(), descending=True).select("ticker", "date", "ret").rows()
    ]
    return CheckResult(
        "price_jumps",
        "core.prices_daily",
        rets.is_empty(),
        f"{rets.height} daily moves beyond ±{threshold:.0%} without a corporate action"
        + (f": {_first(rows)}" if rows else ""),
    )


def electricity_hours_missing(hourly: pl.DataFrame) -> CheckResult:
    """Each (respondent, subba, type) series has every hour between its first and last period."""
    if hourly.is_empty():
        return CheckResult("electricity_hours_missing", "core.electricity_demand_hourly", True, "no hourly rows loaded")
    series = hourly.group_by("respondent", "subba", "type").agg(
        pl.col("period_utc").min().alias("first"),
        pl.col("period_utc").max().alias("last"),
        pl.col("period_utc").n_unique().alias("hours"),
    )
    series = series.with_columns(
        ((pl.col("last") - pl.col("first")).dt.total_hours() + 1 - pl.col("hours")).alias("missing")
    ).filter(pl.col("missing") > 0)
    rows = [
        f"{r}/{s or '-'}/{t} ({m} h)" for r, s, t, m in series.select("respondent", "subba", "type", "missing").rows()
    ]
    return CheckResult(
        "electricity_hours_missing",
        "core.electricity_demand_hourly",
        series.is_empty(),
        f"{series.height} series have missing hours" + (f": {_first(rows)}" if rows else ""),
    )


def expected_last_session(today: date) -> date:
    """The most recent weekday strictly before today: the last session whose close is final at any hour."""
    result: date = np.busday_offset(np.datetime64(today), -1, roll="forward").astype(date)
    return result


def stale_source(
    name: str, table_name: str, last: date | datetime | None, today: date, max_business_days: int
) -> CheckResult:
    """A source whose last loaded day is more than `max_business_days` sessions behind the expected one."""
    expected = expected_last_session(today)
    if last is None:
        return CheckResult(
            "stale_source", table_name, False, f"{name}: nothing loaded (expected data through {expected})"
        )
    last_day = last.date() if isinstance(last, datetime) else last
    behind = int(np.busday_count(np.datetime64(last_day), np.datetime64(expected)))
    ok = behind <= max_business_days
    return CheckResult(
        "stale_source",
        table_name,
        ok,
        f"{name}: last {last_day}, expected {expected}, "
        f"{max(behind, 0)} business days behind (allowed {max_business_days})",
    )


POLICIES["company_change"] = "warn"
"""company_change (below): a likely change of company is a warning that suggests history_from."""


def company_change_flags(
    prices: pl.DataFrame,
    universe: pl.DataFrame | None = None,
    jump: float = 0.4,
    vol_ratio: float = 3.0,
    window_days: int = 120,
    start_days: int = 5,
) -> pl.DataFrame:
    """`ticker, date, ret, sigma_before, sigma_after, kind` for each likely change of company in a ticker's history.

    kind `regime_jump`: a daily adjusted-close move beyond ±jump whose surrounding volatilities differ by
    `vol_ratio` or more, as when a SPAC shell pinned near its trust value becomes an operating company (OKLO
    2024-05-10: -53.6%). Volatility here is the median absolute daily return of the `window_days` returns before
    and after the move (at least 20 each; the columns sigma_before and sigma_after): a robust scale, because a
    shell's last weeks can already trade wildly (OKLO from late March 2024) and a standard deviation would let
    those few days hide the months pinned near $10. kind `listing_jump`: a move beyond ±jump among a series' first
    `start_days` returns (an IPO or when-issued start). Rows on or before a ticker's history_from (universe) are
    ignored: that history is already cut. `date` is the first price of the new regime, the history_from to set.
    """
    frame = prices.select(pl.col("ticker").cast(pl.String), pl.col("date").cast(pl.Date), "adj_close").sort(
        "ticker", "date"
    )
    if universe is not None and "history_from" in universe.columns:
        from transforms.history import prices_from_history

        frame = prices_from_history(frame, universe)
    ret = pl.col("adj_close") / pl.col("adj_close").shift(1).over("ticker") - 1
    rets = frame.with_columns(ret.alias("ret")).filter(pl.col("ret").is_not_null())
    size = pl.col("ret").abs()
    rets = rets.with_columns(
        size.rolling_median(window_days, min_samples=20).shift(1).over("ticker").alias("sigma_before"),
        size.reverse()
        .rolling_median(window_days, min_samples=20)
        .reverse()
        .shift(-1)
        .over("ticker")
        .alias("sigma_after"),
        pl.int_range(pl.len()).over("ticker").alias("position"),
    )
    big = pl.col("ret").abs() > jump
    ratio = pl.max_horizontal("sigma_before", "sigma_after") / pl.min_horizontal("sigma_before", "sigma_after")
    kind = (
        pl.when(big & (pl.col("position") < start_days))
        .then(pl.lit("listing_jump"))
        .when(big & (ratio >= vol_ratio))
        .then(pl.lit("regime_jump"))
    )
    return (
        rets.with_columns(kind.alias("kind"))
        .filter(pl.col("kind").is_not_null())
        .select("ticker", "date", "ret", "sigma_before", "sigma_after", "kind")
    )


def company_change(prices: pl.DataFrame, universe: pl.DataFrame | None = None, **limits: float) -> CheckResult:
    """Warns, naming each ticker and the history_from to set, when its prices likely describe another company
    before some date (company_change_flags; `limits` are its jump, vol_ratio, window_days, start_days)."""
    flags = company_change_flags(prices, universe, **limits)  # type: ignore[arg-type]
    rows = [
        f"{t} {d} {r:+.1%} ({k.replace('_', ' ')}; median |daily return| "
        + (f"{b:.1%} before, " if b is not None else "")
        + (f"{a:.1%} after" if a is not None else "")
        + f"): set history_from={d} in warehouse/seeds/universe.csv if the company changed that day"
        for t, d, r, b, a, k in flags.rows()
    ]
    return CheckResult(
        "company_change",
        "core.prices_daily",
        flags.is_empty(),
        f"{flags.height} likely changes of company (SPAC merger, spin-off, listing)"
        + (f": {_first(rows)}" if rows else ""),
    )
