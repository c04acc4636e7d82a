"""The electricity stage of the daily flow: the electricity marts, recomputed from the warehouse.

Kept out of flows/daily.py so the flow reads as a list of stages. The extract is the registry's electricity
source (flows.sources.registry; the EIA API by default), loaded like every source by table name. The stage is
optional by design: without an EIA key (neither $EIA_API_KEY nor the Prefect Secret block `eia-api-key`) the
extract is skipped with a warning in the run summary and prices and the stock event study still run;
`--require-electricity` turns that warning into an error; `--electricity-from DIR` reads published EIA files
instead (flows.sources.eia_files). The marts are recomputed from whatever the warehouse holds on every run, so
the Jevons check follows new stock results even on a run that fetched no electricity data.

Quality screen: core keeps what EIA published (a later vintage can correct it, and an analyst can see it);
`transforms.electricity_quality.screen_hourly` runs on the way to the marts, so a flagged value (an int32
sentinel, a negative or implausibly large demand, a one-hour dip) never reaches marts.electricity_demand_daily
or anything computed from it, and each one is recorded in ops.data_quality (check `implausible_value ...`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import duckdb
import polars as pl

from flows.sources import registry
from flows.sources.base import SourceResult, SourceWarning
from flows.sources.eia.query import STAGE
from transforms.electricity import (
    DEMAND_TYPE,
    ImpactConfig,
    JevonsConfig,
    datacentre_context,
    electricity_impact,
    hourly_to_local_daily,
    jevons_check,
    series_ends,
    unknown_time_zones,
)
from transforms.electricity_quality import screen_hourly, series_warnings
from warehouse.introspect import table_exists
from warehouse.load import LoadResult, load_frames, sync, upsert
from warehouse.tables.datacentre import DATACENTRE_ELECTRICITY
from warehouse.tables.electricity import (
    DEMAND_DAILY,
    DEMAND_HOURLY,
    ELECTRICITY_IMPACT,
    JEVONS_CHECK,
    RETAIL_SALES_MONTHLY,
)
from warehouse.tables.quality import DATA_QUALITY

LOAD_CHUNK_ROWS = registry.spec("eia").load_chunk_rows[DEMAND_HOURLY.qualified_name]
"""Hourly rows per MERGE (declared in the EIA source's registry entry): bounds the load's memory on a full
backfill. Chunks of one run are still published together, because the whole run writes a staging copy that
replaces the warehouse atomically."""


@dataclass
class ElectricityMarts:
    """The electricity marts one run computed, and what it noticed on the way."""

    daily: pl.DataFrame
    impact: pl.DataFrame
    jevons: pl.DataFrame
    warnings: list[SourceWarning] = field(default_factory=list)
    flagged: pl.DataFrame = field(default_factory=pl.DataFrame)
    """Hourly values the quality screen kept out of the marts (transforms.electricity_quality.FLAG_SCHEMA)."""


def load_datacentre_seed(con: duckdb.DuckDBPyConnection, run_id: str) -> LoadResult:
    """core.datacentre_electricity = the shipped IEA seed (synced like the other seeds: a row removed from the
    seed leaves the table). Read from the seed CSV, so no xlsx reader runs in a daily run."""
    from flows.sources.eia_files.iea import read_seed

    return sync(con, DATACENTRE_ELECTRICITY, read_seed(), run_id=run_id, source="seeds")


def load_electricity(
    con: duckdb.DuckDBPyConnection, run_id: str, result: SourceResult, chunk_rows: int = LOAD_CHUNK_ROWS
) -> list[LoadResult]:
    """Keyed upserts of the fetched hours (in chunks, see LOAD_CHUNK_ROWS) and months; never deletes.

    The flow loads every source through `warehouse.load.load_frames` with the chunking its registry entry
    declares; this is the same call for callers holding an EIA result (benchmarks, tests)."""
    return load_frames(
        con,
        result.frames,
        run_id=run_id,
        source=result.source,
        replacements=result.replacements,
        chunk_rows={DEMAND_HOURLY.qualified_name: chunk_rows},
    )


def compute_electricity_marts(
    con: duckdb.DuckDBPyConnection,
    impact_config: ImpactConfig | None = None,
    jevons_config: JevonsConfig | None = None,
    time_zones: dict[str, str] | None = None,
) -> ElectricityMarts:
    """Daily local demand, the impact windows and the Jevons check, from the warehouse's core and marts."""
    # labels as Categorical: millions of rows repeat a few dozen codes, and the screen's sort, window
    # expressions and group-bys then work on integer codes (half the memory, a fraction of the time)
    hourly = (
        con.sql(
            f"SELECT respondent, subba, period_utc, type, value_mwh FROM {DEMAND_HOURLY.qualified_name} WHERE type = ?",
            params=[DEMAND_TYPE],
        )
        .pl()
        .with_columns(pl.col("respondent", "subba", "type").cast(pl.Categorical))
    )
    warnings = [
        SourceWarning(
            STAGE,
            series,
            "time_zone_unknown",
            f"{series}: not in the time-zone seed warehouse/seeds/ba_time_zones.csv, local days computed in UTC",
        )
        for series in unknown_time_zones(hourly, time_zones)
    ]
    warnings += [
        SourceWarning(STAGE, label, "series_empty", f"{label}: {problem}") for label, problem in series_warnings(hourly)
    ]
    hourly, flagged = screen_hourly(hourly)
    if flagged.height:
        warnings.append(
            SourceWarning(
                STAGE,
                DEMAND_HOURLY.qualified_name,
                "implausible_values",
                f"{flagged.height} implausible hourly value(s) kept out of the marts (kept in core; each listed in "
                "ops.data_quality as check 'implausible_value ...')",
            )
        )
    daily = hourly_to_local_daily(hourly, time_zones)
    del hourly
    monthly = con.sql(f"SELECT * EXCLUDE (loaded_at) FROM {RETAIL_SALES_MONTHLY.qualified_name}").pl()
    events = con.sql("SELECT event_id, event_date, category, name FROM core.ai_events").pl()
    event_impact = con.sql(
        'SELECT event_id, ticker, "group", model, window_start, window_end, car FROM marts.event_impact'
    ).pl()
    impact = electricity_impact(daily, monthly, events, impact_config)
    overlaps = (  # the stock stage wrote it just before (flows.shocks); absent only in hand-built warehouses
        con.sql("SELECT event_id, window_start, window_end, confounded_by FROM marts.event_overlaps").pl()
        if table_exists(con, "marts.event_overlaps")
        else None
    )
    centres = con.sql(f"SELECT * FROM {DATACENTRE_ELECTRICITY.qualified_name}").pl()
    check = jevons_check(
        impact,
        event_impact,
        events,
        jevons_config,
        overlaps=overlaps,
        data_ends=series_ends(daily, monthly),
        context=datacentre_context(centres),
    )
    return ElectricityMarts(daily=daily, impact=impact, jevons=check, warnings=warnings, flagged=flagged)


def stable_floats(frame: pl.DataFrame, digits: int = 12) -> pl.DataFrame:
    """Round floats to 12 significant digits: multi-threaded group-by means differ in the last bits from run
    to run, and a re-run must leave the marts identical (0 updated rows), as flows.daily does for the stock
    marts."""
    floats = [name for name, dtype in frame.schema.items() if dtype.is_float()]
    return frame.with_columns(pl.col(floats).round_sig_figs(digits))


def quality_rows(run_id: str, flagged: pl.DataFrame) -> pl.DataFrame:
    """One ops.data_quality row per flagged value: the check name carries the series and hour (the table's
    key is run, check, table), the detail the value EIA published and the rule it broke."""
    hour = pl.col("period_utc").dt.strftime("%Y-%m-%dT%H:%MZ")
    series = (
        pl.when(pl.col("subba") == "")
        .then(pl.col("respondent"))
        .otherwise(pl.concat_str([pl.col("respondent"), pl.col("subba")], separator="/"))
    )
    return flagged.select(
        pl.lit(run_id).alias("run_id"),
        pl.concat_str([pl.lit("implausible_value"), series, pl.col("type"), hour], separator=" ").alias("check_name"),
        pl.lit(DEMAND_HOURLY.qualified_name).alias("table_name"),
        pl.lit("warn").alias("status"),
        pl.lit("warn").alias("policy"),
        pl.format(
            "{} type {}, hour ending {}: {} MWh ({}); kept in core as published, left out of the marts",
            series,
            pl.col("type"),
            hour,
            pl.col("value_mwh").round(1),
            pl.col("reason"),
        ).alias("detail"),
        pl.lit(datetime.now(UTC)).dt.cast_time_unit("us").alias("checked_at"),
    )


def write_electricity_marts(con: duckdb.DuckDBPyConnection, run_id: str, marts: ElectricityMarts) -> list[LoadResult]:
    """Make the three electricity marts equal the fresh computation, touching only rows that changed, and
    record the screened values in ops.data_quality (rows of this run only)."""
    loads = [
        sync(con, DEMAND_DAILY, marts.daily, run_id=run_id, source="transform"),
        sync(con, ELECTRICITY_IMPACT, stable_floats(marts.impact), run_id=run_id, source="transform"),
        sync(con, JEVONS_CHECK, stable_floats(marts.jevons), run_id=run_id, source="transform"),
    ]
    if marts.flagged.height:
        upsert(con, DATA_QUALITY, quality_rows(run_id, marts.flagged), run_id=run_id, source="quality")
    return loads
