"""EIA Open Data API v2: hourly demand by balancing authority and sub-BA, monthly retail sales by state.

Why it is built this way:

* **Paging.** EIA returns at most 5,000 rows per JSON request. We ask for offset 0, read `response.total` (a
  string since API 2.1.6), then fetch the remaining offsets concurrently with a bound (`max_workers`). Every
  request sorts on all key columns, so pages are disjoint; rows that still repeat (a page served twice while
  EIA appends data) are dropped by key, keeping the row fetched last, and a shortfall against `total` is a
  recorded warning.
* **One subject = one request series.** Region data is fetched per respondent, sub-BA data per (parent,
  sub-BA), retail sales in one series. A subject whose requests fail after retries is recorded as failed and
  loads nothing (loading some of its pages would leave holes that the incremental start would never revisit);
  the other subjects still load.
* **Errors.** HTTP 403 `API_KEY_INVALID` raises `EiaApiKeyError` at once (no retry: a retry cannot fix a key)
  with a message naming `EIA_API_KEY`. HTTP 429, 5xx, timeouts, connection errors and unreadable bodies are
  retried with exponential backoff (honouring `Retry-After`), then the subject fails. Other 4xx are not
  retried.
* **The key.** EIA wants it as the `api_key` query parameter, so it is in every request URL. It is added only
  at send time, never stored in query objects, and every message we build or re-raise passes through `scrub`,
  re-raised `from None` so no chained requests exception (whose text holds the URL) survives. A logging
  filter scrubs `api_key=` from urllib3's debug lines too.
* **Values.** Everything arrives as strings; values are cast to float, nulls stay null, and non-numeric
  strings become null with a recorded warning. Retail sales are converted from million kWh and million
  dollars to MWh and dollars.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import polars as pl
import requests

from flows.sources.base import SourceResult, SourceWarning
from warehouse.errors import JevonsInputError, JevonsSourceError

BASE_URL = "https://api.eia.gov/v2"
PAGE_LENGTH = 5000
"""EIA's maximum rows per JSON request."""

API_KEY_ENV = "EIA_API_KEY"
SECRET_BLOCK = "eia-api-key"
"""Name of the Prefect Secret block read when EIA_API_KEY is not set."""

STAGE = "electricity"

ROUTE_REGION = "electricity/rto/region-data"
ROUTE_SUB_BA = "electricity/rto/region-sub-ba-data"
ROUTE_RETAIL = "electricity/retail-sales"

DEFAULT_RESPONDENTS: tuple[str, ...] = ("US48", "PJM", "ERCO", "MISO", "CISO", "SWPP", "SOCO", "TVA", "DUK")
DEFAULT_TYPES: tuple[str, ...] = ("D", "DF", "NG", "TI")
DEFAULT_SUB_BAS: tuple[tuple[str, str], ...] = (("PJM", "DOM"),)
DEFAULT_STATES: tuple[str, ...] = ("VA", "TX", "GA", "OH", "AZ", "OR", "IL", "PA", "US")
DEFAULT_SECTORS: tuple[str, ...] = ("ALL", "COM", "IND")

HOURLY_TABLE = "core.electricity_demand_hourly"
MONTHLY_TABLE = "core.electricity_retail_sales_monthly"

HOURLY_SCHEMA: dict[str, pl.DataType] = {
    "respondent": pl.Categorical(),
    "subba": pl.Categorical(),
    "period_utc": pl.Datetime("us", "UTC"),
    "type": pl.Categorical(),
    "value_mwh": pl.Float64(),
}
"""Columns and dtypes of core.electricity_demand_hourly rows a source returns (all but loaded_at).

The three labels are Categorical: a full backfill holds millions of rows of a handful of codes, and as
dictionary-encoded Arrow they cost about a third less memory in the frame and in the load (they land as
VARCHAR; measured on the 12 M-row benchmark: peak 1.5 GB instead of 2.0 GB)."""

MONTHLY_SCHEMA: dict[str, pl.DataType] = {
    "state": pl.String(),
    "sector": pl.String(),
    "month": pl.Date(),
    "sales_mwh": pl.Float64(),
    "price_cents_per_kwh": pl.Float64(),
    "revenue_usd": pl.Float64(),
    "customers": pl.Int64(),
}
"""Columns and dtypes of core.electricity_retail_sales_monthly rows (all but loaded_at)."""

