"""Keyed upserts from polars frames (Arrow handoff), one transaction per load, each in ops.load_log.

`upsert` inserts new keys and updates changed rows (an unchanged row is left alone, so `loaded_at` only moves
when a value really changed and re-running a day reports 0 inserted, 0 updated). `sync` is an upsert that also
deletes the keys the new frame no longer has (within an optional scope), which is how derived marts and
restated histories are replaced without rewriting identical rows.

For tables whose key has no DuckDB index (`Table.index_key=False`), this loader is what enforces the key: a
frame holding a key twice is rejected before anything is written, and a stored key is only ever updated in
place by the MERGE, never inserted again. With a `Table.range_column` (core.prices_daily: date), rows outside
their partition's stored range (a new ticker, new days) are plain INSERTs and only the rest are MERGEd, so a
chunked history load does not join every chunk against the whole growing table.

This module and `warehouse.migrations` are the only code that writes SQL. Identifiers come from the table
registry; every value travels as a parameter or as an Arrow table, never formatted into SQL.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import duckdb
import polars as pl

from warehouse.registry import Table
from warehouse.tables.ops import LOAD_LOG, RUNS, WARNINGS

AUTO_COLUMNS = ("loaded_at",)
"""Columns the load fills itself (with now()) when the frame does not carry them."""

_view_counter = itertools.count()


@dataclass(frozen=True)
class LoadResult:
    """What one load did to one table."""

    table: str
    rows_in: int
    inserted: int
    updated: int
    deleted: int

    @property
    def changed(self) -> int:
        return self.inserted + self.updated + self.deleted


class LoadError(ValueError):
    """A frame that does not fit its table (programming error, not user input)."""


def _q(name: str) -> str:
    return f'"{name}"'


def _in_key_order(key: Sequence[str]) -> pl.Expr:
    """Per row: its key sorts at or after the previous row's (lexicographically over the key columns)."""
    col, prev = pl.col(key[0]), pl.col(key[0]).shift(1)
    if len(key) == 1:
        return col >= prev
    return (col > prev) | ((col == prev) & _in_key_order(key[1:]))


def _duplicated(frame: pl.DataFrame, key: Sequence[str]) -> pl.Series:
    """Rows whose key another row of the frame also has (like `is_duplicated` on the key columns).

    Sources hand over frames in key order, where equal keys are neighbours: comparing each row with the next
    is linear and several times cheaper than hashing millions of keys. Frames out of order, or with a null or
    a key column other than string, integer or temporal, take the hash path.
    """
    keys = frame.select(key)
    plain = all(
        keys[k].null_count() == 0
        and (keys[k].dtype == pl.String or keys[k].dtype.is_integer() or keys[k].dtype.is_temporal())
        for k in key
    )  # no nulls or NaN (which compare unequal to themselves, where is_duplicated counts them as one value)
    if frame.height < 2 or not plain:
        return keys.is_duplicated()
    same = pl.all_horizontal([pl.col(k) == pl.col(k).shift(1) for k in key]).fill_null(False)
    checked = keys.select(
        _in_key_order(key).fill_null(True).all().alias("ordered"), same.alias("same")
    )  # one pass: "ordered" is broadcast next to "same"
    if not checked["ordered"][0]:
        return keys.is_duplicated()
    same_as_prev = checked["same"]
    return same_as_prev | same_as_prev.shift(-1, fill_value=False)


