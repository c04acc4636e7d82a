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
from typing import Any

import numpy as np
import polars as pl
from numpy.typing import NDArray

from transforms.weather.models import MAX_FIT_MONTHS, MIN_MONTHS, MONTHLY_TERMS, monthly_design
from transforms.weather.ols import MAX_CONDITION, RankDeficientError, ols

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
    min_fit_months: int = MIN_MONTHS,
    min_r2: float = MIN_R2,
) -> pl.DataFrame:
    """ADJUSTED_SCHEMA rows for every event x (region, metric) x window.

    `observations` is transforms.weather.models.monthly_observations(...) (region, metric, month, mwh_per_day,
    hdd_per_day, cdd_per_day); `events` needs event_id and event_date. Status is 'ok' or the reason.

    The same computation as `weather_adjusted_change` (the one-case reference; tests hold the two equal to
    1e-9), batched: per series, every distinct event month's fit is one slice of a stacked normal-equation
    solve (scaled Gram matrices, Cholesky-free `numpy.linalg.solve` with one refinement step), so the cost is
    a few array operations per series instead of a polars filter and a fit per event.
    """
    event_months = (
        events.select("event_id", (pl.col("event_date").dt.year() * 12 + pl.col("event_date").dt.month() - 1))
        .rename({"event_date": "m0"})
        .with_columns(pl.col("m0").cast(pl.Int64))
    )
    obs = observations.filter(
        pl.col("mwh_per_day").is_not_null() & pl.col("hdd_per_day").is_not_null() & pl.col("cdd_per_day").is_not_null()
    ).with_columns(_month_index(pl.col("month")).alias("_m"))
    months = np.unique(event_months["m0"].to_numpy())
    obs = obs.sort("region", "metric", "month")
    keys = obs.select("region", "metric").unique(maintain_order=True)
    if keys.is_empty() or months.size == 0:
        return pl.DataFrame(schema=ADJUSTED_SCHEMA)
    bounds = np.searchsorted(
        (obs["region"] + "\x00" + obs["metric"]).to_numpy(), (keys["region"] + "\x00" + keys["metric"]).to_numpy()
    )
    columns = {c: obs[c].to_numpy() for c in ("_m", "mwh_per_day", "hdd_per_day", "cdd_per_day")}
    ends = np.append(bounds[1:], obs.height)
    parts = [
        _batched({c: v[a:b] for c, v in columns.items()}, months, window_months, fit_months, min_fit_months, min_r2)
        for a, b in zip(bounds, ends, strict=True)
    ]
    n_per = len(months) * len(window_months)
    stacked = {c: np.concatenate([p[c] for p in parts]) for c in parts[0]}
    frame = pl.DataFrame(stacked).with_columns(
        pl.Series("region", np.repeat(keys["region"].to_numpy(), n_per)),
        pl.Series("metric", np.repeat(keys["metric"].to_numpy(), n_per)),
        pl.col("growth_change_pp_weather_adjusted", "weather_r2").fill_nan(None),
        *[
            pl.when(pl.col(c) >= 0).then(pl.date(pl.col(c) // 12, pl.col(c) % 12 + 1, 1)).otherwise(None).alias(name)
            for c, name in (("_start", "weather_fit_start"), ("_end", "weather_fit_end"))
        ],
    )
    return (
        event_months.join(frame, on="m0", how="inner")
        .select(list(ADJUSTED_SCHEMA))
        .cast(ADJUSTED_SCHEMA)  # type: ignore[arg-type]
        .sort("event_id", "region", "metric", "window_length")
    )


def _batched(
    part: dict[str, NDArray[Any]],
    months: np.ndarray,
    window_months: tuple[int, ...],
    fit_months: int,
    min_fit_months: int,
    min_r2: float,
) -> dict[str, NDArray[Any]]:
    """One series (sorted by month), every event month m0 in `months` x window: columns of m0, window_length,
    the ADJUSTED_SCHEMA values and the fit's first and last month index (-1 for none)."""
    m = part["_m"].astype(np.int64)
    y = part["mwh_per_day"].astype(np.float64)
    hdd = part["hdd_per_day"].astype(np.float64)
    cdd = part["cdd_per_day"].astype(np.float64)
    e = months.astype(np.int64)[:, None]  # (E, 1)
    fit_mask = (m[None, :] < e) & (m[None, :] >= e - fit_months)  # (E, n)
    n_fit = fit_mask.sum(axis=1)
    big = np.iinfo(np.int64).max
    start = np.where(fit_mask, m[None, :], big).min(axis=1, initial=big)  # first fitted month per m0
    end = np.where(fit_mask, m[None, :], -1).max(axis=1, initial=-1)
    origin = np.where(n_fit > 0, start, 0)
    x = np.empty((len(months), len(m), 4))
    x[..., 0], x[..., 1], x[..., 2] = 1.0, hdd[None, :], cdd[None, :]
    x[..., 3] = (m[None, :] - origin[:, None]) / 12.0
    w = fit_mask.astype(np.float64)
    xw = x * w[..., None]
    scale = np.sqrt(np.einsum("enj,enj->ej", xw, xw))
    ok_scale = np.all(scale > 0, axis=1)
    scale = np.where(scale > 0, scale, 1.0)
    xs, xws = x / scale[:, None, :], xw / scale[:, None, :]
    gram = np.einsum("eni,enj->eij", xws, xws)
    enough = n_fit >= max(min_fit_months, 5)
    with np.errstate(all="ignore"):
        condition = np.where(
            enough & ok_scale, np.linalg.cond(np.where((enough & ok_scale)[:, None, None], gram, np.eye(4))), np.inf
        )
    solvable = enough & ok_scale & np.isfinite(condition) & (condition <= MAX_CONDITION)
    gram = np.where(solvable[:, None, None], gram, np.eye(4))
    yw = y[None, :] * w
    beta = np.linalg.solve(gram, np.einsum("eni,en->ei", xws, yw)[..., None])[..., 0]
    resid = yw - np.einsum("eni,ei->en", xws, beta)
    beta = beta + np.linalg.solve(gram, np.einsum("eni,en->ei", xws, resid)[..., None])[..., 0]
    fitted = np.einsum("eni,ei->en", xs, beta)  # predictions for every month of the series, per m0
    resid = (y[None, :] - fitted) * w
    rss = (resid**2).sum(axis=1)
    mean_fit = np.where(n_fit > 0, yw.sum(axis=1) / np.maximum(n_fit, 1), 0.0)
    tss = (((y[None, :] - mean_fit[:, None]) * w) ** 2).sum(axis=1)
    with np.errstate(all="ignore"):
        r2 = np.where(tss > 0, 1.0 - rss / tss, 0.0)
        ratio = y[None, :] / fitted
    last = m.max()
    out: dict[str, list[NDArray[Any]]] = {}
    for length in window_months:
        before = (m[None, :] >= e - length) & (m[None, :] <= e - 1)
        after = (m[None, :] >= e + 1) & (m[None, :] <= e + length)
        n_b, n_a = before.sum(axis=1), after.sum(axis=1)
        with np.errstate(all="ignore"):
            r_b = np.where(before, ratio, 0.0).sum(axis=1) / n_b
            r_a = np.where(after, ratio, 0.0).sum(axis=1) / n_a
        complete = (n_b >= length) & (n_a >= length)
        reason = np.select(
            [~enough, ~solvable, r2 < min_r2, ~complete & (last >= months + length), ~complete],
            ["too_few_months_before", "rank_deficient", "poor_fit", "incomplete_window", "after_window_not_over"],
            default="ok",
        )
        has_fit = reason != "too_few_months_before"
        values = {
            "m0": months.astype(np.int64),
            "window_length": np.full(len(months), length, dtype=np.int32),
            "growth_change_pp_weather_adjusted": np.where(reason == "ok", 100.0 * (r_a - r_b), np.nan),
            "weather_r2": np.where(solvable, r2, np.nan),
            "weather_n_fit": n_fit.astype(np.int32),
            "_start": np.where(has_fit, start, -1),
            "_end": np.where(has_fit, end, -1),
            "weather_adjustment_status": reason,
        }
        for c, v in values.items():
            out.setdefault(c, []).append(v)
    return {c: np.concatenate(v) for c, v in out.items()}
