"""`jevons run --export-to DIR`: the `daily` flow's optional last task exports the run it just published.

The export itself (layout, manifest, atomic swap, round trip) is tested in test_export.py; this checks the
wiring: the CLI option reaches the flow, the task runs after publication and exports that run's tables.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest

from flows.cli import run_cli

TICKERS = ("CEG", "VST", "SPY", "XLU")


def test_run_exports_what_it_published(
    tmp_path: Path, real_prices_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    prices = tmp_path / "prices"
    prices.mkdir()
    for ticker in TICKERS:
        shutil.copy(real_prices_dir / f"{ticker}.csv", prices / f"{ticker}.csv")
    wh, out = tmp_path / "w.duckdb", tmp_path / "export"
    argv = ["run", "--prices-from", str(prices), "--warehouse", str(wh), "--no-report", "--export-to", str(out)]
    assert run_cli(argv) == 0, capsys.readouterr().err
    assert "Parquet export:" in capsys.readouterr().out
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    exported = {t["name"]: int(t["rows"]) for t in manifest["tables"]}
    con = duckdb.connect(str(wh), read_only=True)
    try:
        [(run_id,)] = con.sql("SELECT run_id FROM ops.runs WHERE status LIKE 'completed%'").fetchall()
        counts = {name: con.sql(f"SELECT count(*) FROM {name}").fetchall()[0][0] for name in exported}
    finally:
        con.close()
    assert manifest["run"]["run_id"] == run_id  # the run that just published, not an older one
    assert exported == counts and exported["core.prices_daily"] > 0 and exported["marts.event_impact"] > 0
    assert not any(name.startswith("ops.") for name in exported)  # core and marts by default
