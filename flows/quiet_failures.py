"""Expected failures reach the console as one line, not as Prefect's traceback.

Prefect's engines log a failing task ("Task run failed with exception: ...") and flow ("Encountered exception
during execution: ...") with `exc_info`, so a source that is down printed two full tracebacks before
jevons's own one-line message, although a `JevonsError` (warehouse/errors.py) is an expected failure whose
message already names the source, file or field and the cause. `QuietJevonsErrors`, a filter on the two run
loggers (`prefect.task_runs`, `prefect.flow_runs`), drops the traceback of such a record and keeps the
message: the console, the Prefect API log (the run's page in the UI) and the Failed state all still say what
failed. The same holds for any error a run logs after it got SIGTERM/SIGINT (flows/signals.py: a DuckDB query
the signal interrupted fails with 'Query interrupted'; the stop guard then prints the one line that says the
run was stopped). Any other exception keeps its traceback, and `JEVONS_DEBUG=1` keeps every traceback.

A filter on a logger runs before any of its handlers, so changing the record there reaches all of them
(console and API alike). `install` is idempotent; importing any `flows` module installs it (flows/__init__.py),
so the CLI, `jevons serve` and a Prefect worker executing a deployment run all get it.
"""

from __future__ import annotations

import logging
import os
import sys

RUN_LOGGERS = ("prefect.task_runs", "prefect.flow_runs")
DEBUG_ENV = "JEVONS_DEBUG"


class QuietJevonsErrors(logging.Filter):
    """Clear exc_info/exc_text of records whose exception is a JevonsError or that a stopping run logs, unless
    $JEVONS_DEBUG is set."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and not os.environ.get(DEBUG_ENV):
            from warehouse.errors import JevonsError

            exc = record.exc_info[1]
            signals = sys.modules.get("flows.signals")  # loaded by the CLI's run; never imported from here
            if isinstance(exc, JevonsError) or (signals is not None and signals.stop_requested()):
                record.exc_info = None
                record.exc_text = None
        return True


def install() -> None:
    """Add the filter to Prefect's run loggers once (by name: Prefect need not be imported yet)."""
    for name in RUN_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, QuietJevonsErrors) for f in logger.filters):
            logger.addFilter(QuietJevonsErrors())
