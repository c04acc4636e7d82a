"""Demand series in the shape the weather models take, from the electricity marts and core tables.

* BA demand per local day (marts.electricity_demand_daily, type D): days with every hour reported but at most
  one (a lost DST hour or one EIA null), scaled to the day's length: `mwh`.
* Monthly BA demand: the mean of those days per month, `mwh_per_day`, for months with at least
  `min_day_fraction` of their days usable (a month of 27 good days is a month; of 10 is not).
* Retail sales (core.electricity_retail_sales_monthly): sales_mwh / days in the month, metric
  retail_sales_<sector>, the state as the region.
"""

from __future__ import annotations

import polars as pl

DEMAND_METRIC = "demand"
MIN_DAY_FRACTION = 0.9


def daily_demand(daily: pl.DataFrame) -> pl.DataFrame:
    """(region, metric, date, mwh) from marts.electricity_demand_daily rows (BA totals, type D)."""
    return (
        daily.filter(
            (pl.col("type") == "D")
            & (pl.col("subba") == "")
            & pl.col("value_mwh").is_not_null()
            & (pl.col("hours_reported") >= pl.col("hours_in_day") - 1)
        )
        .select(
            pl.col("respondent").alias("region"),
            pl.lit(DEMAND_METRIC).alias("metric"),
            pl.col("date_local").alias("date"),
            (pl.col("value_mwh") * pl.col("hours_in_day") / pl.col("hours_reported")).alias("mwh"),
        )
        .sort("region", "date")
    )


def monthly_demand(days: pl.DataFrame, min_day_fraction: float = MIN_DAY_FRACTION) -> pl.DataFrame:
    """(region, metric, month, mwh_per_day) from daily_demand() rows."""
    month = pl.col("date").dt.truncate("1mo").alias("month")
    return (
        days.group_by("region", "metric", month)
        .agg(pl.col("mwh").mean().alias("mwh_per_day"), pl.len().alias("n_days"))
        .filter(pl.col("n_days") >= min_day_fraction * pl.col("month").dt.month_end().dt.day())
        .select("region", "metric", "month", "mwh_per_day")
        .sort("region", "metric", "month")
    )


def retail_monthly(retail: pl.DataFrame) -> pl.DataFrame:
    """(region, metric, month, mwh_per_day) from core.electricity_retail_sales_monthly rows."""
    return (
        retail.filter(pl.col("sales_mwh").is_not_null())
        .select(
            pl.col("state").alias("region"),
            ("retail_sales_" + pl.col("sector")).alias("metric"),
            "month",
            (pl.col("sales_mwh") / pl.col("month").dt.month_end().dt.day()).alias("mwh_per_day"),
        )
        .sort("region", "metric", "month")
    )
