"""The first load of a big frame into an empty table with a range column: plain INSERTs, chunk by chunk.

`warehouse.load.load_frames` hands a chunked frame here when its table (one with a `Table.range_column`, such
as core.electricity_demand_hourly) holds no row yet: a backfill of tens of millions of hours then needs no
MERGE join and no stored-range query per chunk, which cost more than the INSERTs themselves. Every chunk is
still checked for a key held twice, and a key held by two chunks is ruled out by the ranges (below).
"""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb
import polars as pl

from warehouse.load import LoadResult, _check_frame, _execute_on, _insert_sql, _log, upsert
from warehouse.registry import Table


def first_load(
    con: duckdb.DuckDBPyConnection, table: Table, frame: pl.DataFrame, size: int, *, run_id: str, source: str
) -> list[LoadResult]:
    """A chunked frame into a table that was empty before its first chunk: plain INSERTs, chunk by chunk.

    The loader remembers each partition's [min, max] of the range column over the chunks it inserted, so a
    chunk none of whose rows falls inside those ranges cannot match a stored key: it is INSERTed without the
    stored-range query and join of `warehouse.load`. From the first chunk that may overlap (a frame not grouped
    by partition), the rest goes through `upsert`. Each chunk is one transaction with its ops.load_log row.
    """
    rng = table.range_column
    assert rng is not None
    part = [k for k in table.primary_key if k != rng]
    lo, hi = "_jevons_lo", "_jevons_hi"
    ranges: pl.DataFrame | None = None
    parts: list[LoadResult] = []
    cols = _check_frame(table, frame.clear())
    for offset in range(0, frame.height, size):
        chunk = frame.slice(offset, size)
        _check_frame(table, chunk)  # a key twice within the chunk; across chunks the ranges rule it out
        if ranges is not None:
            inside = chunk.select([*part, rng]).join(ranges, on=part, how="inner")
            if inside.filter(pl.col(rng).is_between(pl.col(lo), pl.col(hi))).height:
                rest = frame.slice(offset)
                parts += [
                    upsert(con, table, rest.slice(o, size), run_id=run_id, source=source)
                    for o in range(0, rest.height, size)
                ]
                break
        started = datetime.now(UTC)
        con.begin()
        try:
            inserted = _execute_on(con, chunk.select(cols), lambda view: _insert_sql(table, view, cols))
            result = LoadResult(
                table=table.qualified_name, rows_in=chunk.height, inserted=inserted, updated=0, deleted=0
            )
            _log(con, run_id, source, result, started, "ok", None)
            con.commit()
        except BaseException:
            con.rollback()
            raise
        parts.append(result)
        seen = chunk.group_by(part).agg(pl.col(rng).min().alias(lo), pl.col(rng).max().alias(hi))
        both = seen if ranges is None else pl.concat([ranges, seen])
        ranges = both.group_by(part).agg(pl.col(lo).min(), pl.col(hi).max())
    return parts
