"""marts.electricity_impact: demand and retail sales before vs after each event, against a year earlier.

Design choices, and why:

* **Weekday- and holiday-aware windows.** Demand has a strong weekly cycle and holiday dips. A window's mean
  is weekday-balanced (the mean of its seven weekday means), so neither a few missing days nor a different
  weekday mix a year earlier can tilt it toward weekends, and NERC holidays are left out. That frees the
  year-earlier windows to follow the season instead of the weekdays: they are centred 365 days before the
  event, the whole-day shift closest to the solar year (0.24 days off). A 364-day (52-week) shift is 1.24
  days off and a same-calendar-date shift 0.76 days off across a 29 February; on a steep seasonal ramp that
  alone moved simulated growth changes by about 0.4 pp. Days with fewer than `min_hours_per_day` reported
  hours are left out, and daily totals are normalised to 24 hours so DST days weigh like the rest.
* **Growth, not levels.** Demand is seasonal and trending, so the impact is the change in year-over-year
  growth: growth after (vs a year earlier) minus growth before (vs a year earlier), in percentage points.
  A planted level step of s% on day 0 shows up as about s pp (`tests/test_electricity_impact.py`).
* **Windows exclude day 0 / month 0.** The event day (month) straddles the news; before = the L units
  before it, after = the L units after it.
* **Not weather-adjusted.** A hot summer moves demand growth by more than any plausible AI effect; the
  verdict is a first look, and `growth_change_pp` should be read next to weather-normalised sources.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import polars as pl

from transforms.electricity.calendar import nerc_holidays
from transforms.electricity.local_days import DEMAND_TYPE
from warehouse.registry import table

IMPACT_SCHEMA = table("marts.electricity_impact").polars_schema()
"""marts.electricity_impact rows, as the table registry defines them."""

PARTS = ("before", "after", "before_prev_year", "after_prev_year")
_MEAN_COL = {
    "before": "mean_before_mwh",
    "after": "mean_after_mwh",
    "before_prev_year": "mean_before_prev_year_mwh",
    "after_prev_year": "mean_after_prev_year_mwh",
}
_N_COL = {
    "before": "n_before",
    "after": "n_after",
    "before_prev_year": "n_before_prev_year",
    "after_prev_year": "n_after_prev_year",
}


@dataclass(frozen=True)
class ImpactConfig:
    """Windows and data-quality rules of marts.electricity_impact (see the module docstring)."""

    day_windows: tuple[int, ...] = (28, 91, 182)
    month_windows: tuple[int, ...] = (3, 6)
    year_shift_days: int = 365
    min_day_coverage: float = 0.8
    min_hours_per_day: int = 20


def _month_add(day: date, months: int) -> date:
    index = day.year * 12 + (day.month - 1) + months
    return date(index // 12, index % 12 + 1, 1)


WINDOW_SCHEMA = pl.Schema(
    {
        "event_id": pl.String,
        "event_date": pl.Date,
        "window_length": pl.Int32,
        "part": pl.String,
        "start": pl.Date,
        "end": pl.Date,
    }
)
"""(event, window length, part, first day, last day): the day and month windows' shared shape."""


def _day_windows(events: pl.DataFrame, config: ImpactConfig) -> pl.DataFrame:
    """(event, L, part, start, end) for daily windows; the year-earlier ones centred year_shift_days earlier."""
    rows = []
    for event_id, d0 in events.select("event_id", "event_date").iter_rows():
        for length in config.day_windows:
            spans = {}
            for suffix, centre in (("", d0), ("_prev_year", d0 - timedelta(days=config.year_shift_days))):
                spans[f"before{suffix}"] = (centre - timedelta(days=length), centre - timedelta(days=1))
                spans[f"after{suffix}"] = (centre + timedelta(days=1), centre + timedelta(days=length))
            rows += [(event_id, d0, length, part, s, e) for part, (s, e) in spans.items()]
    return pl.DataFrame(rows, orient="row", schema=WINDOW_SCHEMA)


