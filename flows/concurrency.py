"""Writers of the warehouse serialised across machines by a Prefect global concurrency limit.

The run lock in warehouse/connection.py is a file lock (fcntl): it serialises runs on one machine, and on a
shared network path only where the file system honours it. Two runs started at once by workers on two
machines must queue instead of failing, so the stage that writes the warehouse also holds one slot of the
global concurrency limit `jevons-warehouse` (limit 1) on the Prefect server every worker talks to. jevons
creates the limit when it is missing; an operator may raise it only for warehouses on separate paths
(a limit is per name: set `$JEVONS_WRITER_LIMIT` to a per-warehouse name) or set it to `off` to skip it.
The file lock stays as the last line of defence on one machine.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress

LIMIT_ENV = "JEVONS_WRITER_LIMIT"
DEFAULT_LIMIT = "jevons-warehouse"
LEASE_S = 600.0  # renewed by Prefect while held; only a crashed holder's slot waits this long to free
WAIT_NOTE_S = 0.5  # a wait longer than this is logged, so an operator sees which run queued


def limit_name() -> str | None:
    """The limit's name, or None when `$JEVONS_WRITER_LIMIT` is `off`."""
    name = os.environ.get(LIMIT_ENV, "").strip() or DEFAULT_LIMIT
    return None if name.lower() in ("off", "0", "false", "none") else name


def ensure_limit(name: str, slots: int = 1) -> bool:
    """Create the global concurrency limit with `slots` slots unless it exists; True when it was created."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
    from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound

    with get_client(sync_client=True) as client:
        try:
            client.read_global_concurrency_limit_by_name(name)
            return False
        except ObjectNotFound:
            pass
        try:
            client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name=name, limit=slots))
        except ObjectAlreadyExists:  # another run created it a moment ago
            return False
        return True


@contextmanager
def warehouse_writer_slot(timeout_s: float | None = None) -> Iterator[float]:
    """Hold the warehouse writer slot for the block; yields the seconds spent waiting for it."""
    name = limit_name()
    if name is None:
        yield 0.0
        return
    from prefect.concurrency.sync import concurrency
    from prefect.logging import get_logger

    logger = get_logger("jevons.concurrency")
    with suppress(Exception):  # outside a flow or task run the module logger is the right one
        from prefect import get_run_logger

        logger = get_run_logger()  # type: ignore[assignment]  # inside a flow: the log reaches the run's UI page
    ensure_limit(name)
    t0 = time.monotonic()
    with concurrency(name, occupy=1, timeout_seconds=timeout_s, lease_duration=LEASE_S, strict=True):
        waited_s = time.monotonic() - t0
        if waited_s > WAIT_NOTE_S:
            logger.info("waited %.1f s for the %r writer slot (another run was writing)", waited_s, name)
        yield waited_s
