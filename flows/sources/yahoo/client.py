"""What yfinance said, and one `yf.download` call with yfinance's errors made visible.

`yf.download` catches every per-ticker error, prints it and returns NaN columns; a DNS failure even looks like
"possibly delisted". During a download this module turns yfinance's exception hiding off and captures the
`yfinance` logger, so each empty ticker gets the real reason; `classify_error` sorts the reasons into rate
limits and network errors (which the source retries with backoff), an unreachable host (DNS failure,
connection refused: no retry can fix it, `flows.sources.retry.unreachable_cause`) and missing tickers
(recorded warnings). yfinance's own retry loop is switched off (`yf.config.network.retries = 0`): the source
is the one retry layer, sized to the failure.
"""

from __future__ import annotations

import contextlib
import logging
import re
import warnings
from collections.abc import Callable, Iterator, Sequence
from datetime import date
from typing import TYPE_CHECKING, Literal

from flows.sources.retry import unreachable_cause

if TYPE_CHECKING:
    import pandas as pd
    import requests

log = logging.getLogger("flows.sources.yahoo")

ErrorKind = Literal["rate_limited", "unreachable", "network", "missing"]

DownloadFn = Callable[..., "pd.DataFrame | None"]


_SUMMARY_LINE = re.compile(r"^\[(?P<syms>[^\]]*)\]: (?P<err>.*)$", re.DOTALL)
_TICKER_LINE = re.compile(r"^\$(?P<sym>[^:\s]+): (?P<err>.*)$", re.DOTALL)
_TZ_LINE = re.compile(r"^Failed to get ticker '(?P<sym>[^']+)' reason: (?P<err>.*)$", re.DOTALL)

_RATE_LIMIT_MARKERS = ("YFRateLimitError", "Too Many Requests", "Rate limited", "429")
_NETWORK_MARKERS = (
    "ConnectionError",
    "NameResolution",
    "Failed to resolve",
    "Could not resolve",
    "name resolution",
    "Name or service not known",
    "nodename nor servname",
    "Max retries exceeded",
    "Connection refused",
    "Connection reset",
    "Connection aborted",
    "RemoteDisconnected",
    "timed out",
    "Timeout",
    "SSLError",
    "ProxyError",
    "ChunkedEncodingError",
    "curl: (",
    "YAHOO! FINANCE IS CURRENTLY DOWN",
)


def parse_download_errors(messages: Sequence[str]) -> dict[str, str]:
    """Per-ticker error text from the `yfinance` logger's messages during one download.

    yf.download ends with lines `['A', 'B']: <repr of the exception>`; PriceHistory logs `$A: <reason>` and the
    timezone probe `Failed to get ticker 'A' reason: <error>` when exceptions are hidden. The summary line wins;
    several reasons for one ticker are joined.
    """
    found: dict[str, list[str]] = {}
    for msg in messages:
        text = msg.strip()
        m = _SUMMARY_LINE.match(text)
        if m is not None:
            for sym in re.findall(r"'([^']+)'", m.group("syms")):
                found.setdefault(sym.upper(), []).insert(0, m.group("err").strip())
            continue
        for pattern in (_TICKER_LINE, _TZ_LINE):
            m = pattern.match(text)
            if m is not None:
                found.setdefault(m.group("sym").upper(), []).append(m.group("err").strip())
                break
    return {sym: " | ".join(dict.fromkeys(errs)) for sym, errs in found.items()}


_CURL_NOISE = re.compile(r"^\w+\('(?:Failed to perform, )?|\s*See https://curl\.se/\S+ first for more details\.|'\)$")


def short_error(text: str) -> str:
    """yfinance's `DNSError('Failed to perform, curl: (6) ... See https://curl.se/... details.')` as
    `curl: (6) ...`: the cause a person reads, without the wrapper and the link."""
    return _CURL_NOISE.sub("", text.strip()).strip()


def classify_error(text: str) -> ErrorKind:
    """rate_limited (retry later), unreachable (DNS, refused: fail fast), network (retry; Yahoo unreachable
    if it persists) or missing (warn)."""
    if any(m in text for m in _RATE_LIMIT_MARKERS):
        return "rate_limited"
    if unreachable_cause(text) is not None:
        return "unreachable"
    if any(m in text for m in _NETWORK_MARKERS):
        return "network"
    return "missing"


class _Capture(logging.Handler):
    """Collects the yfinance logger's records during one download."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.errors: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
        except Exception:  # a malformed library record must not break the download
            message = str(record.msg)
        if record.levelno >= logging.ERROR:
            self.errors.append(message)
        else:
            log.debug("yfinance: %s", message)


@contextlib.contextmanager
def _yfinance_errors_visible() -> Iterator[_Capture]:
    """Capture yfinance's log and let its per-ticker exceptions carry the real cause.

    By default yfinance hides exceptions (a DNS failure becomes "possibly delisted"); with them visible,
    yf.download still catches each ticker's exception but reports `repr(exc)`. Its own error lines are kept
    out of the user's console: this module reports every failure itself, as warnings or a failed run.
    """
    import yfinance as yf

    logger = logging.getLogger("yfinance")
    capture = _Capture()
    old_level, old_propagate = logger.level, logger.propagate
    old_hide = yf.config.debug.hide_exceptions
    old_retries = yf.config.network.retries
    logger.addHandler(capture)
    logger.propagate = False
    if not logger.isEnabledFor(logging.ERROR):
        logger.setLevel(logging.ERROR)
    yf.config.debug.hide_exceptions = False
    yf.config.network.retries = 0  # the source retries, sized to the failure (flows.sources.retry)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pandas deprecation noise from inside yfinance
            yield capture
    finally:
        yf.config.debug.hide_exceptions = old_hide
        yf.config.network.retries = old_retries
        logger.removeHandler(capture)
        logger.setLevel(old_level)
        logger.propagate = old_propagate


def download(
    fn: DownloadFn | None,
    tickers: list[str],
    start: date,
    end_exclusive: date,
    *,
    threads: int,
    timeout_s: float,
    session: requests.Session | None,
) -> tuple[pd.DataFrame | None, dict[str, str]]:
    """One yf.download call (or `fn`, the benchmark's stand-in); returns the wide frame and per-ticker errors."""
    import yfinance as yf
    from yfinance.data import YfData

    # yfinance memoises past-range responses for the process; a retry must really ask again.
    with contextlib.suppress(AttributeError):
        YfData.cache_get.cache_clear()
    with _yfinance_errors_visible() as capture:
        frame = (fn or yf.download)(
            tickers,
            start=start.isoformat(),
            end=end_exclusive.isoformat(),
            auto_adjust=False,
            actions=True,
            repair=False,
            keepna=False,
            ignore_tz=True,
            group_by="ticker",
            multi_level_index=True,
            threads=max(1, min(threads, len(tickers))),
            progress=False,
            timeout=timeout_s,
            session=session,
        )
    return frame, parse_download_errors(capture.errors)
