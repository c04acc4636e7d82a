"""Read-only access to the published warehouse for `jevons sql` and `jevons tables`.

The connection is opened read_only (so it never blocks or is blocked by a run, which writes a staging copy
and renames it into place), external access is switched off (no COPY ... TO files, no ATTACH, no INSTALL),
the configuration is locked, and only query statements are accepted: anything else is refused with a clear
message before it runs.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

from warehouse.connection import connect_read_only, resolve_path
from warehouse.errors import JevonsInputError

ALLOWED_STATEMENTS = {
    duckdb.StatementType.SELECT,
    duckdb.StatementType.EXPLAIN,
    duckdb.StatementType.PRAGMA,
    duckdb.StatementType.CALL,
}


def open_for_query(warehouse: str | Path | None) -> duckdb.DuckDBPyConnection:
    """Read-only, sandboxed connection to the published warehouse."""
    path = resolve_path(warehouse)
    if not path.exists():
        raise JevonsInputError(f"no warehouse at {path}: run `jevons run` first, or pass --warehouse PATH")
    con = connect_read_only(path)
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
    return con


def check_read_only(con: duckdb.DuckDBPyConnection, query: str) -> None:
    """Refuse anything but query statements (writes, ATTACH, COPY, INSTALL/LOAD, SET, ...)."""
    try:
        statements = con.extract_statements(query)
    except duckdb.Error as exc:
        raise JevonsInputError(f"SQL syntax error: {exc}") from None
    if not statements:
        raise JevonsInputError('empty SQL: pass one query, e.g. "SELECT * FROM marts.event_impact LIMIT 5"')
    for statement in statements:
        if statement.type not in ALLOWED_STATEMENTS:
            kind = statement.type.name
            raise JevonsInputError(
                f"jevons sql is read-only: {kind} statements are refused "
                "(queries only: SELECT, WITH, DESCRIBE, SHOW, SUMMARIZE, EXPLAIN, PRAGMA)"
            )


def run_read_only_query(warehouse: str | Path | None, query: str) -> pl.DataFrame:
    """Run one query read-only and return its result as a polars frame (Arrow handoff)."""
    con = open_for_query(warehouse)
    try:
        check_read_only(con, query)
        try:
            return con.sql(query).pl()
        except duckdb.Error as exc:
            raise JevonsInputError(f"query failed: {exc}") from None
    finally:
        con.close()


def describe_tables(warehouse: str | Path | None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(tables with row counts and comments, columns with types and comments) of the jevons schemas."""
    con = open_for_query(warehouse)
    try:
        tables = con.sql(
            "SELECT schema_name || '.' || table_name AS \"table\", estimated_size AS rows, comment AS description "
            "FROM duckdb_tables() WHERE schema_name IN ('core', 'marts', 'ops') ORDER BY schema_name, table_name"
        ).pl()
        views = con.sql(
            "SELECT schema_name || '.' || view_name AS \"table\", NULL::BIGINT AS rows, comment AS description "
            "FROM duckdb_views() WHERE schema_name IN ('core', 'marts', 'ops') ORDER BY schema_name, view_name"
        ).pl()
        columns = con.sql(
            'SELECT schema_name || \'.\' || table_name AS "table", column_name AS "column", data_type AS type, '
            "comment AS description FROM duckdb_columns() WHERE schema_name IN ('core', 'marts', 'ops') "
            "ORDER BY schema_name, table_name, column_index"
        ).pl()
    finally:
        con.close()
    return pl.concat([tables, views]), columns