def _month_windows(events: pl.DataFrame, config: ImpactConfig) -> pl.DataFrame:
    """(event, L, part, start, end) for monthly windows (start/end are first/last days of months)."""
    rows = []
    for event_id, d0 in events.select("event_id", "event_date").iter_rows():
        m0 = date(d0.year, d0.month, 1)
        for length in config.month_windows:
            spans = {
                "before": (_month_add(m0, -length), m0 - timedelta(days=1)),
                "after": (_month_add(m0, 1), _month_add(m0, length + 1) - timedelta(days=1)),
            }
            spans["before_prev_year"] = (_month_add(m0, -length - 12), _month_add(m0, -12) - timedelta(days=1))
            spans["after_prev_year"] = (_month_add(m0, -11), _month_add(m0, length - 11) - timedelta(days=1))
            rows += [(event_id, d0, length, part, s, e) for part, (s, e) in spans.items()]
    return pl.DataFrame(rows, orient="row", schema=WINDOW_SCHEMA)


def _daily_observations(daily: pl.DataFrame, config: ImpactConfig) -> pl.DataFrame:
    """Usable demand days: (region_type, region, date, value normalised to 24 h), holidays and short days out."""
    demand = daily.filter(
        (pl.col("type") == DEMAND_TYPE)
        & pl.col("value_mwh").is_not_null()
        & (pl.col("hours_reported") >= config.min_hours_per_day)
    )
    if demand.is_empty():
        return pl.DataFrame(
            schema={"region_type": pl.String, "region": pl.String, "date": pl.Date, "value": pl.Float64}
        )
    years = range(demand["date_local"].min().year, demand["date_local"].max().year + 1)  # type: ignore[union-attr]
    return demand.filter(~pl.col("date_local").is_in(nerc_holidays(years))).select(
        pl.when(pl.col("subba") == "")
        .then(pl.lit("balancing_authority"))
        .otherwise(pl.lit("sub_ba"))
        .alias("region_type"),
        pl.when(pl.col("subba") == "").then(pl.col("respondent")).otherwise(pl.col("subba")).alias("region"),
        pl.col("date_local").alias("date"),
        (pl.col("value_mwh") / pl.col("hours_reported") * 24.0).alias("value"),
    )


MICRO = 1_000_000
"""Window sums are taken in integer micro-MWh: an integer sum is exact in any order, so a multi-threaded
join or group-by cannot change a mean's last bits from one run to the next (a re-run must leave the mart
identical); the rounding, 1e-6 MWh, is far below EIA's whole-MWh publication. Int64 holds 9.2e12 MWh."""


def _exact_mean(values: pl.Expr) -> pl.Expr:
    """Mean of a float column via an order-independent integer sum (see MICRO)."""
    return (values * MICRO).round().cast(pl.Int64).sum() / values.count() / MICRO


def _daily_part_means(obs: pl.DataFrame, windows: pl.DataFrame, config: ImpactConfig) -> pl.DataFrame:
    """Weekday-balanced mean and count per (region, event, L, part); NULL mean where coverage is short."""
    keys = ["region_type", "region", "event_id", "window_length", "part"]
    days = windows.with_columns(pl.date_ranges("start", "end").alias("date")).explode("date")
    all_years = range(windows["start"].min().year, windows["end"].max().year + 1)  # type: ignore[union-attr]
    holidays = nerc_holidays(all_years)
    eligible = (
        days.filter(~pl.col("date").is_in(holidays))
        .group_by("event_id", "window_length", "part")
        .agg(pl.len().alias("eligible"))
    )
    joined = days.select("event_id", "window_length", "part", "date").join(obs, on="date", how="inner")
    by_weekday = joined.group_by(*keys, pl.col("date").dt.weekday().alias("weekday")).agg(
        _exact_mean(pl.col("value")).alias("wd_mean"), pl.len().alias("wd_n")
    )
    means = by_weekday.group_by(keys).agg(
        _exact_mean(pl.col("wd_mean")).alias("mean"),
        pl.col("wd_n").sum().cast(pl.Int32).alias("n"),
        pl.len().alias("weekdays"),
    )
    return (
        means.join(eligible, on=["event_id", "window_length", "part"], how="left")
        .with_columns(
            pl.when(
                (pl.col("weekdays") == 7)
                & (pl.col("n") >= (pl.col("eligible").cast(pl.Float64) * config.min_day_coverage).ceil())
            )
            .then(pl.col("mean"))
            .alias("mean")
        )
        .select(*keys, "mean", "n")
    )