MWH_PER_MILLION_KWH = 1_000.0
USD_PER_MILLION_USD = 1_000_000.0

log = logging.getLogger("jevons.eia")

_KEY_PARAM = re.compile(r"(api_key=)[^&\s'\"]+", re.IGNORECASE)
_KEY_JSON = re.compile(r"(\"api_key\"\s*:\s*\")[^\"]*(\")", re.IGNORECASE)


# --------------------------------------------------------------------------------------------------- errors


class EiaApiKeyError(JevonsInputError):
    """EIA refused the API key (HTTP 403 API_KEY_INVALID) or none is set: the user must fix EIA_API_KEY."""


class EiaHttpError(JevonsSourceError):
    """An EIA request failed after its retries, or with a status no retry can fix."""

    def __init__(self, message: str, status: int | None = None) -> None:
        self.status = status
        super().__init__(message)


class EiaResponseError(JevonsSourceError):
    """EIA answered 200 with a body that is not a v2 data response (no `response.data`, bad `total`)."""


# --------------------------------------------------------------------------------------------- the API key


def scrub(text: str, key: str | None = None) -> str:
    """Remove the API key from any text: the literal key, `api_key=...` URL parameters and JSON fields."""
    if key:
        text = text.replace(key, "***")
    text = _KEY_PARAM.sub(r"\1***", text)
    return _KEY_JSON.sub(r"\1***\2", text)


class KeyScrubFilter(logging.Filter):
    """Scrubs `api_key=` from log records (urllib3 logs full request URLs at DEBUG)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = scrub(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


_filter_lock = threading.Lock()


def install_log_scrubbing() -> None:
    """Attach KeyScrubFilter once to the loggers that can see request URLs."""
    with _filter_lock:
        for name in ("urllib3.connectionpool", "requests", log.name):
            logger = logging.getLogger(name)
            if not any(isinstance(f, KeyScrubFilter) for f in logger.filters):
                logger.addFilter(KeyScrubFilter())


def resolve_api_key(
    env: Mapping[str, str] | None = None, block_name: str = SECRET_BLOCK, use_prefect: bool = True
) -> str | None:
    """The EIA key from $EIA_API_KEY, else from the Prefect Secret block `block_name`, else None.

    A missing or unreadable block is not an error: without a key the electricity stage is skipped with a
    warning (or fails under --require-electricity), which the caller decides.
    """
    env = os.environ if env is None else env
    key = env.get(API_KEY_ENV, "").strip()
    if key:
        return key
    if not use_prefect:
        return None
    try:
        from prefect.blocks.system import Secret

        block: Any = Secret.load(block_name)  # sync call in a sync context
        value = block.get()
    except Exception:  # no block, no API: both mean "no key"
        return None
    text = str(value).strip() if value is not None else ""
    return text or None


# ------------------------------------------------------------------------------------------------ queries


@dataclass(frozen=True)
class EiaQuery:
    """One series of paged requests to a v2 data route (never holds the API key).

    `columns` are the row fields kept from the response; `sort` lists the key columns every page is sorted
    on (ascending), which keeps offset paging stable.
    """

    subject: str
    route: str
    frequency: str
    data: tuple[str, ...]
    facets: tuple[tuple[str, tuple[str, ...]], ...]
    sort: tuple[str, ...]
    columns: tuple[str, ...]
    start: str | None = None
    end: str | None = None

    def params(self, offset: int, length: int) -> list[tuple[str, str]]:
        """Query parameters of the page at `offset`, in EIA's bracket syntax, without the key."""
        out: list[tuple[str, str]] = [("frequency", self.frequency)]
        out += [(f"data[{i}]", col) for i, col in enumerate(self.data)]
        for facet, values in self.facets:
            out += [(f"facets[{facet}][]", v) for v in values]
        if self.start is not None:
            out.append(("start", self.start))
        if self.end is not None:
            out.append(("end", self.end))
        for i, col in enumerate(self.sort):
            out += [(f"sort[{i}][column]", col), (f"sort[{i}][direction]", "asc")]
        out += [("offset", str(offset)), ("length", str(length))]
        return out


