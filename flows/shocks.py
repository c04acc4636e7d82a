"""The shock and overlap stage of the daily flow (issue 15), and the inputs it shares with the event study.

`study_inputs` reads the returns the event study and the shock detector both use: every ticker's daily returns
from core.prices_daily with the prices from before a ticker was today's company dropped (core.universe
history_from; transforms.history), so a SPAC shell or a when-issued start never enters an estimation window.
`compute_shocks` (Prefect task `compute-shocks`) then syncs marts.shock_candidates (transforms.shocks: days a
group moved abnormally that no catalogued event covers) and marts.event_overlaps (transforms.overlaps: the
catalogued events inside each event's CAR windows), which the report, the artifacts and `jevons shocks` read.
`shock_artifact_rows` and `confounded_sql` are the read side those consumers share.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import duckdb
import polars as pl
from prefect import task
from prefect.cache_policies import NO_CACHE

from transforms.history import returns_from_history
from transforms.overlaps import event_overlaps
from transforms.returns import daily_returns
from transforms.shocks import DEFAULT_SHOCK_CONFIG, ShockConfig, shock_candidates
from warehouse.introspect import table_exists
from warehouse.load import LoadResult, sync
from warehouse.tables.core import AI_EVENTS, UNIVERSE
from warehouse.tables.shocks import EVENT_OVERLAPS, SHOCK_CANDIDATES

ARTIFACT_KEY = "shock-candidates"
"""The Prefect artifact listing the newest candidates (a stable key: the UI shows the latest run's)."""

ARTIFACT_ROWS = 20
"""Candidates in the artifact: the newest first, over every group."""


@dataclass(frozen=True)
class StudyInputs:
    """What the event study and the shock detector read: returns (ticker as an Enum), the catalog, the universe."""

    returns: pl.DataFrame
    events: pl.DataFrame
    universe: pl.DataFrame


def study_inputs(con: duckdb.DuckDBPyConnection) -> StudyInputs:
    """Daily returns of every priced ticker from its history_from on (returns_from_history), the catalog and the
    universe, from the staged warehouse."""
    # The ticker as an ENUM (a type of this connection's temporary catalog, nothing written to the warehouse):
    # polars reads it as a Categorical (4 bytes a row instead of a 16-byte string view), daily_returns keeps it as
    # an Enum (2 bytes) and the engine reads its codes: 0.2 GB less for 15 M rows, in the prices and the returns.
    con.execute(
        "CREATE OR REPLACE TEMP TYPE price_ticker AS ENUM "
        "(SELECT DISTINCT ticker FROM core.prices_daily WHERE ticker IS NOT NULL)"
    )
    prices = con.sql("SELECT ticker::price_ticker AS ticker, date, adj_close FROM core.prices_daily").pl()
    returns = daily_returns(prices)
    del prices  # the returns are all the engine reads
    events = con.sql(f"SELECT * FROM {AI_EVENTS.qualified_name}").pl()
    universe = con.sql(f"SELECT * FROM {UNIVERSE.qualified_name}").pl()
    return StudyInputs(returns=returns_from_history(returns, universe), events=events, universe=universe)


def benchmark_calendar(returns: pl.DataFrame, universe: pl.DataFrame) -> pl.Series:
    """The trading days of the universe's benchmarks (the event study's calendar for day 0 and windows)."""
    dtype = returns.schema["ticker"]
    benchmarks = universe["benchmark"].cast(pl.String).unique().to_list()
    if isinstance(dtype, pl.Enum):  # compare on the Enum's codes; a benchmark without prices is not a category
        known = set(dtype.categories.to_list())
        benchmarks = [b for b in benchmarks if b in known]
    return returns.filter(pl.col("ticker").is_in(benchmarks))["date"].unique().sort()


def _stable(frame: pl.DataFrame, digits: int = 12) -> pl.DataFrame:
    """12 significant digits, as flows.daily.stable_floats: a re-run leaves the mart unchanged to the bit."""
    floats = [name for name, dtype in frame.schema.items() if dtype.is_float()]
    return frame.with_columns(pl.col(floats).round_sig_figs(digits))


@task(name="compute-shocks", cache_policy=NO_CACHE)
def compute_shocks(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    inputs: StudyInputs,
    windows: Sequence[tuple[int, int]],
    config: ShockConfig = DEFAULT_SHOCK_CONFIG,
) -> list[LoadResult]:
    """Sync marts.shock_candidates and marts.event_overlaps (full recomputes; `windows` are the event study's
    CAR windows, EventStudyConfig.car_windows)."""
    candidates = shock_candidates(inputs.returns, inputs.universe, inputs.events, config)
    overlaps = event_overlaps(inputs.events, benchmark_calendar(inputs.returns, inputs.universe), windows)
    return [
        sync(con, SHOCK_CANDIDATES, _stable(candidates), run_id=run_id, source="transform"),
        sync(con, EVENT_OVERLAPS, overlaps, run_id=run_id, source="transform"),
    ]


def confounded_sql(alias: str) -> tuple[str, str]:
    """(select expression, join clause) adding `confounded_by` from marts.event_overlaps to a query over a table
    aliased `alias` with event_id, window_start, window_end (null when the window holds no other event)."""
    return (
        "o.confounded_by",
        f"LEFT JOIN marts.event_overlaps o ON o.event_id = {alias}.event_id "
        f"AND o.window_start = {alias}.window_start AND o.window_end = {alias}.window_end",
    )


def shock_artifact_rows(con: duckdb.DuckDBPyConnection, limit: int = ARTIFACT_ROWS) -> list[dict[str, Any]]:
    """The newest candidates over every group (date descending, then |z|) for the `shock-candidates` artifact;
    [] when the warehouse has no marts.shock_candidates."""
    if not table_exists(con, SHOCK_CANDIDATES.qualified_name):
        return []
    frame = con.sql(
        f"""
        SELECT "date", "group", round(z, 2) AS z, round(100 * ar, 2) AS ar_pct, n, top_movers,
               prev_event_id, next_event_id, "rank" AS rank_in_group
        FROM {SHOCK_CANDIDATES.qualified_name} ORDER BY "date" DESC, abs(z) DESC, "group" LIMIT ?
        """,
        params=[limit],
    ).pl()
    return frame.with_columns(pl.col("date").cast(pl.String)).to_dicts()
