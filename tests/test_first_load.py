"""warehouse.first_load: a chunked first load into an empty range table (core.electricity_demand_hourly).

Its INSERT-only path must leave exactly what the keyed upsert path leaves, report the same counts, reject a
key held twice within a chunk, and hand over to the upsert as soon as a chunk may repeat a key an earlier
chunk inserted (a frame not grouped by series), so a key in two chunks is updated, never inserted twice.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import duckdb
import polars as pl
import pytest

from warehouse.load import LoadError, load_frames, upsert
from warehouse.migrations import apply_migrations
from warehouse.tables.electricity import DEMAND_HOURLY

NAME = DEMAND_HOURLY.qualified_name


def _hours(respondent: str, start: int, n: int, value: float = 1.0) -> pl.DataFrame:
    base = datetime(2024, 1, 1, tzinfo=UTC)
    return pl.DataFrame(
        {
            "respondent": [respondent] * n,
            "subba": [""] * n,
            "period_utc": [base + timedelta(hours=start + i) for i in range(n)],
            "type": ["D"] * n,
            "value_mwh": [value + i for i in range(n)],
        },
        schema=DEMAND_HOURLY.polars_schema(exclude=("loaded_at",)),
    )


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect(":memory:")
    apply_migrations(connection)
    return connection


def _stored(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    return con.sql(f"SELECT * EXCLUDE (loaded_at) FROM {NAME} ORDER BY ALL").pl()


def test_chunked_first_load_equals_one_upsert_and_logs_each_chunk(con: duckdb.DuckDBPyConnection) -> None:
    frame = pl.concat([_hours("PJM", 0, 7), _hours("ERCO", 0, 5)])
    (result,) = load_frames(con, {NAME: frame}, run_id="r", source="t", chunk_rows={NAME: 3})
    assert (result.rows_in, result.inserted, result.updated) == (12, 12, 0)
    reference = duckdb.connect(":memory:")
    apply_migrations(reference)
    upsert(reference, DEMAND_HOURLY, frame, run_id="r", source="t")
    assert _stored(con).equals(_stored(reference))
    logged = con.sql("SELECT count(*), sum(rows_inserted) FROM ops.load_log WHERE run_id = 'r'").fetchall()
    assert logged == [(4, 12)]
    (again,) = load_frames(con, {NAME: frame}, run_id="r2", source="t", chunk_rows={NAME: 3})
    assert (again.inserted, again.updated) == (0, 0)


def test_a_key_in_two_chunks_is_updated_not_inserted_twice(con: duckdb.DuckDBPyConnection) -> None:
    # PJM hour 1 comes back in the last chunk with another value: the ranges send that chunk to the upsert
    frame = pl.concat([_hours("PJM", 0, 3), _hours("ERCO", 0, 3), _hours("PJM", 1, 1, value=99.0)])
    (result,) = load_frames(con, {NAME: frame}, run_id="r", source="t", chunk_rows={NAME: 3})
    assert (result.rows_in, result.inserted, result.updated) == (7, 6, 1)
    stored = _stored(con)
    assert stored.height == 6
    assert stored.filter(pl.col("respondent") == "PJM")["value_mwh"].to_list() == [1.0, 99.0, 3.0]


def test_a_key_twice_within_a_chunk_is_rejected(con: duckdb.DuckDBPyConnection) -> None:
    frame = pl.concat([_hours("PJM", 0, 3), _hours("PJM", 2, 1), _hours("ERCO", 0, 2)])
    with pytest.raises(LoadError, match="share a primary key"):
        load_frames(con, {NAME: frame}, run_id="r", source="t", chunk_rows={NAME: 4})
    assert _stored(con).height == 0
