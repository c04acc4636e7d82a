"""The electricity stage of the daily flow: EIA extract → core loads → electricity marts.

Kept out of flows/daily.py so the flow reads as a list of stages. The stage is optional by design: without an
EIA key (neither $EIA_API_KEY nor the Prefect Secret block `eia-api-key`) the extract is skipped with a warning
in the run summary and prices and the stock event study still run; `--require-electricity` turns that
warning into an error. The marts are recomputed from whatever the warehouse holds on every run, so the Jevons
check follows new stock results even on a run that fetched no electricity data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from flows.sources.base import SourceResult, SourceWarning
from flows.sources.eia import (
    API_KEY_ENV,
    HOURLY_TABLE,
    MONTHLY_TABLE,
    SECRET_BLOCK,
    STAGE,
    EiaApiKeyError,
    EiaClient,
    EiaConfig,
    EiaSource,
    LastLoaded,
    resolve_api_key,
)
from transforms.electricity import (
    DEMAND_TYPE,
    ImpactConfig,
    JevonsConfig,
    electricity_impact,
    hourly_to_local_daily,
    jevons_check,
    unknown_time_zones,
)
from warehouse.connection import connect_read_only, resolve_path
from warehouse.load import LoadResult, sync, upsert
from warehouse.tables.electricity import (
    DEMAND_DAILY,
    DEMAND_HOURLY,
    ELECTRICITY_IMPACT,
    JEVONS_CHECK,
    RETAIL_SALES_MONTHLY,
)

LOAD_CHUNK_ROWS = 1_000_000
"""Hourly rows per MERGE: bounds the load's memory on a full backfill. Chunks of one run are still published
together, because the whole run writes a staging copy that replaces the warehouse atomically."""


@dataclass
class ElectricityMarts:
    """The electricity marts one run computed, and what it noticed on the way."""

    daily: pl.DataFrame
    impact: pl.DataFrame
    jevons: pl.DataFrame
    warnings: list[SourceWarning] = field(default_factory=list)


def no_key_warning() -> SourceWarning:
    """The visible warning of a run without an EIA key."""
    return SourceWarning(
        STAGE, "EIA", "no_api_key",
        f"electricity skipped: no EIA API key (set {API_KEY_ENV} or the Prefect Secret block '{SECRET_BLOCK}'; "
        "a free key is at https://www.eia.gov/opendata/register.php)",
    )


def read_last_loaded(con: duckdb.DuckDBPyConnection | None) -> LastLoaded:
    """Latest loaded hour per (respondent, subba) and month per state: where the incremental fetch resumes.

    An absent warehouse (None) or one from before migration 3 has loaded nothing yet.
    """
    if con is None:
        return LastLoaded()
    present = {
        f"{schema}.{name}"
        for schema, name in con.sql("SELECT schema_name, table_name FROM duckdb_tables()").fetchall()
    }
    if not {DEMAND_HOURLY.qualified_name, RETAIL_SALES_MONTHLY.qualified_name} <= present:
        return LastLoaded()
    hourly = con.sql(
        f"SELECT respondent, subba, max(period_utc) FROM {DEMAND_HOURLY.qualified_name} GROUP BY respondent, subba"
    ).fetchall()
    monthly = con.sql(f"SELECT state, max(month) FROM {RETAIL_SALES_MONTHLY.qualified_name} GROUP BY state").fetchall()
    return LastLoaded(hourly={(r, s): ts for r, s, ts in hourly}, monthly={s: m for s, m in monthly})


def extract_for_daily(warehouse: str | Path | None, require: bool = False) -> SourceResult:
    """The daily flow's EIA extract: where to resume from the published warehouse (read-only, closed before
    any request is sent, so the network never holds it open), then the fetch."""
    path = resolve_path(warehouse)
    con = connect_read_only(path) if path.exists() else None
    try:
        last = read_last_loaded(con)
    finally:
        if con is not None:
            con.close()
    return extract_electricity(last, require=require)


def extract_electricity(
    last: LastLoaded,
    *,
    start: date | None = None,
    end: date | None = None,
    require: bool = False,
    config: EiaConfig | None = None,
    api_key: str | None = None,
    client_factory: Callable[[str], EiaClient] | None = None,
) -> SourceResult:
    """Fetch EIA data; without a usable key, an empty result whose warning says why the stage was skipped.

    With `require` (--require-electricity), a missing or invalid key raises EiaApiKeyError instead.
    """
    key = api_key if api_key is not None else resolve_api_key()
    if not key:
        if require:
            raise EiaApiKeyError(
                f"--require-electricity: no EIA API key (set {API_KEY_ENV} or the Prefect Secret block "
                f"'{SECRET_BLOCK}'; a free key is at https://www.eia.gov/opendata/register.php)"
            )
        return SourceResult(source="eia", frames={}, warnings=[no_key_warning()])
    source = EiaSource((client_factory or EiaClient)(key), config)
    try:
        return source.fetch(last, start=start, end=end)
    except EiaApiKeyError as exc:
        if require:
            raise
        return SourceResult(source=source.name, frames={}, failed_subjects=["EIA"], warnings=[
            SourceWarning(STAGE, "EIA", "api_key_invalid", f"electricity skipped: {exc}")
        ])


def _combine(table: str, parts: list[LoadResult]) -> LoadResult:
    return LoadResult(
        table=table,
        rows_in=sum(p.rows_in for p in parts),
        inserted=sum(p.inserted for p in parts),
        updated=sum(p.updated for p in parts),
        deleted=sum(p.deleted for p in parts),
    )


def load_electricity(
    con: duckdb.DuckDBPyConnection, run_id: str, result: SourceResult, chunk_rows: int = LOAD_CHUNK_ROWS
) -> list[LoadResult]:
    """Keyed upserts of the fetched hours (in chunks, see LOAD_CHUNK_ROWS) and months; never deletes."""
    loads: list[LoadResult] = []
    hourly = result.frames.get(HOURLY_TABLE)
    if hourly is not None and hourly.height:
        parts = [
            upsert(con, DEMAND_HOURLY, hourly.slice(offset, chunk_rows), run_id=run_id, source=result.source)
            for offset in range(0, hourly.height, chunk_rows)
        ]
        loads.append(_combine(DEMAND_HOURLY.qualified_name, parts))
    monthly = result.frames.get(MONTHLY_TABLE)
    if monthly is not None and monthly.height:
        loads.append(upsert(con, RETAIL_SALES_MONTHLY, monthly, run_id=run_id, source=result.source))
    return loads


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
        SourceWarning(STAGE, series, "time_zone_unknown",
                      f"{series}: no time zone configured, local days computed in UTC "
                      "(add it to transforms.electricity.TIME_ZONES)")
        for series in unknown_time_zones(hourly, time_zones)
    ]
    daily = hourly_to_local_daily(hourly, time_zones)
    del hourly
    monthly = con.sql(
        f"SELECT * EXCLUDE (loaded_at) FROM {RETAIL_SALES_MONTHLY.qualified_name}"
    ).pl()
    events = con.sql("SELECT event_id, event_date, category, name FROM core.ai_events").pl()
    event_impact = con.sql(
        'SELECT event_id, ticker, "group", model, window_start, window_end, car FROM marts.event_impact'
    ).pl()
    impact = electricity_impact(daily, monthly, events, impact_config)
    check = jevons_check(impact, event_impact, events, jevons_config)
    return ElectricityMarts(daily=daily, impact=impact, jevons=check, warnings=warnings)


def write_electricity_marts(con: duckdb.DuckDBPyConnection, run_id: str, marts: ElectricityMarts) -> list[LoadResult]:
    """Make the three electricity marts equal the fresh computation, touching only rows that changed."""
    return [
        sync(con, DEMAND_DAILY, marts.daily, run_id=run_id, source="transform"),
        sync(con, ELECTRICITY_IMPACT, marts.impact, run_id=run_id, source="transform"),
        sync(con, JEVONS_CHECK, marts.jevons, run_id=run_id, source="transform"),
    ]