def hourly_period(moment: datetime) -> str:
    """EIA's hourly UTC period string, e.g. 2024-01-01T05."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H")


def monthly_period(day: date) -> str:
    """EIA's monthly period string, e.g. 2024-01."""
    return day.strftime("%Y-%m")


def region_query(respondent: str, types: Sequence[str], start: str | None, end: str | None) -> EiaQuery:
    """Hourly region-data for one balancing authority and the given EIA-930 types."""
    return EiaQuery(
        subject=f"{ROUTE_REGION} {respondent}",
        route=ROUTE_REGION,
        frequency="hourly",
        data=("value",),
        facets=(("respondent", (respondent,)), ("type", tuple(types))),
        sort=("period", "respondent", "type"),
        columns=("period", "respondent", "type", "value"),
        start=start,
        end=end,
    )


def sub_ba_query(parent: str, subba: str, start: str | None, end: str | None) -> EiaQuery:
    """Hourly sub-BA demand for one (parent BA, sub-BA)."""
    return EiaQuery(
        subject=f"{ROUTE_SUB_BA} {parent}/{subba}",
        route=ROUTE_SUB_BA,
        frequency="hourly",
        data=("value",),
        facets=(("parent", (parent,)), ("subba", (subba,))),
        sort=("period", "parent", "subba"),
        columns=("period", "parent", "subba", "value"),
        start=start,
        end=end,
    )


def retail_query(states: Sequence[str], sectors: Sequence[str], start: str | None, end: str | None) -> EiaQuery:
    """Monthly retail sales, price, revenue and customers for the given states and sectors."""
    return EiaQuery(
        subject=ROUTE_RETAIL,
        route=ROUTE_RETAIL,
        frequency="monthly",
        data=("customers", "price", "revenue", "sales"),
        facets=(("stateid", tuple(states)), ("sectorid", tuple(sectors))),
        sort=("period", "stateid", "sectorid"),
        columns=("period", "stateid", "sectorid", "customers", "price", "revenue", "sales"),
        start=start,
        end=end,
    )


# ------------------------------------------------------------------------------------------------- client


@dataclass
class EiaFetch:
    """All pages of one query as one frame of string columns (`columns` of the query), in offset order."""

    query: EiaQuery
    frame: pl.DataFrame
    total: int
    pages: int


class _Retryable(Exception):
    """Internal: a failure worth another attempt; `message` is already scrubbed."""

    def __init__(self, message: str, status: int | None = None, retry_after_s: float | None = None) -> None:
        self.message = message
        self.status = status
        self.retry_after_s = retry_after_s
        super().__init__(message)


