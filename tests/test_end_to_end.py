"""End to end on real data: `jevons run --prices-from ../shared/data/prices_daily_close` into a temp warehouse.

The flow runs in-process on Prefect's ephemeral API once per module (plus one re-run for idempotency); the
assertions read the published warehouse with SQL, as an analyst would.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from flows.daily import RunSummary, daily
from warehouse.registry import all_tables
from warehouse.seeds import EVENTS_CSV

PROJECT = Path(__file__).resolve().parent.parent


def _checksums(path: Path) -> dict[str, str]:
    """A checksum of every marts table, rows ordered by key."""
    con = duckdb.connect(str(path), read_only=True)
    out = {}
    for table in all_tables():
        if table.schema != "marts" or not table.primary_key:
            continue
        keys = ", ".join(f'"{k}"' for k in table.primary_key)
        rows = con.sql(f"SELECT * FROM {table.qualified_name} ORDER BY {keys}").fetchall()
        out[table.qualified_name] = hashlib.sha256(repr(rows).encode()).hexdigest()
    con.close()
    return out


@pytest.fixture(scope="module")
def real_run(tmp_path_factory: pytest.TempPathFactory, real_prices_dir: Path) -> tuple[Path, RunSummary, RunSummary]:
    wh = tmp_path_factory.mktemp("e2e") / "jevons.duckdb"
    first = daily(prices_from=str(real_prices_dir), warehouse=str(wh), report=False)
    checks_first = _checksums(wh)
    second = daily(prices_from=str(real_prices_dir), warehouse=str(wh), report=False)
    assert _checksums(wh) == checks_first
    return wh, first, second


def _one(path: Path, sql: str, params: list[object] | None = None) -> tuple:
    con = duckdb.connect(str(path), read_only=True)
    try:
        rows = con.execute(sql, params or []).fetchall()
    finally:
        con.close()
    assert len(rows) == 1, rows
    return rows[0]


IMPACT = (
    "SELECT raw_return, car, car_t FROM marts.event_impact WHERE event_id = ? AND ticker = ? "
    "AND model = 'market' AND window_start = 0 AND window_end = 0"
)


def test_deepseek_selloff_day0(real_run: tuple[Path, RunSummary, RunSummary]) -> None:
    wh = real_run[0]
    ceg = _one(wh, IMPACT, ["deepseek_selloff", "CEG"])
    vst = _one(wh, IMPACT, ["deepseek_selloff", "VST"])
    assert ceg[0] == pytest.approx(-0.2085, abs=1e-4)
    assert vst[0] == pytest.approx(-0.2827, abs=1e-4)
    for _raw, car, car_t in (ceg, vst):
        assert car < -0.15 and car_t < -3
    for ticker in ("D", "SO"):
        assert _one(wh, IMPACT, ["deepseek_selloff", ticker])[1] > 0


def test_three_mile_island_deal(real_run: tuple[Path, RunSummary, RunSummary]) -> None:
    raw, car, car_t = _one(real_run[0], IMPACT, ["tmi_restart_deal", "CEG"])
    assert raw == pytest.approx(0.2229, abs=1e-4)
    assert car > 0.15 and car_t > 3


def test_rerun_is_idempotent(real_run: tuple[Path, RunSummary, RunSummary]) -> None:
    wh, first, second = real_run
    assert sum(lr.inserted for lr in first.loads) > 0
    for lr in second.loads:
        assert (lr.inserted, lr.updated, lr.deleted) == (0, 0, 0), lr
    con = duckdb.connect(str(wh), read_only=True)
    for table in all_tables():
        if table.primary_key and table.schema != "ops":
            keys = ", ".join(f'"{k}"' for k in table.primary_key)
            dups = con.sql(
                f"SELECT count(*) FROM (SELECT {keys} FROM {table.qualified_name} GROUP BY ALL HAVING count(*) > 1)"
            ).fetchall()[0][0]
            assert dups == 0, table.qualified_name
    runs = con.sql("SELECT status FROM ops.runs ORDER BY started_at").fetchall()
    con.close()
    assert [r[0] for r in runs] == ["completed_with_warnings", "completed_with_warnings"]


def test_missing_universe_tickers_are_recorded_warnings(real_run: tuple[Path, RunSummary, RunSummary]) -> None:
    wh = real_run[0]
    con = duckdb.connect(str(wh), read_only=True)
    missing = {r[0] for r in con.sql("SELECT subject FROM ops.warnings WHERE code = 'ticker_missing'").fetchall()}
    con.close()
    assert {"AEP", "AVGO", "EQT"} <= missing
    assert "CEG" not in missing


def test_summary_headline(real_run: tuple[Path, RunSummary, RunSummary]) -> None:
    summary = real_run[1]
    assert summary.headline_event is not None
    assert len(summary.headline_moves) == 5


def test_event_after_last_price_is_skipped_with_reason(tmp_path: Path, real_prices_dir: Path) -> None:
    events = tmp_path / "events.csv"
    text = EVENTS_CSV.read_text(encoding="utf-8").rstrip("\n")
    events.write_text(
        text + "\nfuture_model,2026-10-01,A future release,efficiency,Not yet priced,https://example.com/future\n",
        encoding="utf-8",
    )
    wh = tmp_path / "w.duckdb"
    daily(prices_from=str(real_prices_dir), warehouse=str(wh), events_csv=str(events), report=False)
    code, reason = _one(wh, "SELECT reason_code, reason FROM marts.event_skips WHERE event_id = 'future_model'")
    assert code == "no_trading_day_after_event"
    assert "2026-10-01" in reason


def _cli(*args: str, cwd: Path = PROJECT) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "JEVONS_WAREHOUSE"}
    return subprocess.run(
        [sys.executable, "-m", "flows.cli", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


@pytest.mark.parametrize(
    ("csv_text", "expected"),
    [
        ("deepseek_r1,2025-13-40,R1,efficiency,x,https://a.b\n", r"line 2, field 'event_date'"),
        ("deepseek_r1,2025-01-20,R1,hype,x,https://a.b\n", r"line 2, field 'category'"),
        (
            "deepseek_r1,2025-01-20,R1,efficiency,x,https://a.b\ndeepseek_r1,2025-01-20,R1,efficiency,x,https://a.b\n",
            r"line 3, field 'event_id'",
        ),
    ],
)
def test_bad_seed_fails_before_writing(
    tmp_path: Path, real_run: tuple[Path, RunSummary, RunSummary], csv_text: str, expected: str
) -> None:
    wh = real_run[0]
    before = wh.read_bytes()
    events = tmp_path / "bad_events.csv"
    events.write_text("event_id,event_date,name,category,description,source_url\n" + csv_text, encoding="utf-8")
    proc = _cli(
        "run",
        "--prices-from",
        str(PROJECT.parent / "shared/data/prices_daily_close"),
        "--warehouse",
        str(wh),
        "--events",
        str(events),
    )
    assert proc.returncode == 2, proc.stderr
    assert "bad_events.csv" in proc.stderr
    assert re.search(expected, proc.stderr), proc.stderr
    assert "Traceback" not in proc.stderr
    assert wh.read_bytes() == before


def test_bad_universe_group_fails_before_writing(tmp_path: Path, real_run: tuple[Path, RunSummary, RunSummary]) -> None:
    wh = real_run[0]
    before = wh.read_bytes()
    universe = tmp_path / "bad_universe.csv"
    universe.write_text(
        "ticker,name,group,benchmark\nSPY,SPDR S&P 500,benchmarks,SPY\nCEG,Constellation,crypto,SPY\n", encoding="utf-8"
    )
    proc = _cli(
        "run",
        "--prices-from",
        str(PROJECT.parent / "shared/data/prices_daily_close"),
        "--warehouse",
        str(wh),
        "--universe",
        str(universe),
    )
    assert proc.returncode == 2, proc.stderr
    assert "bad_universe.csv, line 3, field 'group'" in proc.stderr
    assert wh.read_bytes() == before


def test_sql_and_tables_commands(real_run: tuple[Path, RunSummary, RunSummary]) -> None:
    wh = str(real_run[0])
    proc = _cli(
        "sql",
        "SELECT ticker, round(car, 4) AS car FROM marts.event_impact WHERE event_id = "
        "'deepseek_selloff' AND ticker = 'VST' AND window_start = 0 AND window_end = 0",
        "-w",
        wh,
        "--format",
        "csv",
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0] == "ticker,car" and proc.stdout.splitlines()[1].startswith("VST,-0.")
    for bad in (
        "DELETE FROM core.prices_daily",
        "COPY core.prices_daily TO '/tmp/x.csv'",
        "ATTACH ':memory:' AS x",
        "INSTALL httpfs",
    ):
        proc = _cli("sql", bad, "-w", wh)
        assert proc.returncode == 2 and "read-only" in proc.stderr, (bad, proc.stderr)
    proc = _cli("tables", "-w", wh)
    assert proc.returncode == 0 and "marts.event_impact" in proc.stdout
    proc = _cli("sql", "SELECT 1", "-w", str(Path(wh).with_name("missing.duckdb")))
    assert proc.returncode == 2 and "no warehouse at" in proc.stderr


def test_cli_argument_errors(tmp_path: Path) -> None:
    proc = _cli("run", "--prices-from", str(tmp_path), "--start", "2025-02-01", "--end", "2025-01-01")
    assert proc.returncode == 2 and "after --end" in proc.stderr
    proc = _cli("run", "--prices-from", str(tmp_path), "--start", "2999-01-01")
    assert proc.returncode == 2 and "in the future" in proc.stderr
    proc = _cli("run", "--prices-from", str(tmp_path), "--start", "yesterday")
    assert proc.returncode == 2 and "not a date" in proc.stderr


def test_five_runs_of_the_same_day_leave_identical_marts(
    real_run: tuple[Path, RunSummary, RunSummary], real_prices_dir: Path
) -> None:
    """Runs 3, 4 and 5 on the module's warehouse (runs 1 and 2 made it): every checksum stays the same."""
    wh = real_run[0]
    before = _checksums(wh)
    for _ in range(3):
        summary = daily(prices_from=str(real_prices_dir), warehouse=str(wh), report=False)
        assert all(
            (lr.inserted, lr.updated, lr.deleted) == (0, 0, 0) for lr in summary.loads if lr.table != "ops.data_quality"
        )
        assert _checksums(wh) == before
