"""Weather-adjusted demand change around an event, with no look-ahead.

For an event in month m0 and a window of L months: the monthly model (transforms.weather.models) is fitted on
the `fit_months` months before m0 only (never the event month or later), then each month's ratio
actual / weather-expected is formed. The adjusted change, in percentage points, is

    100 x (mean ratio over the L months after m0 - mean ratio over the L months before m0)

with the same windows as marts.electricity_impact's monthly rows (the event month itself excluded). The
model's trend carries the pre-event growth forward, so the change measures demand departing from its
pre-event weather-adjusted path: a step up in load (new data centres) shows as a positive change whatever
the weather did. When the model cannot be fitted, fits poorly, or a window is incomplete, the change is NULL
and `reason` says why.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from transforms.weather.models import MAX_FIT_MONTHS, MIN_MONTHS, MONTHLY_TERMS, monthly_design
from transforms.weather.ols import RankDeficientError, ols

FIT_MONTHS = MAX_FIT_MONTHS
"""Fit on at most the five years before the event (as the marts' models): long enough for the seasons, short
enough that the building stock and the trend are the current ones."""
MIN_R2 = 0.5
"""Below this the model explains too little for its expectation to be the comparison baseline."""


@dataclass(frozen=True)
class AdjustedChange:
    """The weather-adjusted change for one event x series x window, and what it stands on."""

    change_pp: float | None
    ratio_before: float | None
    ratio_after: float | None
    r2: float | None
    n_fit: int
    fit_start: date | None
    fit_end: date | None
    reason: str | None
    """None when change_pp is given; otherwise too_few_months_before, rank_deficient, poor_fit (r2 < MIN_R2),
    after_window_not_over, or incomplete_window."""


def _month_index(expr: pl.Expr) -> pl.Expr:
    return expr.dt.year().cast(pl.Int64) * 12 + expr.dt.month().cast(pl.Int64) - 1


def weather_adjusted_change(
    series: pl.DataFrame,
    event_date: date,
    window_months: int,
    fit_months: int = FIT_MONTHS,
    min_fit_months: int = MIN_MONTHS,
    min_r2: float = MIN_R2,
) -> AdjustedChange:
    """One series (month, mwh_per_day, hdd_per_day, cdd_per_day), one event, one window length L."""
    m0 = event_date.year * 12 + event_date.month - 1
    obs = (
        series.filter(
            pl.col("mwh_per_day").is_not_null()
            & pl.col("hdd_per_day").is_not_null()
            & pl.col("cdd_per_day").is_not_null()
        )
        .with_columns(_month_index(pl.col("month")).alias("_m"))
        .sort("month")
    )
    fit_rows = obs.filter((pl.col("_m") < m0) & (pl.col("_m") >= m0 - fit_months))
    empty = AdjustedChange(None, None, None, None, fit_rows.height, None, None, "too_few_months_before")
    if fit_rows.height < min_fit_months:
        return empty
    start, end = fit_rows["month"].min(), fit_rows["month"].max()
    assert isinstance(start, date) and isinstance(end, date)
    try:
        fit = ols(fit_rows["mwh_per_day"].to_numpy().astype(np.float64), monthly_design(fit_rows), MONTHLY_TERMS)
    except RankDeficientError:
        return AdjustedChange(None, None, None, None, fit_rows.height, start, end, "rank_deficient")
    if fit.r2 < min_r2:
        return AdjustedChange(None, None, None, fit.r2, fit.n_obs, start, end, "poor_fit")
    before = obs.filter(pl.col("_m").is_between(m0 - window_months, m0 - 1))
    after = obs.filter(pl.col("_m").is_between(m0 + 1, m0 + window_months))
    last = obs["_m"].max()
    if before.height < window_months or after.height < window_months:
        over = isinstance(last, int) and last >= m0 + window_months
        reason = "incomplete_window" if over else "after_window_not_over"
        return AdjustedChange(None, None, None, fit.r2, fit.n_obs, start, end, reason)

    def ratio(part: pl.DataFrame) -> float:
        expected = fit.predict(monthly_design(part, origin=start))
        return float(np.mean(part["mwh_per_day"].to_numpy() / expected))

    r_before, r_after = ratio(before), ratio(after)
    return AdjustedChange(100.0 * (r_after - r_before), r_before, r_after, fit.r2, fit.n_obs, start, end, None)


ADJUSTED_SCHEMA: dict[str, pl.DataType] = {
    "event_id": pl.String(),
    "region": pl.String(),
    "metric": pl.String(),
    "window_length": pl.Int32(),
    "growth_change_pp_weather_adjusted": pl.Float64(),
    "weather_r2": pl.Float64(),
    "weather_n_fit": pl.Int32(),
    "weather_fit_start": pl.Date(),
    "weather_fit_end": pl.Date(),
    "weather_adjustment_status": pl.String(),
}
"""Columns phase 2 joins onto marts.electricity_impact's monthly rows (on event_id, region, metric,
window_length with window_unit = 'month')."""


def weather_adjusted_impact(
    observations: pl.DataFrame,
    events: pl.DataFrame,
    window_months: tuple[int, ...] = (3, 6),
    fit_months: int = FIT_MONTHS,
) -> pl.DataFrame:
    """ADJUSTED_SCHEMA rows for every event x (region, metric) x window.

    `observations` is transforms.weather.models.monthly_observations(...) (region, metric, month, mwh_per_day,
    hdd_per_day, cdd_per_day); `events` needs event_id and event_date. Status is 'ok' or the reason.
    """
    rows = []
    for (region, metric), part in observations.group_by(["region", "metric"], maintain_order=True):
        for event_id, event_date in events.select("event_id", "event_date").iter_rows():
            for length in window_months:
                res = weather_adjusted_change(part, event_date, length, fit_months)
                rows.append(
                    (
                        event_id,
                        region,
                        metric,
                        length,
                        res.change_pp,
                        res.r2,
                        res.n_fit,
                        res.fit_start,
                        res.fit_end,
                        res.reason or "ok",
                    )
                )
    return pl.DataFrame(rows, schema=ADJUSTED_SCHEMA, orient="row").sort(
        "event_id", "region", "metric", "window_length"
    )