class EiaClient:
    """Talks to the v2 API: builds requests, retries, pages, and turns pages into string frames.

    `session`, `sleep` and the limits are injectable so tests replay recorded responses through this same
    code with no waiting.
    """

    def __init__(
        self,
        api_key: str,
        *,
        session: requests.Session | None = None,
        base_url: str = BASE_URL,
        page_length: int = PAGE_LENGTH,
        max_workers: int = 4,
        max_attempts: int = 4,
        backoff_s: float = 1.0,
        max_backoff_s: float = 30.0,
        timeout_s: tuple[float, float] = (10.0, 60.0),
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not api_key:
            raise EiaApiKeyError(f"no EIA API key: set {API_KEY_ENV} (free at https://www.eia.gov/opendata/)")
        if not 1 <= page_length <= PAGE_LENGTH:
            raise ValueError(f"page_length must be within 1..{PAGE_LENGTH}")
        self._key = api_key
        self.session = session or requests.Session()
        self.base_url = base_url.rstrip("/")
        self.page_length = page_length
        self.max_workers = max(1, max_workers)
        self.max_attempts = max(1, max_attempts)
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.timeout_s = timeout_s
        self.sleep = sleep
        self.requests_sent = 0
        self._count_lock = threading.Lock()
        install_log_scrubbing()

    def __repr__(self) -> str:  # never show the key
        return f"EiaClient(base_url={self.base_url!r}, page_length={self.page_length})"

    def url(self, route: str) -> str:
        return f"{self.base_url}/{route.strip('/')}/data/"

    # -- one request ---------------------------------------------------------------------------------------

    def get_page(self, query: EiaQuery, offset: int) -> dict[str, Any]:
        """One page's JSON body, with bounded retries; raises EiaApiKeyError, EiaHttpError, EiaResponseError."""
        where = f"{query.subject} (offset {offset})"
        last: _Retryable | None = None
        for attempt in range(1, self.max_attempts + 1):
            try:
                return self._attempt(query, offset, where)
            except _Retryable as exc:
                last = exc
                if attempt == self.max_attempts:
                    break
                delay = min(self.max_backoff_s, self.backoff_s * 2 ** (attempt - 1))
                if exc.retry_after_s is not None:
                    delay = min(self.max_backoff_s, max(delay, exc.retry_after_s))
                log.warning("EIA %s: %s; retry %d/%d in %.1fs", where, exc.message, attempt,
                            self.max_attempts - 1, delay)
                self.sleep(delay)
        assert last is not None
        raise EiaHttpError(
            f"EIA {where}: gave up after {self.max_attempts} attempts; last error: {last.message}", last.status
        ) from None

    def _attempt(self, query: EiaQuery, offset: int, where: str) -> dict[str, Any]:
        params = [("api_key", self._key), *query.params(offset, self.page_length)]
        with self._count_lock:
            self.requests_sent += 1
        log.debug("EIA GET %s offset=%d", query.route, offset)
        try:
            response = self.session.get(
                self.url(query.route), params=params, timeout=self.timeout_s, headers={"Accept": "application/json"}
            )
        except requests.Timeout:
            raise _Retryable("request timed out") from None
        except requests.ConnectionError as exc:
            raise _Retryable(f"connection failed ({type(exc).__name__})") from None
        except requests.RequestException as exc:
            raise EiaHttpError(f"EIA {where}: request failed: {scrub(str(exc), self._key)}") from None
        status = response.status_code
        if status == 200:
            try:
                body = response.json()
            except ValueError:
                raise _Retryable("HTTP 200 with a body that is not JSON", status) from None
            if not isinstance(body, dict):
                raise EiaResponseError(f"EIA {where}: response is not a JSON object")
            return body
        detail = self._error_detail(response)
        if status == 403 and "API_KEY" in detail.upper():
            raise EiaApiKeyError(
                f"EIA rejected the API key ({detail}): set {API_KEY_ENV} to a valid key "
                "(free at https://www.eia.gov/opendata/register.php) or store it in the Prefect Secret block "
                f"'{SECRET_BLOCK}'"
            )
        if status == 429 or status >= 500:
            raise _Retryable(f"HTTP {status}: {detail}", status, _retry_after(response))
        raise EiaHttpError(f"EIA {where}: HTTP {status}: {detail}", status)

    def _error_detail(self, response: requests.Response) -> str:
        """EIA's error code/message from the body, scrubbed and short."""
        text = ""
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict):
            err = body.get("error")
            if isinstance(err, dict):
                text = " ".join(str(err.get(k, "")) for k in ("code", "message")).strip()
            elif err is not None:
                text = str(err) + (f" (code {body['code']})" if "code" in body else "")
        if not text:
            text = (response.reason or "").strip() or response.text[:200]
        return scrub(text, self._key)[:300]

    # -- a whole query -------------------------------------------------------------------------------------

    def fetch(self, query: EiaQuery) -> EiaFetch:
        """Every page of `query`: offset 0 first (for `total`), then the rest concurrently, in offset order."""
        first = self.get_page(query, 0)
        total, frame = self._page(query, first, 0)
        offsets = list(range(self.page_length, total, self.page_length))
        frames = [frame]
        if offsets:
            with ThreadPoolExecutor(max_workers=self.max_workers, thread_name_prefix="eia") as pool:
                bodies = list(pool.map(lambda off: (off, self.get_page(query, off)), offsets))
            frames += [self._page(query, body, off)[1] for off, body in bodies]
        return EiaFetch(query=query, frame=pl.concat(frames, how="vertical"), total=total, pages=1 + len(offsets))

    def _page(self, query: EiaQuery, body: dict[str, Any], offset: int) -> tuple[int, pl.DataFrame]:
        where = f"EIA {query.subject} (offset {offset})"
        response = body.get("response")
        if not isinstance(response, dict):
            err = body.get("error")
            hint = f": {scrub(str(err), self._key)[:200]}" if err is not None else ""
            raise EiaResponseError(f"{where}: body has no 'response' object{hint}")
        if "data" not in response:
            raise EiaResponseError(f"{where}: response has no 'data' key")
        data = response["data"] or []
        if not isinstance(data, list):
            raise EiaResponseError(f"{where}: response.data is not a list")
        raw_total = response.get("total", len(data) + offset)
        try:
            total = int(str(raw_total).strip())
        except ValueError:
            raise EiaResponseError(f"{where}: response.total {raw_total!r} is not a whole number") from None
        schema: dict[str, pl.DataType] = {c: pl.String() for c in query.columns}
        try:
            frame = pl.from_dicts(data, schema=schema) if data else pl.DataFrame(schema=schema)
        except Exception as exc:  # rows that are not flat objects of scalars
            raise EiaResponseError(f"{where}: rows are not flat records ({type(exc).__name__})") from None
        return total, frame


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


