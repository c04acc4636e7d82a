"""The one retry policy of every network source (Yahoo, EIA, NOAA): one retry layer, sized to the failure.

Why one layer: retries stacked on retries multiply (yfinance's own attempts inside the source's inside the
Prefect task's were 16 attempts at a DNS error, 3 minutes to fail offline). So the client is the only layer:
yfinance's own retries are set to 0 (`flows.sources.yahoo.client`), the flow's task retry condition never
retries a `JevonsError` (`flows.daily`), and each client asks this module two questions:

- **Is it worth another attempt?** `unreachable_cause` recognises a host name that does not resolve or a
  connection refused (curl codes 6 and 7, curl_cffi's `DNSError`, urllib3's `NameResolutionError`,
  getaddrinfo's "Name or service not known", errno 111): no network, a wrong host or a service that is down
  — a retry seconds later cannot fix it, so the client fails at once naming the source and the cause.
  HTTP 429, 5xx, timeouts and dropped connections are transient and are retried.
- **How long to wait, and until when?** `RetryPolicy.delay` is exponential backoff (base × 2^(attempt−1),
  capped) with jitter (so many clients hitting one rate limit spread out instead of retrying in lockstep;
  "Exponential Backoff And Jitter", AWS Architecture Blog, 2015), at least the server's `Retry-After`;
  `RetryPolicy.allows` stops after `max_attempts` or when the next wait would overrun the total time budget.

`call` runs one attempt function under the policy for clients whose unit of retry is one request (EIA,
NOAA); the Yahoo source retries per chunk of tickers and uses `delay`/`allows`/`unreachable_cause` directly.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    import requests

T = TypeVar("T")

_DNS_MARKERS = (
    "Could not resolve host",
    "Could not resolve",
    "Failed to resolve",
    "NameResolution",
    "name resolution",
    "Name or service not known",
    "nodename nor servname",
    "getaddrinfo failed",
    "Domain name not found",
    "curl: (6)",
    "DNSError",
    "gaierror",
)
_REFUSED_MARKERS = ("Connection refused", "ConnectionRefusedError", "curl: (7)", "Errno 111")

DNS_CAUSE = "host name not resolved (no network or DNS)"
REFUSED_CAUSE = "connection refused (no network, a proxy or firewall, or the service is down)"


def unreachable_cause(text: str) -> str | None:
    """The cause when `text` (an error's type and message) says the host is unreachable, else None.

    A DNS failure or a refused connection is not transient on the scale of a run's retries, so it fails fast.
    """
    if any(marker in text for marker in _DNS_MARKERS):
        return DNS_CAUSE
    if any(marker in text for marker in _REFUSED_MARKERS):
        return REFUSED_CAUSE
    return None


def describe(exc: BaseException) -> str:
    """`Type: message` of an exception and its causes (urllib3 hides the DNS error two levels down)."""
    parts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen and len(parts) < 4:
        seen.add(id(current))
        parts.append(f"{type(current).__name__}: {current}")
        current = current.__cause__ or current.__context__
    return " <- ".join(parts)


class Retryable(Exception):
    """An attempt's failure a later attempt may fix (429, 5xx, timeout, dropped connection).

    `message` is what the final error repeats (already scrubbed of secrets); `retry_after_s` is the server's
    Retry-After, honoured as a minimum wait.
    """

    def __init__(self, message: str, status: int | None = None, retry_after_s: float | None = None) -> None:
        self.message = message
        self.status = status
        self.retry_after_s = retry_after_s
        super().__init__(message)


@dataclass(frozen=True)
class RetryPolicy:
    """Attempts, backoff and the total time budget of one client's transient failures.

    `jitter` is the (low, high) range the backoff is multiplied by, drawn uniformly: (0.5, 1.5) is ±50%,
    (0.0, 1.0) is "full jitter", (1.0, 1.0) none (tests that check the schedule).
    """

    max_attempts: int = 4
    backoff_s: float = 1.0
    max_backoff_s: float = 30.0
    budget_s: float = 120.0
    jitter: tuple[float, float] = (0.5, 1.5)

    def delay(self, attempt: int, rng: random.Random, retry_after_s: float | None = None) -> float:
        """Seconds to wait after failed attempt `attempt` (1-based) before the next one."""
        base = min(self.max_backoff_s, self.backoff_s * 2 ** (attempt - 1))
        low, high = self.jitter
        wait = base * (low if low == high else rng.uniform(low, high))
        if retry_after_s is not None:
            wait = max(wait, min(self.max_backoff_s, retry_after_s))
        return wait

    def allows(self, attempt: int, elapsed_s: float, wait_s: float) -> bool:
        """Whether attempt `attempt + 1` may run: attempts left and the wait fits the budget."""
        return attempt < self.max_attempts and elapsed_s + wait_s <= self.budget_s


def call(
    attempt: Callable[[], T],
    policy: RetryPolicy,
    *,
    what: str,
    give_up: Callable[[str, int, Retryable], Exception],
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    rng: random.Random | None = None,
    log: logging.Logger | None = None,
) -> T:
    """`attempt()` until it returns, retrying only `Retryable` under `policy`.

    Any other exception (a fail-fast error the attempt raised) propagates at once. When the attempts or the
    budget run out, raises `give_up(what, attempts, last)`: the client's own error class naming the source.
    """
    rng = rng or random.Random()
    started = clock()
    n = 0
    while True:
        n += 1
        try:
            return attempt()
        except Retryable as exc:
            wait = policy.delay(n, rng, exc.retry_after_s)
            if not policy.allows(n, clock() - started, wait):
                raise give_up(what, n, exc) from None
            if log is not None:
                log.warning("%s: %s; retry %d of %d in %.1fs", what, exc.message, n, policy.max_attempts - 1, wait)
            sleep(wait)


def http_get(
    session: requests.Session,
    url: str,
    *,
    params: Any,
    timeout_s: float | tuple[float, float],
    unreachable: Callable[[str], Exception],
    failed: Callable[[str], Exception],
    headers: dict[str, str] | None = None,
) -> requests.Response:
    """One GET of a requests-based client (EIA, NOAA), its transport failures sorted for `call`.

    A timeout or a dropped connection is `Retryable`; an unreachable host raises `unreachable(cause)` at once
    (not retried); any other request error raises `failed(message)`. `timeout_s` is requests' timeout: seconds,
    or a (connect, read) pair. The response, whatever its status, is the caller's to read: what a status means
    (a bad key, a rate limit) differs by service.
    """
    import requests  # here, not at import: `jevons --help` imports no HTTP stack

    try:
        return session.get(url, params=params, timeout=timeout_s, headers=headers)
    except requests.Timeout:
        raise Retryable("request timed out") from None
    except requests.ConnectionError as exc:
        cause = unreachable_cause(describe(exc))
        if cause is not None:
            raise unreachable(cause) from None
        raise Retryable(f"connection failed ({type(exc).__name__})") from None
    except requests.RequestException as exc:
        raise failed(str(exc)) from None
