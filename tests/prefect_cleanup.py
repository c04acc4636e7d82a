"""Stop Prefect's in-process temporary API servers while pytest's output streams are still open.

A test that runs a flow without a configured API makes Prefect start a temporary server
(`SubprocessASGIServer`) and register its `stop` with atexit. At interpreter exit pytest has already closed
the captured stream that Prefect's console log handler was bound to, so the stop's "Stopping temporary
server on …" log line ends in "--- Logging error --- … I/O operation on closed file". Stopping the servers
from `pytest_sessionfinish` (tests/conftest.py) logs while the stream is open, and leaves atexit nothing to do.
The flow-run logs still queued for a server are sent first (`drain_prefect_log_workers`): queued when its server
stops, they would be sent at exit to nobody ("--- Error logging to API --- All connection attempts failed").
"""

from __future__ import annotations

import sys


def drain_prefect_log_workers(timeout_s: float = 10.0) -> None:
    """Send the flow-run and task-run logs Prefect's API log workers still hold, while their servers are up."""
    handlers = sys.modules.get("prefect.logging.handlers")
    if handlers is not None:
        handlers.APILogWorker.drain_all(timeout=timeout_s)


def stop_temporary_prefect_servers() -> int:
    """Stop every temporary server Prefect started in this process; returns how many were running."""
    module = sys.modules.get("prefect.server.api.server")  # never import Prefect's server package just for this
    if module is None:
        return 0
    drain_prefect_log_workers()
    servers = list(module.SubprocessASGIServer._instances.values())
    for server in servers:
        server.stop()
    return len(servers)