def _monthly_observations(monthly: pl.DataFrame) -> pl.DataFrame:
    return monthly.filter(pl.col("sales_mwh").is_not_null()).select(
        pl.lit("state").alias("region_type"),
        pl.col("state").alias("region"),
        ("retail_sales_" + pl.col("sector")).alias("metric"),
        pl.col("month").alias("date"),
        pl.col("sales_mwh").alias("value"),
    )


def _monthly_part_means(obs: pl.DataFrame, windows: pl.DataFrame) -> pl.DataFrame:
    """Mean monthly sales and count per (state, metric, event, L, part); NULL unless every month is present."""
    keys = ["region_type", "region", "metric", "event_id", "window_length", "part"]
    joined = windows.join_where(obs, pl.col("date") >= pl.col("start"), pl.col("date") <= pl.col("end"))
    return (
        joined.group_by(keys)
        .agg(_exact_mean(pl.col("value")).alias("mean"), pl.len().cast(pl.Int32).alias("n"))
        .with_columns(pl.when(pl.col("n") == pl.col("window_length")).then(pl.col("mean")).alias("mean"))
    )


def _assemble(
    grid: pl.DataFrame,
    means: pl.DataFrame,
    windows: pl.DataFrame,
    last_dates: pl.DataFrame,
    unit: str,
    metric_keys: Sequence[str],
) -> pl.DataFrame:
    """One row per (event, region, metric, L): four window means side by side, growth and status."""
    keys = ["region_type", "region", *metric_keys]
    wide_windows = windows.pivot(
        on="part",
        index=["event_id", "event_date", "window_length"],
        values=["start", "end"],
        aggregate_function="first",
    )
    span_cols = {
        "start_before": "before_start",
        "end_before": "before_end",
        "start_after": "after_start",
        "end_after": "after_end",
    }
    wide_windows = wide_windows.select(
        "event_id", "event_date", "window_length", *[pl.col(a).alias(b) for a, b in span_cols.items()]
    )
    out = grid.join(wide_windows, on="event_id", how="inner")
    for part in PARTS:
        part_means = means.filter(pl.col("part") == part).select(
            *keys,
            "event_id",
            "window_length",
            pl.col("mean").alias(_MEAN_COL[part]),
            pl.col("n").alias(_N_COL[part]),
        )
        out = out.join(part_means, on=[*keys, "event_id", "window_length"], how="left")
    out = out.join(last_dates, on=keys, how="left").with_columns(
        [pl.col(c).fill_null(0).cast(pl.Int32) for c in _N_COL.values()]
    )
    growth_before = pl.col("mean_before_mwh") / pl.col("mean_before_prev_year_mwh") - 1.0
    growth_after = pl.col("mean_after_mwh") / pl.col("mean_after_prev_year_mwh") - 1.0
    complete = pl.all_horizontal([pl.col(c).is_not_null() for c in _MEAN_COL.values()])
    return out.with_columns(
        growth_before.alias("growth_before_yoy"),
        growth_after.alias("growth_after_yoy"),
        ((growth_after - growth_before) * 100.0).alias("growth_change_pp"),
        pl.lit(unit).alias("window_unit"),
        pl.when(complete)
        .then(pl.lit("ok"))
        .when(pl.col("last_date").is_null() | (pl.col("after_end") > pl.col("last_date")))
        .then(pl.lit("after_window_not_over"))
        .otherwise(pl.lit("insufficient_data"))
        .alias("status"),
    )


