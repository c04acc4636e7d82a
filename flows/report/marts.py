"""What the impact report reads from the published warehouse: the catalog and the marts (market model only)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import duckdb
import polars as pl

from transforms.event_study.contract import MIN_GROUP_TICKERS
from warehouse.errors import JevonsInputError
from warehouse.introspect import table_exists

RUN_FIRST = "jevons run --prices-from DIR"


@dataclass
class MartFrames:
    """What the report reads, straight from the warehouse."""

    events: pl.DataFrame
    impact: pl.DataFrame
    abnormal: pl.DataFrame
    group_impact: pl.DataFrame | None
    demand_daily: pl.DataFrame
    jevons: pl.DataFrame
    prices_through: date | None
    overlaps: pl.DataFrame = field(default_factory=pl.DataFrame)
    """marts.event_overlaps (event_id, window, confounded_by): set by build_report (flows.report.shocks)."""
    retail_monthly: pl.DataFrame = field(default_factory=pl.DataFrame)
    """All-sector monthly retail sales of REPORT_STATES (state, month, sales_mwh), for the long-run chart."""


REPORT_STATES = ("VA", "TX", "CA", "US")
"""States whose retail sales the report charts: Virginia (the data-centre cluster), Texas, California, the US."""


def _retail(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    if not table_exists(con, "core.electricity_retail_sales_monthly"):
        return pl.DataFrame()
    states = ", ".join(f"'{s}'" for s in REPORT_STATES)
    return con.sql(
        "SELECT state, month, sales_mwh FROM core.electricity_retail_sales_monthly "
        f"WHERE sector = 'ALL' AND state IN ({states}) AND sales_mwh IS NOT NULL ORDER BY state, month"
    ).pl()


def _group_impact(con: duckdb.DuckDBPyConnection) -> pl.DataFrame | None:
    """marts.group_impact's (event_id, group, window, n, caar, n_below_min) for the market model, when the table
    exists. Warehouses from before n_below_min was added get it from n < MIN_GROUP_TICKERS, the column's rule."""
    if not table_exists(con, "marts.group_impact"):
        return None
    columns = {
        r[0]
        for r in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE schema_name = 'marts' AND table_name = 'group_impact'"
        ).fetchall()
    }
    if not {"event_id", "group", "window_start", "window_end", "n", "caar"} <= columns:
        return None
    where = "WHERE model = 'market'" if "model" in columns else ""
    below = "n_below_min" if "n_below_min" in columns else f"n < {MIN_GROUP_TICKERS} AS n_below_min"
    frame = con.sql(
        f'SELECT event_id, "group", window_start, window_end, n, caar, {below} FROM marts.group_impact {where}'
    ).pl()
    return frame if frame.height else None  # migrated but not yet computed: use marts.event_impact


def read_marts(con: duckdb.DuckDBPyConnection) -> MartFrames:
    """Read the catalog and the marts the report needs (market model only)."""
    for schema, name in (("core", "ai_events"), ("marts", "event_impact"), ("marts", "abnormal_returns")):
        if not table_exists(con, f"{schema}.{name}"):
            raise JevonsInputError(
                f"the warehouse has no {schema}.{name} table: it is not a jevons warehouse yet; run `{RUN_FIRST}` first"
            )
    demand = (
        con.sql(
            "SELECT respondent, subba, type, date_local, value_mwh, hours_reported FROM marts.electricity_demand_daily "
            "WHERE type = 'D'"
        ).pl()
        if table_exists(con, "marts.electricity_demand_daily")
        else pl.DataFrame()
    )
    jevons = con.sql("SELECT * FROM marts.jevons_check").pl() if table_exists(con, "marts.jevons_check") else None
    return MartFrames(
        events=con.sql("SELECT event_id, event_date, name, category, description FROM core.ai_events").pl(),
        impact=con.sql("SELECT * FROM marts.event_impact WHERE model = 'market'").pl(),
        abnormal=con.sql(
            "SELECT event_id, ticker, rel_day, date, abnormal_ret, car FROM marts.abnormal_returns "
            "WHERE model = 'market'"
        ).pl(),
        group_impact=_group_impact(con),
        demand_daily=demand,
        jevons=jevons if jevons is not None else pl.DataFrame(),
        retail_monthly=_retail(con),
        prices_through=(
            con.sql("SELECT max(date) FROM core.prices_daily").fetchall()[0][0]
            if table_exists(con, "core.prices_daily")
            else None
        ),
    )
