"""Electricity impact, as pure polars functions: hourly → local days, event windows, YoY growth, the Jevons check.

No I/O here: the flow reads core tables, these functions compute, the flow syncs the marts.

Design choices, and why:

* **Local days.** EIA-930 hourly periods are UTC and hour-ending. An hour belongs to the local day of its
  start (period_utc - 1 h, converted to the respondent's time zone), which gives 24 local hours a day (23/25
  on DST changes), as EIA's own daily data does. Each respondent has one time zone (`TIME_ZONES`: the BA's
  predominant clock); an unknown respondent falls back to UTC and is reported by `unknown_time_zones`.
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

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

import polars as pl

TIME_ZONES: dict[str, str] = {
    "US48": "America/New_York",
    "PJM": "America/New_York",
    "DUK": "America/New_York",
    "NYIS": "America/New_York",
    "ISNE": "America/New_York",
    "FPL": "America/New_York",
    "CPLE": "America/New_York",
    "SC": "America/New_York",
    "SCEG": "America/New_York",
    "ERCO": "America/Chicago",
    "MISO": "America/Chicago",
    "SWPP": "America/Chicago",
    "SOCO": "America/Chicago",
    "TVA": "America/Chicago",
    "AEC": "America/Chicago",
    "CISO": "America/Los_Angeles",
    "BPAT": "America/Los_Angeles",
    "PACW": "America/Los_Angeles",
    "LDWP": "America/Los_Angeles",
    "PACE": "America/Denver",
    "PSCO": "America/Denver",
    "AZPS": "America/Phoenix",
    "SRP": "America/Phoenix",
}
"""IANA time zone of each balancing authority's local day (its predominant clock; US48 uses Eastern, as EIA's
daily data defaults to). Sub-BAs use SUB_BA_TIME_ZONES, else their parent's zone."""

SUB_BA_TIME_ZONES: dict[str, str] = {"DOM": "America/New_York", "PGAE": "America/Los_Angeles"}

FALLBACK_TIME_ZONE = "UTC"
DEMAND_TYPE = "D"

DAILY_SCHEMA = pl.Schema(
    {
        "respondent": pl.String(),
        "subba": pl.String(),
        "type": pl.String(),
        "date_local": pl.Date(),
        "time_zone": pl.String(),
        "value_mwh": pl.Float64(),
        "hours_reported": pl.Int32(),
        "hours_in_day": pl.Int32(),
    }
)
"""marts.electricity_demand_daily columns."""

IMPACT_SCHEMA = pl.Schema(
    {
        "event_id": pl.String(),
        "event_date": pl.Date(),
        "region_type": pl.String(),
        "region": pl.String(),
        "metric": pl.String(),
        "window_unit": pl.String(),
        "window_length": pl.Int32(),
        "before_start": pl.Date(),
        "before_end": pl.Date(),
        "after_start": pl.Date(),
        "after_end": pl.Date(),
        "mean_before_mwh": pl.Float64(),
        "mean_after_mwh": pl.Float64(),
        "mean_before_prev_year_mwh": pl.Float64(),
        "mean_after_prev_year_mwh": pl.Float64(),
        "growth_before_yoy": pl.Float64(),
        "growth_after_yoy": pl.Float64(),
        "growth_change_pp": pl.Float64(),
        "n_before": pl.Int32(),
        "n_after": pl.Int32(),
        "n_before_prev_year": pl.Int32(),
        "n_after_prev_year": pl.Int32(),
        "status": pl.String(),
    }
)
"""marts.electricity_impact columns."""

PARTS = ("before", "after", "before_prev_year", "after_prev_year")
_MEAN_COL = {
    "before": "mean_before_mwh",
    "after": "mean_after_mwh",
    "before_prev_year": "mean_before_prev_year_mwh",
    "after_prev_year": "mean_after_prev_year_mwh",
}
_N_COL = {"before": "n_before", "after": "n_after", "before_prev_year": "n_before_prev_year",
          "after_prev_year": "n_after_prev_year"}


# ------------------------------------------------------------------------------------------- local days


def time_zone_for(respondent: str, subba: str, overrides: Mapping[str, str] | None = None) -> str | None:
    """The local time zone of a series: override, sub-BA zone, respondent zone; None when unknown."""
    overrides = overrides or {}
    if subba:
        if subba in overrides:
            return overrides[subba]
        if subba in SUB_BA_TIME_ZONES:
            return SUB_BA_TIME_ZONES[subba]
    return overrides.get(respondent) or TIME_ZONES.get(respondent)


