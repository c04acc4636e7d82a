"""What a Yahoo run fetches: per-ticker starts from what the warehouse holds, grouped into download batches.

A daily run must cost in proportion to the new days, not to the history: `read_last_loaded` reads each
ticker's last stored date and the date `overlap_days` rows back, `plan_fetch` turns that into a start per
ticker (`transforms.incremental.plan_price_fetch`), and `group_starts` batches tickers whose starts are close
into one yf.download range. `read_stored_since` reads what the fetch overlaps, for the restatement check.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, timedelta

import duckdb
import polars as pl

from transforms.incremental import plan_price_fetch
from warehouse.introspect import table_exists
from warehouse.tables.core import PRICES_DAILY
from warehouse.tables.prices_live import CORPORATE_ACTIONS

LAST_LOADED_SCHEMA = pl.Schema(
    {
        "ticker": PRICES_DAILY.polars_schema(columns=("ticker",))["ticker"],
        "last_date": pl.Date(),
        "first_date": pl.Date(),
        "n_rows": pl.Int64(),
        "overlap_start": pl.Date(),
    }
)
"""Per stored ticker: an aggregate of core.prices_daily (not a table of its own)."""
STORED_PRICE_SCHEMA = PRICES_DAILY.polars_schema(columns=("ticker", "date", "close", "adj_close"))
STORED_ACTION_SCHEMA = CORPORATE_ACTIONS.polars_schema(columns=("ticker", "date", "kind", "value"))


def read_last_loaded(con: duckdb.DuckDBPyConnection | None, tickers: Sequence[str], overlap_days: int) -> pl.DataFrame:
    """Per stored ticker: last and first date, row count, and the date `overlap_days` trading days before the last.

    One aggregate pass (no window over the history), so this stays fast on a 20-year, 3,000-ticker table.
    """
    if con is None or not tickers or not table_exists(con, "core.prices_daily"):
        return pl.DataFrame(schema=LAST_LOADED_SCHEMA)
    # One pass: max(date, k) keeps each ticker's k latest dates; overlap_start is the earliest of them inside
    # the window (the k-th latest, or the window's first date when the window holds fewer than k).
    frame = con.sql(
        """
        WITH wanted AS (SELECT unnest(?::VARCHAR[]) AS ticker)
        SELECT p.ticker, max(p.date) AS last_date, min(p.date) AS first_date, count(*) AS n_rows,
               list_min(list_filter(max(p.date, ?::INTEGER), lambda d: d >= max(p.date) - to_days(?::INTEGER)))
                   AS overlap_start
        FROM core.prices_daily AS p SEMI JOIN wanted USING (ticker)
        GROUP BY p.ticker
        ORDER BY p.ticker
        """,
        params=[list(tickers), overlap_days + 1, 2 * overlap_days + 14],
    ).pl()
    return frame.cast(LAST_LOADED_SCHEMA)


def read_stored_since(con: duckdb.DuckDBPyConnection | None, plan: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Stored (prices, corporate actions) of each planned ticker from its planned start: what the fetch overlaps."""
    empty = pl.DataFrame(schema=STORED_PRICE_SCHEMA), pl.DataFrame(schema=STORED_ACTION_SCHEMA)
    if con is None or plan.is_empty() or not table_exists(con, "core.prices_daily"):
        return empty
    view = f"_jevons_plan_{uuid.uuid4().hex}"
    con.register(view, plan.select("ticker", "start").to_arrow())
    try:
        prices = con.sql(
            f"SELECT p.ticker, p.date, p.close, p.adj_close FROM core.prices_daily AS p "
            f"JOIN {view} AS w ON p.ticker = w.ticker AND p.date >= w.start"
        ).pl()
        actions = empty[1]
        if table_exists(con, "core.corporate_actions"):
            actions = con.sql(
                f"SELECT a.ticker, a.date, a.kind, a.value FROM core.corporate_actions AS a "
                f"JOIN {view} AS w ON a.ticker = w.ticker AND a.date >= w.start"
            ).pl()
    finally:
        con.unregister(view)
    return prices.cast(STORED_PRICE_SCHEMA), actions.cast(STORED_ACTION_SCHEMA)


def _complete_refetch(refetched: pl.DataFrame, stored: pl.DataFrame) -> pl.DataFrame:
    """Restated tickers whose refetched history covers what is stored, so replacing it loses nothing.

    Covering means starting within a week of the stored first date and holding at least 90% as many rows.
    """
    got = refetched.group_by("ticker").agg(pl.col("date").min().alias("got_first"), pl.len().alias("got_rows"))
    return (
        stored.join(got, on="ticker", how="left")
        .filter(
            (pl.col("got_first") <= pl.col("first_date") + timedelta(days=7))
            & (pl.col("got_rows") >= 0.9 * pl.col("n_rows"))
        )
        .select("ticker")
    )


def plan_fetch(
    last: pl.DataFrame,
    wanted: Sequence[str],
    start: date | None,
    history_start: date,
    overlap_days: int,
    today: date,
) -> pl.DataFrame:
    """(ticker, start) per wanted ticker: from `start` for all when given (a backfill), else incrementally."""
    if start is not None:
        return pl.DataFrame({"ticker": list(wanted)}, schema={"ticker": pl.String()}).with_columns(
            pl.lit(start).alias("start")
        )
    return plan_price_fetch(last, wanted, history_start, overlap_days, today).select("ticker", "start")


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
