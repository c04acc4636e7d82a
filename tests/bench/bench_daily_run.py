"""Benchmark: a full daily run on replayed sources, split into Prefect start-up and jevons's own work.

The warehouse is first loaded through 2026-07-31 (setup, not timed); the timed run then adds one new trading
day (2026-08-03) for the whole universe from the real price files, exactly as a scheduled morning run would,
through the real CLI with Prefect's ephemeral API. "Own work" is the flow body (ops.runs.finished_at -
started_at: extract, load, event study, electricity stage, data quality, publication); the rest of the wall
time is Python start-up plus Prefect's ephemeral server and orchestration.

    uv run python tests/bench/bench_daily_run.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

PROJECT = Path(__file__).resolve().parents[2]
PRICES = PROJECT.parent / "shared" / "data" / "prices_daily_close"


def _run(args: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "flows.cli", *args], cwd=PROJECT, env=env, capture_output=True, text=True
    )
    elapsed = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(done.stderr[-3000:])
    return elapsed


def main() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("JEVONS_WAREHOUSE", "EIA_API_KEY")}
    with tempfile.TemporaryDirectory() as tmp:
        wh = Path(tmp) / "bench.duckdb"
        _run(["run", "--prices-from", str(PRICES), "--warehouse", str(wh), "--end", "2026-07-31"], env)
        wall = _run(["run", "--prices-from", str(PRICES), "--warehouse", str(wh)], env)
        con = duckdb.connect(str(wh), read_only=True)
        own, rows = con.sql(
            "SELECT epoch(finished_at - started_at), (SELECT sum(rows_inserted) FROM ops.load_log l "
            "WHERE l.run_id = r.run_id AND table_name = 'core.prices_daily') FROM ops.runs r "
            "ORDER BY started_at DESC LIMIT 1"
        ).fetchall()[0]
        universe = con.sql("SELECT count(*) FROM core.universe").fetchall()[0][0]
        con.close()
    print(f"daily run, {universe}-ticker universe, one new day ({rows} new price rows):")
    print(
        f"  wall {wall:.1f} s = jevons own work {own:.1f} s"
        f" + Python/Prefect start-up and orchestration {wall - own:.1f} s"
    )
    print("  target: < 15 s wall on this 2-core machine")


if __name__ == "__main__":
    main()