def _series_time_zones(hourly: pl.DataFrame, overrides: Mapping[str, str] | None) -> pl.DataFrame:
    series = hourly.select("respondent", "subba").unique()
    zones = [time_zone_for(r, s, overrides) for r, s in series.iter_rows()]
    return series.with_columns(pl.Series("time_zone", zones, dtype=pl.String))


def unknown_time_zones(hourly: pl.DataFrame, overrides: Mapping[str, str] | None = None) -> list[str]:
    """Series (respondent or respondent/subba) whose local days fall back to UTC."""
    zones = _series_time_zones(hourly, overrides).filter(pl.col("time_zone").is_null())
    return sorted(f"{r}/{s}" if s else r for r, s, _ in zones.iter_rows())


def _hours_in_day(dates: pl.Series, tz: str) -> pl.DataFrame:
    """Length in hours of each local date in `tz` (23 or 25 on DST changes)."""
    frame = pl.DataFrame({"date_local": dates.unique()})

    def midnight(expr: pl.Expr) -> pl.Expr:
        return expr.cast(pl.Datetime("us")).dt.replace_time_zone(tz, ambiguous="earliest", non_existent="null")

    return frame.with_columns(
        (midnight(pl.col("date_local") + pl.duration(days=1)) - midnight(pl.col("date_local")))
        .dt.total_hours()
        .fill_null(24)
        .cast(pl.Int32)
        .alias("hours_in_day")
    )


def hourly_to_local_daily(
    hourly: pl.DataFrame, time_zones: Mapping[str, str] | None = None, types: Sequence[str] | None = (DEMAND_TYPE,)
) -> pl.DataFrame:
    """core.electricity_demand_hourly rows → marts.electricity_demand_daily rows (DAILY_SCHEMA).

    Hour-ending UTC periods go to the local date of (period_utc - 1 h). `time_zones` overrides the zone by
    respondent or sub-BA code. value_mwh is the sum of the day's non-null hours (NULL when none);
    hours_reported counts them and hours_in_day is the local day's length, so partial days are visible.
    """
    if types is not None:
        hourly = hourly.filter(pl.col("type").is_in(list(types)))
    if hourly.is_empty():
        return pl.DataFrame(schema=DAILY_SCHEMA)
    zones = _series_time_zones(hourly, time_zones).with_columns(pl.col("time_zone").fill_null(FALLBACK_TIME_ZONE))
    tagged = hourly.join(zones, on=["respondent", "subba"], how="left")
    parts: list[pl.DataFrame] = []
    for (tz,), part in tagged.partition_by("time_zone", as_dict=True, maintain_order=False).items():
        tz = str(tz)
        # Converting each distinct hour once and joining is ~5x faster than converting every row.
        hours = part.select(pl.col("period_utc").unique()).with_columns(
            (pl.col("period_utc") - pl.duration(hours=1)).dt.convert_time_zone(tz).dt.date().alias("date_local")
        )
        daily = (
            part.lazy()
            .join(hours.lazy(), on="period_utc", how="left")
            .group_by("respondent", "subba", "type", "date_local")
            .agg(
                pl.col("value_mwh").sum().alias("value_mwh"),
                pl.col("value_mwh").count().cast(pl.Int32).alias("hours_reported"),
            )
            .with_columns(
                pl.when(pl.col("hours_reported") > 0).then(pl.col("value_mwh")).alias("value_mwh"),
                pl.lit(tz).alias("time_zone"),
            )
            .collect()
        )
        parts.append(daily.join(_hours_in_day(daily["date_local"], tz), on="date_local", how="left"))
    return (
        pl.concat(parts, how="vertical")
        .select([pl.col(n).cast(t) for n, t in DAILY_SCHEMA.items()])
        .sort("respondent", "subba", "type", "date_local")
    )


