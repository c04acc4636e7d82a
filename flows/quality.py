"""The data-quality stage: run every check on the staged warehouse, record results, stop on a 'fail' policy.

Runs after the loads and before publication, so a failing check leaves the published warehouse untouched.
Its results land in ops.data_quality (one row per check and table) and 'warn' results become run warnings.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import duckdb
import polars as pl

from flows.sources.base import SourceWarning
from transforms.quality import (
    CheckResult,
    calendar_gaps,
    company_change,
    duplicate_keys,
    electricity_hours_missing,
    non_positive_prices,
    price_jumps,
    stale_source,
)
from warehouse.errors import JevonsError
from warehouse.introspect import table_exists
from warehouse.load import upsert
from warehouse.registry import all_tables
from warehouse.tables.quality import DATA_QUALITY

MAX_STALE_BUSINESS_DAYS = 5
"""A price source more than this many sessions behind the last completed session is stale."""


class DataQualityError(JevonsError):
    """A check whose policy is 'fail' failed: the run stops before publication."""


def run_checks(
    con: duckdb.DuckDBPyConnection, today: date, max_stale_days: int = MAX_STALE_BUSINESS_DAYS
) -> list[CheckResult]:
    """Every check over the warehouse as it stands in this connection."""
    results: list[CheckResult] = []
    for table in all_tables():
        if table.primary_key and not table.index_key and table_exists(con, table.qualified_name):
            keys = ", ".join(f'"{k}"' for k in table.primary_key)
            results.append(
                duplicate_keys(
                    con.sql(f"SELECT {keys} FROM {table.qualified_name}").pl(), table.primary_key, table.qualified_name
                )
            )
    prices = con.sql("SELECT ticker, date, close, adj_close FROM core.prices_daily").pl()
    results.append(non_positive_prices(prices))
    benchmarks = con.sql("SELECT DISTINCT benchmark FROM core.universe").pl()["benchmark"].to_list()
    calendar = prices.filter(pl.col("ticker").is_in(benchmarks))["date"]
    results.append(calendar_gaps(prices, calendar))
    actions = (
        con.sql("SELECT ticker, date FROM core.corporate_actions").pl()
        if table_exists(con, "core.corporate_actions")
        else None
    )
    results.append(price_jumps(prices, actions))
    # history_from cuts a ticker's history: only what is left of it is checked for a change of company
    results.append(company_change(prices, con.sql("SELECT ticker, history_from FROM core.universe").pl()))
    if table_exists(con, "core.electricity_demand_hourly"):
        hourly = con.sql("SELECT respondent, subba, type, period_utc FROM core.electricity_demand_hourly").pl()
        results.append(electricity_hours_missing(hourly))
    last_price = prices["date"].max() if prices.height else None
    results.append(stale_source("prices", "core.prices_daily", last_price, today, max_stale_days))
    return results


def record_and_enforce(con: duckdb.DuckDBPyConnection, run_id: str, results: list[CheckResult]) -> list[SourceWarning]:
    """Write results to ops.data_quality; raise DataQualityError for 'fail' results; return 'warn' ones."""
    now = datetime.now(UTC)
    frame = pl.DataFrame(
        {
            "run_id": [run_id] * len(results),
            "check_name": [r.check for r in results],
            "table_name": [r.table_name for r in results],
            "status": [r.status for r in results],
            "policy": [r.policy for r in results],
            "detail": [r.detail for r in results],
            "checked_at": [now] * len(results),
        }
    )
    upsert(con, DATA_QUALITY, frame, run_id=run_id, source="quality")
    failed = [r for r in results if r.status == "fail"]
    if failed:
        raise DataQualityError(
            "data-quality check failed, nothing published: "
            + "; ".join(f"{r.check} on {r.table_name}: {r.detail}" for r in failed)
        )
    return [SourceWarning("quality", r.table_name, r.check, r.detail) for r in results if r.status == "warn"]
