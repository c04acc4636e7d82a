"""The one registry of sources: every price source and electricity source is one `SourceSpec` entry here.

The daily flow, the CLI (`jevons run` / `jevons serve` options) and the deployments' parameters loop over
`SOURCES`; none of them names a source. An entry says what the source fetches, the core tables it feeds, the
parameter that selects it and the function that extracts (resuming incrementally from what the published
warehouse holds, where it does). Entry points are `"module:function"` strings, imported only when the source
runs, so `jevons --help` never imports yfinance, pandas or requests.

Selection, per kind (prices, electricity, weather): the entry whose parameter was given runs (e.g.
`--prices-from DIR` picks the CSV folder); with none given, the kind's live entry (`option=None`) runs. Two
parameters of one kind given together is an input error. EIA API routes are not separate entries: they share
one key, client and failure policy, so they live in the EIA route table (`flows.sources.eia.routes.ROUTES`),
one `EiaRoute` entry per route, which the `eia-api` entry fetches.

Adding a source (as `--weather-from DIR` was, and issue 14's `--electricity-from DIR`): write its module with
an `extract(ctx: ExtractContext) -> SourceResult`, append a `SourceSpec` below, and add the parameter to
`flows.daily.daily` (a test checks that every registered option is one). See docs/extending.md.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from warehouse.errors import JevonsInputError

if TYPE_CHECKING:
    from flows.sources.base import ExtractContext, SourceResult

KIND_PRICES = "prices"
KIND_ELECTRICITY = "electricity"
KIND_WEATHER = "weather"


@dataclass(frozen=True)
class SourceOption:
    """The run parameter that selects a source: flow/deployment parameter `name`, CLI flag `flag`.

    The value is a path (a folder or file of the source's layout); the CLI resolves it to an absolute path
    for deployments, so a scheduled run does not depend on its working directory.
    """

    name: str
    flag: str
    help: str
    metavar: str = "DIR"


@dataclass(frozen=True)
class SourceSpec:
    """One source, declared once.

    - `name`: recorded as the source of its loads (ops.load_log) unless its result names a finer one;
    - `kind`: prices, electricity, ...: one source of each kind runs per run;
    - `description`: what it fetches (for people reading the registry, and the docs);
    - `tables`: the core tables its `SourceResult.frames` may hold (checked by the flow);
    - `extract`: `"module:function"`, `function(ctx: ExtractContext) -> SourceResult`; it plans its own
      incremental resume from `ctx.warehouse` (read-only), which is why the flow needs no source knowledge;
    - `option`: the parameter selecting it, None for the kind's live default;
    - `validate`: optional `"module:function"`, `function(option_value: str) -> None`, run by the CLI before the
      flow starts so a bad file fails in a second with one clear message, not as a task traceback;
    - `load_chunk_rows`: per table, rows per upsert transaction (bounds memory of a full backfill);
    - `retries`: the flow's extract task retries of an unexpected error; a JevonsError is never retried by the
      task, since the source's client already retried what a retry can fix (flows.sources.retry).
    """

    name: str
    kind: str
    description: str
    tables: tuple[str, ...]
    extract: str
    option: SourceOption | None = None
    validate: str | None = None
    load_chunk_rows: Mapping[str, int] = field(default_factory=dict)
    retries: tuple[int, ...] = (2, 5, 15)

    def extract_fn(self) -> Callable[[ExtractContext], SourceResult]:
        return cast("Callable[[ExtractContext], SourceResult]", _resolve(self.extract))

    def validate_fn(self) -> Callable[[str], None] | None:
        return cast("Callable[[str], None]", _resolve(self.validate)) if self.validate else None


def _resolve(entrypoint: str) -> Any:
    module, _, attr = entrypoint.partition(":")
    return getattr(importlib.import_module(module), attr)


SOURCES: list[SourceSpec] = [
    SourceSpec(
        name="csv",
        kind=KIND_PRICES,
        description="Daily closes from a folder of TICKER.csv files (Date, Adj Close or Close; OHLCV optional)",
        tables=("core.prices_daily",),
        extract="flows.sources.csv_prices:extract",
        option=SourceOption(
            "prices_from", "--prices-from", "Folder of TICKER.csv price files (Date, Adj Close or Close)"
        ),
        validate="flows.sources.csv_prices:validate",
    ),
    SourceSpec(
        name="yfinance",
        kind=KIND_PRICES,
        description="Live daily prices, dividends and splits from Yahoo Finance; each ticker resumes from its "
        "last stored date minus an overlap, restated histories are refetched and replaced",
        tables=("core.prices_daily", "core.corporate_actions"),
        extract="flows.sources.yahoo.source:extract",
    ),
    SourceSpec(
        name="eia",
        kind=KIND_ELECTRICITY,
        description="EIA Open Data API v2, one request series per entry of flows.sources.eia.routes.ROUTES "
        "(hourly demand by BA and sub-BA, monthly retail sales by state), resuming from the last loaded period",
        tables=("core.electricity_demand_hourly", "core.electricity_retail_sales_monthly"),
        extract="flows.sources.eia.source:extract",
        load_chunk_rows={"core.electricity_demand_hourly": 1_000_000},
        retries=(5, 30),
    ),
    SourceSpec(
        name="noaa-files",
        kind=KIND_WEATHER,
        description="NOAA weather files in a folder: nClimDiv monthly degree days and temperature by state "
        "(climdiv-hddcst/cddcst/tmpcst-*), daily temperature per grid weather zone with its station table",
        tables=("core.weather_degree_days_monthly", "core.weather_daily"),
        extract="flows.sources.noaa.extract:extract_files",
        option=SourceOption(
            "weather_from", "--weather-from", "Folder of NOAA weather files (nClimDiv state files, zone temperatures)"
        ),
        validate="flows.sources.noaa.extract:validate",
    ),
    SourceSpec(
        name="noaa",
        kind=KIND_WEATHER,
        description="Live NOAA nClimDiv state files (newest vintage, no key); unreachable NOAA is a warning "
        "unless the run requires weather",
        tables=("core.weather_degree_days_monthly", "core.weather_daily"),
        extract="flows.sources.noaa.extract:extract_live",
        retries=(),  # the client retries within its own time budget; no network fails at once
    ),
    SourceSpec(
        name="eia-files",
        kind=KIND_ELECTRICITY,
        description="Published EIA files from a folder: EIA-930 six-month BALANCE/SUBREGION files, EIA API v2 "
        "exports (CSV/JSON) of region-data, region-sub-ba-data and retail-sales, the EIA-861M sales_revenue.xlsx; "
        "overlapping vintages merged (later vintage wins, revisions recorded as warnings)",
        tables=("core.electricity_demand_hourly", "core.electricity_retail_sales_monthly"),
        extract="flows.sources.eia_files.source:extract",
        option=SourceOption(
            "electricity_from",
            "--electricity-from",
            "Folder of EIA files (EIA-930 bulk, API exports, EIA-861M xlsx) instead of the EIA API",
        ),
        validate="flows.sources.eia_files.source:validate",
        load_chunk_rows={"core.electricity_demand_hourly": 1_000_000},
    ),
]
"""Every source, in the order the flow extracts its kinds (prices first)."""


def kinds() -> list[str]:
    """The source kinds, in registry order."""
    return list(dict.fromkeys(spec.kind for spec in SOURCES))


def options() -> list[SourceOption]:
    """Every source's selecting parameter, in registry order (the CLI's and the deployments' parameters)."""
    return [spec.option for spec in SOURCES if spec.option is not None]


def spec(name: str) -> SourceSpec:
    """The entry called `name`."""
    for entry in SOURCES:
        if entry.name == name:
            return entry
    raise KeyError(f"no registered source {name!r} (known: {', '.join(s.name for s in SOURCES)})")


def select(kind: str, values: Mapping[str, Any]) -> tuple[SourceSpec, str | None] | None:
    """The source of `kind` to run given the parameter `values` (name → value), and its option value.

    The entry whose option is set wins; else the kind's live entry; None when the kind has neither.
    """
    entries = [s for s in SOURCES if s.kind == kind]
    chosen = [(s, str(values[s.option.name])) for s in entries if s.option and values.get(s.option.name)]
    if len(chosen) > 1:
        flags = " and ".join(s.option.flag for s, _ in chosen if s.option)
        raise JevonsInputError(f"{flags}: give only one {kind} source")
    if chosen:
        return chosen[0]
    live = [s for s in entries if s.option is None]
    return (live[0], None) if live else None


def validate_options(values: Mapping[str, Any]) -> None:
    """Run each given option's cheap pre-flight check (e.g. parse every CSV price file) before the flow."""
    for entry in SOURCES:
        check = entry.validate_fn()
        if entry.option is not None and check is not None and values.get(entry.option.name):
            check(str(values[entry.option.name]))
