"""`jevons status` on fresh, stale and failed warehouses: what it reports and its exit code."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from flows.cli import run_cli
from warehouse.connection import staged_writer
from warehouse.load import record_run, upsert
from warehouse.status import read_status
from warehouse.tables.core import PRICES_DAILY


def _warehouse(path: Path, last: dt.date, run_status: str, error: str | None = None) -> None:
    prices = pl.DataFrame(
        {
            "ticker": ["SPY", "SPY"],
            "date": [last - dt.timedelta(days=1), last],
            "open": [None, None],
            "high": [None, None],
            "low": [None, None],
            "close": [600.0, 601.0],
            "adj_close": [600.0, 601.0],
            "volume": [None, None],
            "source": ["test", "test"],
        },
        schema_overrides={"open": pl.Float64, "high": pl.Float64, "low": pl.Float64, "volume": pl.Int64},
    )
    with staged_writer(path) as con:
        upsert(con, PRICES_DAILY, prices, run_id="r1", source="test")
        record_run(
            con,
            run_id="r1",
            flow="daily",
            started_at=dt.datetime.now(dt.UTC),
            status=run_status,
            parameters={},
            summary={"error": error} if error else {"rows": 2},
        )


def test_fresh_warehouse_is_healthy(tmp_path: Path) -> None:
    wh = tmp_path / "w.duckdb"
    _warehouse(wh, dt.date(2026, 11, 27), "completed")
    st = read_status(wh, today=dt.date(2026, 11, 28))
    assert st.problems == [] and st.exit_code == 0
    assert st.freshness[0].last == dt.date(2026, 11, 27) and not st.freshness[0].stale
    assert st.row_counts["core.prices_daily"] == 2
    assert st.last_run is not None and st.last_run["status"] == "completed"


def test_stale_warehouse_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wh = tmp_path / "w.duckdb"
    _warehouse(wh, dt.date(2026, 8, 3), "completed")
    st = read_status(wh, today=dt.date(2026, 11, 28))
    assert st.exit_code == 1 and st.problems[0].startswith("stale: prices: last 2026-08-03")
    assert run_cli(["status", "--warehouse", str(wh)]) == 1
    assert "stale" in capsys.readouterr().err
    assert run_cli(["status", "--warehouse", str(wh), "--max-stale-days", "1000"]) == 0


def test_failed_last_run_exits_1(tmp_path: Path) -> None:
    wh = tmp_path / "w.duckdb"
    _warehouse(wh, dt.date(2026, 11, 27), "failed", error="JevonsSourceError: Yahoo Finance unreachable: DNS")
    st = read_status(wh, today=dt.date(2026, 11, 28))
    assert st.exit_code == 1
    assert any("failed: JevonsSourceError: Yahoo Finance unreachable" in p for p in st.problems)


def test_missing_warehouse(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["status", "--warehouse", str(tmp_path / "none.duckdb")]) == 2
    assert "no warehouse at" in capsys.readouterr().err
