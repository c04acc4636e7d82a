"""marts.shock_candidates, marts.event_overlaps and core.universe.history_from in the warehouse: created by the
migration (also on a warehouse from before it), and the computed frames load as they are."""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl
from simulate import business_days, events_frame
from simulate_groups import simulate_groups

from transforms.event_study import DEFAULT_CONFIG
from transforms.overlaps import event_overlaps
from transforms.shocks import shock_candidates
from warehouse import seeds
from warehouse.load import sync, upsert
from warehouse.migrations import apply_migrations
from warehouse.tables.core import UNIVERSE
from warehouse.tables.shocks import EVENT_OVERLAPS, SHOCK_CANDIDATES, SHOCKS_MIGRATION


def _columns(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> list[str]:
    rows = con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE schema_name = ? AND table_name = ? ORDER BY column_index",
        [schema, name],
    ).fetchall()
    return [r[0] for r in rows]


def test_migration_adds_the_tables_and_the_universe_columns_to_an_older_warehouse() -> None:
    con = duckdb.connect(":memory:")
    apply_migrations(con)
    assert _columns(con, "marts", "shock_candidates") == SHOCK_CANDIDATES.column_names
    assert _columns(con, "marts", "event_overlaps") == EVENT_OVERLAPS.column_names
    # a warehouse at the version before: no new tables, core.universe without the columns
    con.execute("DROP TABLE marts.shock_candidates")
    con.execute("DROP TABLE marts.event_overlaps")
    con.execute("ALTER TABLE core.universe DROP COLUMN history_from")
    con.execute("ALTER TABLE core.universe DROP COLUMN history_source")
    con.execute("DELETE FROM ops.schema_version WHERE version = ?", [SHOCKS_MIGRATION])
    assert apply_migrations(con) == [SHOCKS_MIGRATION]
    assert _columns(con, "core", "universe") == UNIVERSE.column_names
    assert _columns(con, "marts", "shock_candidates") == SHOCK_CANDIDATES.column_names
    assert apply_migrations(con) == []


def test_frames_load_into_their_tables() -> None:
    con = duckdb.connect(":memory:")
    apply_migrations(con)
    universe = seeds.read_universe()
    sync(con, UNIVERSE, universe, run_id="t", source="seeds")
    stored = con.sql(
        "SELECT ticker, history_from FROM core.universe WHERE history_from IS NOT NULL ORDER BY 1"
    ).fetchall()
    assert ("OKLO", dt.date(2024, 5, 10)) in stored
    days = simulate_groups(n_days=600).dates
    market = simulate_groups(n_days=600, seed=2, planted={("G00", days[500]): -0.12})
    found = shock_candidates(market.returns, market.universe, events_frame([("e", days[300])]))
    assert found.height >= 1
    upsert(con, SHOCK_CANDIDATES, found, run_id="t", source="transform")
    back = con.sql('SELECT * FROM marts.shock_candidates ORDER BY "group", "rank"').pl()
    assert back.equals(found.sort("group", "rank"))
    overlaps = event_overlaps(
        events_frame([("a", days[10]), ("b", days[11])]),
        pl.Series(business_days(days[0], 600)),
        DEFAULT_CONFIG.car_windows,
    )
    upsert(con, EVENT_OVERLAPS, overlaps, run_id="t", source="transform")
    assert (
        con.sql("SELECT count(*) FROM marts.event_overlaps WHERE confounded_by IS NOT NULL").fetchall()[0][0] == 4
    )  # a: 3 windows; b: [-1,+1]
