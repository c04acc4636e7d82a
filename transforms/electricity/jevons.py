"""marts.jevons_check: each efficiency event's power-producer stock reaction next to what demand did after it.

The stock side is the group's CAAR (the mean CAR over its tickers in marts.event_impact); the demand side is
growth_change_pp of marts.electricity_impact rows with status ok, for the data-centre regions. The verdict puts
the two findings in plain words with their figures, so an analyst reads it without the thresholds at hand.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import polars as pl

from warehouse.registry import table


@dataclass(frozen=True)
class RegionHorizon:
    """Where one jevons_check column reads its growth change from."""

    column: str
    region_type: str
    region: str
    metric: str
    window_unit: str
    window_length: int


def _default_regions() -> tuple[RegionHorizon, ...]:
    out = []
    for label, rtype, region, metric in (
        ("dom", "sub_ba", "DOM", "demand"),
        ("erco", "balancing_authority", "ERCO", "demand"),
        ("us48", "balancing_authority", "US48", "demand"),
        ("va_sales", "state", "VA", "retail_sales_COM"),
    ):
        for horizon, days, months in (("3m", 91, 3), ("6m", 182, 6)):
            unit, length = ("month", months) if rtype == "state" else ("day", days)
            out.append(RegionHorizon(f"{label}_growth_change_{horizon}_pp", rtype, region, metric, unit, length))
    return tuple(out)


@dataclass(frozen=True)
class JevonsConfig:
    """Which stock group, model and regions the check reads, and the verdict thresholds."""

    power_group: str = "independent_power"
    model: str = "market"
    caar_threshold: float = 0.02
    slowed_threshold_pp: float = -1.0
    regions: tuple[RegionHorizon, ...] = field(default_factory=_default_regions)


JEVONS_SCHEMA = table("marts.jevons_check").polars_schema()
"""marts.jevons_check rows, as the table registry defines them."""


def _caar(event_impact: pl.DataFrame, config: JevonsConfig, start: int, end: int, name: str) -> pl.DataFrame:
    return (
        event_impact.filter(
            (pl.col("group") == config.power_group)
            & (pl.col("model") == config.model)
            & (pl.col("window_start") == start)
            & (pl.col("window_end") == end)
            & pl.col("car").is_not_null()
        )
        .group_by("event_id")
        .agg(pl.col("car").mean().alias(name), pl.col("ticker").n_unique().cast(pl.Int32).alias(f"{name}_n"))
    )


def _with_reaction_confounders(out: pl.DataFrame, overlaps: pl.DataFrame | None) -> pl.DataFrame:
    """reaction_confounded_by: the overlaps of [0,+5] where the event has a [0,+5] CAAR, else of [0,0]."""
    if overlaps is None or overlaps.is_empty():
        return out.with_columns(pl.lit(None, pl.String).alias("reaction_confounded_by"))
    by_window = {
        w: overlaps.filter((pl.col("window_start") == w[0]) & (pl.col("window_end") == w[1])).select(
            pl.col("event_id").cast(pl.String), pl.col("confounded_by").cast(pl.String).alias(f"_held_{w[1]}")
        )
        for w in ((0, 0), (0, 5))
    }
    joined = out.join(by_window[(0, 0)], on="event_id", how="left").join(by_window[(0, 5)], on="event_id", how="left")
    held = pl.when(pl.col("power_caar_0_5").is_not_null()).then(pl.col("_held_5")).otherwise(pl.col("_held_0"))
    return joined.with_columns(held.alias("reaction_confounded_by")).drop("_held_0", "_held_5")


def _market_reaction(caar_0_5: float | None, caar_day0: float | None, threshold: float) -> tuple[str, str]:
    value, label = (caar_0_5, "[0,+5]") if caar_0_5 is not None else (caar_day0, "day 0")
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "no_stock_data", "no stock impact computed for the power producers"
    figure = f"power producers' CAAR {label} {value * 100:+.1f}%"
    if value <= -threshold:
        return "feared_less_demand", f"market feared less demand ({figure})"
    if value >= threshold:
        return "expected_more_demand", f"market expected more demand ({figure})"
    return "little_reaction", f"market barely reacted ({figure})"


def _demand_outcome(
    change_6m: float | None, n6: int, change_3m: float | None, n3: int, threshold_pp: float
) -> tuple[str, str]:
    if change_6m is not None and n6 > 0:
        change, horizon, n = change_6m, "6 months", n6
    elif change_3m is not None and n3 > 0:
        change, horizon, n = change_3m, "3 months", n3
    else:
        return "not_enough_data_yet", "not enough data yet to tell whether demand growth slowed"
    figure = f"{change:+.1f} pp YoY growth over the following {horizon}, {n} region{'s' if n != 1 else ''}"
    if change <= threshold_pp:
        return "slowed", f"demand growth slowed ({figure})"
    return "did_not_slow", f"demand growth did not slow ({figure})"


def jevons_check(
    impact: pl.DataFrame,
    event_impact: pl.DataFrame,
    events: pl.DataFrame,
    config: JevonsConfig | None = None,
    overlaps: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """marts.jevons_check rows (JEVONS_SCHEMA): one per efficiency event, market fear vs demand outcome.

    `event_impact` is marts.event_impact (per-ticker CARs with their group); the group's CAAR is the mean CAR
    over its tickers. The demand changes are growth_change_pp of `impact` rows with status ok. `overlaps`
    (marts.event_overlaps) names the other catalogued events inside the window the market reaction reads
    (reaction_confounded_by), and the verdict says so: such a reaction is not this event's alone.
    """
    config = config or JevonsConfig()
    efficiency = events.filter(pl.col("category") == "efficiency").select(
        "event_id", "event_date", pl.col("name").alias("event_name")
    )
    if efficiency.is_empty():
        return pl.DataFrame(schema=JEVONS_SCHEMA)
    out = efficiency.with_columns(pl.lit(config.power_group).alias("power_group"))
    if event_impact.is_empty():
        out = out.with_columns(
            pl.lit(None, pl.Float64).alias("power_caar_day0"),
            pl.lit(None, pl.Float64).alias("power_caar_0_5"),
            pl.lit(0, pl.Int32).alias("power_n_tickers"),
        )
    else:
        day0 = _caar(event_impact, config, 0, 0, "power_caar_day0")
        five = _caar(event_impact, config, 0, 5, "power_caar_0_5")
        out = (
            out.join(day0, on="event_id", how="left")
            .join(five, on="event_id", how="left")
            .with_columns(pl.col("power_caar_day0_n").fill_null(0).alias("power_n_tickers"))
        )
    ok = impact.filter(pl.col("status") == "ok")
    for rh in config.regions:
        values = ok.filter(
            (pl.col("region_type") == rh.region_type)
            & (pl.col("region") == rh.region)
            & (pl.col("metric") == rh.metric)
            & (pl.col("window_unit") == rh.window_unit)
            & (pl.col("window_length") == rh.window_length)
        ).select("event_id", pl.col("growth_change_pp").alias(rh.column))
        out = out.join(values, on="event_id", how="left")
    for horizon in ("3m", "6m"):
        cols = [rh.column for rh in config.regions if rh.column.endswith(f"_{horizon}_pp")]
        out = out.with_columns(
            pl.mean_horizontal(cols).alias(f"demand_growth_change_{horizon}_pp"),
            pl.sum_horizontal([pl.col(c).is_not_null() for c in cols]).cast(pl.Int32).alias(f"n_regions_{horizon}"),
        )
    out = _with_reaction_confounders(out, overlaps)
    reactions, outcomes, verdicts = [], [], []
    for row in out.iter_rows(named=True):
        reaction, reaction_text = _market_reaction(row["power_caar_0_5"], row["power_caar_day0"], config.caar_threshold)
        if row["reaction_confounded_by"] and reaction != "no_stock_data":
            reaction_text = reaction_text[:-1] + f"; window holds {row['reaction_confounded_by']})"
        outcome, outcome_text = _demand_outcome(
            row["demand_growth_change_6m_pp"],
            row["n_regions_6m"],
            row["demand_growth_change_3m_pp"],
            row["n_regions_3m"],
            config.slowed_threshold_pp,
        )
        reactions.append(reaction)
        outcomes.append(outcome)
        verdicts.append(f"{reaction_text[0].upper()}{reaction_text[1:]}; {outcome_text}.")
    out = out.with_columns(
        pl.Series("market_reaction", reactions, dtype=pl.String),
        pl.Series("demand_outcome", outcomes, dtype=pl.String),
        pl.Series("verdict", verdicts, dtype=pl.String),
    )
    for name, dtype in JEVONS_SCHEMA.items():
        if name not in out.columns:
            out = out.with_columns(pl.lit(None, dtype).alias(name))
    return out.select([pl.col(n).cast(t) for n, t in JEVONS_SCHEMA.items()]).sort("event_date", "event_id")
