"""Shaping mart frames for the impact report's charts and tables: pure polars, no I/O, no plotting.

Every function takes frames read from the marts (marts.event_impact, marts.abnormal_returns,
marts.group_impact when present, marts.electricity_demand_daily, marts.jevons_check) and the catalog
(core.ai_events) and returns frames whose numbers are the marts' own or simple aggregates of them (means,
cross-sectional standard errors), so the report never computes an estimate the warehouse does not hold.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

import polars as pl

from transforms.event_study.contract import MIN_GROUP_TICKERS

POWER_GROUP = "independent_power"
ALWAYS_EVENTS: tuple[str, ...] = ("deepseek_selloff",)
RECENT_EFFICIENCY_EVENTS = 6
Z_95 = 1.96
DEMAND_REGIONS: tuple[tuple[str, str, str], ...] = (
    # (label, respondent, subba): the data-centre regions of marts.jevons_check
    ("DOM", "PJM", "DOM"),
    ("ERCO", "ERCO", ""),
    ("US48", "US48", ""),
)
DEMAND_DAYS_BEFORE = 42
DEMAND_DAYS_AFTER = 91
PREVIOUS_YEAR_DAYS = 365  # the same whole-day shift marts.electricity_impact compares with


@dataclass(frozen=True)
class EventSelection:
    """The events a report shows, and the requested ones it cannot show (no results) with the reason."""

    event_ids: list[str]
    without_results: dict[str, str]


def _with_results(impact: pl.DataFrame) -> pl.DataFrame:
    """event_id, day0 of events with at least one day-0 CAR."""
    return (
        impact.filter((pl.col("window_start") == 0) & (pl.col("window_end") == 0) & pl.col("car").is_not_null())
        .group_by("event_id")
        .agg(pl.col("day0").min())
    )


def select_events(
    events: pl.DataFrame,
    impact: pl.DataFrame,
    requested: Sequence[str] | None = None,
    n_recent: int = RECENT_EFFICIENCY_EVENTS,
    always: Sequence[str] = ALWAYS_EVENTS,
) -> EventSelection:
    """Requested events in the given order, or by default the `n_recent` most recent efficiency events with
    results plus `always` (when they have results), oldest first. Unknown ids are the caller's to refuse."""
    done = _with_results(impact)
    have = set(done["event_id"].to_list())
    if requested:
        ids = list(dict.fromkeys(requested))
        missing = {e: "no event-study results (see marts.event_skips)" for e in ids if e not in have}
        return EventSelection([e for e in ids if e in have], missing)
    eff = (
        events.filter(pl.col("category") == "efficiency")
        .join(done, on="event_id")
        .sort(["day0", "event_date", "event_id"])
    )
    chosen = set(eff.tail(n_recent)["event_id"].to_list()) | (set(always) & have)
    ordered = (
        done.filter(pl.col("event_id").is_in(sorted(chosen)))
        .join(events.select("event_id", "event_date"), on="event_id", how="left")
        .sort(["day0", "event_date", "event_id"])
    )
    return EventSelection(ordered["event_id"].to_list(), {})


def ticker_groups(impact: pl.DataFrame) -> pl.DataFrame:
    """(event_id, ticker, group) as marts.event_impact records them."""
    return impact.select("event_id", "ticker", "group").unique().sort("event_id", "ticker")


def car_bands(abnormal: pl.DataFrame, groups: pl.DataFrame, z: float = Z_95) -> pl.DataFrame:
    """Mean CAR across a group's tickers per rel_day, its cross-sectional standard error (sample standard
    deviation / sqrt(n)) and the band mean ± z·se; the band is null where a group has one ticker."""
    return (
        abnormal.filter(pl.col("car").is_not_null())
        .join(groups, on=["event_id", "ticker"], how="inner")
        .group_by("event_id", "group", "rel_day")
        .agg(
            pl.len().alias("n"),
            pl.col("car").mean().alias("mean_car"),
            (pl.col("car").std(ddof=1) / pl.len().cast(pl.Float64).sqrt()).alias("se"),
        )
        .with_columns(
            (pl.col("mean_car") - z * pl.col("se")).alias("lower"),
            (pl.col("mean_car") + z * pl.col("se")).alias("upper"),
        )
        .sort("event_id", "group", "rel_day")
    )


def day0_moves(impact: pl.DataFrame, event_id: str) -> pl.DataFrame:
    """One event's day-0 abnormal return per ticker, most negative first."""
    return (
        impact.filter(
            (pl.col("event_id") == event_id)
            & (pl.col("window_start") == 0)
            & (pl.col("window_end") == 0)
            & pl.col("car").is_not_null()
        )
        .select("ticker", "group", "raw_return", "car", "car_t", "p_value")
        .sort("car", "ticker")
    )


