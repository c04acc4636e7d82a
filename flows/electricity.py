"""The electricity stage of the daily flow: the electricity marts, recomputed from the warehouse.

Kept out of flows/daily.py so the flow reads as a list of stages. The extract is the registry's electricity
source (flows.sources.registry; the EIA API by default), loaded like every source by table name. The stage is
optional by design: without an EIA key (neither $EIA_API_KEY nor the Prefect Secret block `eia-api-key`) the
extract is skipped with a warning in the run summary and prices and the stock event study still run;
`--require-electricity` turns that warning into an error. The marts are recomputed from whatever the warehouse
holds on every run, so the Jevons check follows new stock results even on a run that fetched no electricity
data.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import polars as pl

from flows.sources import registry
from flows.sources.base import SourceResult, SourceWarning
from flows.sources.eia.query import STAGE
from transforms.electricity import (
    DEMAND_TYPE,
    ImpactConfig,
    JevonsConfig,
    electricity_impact,
    hourly_to_local_daily,
    jevons_check,
    unknown_time_zones,
)
from warehouse.introspect import table_exists
from warehouse.load import LoadResult, load_frames, sync
from warehouse.tables.electricity import (
    DEMAND_DAILY,
    DEMAND_HOURLY,
    ELECTRICITY_IMPACT,
    JEVONS_CHECK,
    RETAIL_SALES_MONTHLY,
)

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
    hourly = con.sql(
        f"SELECT respondent, subba, period_utc, type, value_mwh FROM {DEMAND_HOURLY.qualified_name} WHERE type = ?",
        params=[DEMAND_TYPE],
    ).pl()
    warnings = [
        SourceWarning(
            STAGE,
            series,
            "time_zone_unknown",
            f"{series}: no time zone configured, local days computed in UTC "
            "(add it to transforms.electricity.TIME_ZONES)",
        )
        for series in unknown_time_zones(hourly, time_zones)
    ]
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
    check = jevons_check(impact, event_impact, events, jevons_config, overlaps)
    return ElectricityMarts(daily=daily, impact=impact, jevons=check, warnings=warnings)


def write_electricity_marts(con: duckdb.DuckDBPyConnection, run_id: str, marts: ElectricityMarts) -> list[LoadResult]:
    """Make the three electricity marts equal the fresh computation, touching only rows that changed."""
    return [
        sync(con, DEMAND_DAILY, marts.daily, run_id=run_id, source="transform"),
        sync(con, ELECTRICITY_IMPACT, marts.impact, run_id=run_id, source="transform"),
        sync(con, JEVONS_CHECK, marts.jevons, run_id=run_id, source="transform"),
    ]
