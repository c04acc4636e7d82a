"""One call for the weather marts: region weather, every model, the normalised series and the notes.

The flow (phase 2 of issue 17) calls `weather_marts` once per run with the core tables and seeds it has
loaded; everything it returns is a frame in a registry schema or a list of notes to record as warnings.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from transforms.weather.models import WeatherModel, fit_daily, fit_monthly, models_frame
from transforms.weather.normalise import normalised_demand
from transforms.weather.regions import WeatherNote, region_daily_weather, region_degree_days


@dataclass(frozen=True)
class WeatherMarts:
    """marts.weather_models and marts.weather_normalised_demand rows, the fitted models and the notes."""

    models: pl.DataFrame
    normalised: pl.DataFrame
    monthly_models: list[WeatherModel]
    region_monthly_weather: pl.DataFrame
    notes: list[WeatherNote]


def weather_marts(
    degree_days: pl.DataFrame,
    region_states: pl.DataFrame,
    monthly: pl.DataFrame,
    weather_daily: pl.DataFrame | None = None,
    region_zones: pl.DataFrame | None = None,
    daily: pl.DataFrame | None = None,
) -> WeatherMarts:
    """Fit every region x metric: monthly series (region, metric, month, mwh_per_day) on NOAA degree days,
    daily series (region, metric, date, mwh) on zone temperatures where both are given."""
    weather, notes = region_degree_days(degree_days, region_states)
    monthly_models, more = fit_monthly(monthly, weather)
    notes += more
    models = list(monthly_models)
    if weather_daily is not None and region_zones is not None and daily is not None and not daily.is_empty():
        region_daily, more = region_daily_weather(weather_daily, region_zones)
        notes += more
        daily_models, more = fit_daily(daily, region_daily)
        models += daily_models
        notes += more
    return WeatherMarts(
        models=models_frame(models).sort("region", "metric", "frequency"),
        normalised=normalised_demand(monthly, weather, monthly_models),
        monthly_models=monthly_models,
        region_monthly_weather=weather,
        notes=notes,
    )