# ------------------------------------------------------------------------------------------------- parsing


@dataclass
class ParseStats:
    """What parsing dropped or nulled, for warnings."""

    rows_in: int = 0
    bad_periods: int = 0
    bad_values: int = 0
    duplicates: int = 0


def _to_float(column: str) -> pl.Expr:
    """A string column as float: nulls and blank strings stay null; other non-numbers become null too."""
    text = pl.col(column).str.strip_chars()
    return pl.when(text == "").then(None).otherwise(text).cast(pl.Float64, strict=False)


def _count_unparsed(raw: pl.DataFrame, parsed: pl.DataFrame, pairs: Sequence[tuple[str, str]]) -> int:
    """Rows where a non-blank source string did not parse (became null); both frames share row order."""
    bad = pl.Series("bad", [False] * raw.height, dtype=pl.Boolean)
    for src, dst in pairs:
        text = raw[src].str.strip_chars()
        bad = bad | (text.is_not_null() & (text != "") & parsed[dst].is_null()).fill_null(False)
    return int(bad.sum())


def _dedupe(frame: pl.DataFrame, key: Sequence[str], stats: ParseStats) -> pl.DataFrame:
    """Keep one row per key (the last fetched: pages come in offset order) and count the rest."""
    unique = frame.unique(subset=list(key), keep="last", maintain_order=True)
    stats.duplicates += frame.height - unique.height
    return unique


def parse_hourly(raw: pl.DataFrame, route: str) -> tuple[pl.DataFrame, ParseStats]:
    """Region-data or sub-BA string rows → core.electricity_demand_hourly rows (HOURLY_SCHEMA).

    Periods like `2024-01-01T05` are UTC hour-ending labels; rows whose period does not parse are dropped
    (counted). Region-data rows get subba ''; sub-BA rows keep the parent BA as respondent and type D.
    """
    stats = ParseStats(rows_in=raw.height)
    if route == ROUTE_SUB_BA:
        keyed = raw.select(
            pl.col("parent").alias("respondent"), pl.col("subba"), pl.col("period"), pl.lit("D").alias("type"),
            pl.col("value"),
        )
    else:
        keyed = raw.select(
            pl.col("respondent"), pl.lit("").alias("subba"), pl.col("period"), pl.col("type"), pl.col("value")
        )
    parsed = keyed.with_columns(
        (pl.col("period").str.strip_chars() + ":00")
        .str.to_datetime("%Y-%m-%dT%H:%M", time_zone="UTC", time_unit="us", strict=False)
        .alias("period_utc"),
        _to_float("value").alias("value_mwh"),
    )
    stats.bad_values = _count_unparsed(keyed, parsed, [("value", "value_mwh")])
    good = parsed.filter(
        pl.col("period_utc").is_not_null() & pl.col("respondent").is_not_null() & pl.col("type").is_not_null()
        & pl.col("subba").is_not_null()
    )
    stats.bad_periods = parsed.height - good.height
    frame = good.select([pl.col(n).cast(t) for n, t in HOURLY_SCHEMA.items()])
    return _dedupe(frame, ["respondent", "subba", "period_utc", "type"], stats), stats


