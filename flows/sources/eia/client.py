"""The EIA v2 HTTP client: requests, retries, paging, pages → string frames.

* **Paging.** EIA returns at most 5,000 rows per JSON request. We ask for offset 0, read `response.total` (a
  string since API 2.1.6), then fetch the remaining offsets concurrently with a bound (`max_workers`). Every
  request sorts on all key columns, so pages are disjoint; rows that still repeat (a page served twice while
  EIA appends data) are dropped by key in the parsers, keeping the row fetched last.
* **Errors.** HTTP 403 `API_KEY_INVALID` raises `EiaApiKeyError` at once (no retry: a retry cannot fix a key)
  with a message naming `EIA_API_KEY`; a host that does not resolve or refuses the connection fails at once
  too (no network: `flows.sources.retry.unreachable_cause`). HTTP 429, 5xx, timeouts, dropped connections
  and unreadable bodies are retried under the shared `flows.sources.retry.RetryPolicy` (exponential backoff
  with jitter, honouring `Retry-After`, within a total time budget), then the subject fails. Other 4xx are
  not retried.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import polars as pl
import requests

from flows.sources.eia.query import EiaQuery
from flows.sources.eia.secrets import API_KEY_ENV, SECRET_BLOCK, EiaApiKeyError, install_log_scrubbing, scrub
from flows.sources.retry import Retryable, RetryPolicy, call, http_get
from warehouse.errors import JevonsSourceError

BASE_URL = "https://api.eia.gov/v2"
PAGE_LENGTH = 5000
"""EIA's maximum rows per JSON request."""

log = logging.getLogger("jevons.eia")


class EiaHttpError(JevonsSourceError):
    """An EIA request failed after its retries, or with a status no retry can fix."""

    def __init__(self, message: str, status: int | None = None) -> None:
        self.status = status
        super().__init__(message)


class EiaUnreachableError(EiaHttpError):
    """EIA's host does not resolve or refuses the connection: no network, so the whole fetch stops at once."""


class EiaResponseError(JevonsSourceError):
    """EIA answered 200 with a body that is not a v2 data response (no `response.data`, bad `total`)."""


@dataclass
class EiaFetch:
    """All pages of one query as one frame of string columns (`columns` of the query), in offset order."""

    query: EiaQuery
    frame: pl.DataFrame
    total: int
    pages: int


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
        budget_s: float = 120.0,
        jitter: tuple[float, float] = (0.5, 1.5),
        timeout_s: tuple[float, float] = (10.0, 60.0),
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
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
        self.policy = RetryPolicy(max(1, max_attempts), backoff_s, max_backoff_s, budget_s, jitter)
        self.timeout_s = timeout_s
        self.sleep = sleep
        self.rng = rng or random.Random()
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

        def give_up(_what: str, attempts: int, last: Retryable) -> EiaHttpError:
            return EiaHttpError(
                f"EIA {where}: gave up after {attempts} attempts; last error: {last.message}", last.status
            )

        return call(
            lambda: self._attempt(query, offset, where),
            self.policy,
            what=f"EIA {where}",
            give_up=give_up,
            sleep=self.sleep,
            rng=self.rng,
            log=log,
        )

    def _attempt(self, query: EiaQuery, offset: int, where: str) -> dict[str, Any]:
        params = [("api_key", self._key), *query.params(offset, self.page_length)]
        with self._count_lock:
            self.requests_sent += 1
        log.debug("EIA GET %s offset=%d", query.route, offset)
        response = http_get(
            self.session,
            self.url(query.route),
            params=params,
            timeout_s=self.timeout_s,
            headers={"Accept": "application/json"},
            unreachable=lambda cause: EiaUnreachableError(
                f"EIA {self.base_url}: {cause}; check the network (not retried)"
            ),
            failed=lambda message: EiaHttpError(f"EIA {where}: request failed: {scrub(message, self._key)}"),
        )
        status = response.status_code
        if status == 200:
            try:
                body = response.json()
            except ValueError:
                raise Retryable("HTTP 200 with a body that is not JSON", status) from None
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
            raise Retryable(f"HTTP {status}: {detail}", status, _retry_after(response))
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
