"""The weather-adjusted columns of marts.electricity_impact and marts.jevons_check.

`with_weather_adjustment` puts transforms.weather.impact's adjusted change (fitted on the months before the event
only) beside each impact row's raw growth change: monthly rows (retail sales by state) take the figure of their
own window length; daily BA demand rows of 91 and 182 days take the 3- and 6-month figure of the same BA's
monthly demand (the monthly model is the one that fits: 0.94 for CISO, 0.99 for ERCO; the months around the
event month are the closest monthly equivalent of a 13- or 26-week window). Sub-BA rows have no weather series
(the seed maps BAs and states), and 28-day windows have no monthly equivalent: their status says so.

`weather_verdict` restates marts.jevons_check's demand outcome on the adjusted changes of the same regions,
with the lowest r2 behind them, and names the regions it could not adjust. The raw `verdict` is left as it is,
so the two can be read side by side.
"""

from __future__ import annotations

import polars as pl

from transforms.electricity.jevons import JEVONS_SCHEMA, JevonsConfig, horizons_of, resolve_regions
from transforms.weather.impact import ADJUSTED_SCHEMA

ADJUSTED_COLUMNS = tuple(c for c in ADJUSTED_SCHEMA if c not in ("event_id", "region", "metric", "window_length"))
"""The columns marts.electricity_impact takes from ADJUSTED_SCHEMA rows."""
DAY_TO_MONTH_WINDOWS = {91: 3, 182: 6}
"""Daily window lengths (days) and the monthly window (months) whose adjusted change they carry."""
NO_MODEL = "no_weather_model"
NO_WINDOW = "no_monthly_window"


def with_weather_adjustment(impact: pl.DataFrame, adjusted: pl.DataFrame | None) -> pl.DataFrame:
    """marts.electricity_impact rows with the weather-adjusted columns filled (same rows, same order).

    `adjusted` is weather_adjusted_impact() output (ADJUSTED_SCHEMA); None or empty leaves every row
    `no_weather_model` (a run without weather data)."""
    schema = {**impact.schema, **{c: ADJUSTED_SCHEMA[c] for c in ADJUSTED_COLUMNS}}
    months = (
        pl.when(pl.col("window_unit") == "month")
        .then(pl.col("window_length"))
        .otherwise(pl.col("window_length").replace_strict(DAY_TO_MONTH_WINDOWS, default=None))
        .cast(pl.Int32)
    )
    base = impact.drop([c for c in ADJUSTED_COLUMNS if c in impact.columns]).with_columns(
        pl.when(pl.col("region_type") != "sub_ba").then(months).alias("_months"), pl.int_range(pl.len()).alias("_row")
    )
    if adjusted is None or adjusted.is_empty():
        adjusted = pl.DataFrame(schema=ADJUSTED_SCHEMA)
    joined = base.join(
        adjusted.rename({"window_length": "_months"}).with_columns(pl.col("_months").cast(pl.Int32)),
        on=["event_id", "region", "metric", "_months"],
        how="left",
    )
    status = (
        pl.when(pl.col("weather_adjustment_status").is_not_null())
        .then(pl.col("weather_adjustment_status"))
        .when(pl.col("_months").is_null() & (pl.col("region_type") != "sub_ba"))
        .then(pl.lit(NO_WINDOW))
        .otherwise(pl.lit(NO_MODEL))
    )
    return (
        joined.with_columns(status.alias("weather_adjustment_status"))
        .sort("_row")
        .select([pl.col(n).cast(t) for n, t in schema.items()])
    )


def _mean_adjusted(impact: pl.DataFrame, config: JevonsConfig, horizon: str) -> pl.DataFrame:
    """Per event: mean adjusted change, regions used, lowest r2, and 'REGION: status' of those not adjusted."""
    keys = pl.DataFrame(
        [
            (rh.region_type, rh.region, rh.metric, rh.window_unit, rh.window_length)
            for slot, choice in resolve_regions(config.slots, impact)
            for rh in horizons_of(slot, choice)
            if rh.column.endswith(f"_{horizon}_pp")
        ],
        schema={
            "region_type": pl.String,
            "region": pl.String,
            "metric": pl.String,
            "window_unit": pl.String,
            "window_length": pl.Int32,
        },
        orient="row",
    )
    rows = impact.with_columns(pl.col("window_length").cast(pl.Int32)).join(
        keys, on=["region_type", "region", "metric", "window_unit", "window_length"], how="inner"
    )
    ok = pl.col("weather_adjustment_status") == "ok"
    label = pl.col("region") + pl.when(pl.col("metric") != "demand").then(" " + pl.col("metric")).otherwise(pl.lit(""))
    return rows.group_by("event_id").agg(
        pl.col("growth_change_pp_weather_adjusted").filter(ok).mean().alias(f"adjusted_growth_change_{horizon}_pp"),
        ok.sum().cast(pl.Int32).alias(f"n_regions_adjusted_{horizon}"),
        pl.col("weather_r2").filter(ok).min().alias(f"_r2_{horizon}"),
        (label + ": " + pl.col("weather_adjustment_status").fill_null(NO_MODEL))
        .filter(~ok)
        .sort()
        .str.join("; ")
        .alias(f"_note_{horizon}"),
    )


