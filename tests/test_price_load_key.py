"""core.prices_daily's key (ticker, date) without a DuckDB index: the loader enforces it, migration 6 drops it.

Since migration 6 the table has no PRIMARY KEY (its ART index cost more than half of a 15.6 M-row history
load). These tests prove the key still holds: overlapping loads never duplicate a key and count right, a frame
holding a key twice is refused naming the ticker and date, a key hidden inside a ticker's stored range is
inserted once, restated histories are replaced, the data-quality check catches a duplicate written behind the
loader's back, and a version-5 warehouse migrates keeping every row and every comment, atomically.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import polars as pl
import pytest

from flows.live_prices import read_last_loaded
from flows.quality import DataQualityError, record_and_enforce, run_checks
from flows.sources.base import PRICE_COLUMNS
from warehouse import migrations
from warehouse.connection import connect_read_only, staged_writer
from warehouse.load import LoadError, LoadResult, _duplicated, sync, upsert
from warehouse.migrations import MIGRATIONS, apply_migrations, current_version
from warehouse.registry import TABLES, Column, Table
from warehouse.tables.core import PRICES_DAILY

D0 = dt.date(2025, 1, 1)


def day(i: int) -> dt.date:
    return D0 + dt.timedelta(days=i)


def frame(rows: list[tuple[str, int, float]]) -> pl.DataFrame:
    """Price rows (ticker, day number, close) in the source shape (every column but loaded_at)."""
    return pl.DataFrame(
        {
            "ticker": [r[0] for r in rows],
            "date": [day(r[1]) for r in rows],
            "open": [r[2] for r in rows],
            "high": [r[2] for r in rows],
            "low": [r[2] for r in rows],
            "close": [r[2] for r in rows],
            "adj_close": [r[2] for r in rows],
            "volume": [1000 for _ in rows],
            "source": ["test" for _ in rows],
        },
        schema=PRICE_COLUMNS,
    )


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    c = duckdb.connect()
    apply_migrations(c)
    yield c
    c.close()


def stored(con: duckdb.DuckDBPyConnection) -> list[tuple[str, dt.date, float]]:
    return con.sql("SELECT ticker, date, adj_close FROM core.prices_daily ORDER BY ticker, date").fetchall()


def duplicated_keys(con: duckdb.DuckDBPyConnection) -> list[tuple[str, dt.date]]:
    return con.sql("SELECT ticker, date FROM core.prices_daily GROUP BY ticker, date HAVING count(*) > 1").fetchall()


def counts(result: LoadResult) -> tuple[int, int, int]:
    return (result.inserted, result.updated, result.deleted)


def test_table_has_no_key_index_but_the_registry_keeps_the_key(con: duckdb.DuckDBPyConnection) -> None:
    assert PRICES_DAILY.primary_key == ("ticker", "date") and not PRICES_DAILY.index_key
    assert "PRIMARY KEY" not in PRICES_DAILY.ddl()
    kinds = con.sql(
        "SELECT constraint_type FROM duckdb_constraints() WHERE schema_name = 'core' AND table_name = 'prices_daily'"
    ).fetchall()
    assert ("PRIMARY KEY",) not in kinds and kinds.count(("NOT NULL",)) >= 2  # ticker, date still NOT NULL


def test_overlapping_loads_keep_one_row_per_key_and_count_right(con: duckdb.DuckDBPyConnection) -> None:
    first = frame([("A", i, 10.0 + i) for i in range(1, 11)] + [("B", i, 20.0 + i) for i in range(1, 6)])
    assert counts(upsert(con, PRICES_DAILY, first, run_id="r1", source="t")) == (15, 0, 0)
    # A: an earlier day (0) and later days (11..15) are new, day 7 changed, days 5..10 otherwise the same;
    # B: unchanged; C: a ticker never stored.
    second = frame(
        [("A", 0, 10.0)]
        + [("A", i, 99.0 if i == 7 else 10.0 + i) for i in range(5, 16)]
        + [("B", i, 20.0 + i) for i in range(1, 6)]
        + [("C", i, 30.0 + i) for i in range(3)]
    )
    assert counts(upsert(con, PRICES_DAILY, second, run_id="r2", source="t")) == (1 + 5 + 3, 1, 0)
    assert counts(upsert(con, PRICES_DAILY, second, run_id="r3", source="t")) == (0, 0, 0)  # idempotent
    assert counts(upsert(con, PRICES_DAILY, first, run_id="r4", source="t")) == (0, 1, 0)  # day 7 back to 17
    assert duplicated_keys(con) == []
    assert con.sql("SELECT count(*) FROM core.prices_daily").fetchall() == [(16 + 5 + 3,)]
    assert ("A", day(7), 17.0) in stored(con)
    log = con.sql(
        "SELECT run_id, rows_in, rows_inserted, rows_updated, rows_deleted FROM ops.load_log ORDER BY run_id"
    ).fetchall()
    assert log == [("r1", 15, 15, 0, 0), ("r2", 20, 9, 1, 0), ("r3", 20, 0, 0, 0), ("r4", 15, 0, 1, 0)]


def test_a_missing_day_inside_the_stored_range_is_inserted_once(con: duckdb.DuckDBPyConnection) -> None:
    upsert(con, PRICES_DAILY, frame([("A", 1, 1.0), ("A", 2, 2.0), ("A", 4, 4.0)]), run_id="r1", source="t")
    hole = frame([("A", 3, 3.0)])
    assert counts(upsert(con, PRICES_DAILY, hole, run_id="r2", source="t")) == (1, 0, 0)
    assert counts(upsert(con, PRICES_DAILY, hole, run_id="r3", source="t")) == (0, 0, 0)
    assert [r[1] for r in stored(con)] == [day(1), day(2), day(3), day(4)]


def test_unchanged_rows_keep_loaded_at_and_changed_rows_move_it(con: duckdb.DuckDBPyConnection) -> None:
    upsert(con, PRICES_DAILY, frame([("A", 1, 1.0), ("A", 2, 2.0)]), run_id="r1", source="t")
    before = dict(con.sql("SELECT date, loaded_at FROM core.prices_daily").fetchall())
    upsert(con, PRICES_DAILY, frame([("A", 1, 1.0), ("A", 2, 2.5), ("A", 3, 3.0)]), run_id="r2", source="t")
    after = dict(con.sql("SELECT date, loaded_at FROM core.prices_daily").fetchall())
    assert after[day(1)] == before[day(1)] and after[day(2)] > before[day(2)] and day(3) in after


def test_a_frame_with_a_duplicate_key_is_refused_naming_ticker_and_date(con: duckdb.DuckDBPyConnection) -> None:
    upsert(con, PRICES_DAILY, frame([("CEG", 1, 1.0)]), run_id="r1", source="t")
    bad = frame([("CEG", 2, 2.0), ("VST", 5, 5.0), ("VST", 5, 5.5)])
    with pytest.raises(
        LoadError, match=r"2 rows share a primary key \(ticker, date\), e\.g\. ticker=VST, date=2025-01-06"
    ):
        upsert(con, PRICES_DAILY, bad, run_id="r2", source="t")
    with pytest.raises(LoadError, match="ticker=VST, date=2025-01-06"):
        sync(con, PRICES_DAILY, bad, run_id="r3", source="t", scope={"ticker": ["VST"]})
    assert stored(con) == [("CEG", day(1), 1.0)]  # nothing of the refused frames was written
    assert con.sql("SELECT run_id FROM ops.load_log").fetchall() == [("r1",)]


def test_failed_load_after_the_split_rolls_back_both_halves(con: duckdb.DuckDBPyConnection) -> None:
    upsert(con, PRICES_DAILY, frame([("A", 1, 1.0), ("A", 5, 5.0)]), run_id="r1", source="t")
    # day 9 is a plain INSERT (outside A's range), day 3 a MERGE: the NULL adj_close fails the MERGE half.
    bad = frame([("A", 9, 9.0), ("A", 3, 3.0)]).with_columns(
        pl.when(pl.col("date") == day(3)).then(None).otherwise(pl.col("adj_close")).alias("adj_close")
    )
    with pytest.raises(duckdb.ConstraintException):
        upsert(con, PRICES_DAILY, bad, run_id="r2", source="t")
    assert stored(con) == [("A", day(1), 1.0), ("A", day(5), 5.0)]
    assert con.sql("SELECT count(*) FROM ops.load_log").fetchall() == [(1,)]


def test_restated_history_is_replaced_without_duplicates(con: duckdb.DuckDBPyConnection) -> None:
    upsert(con, PRICES_DAILY, frame([("A", i, float(i)) for i in range(1, 6)]), run_id="r1", source="t")
    restated = frame([("A", i, i / 2) for i in range(2, 8)])  # day 1 gone, 2..5 rescaled, 6..7 new
    res = sync(con, PRICES_DAILY, restated, run_id="r2", source="t", scope={"ticker": ["A"]})
    assert counts(res) == (2, 4, 1)
    assert stored(con) == [("A", day(i), i / 2) for i in range(2, 8)]
    assert duplicated_keys(con) == []


def test_quality_check_catches_a_duplicate_written_behind_the_loader(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("INSERT INTO core.universe VALUES ('SPY', 'SPDR', 'benchmarks', 'SPY')")
    upsert(con, PRICES_DAILY, frame([("SPY", 0, 600.0), ("SPY", 1, 601.0)]), run_id="r1", source="t")
    today = day(3)
    clean = {r.check: r for r in run_checks(con, today) if r.table_name == "core.prices_daily"}
    assert clean["duplicate_keys"].status == "pass"
    # Without an index nothing in DuckDB stops a hand-written INSERT; the check is what notices it.
    con.execute(
        "INSERT INTO core.prices_daily (ticker, date, close, adj_close, source, loaded_at) "
        "VALUES ('SPY', DATE '2025-01-02', 601, 601, 'hand', now())"
    )
    with pytest.raises(DataQualityError, match=r"duplicate_keys on core\.prices_daily"):
        record_and_enforce(con, "r2", run_checks(con, today))


# --------------------------------------------------------------------------------------------------------------
# Migration 6 on a version-5 warehouse
# --------------------------------------------------------------------------------------------------------------


@pytest.fixture
def v5_warehouse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A warehouse file as jevons wrote it before migration 6: prices_daily with its PRIMARY KEY, some rows."""
    path = tmp_path / "v5.duckdb"
    with monkeypatch.context() as m:
        m.setitem(
            TABLES,
            PRICES_DAILY.qualified_name,
            dataclasses.replace(PRICES_DAILY, index_key=True, range_column=None),
        )
        m.setattr(migrations, "MIGRATIONS", [mig for mig in MIGRATIONS if mig.version <= 5])
        c = duckdb.connect(str(path))
        assert migrations.apply_migrations(c) == [1, 2, 3, 4, 5]
        upsert(
            c,
            TABLES[PRICES_DAILY.qualified_name],
            frame([("A", i, float(i)) for i in range(1, 6)]),
            run_id="r1",
            source="t",
        )
        upsert(
            c,
            TABLES[PRICES_DAILY.qualified_name],
            frame([("B", i, 2.0 * i) for i in range(3)]),
            run_id="r2",
            source="t",
        )
        with pytest.raises(duckdb.ConstraintException):  # the v5 table really has the index
            c.execute("INSERT INTO core.prices_daily SELECT * FROM core.prices_daily LIMIT 1")
        c.close()
    return path


