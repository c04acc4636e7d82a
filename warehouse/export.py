"""The warehouse as Parquet for engines without DuckDB (Spark, Trino, R's arrow, Power Query, polars).

`export_warehouse` writes every table of the chosen schemas (core and marts by default) under
`DIR/<schema>/<table>/`: one `data.parquet`, or Hive-partitioned `<column>=<value>/` folders for the large
tables in PARTITION_BY (each file also keeps the partition column, so a file read alone is complete and
typed). `DIR/manifest.json` lists, per table, its rows, files, partitioning, the DuckDB column types and the
table and column comments, and names the warehouse run the data came from (the last completed run in
ops.runs).

A reader of DIR never sees half an export: everything is written to a hidden sibling folder and then swapped
in with one rename (Linux `renameat2(RENAME_EXCHANGE)` when DIR already exists, so DIR is never missing
either; elsewhere two renames). The warehouse is opened read-only: runs publish by renaming a new file over
it (warehouse/connection.py), so an export never blocks a run and reads one consistent snapshot.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import shutil
import sys
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from warehouse.connection import connect_read_only, file_storage_version
from warehouse.errors import JevonsInputError, WarehouseError

DEFAULT_SCHEMAS = ("core", "marts")
EXPORTABLE_SCHEMAS = ("core", "marts", "ops")
MANIFEST = "manifest.json"
MANIFEST_FORMAT = 1
# Tables large enough that a reader filters by a column first: one folder per value (Hive layout).
PARTITION_BY: dict[str, tuple[str, ...]] = {
    "marts.abnormal_returns": ("event_id",),
    "core.electricity_demand_hourly": ("respondent",),
}
_RENAME_EXCHANGE = 2  # <linux/fs.h>
_AT_FDCWD = -100


@dataclass(frozen=True)
class ExportResult:
    """Where the export went and what it holds (the manifest as written)."""

    out: Path
    manifest: dict[str, Any]

    @property
    def rows(self) -> int:
        return sum(int(t["rows"]) for t in self.manifest["tables"])


def parse_schemas(value: str | None) -> tuple[str, ...]:
    """`core,marts` → ('core', 'marts'); a JevonsInputError naming --tables for anything else."""
    if value is None or not value.strip():
        return DEFAULT_SCHEMAS
    schemas = tuple(dict.fromkeys(s.strip() for s in value.split(",") if s.strip()))
    unknown = [s for s in schemas if s not in EXPORTABLE_SCHEMAS]
    if unknown or not schemas:
        raise JevonsInputError(
            f"--tables: unknown schema {', '.join(unknown) or value!r} (choose from {', '.join(EXPORTABLE_SCHEMAS)})"
        )
    return schemas


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _tables(con: duckdb.DuckDBPyConnection, schemas: tuple[str, ...]) -> list[tuple[str, str, str | None]]:
    marks = ", ".join("?" for _ in schemas)
    rows = con.execute(
        f"SELECT schema_name, table_name, comment FROM duckdb_tables() WHERE database_name = current_database() "
        f"AND schema_name IN ({marks}) ORDER BY schema_name, table_name",
        list(schemas),
    ).fetchall()
    return [(str(s), str(t), None if c is None else str(c)) for s, t, c in rows]


def _columns(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> list[dict[str, Any]]:
    rows = con.execute(
        "SELECT column_name, data_type, is_nullable, comment FROM duckdb_columns() "
        "WHERE database_name = current_database() AND schema_name = ? AND table_name = ? ORDER BY column_index",
        [schema, name],
    ).fetchall()
    return [{"name": c, "type": t, "nullable": bool(n), "comment": m} for c, t, n, m in rows]


def _source_run(con: duckdb.DuckDBPyConnection) -> dict[str, Any] | None:
    """The last completed run in ops.runs: the data an export holds is that run's publication."""
    with contextlib.suppress(duckdb.Error):
        rows = con.execute(
            "SELECT run_id, flow, status, started_at, finished_at FROM ops.runs "
            "WHERE status LIKE 'completed%' ORDER BY finished_at DESC NULLS LAST LIMIT 1"
        ).fetchall()
        if rows:
            row = rows[0]
            keys = ("run_id", "flow", "status", "started_at", "finished_at")
            return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in zip(keys, row, strict=True)}
    return None


