"""The report's weather section: per region, actual vs weather-normal monthly demand with the events marked,
and the Jevons check's weather-adjusted change next to the raw one.

Reads marts.weather_normalised_demand, marts.weather_models and marts.jevons_check (the weather-adjusted
columns) from the published warehouse; the chart is drawn by flows.report.weather_charts through the report's
chart cache (redrawn only when its data or drawing code changed). Regions shown: every BA with a monthly demand
model, and Virginia's commercial retail sales (the Jevons check's data-centre state series).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import duckdb
import polars as pl

from flows.report.cache import ChartCache
from flows.report.markup import esc, fmt_num, fmt_pp, note, table, td_day, td_num, td_txt, td_wide
from warehouse.introspect import table_exists

CHART_FILE = "weather_normal_demand.png"
CHART = "flows.report.weather_charts:chart_weather_normal"
STATE_SERIES = (("VA", "retail_sales_COM"),)
"""State retail-sales series charted beside the BAs' demand (the Jevons check's VA commercial sales)."""
JEVONS_WEATHER_HEADER = (
    "event",
    "event date",
    "raw change 3m",
    "raw change 6m",
    "weather-adjusted 3m",
    "weather-adjusted 6m",
    "regions adjusted (6m)",
    "lowest r²",
    "outcome (raw)",
    "outcome (weather-adjusted)",
    "weather-adjusted verdict",
    "not adjusted",
)


@dataclass(frozen=True)
class WeatherFrames:
    """What the weather section reads: normalised monthly demand, the monthly models, the Jevons check."""

    normalised: pl.DataFrame
    models: pl.DataFrame
    jevons: pl.DataFrame


def read_weather(con: duckdb.DuckDBPyConnection) -> WeatherFrames:
    """The section's frames; empty ones for a warehouse from before the weather tables (or columns)."""
    empty = pl.DataFrame()
    if not table_exists(con, "marts.weather_normalised_demand"):
        return WeatherFrames(empty, empty, empty)
    series = " OR ".join(["metric = 'demand'", *(f"(region = '{r}' AND metric = '{m}')" for r, m in STATE_SERIES)])
    normalised = con.sql(
        "SELECT region, metric, month, actual_mwh_per_day, weather_expected_mwh_per_day, "
        f"normal_weather_mwh_per_day, r2 FROM marts.weather_normalised_demand WHERE {series} "
        "ORDER BY region, metric, month"
    ).pl()
    models = con.sql(
        "SELECT region, metric, frequency, fit_start, fit_end, n_obs, r2, trend_pct_per_year, trend_pct_per_year_se "
        f"FROM marts.weather_models WHERE {series} ORDER BY region, metric, frequency"
    ).pl()
    columns = {
        r[0]
        for r in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE schema_name = 'marts' AND table_name = 'jevons_check'"
        ).fetchall()
    }
    jevons = (
        con.sql("SELECT * FROM marts.jevons_check ORDER BY event_date DESC, event_id DESC").pl()
        if "verdict_weather_adjusted" in columns
        else empty
    )
    return WeatherFrames(normalised, models, jevons)


def weather_section(
    frames: WeatherFrames, events: pl.DataFrame, event_ids: Sequence[str], charts: ChartCache, notes: list[str]
) -> str:
    """HTML of the weather section (its chart through `charts`); `events` is core.ai_events."""
    parts = ["<h2 id='weather-section'>Weather: demand with the weather taken out</h2>"]
    if frames.normalised.is_empty():
        parts.append(
            note(
                "No weather-normalised demand yet (<code>marts.weather_normalised_demand</code> is empty): run "
                "<code>jevons run --weather-from DIR</code> with NOAA's nClimDiv files, or with network access "
                "to NOAA, alongside electricity data."
            )
        )
        notes.append("no weather-normalised demand")
    else:
        parts.append(
            "<p>Monthly demand (MWh per day, mean of the month's days) as reported, and at normal weather: the "
            "monthly model <code>MWh/day ~ HDD/day + CDD/day + trend</code> (NOAA nClimDiv degree days, base "
            "65 °F, weighted by the region's states) removes the effect of the month's degree days departing from "
            "their 1991-2020 mean. Dotted lines mark the shown efficiency events.</p>"
        )
        shown = events.filter(pl.col("event_id").is_in(list(event_ids)) & (pl.col("category") == "efficiency"))
        marks = shown.select("event_id", "event_date").sort("event_date")
        parts.append(charts.add(CHART_FILE, "actual vs weather-normal monthly demand", CHART, frames.normalised, marks))
        monthly = frames.models.filter(pl.col("frequency") == "monthly")
        rows = [
            [
                td_txt(r["region"]),
                td_txt(r["metric"]),
                td_day(f"{r['fit_start']:%Y-%m} to {r['fit_end']:%Y-%m}"),
                td_num(str(r["n_obs"])),
                td_num(fmt_num(r["r2"], 3, signed=False)),
                td_num(f"{fmt_num(r['trend_pct_per_year'], 2)} ± {fmt_num(r['trend_pct_per_year_se'], 2, False)}"),
            ]
            for r in monthly.iter_rows(named=True)
        ]
        parts.append(
            "<p>The monthly models behind the chart (<code>marts.weather_models</code>): fit window, months, r² "
            "and the weather-adjusted trend in % per year (± its standard error). A low r² means the weather "
            "explains little of that series; its normal-weather line is then close to the actual one and the "
            "Jevons check does not adjust it (r² below 0.5).</p>"
        )
        parts.append(table("weather-models", ("region", "metric", "fit", "months", "r²", "trend %/yr"), rows))
    parts.append(jevons_weather_table(frames.jevons, notes))
    return "".join(parts)


def jevons_weather_table(jevons: pl.DataFrame, notes: list[str]) -> str:
    """The Jevons check with the weather-adjusted change next to the raw growth change."""
    if jevons.is_empty():
        notes.append("no weather-adjusted Jevons check")
        return note("<code>marts.jevons_check</code> has no weather-adjusted columns or rows yet.")
    rows = [
        [
            td_day(r["event_id"]),
            td_day(r["event_date"]),
            td_num(fmt_pp(r["demand_growth_change_3m_pp"])),
            td_num(fmt_pp(r["demand_growth_change_6m_pp"])),
            td_num(fmt_pp(r["adjusted_growth_change_3m_pp"])),
            td_num(fmt_pp(r["adjusted_growth_change_6m_pp"])),
            td_num(str(r["n_regions_adjusted_6m"] or 0)),
            td_num(fmt_num(r["weather_r2_min"], 2, signed=False)),
            td_txt(r["demand_outcome"]),
            td_txt(r["demand_outcome_weather_adjusted"]),
            td_wide(r["verdict_weather_adjusted"]),
            td_wide(r["weather_note"]),
        ]
        for r in jevons.iter_rows(named=True)
    ]
    return (
        "<p>The Jevons check with the weather taken out (<code>marts.jevons_check</code>): the raw change is "
        "the year-over-year growth change; the weather-adjusted one compares actual to weather-expected demand "
        "after the event against the same before it, with the model fitted on the 60 months before the event "
        "only (no look-ahead). Where no region could be adjusted, the raw verdict stands and the last column "
        f"says why. {esc('r²')} is the lowest of the models used.</p>"
        + table("jevons-weather", JEVONS_WEATHER_HEADER, rows)
    )
