"""EIA Open Data API v2: hourly demand by balancing authority and sub-BA, monthly retail sales by state.

secrets (the key: resolution, scrubbing) · query (one request series, period strings, the config) · routes
(the route table: one `EiaRoute` per API route) · client (HTTP, retries, paging) · parse (`parse_hourly`,
`parse_retail`) · plan (incremental resume) · source (`EiaSource`, the registry's `extract`). The names below
are re-exported so callers can keep importing `flows.sources.eia`.
"""

from __future__ import annotations

from flows.sources.eia.client import BASE_URL, PAGE_LENGTH, EiaClient, EiaFetch, EiaHttpError, EiaResponseError
from flows.sources.eia.parse import (
    HOURLY_SCHEMA,
    HOURLY_TABLE,
    MONTHLY_SCHEMA,
    MONTHLY_TABLE,
    MWH_PER_MILLION_KWH,
    USD_PER_MILLION_USD,
    ParseStats,
    parse_hourly,
    parse_retail,
)
from flows.sources.eia.plan import LastLoaded, read_last_loaded
from flows.sources.eia.query import (
    DEFAULT_RESPONDENTS,
    DEFAULT_SECTORS,
    DEFAULT_STATES,
    DEFAULT_SUB_BAS,
    DEFAULT_TYPES,
    ROUTE_REGION,
    ROUTE_RETAIL,
    ROUTE_SUB_BA,
    STAGE,
    EiaConfig,
    EiaQuery,
    hourly_period,
    monthly_period,
)
from flows.sources.eia.routes import ROUTES, EiaRoute, Series, region_query, retail_query, sub_ba_query
from flows.sources.eia.secrets import (
    API_KEY_ENV,
    SECRET_BLOCK,
    EiaApiKeyError,
    KeyScrubFilter,
    install_log_scrubbing,
    resolve_api_key,
    scrub,
)
from flows.sources.eia.source import EiaSource, _fetch_warnings, extract_electricity, no_key_warning

__all__ = [
    "API_KEY_ENV",
    "BASE_URL",
    "DEFAULT_RESPONDENTS",
    "DEFAULT_SECTORS",
    "DEFAULT_STATES",
    "DEFAULT_SUB_BAS",
    "DEFAULT_TYPES",
    "HOURLY_SCHEMA",
    "HOURLY_TABLE",
    "MONTHLY_SCHEMA",
    "MONTHLY_TABLE",
    "MWH_PER_MILLION_KWH",
    "PAGE_LENGTH",
    "ROUTES",
    "ROUTE_REGION",
    "ROUTE_RETAIL",
    "ROUTE_SUB_BA",
    "SECRET_BLOCK",
    "STAGE",
    "USD_PER_MILLION_USD",
    "EiaApiKeyError",
    "EiaClient",
    "EiaConfig",
    "EiaFetch",
    "EiaHttpError",
    "EiaQuery",
    "EiaResponseError",
    "EiaRoute",
    "EiaSource",
    "KeyScrubFilter",
    "LastLoaded",
    "ParseStats",
    "Series",
    "_fetch_warnings",
    "extract_electricity",
    "hourly_period",
    "install_log_scrubbing",
    "monthly_period",
    "no_key_warning",
    "parse_hourly",
    "parse_retail",
    "read_last_loaded",
    "region_query",
    "resolve_api_key",
    "retail_query",
    "scrub",
    "sub_ba_query",
]
