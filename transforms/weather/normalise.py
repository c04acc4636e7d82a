"""Normal weather and weather-normalised monthly demand.

Normal degree days are the 1991-2020 mean of each calendar month's degree days per day (NOAA's current
climate-normal period). Demand at normal weather is actual demand minus the modelled effect of the month's
departure from normal: actual - b_hdd (HDD - HDD_normal) - b_cdd (CDD - CDD_normal), so the residual (and any
non-weather change such as new data-centre load) stays in it.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from transforms.weather.models import WeatherModel, monthly_design, monthly_observations

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
    """marts.weather_normalised_demand rows for every monthly model (registry schema)."""
    from warehouse.tables.weather import WEATHER_NORMALISED_DEMAND

    schema = WEATHER_NORMALISED_DEMAND.polars_schema()
    normals = monthly_normals(weather)
    obs = monthly_observations(monthly, weather)
    frames = []
    for model in (m for m in models if m.frequency == "monthly"):
        part = obs.filter((pl.col("region") == model.region) & (pl.col("metric") == model.metric)).join(
            normals, left_on=["region", pl.col("month").dt.month()], right_on=["region", "calendar_month"], how="left"
        )
        if part.is_empty():
            continue
        x = monthly_design(part, origin=model.fit_start)
        expected = model.fit.predict(x)
        b_h, b_c = model.fit.coefficient("hdd"), model.fit.coefficient("cdd")
        actual = part["mwh_per_day"].to_numpy()
        normal = (
            actual
            - b_h * (part["hdd_per_day"].to_numpy() - part["normal_hdd_per_day"].to_numpy())
            - b_c * (part["cdd_per_day"].to_numpy() - part["normal_cdd_per_day"].to_numpy())
        )
        frames.append(
            part.select(
                "region",
                "metric",
                "month",
                pl.col("mwh_per_day").alias("actual_mwh_per_day"),
                pl.Series("weather_expected_mwh_per_day", expected),
                pl.Series("normal_weather_mwh_per_day", np.asarray(normal, dtype=np.float64)),
                "hdd_per_day",
                "cdd_per_day",
                "normal_hdd_per_day",
                "normal_cdd_per_day",
                pl.lit(model.fit.r2).alias("r2"),
            )
        )
    if not frames:
        return pl.DataFrame(schema=schema)
    return pl.concat(frames).select(list(schema)).cast(schema).sort("region", "metric", "month")