def parse_retail(raw: pl.DataFrame) -> tuple[pl.DataFrame, ParseStats]:
    """Retail-sales string rows → core.electricity_retail_sales_monthly rows, converted to MWh and dollars."""
    stats = ParseStats(rows_in=raw.height)
    parsed = raw.with_columns(
        (pl.col("period").str.strip_chars() + "-01").str.to_date("%Y-%m-%d", strict=False).alias("month"),
        (_to_float("sales") * MWH_PER_MILLION_KWH).alias("sales_mwh"),
        _to_float("price").alias("price_cents_per_kwh"),
        (_to_float("revenue") * USD_PER_MILLION_USD).alias("revenue_usd"),
        _to_float("customers").round(0).cast(pl.Int64).alias("customers"),
    )
    stats.bad_values = _count_unparsed(
        raw, parsed,
        [("sales", "sales_mwh"), ("price", "price_cents_per_kwh"), ("revenue", "revenue_usd"),
         ("customers", "customers")],
    )
    good = parsed.filter(
        pl.col("month").is_not_null() & pl.col("stateid").is_not_null() & pl.col("sectorid").is_not_null()
    )
    stats.bad_periods = parsed.height - good.height
    frame = good.select(
        pl.col("stateid").alias("state"), pl.col("sectorid").alias("sector"),
        *[pl.col(n) for n in list(MONTHLY_SCHEMA)[2:]],
    ).select([pl.col(n).cast(t) for n, t in MONTHLY_SCHEMA.items()])
    return _dedupe(frame, ["state", "sector", "month"], stats), stats


# -------------------------------------------------------------------------------------------------- source


@dataclass(frozen=True)
class EiaConfig:
    """What to fetch and how far back; defaults are the issue's regions, states and sectors.

    The history starts leave room for the year-earlier comparison windows of the first 2024 events; the
    overlaps re-read the span EIA still revises (recent hours for a couple of weeks, preliminary months).
    """

    respondents: tuple[str, ...] = DEFAULT_RESPONDENTS
    types: tuple[str, ...] = DEFAULT_TYPES
    sub_bas: tuple[tuple[str, str], ...] = DEFAULT_SUB_BAS
    states: tuple[str, ...] = DEFAULT_STATES
    sectors: tuple[str, ...] = DEFAULT_SECTORS
    hourly_history_start: datetime = datetime(2022, 1, 1, tzinfo=UTC)
    monthly_history_start: date = date(2021, 1, 1)
    hourly_overlap: timedelta = timedelta(days=14)
    monthly_overlap_months: int = 6


@dataclass(frozen=True)
class LastLoaded:
    """The warehouse's latest loaded period per series, read by the flow (a source never reads the warehouse).

    `hourly` maps (respondent, subba) to the last period_utc; `monthly` maps state to its last month.
    """

    hourly: Mapping[tuple[str, str], datetime] = field(default_factory=dict)
    monthly: Mapping[str, date] = field(default_factory=dict)


