"""Warehouse mechanics: migrations, comments, keyed loads, load log, staged publication, locks."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import polars as pl
import pytest

from flows.sources.base import PRICE_COLUMNS
from warehouse.connection import connect_read_only, resolve_path, run_lock, staged_writer
from warehouse.errors import WarehouseError
from warehouse.load import LoadError, record_warnings, sync, upsert
from warehouse.migrations import MIGRATIONS, apply_migrations, current_version, latest_version
from warehouse.registry import SCHEMAS, all_tables
from warehouse.tables.core import PRICES_DAILY, UNIVERSE


def _prices(rows: list[tuple[str, dt.date, float]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "ticker": [r[0] for r in rows],
            "date": [r[1] for r in rows],
            "open": [None] * len(rows),
            "high": [None] * len(rows),
            "low": [None] * len(rows),
            "close": [r[2] for r in rows],
            "adj_close": [r[2] for r in rows],
            "volume": [None] * len(rows),
            "source": ["test"] * len(rows),
        },
        schema=PRICE_COLUMNS,
    )


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    c = duckdb.connect()
    apply_migrations(c)
    return c


def test_migrations_create_every_registered_table_and_reopen_is_noop(con: duckdb.DuckDBPyConnection) -> None:
    have = {f"{s}.{t}" for s, t in con.sql("SELECT schema_name, table_name FROM duckdb_tables()").fetchall()}
    have |= {f"{s}.{t}" for s, t in con.sql("SELECT schema_name, view_name FROM duckdb_views()").fetchall()}
    assert {t.qualified_name for t in all_tables()} <= have
    assert current_version(con) == latest_version()
    assert apply_migrations(con) == []
    assert con.sql("SELECT count(*) FROM ops.schema_version").fetchall()[0][0] == len(MIGRATIONS)


def test_every_table_introduced_by_a_known_migration() -> None:
    versions = {m.version for m in MIGRATIONS}
    assert {t.introduced_in for t in all_tables()} <= versions
    assert set(SCHEMAS) == {t.schema for t in all_tables()}


def test_every_table_and_column_has_a_comment(con: duckdb.DuckDBPyConnection) -> None:
    missing_tables = con.sql(
        "SELECT schema_name, table_name FROM duckdb_tables() "
        "WHERE schema_name IN ('core','marts','ops') AND (comment IS NULL OR comment = '')"
    ).fetchall()
    missing_cols = con.sql(
        "SELECT table_name, column_name FROM duckdb_columns() "
        "WHERE schema_name IN ('core','marts','ops') AND (comment IS NULL OR comment = '')"
    ).fetchall()
    assert missing_tables == []
    assert missing_cols == []
    comment = con.sql(
        "SELECT comment FROM duckdb_columns() WHERE table_name = 'prices_daily' AND column_name = 'adj_close'"
    ).fetchall()[0][0]
    assert "[unit: currency of listing]" in comment


def test_columns_match_registry(con: duckdb.DuckDBPyConnection) -> None:
    for table in all_tables():
        cols = [
            r[0]
            for r in con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE schema_name = ? AND table_name = ? "
                "ORDER BY column_index",
                [table.schema, table.name],
            ).fetchall()
        ]
        if cols:  # views registered as tables are checked by their own tests
            assert cols == table.column_names, table.qualified_name


def test_upsert_counts_inserts_updates_and_is_idempotent(con: duckdb.DuckDBPyConnection) -> None:
    d1, d2 = dt.date(2025, 1, 24), dt.date(2025, 1, 27)
    first = upsert(con, PRICES_DAILY, _prices([("CEG", d1, 344.51), ("CEG", d2, 272.68)]), run_id="r1", source="t")
    assert (first.inserted, first.updated, first.deleted) == (2, 0, 0)
    loaded_at = con.sql("SELECT loaded_at FROM core.prices_daily WHERE date = '2025-01-24'").fetchall()
    again = upsert(con, PRICES_DAILY, _prices([("CEG", d1, 344.51), ("CEG", d2, 272.68)]), run_id="r2", source="t")
    assert (again.inserted, again.updated) == (0, 0)
    assert con.sql("SELECT loaded_at FROM core.prices_daily WHERE date = '2025-01-24'").fetchall() == loaded_at
    changed = upsert(con, PRICES_DAILY, _prices([("CEG", d2, 272.70)]), run_id="r3", source="t")
    assert (changed.inserted, changed.updated) == (0, 1)
    assert con.sql("SELECT adj_close FROM core.prices_daily WHERE date = '2025-01-27'").fetchall() == [(272.70,)]
    log = con.sql(
        "SELECT run_id, table_name, rows_inserted, rows_updated, status FROM ops.load_log ORDER BY started_at"
    )
    assert log.fetchall() == [
        ("r1", "core.prices_daily", 2, 0, "ok"),
        ("r2", "core.prices_daily", 0, 0, "ok"),
        ("r3", "core.prices_daily", 0, 1, "ok"),
    ]


def test_sync_deletes_missing_keys_within_scope(con: duckdb.DuckDBPyConnection) -> None:
    d = dt.date(2025, 1, 27)
    upsert(con, PRICES_DAILY, _prices([("A", d, 1.0), ("B", d, 2.0), ("C", d, 3.0)]), run_id="r", source="t")
    res = sync(con, PRICES_DAILY, _prices([("A", d, 1.5)]), run_id="r", source="t", scope={"ticker": ["A", "B"]})
    assert (res.updated, res.deleted) == (1, 1)
    assert con.sql("SELECT ticker FROM core.prices_daily ORDER BY ticker").fetchall() == [("A",), ("C",)]


def test_duplicate_keys_and_unknown_columns_are_rejected_without_writing(con: duckdb.DuckDBPyConnection) -> None:
    d = dt.date(2025, 1, 27)
    with pytest.raises(LoadError, match="share a primary key"):
        upsert(con, PRICES_DAILY, _prices([("A", d, 1.0), ("A", d, 2.0)]), run_id="r", source="t")
    with pytest.raises(LoadError, match="not in the table"):
        upsert(con, UNIVERSE, pl.DataFrame({"ticker": ["A"], "colour": ["red"]}), run_id="r", source="t")
    assert con.sql("SELECT count(*) FROM core.prices_daily").fetchall() == [(0,)]
    assert con.sql("SELECT count(*) FROM ops.load_log").fetchall() == [(0,)]


def test_failed_load_rolls_back_data_and_log(con: duckdb.DuckDBPyConnection) -> None:
    bad = _prices([("A", dt.date(2025, 1, 27), 1.0)]).with_columns(pl.lit(None, pl.Float64).alias("adj_close"))
    with pytest.raises(duckdb.ConstraintException):
        upsert(con, PRICES_DAILY, bad, run_id="r", source="t")
    assert con.sql("SELECT count(*) FROM core.prices_daily").fetchall() == [(0,)]
    assert con.sql("SELECT count(*) FROM ops.load_log").fetchall() == [(0,)]


def test_record_warnings_collapses_duplicates(con: duckdb.DuckDBPyConnection) -> None:
    n = record_warnings(con, "r", [("prices", "AEP", "ticker_missing", "x"), ("prices", "AEP", "ticker_missing", "x")])
    assert n == 1
    assert con.sql("SELECT subject, code FROM ops.warnings").fetchall() == [("AEP", "ticker_missing")]


def test_staged_writer_publishes_atomically_and_discards_on_failure(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    d = dt.date(2025, 1, 27)
    with staged_writer(path) as c:
        upsert(c, PRICES_DAILY, _prices([("A", d, 1.0)]), run_id="r1", source="t")
    assert not (tmp_path / "w.duckdb.staging").exists()
    before = path.read_bytes()
    with pytest.raises(RuntimeError, match="boom"), staged_writer(path) as c:
        upsert(c, PRICES_DAILY, _prices([("B", d, 2.0)]), run_id="r2", source="t")
        raise RuntimeError("boom")
    assert path.read_bytes() == before
    assert not (tmp_path / "w.duckdb.staging").exists()
    ro = connect_read_only(path)
    assert ro.sql("SELECT ticker FROM core.prices_daily").fetchall() == [("A",)]
    ro.close()


def test_reader_holding_the_file_does_not_block_a_run_and_sees_new_data_after_reconnect(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    d = dt.date(2025, 1, 27)
    with staged_writer(path) as c:
        upsert(c, PRICES_DAILY, _prices([("A", d, 1.0)]), run_id="r1", source="t")
    reader = duckdb.connect(str(path), read_only=True)
    with staged_writer(path) as c:
        upsert(c, PRICES_DAILY, _prices([("B", d, 2.0)]), run_id="r2", source="t")
    assert reader.sql("SELECT count(*) FROM core.prices_daily").fetchall() == [(1,)]  # old snapshot
    reader.close()
    fresh = duckdb.connect(str(path), read_only=True)
    assert fresh.sql("SELECT count(*) FROM core.prices_daily").fetchall() == [(2,)]
    fresh.close()


def test_overlapping_runs_are_refused_with_a_clear_message(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    with run_lock(path), pytest.raises(WarehouseError, match="another jevons run"), run_lock(path):
        pass


def test_missing_warehouse_for_read_only_is_named(tmp_path: Path) -> None:
    with pytest.raises(WarehouseError, match="no warehouse at"):
        connect_read_only(tmp_path / "nope.duckdb")


def test_resolve_path_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JEVONS_WAREHOUSE", raising=False)
    assert resolve_path(None) == Path("data/jevons.duckdb")
    monkeypatch.setenv("JEVONS_WAREHOUSE", "/tmp/x.duckdb")
    assert resolve_path(None) == Path("/tmp/x.duckdb")
    assert resolve_path("/tmp/y.duckdb") == Path("/tmp/y.duckdb")


def test_a_description_edited_in_code_reaches_an_existing_warehouse(tmp_path: Path) -> None:
    """Comments follow the registry without a migration: the next writer rewrites a stale one, and only then."""
    wh = tmp_path / "w.duckdb"
    with staged_writer(wh):
        pass
    c = duckdb.connect(str(wh))
    c.execute("COMMENT ON TABLE core.prices_daily IS 'an old text'")
    c.execute("COMMENT ON COLUMN core.universe.\"group\" IS 'an old column text'")
    from warehouse.migrations import stale_comments

    assert stale_comments(c)
    c.close()
    with staged_writer(wh):
        pass
    c = duckdb.connect(str(wh), read_only=True)
    comment = c.sql("SELECT comment FROM duckdb_tables() WHERE table_name = 'prices_daily'").fetchall()[0][0]
    column = c.sql(
        "SELECT comment FROM duckdb_columns() WHERE table_name = 'universe' AND column_name = 'group'"
    ).fetchall()[0][0]
    assert comment == PRICES_DAILY.description and column == UNIVERSE.column("group").comment()
    assert not stale_comments(c)
    c.close()
