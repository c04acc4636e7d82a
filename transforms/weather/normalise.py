"""Normal weather and weather-normalised monthly demand.

Normal degree days are the 1991-2020 mean of each calendar month's degree days per day (NOAA's current
climate-normal period). Demand at normal weather is actual demand minus the modelled effect of the month's
departure from normal: actual - b_hdd (HDD - HDD_normal) - b_cdd (CDD - CDD_normal), so the residual (and any
non-weather change such as new data-centre load) stays in it.
"""

from __future__ import annotations

import polars as pl

from transforms.weather.models import MONTHLY_TERMS, WeatherModel, monthly_observations

NORMAL_YEARS = (1991, 2020)


def monthly_normals(weather: pl.DataFrame, years: tuple[int, int] = NORMAL_YEARS) -> pl.DataFrame:
    """(region, calendar_month, normal_hdd_per_day, normal_cdd_per_day, normal_years) from region weather."""
    return (
        weather.filter(pl.col("month").dt.year().is_between(*years))
        .group_by("region", pl.col("month").dt.month().alias("calendar_month"))
        .agg(
            pl.col("hdd_per_day").mean().alias("normal_hdd_per_day"),
            pl.col("cdd_per_day").mean().alias("normal_cdd_per_day"),
            pl.col("month").dt.year().n_unique().alias("normal_years"),
        )
        .sort("region", "calendar_month")
    )


def normalised_demand(monthly: pl.DataFrame, weather: pl.DataFrame, models: list[WeatherModel]) -> pl.DataFrame:
    """marts.weather_normalised_demand rows for every monthly model over its fit window (registry schema; the
    expected values are in-sample), in one vectorised pass:
    the models' coefficients are joined onto the observations and the design evaluated as expressions (the
    same terms as transforms.weather.models.monthly_design)."""
    from warehouse.tables.weather import WEATHER_NORMALISED_DEMAND

    schema = WEATHER_NORMALISED_DEMAND.polars_schema()
    monthly_models = [m for m in models if m.frequency == "monthly"]
    if not monthly_models:
        return pl.DataFrame(schema=schema)
    coefs = pl.DataFrame(
        {
            "region": [m.region for m in monthly_models],
            "metric": [m.metric for m in monthly_models],
            "origin": [m.fit_start.year * 12 + m.fit_start.month for m in monthly_models],
            "fit_start": [m.fit_start for m in monthly_models],
            "fit_end": [m.fit_end for m in monthly_models],
            **{f"b_{t}": [m.fit.coefficient(t) for m in monthly_models] for t in MONTHLY_TERMS},
            "r2": [m.fit.r2 for m in monthly_models],
        },
        schema_overrides={"origin": pl.Int64},
    )
    index = pl.col("month").dt.year().cast(pl.Int64) * 12 + pl.col("month").dt.month().cast(pl.Int64)
    years = (index - pl.col("origin")).cast(pl.Float64) / 12.0
    weather_effect = pl.col("b_hdd") * pl.col("hdd_per_day") + pl.col("b_cdd") * pl.col("cdd_per_day")
    normal_effect = pl.col("b_hdd") * pl.col("normal_hdd_per_day") + pl.col("b_cdd") * pl.col("normal_cdd_per_day")
    out = (
        monthly_observations(monthly, weather)
        .join(coefs, on=["region", "metric"], how="inner")
        .filter(pl.col("month").is_between(pl.col("fit_start"), pl.col("fit_end")))
        .with_columns(pl.col("month").dt.month().alias("calendar_month"))
        .join(monthly_normals(weather), on=["region", "calendar_month"], how="left")
        .with_columns(
            pl.col("mwh_per_day").alias("actual_mwh_per_day"),
            (pl.col("b_intercept") + weather_effect + pl.col("b_trend") * years).alias("weather_expected_mwh_per_day"),
            (pl.col("mwh_per_day") - weather_effect + normal_effect).alias("normal_weather_mwh_per_day"),
        )
    )
    return out.select(list(schema)).cast(schema).sort("region", "metric", "month")
