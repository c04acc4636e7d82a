"""Where each EIA request series resumes: its last loaded period minus the overlap EIA still revises.

`read_last_loaded` reads, for every route of the table, the latest loaded period per resume key (one
aggregate per table); `plan` turns that and the config into the run's queries. An explicit `start` (a
backfill) overrides the incremental start; `end` bounds every query. A source never reads the warehouse
itself: the registry's `extract` reads this from the published file, read-only, before any request is sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import duckdb

from flows.sources.eia.query import EiaConfig, EiaQuery, hourly_period, monthly_period
from flows.sources.eia.routes import ROUTES, EiaRoute, Series
from warehouse.introspect import table_exists


@dataclass(frozen=True)
class LastLoaded:
    """The warehouse's latest loaded period per series: table → {resume key values: last period}.

    e.g. {"core.electricity_demand_hourly": {("PJM", ""): datetime(...)},
    "core.electricity_retail_sales_monthly": {("VA",): date(...)}}.
    """

    periods: Mapping[str, Mapping[tuple[str, ...], Any]] = field(default_factory=dict)


def read_last_loaded(con: duckdb.DuckDBPyConnection | None) -> LastLoaded:
    """Latest loaded period per resume key of every route's table; an absent warehouse or table has none."""
    if con is None:
        return LastLoaded()
    periods: dict[str, dict[tuple[str, ...], Any]] = {}
    for table, key, period in dict.fromkeys((r.table, r.resume_key, r.period_column) for r in ROUTES.values()):
        if table in periods or not table_exists(con, table):
            continue
        cols = ", ".join(f'"{c}"' for c in key)
        rows = con.sql(f'SELECT {cols}, max("{period}") FROM {table} GROUP BY {cols}').fetchall()
        periods[table] = {tuple(row[:-1]): row[-1] for row in rows}
    return LastLoaded(periods)


def _months_back(day: date, months: int) -> date:
    index = day.year * 12 + (day.month - 1) - months
    return date(index // 12, index % 12 + 1, 1)


def _series_start(route: EiaRoute, series: Series, cfg: EiaConfig, last: LastLoaded, start: date | None) -> str:
    """EIA period string where `series` starts: explicit start, else its keys' earliest resume point."""
    seen = last.periods.get(route.table, {})
    if route.frequency == "hourly":
        if start is not None:
            return hourly_period(datetime(start.year, start.month, start.day, tzinfo=UTC))
        hourly = [
            cfg.hourly_history_start
            if seen.get(k) is None
            else max(cfg.hourly_history_start, seen[k] - cfg.hourly_overlap)
            for k in series.resume
        ]
        return hourly_period(min(hourly, default=cfg.hourly_history_start))
    if start is not None:
        return monthly_period(date(start.year, start.month, 1))
    monthly = [
        cfg.monthly_history_start
        if seen.get(k) is None
        else max(cfg.monthly_history_start, _months_back(seen[k], cfg.monthly_overlap_months))
        for k in series.resume
    ]
    return monthly_period(min(monthly, default=cfg.monthly_history_start))


def _series_end(route: EiaRoute, end: date | None) -> str | None:
    if end is None:
        return None
    if route.frequency == "hourly":
        return hourly_period(datetime(end.year, end.month, end.day, 23, tzinfo=UTC))
    return monthly_period(end)


def plan(
    cfg: EiaConfig, last: LastLoaded | None = None, start: date | None = None, end: date | None = None
) -> list[EiaQuery]:
    """The queries of one run, route by route in `ROUTES` order, series by series."""
    last = last or LastLoaded()
    return [
        route.query(series, _series_start(route, series, cfg, last, start), _series_end(route, end))
        for route in ROUTES.values()
        for series in route.series(cfg)
    ]
