"""Benchmark: a full daily run on replayed sources, split into Prefect start-up and jevons's own work.

The warehouse is first loaded through 2026-07-31 (setup, not timed: it also writes the impact report, as the
previous morning's run would have); each timed run then adds one new trading day (2026-08-03) for the whole
universe from the real price files, exactly as a scheduled morning run would, through the real CLI in a fresh
process, from a fresh copy of that state. Two situations:

- `jevons run` on its own (no Prefect server configured): Prefect's temporary API server is started by the
  command (flows/prefect_api.py, overlapping jevons's imports) and stopped at its end;
- `jevons run` with `PREFECT_API_URL` set to a running server (as under `prefect server start`, where the
  `jevons serve` deployment also runs): no server start-up at all.

"Own work" is the flow body (ops.runs.finished_at - started_at: extract, load, event study, electricity stage,
data quality, publication); the rest of the wall time is Python start-up, imports, Prefect's server start-up
and orchestration, the artifacts and the impact report (written after publication).

    uv run python tests/bench/bench_daily_run.py [--repeats 3]
    uv run pytest -m slow tests/bench/bench_daily_run.py     # one repeat, no timing asserted
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import pytest

PROJECT = Path(__file__).resolve().parents[2]
PRICES = PROJECT.parent / "shared" / "data" / "prices_daily_close"
sys.path.insert(0, str(PROJECT))

from flows.prefect_api import EarlyPrefectAPI  # noqa: E402


def _run(args: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "flows.cli", *args], cwd=PROJECT, env=env, capture_output=True, text=True
    )
    elapsed = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(done.stderr[-3000:])
    return elapsed


def _own_work(wh: Path) -> tuple[float, int]:
    con = duckdb.connect(str(wh), read_only=True)
    try:
        own, rows = con.sql(
            "SELECT epoch(finished_at - started_at), (SELECT sum(rows_inserted) FROM ops.load_log l "
            "WHERE l.run_id = r.run_id AND table_name = 'core.prices_daily') FROM ops.runs r "
            "ORDER BY started_at DESC LIMIT 1"
        ).fetchall()[0]
    finally:
        con.close()
    return float(own), int(rows)


def _timed(base: Path, work: Path, env: dict[str, str]) -> tuple[float, float, int]:
    """One daily run from a fresh copy of the prepared state: (wall s, own work s, new price rows)."""
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(base, work)
    wall = _run(["run", "--prices-from", str(PRICES), "--warehouse", str(work / "bench.duckdb")], env)
    own, rows = _own_work(work / "bench.duckdb")
    return wall, own, rows


def _server_start_s() -> float:
    """Seconds from launching Prefect's temporary server until its API answers (alone, nothing else running)."""
    api = EarlyPrefectAPI()
    t0 = time.perf_counter()
    api.start()
    try:
        if not api._healthy(120):
            raise SystemExit(f"Prefect server did not start: {api.note}")
        return time.perf_counter() - t0
    finally:
        api.stop()


def _import_s(env: dict[str, str]) -> float:
    """Seconds for a fresh Python to import the daily flow (polars, duckdb, prefect, the engine...)."""
    code = "import time; t = time.perf_counter(); import flows.daily; print(time.perf_counter() - t)"
    done = subprocess.run([sys.executable, "-c", code], cwd=PROJECT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(done.stderr[-3000:])
    return float(done.stdout.strip())


def _line(label: str, runs: list[tuple[float, float, int]]) -> str:
    walls = [w for w, _, _ in runs]
    own = statistics.median(o for _, o, _ in runs)
    wall = statistics.median(walls)
    return (
        f"  {label}: wall {wall:.1f} s median of {len(runs)} (min {min(walls):.1f}, max {max(walls):.1f})"
        f" = jevons own work {own:.1f} s + Python start-up, imports, Prefect and report {wall - own:.1f} s"
    )


def measure(repeats: int) -> tuple[list[str], int]:
    """Run the benchmark `repeats` times per situation: (the lines it prints, new price rows of a timed run)."""
    env = {k: v for k, v in os.environ.items() if k not in ("JEVONS_WAREHOUSE", "EIA_API_KEY", "PREFECT_API_URL")}
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "base"
        base.mkdir()
        server = EarlyPrefectAPI()  # a standing server for the setup and the "server running" case
        server.start()
        try:
            if not server._healthy(120):
                raise SystemExit(f"Prefect server did not start: {server.note}")
            served = {**env, "PREFECT_API_URL": server.api_url}
            setup = ["run", "--prices-from", str(PRICES), "--warehouse", str(base / "bench.duckdb")]
            _run([*setup, "--end", "2026-07-31"], served)
            alone = [_timed(base, Path(tmp) / f"alone{i}", env) for i in range(repeats)]
            with_server = [_timed(base, Path(tmp) / f"served{i}", served) for i in range(repeats)]
        finally:
            server.stop()
        con = duckdb.connect(str(base / "bench.duckdb"), read_only=True)
        universe = con.sql("SELECT count(*) FROM core.universe").fetchall()[0][0]
        con.close()
    server_s = statistics.median(_server_start_s() for _ in range(repeats))
    import_s = statistics.median(_import_s(env) for _ in range(repeats))
    load = os.getloadavg()[0]
    lines = [
        f"daily run, {universe}-ticker universe, one new day ({alone[0][2]} new price rows), load avg {load:.2f}:",
        _line("jevons run, temporary Prefect server", alone),
        _line("jevons run, Prefect server already running", with_server),
        f"  of which, measured alone: Prefect temporary server start-up {server_s:.1f} s (overlaps the imports),"
        f" importing the daily flow {import_s:.1f} s",
        "  target: < 15 s wall on this 2-core machine",
    ]
    return lines, alone[0][2]


@pytest.mark.slow
@pytest.mark.needs_shared
def test_bench_daily_run_once(real_prices_dir: Path) -> None:
    """One repeat of each situation, so the script cannot rot (no timing asserted)."""
    lines, new_rows = measure(repeats=1)
    print("\n".join(lines))
    assert new_rows > 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print("\n".join(measure(args.repeats)[0]))


if __name__ == "__main__":
    main()
