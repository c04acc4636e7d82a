"""The EIA route table: one `EiaRoute` entry per v2 data route, gridstatus-style.

An entry is everything the source needs to fetch, parse, load and resume a route: its path, frequency, data
columns, how the configured facets split into request series (one subject per series: a subject whose
requests fail loads nothing, so the incremental start never skips a hole), the sort that keeps offset paging
stable, the row fields kept, the parser, the core table it feeds and the table columns the incremental resume
reads (`resume_key`, `period_column`). Adding a route is one entry in `ROUTES` (plus its table, if new).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import polars as pl

from flows.sources.eia.parse import HOURLY_TABLE, MONTHLY_TABLE, ParseStats, parse_hourly, parse_retail
from flows.sources.eia.query import ROUTE_REGION, ROUTE_RETAIL, ROUTE_SUB_BA, EiaConfig, EiaQuery

Facets = tuple[tuple[str, tuple[str, ...]], ...]


@dataclass(frozen=True)
class Series:
    """One request series of a route: subject label, facet values, and the resume keys it covers.

    `resume` lists the `resume_key` values (of the route's table) whose last loaded periods decide where the
    series starts: the earliest of their starts, so no key of the series misses a period.
    """

    label: str
    facets: Facets
    resume: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class EiaRoute:
    """One EIA v2 data route (see the module docstring)."""

    route: str
    frequency: Literal["hourly", "monthly"]
    data: tuple[str, ...]
    sort: tuple[str, ...]
    columns: tuple[str, ...]
    table: str
    resume_key: tuple[str, ...]
    period_column: str
    series: Callable[[EiaConfig], list[Series]]
    parse: Callable[[pl.DataFrame], tuple[pl.DataFrame, ParseStats]]

    def query(self, series: Series, start: str | None, end: str | None) -> EiaQuery:
        """The paged request series of `series` between EIA period strings `start` and `end`."""
        return EiaQuery(
            subject=f"{self.route} {series.label}" if series.label else self.route,
            route=self.route,
            frequency=self.frequency,
            data=self.data,
            facets=series.facets,
            sort=self.sort,
            columns=self.columns,
            start=start,
            end=end,
        )

    def empty_frame(self) -> pl.DataFrame:
        """The parser's output for no rows: the route's frame schema, derived from its parser."""
        return self.parse(pl.DataFrame(schema={c: pl.String() for c in self.columns}))[0]


def _region_series(cfg: EiaConfig) -> list[Series]:
    return [Series(r, (("respondent", (r,)), ("type", tuple(cfg.types))), ((r, ""),)) for r in cfg.respondents]


def _sub_ba_series(cfg: EiaConfig) -> list[Series]:
    return [Series(f"{p}/{s}", (("parent", (p,)), ("subba", (s,))), ((p, s),)) for p, s in cfg.sub_bas]


def _retail_series(cfg: EiaConfig) -> list[Series]:
    if not (cfg.states and cfg.sectors):
        return []
    facets: Facets = (("stateid", tuple(cfg.states)), ("sectorid", tuple(cfg.sectors)))
    return [Series("", facets, tuple((s,) for s in cfg.states))]


ROUTES: dict[str, EiaRoute] = {
    r.route: r
    for r in (
        EiaRoute(
            route=ROUTE_REGION,
            frequency="hourly",
            data=("value",),
            sort=("period", "respondent", "type"),
            columns=("period", "respondent", "type", "value"),
            table=HOURLY_TABLE,
            resume_key=("respondent", "subba"),
            period_column="period_utc",
            series=_region_series,
            parse=lambda raw: parse_hourly(raw, ROUTE_REGION),
        ),
        EiaRoute(
            route=ROUTE_SUB_BA,
            frequency="hourly",
            data=("value",),
            sort=("period", "parent", "subba"),
            columns=("period", "parent", "subba", "value"),
            table=HOURLY_TABLE,
            resume_key=("respondent", "subba"),
            period_column="period_utc",
            series=_sub_ba_series,
            parse=lambda raw: parse_hourly(raw, ROUTE_SUB_BA),
        ),
        EiaRoute(
            route=ROUTE_RETAIL,
            frequency="monthly",
            data=("customers", "price", "revenue", "sales"),
            sort=("period", "stateid", "sectorid"),
            columns=("period", "stateid", "sectorid", "customers", "price", "revenue", "sales"),
            table=MONTHLY_TABLE,
            resume_key=("state",),
            period_column="month",
            series=_retail_series,
            parse=parse_retail,
        ),
    )
}
"""Every EIA route the source fetches, in fetch order."""


def region_query(respondent: str, types: Sequence[str], start: str | None, end: str | None) -> EiaQuery:
    """Hourly region-data for one balancing authority and the given EIA-930 types."""
    series = _region_series(EiaConfig(respondents=(respondent,), types=tuple(types)))[0]
    return ROUTES[ROUTE_REGION].query(series, start, end)


def sub_ba_query(parent: str, subba: str, start: str | None, end: str | None) -> EiaQuery:
    """Hourly sub-BA demand for one (parent BA, sub-BA)."""
    return ROUTES[ROUTE_SUB_BA].query(_sub_ba_series(EiaConfig(sub_bas=((parent, subba),)))[0], start, end)


def retail_query(states: Sequence[str], sectors: Sequence[str], start: str | None, end: str | None) -> EiaQuery:
    """Monthly retail sales, price, revenue and customers for the given states and sectors."""
    series = _retail_series(EiaConfig(states=tuple(states), sectors=tuple(sectors)))[0]
    return ROUTES[ROUTE_RETAIL].query(series, start, end)
