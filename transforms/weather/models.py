"""Demand-on-weather models, fitted per region x metric by OLS (transforms.weather.ols).

Monthly (the issue's model, on EIA-930 months or EIA-861M retail sales):

    mwh_per_day = b0 + b_hdd * HDD/day + b_cdd * CDD/day + b_trend * years + e

Daily (BA demand per local day, zone temperatures):

    mwh = b0 + b_hdd * HDD + b_cdd * CDD + b_cdd_sq * CDD² + b_trend * years
          + sum_d b_d * [weekday = d] (Tuesday..Sunday, Monday the base) + b_hol * [NERC holiday] + e

HDD and CDD are base 65 °F (°F·day per day). CDD² is the non-linear cooling response: air conditioning load
rises faster than linearly on the hottest days (saturation of the building stock's cooling is not modelled
in the ranges seen). `years` counts from the first day (month) of the fit, so b0 is the weather-free level
at the fit's start and the weather-adjusted trend is 100 x b_trend / mean demand, in %/yr.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl
from numpy.typing import NDArray

from transforms.electricity import nerc_holidays
from transforms.weather.ols import OlsFit, RankDeficientError, ols
from transforms.weather.regions import WeatherNote

MONTHLY_TERMS = ("intercept", "hdd", "cdd", "trend")
WEEKDAYS = ("tue", "wed", "thu", "fri", "sat", "sun")
DAILY_TERMS = ("intercept", "hdd", "cdd", "cdd_sq", "trend", *WEEKDAYS, "holiday")
MIN_MONTHS = 24
"""Two full seasonal cycles: fewer months cannot separate heating, cooling and trend."""
MIN_DAYS = 365
MAX_FIT_MONTHS = 60
"""Models are fitted on the latest five years with data: long enough for the seasons and a trend, short enough
that one linear trend describes them (a 25-year retail-sales history has recessions and COVID in it)."""
MAX_FIT_DAYS = 1827
"""The same five years for the daily model."""


@dataclass(frozen=True)
class WeatherModel:
    """One fitted model with what it was fitted on."""

    region: str
    metric: str
    frequency: str
    fit: OlsFit
    fit_start: date
    fit_end: date
    mean_mwh_per_day: float
    weather_source: str

    @property
    def trend_pct_per_year(self) -> float:
        return 100.0 * self.fit.coefficient("trend") / self.mean_mwh_per_day

    @property
    def trend_pct_per_year_se(self) -> float:
        return 100.0 * self.fit.standard_error("trend") / self.mean_mwh_per_day


def monthly_design(frame: pl.DataFrame, origin: date | None = None) -> NDArray[np.float64]:
    """X for the monthly model from (month, hdd_per_day, cdd_per_day); years from `origin` (default: first)."""
    months = frame["month"]
    first = origin or months.min()
    assert isinstance(first, date)
    index = (months.dt.year().cast(pl.Int64) * 12 + months.dt.month().cast(pl.Int64)) - (first.year * 12 + first.month)
    return np.column_stack(
        [
            np.ones(frame.height),
            frame["hdd_per_day"].to_numpy(),
            frame["cdd_per_day"].to_numpy(),
            index.to_numpy().astype(np.float64) / 12.0,
        ]
    )


def daily_design(frame: pl.DataFrame, origin: date | None = None) -> NDArray[np.float64]:
    """X for the daily model from (date, hdd, cdd)."""
    dates = frame["date"]
    first = origin or dates.min()
    assert isinstance(first, date)
    years = sorted(set(dates.dt.year().unique().to_list()))
    holidays = pl.Series("holiday", nerc_holidays(years), dtype=pl.Date)
    weekday = dates.dt.weekday().to_numpy()  # Monday = 1 ... Sunday = 7
    cdd = frame["cdd"].to_numpy()
    return np.column_stack(
        [
            np.ones(frame.height),
            frame["hdd"].to_numpy(),
            cdd,
            cdd * cdd,
            (dates - first).dt.total_days().to_numpy().astype(np.float64) / 365.25,
            *[(weekday == d).astype(np.float64) for d in range(2, 8)],
            dates.is_in(holidays.implode()).to_numpy().astype(np.float64),
        ]
    )


def _fit(
    region: str, metric: str, frequency: str, frame: pl.DataFrame, y_col: str, time_col: str, source: str
) -> tuple[WeatherModel | None, WeatherNote | None]:
    minimum, names, design = (
        (MIN_MONTHS, MONTHLY_TERMS, monthly_design) if frequency == "monthly" else (MIN_DAYS, DAILY_TERMS, daily_design)
    )
    subject = f"{region}/{metric}/{frequency}"
    if frame.height < minimum:
        return None, WeatherNote(
            subject, "too_few_observations", f"{subject}: {frame.height} observations with weather, need {minimum}"
        )
    y = frame[y_col].to_numpy().astype(np.float64)
    if not y.mean() > 0:  # e.g. transportation sales in a state without electric rail: nothing to model
        return None, WeatherNote(subject, "no_positive_demand", f"{subject}: mean {y.mean():g} MWh/day, no model")
    try:
        fit = ols(y, design(frame), names)
    except RankDeficientError as exc:
        return None, WeatherNote(subject, "rank_deficient", f"{subject}: {exc}")
    start, end = frame[time_col].min(), frame[time_col].max()
    assert isinstance(start, date) and isinstance(end, date)
    return WeatherModel(region, metric, frequency, fit, start, end, float(y.mean()), source), None


def monthly_observations(monthly: pl.DataFrame, weather: pl.DataFrame) -> pl.DataFrame:
    """Months with both demand (region, metric, month, mwh_per_day) and weather (region, month, *_per_day)."""
    return (
        monthly.filter(pl.col("mwh_per_day").is_not_null())
        .join(weather.select("region", "month", "hdd_per_day", "cdd_per_day"), on=["region", "month"], how="inner")
        .sort("region", "metric", "month")
    )


def _latest(obs: pl.DataFrame, index: pl.Expr, span: int) -> pl.DataFrame:
    """The rows of each (region, metric) within `span` units (months or days) of its latest row."""
    return (
        obs.with_columns(index.alias("_i"))
        .filter(pl.col("_i") > pl.col("_i").max().over("region", "metric") - span)
        .drop("_i")
    )


def fit_monthly(
    monthly: pl.DataFrame, weather: pl.DataFrame, source: str = "noaa_nclimdiv", max_fit_months: int = MAX_FIT_MONTHS
) -> tuple[list[WeatherModel], list[WeatherNote]]:
    """The monthly model for every (region, metric) with months of both demand and weather, fitted on its
    latest `max_fit_months` months."""
    month_index = pl.col("month").dt.year().cast(pl.Int64) * 12 + pl.col("month").dt.month().cast(pl.Int64)
    obs = _latest(monthly_observations(monthly, weather), month_index, max_fit_months)
    models, notes = [], []
    for (region, metric), part in obs.group_by(["region", "metric"], maintain_order=True):
        model, note = _fit(str(region), str(metric), "monthly", part, "mwh_per_day", "month", source)
        models += [model] if model else []
        notes += [note] if note else []
    missing = (
        monthly.select("region", "metric")
        .unique()
        .join(obs.select("region", "metric").unique(), on=["region", "metric"], how="anti")
    )
    notes += [
        WeatherNote(f"{r}/{m}/monthly", "no_weather", f"{r}/{m}: no month with both demand and weather")
        for r, m in missing.sort("region", "metric").iter_rows()
    ]
    return models, notes


def fit_daily(
    daily: pl.DataFrame, weather: pl.DataFrame, source: str = "zone_temp_daily", max_fit_days: int = MAX_FIT_DAYS
) -> tuple[list[WeatherModel], list[WeatherNote]]:
    """The daily model for every (region, metric): `daily` (region, metric, date, mwh), weather (region, date,
    hdd, cdd), fitted on its latest `max_fit_days` days."""
    obs = _latest(
        daily.filter(pl.col("mwh").is_not_null())
        .join(weather.select("region", "date", "hdd", "cdd"), on=["region", "date"], how="inner")
        .sort("region", "metric", "date"),
        pl.col("date").cast(pl.Int64),
        max_fit_days,
    )
    models, notes = [], []
    for (region, metric), part in obs.group_by(["region", "metric"], maintain_order=True):
        model, note = _fit(str(region), str(metric), "daily", part, "mwh", "date", source)
        models += [model] if model else []
        notes += [note] if note else []
    return models, notes


def models_frame(models: list[WeatherModel]) -> pl.DataFrame:
    """marts.weather_models rows (registry schema) for fitted models."""
    from warehouse.tables.weather import WEATHER_MODELS

    schema = WEATHER_MODELS.polars_schema()
    rows = []
    for m in models:
        row: dict[str, object] = dict.fromkeys(schema)
        row.update(
            region=m.region,
            metric=m.metric,
            frequency=m.frequency,
            fit_start=m.fit_start,
            fit_end=m.fit_end,
            n_obs=m.fit.n_obs,
            r2=m.fit.r2,
            mean_mwh_per_day=m.mean_mwh_per_day,
            trend_pct_per_year=m.trend_pct_per_year,
            trend_pct_per_year_se=m.trend_pct_per_year_se,
            weather_source=m.weather_source,
        )
        for name in m.fit.names:
            row[f"coef_{name}"] = m.fit.coefficient(name)
            row[f"se_{name}"] = m.fit.standard_error(name)
        rows.append(row)
    return pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)
