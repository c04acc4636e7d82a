"""The EIA API key: where it comes from, and keeping it out of every message and log line.

EIA wants the key as the `api_key` query parameter, so it is in every request URL. It is added only at send
time (`client.EiaClient`), never stored in query objects, and every message we build or re-raise passes
through `scrub`, re-raised `from None` so no chained requests exception (whose text holds the URL) survives.
A logging filter scrubs `api_key=` from urllib3's debug lines too.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Mapping
from typing import Any

from warehouse.errors import JevonsInputError

API_KEY_ENV = "EIA_API_KEY"
SECRET_BLOCK = "eia-api-key"
"""Name of the Prefect Secret block read when EIA_API_KEY is not set."""

log = logging.getLogger("jevons.eia")

_KEY_PARAM = re.compile(r"(api_key=)[^&\s'\"]+", re.IGNORECASE)
_KEY_JSON = re.compile(r"(\"api_key\"\s*:\s*\")[^\"]*(\")", re.IGNORECASE)


class EiaApiKeyError(JevonsInputError):
    """EIA refused the API key (HTTP 403 API_KEY_INVALID) or none is set: the user must fix EIA_API_KEY."""


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