def _check_frame(table: Table, frame: pl.DataFrame) -> list[str]:
    """Columns to write (the table's, minus auto-filled ones absent); rejects unknown or missing columns."""
    frame_cols = set(frame.columns)
    unknown = frame_cols - set(table.column_names)
    if unknown:
        raise LoadError(f"{table.qualified_name}: frame has columns not in the table: {sorted(unknown)}")
    missing = [c for c in table.column_names if c not in frame_cols and c not in AUTO_COLUMNS]
    if missing:
        raise LoadError(f"{table.qualified_name}: frame lacks columns {missing}")
    if table.primary_key and frame.height:
        dup = _duplicated(frame, table.primary_key)
        if dup.any():
            first = frame.filter(dup).select(table.primary_key).row(0)
            example = ", ".join(f"{k}={v}" for k, v in zip(table.primary_key, first, strict=True))
            raise LoadError(
                f"{table.qualified_name}: {int(dup.sum())} rows share a primary key "
                f"({', '.join(table.primary_key)}), e.g. {example}; nothing was written"
            )
    return [c for c in table.column_names if c in frame_cols]


def _merge_sql(table: Table, view: str, cols: list[str]) -> str:
    key = table.primary_key
    on = " AND ".join(f"t.{_q(k)} = s.{_q(k)}" for k in key)
    value_cols = [c for c in cols if c not in key]
    auto = [c for c in AUTO_COLUMNS if c in table.column_names and c not in cols]
    insert_cols = cols + auto
    insert_vals = [f"s.{_q(c)}" for c in cols] + ["now()" for _ in auto]
    sql = f"MERGE INTO {table.qualified_name} AS t USING {view} AS s ON ({on}) "
    if value_cols:
        differs = " OR ".join(f"t.{_q(c)} IS DISTINCT FROM s.{_q(c)}" for c in value_cols)
        sets = ", ".join([f"{_q(c)} = s.{_q(c)}" for c in value_cols] + [f"{_q(c)} = now()" for c in auto])
        sql += f"WHEN MATCHED AND ({differs}) THEN UPDATE SET {sets} "
    sql += f"WHEN NOT MATCHED THEN INSERT ({', '.join(_q(c) for c in insert_cols)}) VALUES ({', '.join(insert_vals)})"
    return sql


def _insert_sql(table: Table, view: str, cols: list[str]) -> str:
    """Plain INSERT for an empty table (a first load): no key can match, so no MERGE join is needed."""
    auto = [c for c in AUTO_COLUMNS if c in table.column_names and c not in cols]
    names = ", ".join(_q(c) for c in cols + auto)
    values = ", ".join([_q(c) for c in cols] + ["now()" for _ in auto])
    return f"INSERT INTO {table.qualified_name} ({names}) SELECT {values} FROM {view}"


def _row_count(con: duckdb.DuckDBPyConnection, table: Table) -> int:
    return int(con.sql(f"SELECT count(*) FROM {table.qualified_name}").fetchall()[0][0])


def _stored_ranges(con: duckdb.DuckDBPyConnection, table: Table, view: str) -> pl.DataFrame:
    """Per partition of the frame in `view` (the key without the range column): stored min and max of it."""
    rng = table.range_column
    assert rng is not None
    part = [k for k in table.primary_key if k != rng]
    lo, hi = "_jevons_lo", "_jevons_hi"
    if not part:
        return con.sql(f"SELECT min({_q(rng)}) AS {lo}, max({_q(rng)}) AS {hi} FROM {table.qualified_name}").pl()
    cols = ", ".join(_q(c) for c in part)
    # A semi join on the frame's few distinct partitions: DuckDB builds on them and scans only the key columns.
    return con.sql(
        f"SELECT {cols}, min({_q(rng)}) AS {lo}, max({_q(rng)}) AS {hi} FROM {table.qualified_name} "
        f"WHERE ({cols}) IN (SELECT DISTINCT {cols} FROM {view}) GROUP BY {cols}"
    ).pl()