def _snapshot(c: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    return {
        "version": current_version(c),
        "rows": c.sql("SELECT * FROM core.prices_daily ORDER BY ticker, date").fetchall(),
        "table_comment": c.sql(
            "SELECT comment FROM duckdb_tables() WHERE schema_name = 'core' AND table_name = 'prices_daily'"
        ).fetchall(),
        "columns": c.sql(
            "SELECT column_name, data_type, is_nullable, comment FROM duckdb_columns() "
            "WHERE schema_name = 'core' AND table_name = 'prices_daily' ORDER BY column_index"
        ).fetchall(),
        "key_index": c.sql(
            "SELECT count(*) FROM duckdb_constraints() WHERE schema_name = 'core' AND table_name = 'prices_daily' "
            "AND constraint_type = 'PRIMARY KEY'"
        ).fetchall()[0][0],
    }


def test_migration_6_drops_the_index_keeping_rows_and_comments(v5_warehouse: Path) -> None:
    ro = connect_read_only(v5_warehouse)
    before = _snapshot(ro)
    ro.close()
    assert before["version"] == 5 and before["key_index"] == 1 and len(before["rows"]) == 8
    with staged_writer(v5_warehouse) as c:  # the real path: migrate the staging copy, publish atomically
        assert current_version(c) >= 6  # 6 and any later migration
        res = upsert(c, PRICES_DAILY, frame([("A", 5, 5.0), ("A", 6, 6.0)]), run_id="r3", source="t")
        assert counts(res) == (1, 0, 0)  # A day 5 was migrated, so only day 6 is new
    ro = connect_read_only(v5_warehouse)
    after = _snapshot(ro)
    core_tables = [t for (t,) in ro.sql("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'core'").fetchall()]
    ro.close()
    assert after["version"] >= 6 and after["key_index"] == 0
    assert [r for r in after["rows"] if r[1] != day(6)] == before["rows"]  # every v5 row, values and loaded_at
    assert after["table_comment"] == before["table_comment"] == [(PRICES_DAILY.description,)]
    assert after["columns"] == before["columns"]  # names, types, NOT NULLs and comments
    assert all(comment for *_, comment in after["columns"])
    assert [t for t in core_tables if t.startswith("prices_daily")] == ["prices_daily"]  # the old copy is gone


def test_failed_migration_6_leaves_the_version_5_table(v5_warehouse: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    c = duckdb.connect(str(v5_warehouse))
    before = _snapshot(c)

    def boom(con: duckdb.DuckDBPyConnection) -> None:
        raise RuntimeError("comments failed")

    monkeypatch.setattr(migrations, "write_comments", boom)  # fails after the table was rebuilt
    with pytest.raises(RuntimeError, match="comments failed"):
        apply_migrations(c)
    assert _snapshot(c) == before  # still indexed, same rows, same comments
    monkeypatch.undo()
    assert apply_migrations(c)[0] == 6  # then any later migration
    assert _snapshot(c)["rows"] == before["rows"]
    c.close()


def test_prices_daily_is_among_the_tables_checked_for_duplicate_keys(con: duckdb.DuckDBPyConnection) -> None:
    checked = {r.table_name for r in run_checks(con, day(3)) if r.check == "duplicate_keys"}
    assert "core.prices_daily" in checked


def test_read_last_loaded_matches_a_reference_on_histories_with_gaps(con: duckdb.DuckDBPyConnection) -> None:
    """The one-pass query equals the definition: the (overlap+1)-th latest date within the last
    2*overlap+14 days, or the earliest date of that window when it holds fewer rows."""
    rng = np.random.default_rng(7)
    rows = []
    for k in range(40):
        n = int(rng.integers(1, 60))
        gaps = rng.choice([1, 1, 1, 3, 10, 30], size=n)  # some long holes, e.g. a suspended listing
        rows += [(f"T{k:02d}", int(d), 1.0) for d in np.cumsum(gaps)]
    upsert(con, PRICES_DAILY, frame(rows), run_id="r", source="t")
    tickers = [f"T{k:02d}" for k in range(40)] + ["NEVER"]
    for overlap in (0, 1, 5):
        got = read_last_loaded(con, tickers, overlap)
        history = frame(rows).select("ticker", "date").sort("ticker", "date", descending=[False, True])
        want = []
        for (ticker,), dates in history.group_by("ticker", maintain_order=True):
            ds = dates["date"].to_list()
            window = [d for d in ds if d >= ds[0] - dt.timedelta(days=2 * overlap + 14)]
            start = window[overlap] if len(window) > overlap else window[-1]
            want.append((ticker, ds[0], ds[-1], len(ds), start))
        assert got.rows() == want, overlap


@pytest.mark.parametrize("key", [("a", "b", "d"), ("d",)])
def test_range_split_loads_equal_plain_merges_on_random_overlapping_frames(key: tuple[str, ...]) -> None:
    """Differential: the same random loads through the INSERT/MERGE split and through MERGE alone leave the
    same rows and report the same counts (multi-column partitions, and a key that is only the range column),
    upserts and scoped syncs alike."""
    columns = (
        Column("a", "VARCHAR", "a"),
        Column("b", "INTEGER", "b"),
        Column("d", "DATE", "d"),
        Column("v", "DOUBLE", "v"),
        Column("loaded_at", "TIMESTAMPTZ", "t", nullable=False),
    )
    split = Table("core", "split_t", "t", columns, primary_key=key, index_key=False, range_column="d")
    plain = Table("core", "plain_t", "t", columns, primary_key=key, index_key=False)
    c = duckdb.connect()
    apply_migrations(c)
    c.execute(split.ddl())
    c.execute(plain.ddl())
    rng = np.random.default_rng(3)
    for run in range(25):
        n = int(rng.integers(0, 40))
        f = pl.DataFrame(
            {
                "a": rng.choice(["x", "y", "z"], n),
                "b": rng.integers(0, 3, n).astype(np.int32),
                "d": [day(int(i)) for i in rng.integers(0, 30, n)],
                "v": rng.integers(0, 3, n).astype(float),
            },
            schema={"a": pl.String, "b": pl.Int32, "d": pl.Date, "v": pl.Float64},
        ).unique(subset=list(key), keep="first", maintain_order=True)
        if run % 4 == 3:  # now and then a replacement of one partition, as for a restated ticker
            got = sync(c, split, f, run_id=f"s{run}", source="t", scope={"a": ["x"]})
            want = sync(c, plain, f, run_id=f"p{run}", source="t", scope={"a": ["x"]})
        else:
            got = upsert(c, split, f, run_id=f"s{run}", source="t")
            want = upsert(c, plain, f, run_id=f"p{run}", source="t")
        assert counts(got) == counts(want), run
    rows = "SELECT a, b, d, v FROM core.{} ORDER BY ALL"
    assert c.sql(rows.format("split_t")).fetchall() == c.sql(rows.format("plain_t")).fetchall()
    keys = ", ".join(key)
    assert c.sql(f"SELECT {keys} FROM core.split_t GROUP BY {keys} HAVING count(*) > 1").fetchall() == []
    c.close()


def test_linear_duplicate_check_equals_is_duplicated() -> None:
    """The neighbour comparison used on key-ordered frames flags exactly the rows is_duplicated flags."""
    rng = np.random.default_rng(5)
    for trial in range(300):
        n = int(rng.integers(0, 30))
        f = pl.DataFrame({"a": rng.choice(["x", "y", "z"], n), "b": rng.integers(0, 4, n)})
        if trial % 2:
            f = f.sort("a", "b")
        if trial % 7 == 0:
            f = f.with_columns(pl.when(pl.col("b") == 1).then(None).otherwise(pl.col("a")).alias("a"))
        for key in (("a", "b"), ("a",), ("b", "a")):
            assert _duplicated(f, key).to_list() == f.select(key).is_duplicated().to_list(), (trial, key)
