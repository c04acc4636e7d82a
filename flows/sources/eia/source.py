"""The EIA API source: the planned request series fetched, parsed by their route, as core-table frames.

One subject = one request series (`routes.Series`). A subject whose requests fail after retries is recorded as
failed and loads nothing (loading some of its pages would leave holes that the incremental start would never
revisit); the other subjects still load. An invalid key (`EiaApiKeyError`) or an unreachable host
(`EiaUnreachableError`: no network, so every other subject would fail the same way) aborts the fetch;
`extract` (the registry's entry point) turns a missing or invalid key or an unreachable EIA into a visible
`no_api_key` / `api_key_invalid` / `eia_unreachable` warning, or an error when the run requires electricity
(`--require-electricity`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date
from pathlib import Path

import polars as pl

from flows.sources.base import ExtractContext, SourceResult, SourceWarning
from flows.sources.eia.client import EiaClient, EiaFetch, EiaUnreachableError
from flows.sources.eia.parse import ParseStats
from flows.sources.eia.plan import LastLoaded, plan, read_last_loaded
from flows.sources.eia.query import STAGE, EiaConfig, EiaQuery
from flows.sources.eia.routes import ROUTES
from flows.sources.eia.secrets import API_KEY_ENV, SECRET_BLOCK, EiaApiKeyError, resolve_api_key, scrub
from warehouse.connection import connect_read_only
from warehouse.errors import JevonsSourceError

log = logging.getLogger("jevons.eia")

SOURCE_NAME = "eia"


class EiaSource:
    """Fetches the configured EIA series incrementally and returns core-table frames as a SourceResult."""

    name = SOURCE_NAME

    def __init__(self, client: EiaClient, config: EiaConfig | None = None) -> None:
        self.client = client
        self.config = config or EiaConfig()

    def plan(
        self, last: LastLoaded | None = None, start: date | None = None, end: date | None = None
    ) -> list[EiaQuery]:
        """The queries of one run: per series from its last loaded period minus the overlap (`plan.plan`)."""
        return plan(self.config, last, start, end)

    def fetch(self, last: LastLoaded | None = None, start: date | None = None, end: date | None = None) -> SourceResult:
        """Run the plan; failed subjects become warnings, an invalid key aborts (EiaApiKeyError)."""
        parts: dict[str, list[pl.DataFrame]] = {route.table: [] for route in ROUTES.values()}
        warnings: list[SourceWarning] = []
        failed: list[str] = []
        rejected = 0
        for query in self.plan(last, start, end):
            route = ROUTES[query.route]
            try:
                fetched = self.client.fetch(query)
            except (EiaApiKeyError, EiaUnreachableError):
                raise
            except JevonsSourceError as exc:
                failed.append(query.subject)
                warnings.append(SourceWarning(STAGE, query.subject, "route_failed", scrub(str(exc))))
                log.warning("%s", scrub(str(exc)))
                continue
            frame, stats = route.parse(fetched.frame)
            parts[route.table].append(frame)
            rejected += stats.bad_periods
            warnings += _fetch_warnings(query, fetched, frame, stats)
        empty: dict[str, pl.DataFrame] = {}
        for route in ROUTES.values():  # a table's empty frame: its first route's parser output for no rows
            empty.setdefault(route.table, route.empty_frame())
        return SourceResult(
            source=self.name,
            frames={table: pl.concat(frames) if frames else empty[table] for table, frames in parts.items()},
            warnings=warnings,
            failed_subjects=failed,
            rejected_rows=rejected,
        )


def _fetch_warnings(query: EiaQuery, fetched: EiaFetch, frame: pl.DataFrame, stats: ParseStats) -> list[SourceWarning]:
    """Recorded (non-fatal) oddities of one fetched subject."""
    out: list[SourceWarning] = []
    span = f"{query.start or 'start'}..{query.end or 'latest'}"
    if fetched.total == 0 or fetched.frame.height == 0:
        out.append(
            SourceWarning(
                STAGE,
                query.subject,
                "no_rows",
                f"EIA returned no rows for {query.subject} {span} where rows were expected",
            )
        )
        return out
    if stats.duplicates:
        out.append(
            SourceWarning(
                STAGE,
                query.subject,
                "duplicate_rows_dropped",
                f"{stats.duplicates} rows repeated across pages were dropped (kept the last fetched)",
            )
        )
    if frame.height + stats.bad_periods < fetched.total:
        out.append(
            SourceWarning(
                STAGE,
                query.subject,
                "rows_short_of_total",
                f"EIA reported {fetched.total} rows for {span} but {frame.height} distinct rows "
                f"arrived over {fetched.pages} pages (data changed while paging?)",
            )
        )
    if stats.bad_periods:
        out.append(
            SourceWarning(
                STAGE,
                query.subject,
                "rows_bad_period",
                f"{stats.bad_periods} rows with a missing or unparseable period or key were skipped",
            )
        )
    if stats.bad_values:
        out.append(
            SourceWarning(
                STAGE, query.subject, "values_not_numeric", f"{stats.bad_values} non-numeric values were stored as NULL"
            )
        )
    return out


def no_key_warning() -> SourceWarning:
    """The visible warning of a run without an EIA key."""
    return SourceWarning(
        STAGE,
        "EIA",
        "no_api_key",
        f"electricity skipped: no EIA API key (set {API_KEY_ENV} or the Prefect Secret block '{SECRET_BLOCK}'; "
        "a free key is at https://www.eia.gov/opendata/register.php)",
    )


def extract_electricity(
    last: LastLoaded,
    *,
    start: date | None = None,
    end: date | None = None,
    require: bool = False,
    config: EiaConfig | None = None,
    api_key: str | None = None,
    client_factory: Callable[[str], EiaClient] | None = None,
) -> SourceResult:
    """Fetch EIA data; without a usable key, an empty result whose warning says why the stage was skipped.

    With `require` (--require-electricity), a missing or invalid key raises EiaApiKeyError instead, and an
    unreachable EIA EiaUnreachableError.
    """
    key = api_key if api_key is not None else resolve_api_key()
    if not key:
        if require:
            raise EiaApiKeyError(
                f"--require-electricity: no EIA API key (set {API_KEY_ENV} or the Prefect Secret block "
                f"'{SECRET_BLOCK}'; a free key is at https://www.eia.gov/opendata/register.php)"
            )
        return SourceResult(source=SOURCE_NAME, frames={}, warnings=[no_key_warning()])
    source = EiaSource((client_factory or EiaClient)(key), config)
    try:
        return source.fetch(last, start=start, end=end)
    except EiaApiKeyError as exc:
        if require:
            raise
        return SourceResult(
            source=source.name,
            frames={},
            failed_subjects=["EIA"],
            warnings=[SourceWarning(STAGE, "EIA", "api_key_invalid", f"electricity skipped: {exc}")],
        )
    except EiaUnreachableError as exc:
        if require:
            raise
        return SourceResult(
            source=source.name,
            frames={},
            failed_subjects=["EIA"],
            warnings=[SourceWarning(STAGE, "EIA", "eia_unreachable", f"electricity skipped: {exc}")],
        )


def extract(ctx: ExtractContext) -> SourceResult:
    """The registry's entry point: where to resume, from the published warehouse (read-only, closed before
    any request is sent, so the network never holds it open), then the fetch."""
    con = connect_read_only(ctx.warehouse) if Path(ctx.warehouse).exists() else None
    try:
        last = read_last_loaded(con)
    finally:
        if con is not None:
            con.close()
    return extract_electricity(last, require=ctx.required)