# ---------------------------------------------------------------------------------------------- holidays


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """The n-th (1-based; -1 = last) given weekday (Mon=0) of a month."""
    if n > 0:
        first = date(year, month, 1)
        return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    last = (date(year + month // 12, month % 12 + 1, 1)) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def nerc_holidays(years: Iterable[int]) -> list[date]:
    """NERC off-peak holidays: New Year's, Memorial, Independence, Labor, Thanksgiving and Christmas Day.

    These are the days the power industry treats as off-peak (the fixed-date ones move to Monday when they
    fall on a Sunday; NERC does not observe Saturday holidays on Friday).
    """
    out: list[date] = []
    for y in years:
        for fixed in (date(y, 1, 1), date(y, 7, 4), date(y, 12, 25)):
            out.append(fixed + timedelta(days=1) if fixed.weekday() == 6 else fixed)
        out += [_nth_weekday(y, 5, 0, -1), _nth_weekday(y, 9, 0, 1), _nth_weekday(y, 11, 3, 4)]
    return sorted(out)


# ------------------------------------------------------------------------------------------------ impact


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
    return pl.DataFrame(
        rows, orient="row",
        schema={"event_id": pl.String, "event_date": pl.Date, "window_length": pl.Int32, "part": pl.String,
                "start": pl.Date, "end": pl.Date},
    )


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
    return pl.DataFrame(
        rows, orient="row",
        schema={"event_id": pl.String, "event_date": pl.Date, "window_length": pl.Int32, "part": pl.String,
                "start": pl.Date, "end": pl.Date},
    )


def _daily_observations(daily: pl.DataFrame, config: ImpactConfig) -> pl.DataFrame:
    """Usable demand days: (region_type, region, date, value normalised to 24 h), holidays and short days out."""
    demand = daily.filter(
        (pl.col("type") == DEMAND_TYPE)
        & pl.col("value_mwh").is_not_null()
        & (pl.col("hours_reported") >= config.min_hours_per_day)
    )
    if demand.is_empty():
        return pl.DataFrame(schema={"region_type": pl.String, "region": pl.String, "date": pl.Date,
                                    "value": pl.Float64})
    years = range(demand["date_local"].min().year, demand["date_local"].max().year + 1)  # type: ignore[union-attr]
    return demand.filter(~pl.col("date_local").is_in(nerc_holidays(years))).select(
        pl.when(pl.col("subba") == "").then(pl.lit("balancing_authority")).otherwise(pl.lit("sub_ba"))
        .alias("region_type"),
        pl.when(pl.col("subba") == "").then(pl.col("respondent")).otherwise(pl.col("subba")).alias("region"),
        pl.col("date_local").alias("date"),
        (pl.col("value_mwh") / pl.col("hours_reported") * 24.0).alias("value"),
    )


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
        pl.col("value").mean().alias("wd_mean"), pl.len().alias("wd_n")
    )
    means = by_weekday.group_by(keys).agg(
        pl.col("wd_mean").mean().alias("mean"),
        pl.col("wd_n").sum().cast(pl.Int32).alias("n"),
        pl.len().alias("weekdays"),
    )
    return means.join(eligible, on=["event_id", "window_length", "part"], how="left").with_columns(
        pl.when(
            (pl.col("weekdays") == 7)
            & (pl.col("n") >= (pl.col("eligible").cast(pl.Float64) * config.min_day_coverage).ceil())
        )
        .then(pl.col("mean"))
        .alias("mean")
    ).select(*keys, "mean", "n")


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
    return joined.group_by(keys).agg(
        pl.col("value").mean().alias("mean"), pl.len().cast(pl.Int32).alias("n")
    ).with_columns(pl.when(pl.col("n") == pl.col("window_length")).then(pl.col("mean")).alias("mean"))


def _assemble(
    grid: pl.DataFrame, means: pl.DataFrame, windows: pl.DataFrame, last_dates: pl.DataFrame, unit: str,
    metric_keys: Sequence[str],
) -> pl.DataFrame:
    """One row per (event, region, metric, L): four window means side by side, growth and status."""
    keys = ["region_type", "region", *metric_keys]
    wide_windows = windows.pivot(on="part", index=["event_id", "event_date", "window_length"],
                                 values=["start", "end"], aggregate_function="first")
    span_cols = {
        "start_before": "before_start", "end_before": "before_end",
        "start_after": "after_start", "end_after": "after_end",
    }
    wide_windows = wide_windows.select("event_id", "event_date", "window_length",
                                       *[pl.col(a).alias(b) for a, b in span_cols.items()])
    out = grid.join(wide_windows, on="event_id", how="inner")
    for part in PARTS:
        part_means = means.filter(pl.col("part") == part).select(
            *keys, "event_id", "window_length",
            pl.col("mean").alias(_MEAN_COL[part]), pl.col("n").alias(_N_COL[part]),
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
        pl.when(complete).then(pl.lit("ok"))
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
    return (
        pl.concat([f.select([pl.col(n).cast(t) for n, t in IMPACT_SCHEMA.items()]) for f in frames])
        .sort("event_date", "event_id", "region_type", "region", "metric", "window_unit", "window_length")
    )


# ------------------------------------------------------------------------------------------ jevons check


@dataclass(frozen=True)
class RegionHorizon:
    """Where one jevons_check column reads its growth change from."""

    column: str
    region_type: str
    region: str
    metric: str
    window_unit: str
    window_length: int


def _default_regions() -> tuple[RegionHorizon, ...]:
    out = []
    for label, rtype, region, metric in (
        ("dom", "sub_ba", "DOM", "demand"),
        ("erco", "balancing_authority", "ERCO", "demand"),
        ("us48", "balancing_authority", "US48", "demand"),
        ("va_sales", "state", "VA", "retail_sales_COM"),
    ):
        for horizon, days, months in (("3m", 91, 3), ("6m", 182, 6)):
            unit, length = ("month", months) if rtype == "state" else ("day", days)
            out.append(RegionHorizon(f"{label}_growth_change_{horizon}_pp", rtype, region, metric, unit, length))
    return tuple(out)


@dataclass(frozen=True)
class JevonsConfig:
    """Which stock group, model and regions the check reads, and the verdict thresholds."""

    power_group: str = "independent_power"
    model: str = "market"
    caar_threshold: float = 0.02
    slowed_threshold_pp: float = -1.0
    regions: tuple[RegionHorizon, ...] = field(default_factory=_default_regions)


JEVONS_SCHEMA = pl.Schema(
    {
        "event_id": pl.String(),
        "event_date": pl.Date(),
        "event_name": pl.String(),
        "power_group": pl.String(),
        "power_n_tickers": pl.Int32(),
        "power_caar_day0": pl.Float64(),
        "power_caar_0_5": pl.Float64(),
        "dom_growth_change_3m_pp": pl.Float64(),
        "dom_growth_change_6m_pp": pl.Float64(),
        "erco_growth_change_3m_pp": pl.Float64(),
        "erco_growth_change_6m_pp": pl.Float64(),
        "us48_growth_change_3m_pp": pl.Float64(),
        "us48_growth_change_6m_pp": pl.Float64(),
        "va_sales_growth_change_3m_pp": pl.Float64(),
        "va_sales_growth_change_6m_pp": pl.Float64(),
        "demand_growth_change_3m_pp": pl.Float64(),
        "demand_growth_change_6m_pp": pl.Float64(),
        "n_regions_3m": pl.Int32(),
        "n_regions_6m": pl.Int32(),
        "market_reaction": pl.String(),
        "demand_outcome": pl.String(),
        "verdict": pl.String(),
    }
)
"""marts.jevons_check columns."""


def _caar(event_impact: pl.DataFrame, config: JevonsConfig, start: int, end: int, name: str) -> pl.DataFrame:
    return (
        event_impact.filter(
            (pl.col("group") == config.power_group) & (pl.col("model") == config.model)
            & (pl.col("window_start") == start) & (pl.col("window_end") == end) & pl.col("car").is_not_null()
        )
        .group_by("event_id")
        .agg(pl.col("car").mean().alias(name), pl.col("ticker").n_unique().cast(pl.Int32).alias(f"{name}_n"))
    )


def _market_reaction(caar_0_5: float | None, caar_day0: float | None, threshold: float) -> tuple[str, str]:
    value, label = (caar_0_5, "[0,+5]") if caar_0_5 is not None else (caar_day0, "day 0")
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "no_stock_data", "no stock impact computed for the power producers"
    figure = f"power producers' CAAR {label} {value * 100:+.1f}%"
    if value <= -threshold:
        return "feared_less_demand", f"market feared less demand ({figure})"
    if value >= threshold:
        return "expected_more_demand", f"market expected more demand ({figure})"
    return "little_reaction", f"market barely reacted ({figure})"


def _demand_outcome(change_6m: float | None, n6: int, change_3m: float | None, n3: int,
                    threshold_pp: float) -> tuple[str, str]:
    if change_6m is not None and n6 > 0:
        change, horizon, n = change_6m, "6 months", n6
    elif change_3m is not None and n3 > 0:
        change, horizon, n = change_3m, "3 months", n3
    else:
        return "not_enough_data_yet", "not enough data yet to tell whether demand growth slowed"
    figure = f"{change:+.1f} pp YoY growth over the following {horizon}, {n} region{'s' if n != 1 else ''}"
    if change <= threshold_pp:
        return "slowed", f"demand growth slowed ({figure})"
    return "did_not_slow", f"demand growth did not slow ({figure})"


def jevons_check(
    impact: pl.DataFrame, event_impact: pl.DataFrame, events: pl.DataFrame, config: JevonsConfig | None = None
) -> pl.DataFrame:
    """marts.jevons_check rows (JEVONS_SCHEMA): one per efficiency event, market fear vs demand outcome.

    `event_impact` is marts.event_impact (per-ticker CARs with their group); the group's CAAR is the mean CAR
    over its tickers. The demand changes are growth_change_pp of `impact` rows with status ok.
    """
    config = config or JevonsConfig()
    efficiency = events.filter(pl.col("category") == "efficiency").select(
        "event_id", "event_date", pl.col("name").alias("event_name")
    )
    if efficiency.is_empty():
        return pl.DataFrame(schema=JEVONS_SCHEMA)
    out = efficiency.with_columns(pl.lit(config.power_group).alias("power_group"))
    if event_impact.is_empty():
        out = out.with_columns(
            pl.lit(None, pl.Float64).alias("power_caar_day0"), pl.lit(None, pl.Float64).alias("power_caar_0_5"),
            pl.lit(0, pl.Int32).alias("power_n_tickers"),
        )
    else:
        day0 = _caar(event_impact, config, 0, 0, "power_caar_day0")
        five = _caar(event_impact, config, 0, 5, "power_caar_0_5")
        out = (
            out.join(day0, on="event_id", how="left").join(five, on="event_id", how="left")
            .with_columns(pl.col("power_caar_day0_n").fill_null(0).alias("power_n_tickers"))
        )
    ok = impact.filter(pl.col("status") == "ok")
    for rh in config.regions:
        values = ok.filter(
            (pl.col("region_type") == rh.region_type) & (pl.col("region") == rh.region)
            & (pl.col("metric") == rh.metric) & (pl.col("window_unit") == rh.window_unit)
            & (pl.col("window_length") == rh.window_length)
        ).select("event_id", pl.col("growth_change_pp").alias(rh.column))
        out = out.join(values, on="event_id", how="left")
    for horizon in ("3m", "6m"):
        cols = [rh.column for rh in config.regions if rh.column.endswith(f"_{horizon}_pp")]
        out = out.with_columns(
            pl.mean_horizontal(cols).alias(f"demand_growth_change_{horizon}_pp"),
            pl.sum_horizontal([pl.col(c).is_not_null() for c in cols]).cast(pl.Int32).alias(f"n_regions_{horizon}"),
        )
    reactions, outcomes, verdicts = [], [], []
    for row in out.iter_rows(named=True):
        reaction, reaction_text = _market_reaction(row["power_caar_0_5"], row["power_caar_day0"], config.caar_threshold)
        outcome, outcome_text = _demand_outcome(
            row["demand_growth_change_6m_pp"], row["n_regions_6m"], row["demand_growth_change_3m_pp"],
            row["n_regions_3m"], config.slowed_threshold_pp,
        )
        reactions.append(reaction)
        outcomes.append(outcome)
        verdicts.append(f"{reaction_text[0].upper()}{reaction_text[1:]}; {outcome_text}.")
    out = out.with_columns(
        pl.Series("market_reaction", reactions, dtype=pl.String),
        pl.Series("demand_outcome", outcomes, dtype=pl.String),
        pl.Series("verdict", verdicts, dtype=pl.String),
    )
    for name, dtype in JEVONS_SCHEMA.items():
        if name not in out.columns:
            out = out.with_columns(pl.lit(None, dtype).alias(name))
    return out.select([pl.col(n).cast(t) for n, t in JEVONS_SCHEMA.items()]).sort("event_date", "event_id")
