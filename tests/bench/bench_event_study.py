"""Benchmark: the full event study on a simulated market: every model's abnormal returns and CAR statistics
and every group test, for N tickers x Y years of daily returns x E events. Prints seconds and peak memory.

Two engines give the same numbers (tests/test_dense_study.py): `--engine dense` (default, the production engine
`transforms.event_study.run_dense_study`: arrays) and `--engine long` (the reference implementation,
`tests.reference.event_study.run_event_study` then `tests.reference.group_tests.group_tests`: long polars frames;
needs tens of GB for the large case).

Targets (issue 5): 500 tickers x 12 years x 40 events in < 0.2 s (the public `eventstudy` package needs about
0.72 ms per ticker-event for the market model and a t-test alone: 14 s for that job); 3,000 tickers x 20 years x
40 events under 1 GB peak memory.

Not a timed test: a script. What is timed is jevons's own computation from an in-memory `ticker, date, ret`
frame (what the daily flow feeds the engine: `transforms.returns.daily_returns` of the prices read from DuckDB
with the ticker as an ENUM, so an Enum ticker column; `--string-tickers` for a String one) to the marts-shaped
frames, including the group tests; the simulated data is built first and not timed. Each case runs in a fresh
subprocess so its peak resident memory (ru_maxrss) is its own; the memory figure printed is the whole process's
peak (Python, polars and the input included) and, separately, the input's own size.

    uv run python tests/bench/bench_event_study.py                 # both cases
    uv run python tests/bench/bench_event_study.py --case small    # 500 x 12 y x 40 events only
    uv run python tests/bench/bench_event_study.py --tickers 100 --years 5 --events 10   # any size
    uv run python tests/bench/bench_event_study.py --case small --engine long            # the long pipeline
    uv run python tests/bench/bench_event_study.py --case large --string-tickers         # a String ticker input
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.reference.event_study import run_event_study
from tests.reference.group_tests import group_tests
from transforms.event_study import MODELS, EventStudyConfig, run_dense_study

CASES = {"small": (500, 12, 40), "large": (3000, 20, 40)}
TARGETS = {"small": "< 0.2 s", "large": "< 1 GB peak"}
GROUPS = ("independent_power", "nuclear_uranium", "grid_equipment", "regulated_utilities", "gas", "ai_hardware")
DAYS_PER_YEAR = 252


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mb() -> float:
    """Resident memory of this process now (Linux /proc/self/statm; 0 elsewhere)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * resource.getpagesize() / 2**20
    except OSError:
        return 0.0


