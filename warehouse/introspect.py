"""Questions about what a warehouse connection holds, asked the same way everywhere.

The flow, the report, the artifacts and the quality checks all read tables that may not exist yet (a first
run, a warehouse from before a migration, a read-only copy), so they ask here instead of each keeping a copy.
"""

from __future__ import annotations

import duckdb


def table_exists(con: duckdb.DuckDBPyConnection, qualified_name: str) -> bool:
    """True when `schema.table` exists in the connection's database (a view counts as absent)."""
    schema, name = qualified_name.split(".", 1)
    rows = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = ? AND table_name = ?", [schema, name]
    ).fetchall()
    return bool(rows[0][0])