def _export_table(con: duckdb.DuckDBPyConnection, schema: str, name: str, folder: Path) -> tuple[int, list[str]]:
    qualified = f"{_quote(schema)}.{_quote(name)}"
    rows = int(con.execute(f"SELECT count(*) FROM {qualified}").fetchall()[0][0])
    partition = PARTITION_BY.get(f"{schema}.{name}", ())
    folder.mkdir(parents=True)
    if partition and rows:
        by = ", ".join(_quote(c) for c in partition)
        con.execute(
            f"COPY (SELECT * FROM {qualified}) TO {_literal(str(folder))} "
            f"(FORMAT parquet, PARTITION_BY ({by}), WRITE_PARTITION_COLUMNS true, FILENAME_PATTERN 'data_{{i}}')"
        )
    else:
        con.execute(f"COPY (SELECT * FROM {qualified}) TO {_literal(str(folder / 'data.parquet'))} (FORMAT parquet)")
    files = sorted(str(p.relative_to(folder)) for p in folder.rglob("*.parquet"))
    return rows, files


def _swap_in(staged: Path, out: Path) -> None:
    """Make `staged` visible as `out` in one rename; the previous export (if any) is removed afterwards."""
    if not out.exists():
        os.replace(staged, out)
        return
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        if hasattr(libc, "renameat2"):
            done = libc.renameat2(_AT_FDCWD, bytes(staged), _AT_FDCWD, bytes(out), _RENAME_EXCHANGE)
            if done == 0:  # `staged` now holds the previous export
                shutil.rmtree(staged, ignore_errors=True)
                return
    old = out.with_name(f".{out.name}.old-{uuid.uuid4().hex[:8]}")
    os.replace(out, old)
    os.replace(staged, out)
    shutil.rmtree(old, ignore_errors=True)


def _check_target(out: Path) -> None:
    """Never replace a folder jevons did not write (one without a manifest that holds files)."""
    if out.exists() and not out.is_dir():
        raise JevonsInputError(f"--out: {out} is a file, not a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / MANIFEST).exists():
        raise JevonsInputError(f"--out: {out} holds files that are not a jevons export (no {MANIFEST}); choose another")


def export_warehouse(
    warehouse: str | Path, out: str | Path, schemas: tuple[str, ...] = DEFAULT_SCHEMAS
) -> ExportResult:
    """Export `schemas` of the warehouse to Parquet under `out`, atomically; returns the manifest."""
    target = Path(out).expanduser().absolute()
    _check_target(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WarehouseError(f"cannot create {target.parent}: {exc}") from exc
    staged = target.with_name(f".{target.name}.tmp-{uuid.uuid4().hex[:8]}")
    con = connect_read_only(warehouse)
    try:
        tables = []
        staged.mkdir()
        for schema, name, comment in _tables(con, schemas):
            rel = Path(schema) / name
            rows, files = _export_table(con, schema, name, staged / rel)
            tables.append(
                {
                    "name": f"{schema}.{name}",
                    "path": str(rel),
                    "rows": rows,
                    "partition_by": list(PARTITION_BY.get(f"{schema}.{name}", ())) if rows else [],
                    "files": files,
                    "comment": comment,
                    "columns": _columns(con, schema, name),
                }
            )
        manifest = {
            "format": MANIFEST_FORMAT,
            "exported_at": datetime.now(UTC).isoformat(),
            "warehouse": str(Path(warehouse).absolute()),
            "storage_version": file_storage_version(con),
            "run": _source_run(con),
            "schemas": list(schemas),
            "tables": tables,
        }
        (staged / MANIFEST).write_text(json.dumps(manifest, indent=2, default=str) + "\n", encoding="utf-8")
        con.close()
        _swap_in(staged, target)
    except BaseException:
        with contextlib.suppress(Exception):
            con.close()
        shutil.rmtree(staged, ignore_errors=True)
        raise
    return ExportResult(target, manifest)