def electricity_impact(
    daily: pl.DataFrame, monthly: pl.DataFrame, events: pl.DataFrame, config: ImpactConfig | None = None
) -> pl.DataFrame:
    """marts.electricity_impact rows (IMPACT_SCHEMA) for every event and every region with data.

    `daily` is marts.electricity_demand_daily (DAILY_SCHEMA); `monthly` is core.electricity_retail_sales_monthly;
    `events` needs event_id and event_date. Rows cover every (event, region, metric, window), including those
    whose windows lack data (NULL means, counts say how many observations there were, status says why).
    """
    config = config or ImpactConfig()
    if events.is_empty():
        return pl.DataFrame(schema=IMPACT_SCHEMA)
    events = events.select("event_id", "event_date").unique("event_id").sort("event_date", "event_id")
    frames: list[pl.DataFrame] = []

    obs = _daily_observations(daily, config)
    if not obs.is_empty() and config.day_windows:
        windows = _day_windows(events, config)
        means = _daily_part_means(obs, windows, config)
        regions = obs.group_by("region_type", "region").agg(pl.col("date").max().alias("last_date"))
        grid = regions.select("region_type", "region").join(events.select("event_id"), how="cross")
        part = _assemble(grid, means, windows, regions, "day", [])
        frames.append(part.with_columns(pl.lit("demand").alias("metric")))

    mobs = _monthly_observations(monthly)
    if not mobs.is_empty() and config.month_windows:
        windows = _month_windows(events, config)
        means = _monthly_part_means(mobs, windows)
        regions = mobs.group_by("region_type", "region", "metric").agg(
            pl.col("date").max().dt.month_end().alias("last_date")
        )
        grid = regions.select("region_type", "region", "metric").join(events.select("event_id"), how="cross")
        frames.append(_assemble(grid, means, windows, regions, "month", ["metric"]))

    if not frames:
        return pl.DataFrame(schema=IMPACT_SCHEMA)
    # columns other stages fill (the weather adjustment, transforms.weather.adjust) start NULL here
    typed = [
        [pl.col(n).cast(t) if n in f.columns else pl.lit(None, t).alias(n) for n, t in IMPACT_SCHEMA.items()]
        for f in frames
    ]
    return pl.concat([f.select(cols) for f, cols in zip(frames, typed, strict=True)]).sort(
        "event_date", "event_id", "region_type", "region", "metric", "window_unit", "window_length"
    )


def series_ends(daily: pl.DataFrame, monthly: pl.DataFrame) -> dict[tuple[str, str, str], str]:
    """(region_type, region, metric) -> the last date with data (a month's last day for sales), as text.

    The Jevons verdict uses it to say when a series stops before an event's after-window ends (e.g. US48
    in the shared files ends 2025-04-23), which the window status alone states only as a code."""
    demand = daily.filter((pl.col("type") == DEMAND_TYPE) & pl.col("value_mwh").is_not_null()).select(
        pl.when(pl.col("subba") == "").then(pl.lit("balancing_authority")).otherwise(pl.lit("sub_ba")).alias("rt"),
        pl.when(pl.col("subba") == "").then(pl.col("respondent")).otherwise(pl.col("subba")).alias("region"),
        pl.lit("demand").alias("metric"),
        pl.col("date_local").alias("date"),
    )
    sales = _monthly_observations(monthly).select(
        pl.col("region_type").alias("rt"), "region", "metric", pl.col("date").dt.month_end().alias("date")
    )
    ends = pl.concat([demand, sales]).group_by("rt", "region", "metric").agg(pl.col("date").max())
    return {(rt, region, metric): end.isoformat() for rt, region, metric, end in ends.iter_rows()}