def simulated_inputs(
    n_tickers: int, years: int, n_events: int, seed: int = 7, *, string_tickers: bool = False
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(`ticker, date, ret` for the tickers and one benchmark, core.ai_events-like events, core.universe-like
    universe): market-model returns with a -2 sigma shock on each event's day 0 for every sixth ticker, and
    about 0.1% of ticker-days missing (so the missing-data paths are exercised too).

    The returns' ticker is an Enum of the sorted tickers, as `transforms.returns.daily_returns` gives it when the
    prices' ticker is categorical (the daily flow reads it from DuckDB as one): two bytes a row instead of a
    16-byte string view (15 M rows for the large case); `string_tickers` makes it a String column instead."""
    rng = np.random.default_rng(seed)
    n_days = years * DAYS_PER_YEAR
    days = pl.date_range(dt.date(2005, 1, 3), dt.date(2005, 1, 3) + dt.timedelta(days=n_days * 2), eager=True)
    dates = days.filter(days.dt.weekday() <= 5).head(n_days)
    rm = rng.normal(0.0003, 0.01, n_days)
    # events spread over the years after a one-year run-in, on distinct days
    day0s = np.sort(rng.choice(np.arange(300, n_days - 15), n_events, replace=False))
    names = [f"T{i:04d}" for i in range(n_tickers)]
    ticker_dtype = pl.String() if string_tickers else pl.Enum(sorted([*names, "SPY"]))
    frames = []
    for first in range(0, n_tickers, 250):  # built 250 tickers at a time: the input, not its making, is measured
        k = min(250, n_tickers - first)
        beta = rng.uniform(0.4, 1.6, k)
        sigma = rng.uniform(0.01, 0.03, k)
        rets = rng.standard_normal((k, n_days)) * sigma[:, None] + 0.0002 + beta[:, None] * rm[None, :]
        shocked = (np.arange(first, first + k) % 6 == 0)[:, None]
        rets[:, day0s] -= np.where(shocked, 2 * sigma[:, None], 0.0)
        rets[rng.random(rets.shape) < 0.001] = np.nan
        frames.append(
            pl.DataFrame(
                {
                    "ticker": pl.Series(names[first : first + k], dtype=ticker_dtype).gather(
                        np.repeat(np.arange(k), n_days)
                    ),
                    "date": pl.concat([dates] * k),
                    "ret": rets.reshape(-1),
                }
            ).filter(pl.col("ret").is_not_nan())
        )
    frames.append(pl.DataFrame({"ticker": pl.Series(["SPY"] * n_days, dtype=ticker_dtype), "date": dates, "ret": rm}))
    returns = pl.concat(frames)
    del frames
    events = pl.DataFrame(
        {
            "event_id": [f"e{k:02d}" for k in range(n_events)],
            "event_date": dates.gather(day0s),
            "name": "simulated",
            "category": "efficiency",
        }
    )
    universe = pl.DataFrame(
        {
            "ticker": [*names, "SPY"],
            "name": [*names, "SPY"],
            "group": [GROUPS[i % len(GROUPS)] for i in range(n_tickers)] + ["benchmarks"],
            "benchmark": "SPY",
        }
    )
    return returns, events, universe


def compute(
    returns: pl.DataFrame, events: pl.DataFrame, universe: pl.DataFrame, engine: str = "dense"
) -> tuple[int, int, float]:
    """Everything the daily flow computes for the event-study marts (abnormal_returns, event_impact,
    group_impact, skips, warnings); returns (event_impact rows, group_impact rows, MB of the mart frames)."""
    config = EventStudyConfig(models=MODELS)
    if engine == "dense":
        study = run_dense_study(returns, events, universe, config)
        result, groups = study.result, study.group_impact
    else:
        result = run_event_study(returns, events, universe, config)
        groups = group_tests(result.event_impact, result.estimation_ar, result.abnormal_returns, universe)
    marts = (result.abnormal_returns, result.event_impact, result.skips, groups)
    return result.event_impact.height, groups.height, sum(f.estimated_size() for f in marts) / 2**20


def run_case(
    n_tickers: int, years: int, n_events: int, repeats: int, engine: str = "dense", *, string_tickers: bool = False
) -> dict[str, Any]:
    start_mb = rss_mb()
    returns, events, universe = simulated_inputs(
        n_tickers, years, n_events, string_tickers=string_tickers or engine == "long"
    )
    gc.collect()
    input_mb = returns.estimated_size() / 2**20
    # polars' estimate counts a String column's shared buffers, not its 16-byte views: the resident growth is
    # the honest size (an upper bound: it includes what the simulation freed but the allocator kept).
    input_rss_mb = rss_mb() - start_mb
    before_mb = peak_rss_mb()
    times, cpu = [], []
    rows: tuple[int, int, float] = (0, 0, 0.0)
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        rows = compute(returns, events, universe, engine)
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)  # all threads: the work, whatever else shares the cores
    return {
        "engine": engine,
        "ticker_dtype": "String" if returns.schema["ticker"] == pl.String else "Enum",
        "tickers": n_tickers,
        "years": years,
        "events": n_events,
        "return_rows": returns.height,
        "input_mb": round(input_mb, 1),
        "input_rss_mb": round(input_rss_mb, 1),
        "seconds_best": round(min(times), 3),
        "seconds_median": round(float(np.median(times)), 3),
        "cpu_seconds_best": round(min(cpu), 3),
        "peak_mb_before": round(before_mb, 1),
        "peak_mb": round(peak_rss_mb(), 1),
        "event_impact_rows": rows[0],
        "group_impact_rows": rows[1],
        "output_mb": round(rows[2], 1),
        "us_per_ticker_event": round(min(times) / (n_tickers * n_events) * 1e6, 2),
    }


def _in_subprocess(
    n_tickers: int, years: int, n_events: int, repeats: int, engine: str, string_tickers: bool = False
) -> dict[str, Any]:
    """Each case in its own process, so the printed peak memory is that case's alone."""
    out = subprocess.run(
        [
            sys.executable,
            __file__,
            "--json",
            f"--tickers={n_tickers}",
            f"--years={years}",
            f"--events={n_events}",
            f"--repeats={repeats}",
            f"--engine={engine}",
            *(["--string-tickers"] if string_tickers else []),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _print(label: str, r: dict[str, Any], target: str = "") -> None:
    print(
        f"{label} ({r['engine']}, {r['ticker_dtype']} tickers): {r['tickers']} tickers x {r['years']} years x "
        f"{r['events']} events "
        f"({r['return_rows']:,} return rows, input {r['input_mb']} MB estimated, {r['input_rss_mb']} MB resident): "
        f"{r['seconds_best']} s best / {r['seconds_median']} s median, {r['cpu_seconds_best']} CPU s best "
        f"({r['us_per_ticker_event']} us per ticker-event, all {len(MODELS)} models + all group tests); "
        f"peak memory {r['peak_mb']} MB (before computing: {r['peak_mb_before']} MB; the mart frames made: "
        f"{r['output_mb']} MB); "
        f"{r['event_impact_rows']:,} event_impact rows, {r['group_impact_rows']:,} group_impact rows"
        + (f"  [target {target}]" if target else "")
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--case", choices=[*CASES, "both"], default="both")
    parser.add_argument("--tickers", type=int)
    parser.add_argument("--years", type=int)
    parser.add_argument("--events", type=int)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--engine", choices=["dense", "long"], default="dense")
    parser.add_argument(
        "--string-tickers", action="store_true", help="a String ticker column in the returns (default: an Enum)"
    )
    parser.add_argument("--json", action="store_true", help="run in this process and print one JSON line")
    args = parser.parse_args()
    if args.tickers or args.years or args.events:
        size = (args.tickers or 500, args.years or 12, args.events or 40)
        if args.json:
            print(json.dumps(run_case(*size, args.repeats, args.engine, string_tickers=args.string_tickers)))
            return
        _print("custom", _in_subprocess(*size, args.repeats, args.engine, args.string_tickers))
        return
    for case in CASES if args.case == "both" else (args.case,):
        repeats = args.repeats if case == "small" else 1
        _print(case, _in_subprocess(*CASES[case], repeats, args.engine, args.string_tickers), TARGETS[case])


@pytest.mark.slow
def test_bench_event_study_small_runs() -> None:
    """A small version of both engines, so the script cannot rot (no timing asserted)."""
    dense, long = run_case(60, 3, 4, repeats=1), run_case(60, 3, 4, repeats=1, engine="long")
    assert dense["event_impact_rows"] == long["event_impact_rows"] > 0
    assert dense["group_impact_rows"] == long["group_impact_rows"] > 0


if __name__ == "__main__":
    main()
