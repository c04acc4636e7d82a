"""Versioned schema migrations, applied in order when the warehouse is opened read-write.

Migration N creates every registry table whose `introduced_in == N` (DDL derived from the registry) and then
runs its own extra SQL (views, ALTERs). `ops.schema_version` records each applied version, so re-opening an
up-to-date warehouse is a no-op. Table and column comments are rewritten from the registry whenever a
migration runs, so `duckdb_tables()` / `duckdb_columns()` always explain the current schema.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import duckdb

from warehouse.registry import SCHEMAS, all_tables, table


@dataclass(frozen=True)
class Migration:
    """One schema step: tables registered with introduced_in == version, then `sql`, then `apply`."""

    version: int
    description: str
    sql: tuple[str, ...] = ()
    apply: Callable[[duckdb.DuckDBPyConnection], None] | None = field(default=None, compare=False)


MIGRATIONS: list[Migration] = [
    Migration(1, "foundation: core prices, events, universe; marts event study; ops run bookkeeping"),
    Migration(2, "live prices: core.corporate_actions (dividends, splits, capital gains from Yahoo Finance)"),
    Migration(3, "electricity: EIA hourly demand, monthly retail sales; marts daily demand, impact, jevons check"),
    Migration(
        4,
        "event-study engine: models, prediction-error-corrected CAR statistics, marts.group_impact",
        sql=(
            "ALTER TABLE marts.event_impact ADD COLUMN IF NOT EXISTS car_se DOUBLE",
            "ALTER TABLE marts.event_impact ADD COLUMN IF NOT EXISTS scar DOUBLE",
            "ALTER TABLE marts.event_impact ADD COLUMN IF NOT EXISTS scar_p DOUBLE",
            "ALTER TABLE marts.event_impact ADD COLUMN IF NOT EXISTS n_missing_estimation INTEGER",
        ),
    ),
    Migration(5, "operations: ops.data_quality check results"),
    Migration(
        6,
        "core.prices_daily key (ticker, date) enforced by the loader instead of a DuckDB PRIMARY KEY index",
        apply=lambda con: drop_key_index(con, "core.prices_daily"),
    ),
    Migration(
        7,  # warehouse.tables.shocks.SHOCKS_MIGRATION: renumber both together
        "shocks and overlaps: marts.shock_candidates, marts.event_overlaps; core.universe history_from",
        sql=(
            "ALTER TABLE core.universe ADD COLUMN IF NOT EXISTS history_from DATE",
            "ALTER TABLE core.universe ADD COLUMN IF NOT EXISTS history_source VARCHAR",
        ),
    ),
    Migration(
        8,  # warehouse.tables.weather.WEATHER_MIGRATION
        "weather: core NOAA degree days and zone daily temperature; marts weather models, normalised demand",
    ),
    Migration(9, "IEA data-centre electricity: core.datacentre_electricity (seed datacentre_electricity.csv)"),
    Migration(
        10,
        "confounded windows in the Jevons check: marts.jevons_check.reaction_confounded_by",
        sql=("ALTER TABLE marts.jevons_check ADD COLUMN IF NOT EXISTS reaction_confounded_by VARCHAR",),
    ),
    Migration(
        11,  # issue 17 phase 2: weather-adjusted columns (transforms.weather.adjust)
        "weather-adjusted electricity impact and Jevons verdict: marts.electricity_impact, marts.jevons_check",
        sql=tuple(
            f"ALTER TABLE marts.{table} ADD COLUMN IF NOT EXISTS {column} {dtype}"
            for table, column, dtype in (
                ("electricity_impact", "growth_change_pp_weather_adjusted", "DOUBLE"),
                ("electricity_impact", "weather_r2", "DOUBLE"),
                ("electricity_impact", "weather_n_fit", "INTEGER"),
                ("electricity_impact", "weather_fit_start", "DATE"),
                ("electricity_impact", "weather_fit_end", "DATE"),
                ("electricity_impact", "weather_adjustment_status", "VARCHAR"),
                ("jevons_check", "adjusted_growth_change_3m_pp", "DOUBLE"),
                ("jevons_check", "adjusted_growth_change_6m_pp", "DOUBLE"),
                ("jevons_check", "n_regions_adjusted_3m", "INTEGER"),
                ("jevons_check", "n_regions_adjusted_6m", "INTEGER"),
                ("jevons_check", "weather_r2_min", "DOUBLE"),
                ("jevons_check", "demand_outcome_weather_adjusted", "VARCHAR"),
                ("jevons_check", "verdict_weather_adjusted", "VARCHAR"),
                ("jevons_check", "weather_note", "VARCHAR"),
            )
        ),
    ),
    Migration(
        12,
        "electricity files wired: marts.jevons_check regions_used and datacentre_context",
        sql=(
            "ALTER TABLE marts.jevons_check ADD COLUMN IF NOT EXISTS regions_used VARCHAR",
            "ALTER TABLE marts.jevons_check ADD COLUMN IF NOT EXISTS datacentre_context VARCHAR",
        ),
    ),
    Migration(
        13,
        "group statistics: marts.group_impact n_below_min (a group test of fewer than 3 tickers is not evidence)",
        sql=("ALTER TABLE marts.group_impact ADD COLUMN IF NOT EXISTS n_below_min BOOLEAN",),
    ),
]


def _has_primary_key(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> bool:
    return bool(
        con.execute(
            "SELECT count(*) FROM duckdb_constraints() WHERE schema_name = ? AND table_name = ? "
            "AND constraint_type = 'PRIMARY KEY'",
            [schema, name],
        ).fetchall()[0][0]
    )


def drop_key_index(con: duckdb.DuckDBPyConnection, qualified_name: str) -> None:
    """Rebuild a table without its PRIMARY KEY constraint (DuckDB cannot drop one), keeping every row.

    Runs inside the migration's transaction: the old table is renamed aside, the registry's DDL (now without
    the constraint, `index_key=False`) creates the new one, the rows are copied and the old table dropped; the
    comments are rewritten from the registry when the migration commits. A table already without the
    constraint (a warehouse created after the registry change), or one the registry still indexes, is left
    alone.
    """
    tbl = table(qualified_name)
    if tbl.index_key:  # the registry wants the index after all: the stored table already matches it
        return
    exists = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = ? AND table_name = ?", [tbl.schema, tbl.name]
    ).fetchall()[0][0]
    if not exists or not _has_primary_key(con, tbl.schema, tbl.name):
        return
    old = f"{tbl.name}_with_key_index"
    cols = ", ".join(f'"{c}"' for c in tbl.column_names)
    con.execute(f"ALTER TABLE {tbl.qualified_name} RENAME TO {old}")
    con.execute(tbl.ddl())
    con.execute(f"INSERT INTO {tbl.qualified_name} ({cols}) SELECT {cols} FROM {tbl.schema}.{old}")
    con.execute(f"DROP TABLE {tbl.schema}.{old}")


def current_version(con: duckdb.DuckDBPyConnection) -> int:
    """Highest applied migration, 0 for an empty database."""
    exists = con.sql(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'ops' AND table_name = 'schema_version'"
    ).fetchall()[0][0]
    if not exists:
        return 0
    row = con.sql("SELECT coalesce(max(version), 0) FROM ops.schema_version").fetchall()[0]
    return int(row[0])


def _applied_versions(con: duckdb.DuckDBPyConnection) -> set[int]:
    """Every applied version (not just the highest: a migration merged later with a lower number still runs)."""
    if current_version(con) == 0:
        return set()
    return {int(r[0]) for r in con.sql("SELECT version FROM ops.schema_version").fetchall()}


def latest_version() -> int:
    return max(m.version for m in MIGRATIONS)


def apply_migrations(con: duckdb.DuckDBPyConnection) -> list[int]:
    """Apply pending migrations, each in its own transaction; returns the versions applied."""
    applied: list[int] = []
    have = _applied_versions(con)
    for migration in sorted(MIGRATIONS, key=lambda m: m.version):
        if migration.version in have:
            continue
        con.begin()
        try:
            for schema in SCHEMAS:
                con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
            for tbl in all_tables():
                if tbl.introduced_in == migration.version:
                    con.execute(tbl.ddl())
            for statement in migration.sql:
                con.execute(statement)
            if migration.apply is not None:
                migration.apply(con)
            con.execute(
                "INSERT INTO ops.schema_version VALUES (?, ?, now())",
                [migration.version, migration.description],
            )
            write_comments(con)
            con.commit()
        except BaseException:
            con.rollback()
            raise
        applied.append(migration.version)
    if not applied and stale_comments(con):  # a description edited in code since the last migration
        con.begin()
        try:
            write_comments(con)
            con.commit()
        except BaseException:
            con.rollback()
            raise
    return applied


def stale_comments(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether any table or column comment in the warehouse differs from the registry's text."""
    rows = con.sql("SELECT schema_name, table_name, comment FROM duckdb_tables()").fetchall()
    tables = {(r[0], r[1]): r[2] for r in rows}
    columns = {
        (r[0], r[1], r[2]): r[3]
        for r in con.sql("SELECT schema_name, table_name, column_name, comment FROM duckdb_columns()").fetchall()
    }
    for tbl in all_tables():
        if (tbl.schema, tbl.name) not in tables:
            continue
        if tables[(tbl.schema, tbl.name)] != tbl.description:
            return True
        if any(columns.get((tbl.schema, tbl.name, col.name)) != col.comment() for col in tbl.columns):
            return True
    return False


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def write_comments(con: duckdb.DuckDBPyConnection) -> None:
    """COMMENT ON every schema's tables and columns from the registry (texts are code constants)."""
    existing = {(r[0], r[1]) for r in con.sql("SELECT schema_name, table_name FROM duckdb_tables()").fetchall()}
    for tbl in all_tables():
        if (tbl.schema, tbl.name) not in existing:
            continue
        con.execute(f"COMMENT ON TABLE {tbl.qualified_name} IS {_quote(tbl.description)}")
        for col in tbl.columns:
            con.execute(f'COMMENT ON COLUMN {tbl.qualified_name}."{col.name}" IS {_quote(col.comment())}')
