"""The file load's frames fit the warehouse: keyed upsert of the real files, then a re-run changes nothing."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from flows.sources.eia_files.iea import read_seed
from flows.sources.eia_files.load import load_files
from warehouse.load import upsert
from warehouse.migrations import apply_migrations
from warehouse.registry import table


@pytest.mark.needs_shared
def test_real_files_load_then_rerun_is_a_no_op(eia_real_dir: Path, tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    apply_migrations(con)
    frames = {**load_files(eia_real_dir).result.frames, "core.datacentre_electricity": read_seed()}
    first = {name: upsert(con, table(name), frame, run_id="r1", source="eia_files") for name, frame in frames.items()}
    assert {n: (r.inserted, r.updated) for n, r in first.items()} == {
        "core.electricity_demand_hourly": (186_778, 0),
        "core.electricity_retail_sales_monthly": (52_683, 0),
        "core.datacentre_electricity": (76, 0),
    }
    again = load_files(eia_real_dir).result.frames
    second = {name: upsert(con, table(name), frame, run_id="r2", source="eia_files") for name, frame in again.items()}
    assert {n: (r.inserted, r.updated) for n, r in second.items()} == {
        "core.electricity_demand_hourly": (0, 0),
        "core.electricity_retail_sales_monthly": (0, 0),
    }
    va = con.execute(
        "SELECT sales_mwh FROM core.electricity_retail_sales_monthly "
        "WHERE state = 'VA' AND sector = 'ALL' AND month = DATE '2024-01-01'"
    ).fetchall()
    assert va == [(pytest.approx(12_313_393.0, abs=1.0),)]
    us = con.execute(
        "SELECT electricity_twh FROM core.datacentre_electricity WHERE region = 'United States' "
        "AND segment = 'total' AND scenario = 'base' AND year = 2030"
    ).fetchall()
    assert us == [(426.0,)]
