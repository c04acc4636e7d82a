"""Benchmark: the shock detector (transforms.shocks.shock_candidates: every group's rolling market model, z on
every day, the candidates with their top movers) on a simulated market of N tickers x Y years in groups of G.
Prints seconds and peak resident memory.

Targets (issue 15): 30 tickers x 10 years in < 1 s; 3,000 tickers x 20 years in < 30 s and < 2 GB.

Not a timed test: a script. The input is what the daily flow would hand the detector: a `ticker, date, ret`
frame with an Enum ticker (transforms.returns.daily_returns of prices read from DuckDB with an ENUM ticker),
built first and not timed. Returns are fat-tailed (Student t, 4 df) so the run also lists candidates, as real
data does. Each case runs in a fresh subprocess so its peak resident memory (ru_maxrss: the whole process, Python,
polars and the input included) is its own.

    uv run python tests/bench/bench_shocks.py                  # both cases
    uv run python tests/bench/bench_shocks.py --case small
    uv run python tests/bench/bench_shocks.py --tickers 300 --years 5 --group-size 30
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

import numpy as np
import polars as pl

CASES = {"small": (30, 10, 6), "large": (3000, 20, 100)}
TARGETS = {"small": (1.0, None), "large": (30.0, 2.0)}


def _market(tickers: int, years: int, group_size: int, seed: int = 0) -> tuple[pl.DataFrame, pl.DataFrame]:
    rng = np.random.default_rng(seed)
    days = pl.date_range(dt.date(2000, 1, 3), dt.date(2000 + years + 1, 1, 1), eager=True)
    days = days.filter(days.dt.weekday() <= 5).head(252 * years)
    n_days, groups = days.len(), (np.arange(tickers) // group_size)
    t4 = np.sqrt(2.0)  # a t(4) draw has variance 2
    market = 0.01 * rng.standard_t(4, n_days) / t4
    names = [f"T{i:05d}" for i in range(tickers)]
    rets = np.empty((n_days, tickers), dtype=np.float64)
    factor = 0.0166 * rng.standard_t(4, (n_days, groups.max() + 1)) / t4
    for start in range(0, tickers, 500):  # generation in slices to keep the input's own peak small
        cols = slice(start, min(start + 500, tickers))
        k = cols.stop - cols.start
        rets[:, cols] = (
            np.outer(market, rng.uniform(0.5, 1.5, k))
            + factor[:, groups[cols]]
            + 0.015 * rng.standard_t(4, (n_days, k)) / t4
        )
    dtype = pl.Enum(["MKT", *names])
    codes = np.repeat(np.arange(tickers + 1, dtype=np.uint32), n_days)
    returns = pl.DataFrame(
        {
            "ticker": pl.Series(["MKT", *names], dtype=dtype).gather(codes),
            "date": pl.concat([days] * (tickers + 1)),
            "ret": np.concatenate([market, rets.T.reshape(-1)]),
        }
    )
    del rets
    gc.collect()
    universe = pl.DataFrame(
        {
            "ticker": [*names, "MKT"],
            "name": [*names, "MKT"],
            "group": [f"g{g:03d}" for g in groups] + ["benchmarks"],
            "benchmark": ["MKT"] * (tickers + 1),
        }
    )
    return returns, universe


def _run(tickers: int, years: int, group_size: int) -> dict[str, float]:
    from transforms.shocks import shock_candidates

    returns, universe = _market(tickers, years, group_size)
    events = pl.DataFrame(
        {"event_id": ["e1", "e2"], "event_date": [dt.date(2003, 5, 5), dt.date(2005, 9, 9)]},
    )
    input_mb = returns.estimated_size() / 1e6
    start = time.perf_counter()
    found = shock_candidates(returns, universe, events)
    seconds = time.perf_counter() - start
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6  # kilobytes on Linux
    groups = universe["group"].n_unique() - 1
    return {
        "seconds": seconds,
        "peak_gb": peak_gb,
        "input_mb": input_mb,
        "candidates": found.height,
        "per_group_year": found.height / (groups * (years - 1)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--case", choices=sorted(CASES))
    parser.add_argument("--tickers", type=int)
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--group-size", type=int, default=10)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_run(args.tickers, args.years, args.group_size)))
        return
    cases = (
        [("custom", (args.tickers, args.years, args.group_size))]
        if args.tickers
        else [(c, CASES[c]) for c in ([args.case] if args.case else CASES)]
    )
    for name, (tickers, years, size) in cases:
        cmd = [sys.executable, __file__, "--child", "--tickers", str(tickers), "--years", str(years)]
        out = subprocess.run([*cmd, "--group-size", str(size)], capture_output=True, text=True, check=True)
        result = json.loads(out.stdout.strip().splitlines()[-1])
        target = TARGETS.get(name)
        verdict = ""
        if target:
            ok = result["seconds"] < target[0] and (target[1] is None or result["peak_gb"] < target[1])
            verdict = "  OK" if ok else "  OVER TARGET"
        print(
            f"{name}: {tickers} tickers x {years} years in groups of {size}: {result['seconds']:.2f} s, "
            f"peak RSS {result['peak_gb']:.2f} GB (input {result['input_mb']:.0f} MB), "
            f"{result['candidates']} candidates ({result['per_group_year']:.2f} per group-year){verdict}"
        )


if __name__ == "__main__":
    main()
