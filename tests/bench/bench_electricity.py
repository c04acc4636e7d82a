"""Benchmark: 5 years of hourly EIA-930 data for 70 respondents x 4 types (~12 M rows) into DuckDB, then the
electricity marts. Prints seconds per phase and the process's peak memory. Target: under 10 s and 2 GB.

Not a timed test (it is a script; `pytest -m slow tests/bench` runs a small version without asserting
timings). What is timed is jevons's own work after the pages are parsed: the hourly frame the EIA source
returns (simulated here, shaped exactly like `EiaSource.fetch`'s output) goes through the flow's
`load_electricity` (keyed MERGE upserts in chunks, each with its ops.load_log row), then
`compute_electricity_marts` (read type-D hours, local days, impact windows for the 34 catalog events, Jevons
check) and `write_electricity_marts` (keyed syncs). A second pass repeats a daily incremental run: the last
14 days re-served with a few revised hours.

    uv run python tests/bench/bench_electricity.py                      # 70 respondents x 5 years
    uv run python tests/bench/bench_electricity.py --respondents 10     # quicker
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from flows.electricity import compute_electricity_marts, load_electricity, write_electricity_marts
from flows.sources.base import SourceResult
from flows.sources.eia import HOURLY_SCHEMA, HOURLY_TABLE, MONTHLY_SCHEMA, MONTHLY_TABLE
from warehouse import seeds
from warehouse.load import sync
from warehouse.migrations import apply_migrations
from warehouse.tables.core import AI_EVENTS
from warehouse.tables.electricity import TABLES as ELECTRICITY_TABLES

ZONES = ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles")
TYPES = ("D", "DF", "NG", "TI")


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def simulated_hourly(n_respondents: int, first: datetime, hours: int, seed: int = 3) -> pl.DataFrame:
    """EiaSource-shaped rows: per respondent and type, a daily/seasonal demand curve with noise."""
    rng = np.random.default_rng(seed)
    periods = pl.datetime_range(first, first + timedelta(hours=hours - 1), "1h", eager=True, time_zone="UTC")
    t = np.arange(hours, dtype=float)
    shape = (1 + 0.12 * np.sin(2 * np.pi * (t % 24 - 9) / 24)) * (1 + 0.1 * np.cos(4 * np.pi * t / 8766))
    frames = []
    for r in range(n_respondents):
        scale = rng.uniform(500, 80_000)
        for kind in TYPES:
            values = scale * shape * (1 + 0.02 * rng.standard_normal(hours))
            if kind == "TI":
                values = values * 0.05 - scale * 0.02
            frames.append(
                pl.DataFrame(
                    {"respondent": f"R{r:02d}", "subba": "", "period_utc": periods, "type": kind, "value_mwh": values},
                    schema=HOURLY_SCHEMA,
                )
            )
    return pl.concat(frames)


def simulated_monthly(first: date, months: int) -> pl.DataFrame:
    rows = []
    for state in ("VA", "TX", "GA", "OH", "AZ", "OR", "IL", "PA", "US"):
        for sector in ("ALL", "COM", "IND"):
            for m in range(months):
                index = first.year * 12 + first.month - 1 + m
                rows.append((state, sector, date(index // 12, index % 12 + 1, 1), 4e6 + m * 1e4, 12.3, 5e8, 10_000))
    return pl.DataFrame(rows, schema=MONTHLY_SCHEMA, orient="row")


@dataclass
class Figures:
    rows: int
    generate_s: float
    load_s: float
    marts_s: float
    incremental_s: float
    rss_before_mb: float
    peak_rss_mb: float
    daily_rows: int
    impact_rows: int
    jevons_rows: int
    inserted: int
    incremental_updated: int


def run(n_respondents: int, years: int, workdir: Path) -> Figures:
    first = datetime(2021, 1, 1, tzinfo=UTC)
    hours = 24 * (365 * years + years // 4)
    zones = {f"R{r:02d}": ZONES[r % len(ZONES)] for r in range(n_respondents)}
    t0 = time.perf_counter()
    hourly = simulated_hourly(n_respondents, first, hours)
    monthly = simulated_monthly(first.date(), 12 * years)
    generate_s = time.perf_counter() - t0

    con = duckdb.connect(str(workdir / "bench.duckdb"))
    apply_migrations(con)
    for table in ELECTRICITY_TABLES:  # no-op once migration 3 creates them
        con.execute(table.ddl())
    sync(con, AI_EVENTS, seeds.read_events(seeds.EVENTS_CSV), run_id="bench", source="seeds")
    rss_before = peak_rss_mb()

    last = first + timedelta(hours=hours - 1)
    overlap = hourly.filter(pl.col("period_utc") > last - timedelta(days=14))  # for the incremental pass
    result = SourceResult(source="eia", frames={HOURLY_TABLE: hourly, MONTHLY_TABLE: monthly})
    t0 = time.perf_counter()
    loads = load_electricity(con, "bench", result)
    con.execute("CHECKPOINT")
    load_s = time.perf_counter() - t0
    del result, hourly

    t0 = time.perf_counter()
    marts = compute_electricity_marts(con, time_zones=zones)
    write_electricity_marts(con, "bench", marts)
    con.execute("CHECKPOINT")
    marts_s = time.perf_counter() - t0
    peak_mb = peak_rss_mb()

    # a daily incremental run: the last 14 days again, every 100th value revised
    overlap = (
        overlap.with_row_index("_i")
        .with_columns(pl.when(pl.col("_i") % 100 == 0).then(pl.col("value_mwh") + 1).otherwise(pl.col("value_mwh")))
        .drop("_i")
    )
    t0 = time.perf_counter()
    inc = load_electricity(con, "bench", SourceResult(source="eia", frames={HOURLY_TABLE: overlap}))
    write_electricity_marts(con, "bench", compute_electricity_marts(con, time_zones=zones))
    incremental_s = time.perf_counter() - t0
    rows = con.sql("SELECT count(*) FROM core.electricity_demand_hourly").fetchall()[0][0]
    dupes = con.sql(
        "SELECT count(*) FROM (SELECT 1 FROM core.electricity_demand_hourly "
        "GROUP BY respondent, subba, period_utc, type HAVING count(*) > 1)"
    ).fetchall()[0][0]
    assert dupes == 0, f"{dupes} duplicate keys"
    con.close()
    return Figures(
        rows=int(rows),
        generate_s=generate_s,
        load_s=load_s,
        marts_s=marts_s,
        incremental_s=incremental_s,
        rss_before_mb=rss_before,
        peak_rss_mb=peak_mb,
        daily_rows=marts.daily.height,
        impact_rows=marts.impact.height,
        jevons_rows=marts.jevons.height,
        inserted=loads[0].inserted,
        incremental_updated=inc[0].updated,
    )


def report(f: Figures) -> str:
    total = f.load_s + f.marts_s
    return "\n".join(
        [
            f"hourly rows in warehouse      {f.rows:>12,}",
            f"simulate parsed pages         {f.generate_s:>9.2f} s  (not counted)",
            f"load (MERGE upserts)          {f.load_s:>9.2f} s  ({f.inserted:,} inserted)",
            f"marts (daily, impact, check)  {f.marts_s:>9.2f} s  ({f.daily_rows:,} daily, {f.impact_rows:,} impact, "
            f"{f.jevons_rows} check rows)",
            f"load + impact                 {total:>9.2f} s  (target < 10 s)",
            f"incremental day (14-day overlap + marts) {f.incremental_s:.2f} s ({f.incremental_updated:,} revised)",
            f"peak memory (RSS)             {f.peak_rss_mb:>9.0f} MB (target < 2048; {f.rss_before_mb:.0f} MB after "
            "simulating the pages)",
        ]
    )


@pytest.mark.slow
def test_bench_small(tmp_path: Path) -> None:
    """Runs the benchmark small (correctness of the script, not a timing)."""
    fig = run(n_respondents=4, years=3, workdir=tmp_path)
    print(report(fig))
    assert fig.rows == 4 * 4 * 24 * (365 * 3)
    assert fig.jevons_rows > 0 and fig.impact_rows > 0 and fig.incremental_updated > 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--respondents", type=int, default=70)
    parser.add_argument("--years", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        print(report(run(args.respondents, args.years, Path(tmp))))


if __name__ == "__main__":
    main()