def weather_verdict(jevons: pl.DataFrame, impact: pl.DataFrame, config: JevonsConfig | None = None) -> pl.DataFrame:
    """marts.jevons_check rows (JEVONS_SCHEMA) with the weather-adjusted outcome, verdict, r2 and note.

    `impact` is with_weather_adjustment() output. The horizon follows the raw verdict's rule (6 months where
    any region has it, else 3); the threshold is the raw one (config.slowed_threshold_pp)."""
    config = config or JevonsConfig()
    if jevons.is_empty():
        return jevons
    out = jevons.drop(
        [
            c
            for c in (
                "adjusted_growth_change_3m_pp",
                "adjusted_growth_change_6m_pp",
                "n_regions_adjusted_3m",
                "n_regions_adjusted_6m",
                "weather_r2_min",
                "demand_outcome_weather_adjusted",
                "verdict_weather_adjusted",
                "weather_note",
            )
            if c in jevons.columns
        ]
    )
    for horizon in ("3m", "6m"):
        out = out.join(_mean_adjusted(impact, config, horizon), on="event_id", how="left").with_columns(
            pl.col(f"n_regions_adjusted_{horizon}").fill_null(0)
        )
    use6 = pl.col("n_regions_adjusted_6m") > 0
    use3 = pl.col("n_regions_adjusted_3m") > 0
    change = (
        pl.when(use6).then(pl.col("adjusted_growth_change_6m_pp")).otherwise(pl.col("adjusted_growth_change_3m_pp"))
    )
    n = pl.when(use6).then(pl.col("n_regions_adjusted_6m")).otherwise(pl.col("n_regions_adjusted_3m"))
    r2 = pl.when(use6).then(pl.col("_r2_6m")).when(use3).then(pl.col("_r2_3m"))
    note = pl.when(use6 | ~use3).then(pl.col("_note_6m")).otherwise(pl.col("_note_3m"))
    span = pl.when(use6).then(pl.lit("6 months")).otherwise(pl.lit("3 months"))
    adjusted = use6 | use3
    outcome = (
        pl.when(~adjusted)
        .then(pl.lit("could_not_adjust"))
        .when(change <= config.slowed_threshold_pp)
        .then(pl.lit("slowed"))
        .otherwise(pl.lit("did_not_slow"))
    )
    figure = pl.format(
        "{} pp weather-adjusted over the following {}, {} region(s), weather model r2 >= {}",
        change.round(1).map_elements(lambda v: f"{v:+.1f}", return_dtype=pl.String),
        span,
        n,
        r2.round(2),
    )
    # The raw verdict opens with "<market reaction>; <demand outcome>." (transforms.electricity.jevons); the
    # reaction may itself hold a "; window holds ..." clause, so cut at the outcome's first words, not at "; ".
    stock = pl.col("verdict").str.extract(r"^(.*?); (?:demand growth|not enough data yet)", 1)
    text = (
        pl.when(~adjusted)
        .then(
            pl.format(
                "Could not weather-adjust ({}); the raw verdict stands: {}",
                pl.col("_note_6m").fill_null("no region"),
                pl.col("verdict"),
            )
        )
        .when(outcome == "slowed")
        .then(pl.format("{}; demand growth slowed ({}).", stock, figure))
        .otherwise(pl.format("{}; demand growth did not slow ({}).", stock, figure))
    )
    out = out.with_columns(
        pl.when(adjusted).then(r2).alias("weather_r2_min"),
        outcome.alias("demand_outcome_weather_adjusted"),
        text.alias("verdict_weather_adjusted"),
        pl.when(note != "").then(note).alias("weather_note"),
    )
    return out.select([pl.col(c).cast(t) for c, t in JEVONS_SCHEMA.items()])
