"""The weather stage of the daily flow: weather models, normalised demand and the weather-adjusted impact.

Runs after the electricity marts are computed and before they are written (flows.daily's electricity task), so
marts.electricity_impact and marts.jevons_check are written once per run with their weather-adjusted columns
(a re-run touches no row). It reads what the warehouse holds: NOAA degree days and zone temperatures
(core.weather_*; loaded this run or earlier, from `--weather-from DIR` or the live NOAA path), the run's daily
BA demand (marts.electricity_demand_daily, in memory) and retail sales (core.electricity_retail_sales_monthly),
and the region weights (seeds weather_region_states.csv, weather_region_zones.csv). Every note of the
transforms (a region without degree days, a series too short to fit) becomes an ops warning of stage `weather`;
no weather data at all is one warning and leaves the adjusted columns `no_weather_model`, never a failure.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import duckdb
import polars as pl
from prefect import task
from prefect.cache_policies import NO_CACHE

from flows.electricity import ElectricityMarts
from flows.sources.base import SourceWarning
from transforms.weather.adjust import weather_verdict, with_weather_adjustment
from transforms.weather.impact import weather_adjusted_impact
from transforms.weather.marts import WeatherMarts, weather_marts
from transforms.weather.models import monthly_observations
from transforms.weather.series import daily_demand, monthly_demand, retail_monthly
from warehouse import seed_regions
from warehouse.introspect import table_exists
from warehouse.load import LoadResult, sync
from warehouse.tables.electricity import RETAIL_SALES_MONTHLY
from warehouse.tables.weather import DEGREE_DAYS_MONTHLY, WEATHER_DAILY, WEATHER_MODELS, WEATHER_NORMALISED_DEMAND

STAGE = "weather"
WINDOW_MONTHS = (3, 6)
"""Monthly windows of the adjusted change: marts.electricity_impact's month windows (and its 91/182 days)."""
ELECTRICITY_DIGITS = 10
"""Significant digits of the electricity marts' floats as written (see `_stable`)."""


@dataclass
class WeatherStage:
    """The electricity marts with their weather columns, the weather marts' loads and the stage's warnings."""

    electricity: ElectricityMarts
    loads: list[LoadResult]
    warnings: list[SourceWarning]
    marts: WeatherMarts | None


def _read(con: duckdb.DuckDBPyConnection, name: str, schema: pl.Schema) -> pl.DataFrame:
    if not table_exists(con, name):
        return pl.DataFrame(schema=schema)
    return con.sql(f"SELECT * EXCLUDE (loaded_at) FROM {name}").pl()


def _stable(frame: pl.DataFrame, digits: int = 12) -> pl.DataFrame:
    """Floats to `digits` significant digits, so a re-run's marts compare equal to the stored ones (0 updated).

    The electricity marts pass through here with 10 digits: their window means are multi-threaded sums whose
    last bits differ from run to run, and at 12 digits a value now and then straddles a rounding boundary
    (measured: 1 row in 17,748 on the real files). 10 digits is still far below EIA's 1 MWh precision."""
    floats = [name for name, dtype in frame.schema.items() if dtype.is_float()]
    return frame.with_columns(pl.col(floats).round_sig_figs(digits))


def compute_weather(con: duckdb.DuckDBPyConnection, electricity: ElectricityMarts) -> WeatherStage:
    """The weather marts and the adjusted electricity marts, from the (staged) warehouse; writes nothing."""
    degree_days = _read(
        con, DEGREE_DAYS_MONTHLY.qualified_name, DEGREE_DAYS_MONTHLY.polars_schema(exclude=("loaded_at",))
    )
    zone_days = _read(con, WEATHER_DAILY.qualified_name, WEATHER_DAILY.polars_schema(exclude=("loaded_at",)))
    if degree_days.is_empty():
        warning = SourceWarning(
            STAGE,
            DEGREE_DAYS_MONTHLY.qualified_name,
            "no_weather_data",
            "no NOAA degree days in the warehouse: no weather models, electricity impact not weather-adjusted "
            "(run with --weather-from DIR or with network access to NOAA)",
        )
        impact = _stable(with_weather_adjustment(electricity.impact, None), ELECTRICITY_DIGITS)
        jevons = _stable(weather_verdict(electricity.jevons, impact), ELECTRICITY_DIGITS)
        return WeatherStage(replace(electricity, impact=impact, jevons=jevons), [], [warning], None)
    days = daily_demand(electricity.daily)
    retail = con.sql(f"SELECT state, sector, month, sales_mwh FROM {RETAIL_SALES_MONTHLY.qualified_name}").pl()
    monthly = pl.concat([monthly_demand(days), retail_monthly(retail)])
    marts = weather_marts(
        degree_days,
        seed_regions.read_weather_region_states(),
        monthly,
        zone_days,
        seed_regions.read_weather_region_zones(),
        days,
    )
    events = con.sql("SELECT event_id, event_date FROM core.ai_events").pl()
    adjusted = weather_adjusted_impact(
        monthly_observations(monthly, marts.region_monthly_weather), events, WINDOW_MONTHS
    )
    impact = _stable(with_weather_adjustment(electricity.impact, adjusted), ELECTRICITY_DIGITS)
    jevons = _stable(weather_verdict(electricity.jevons, impact), ELECTRICITY_DIGITS)
    warnings = [SourceWarning(STAGE, n.subject, n.code, n.message) for n in marts.notes]
    return WeatherStage(replace(electricity, impact=impact, jevons=jevons), [], warnings, marts)


def write_weather_marts(con: duckdb.DuckDBPyConnection, run_id: str, stage: WeatherStage) -> list[LoadResult]:
    """Make marts.weather_models and marts.weather_normalised_demand equal this run's fits (keyed syncs);
    without weather data the stored ones are left as they are."""
    if stage.marts is None:
        return []
    return [
        sync(con, WEATHER_MODELS, _stable(stage.marts.models), run_id=run_id, source="transform"),
        sync(con, WEATHER_NORMALISED_DEMAND, _stable(stage.marts.normalised), run_id=run_id, source="transform"),
    ]


@task(name="weather", cache_policy=NO_CACHE)
def weather_stage(con: duckdb.DuckDBPyConnection, run_id: str, electricity: ElectricityMarts) -> WeatherStage:
    """Fit the weather models, write the weather marts, and return the electricity marts weather-adjusted."""
    stage = compute_weather(con, electricity)
    stage.loads = write_weather_marts(con, run_id, stage)
    return stage
