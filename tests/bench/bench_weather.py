"""Benchmark (issue 17): parse the three NOAA nClimDiv files and every zone daily file, then fit every
region x metric (monthly BA demand on degree days, monthly retail sales of every state, daily BA demand on
zone temperatures) and build both weather marts. Target: under 2 s. A second line times the weather-adjusted
impact (transforms.weather.impact.weather_adjusted_impact: every catalog event x every series x 3 and 6
months, each fitted on the 60 months before its event), which the flow's weather stage adds.

What is timed is jevons's own work from files on disk to mart frames: `weather_from_dir` and `weather_marts`.
The demand series are prepared before the clock starts (in a run they are read from the warehouse): the
real EIA-930 hourly files aggregated to local days and months, and the real retail-sales file per state.

    uv run python tests/bench/bench_weather.py            # 5 repetitions, prints each and the median
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from test_weather_models import real_hourly, utc_monthly  # noqa: E402

from flows.sources.noaa.source import DAILY_TABLE, DEGREE_DAYS_TABLE, weather_from_dir  # noqa: E402
from transforms.electricity import hourly_to_local_daily  # noqa: E402
from transforms.weather.impact import weather_adjusted_impact  # noqa: E402
from transforms.weather.marts import weather_marts  # noqa: E402
from transforms.weather.models import monthly_observations  # noqa: E402
from transforms.weather.series import daily_demand, retail_monthly  # noqa: E402
from warehouse.seed_regions import read_weather_region_states, read_weather_region_zones  # noqa: E402
from warehouse.seeds import read_events  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"


def prepare() -> tuple[pl.DataFrame, pl.DataFrame]:
    hourly = real_hourly(SHARED)
    retail = pl.read_csv(
        SHARED / "eia_real" / "retail-sales" / "retail-sales_states_ALL_2001-2025.csv",
        schema_overrides={"sales": pl.Float64, "period": pl.String},
    ).select(
        pl.col("stateid").alias("state"),
        pl.col("sectorid").alias("sector"),
        (pl.col("period") + "-01").str.to_date().alias("month"),
        (pl.col("sales") * 1000).alias("sales_mwh"),
    )
    monthly = pl.concat([utc_monthly(hourly), retail_monthly(retail.filter(pl.col("state") != "US"))])
    return monthly, daily_demand(hourly_to_local_daily(hourly))


def run_once(monthly: pl.DataFrame, daily: pl.DataFrame) -> tuple[float, int, int]:
    states, zones = read_weather_region_states(), read_weather_region_zones()
    start = time.perf_counter()
    result = weather_from_dir(SHARED / "weather")
    parsed = time.perf_counter()
    marts = weather_marts(result.frames[DEGREE_DAYS_TABLE], states, monthly, result.frames[DAILY_TABLE], zones, daily)
    end = time.perf_counter()
    events = read_events()
    adjusted = weather_adjusted_impact(monthly_observations(monthly, marts.region_monthly_weather), events, (3, 6))
    after = time.perf_counter()
    print(
        f"  parse {parsed - start:.3f} s, fit + marts {end - parsed:.3f} s; "
        f"adjusted impact {after - end:.3f} s ({adjusted.height} rows, {events.height} events)"
    )
    return end - start, marts.models.height, marts.normalised.height


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    monthly, daily = prepare()
    times = []
    for i in range(args.repeat):
        elapsed, n_models, n_rows = run_once(monthly, daily)
        times.append(elapsed)
        print(f"run {i + 1}: {elapsed:.3f} s  ({n_models} models, {n_rows} normalised rows)")
    print(f"median {statistics.median(times):.3f} s, first {times[0]:.3f} s (target < 2 s)")


if __name__ == "__main__":
    main()
