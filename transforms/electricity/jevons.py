"""marts.jevons_check: each efficiency event's power-producer stock reaction next to what demand did after it.

The stock side is the group's CAAR (the mean CAR over its tickers in marts.event_impact); the demand side is
growth_change_pp of marts.electricity_impact rows with status ok, for the data-centre regions. The verdict puts
the two findings in plain words with their figures, so an analyst reads it without the thresholds at hand.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import polars as pl

from transforms.event_study.contract import MIN_GROUP_TICKERS
from warehouse.registry import table


@dataclass(frozen=True)
class RegionHorizon:
    """Where one jevons_check column reads its growth change from (a slot's chosen region at one horizon)."""

    column: str
    region_type: str
    region: str
    metric: str
    window_unit: str
    window_length: int


@dataclass(frozen=True)
class RegionChoice:
    """One candidate series for a slot: which marts.electricity_impact rows, and how the verdict names it."""

    region_type: str
    region: str
    metric: str
    label: str


@dataclass(frozen=True)
class RegionSlot:
    """One region column pair of marts.jevons_check (`<slot>_growth_change_{3m,6m}_pp`).

    `choices` in order of preference; the first one the warehouse holds is used (so the defaults follow what
    is loaded), and a choice other than the first is a stand-in the verdict names."""

    slot: str
    name: str
    choices: tuple[RegionChoice, ...]


def _demand(region_type: str, region: str, label: str) -> RegionChoice:
    return RegionChoice(region_type, region, "demand", label)


DEFAULT_SLOTS: tuple[RegionSlot, ...] = (
    RegionSlot(
        "dom",
        "northern Virginia",
        (_demand("sub_ba", "DOM", "DOM"), _demand("balancing_authority", "PJM", "PJM")),
    ),
    RegionSlot("erco", "Texas", (_demand("balancing_authority", "ERCO", "ERCO"),)),
    RegionSlot("us48", "the lower 48 states", (_demand("balancing_authority", "US48", "US48"),)),
    RegionSlot(
        "va_sales",
        "Virginia retail sales",
        (
            RegionChoice("state", "VA", "retail_sales_COM", "VA commercial sales"),
            RegionChoice("state", "VA", "retail_sales_ALL", "VA all-sector sales"),
        ),
    ),
)
"""The data-centre regions of the check: DOM (Dominion, the northern Virginia data-centre cluster; PJM, its
parent, stands in when DOM is not loaded, e.g. from the BA-level region-data files), ERCOT, the lower 48, and
Virginia's commercial retail sales (all sectors standing in when the sector split is not loaded)."""

HORIZONS = (("3m", 91, 3), ("6m", 182, 6))
"""(column suffix, daily window length in days, monthly window length in months)."""


def resolve_regions(slots: tuple[RegionSlot, ...], impact: pl.DataFrame) -> list[tuple[RegionSlot, RegionChoice]]:
    """Each slot's first choice that `impact` has rows for (else its first choice, whose columns stay NULL)."""
    held = set(impact.select("region_type", "region", "metric").unique().iter_rows())
    out = []
    for slot in slots:  # a loop over a handful of slots
        found = [c for c in slot.choices if (c.region_type, c.region, c.metric) in held]
        out.append((slot, found[0] if found else slot.choices[0]))
    return out


def horizons_of(slot: RegionSlot, choice: RegionChoice) -> list[RegionHorizon]:
    """The slot's 3- and 6-month columns, reading the chosen series' 91/182-day or 3/6-month windows."""
    out = []
    for suffix, days, months in HORIZONS:
        unit, length = ("month", months) if choice.region_type == "state" else ("day", days)
        column = f"{slot.slot}_growth_change_{suffix}_pp"
        out.append(RegionHorizon(column, choice.region_type, choice.region, choice.metric, unit, length))
    return out


@dataclass(frozen=True)
class JevonsConfig:
    """Which stock group, model and regions the check reads, and the verdict thresholds."""

    power_group: str = "independent_power"
    model: str = "market"
    caar_threshold: float = 0.02
    slowed_threshold_pp: float = -1.0
    slots: tuple[RegionSlot, ...] = field(default_factory=lambda: DEFAULT_SLOTS)


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
    windows = "182 days (6 months for sales)" if horizon == "6 months" else "91 days (3 months for sales)"
    figure = (
        f"{change:+.1f} pp YoY growth over the following {horizon}, {n} region{'s' if n != 1 else ''}; "
        f"windows of {windows} after vs before the event, each against the same window a year earlier"
    )
    if change <= threshold_pp:
        return "slowed", f"demand growth slowed ({figure})"
    return "did_not_slow", f"demand growth did not slow ({figure})"


def _limits(
    resolved: list[tuple[RegionSlot, RegionChoice]], impact: pl.DataFrame, data_ends: dict[tuple[str, str, str], str]
) -> pl.DataFrame:
    """Per event, what the data cannot say: each slot without a 6-month change, and why (in words)."""
    if "after_end" not in impact.columns:  # a partial impact frame (tests, callers without window dates)
        impact = impact.with_columns(pl.lit(None, pl.Date).alias("after_end"))
    notes = []
    for slot, choice in resolved:  # a loop over a handful of slots
        six = horizons_of(slot, choice)[1]
        rows = impact.filter(
            (pl.col("region_type") == six.region_type)
            & (pl.col("region") == six.region)
            & (pl.col("metric") == six.metric)
            & (pl.col("window_unit") == six.window_unit)
            & (pl.col("window_length") == six.window_length)
            & (pl.col("status") != "ok")
        )
        end = data_ends.get((choice.region_type, choice.region, choice.metric))
        ends = f"data ends {end}" if end else "no data loaded"
        note = (
            pl.when(pl.col("status") == "after_window_not_over")
            .then(pl.format(f"{choice.label}: {ends}, before its after-window ends ({{}})", pl.col("after_end")))
            .otherwise(pl.lit(f"{choice.label}: too few days in a window (insufficient_data)"))
        )
        notes.append(rows.select("event_id", note.alias("note")))
    if not notes:
        return pl.DataFrame(schema={"event_id": pl.String, "limits": pl.String})
    return pl.concat(notes).group_by("event_id", maintain_order=True).agg(pl.col("note").str.join("; ").alias("limits"))


def _regions_used(resolved: list[tuple[RegionSlot, RegionChoice]], held: set[tuple[str, str, str]]) -> str:
    parts = []
    for slot, choice in resolved:
        key = (choice.region_type, choice.region, choice.metric)
        if key not in held:
            parts.append(f"{slot.slot}: {choice.label} (not loaded)")
        elif choice != slot.choices[0]:
            first = slot.choices[0].label
            parts.append(f"{slot.slot}: {choice.label} standing in for {first} ({slot.name}; {first} not loaded)")
        else:
            parts.append(f"{slot.slot}: {choice.label}")
    return ", ".join(parts)


def jevons_check(
    impact: pl.DataFrame,
    event_impact: pl.DataFrame,
    events: pl.DataFrame,
    config: JevonsConfig | None = None,
    overlaps: pl.DataFrame | None = None,
    data_ends: dict[tuple[str, str, str], str] | None = None,
    context: str | None = None,
) -> pl.DataFrame:
    """marts.jevons_check rows (JEVONS_SCHEMA): one per efficiency event, market fear vs demand outcome.

    `event_impact` is marts.event_impact (per-ticker CARs with their group); the group's CAAR is the mean CAR
    over its tickers. The demand changes are growth_change_pp of `impact` rows with status ok, for each slot's
    first loaded choice (`resolve_regions`). `data_ends` ((region_type, region, metric) -> last date, as text)
    lets the verdict say when a series ends before an after-window does; `context` (the IEA data-centre
    figures) is stored in `datacentre_context` and closes the verdict.
    `overlaps` (marts.event_overlaps) names the other catalogued events inside the window the market reaction
    reads (reaction_confounded_by), and the verdict says so: such a reaction is not this event's alone.
    """
    config = config or JevonsConfig()
    data_ends = data_ends or {}
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
    resolved = resolve_regions(config.slots, impact)
    regions = [rh for slot, choice in resolved for rh in horizons_of(slot, choice)]
    ok = impact.filter(pl.col("status") == "ok")
    for rh in regions:
        values = ok.filter(
            (pl.col("region_type") == rh.region_type)
            & (pl.col("region") == rh.region)
            & (pl.col("metric") == rh.metric)
            & (pl.col("window_unit") == rh.window_unit)
            & (pl.col("window_length") == rh.window_length)
        ).select("event_id", pl.col("growth_change_pp").alias(rh.column))
        out = out.join(values, on="event_id", how="left")
    for horizon, _, _ in HORIZONS:
        cols = [rh.column for rh in regions if rh.column.endswith(f"_{horizon}_pp")]
        out = out.with_columns(
            pl.mean_horizontal(cols).alias(f"demand_growth_change_{horizon}_pp"),
            pl.sum_horizontal([pl.col(c).is_not_null() for c in cols]).cast(pl.Int32).alias(f"n_regions_{horizon}"),
        )
    out = _with_reaction_confounders(out, overlaps)
    held = set(impact.select("region_type", "region", "metric").unique().iter_rows())
    used = _regions_used(resolved, held)
    stand_ins = [
        f"{c.label} stands in for {slot.choices[0].label} ({slot.name}), which is not loaded"
        for slot, c in resolved
        if c != slot.choices[0] and (c.region_type, c.region, c.metric) in held
    ]
    out = out.join(_limits(resolved, impact, data_ends), on="event_id", how="left").with_columns(
        pl.lit(used).alias("regions_used"), pl.lit(context, pl.String).alias("datacentre_context")
    )
    reactions, outcomes, verdicts = [], [], []
    for row in out.iter_rows(named=True):  # one row per efficiency event: a handful
        reaction, reaction_text = _market_reaction(row["power_caar_0_5"], row["power_caar_day0"], config.caar_threshold)
        if row["reaction_confounded_by"] and reaction != "no_stock_data":
            reaction_text = reaction_text[:-1] + f"; window holds {row['reaction_confounded_by']})"
        # a power group below MIN_GROUP_TICKERS (e.g. an event before CEG, 2022, and TLN, 2023) is not evidence
        if 0 < row["power_n_tickers"] < MIN_GROUP_TICKERS and reaction != "no_stock_data":
            reaction_text = reaction_text[:-1] + f"; n={row['power_n_tickers']} stocks: not evidence)"
        outcome, outcome_text = _demand_outcome(
            row["demand_growth_change_6m_pp"],
            row["n_regions_6m"],
            row["demand_growth_change_3m_pp"],
            row["n_regions_3m"],
            config.slowed_threshold_pp,
        )
        reactions.append(reaction)
        outcomes.append(outcome)
        sentences = [f"{reaction_text[0].upper()}{reaction_text[1:]}; {outcome_text}."]
        sentences += [f"{note[0].upper()}{note[1:]}." for note in stand_ins]
        if row["limits"]:
            sentences.append(f"Not in the 6-month figure: {row['limits']}.")
        sentences.append("Not weather-adjusted.")
        if context:
            sentences.append(f"Context: {context}.")
        verdicts.append(" ".join(sentences))
    out = out.with_columns(
        pl.Series("market_reaction", reactions, dtype=pl.String),
        pl.Series("demand_outcome", outcomes, dtype=pl.String),
        pl.Series("verdict", verdicts, dtype=pl.String),
    )
    for name, dtype in JEVONS_SCHEMA.items():
        if name not in out.columns:
            out = out.with_columns(pl.lit(None, dtype).alias(name))
    return out.select([pl.col(n).cast(t) for n, t in JEVONS_SCHEMA.items()]).sort("event_date", "event_id")


def datacentre_context(centres: pl.DataFrame, region: str = "United States") -> str | None:
    """The IEA figures an event sits in, from core.datacentre_electricity rows: `region`'s data-centre
    consumption in the latest historical year and in 2030 (base case, with the other scenarios' range), and
    the world's. None when the table holds no such rows."""
    total = centres.filter((pl.col("segment") == "total") & pl.col("electricity_twh").is_not_null())

    def figures(where: str, label: str) -> str | None:
        rows = total.filter(pl.col("region") == where)
        past = rows.filter(pl.col("scenario") == "historical").sort("year")
        base = rows.filter((pl.col("scenario") == "base") & (pl.col("year") == 2030))
        if past.is_empty() or base.is_empty():
            return None
        year, twh = int(past["year"][-1]), float(past["electricity_twh"][-1])
        base_twh = float(base["electricity_twh"][0])
        text = f"{label}: {twh:,.0f} TWh in {year}, {base_twh:,.0f} TWh in 2030 in the IEA base case"
        others = rows.filter((pl.col("year") == 2030) & ~pl.col("scenario").is_in(["base", "historical"]))
        if others.height:
            low, high = float(others["electricity_twh"].min()), float(others["electricity_twh"].max())  # type: ignore[arg-type]
            text += f" ({low:,.0f}-{high:,.0f} TWh across its other scenarios)"
        return text

    parts = [figures(region, "US data centres" if region == "United States" else region), figures("World", "world")]
    found = [p for p in parts if p]
    if not found:
        return None
    source = total["source"][0]
    return f"{'; '.join(found)} ({source})"
