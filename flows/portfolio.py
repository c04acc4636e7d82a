"""`jevons impact --event ID --tickers CEG,VST,...`: the event study and every group test for a portfolio the
user names, computed on the published warehouse (read-only) without writing anything.

The tickers form one group, `portfolio`; each is regressed on its universe benchmark (SPY for tickers outside
the universe). Unknown events and tickers without prices are errors naming them (exit code 2).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from transforms.event_study import MODELS, EventStudyConfig, run_dense_study
from transforms.returns import daily_returns
from warehouse.errors import JevonsInputError
from warehouse.query import open_for_query

PORTFOLIO = "portfolio"
DEFAULT_BENCHMARK = "SPY"


def portfolio_impact(
    warehouse: str | Path | None, event_id: str, tickers: list[str], model: str = "market"
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(per-ticker event_impact rows, group test rows) for the portfolio around one catalog event."""
    if model not in MODELS:
        raise JevonsInputError(f"--model: {model!r} is not one of {', '.join(MODELS)}")
    names = list(dict.fromkeys(t.strip().upper() for t in tickers if t.strip()))
    if not names:
        raise JevonsInputError("--tickers: give at least one ticker, e.g. --tickers CEG,VST,TLN")
    con = open_for_query(warehouse)
    try:
        events = con.sql("SELECT * FROM core.ai_events WHERE event_id = ?", params=[event_id]).pl()
        if events.is_empty():
            known = [r[0] for r in con.sql("SELECT event_id FROM core.ai_events ORDER BY event_date").fetchall()]
            raise JevonsInputError(f"--event: unknown event {event_id!r}; known events: {', '.join(known)}")
        universe = con.sql("SELECT ticker, benchmark FROM core.universe").pl()
        benchmarks = dict(universe.iter_rows())
        chosen = pl.DataFrame(
            {
                "ticker": names,
                "name": names,
                "group": [PORTFOLIO] * len(names),
                "benchmark": [benchmarks.get(t, DEFAULT_BENCHMARK) for t in names],
            }
        )
        wanted = sorted(set(names) | set(chosen["benchmark"].to_list()))
        prices = con.sql(
            "SELECT ticker, date, adj_close FROM core.prices_daily WHERE ticker IN (SELECT unnest(?))", params=[wanted]
        ).pl()
    finally:
        con.close()
    unknown = sorted(set(wanted) - set(prices["ticker"].unique().to_list()))
    if unknown:
        raise JevonsInputError(
            f"--tickers: no prices in the warehouse for {', '.join(unknown)} "
            "(load them first: jevons backfill --tickers ... or a CSV folder with jevons run --prices-from)"
        )
    bench_rows = pl.DataFrame(
        {"ticker": sorted(set(chosen["benchmark"]) - set(names))},
        schema={"ticker": pl.String},
    ).with_columns(
        pl.col("ticker").alias("name"), pl.lit("benchmarks").alias("group"), pl.col("ticker").alias("benchmark")
    )
    full_universe = pl.concat([chosen, bench_rows.select(chosen.columns)])
    study = run_dense_study(daily_returns(prices), events, full_universe, EventStudyConfig(models=(model,)))
    result, groups = study.result, study.group_impact
    skipped = result.skips.filter(pl.col("ticker").is_in(names) | (pl.col("ticker") == "*"))
    if result.event_impact.is_empty():
        reasons = "; ".join(f"{r['ticker']}: {r['reason']}" for r in skipped.iter_rows(named=True)) or "no data"
        raise JevonsInputError(f"no results for {event_id} and {', '.join(names)}: {reasons}")
    return result.event_impact, groups.filter(pl.col("group") == PORTFOLIO)
