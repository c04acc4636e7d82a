"""EIA API rows (string columns, as `client.EiaClient.fetch` returns them) → core-table rows.

Everything arrives as strings; values are cast to float, nulls stay null, and non-numeric strings become null
and are counted (the source records a warning). Retail sales are converted from million kWh and million
dollars to MWh and dollars. Rows repeated across pages are dropped by key, keeping the one fetched last.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from flows.sources.eia.query import ROUTE_SUB_BA
from warehouse.tables.electricity import DEMAND_HOURLY, RETAIL_SALES_MONTHLY

HOURLY_TABLE = DEMAND_HOURLY.qualified_name
MONTHLY_TABLE = RETAIL_SALES_MONTHLY.qualified_name

HOURLY_SCHEMA = DEMAND_HOURLY.polars_schema(
    exclude=("loaded_at",),
    # The three labels are Categorical, not the table's VARCHAR: a full backfill holds millions of rows of a
    # handful of codes, and as dictionary-encoded Arrow they cost about a third less memory in the frame and
    # in the load (they still land as VARCHAR).
    overrides={"respondent": pl.Categorical(), "subba": pl.Categorical(), "type": pl.Categorical()},
)
"""Columns and dtypes of core.electricity_demand_hourly rows a source returns (all but loaded_at)."""

MONTHLY_SCHEMA = RETAIL_SALES_MONTHLY.polars_schema(exclude=("loaded_at",))
"""Columns and dtypes of core.electricity_retail_sales_monthly rows (all but loaded_at)."""

MWH_PER_MILLION_KWH = 1_000.0
USD_PER_MILLION_USD = 1_000_000.0


@dataclass
class ParseStats:
    """What parsing dropped or nulled, for warnings."""

    rows_in: int = 0
    bad_periods: int = 0
    bad_values: int = 0
    duplicates: int = 0


def _to_float(column: str) -> pl.Expr:
    """A string column as float: nulls and blank strings stay null; other non-numbers become null too."""
    text = pl.col(column).str.strip_chars()
    return pl.when(text == "").then(None).otherwise(text).cast(pl.Float64, strict=False)


def _count_unparsed(raw: pl.DataFrame, parsed: pl.DataFrame, pairs: Sequence[tuple[str, str]]) -> int:
    """Rows where a non-blank source string did not parse (became null); both frames share row order."""
    bad = pl.Series("bad", [False] * raw.height, dtype=pl.Boolean)
    for src, dst in pairs:
        text = raw[src].str.strip_chars()
        bad = bad | (text.is_not_null() & (text != "") & parsed[dst].is_null()).fill_null(False)
    return int(bad.sum())


def _dedupe(frame: pl.DataFrame, key: Sequence[str], stats: ParseStats) -> pl.DataFrame:
    """Keep one row per key (the last fetched: pages come in offset order) and count the rest."""
    unique = frame.unique(subset=list(key), keep="last", maintain_order=True)
    stats.duplicates += frame.height - unique.height
    return unique


def parse_hourly(raw: pl.DataFrame, route: str) -> tuple[pl.DataFrame, ParseStats]:
    """Region-data or sub-BA string rows → core.electricity_demand_hourly rows (HOURLY_SCHEMA).

    Periods like `2024-01-01T05` are UTC hour-ending labels; rows whose period does not parse are dropped
    (counted). Region-data rows get subba ''; sub-BA rows keep the parent BA as respondent and type D.
    """
    stats = ParseStats(rows_in=raw.height)
    if route == ROUTE_SUB_BA:
        keyed = raw.select(
            pl.col("parent").alias("respondent"),
            pl.col("subba"),
            pl.col("period"),
            pl.lit("D").alias("type"),
            pl.col("value"),
        )
    else:
        keyed = raw.select(
            pl.col("respondent"), pl.lit("").alias("subba"), pl.col("period"), pl.col("type"), pl.col("value")
        )
    parsed = keyed.with_columns(
        (pl.col("period").str.strip_chars() + ":00")
        .str.to_datetime("%Y-%m-%dT%H:%M", time_zone="UTC", time_unit="us", strict=False)
        .alias("period_utc"),
        _to_float("value").alias("value_mwh"),
    )
    stats.bad_values = _count_unparsed(keyed, parsed, [("value", "value_mwh")])
    good = parsed.filter(
        pl.col("period_utc").is_not_null()
        & pl.col("respondent").is_not_null()
        & pl.col("type").is_not_null()
        & pl.col("subba").is_not_null()
    )
    stats.bad_periods = parsed.height - good.height
    frame = good.select([pl.col(n).cast(t) for n, t in HOURLY_SCHEMA.items()])
    return _dedupe(frame, ["respondent", "subba", "period_utc", "type"], stats), stats


def parse_retail(raw: pl.DataFrame) -> tuple[pl.DataFrame, ParseStats]:
    """Retail-sales string rows → core.electricity_retail_sales_monthly rows, converted to MWh and dollars."""
    stats = ParseStats(rows_in=raw.height)
    parsed = raw.with_columns(
        (pl.col("period").str.strip_chars() + "-01").str.to_date("%Y-%m-%d", strict=False).alias("month"),
        (_to_float("sales") * MWH_PER_MILLION_KWH).alias("sales_mwh"),
        _to_float("price").alias("price_cents_per_kwh"),
        (_to_float("revenue") * USD_PER_MILLION_USD).alias("revenue_usd"),
        _to_float("customers").round(0).cast(pl.Int64).alias("customers"),
    )
    stats.bad_values = _count_unparsed(
        raw,
        parsed,
        [
            ("sales", "sales_mwh"),
            ("price", "price_cents_per_kwh"),
            ("revenue", "revenue_usd"),
            ("customers", "customers"),
        ],
    )
    good = parsed.filter(
        pl.col("month").is_not_null() & pl.col("stateid").is_not_null() & pl.col("sectorid").is_not_null()
    )
    stats.bad_periods = parsed.height - good.height
    frame = good.select(
        pl.col("stateid").alias("state"),
        pl.col("sectorid").alias("sector"),
        *[pl.col(n) for n in list(MONTHLY_SCHEMA)[2:]],
    ).select([pl.col(n).cast(t) for n, t in MONTHLY_SCHEMA.items()])
    return _dedupe(frame, ["state", "sector", "month"], stats), stats