def _months_back(day: date, months: int) -> date:
    index = day.year * 12 + (day.month - 1) - months
    return date(index // 12, index % 12 + 1, 1)


class EiaSource:
    """Fetches the configured EIA series incrementally and returns core-table frames as a SourceResult."""

    name = "eia"

    def __init__(self, client: EiaClient, config: EiaConfig | None = None) -> None:
        self.client = client
        self.config = config or EiaConfig()

    def plan(
        self, last: LastLoaded | None = None, start: date | None = None, end: date | None = None
    ) -> list[EiaQuery]:
        """The queries of one run: per series from its last loaded period minus the overlap.

        An explicit `start` (a backfill) overrides the incremental start; `end` bounds every query.
        """
        cfg, last = self.config, last or LastLoaded()

        def hourly_start(series: tuple[str, str]) -> str:
            if start is not None:
                return hourly_period(datetime(start.year, start.month, start.day, tzinfo=UTC))
            seen = last.hourly.get(series)
            begin = cfg.hourly_history_start if seen is None else max(
                cfg.hourly_history_start, seen - cfg.hourly_overlap
            )
            return hourly_period(begin)

        hourly_end = hourly_period(datetime(end.year, end.month, end.day, 23, tzinfo=UTC)) if end else None
        queries = [region_query(r, cfg.types, hourly_start((r, "")), hourly_end) for r in cfg.respondents]
        queries += [sub_ba_query(p, s, hourly_start((p, s)), hourly_end) for p, s in cfg.sub_bas]
        if not (cfg.states and cfg.sectors):
            return queries
        if start is not None:
            month_start = date(start.year, start.month, 1)
        else:
            firsts = [
                cfg.monthly_history_start if last.monthly.get(s) is None
                else max(cfg.monthly_history_start, _months_back(last.monthly[s], cfg.monthly_overlap_months))
                for s in cfg.states
            ]
            month_start = min(firsts, default=cfg.monthly_history_start)
        queries.append(
            retail_query(cfg.states, cfg.sectors, monthly_period(month_start), monthly_period(end) if end else None)
        )
        return queries

    def fetch(self, last: LastLoaded | None = None, start: date | None = None, end: date | None = None) -> SourceResult:
        """Run the plan; failed subjects become warnings, an invalid key aborts (EiaApiKeyError)."""
        hourly: list[pl.DataFrame] = []
        monthly: list[pl.DataFrame] = []
        warnings: list[SourceWarning] = []
        failed: list[str] = []
        rejected = 0
        for query in self.plan(last, start, end):
            try:
                fetched = self.client.fetch(query)
            except EiaApiKeyError:
                raise
            except JevonsSourceError as exc:
                failed.append(query.subject)
                warnings.append(SourceWarning(STAGE, query.subject, "route_failed", scrub(str(exc))))
                log.warning("%s", scrub(str(exc)))
                continue
            if query.route == ROUTE_RETAIL:
                frame, stats = parse_retail(fetched.frame)
                monthly.append(frame)
            else:
                frame, stats = parse_hourly(fetched.frame, query.route)
                hourly.append(frame)
            rejected += stats.bad_periods
            warnings += _fetch_warnings(query, fetched, frame, stats)
        return SourceResult(
            source=self.name,
            frames={
                HOURLY_TABLE: pl.concat(hourly) if hourly else pl.DataFrame(schema=HOURLY_SCHEMA),
                MONTHLY_TABLE: pl.concat(monthly) if monthly else pl.DataFrame(schema=MONTHLY_SCHEMA),
            },
            warnings=warnings,
            failed_subjects=failed,
            rejected_rows=rejected,
        )


def _fetch_warnings(query: EiaQuery, fetched: EiaFetch, frame: pl.DataFrame, stats: ParseStats) -> list[SourceWarning]:
    """Recorded (non-fatal) oddities of one fetched subject."""
    out: list[SourceWarning] = []
    span = f"{query.start or 'start'}..{query.end or 'latest'}"
    if fetched.total == 0 or fetched.frame.height == 0:
        out.append(SourceWarning(STAGE, query.subject, "no_rows",
                                 f"EIA returned no rows for {query.subject} {span} where rows were expected"))
        return out
    if stats.duplicates:
        out.append(SourceWarning(STAGE, query.subject, "duplicate_rows_dropped",
                                 f"{stats.duplicates} rows repeated across pages were dropped (kept the last fetched)"))
    if frame.height + stats.bad_periods < fetched.total:
        out.append(SourceWarning(STAGE, query.subject, "rows_short_of_total",
                                 f"EIA reported {fetched.total} rows for {span} but {frame.height} distinct rows "
                                 f"arrived over {fetched.pages} pages (data changed while paging?)"))
    if stats.bad_periods:
        out.append(SourceWarning(STAGE, query.subject, "rows_bad_period",
                                 f"{stats.bad_periods} rows with a missing or unparseable period or key were skipped"))
    if stats.bad_values:
        out.append(SourceWarning(STAGE, query.subject, "values_not_numeric",
                                 f"{stats.bad_values} non-numeric values were stored as NULL"))
    return out
