"""Region weather from the seeds' weights: state degree days -> region degree days; zones -> region daily.

Degree days are combined as weighted sums of each area's degree days (not degree days of a weighted mean
temperature), which is how NOAA builds its population-weighted state and national degree days: an area's
heating need does not cancel another's cooling need. Where some areas are missing in a month or day, the
weights are renormalised over those present if they carry at least `min_coverage` of the weight; otherwise
the region has no value then. A region none of whose areas have data is a recorded note, never an error.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

BASE_F = 65.0
"""Degree-day base temperature, °F (NOAA's convention, also used for the daily zone temperatures)."""

MIN_COVERAGE = 0.75
"""Least share of a region's weight that must report for the region to have weather that month or day."""


@dataclass(frozen=True)
class WeatherNote:
    """A non-fatal problem met by a transform (the flow records it as an ops warning)."""

    subject: str
    code: str
    message: str


def region_degree_days(
    degree_days: pl.DataFrame, region_states: pl.DataFrame, min_coverage: float = MIN_COVERAGE
) -> tuple[pl.DataFrame, list[WeatherNote]]:
    """Monthly region degree days per day: (region, month, hdd_per_day, cdd_per_day, coverage).

    `degree_days` is core.weather_degree_days_monthly (area, month, hdd_degf_days, cdd_degf_days, ...);
    `region_states` the seed weather_region_states (region, area, weight). Per day = month total / days.
    """
    joined = region_states.select("region", "area", "weight").join(
        degree_days.filter(pl.col("hdd_degf_days").is_not_null() & pl.col("cdd_degf_days").is_not_null()).select(
            "area", "month", "hdd_degf_days", "cdd_degf_days"
        ),
        on="area",
        how="inner",
    )
    with_data = set(joined["region"].unique().to_list())
    notes = [
        WeatherNote(
            str(r),
            "no_degree_days",
            f"region {r}: none of its areas ({', '.join(sorted(a))}) have NOAA degree days; no weather model for it",
        )
        for r, a in region_states.group_by("region").agg(pl.col("area")).sort("region").iter_rows()
        if r not in with_data
    ]
    days = pl.col("month").dt.month_end().dt.day().cast(pl.Float64)
    out = (
        joined.group_by("region", "month")
        .agg(
            pl.col("weight").sum().alias("coverage"),
            (pl.col("hdd_degf_days") * pl.col("weight")).sum().alias("hdd"),
            (pl.col("cdd_degf_days") * pl.col("weight")).sum().alias("cdd"),
        )
        .filter(pl.col("coverage") >= min_coverage - 1e-12)
        .select(
            "region",
            "month",
            (pl.col("hdd") / pl.col("coverage") / days).alias("hdd_per_day"),
            (pl.col("cdd") / pl.col("coverage") / days).alias("cdd_per_day"),
            "coverage",
        )
        .sort("region", "month")
    )
    partial = out.filter(pl.col("coverage") < 1 - 1e-9)
    if not partial.is_empty():
        notes.append(
            WeatherNote(
                "weather_region_states",
                "partial_coverage",
                f"{partial.height} region-months with some areas missing (weights renormalised)",
            )
        )
    return out, notes


def region_daily_weather(
    weather_daily: pl.DataFrame, region_zones: pl.DataFrame, min_coverage: float = MIN_COVERAGE
) -> tuple[pl.DataFrame, list[WeatherNote]]:
    """Daily region weather: (region, date, tmean_f, hdd, cdd, coverage), degree days in °F·day, base 65 °F.

    `weather_daily` is core.weather_daily (iso, zone, date, tmean_c, ...); `region_zones` the seed
    weather_region_zones (region, iso, zone, weight). Each zone's degree days are computed from its own mean
    temperature, then weighted.
    """
    zones = weather_daily.filter(pl.col("tmean_c").is_not_null()).select(
        "iso", "zone", "date", (pl.col("tmean_c") * 9.0 / 5.0 + 32.0).alias("tmean_f")
    )
    joined = region_zones.select("region", "iso", "zone", "weight").join(zones, on=["iso", "zone"], how="inner")
    present = set(joined["region"].unique().to_list())
    notes = [
        WeatherNote(
            str(r),
            "no_zone_temperatures",
            f"region {r}: none of its weather zones have daily temperatures; no daily model for it",
        )
        for r in sorted(set(region_zones["region"].unique().to_list()) - present)
    ]
    out = (
        joined.group_by("region", "date")
        .agg(
            pl.col("weight").sum().alias("coverage"),
            (pl.col("tmean_f") * pl.col("weight")).sum().alias("t"),
            ((BASE_F - pl.col("tmean_f")).clip(lower_bound=0.0) * pl.col("weight")).sum().alias("h"),
            ((pl.col("tmean_f") - BASE_F).clip(lower_bound=0.0) * pl.col("weight")).sum().alias("c"),
        )
        .filter(pl.col("coverage") >= min_coverage - 1e-12)
        .select(
            "region",
            "date",
            (pl.col("t") / pl.col("coverage")).alias("tmean_f"),
            (pl.col("h") / pl.col("coverage")).alias("hdd"),
            (pl.col("c") / pl.col("coverage")).alias("cdd"),
            "coverage",
        )
        .sort("region", "date")
    )
    partial = out.filter(pl.col("coverage") < 1 - 1e-9)
    if not partial.is_empty():
        notes.append(
            WeatherNote(
                "weather_region_zones",
                "partial_coverage",
                f"{partial.height} region-days with some zones missing (weights renormalised)",
            )
        )
    return out, notes
