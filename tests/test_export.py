"""`jevons export`: every core and marts table round-trips through Parquet with identical rows and types.

The warehouse is built from the real price files with the daily flow's own steps (their `.fn`, no Prefect
server), published by `staged_writer`, and given an electricity table with rows so that partitioned and
plain tables, timestamps with time zones, dates, integers and nulls are all exercised. Each table is read
back with DuckDB (`read_parquet`) and with polars (`pl.read_parquet`) and compared with the warehouse,
rows sorted by key and column types included.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from flows.cli import run_cli
from flows.daily import compute_event_study, load_core, read_seed_files, write_marts
from flows.shocks import study_inputs
from flows.sources import registry
from flows.sources.csv_prices import CsvPriceSource
from transforms.event_study import MODELS, EventStudyConfig
from warehouse import seeds
from warehouse.connection import staged_writer
from warehouse.export import MANIFEST, PARTITION_BY, export_warehouse
from warehouse.load import record_run
from warehouse.registry import all_tables


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory, real_prices_dir: Path) -> Path:
    path = tmp_path_factory.mktemp("export") / "w.duckdb"
    events, universe = read_seed_files.fn(seeds.EVENTS_CSV, seeds.UNIVERSE_CSV)
    prices = CsvPriceSource(real_prices_dir).fetch(universe["ticker"].to_list())
    with staged_writer(path) as con:
        load_core.fn(con, "run-export", events, universe, [(registry.spec("csv"), prices)])
        study = compute_event_study.fn(con, EventStudyConfig(models=MODELS), study_inputs(con))
        write_marts.fn(con, "run-export", study.result, study.group_impact)
        con.execute(
            "INSERT INTO core.electricity_demand_hourly BY NAME SELECT r AS respondent, 'ALL' AS subba, "
            "TIMESTAMPTZ '2025-01-27 00:00:00+00' + INTERVAL (h) HOUR AS period_utc, 'D' AS type, "
            "1000.5 + h AS value_mwh, now() AS loaded_at "
            "FROM (VALUES ('PJM'), ('ERCO')) v(r), range(48) t(h)"
        )
        record_run(
            con,
            run_id="run-export",
            flow="daily",
            started_at=datetime.now(UTC),
            status="completed",
            parameters={},
            summary={},
        )
    return path


def _key(name: str) -> list[str]:
    return next(t for t in all_tables() if t.qualified_name == name).primary_key  # type: ignore[return-value]


def test_every_table_round_trips_through_duckdb_and_polars(warehouse: Path, tmp_path: Path) -> None:
    out = tmp_path / "export"
    result = export_warehouse(warehouse, out)
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest == json.loads(json.dumps(result.manifest, default=str))
    assert manifest["run"]["run_id"] == "run-export" and manifest["storage_version"] == "v1.0.0"
    names = [t["name"] for t in manifest["tables"]]
    assert names == sorted(t.qualified_name for t in all_tables() if t.schema in ("core", "marts"))
    con = duckdb.connect(str(warehouse), read_only=True)
    con.execute("SET TimeZone = 'UTC'")  # the session's zone names polars' tz; Parquet stores UTC instants
    checked_rows = 0
    for entry in manifest["tables"]:
        name, folder = entry["name"], out / entry["path"]
        key = list(_key(name))
        cols = ", ".join(f'"{c["name"]}"' for c in entry["columns"])
        original = con.sql(f"SELECT {cols} FROM {name} ORDER BY ALL")
        glob = str(folder / "**" / "*.parquet")
        back = con.sql(f"SELECT {cols} FROM read_parquet('{glob}', hive_partitioning = false) ORDER BY ALL")
        assert back.types == original.types, name
        assert back.fetchall() == original.fetchall(), name
        assert entry["rows"] == len(original.fetchall())
        expected = con.sql(f"SELECT {cols} FROM {name}").pl().sort(key)
        read = pl.read_parquet(glob, hive_partitioning=False).select(expected.columns).sort(key)
        assert_frame_equal(read, expected, check_exact=True)
        comments = dict(
            con.execute(
                "SELECT column_name, comment FROM duckdb_columns() WHERE schema_name || '.' || table_name = ?", [name]
            ).fetchall()
        )
        assert {c["name"]: c["comment"] for c in entry["columns"]} == comments
        assert all(c["comment"] for c in entry["columns"]), name  # the registry documents every column
        if entry["partition_by"]:
            assert {p.parent.name.split("=")[0] for p in folder.rglob("*.parquet")} == set(entry["partition_by"])
        checked_rows += entry["rows"]
    con.close()
    partitioned = {t["name"]: t["partition_by"] for t in manifest["tables"] if t["partition_by"]}
    assert partitioned == {k: list(v) for k, v in PARTITION_BY.items()}
    assert checked_rows == result.rows > 10_000


def test_export_is_atomic_and_replaces_only_an_export(warehouse: Path, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import warehouse.export as export_module

    out = tmp_path / "export"
    export_warehouse(warehouse, out, ("marts",))
    before = sorted(p.relative_to(out) for p in out.rglob("*"))

    def broken(*args: object) -> tuple[int, list[str]]:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(export_module, "_export_table", broken)
    with pytest.raises(OSError, match="No space left"):
        export_warehouse(warehouse, out)
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == before  # the previous export, untouched
    assert [p.name for p in tmp_path.iterdir()] == ["export"]  # no temporary sibling left
    monkeypatch.undo()
    export_warehouse(warehouse, out)  # replaces the previous export
    assert (out / "core" / "prices_daily" / "data.parquet").exists()
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("x")
    from warehouse.errors import JevonsInputError

    with pytest.raises(JevonsInputError, match="not a jevons export"):
        export_warehouse(warehouse, mine)


def test_cli_export(warehouse: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cli"
    code = run_cli(["export", "--out", str(out), "--warehouse", str(warehouse), "--tables", "marts"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "from run run-export" in captured.out
    assert {p.name for p in out.iterdir()} == {"marts", MANIFEST}
    assert run_cli(["export", "--out", str(out), "--warehouse", str(warehouse), "--tables", "gold"]) == 2
    assert "--tables: unknown schema 'gold'" in capsys.readouterr().err
    assert os.listdir(tmp_path) == ["cli"]
