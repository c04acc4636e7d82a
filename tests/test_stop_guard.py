"""flows/signals.py in-process: a stop signal that another handler saw is still a stop.

Inside a flow, Prefect's SIGTERM bridge (prefect.utilities.engine.capture_sigterm) replaces the guard's
handler and raises its TerminationSignal; when that lands in a running DuckDB query, DuckDB turns it into
RuntimeError('Query interrupted') and Prefect never re-sends the signal. Seen in CI as exit 1 with a traceback
instead of 143 (tests/test_run_signals.py, SIGTERM at 50%, inside the storage-version probe's ATTACH).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from flows.signals import stop_on_signals

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

# About 8 s of work here. DuckDB checks for a pending signal while it runs (then the query fails with 'Query
# interrupted' after ~0.3-2 s) but not at every moment: if it misses it, the handler runs when the query ends and
# the stop is still a stop; the bound keeps such a case to seconds.
LONG_QUERY = "SELECT sum(hash(i)) FROM range(2000000000) t(i)"


@pytest.fixture(autouse=True)
def no_watchdog_left() -> Iterator[None]:
    """A guard's watchdog left armed would os._exit the whole pytest run when it fires."""
    yield
    armed = [
        t
        for t in threading.enumerate()
        if isinstance(t, threading.Timer)
        and t.is_alive()
        and getattr(getattr(t, "function", None), "__name__", "") == "hard_exit"  # a guard's, not another library's
    ]
    for timer in armed:
        timer.cancel()
    assert armed == []


def _recorder() -> tuple[list[tuple[Any, ...]], Any]:
    calls: list[tuple[Any, ...]] = []

    def record(*args: Any) -> None:
        calls.append(args)

    return calls, record


def _query_under_sigterm() -> None:
    """Run LONG_QUERY on a fresh connection while a timer sends this process SIGTERM after 0.3 s."""
    con = duckdb.connect()
    timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGTERM))
    timer.start()
    try:
        con.sql(LONG_QUERY).fetchall()
    finally:
        timer.join()


def test_duckdb_interrupt_under_prefects_bridge_is_a_recorded_stop(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from prefect.utilities.engine import capture_sigterm

    calls, record = _recorder()
    guards = []
    with (
        pytest.raises(SystemExit) as stopped,
        stop_on_signals(None, tmp_path / "w.duckdb", {"k": 1}, deadline_s=30, record=record) as guard,
        capture_sigterm(),  # the handler a flow run installs
    ):
        guards.append(guard)
        _query_under_sigterm()
    guards[0].disarm()  # armed when Prefect's bridge re-sent the signal (a query that missed it)
    assert stopped.value.code == 128 + signal.SIGTERM
    assert len(calls) == 1 and str(calls[0][4]) == "stopped by SIGTERM"
    assert "error: jevons run stopped by SIGTERM" in capsys.readouterr().err
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL or callable(signal.getsignal(signal.SIGTERM))


def test_the_guards_own_handler_stops_a_query(tmp_path: Path) -> None:
    calls, record = _recorder()
    guards = []
    with (
        pytest.raises(SystemExit) as stopped,
        stop_on_signals(None, tmp_path / "w.duckdb", deadline_s=30, record=record) as guard,
    ):
        guards.append(guard)
        _query_under_sigterm()
    guards[0].disarm()  # its watchdog would end this process (pytest) 30 s after the signal, as it ends a run
    assert stopped.value.code == 143 and len(calls) == 1


def test_an_error_with_no_signal_is_raised_unchanged(tmp_path: Path) -> None:
    calls, record = _recorder()
    before = signal.getsignal(signal.SIGTERM)
    with (
        pytest.raises(RuntimeError, match="Query interrupted"),
        stop_on_signals(None, tmp_path / "w.duckdb", record=record),
    ):
        raise RuntimeError("Query interrupted")
    assert calls == [] and signal.getsignal(signal.SIGTERM) is before
    assert signal.set_wakeup_fd(-1) == -1  # the guard put back the wake-up fd it replaced (none)


@pytest.mark.filterwarnings("ignore:Logger 'prefect.task_runs' attempted to send logs to the API")  # no flow run here
def test_errors_logged_while_stopping_lose_their_traceback(tmp_path: Path) -> None:
    """What a task logs after a stop signal reached another handler (Prefect logs a failed task with exc_info)
    reaches the console as its message alone: the guard's one line says the run was stopped
    (flows/quiet_failures.py). The wake-up pipe's reading is set directly: deterministic, no signal needed."""
    import logging

    from flows import quiet_failures

    quiet_failures.install()
    seen: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)

    logger = logging.getLogger("prefect.task_runs")
    handler = Keep()
    logger.addHandler(handler)
    calls, record = _recorder()
    try:
        with stop_on_signals(None, tmp_path / "w.duckdb", record=record) as guard:
            logger.error("before the signal", exc_info=ValueError("kept"))
            guard._seen = signal.SIGTERM  # what the pipe shows once Prefect's handler took a SIGTERM
            logger.error("Task run failed with exception: %r", "Query interrupted", exc_info=RuntimeError("x"))
        logger.error("after the run", exc_info=ValueError("kept again"))
    finally:
        logger.removeHandler(handler)
    assert calls == []  # nothing unwound: no stop to record
    assert [r.exc_info is not None for r in seen] == [True, False, True]  # only the record while stopping
