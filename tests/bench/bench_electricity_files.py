"""Benchmark: parse EIA electricity files (issue 14).

    uv run python tests/bench/bench_electricity_files.py [--years 10] [--bas 65] [--skip-real]

1. The real files in ../shared/data/eia_real (4 region-data exports, the retail export, the EIA-861M
   spreadsheet): `load_files` (detect, parse, vintage merge) and the quality screen, timed; then the whole
   electricity stage into an empty warehouse (migrations, seeds, keyed loads, the quality screen, the three
   electricity marts), timed stage by stage: the issue-14 budget is < 5 s.
2. Simulated EIA-930 six-month BALANCE files, `--years` x 2 files of `--bas` balancing authorities in EIA's
   published layout (12-hour US clock, quoted thousands separators), written once to a temp folder, then
   `load_files` on them in a fresh process so its peak RSS is the parse's own (ru_maxrss of the child).
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
REAL = ROOT.parent / "shared" / "data" / "eia_real"


def bench_real() -> None:
    from flows.sources.eia_files.load import HOURLY_TABLE, load_files
    from transforms.electricity_quality import screen_hourly

    start = time.perf_counter()
    loaded = load_files(REAL)
    parsed = time.perf_counter() - start
    start = time.perf_counter()
    screen_hourly(loaded.result.frames[HOURLY_TABLE])
    screened = time.perf_counter() - start
    rows = {k: v.height for k, v in loaded.result.frames.items()}
    print(f"real files: load_files {parsed:.2f} s, quality screen {screened:.2f} s, rows {rows}")


def bench_real_warehouse() -> None:
    """The electricity stage of `jevons run --electricity-from` into an empty warehouse, without Prefect."""
    import duckdb

    from flows import electricity
    from flows.sources.eia_files.load import load_files
    from warehouse import seeds
    from warehouse.load import load_frames, sync
    from warehouse.migrations import apply_migrations
    from warehouse.tables.core import AI_EVENTS, UNIVERSE

    with tempfile.TemporaryDirectory() as tmp:
        begin = time.perf_counter()
        con = duckdb.connect(str(Path(tmp) / "w.duckdb"))
        apply_migrations(con)
        sync(con, AI_EVENTS, seeds.read_events(), run_id="b", source="seeds")
        sync(con, UNIVERSE, seeds.read_universe(), run_id="b", source="seeds")
        electricity.load_datacentre_seed(con, "b")
        setup = time.perf_counter() - begin
        start = time.perf_counter()
        result = load_files(REAL).result
        parsed = time.perf_counter() - start
        start = time.perf_counter()
        loads = load_frames(con, result.frames, run_id="b", source=result.source)
        loaded = time.perf_counter() - start
        start = time.perf_counter()
        marts = electricity.compute_electricity_marts(con)
        written = electricity.write_electricity_marts(con, "b", marts)
        computed = time.perf_counter() - start
        con.close()
        total = parsed + loaded + computed
        rows = {lr.table: lr.inserted for lr in [*loads, *written]}
        print(
            f"real files into an empty warehouse: read {parsed:.2f} s + keyed load {loaded:.2f} s + screen and "
            f"marts {computed:.2f} s = {total:.2f} s (setup: migrations and seeds {setup:.2f} s); inserted {rows}"
        )


def write_bulk(folder: Path, years: int, bas: int) -> int:
    """Six-month BALANCE files in EIA's layout; returns the hourly rows they hold (4 types per BA-hour)."""
    header = (
        "Balancing Authority,Data Date,Hour Number,Local Time at End of Hour,UTC Time at End of Hour,"
        "Demand Forecast (MW),Demand (MW),Net Generation (MW),Total Interchange (MW),Demand (MW) (Imputed),"
        "Demand (MW) (Adjusted),Region"
    )
    rng = np.random.default_rng(14)
    total = 0
    for year in range(2015, 2015 + years):
        for half, (m0, m1) in (("Jan_Jun", (1, 7)), ("Jul_Dec", (7, 13))):
            first = datetime(year, m0, 1)
            last = datetime(year + (m1 == 13), 1 if m1 == 13 else m1, 1)
            n = int((last - first) / timedelta(hours=1))
            utc = pl.datetime_range(first + timedelta(hours=1), last, "1h", eager=True)
            codes = [f"B{i:03d}" for i in range(bas)]
            frame = pl.DataFrame(
                {
                    "ba": np.repeat(codes, n),
                    "utc": pl.concat([utc] * bas),
                    "d": rng.integers(1_000, 150_000, n * bas),
                }
            ).with_columns(
                pl.col("utc").dt.strftime("%m/%d/%Y").alias("date"),
                pl.col("utc").dt.strftime("%m/%d/%Y %-I:%M:%S %p").alias("utc_s"),
                (pl.col("utc").dt.hour() + 1).alias("hour"),
            )
            d = pl.col("d")  # EIA writes 1,000 and up with a thousands separator (values here stay < 1,000,000)
            money = (
                pl.when(d >= 1_000)
                .then((d // 1_000).cast(pl.String) + "," + (d % 1_000).cast(pl.String).str.zfill(3))
                .otherwise(d.cast(pl.String))
            )
            out = frame.select(
                pl.col("ba"),
                pl.col("date"),
                pl.col("hour"),
                pl.col("utc_s").alias("local"),
                pl.col("utc_s"),
                money.alias("df"),
                money.alias("dd"),
                money.alias("ng"),
                pl.lit("-1,234").alias("ti"),
                pl.lit("").alias("imp"),
                money.alias("adj"),
                pl.lit("MIDA").alias("region"),
            )
            path = folder / f"EIA930_BALANCE_{year}_{half}.csv"
            with path.open("w") as handle:
                handle.write(header + "\n")
            with path.open("a") as handle:
                out.write_csv(handle, include_header=False, quote_style="non_numeric")
            total += out.height * 4
    return total


def child(folder: str) -> None:
    import duckdb

    from flows import electricity
    from flows.sources.eia_files.load import HOURLY_TABLE, load_files
    from warehouse import seeds
    from warehouse.load import load_frames, sync
    from warehouse.migrations import apply_migrations
    from warehouse.tables.core import AI_EVENTS

    start = time.perf_counter()
    loaded = load_files(folder)
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"simulated bulk: {loaded.result.frames[HOURLY_TABLE].height:,} hourly rows parsed in {seconds:.1f} s, "
        f"peak RSS {peak_mb:,.0f} MB"
    )
    del loaded
    # end to end, as the flow does it: read, keyed load into an empty warehouse, screen and marts
    with tempfile.TemporaryDirectory() as tmp:
        con = duckdb.connect(str(Path(tmp) / "w.duckdb"))
        apply_migrations(con)
        sync(con, AI_EVENTS, seeds.read_events(), run_id="b", source="seeds")
        electricity.load_datacentre_seed(con, "b")
        start = time.perf_counter()
        result = load_files(folder).result
        read_s = time.perf_counter() - start
        load_frames(con, result.frames, run_id="b", source=result.source, chunk_rows={HOURLY_TABLE: 1_000_000})
        del result
        load_s = time.perf_counter() - start - read_s
        marts = electricity.compute_electricity_marts(con)
        electricity.write_electricity_marts(con, "b", marts)
        total = time.perf_counter() - start
        con.close()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"simulated bulk end to end: read {read_s:.1f} s + keyed load {load_s:.1f} s + screen and marts "
        f"{total - read_s - load_s:.1f} s = {total:.1f} s, peak RSS {peak_mb:,.0f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--bas", type=int, default=65)
    parser.add_argument("--skip-real", action="store_true")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    if not args.skip_real:
        bench_real()
        bench_real_warehouse()
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        rows = write_bulk(Path(tmp), args.years, args.bas)
        print(f"wrote {rows:,} simulated hourly rows in {time.perf_counter() - start:.0f} s")
        subprocess.run([sys.executable, __file__, "--child", tmp], check=True)


if __name__ == "__main__":
    main()
