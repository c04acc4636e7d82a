"""Writers of the warehouse serialised across machines by a Prefect global concurrency limit.

The run lock in warehouse/connection.py is a file lock (fcntl): it serialises runs on one machine, and on a
shared network path only where the file system honours it. Two runs started at once by workers on two
machines must queue instead of failing, so the stage that writes the warehouse also holds one slot of the
global concurrency limit `jevons-warehouse` (limit 1) on the Prefect server every worker talks to. jevons
creates the limit when it is missing; warehouses on separate paths need a limit each (set
`$JEVONS_WRITER_LIMIT` to a per-warehouse name); `off` skips it. The file lock stays as the last line of
defence on one machine.

Only a shared server serialises anything, so a run on a temporary API (the early server of
flows/prefect_api.py, or Prefect's own ephemeral one) takes no slot. It must not: a temporary server keeps
leases in memory while the slot count lives in its database (~/.jevons/prefect), so a run killed holding the
slot would leave it occupied for every later local run, with no lease left to expire. A team server should
keep leases on disk for the same reason (`PREFECT_SERVER_CONCURRENCY_LEASE_STORAGE`, docs/operations.md).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress

LIMIT_ENV = "JEVONS_WRITER_LIMIT"
DEFAULT_LIMIT = "jevons-warehouse"
LEASE_S = 60.0  # renewed by Prefect every 45 s while held; a SIGKILLed holder's slot frees after this long


def limit_name() -> str | None:
    """The limit's name, or None when `$JEVONS_WRITER_LIMIT` is `off` or the API is a temporary one."""
    from prefect.settings import get_current_settings

    from flows.prefect_api import is_temporary_api

    name = os.environ.get(LIMIT_ENV, "").strip() or DEFAULT_LIMIT
    if name.lower() in ("off", "0", "false", "none") or is_temporary_api(get_current_settings().api.url):
        return None
    return name


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
    logger.info("asking for the %r writer slot", name)
    t0 = time.monotonic()
    with concurrency(
        name,
        occupy=1,
        timeout_seconds=timeout_s,
        lease_duration=LEASE_S,
        strict=True,  # a limit that cannot be acquired is an error, never a silent unserialised write
        raise_on_lease_renewal_failure=False,  # a missed renewal must not kill a run mid-publication
    ):
        waited_s = time.monotonic() - t0
        logger.info("holding the %r writer slot after waiting %.1f s", name, waited_s)
        try:
            yield waited_s
        finally:
            logger.info("releasing the %r writer slot", name)