def group_caar(
    impact: pl.DataFrame,
    group: str = POWER_GROUP,
    window: tuple[int, int] = (0, 1),
    group_impact: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """event_id, n, caar, n_below_min of one group over one window: from marts.group_impact when given, else the
    mean of `car` over the group's tickers in marts.event_impact (n_below_min: n < MIN_GROUP_TICKERS)."""
    if group_impact is not None:
        below = pl.col("n_below_min") if "n_below_min" in group_impact.columns else pl.col("n") < MIN_GROUP_TICKERS
        return group_impact.filter(
            (pl.col("group") == group) & (pl.col("window_start") == window[0]) & (pl.col("window_end") == window[1])
        ).select("event_id", pl.col("n").cast(pl.Int64), pl.col("caar").cast(pl.Float64), below.alias("n_below_min"))
    return (
        impact.filter(
            (pl.col("group") == group)
            & (pl.col("window_start") == window[0])
            & (pl.col("window_end") == window[1])
            & pl.col("car").is_not_null()
        )
        .group_by("event_id")
        .agg(pl.len().cast(pl.Int64).alias("n"), pl.col("car").mean().alias("caar"))
        .with_columns((pl.col("n") < MIN_GROUP_TICKERS).alias("n_below_min"))
    )


def timeline(
    events: pl.DataFrame,
    impact: pl.DataFrame,
    group: str = POWER_GROUP,
    window: tuple[int, int] = (0, 1),
    group_impact: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Every catalog event (oldest first) with its day 0 and the group's window CAAR (null without results)."""
    day0 = impact.group_by("event_id").agg(pl.col("day0").min())
    return (
        events.select("event_id", "event_date", "name", "category")
        .join(day0, on="event_id", how="left")
        .join(group_caar(impact, group, window, group_impact), on="event_id", how="left")
        .sort("event_date", "event_id")
    )


def headline(
    events: pl.DataFrame,
    impact: pl.DataFrame,
    event_ids: Sequence[str],
    group_impact: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Per selected event: name, day 0, the power group's day-0 and [0,+1] CAAR, and the largest day-0 fall."""
    order = pl.DataFrame({"event_id": list(event_ids), "order": list(range(len(event_ids)))})
    day0 = impact.group_by("event_id").agg(pl.col("day0").min())
    worst = (
        impact.filter((pl.col("window_start") == 0) & (pl.col("window_end") == 0) & pl.col("car").is_not_null())
        .sort("car", "ticker")
        .group_by("event_id", maintain_order=True)
        .first()
        .select("event_id", pl.col("ticker").alias("largest_fall_ticker"), pl.col("car").alias("largest_fall_car"))
    )
    caar0 = group_caar(impact, POWER_GROUP, (0, 0), group_impact).select(
        "event_id", caar_day0="caar", n_power_day0="n", n_below_min_day0="n_below_min"
    )
    caar01 = group_caar(impact, POWER_GROUP, (0, 1), group_impact).rename(
        {"n": "n_power", "caar": "caar_0_1", "n_below_min": "n_below_min_0_1"}
    )
    return (
        order.join(events.select("event_id", "name", "category"), on="event_id", how="left")
        .join(day0, on="event_id", how="left")
        .join(caar01, on="event_id", how="left")
        .join(caar0, on="event_id", how="left")
        .join(worst, on="event_id", how="left")
        .sort("order")
        .drop("order")
    )


def demand_around(
    demand_daily: pl.DataFrame,
    events: pl.DataFrame,
    event_ids: Sequence[str],
    regions: Sequence[tuple[str, str, str]] = DEMAND_REGIONS,
    days_before: int = DEMAND_DAYS_BEFORE,
    days_after: int = DEMAND_DAYS_AFTER,
) -> pl.DataFrame:
    """Daily demand (type D) of each region from `days_before` before to `days_after` after each event's date,
    with the same calendar window one year earlier (365 days, as marts.electricity_impact) beside it.

    Columns: event_id, event_date, region, date_local, offset_days, value_mwh, prev_year_mwh."""
    region_map = pl.DataFrame(
        {"region": [r[0] for r in regions], "respondent": [r[1] for r in regions], "subba": [r[2] for r in regions]}
    )
    daily = demand_daily.filter(pl.col("type") == "D").join(region_map, on=["respondent", "subba"], how="inner")
    daily = daily.select("region", "date_local", "value_mwh")
    ev = events.filter(pl.col("event_id").is_in(list(event_ids))).select("event_id", "event_date")
    if daily.is_empty() or ev.is_empty():
        return pl.DataFrame(
            schema={
                "event_id": pl.String,
                "event_date": pl.Date,
                "region": pl.String,
                "date_local": pl.Date,
                "offset_days": pl.Int64,
                "value_mwh": pl.Float64,
                "prev_year_mwh": pl.Float64,
            }
        )
    prev = daily.select(
        "region",
        (pl.col("date_local") + timedelta(days=PREVIOUS_YEAR_DAYS)).alias("date_local"),
        pl.col("value_mwh").alias("prev_year_mwh"),
    )
    return (
        ev.join(daily, how="cross")
        .with_columns((pl.col("date_local") - pl.col("event_date")).dt.total_days().alias("offset_days"))
        .filter(pl.col("offset_days").is_between(-days_before, days_after))
        .join(prev, on=["region", "date_local"], how="left")
        .select("event_id", "event_date", "region", "date_local", "offset_days", "value_mwh", "prev_year_mwh")
        .sort("event_id", "region", "date_local")
    )


JEVONS_COLUMNS: tuple[str, ...] = (
    "event_id",
    "event_date",
    "power_n_tickers",
    "power_caar_day0",
    "power_caar_0_5",
    "demand_growth_change_3m_pp",
    "demand_growth_change_6m_pp",
    "n_regions_6m",
    "market_reaction",
    "demand_outcome",
    "verdict",
)


def jevons_table(jevons: pl.DataFrame) -> pl.DataFrame:
    """The Jevons check's headline columns, newest event first."""
    return jevons.select(JEVONS_COLUMNS).sort("event_date", "event_id", descending=True)