def _split_new(
    con: duckdb.DuckDBPyConnection, table: Table, frame: pl.DataFrame, view: str
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(rows no stored key can match, rows that may match one), by each partition's stored range.

    A row whose range value lies outside [min, max] of what its partition stores (or whose partition stores
    nothing) cannot share a key with a stored row; only the rest need the keyed MERGE.
    """
    rng = table.range_column
    assert rng is not None
    part = [k for k in table.primary_key if k != rng]
    ranges = _stored_ranges(con, table, view)
    if ranges.height == 0 or ranges["_jevons_lo"].null_count() == ranges.height:  # nothing of it is stored
        return frame, frame.clear()
    lo, hi = pl.col("_jevons_lo"), pl.col("_jevons_hi")
    dtypes: dict[Any, pl.DataType] = {c: frame.schema[c] for c in part}
    dtypes |= {"_jevons_lo": frame.schema[rng], "_jevons_hi": frame.schema[rng]}
    ranges = ranges.cast(dtypes)
    if part:
        marked = frame.join(ranges, on=part, how="left", nulls_equal=False, maintain_order="left")
    else:
        marked = frame.join(ranges, how="cross")
    new = (lo.is_null() | (pl.col(rng) < lo) | (pl.col(rng) > hi)).fill_null(True)
    marked = marked.with_columns(new.alias("_jevons_new"))
    keep = frame.columns
    return (
        marked.filter(pl.col("_jevons_new")).select(keep),
        marked.filter(~pl.col("_jevons_new")).select(keep),
    )


def _arrow(frame: pl.DataFrame) -> Any:
    """The frame as an Arrow table for DuckDB, Categorical labels as strings: exporting a Categorical builds
    an Arrow dictionary of every category, several times slower per chunk than the cast."""
    labels = [name for name, dtype in frame.schema.items() if dtype == pl.Categorical]
    return (frame.with_columns(pl.col(labels).cast(pl.String)) if labels else frame).to_arrow()


def _execute_on(con: duckdb.DuckDBPyConnection, frame: pl.DataFrame, sql_for: Callable[[str], str]) -> int:
    """Register `frame` under a unique view name, run `sql_for(view)`, return the rows it affected."""
    view = f"_jevons_src_{next(_view_counter)}"
    con.register(view, _arrow(frame))
    try:
        return int(con.execute(sql_for(view)).fetchall()[0][0])
    finally:
        with contextlib.suppress(duckdb.Error):
            con.unregister(view)


def _write(
    con: duckdb.DuckDBPyConnection, table: Table, frame: pl.DataFrame, view: str, cols: list[str]
) -> tuple[int, int]:
    """Insert the frame's new keys and update its changed rows; returns (inserted, updated).

    MERGE reports rows affected (inserts + updates); the row-count difference splits them, which is cheaper
    than RETURNING merge_action (one value per row).
    """
    before = _row_count(con, table)
    if before == 0:  # a first load: no key can match, so no MERGE join is needed
        inserted = int(con.execute(_insert_sql(table, view, cols)).fetchall()[0][0])
        return inserted, 0
    if table.range_column is None:
        affected = int(con.execute(_merge_sql(table, view, cols)).fetchall()[0][0])
        inserted = _row_count(con, table) - before
        return inserted, affected - inserted
    new, maybe = _split_new(con, table, frame, view)
    if maybe.height == 0:  # a new partition, or only new days: the frame is already registered as `view`
        return int(con.execute(_insert_sql(table, view, cols)).fetchall()[0][0]), 0
    inserted = _execute_on(con, new, lambda v: _insert_sql(table, v, cols)) if new.height else 0
    before = _row_count(con, table)
    if new.height:
        affected = _execute_on(con, maybe, lambda v: _merge_sql(table, v, cols))
    else:
        affected = int(con.execute(_merge_sql(table, view, cols)).fetchall()[0][0])
    merged_in = _row_count(con, table) - before
    return inserted + merged_in, affected - merged_in


def _apply(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    frame: pl.DataFrame,
    delete_missing: bool,
    scope: Mapping[str, Sequence[Any]] | None,
) -> LoadResult:
    if not table.primary_key:
        raise LoadError(f"{table.qualified_name} has no primary key: keyed loads need one")
    cols = _check_frame(table, frame)
    view = f"_jevons_src_{next(_view_counter)}"
    source = frame.select(cols)
    con.register(view, _arrow(source))
    try:
        inserted = updated = 0
        if frame.height:
            inserted, updated = _write(con, table, source, view, cols)
        deleted = 0
        if delete_missing:
            match = " AND ".join(f"t.{_q(k)} = s.{_q(k)}" for k in table.primary_key)
            where = [f"NOT EXISTS (SELECT 1 FROM {view} AS s WHERE {match})"]
            params: list[Any] = []
            for column, values in (scope or {}).items():
                table.column(column)  # raises for an unknown column
                where.append(f"t.{_q(column)} IN (SELECT unnest(?))")
                params.append(list(values))
            rows = con.execute(
                f"DELETE FROM {table.qualified_name} AS t WHERE {' AND '.join(where)}", params
            ).fetchall()
            deleted = int(rows[0][0]) if rows else 0
    finally:
        # In an aborted transaction unregister fails too; the uniquely named view is then simply left behind.
        with contextlib.suppress(duckdb.Error):
            con.unregister(view)
    return LoadResult(
        table=table.qualified_name,
        rows_in=frame.height,
        inserted=inserted,
        updated=updated,
        deleted=deleted,
    )


def load(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    frame: pl.DataFrame,
    *,
    run_id: str,
    source: str,
    delete_missing: bool = False,
    scope: Mapping[str, Sequence[Any]] | None = None,
    message: str | None = None,
) -> LoadResult:
    """Upsert `frame` into `table` (and, with delete_missing, drop keys it lacks) in one transaction.

    The load and its ops.load_log row commit together; on any error the transaction rolls back and the
    error propagates (the flow records the failed run).
    """
    started = datetime.now(UTC)
    con.begin()
    try:
        result = _apply(con, table, frame, delete_missing, scope)
        _log(con, run_id, source, result, started, "ok", message)
        con.commit()
    except BaseException:
        con.rollback()
        raise
    return result


def upsert(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    frame: pl.DataFrame,
    *,
    run_id: str,
    source: str,
    message: str | None = None,
) -> LoadResult:
    """Insert new keys, update changed rows; never deletes."""
    return load(con, table, frame, run_id=run_id, source=source, message=message)


def sync(
    con: duckdb.DuckDBPyConnection,
    table: Table,
    frame: pl.DataFrame,
    *,
    run_id: str,
    source: str,
    scope: Mapping[str, Sequence[Any]] | None = None,
    message: str | None = None,
) -> LoadResult:
    """Make `table` (or the rows of it within `scope`) hold exactly `frame`, touching only what differs."""
    return load(con, table, frame, run_id=run_id, source=source, delete_missing=True, scope=scope, message=message)


@dataclass(frozen=True)
class Replacement:
    """A slice of a table a source fetched in full: `scope` maps columns to the values it covers.

    `load_frames` makes the stored rows within the scope equal the frame's rows within it (a `sync`, deleting
    what the refetch no longer has), logged with `message` (why the slice was replaced).
    """

    table: str
    scope: Mapping[str, Sequence[Any]]
    message: str


def _combine(table: str, parts: Sequence[LoadResult]) -> LoadResult:
    return LoadResult(
        table=table,
        rows_in=sum(p.rows_in for p in parts),
        inserted=sum(p.inserted for p in parts),
        updated=sum(p.updated for p in parts),
        deleted=sum(p.deleted for p in parts),
    )


def load_frames(
    con: duckdb.DuckDBPyConnection,
    frames: Mapping[str, pl.DataFrame],
    *,
    run_id: str,
    source: str,
    replacements: Sequence[Replacement] = (),
    chunk_rows: Mapping[str, int] | None = None,
) -> list[LoadResult]:
    """Load every frame into the registered table its key names: the one loader for every source.

    First a keyed upsert of each frame's rows outside any replacement scope (skipped when there are none;
    a frame above `chunk_rows[table]` rows goes in chunks, one transaction each, reported as one result;
    into an empty table with a range column, chunks go in as plain INSERTs, see `warehouse.first_load`),
    then one logged `sync` per replacement (run even when the refetched slice is empty, so stale rows go).
    """
    from warehouse.registry import table as registered

    chunks = chunk_rows or {}
    loads: list[LoadResult] = []
    replaced: list[tuple[Replacement, pl.DataFrame]] = []
    for name, frame in frames.items():
        target = registered(name)
        inside = pl.lit(False)
        for rep in (r for r in replacements if r.table == name):
            in_scope = pl.all_horizontal([pl.col(c).is_in(list(v)) for c, v in rep.scope.items()])
            inside = inside | in_scope
            replaced.append((rep, frame.filter(in_scope)))
        rest = frame.filter(~inside) if any(r.table == name for r in replacements) else frame
        if rest.height == 0:
            continue
        size = chunks.get(name) or rest.height
        if rest.height > size and target.range_column is not None and _row_count(con, target) == 0:
            from warehouse.first_load import first_load

            parts = first_load(con, target, rest, size, run_id=run_id, source=source)
        else:
            parts = [
                upsert(con, target, rest.slice(offset, size), run_id=run_id, source=source)
                for offset in range(0, rest.height, size)
            ]
        loads.append(parts[0] if len(parts) == 1 else _combine(name, parts))
    for rep, frame in replaced:
        loads.append(
            sync(con, registered(rep.table), frame, run_id=run_id, source=source, scope=rep.scope, message=rep.message)
        )
    return loads


def _log(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    source: str,
    result: LoadResult,
    started: datetime,
    status: str,
    message: str | None,
) -> None:
    con.execute(
        f"INSERT INTO {LOAD_LOG.qualified_name} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, now(), ?, ?)",
        [
            uuid.uuid4().hex,
            run_id,
            source,
            result.table,
            result.rows_in,
            result.inserted,
            result.updated,
            result.deleted,
            started,
            status,
            message,
        ],
    )


def record_warnings(con: duckdb.DuckDBPyConnection, run_id: str, warnings: Iterable[tuple[str, str, str, str]]) -> int:
    """Write (stage, subject, code, message) warnings for a run; duplicates within a run collapse."""
    rows = list(dict.fromkeys(warnings))
    if not rows:
        return 0
    frame = pl.DataFrame(rows, schema=["stage", "subject", "code", "message"], orient="row").unique(
        subset=["stage", "subject", "code"], keep="first", maintain_order=True
    )
    frame = frame.with_columns(pl.lit(run_id).alias("run_id"), pl.lit(datetime.now(UTC)).alias("recorded_at")).select(
        WARNINGS.column_names
    )
    upsert(con, WARNINGS, frame, run_id=run_id, source="pipeline")
    return frame.height


def record_run(
    con: duckdb.DuckDBPyConnection,
    *,
    run_id: str,
    flow: str,
    started_at: datetime,
    status: str,
    parameters: Mapping[str, Any],
    summary: Mapping[str, Any] | None,
    finished: bool = True,
) -> None:
    """Insert or update the run's row in ops.runs (parameters must hold no secrets)."""
    frame = pl.DataFrame(
        {
            "run_id": [run_id],
            "flow": [flow],
            "started_at": [started_at],
            "finished_at": [datetime.now(UTC) if finished else None],
            "status": [status],
            "parameters_json": [json.dumps(parameters, default=str, sort_keys=True)],
            "summary_json": [json.dumps(summary, default=str, sort_keys=True) if summary else None],
        },
        schema=RUNS.polars_schema(),
    )
    con.begin()
    try:
        _apply(con, RUNS, frame, delete_missing=False, scope=None)
        con.commit()
    except BaseException:
        con.rollback()
        raise
