"""A `jevons run` that gets SIGTERM or SIGINT stops within 10 s, recorded, unlocked, its server stopped.

SIGTERM is what `timeout`, cron wrappers, systemd and a Prefect cancellation send; SIGINT is Ctrl-C. Python's
default for SIGTERM kills the process without unwinding, so no `finally` runs: the staging copy and the lock
file stay (harmless: the next run removes and re-takes them) but the run is never recorded and, before
flows/prefect_api.py set a parent-death signal, the Prefect server was orphaned. `stop_on_signals` instead:

1. turns the first SIGTERM/SIGINT into `RunStopped` in the main thread, so every `finally` runs: the staging
   copy is deleted (the published warehouse stays as it was, or is the completed run's if the rename already
   happened), the run lock is released, and Prefect marks the flow run Crashed on a server that is still up
   (inside a flow Prefect's own SIGTERM bridge raises first and then re-sends the signal to this handler);
2. records the run as failed in ops.runs, with the signal as its error, when the warehouse is reachable
   (a second small publication, like daily.record_failure; the run id is Prefect's flow-run id, read from
   the flow-run logger's records, or a fresh one when the flow had not started). The modules this needs are
   imported before the handlers are installed: a signal can land in the middle of the CLI's imports (they
   take seconds), and a module it leaves half-initialised must not be one the recording imports;
3. arms a watchdog: whatever still runs at `deadline_s` after the signal (a Prefect client retrying a dead
   API, a log queue draining) is cut short: the server is SIGKILLed and the process exits 128 + signal.
   A second signal does the same at once.

A signal can also reach the run through another handler and come out as some other error: inside a flow,
Prefect's SIGTERM bridge raises its TerminationSignal, and when that lands in a running DuckDB query DuckDB
turns it into `RuntimeError('Query interrupted')`, so Prefect never re-sends the signal to this handler. The
guard therefore also keeps a wake-up pipe (`signal.set_wakeup_fd`: the interpreter writes the number of every
signal that has a Python handler, whichever handler that is), and an error that unwinds after a stop signal
arrived is the stop, whichever handler saw it.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import signal
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any, Protocol

FLOW_NAME = "daily"  # flows.daily.FLOW_NAME, not imported from there: that would import Prefect while stopping
DEADLINE_S = 8.0  # within the 10 s a supervisor (systemd's default is 90 s, `timeout -k` often 10 s) allows
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class RunStopped(BaseException):
    """The run got SIGTERM or SIGINT (a BaseException, like KeyboardInterrupt: no `except Exception` eats it)."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(f"stopped by {signal.Signals(signum).name}")

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


class _Killable(Protocol):
    def kill(self) -> None: ...


class _FlowRunIdFilter(logging.Filter):
    """Remembers the flow-run id Prefect's flow-run logger attaches to its records (never drops a record)."""

    def __init__(self) -> None:
        super().__init__()
        self.flow_run_id: str | None = None

    def filter(self, record: logging.LogRecord) -> bool:
        run_id = getattr(record, "flow_run_id", None)
        if run_id:
            self.flow_run_id = str(run_id)
        return True


def record_stopped(
    warehouse: str | Path | None, run_id: str, started: datetime, parameters: dict[str, Any], stop: RunStopped
) -> str | None:
    """Record the stopped run as failed in ops.runs; returns why it could not be recorded, or None."""
    from warehouse.connection import resolve_path, staged_writer
    from warehouse.load import record_run

    path = resolve_path(warehouse)
    if not path.exists():
        return f"no warehouse at {path} yet"
    try:
        with staged_writer(path, lock_wait_s=2, writer_wait_attempts=2, writer_wait_delay_s=0.5) as con:
            record_run(
                con,
                run_id=run_id,
                flow=FLOW_NAME,
                started_at=started,
                status="failed",
                parameters={**parameters, "warehouse": str(path)},
                summary={"error": f"RunStopped: {stop}"},
            )
    except Exception as exc:  # bookkeeping must not turn a clean stop into a traceback
        return str(exc)
    return None


class StopGuard:
    """State of one guarded run: when it started, which flow run it is, the server to kill at the deadline."""

    def __init__(self, server: _Killable | None, deadline_s: float) -> None:
        self.server = server
        self.deadline_s = deadline_s
        self.started = datetime.now(UTC)
        self.ids = _FlowRunIdFilter()
        self.stopping: RunStopped | None = None
        self._timer: threading.Timer | None = None
        self._wakeup: tuple[int, int] | None = None  # (read end, the wake-up fd it replaced)
        self._write_fd = -1
        self._seen: int | None = None  # the first stop signal the wake-up pipe showed

    def watch_wakeups(self) -> None:
        """Have the interpreter write every handled signal's number to a pipe of ours (main thread only)."""
        read_fd, write_fd = os.pipe()
        os.set_blocking(read_fd, False)
        os.set_blocking(write_fd, False)
        try:
            previous = signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)
        except (ValueError, OSError):
            os.close(read_fd)
            os.close(write_fd)
            return
        self._wakeup = (read_fd, previous)
        self._write_fd = write_fd

    def stop_signal_seen(self) -> int | None:
        """The first SIGTERM/SIGINT the wake-up pipe recorded since `watch_wakeups`, or None (kept once seen)."""
        if self._seen is None and self._wakeup is not None:
            with contextlib.suppress(BlockingIOError, OSError):
                seen = os.read(self._wakeup[0], 4096)
                self._seen = next((number for number in seen if number in STOP_SIGNALS), None)
        return self._seen

    def unwatch_wakeups(self) -> None:
        if self._wakeup is None:
            return
        read_fd, previous = self._wakeup
        with contextlib.suppress(ValueError, OSError):
            signal.set_wakeup_fd(previous)
        for fd in (read_fd, self._write_fd):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._wakeup = None

    @property
    def run_id(self) -> str:
        return self.ids.flow_run_id or uuid.uuid4().hex

    def hard_exit(self, code: int) -> None:
        """Kill the server and leave now: the run had its chance to stop in order."""
        if self.server is not None:
            with contextlib.suppress(Exception):
                self.server.kill()
        with contextlib.suppress(Exception):
            sys.stderr.write(f"jevons run: not stopped within {self.deadline_s:.0f} s of the signal; exiting\n")
            sys.stderr.flush()
        os._exit(code)

    def disarm(self) -> None:
        """Cancel the watchdog: for a caller that goes on after the stop (an in-process test), not for a run."""
        if self._timer is not None:
            self._timer.cancel()

    def handle(self, signum: int, frame: FrameType | None) -> None:
        if self.stopping is not None:  # a second signal: the user insists
            self.hard_exit(128 + signum)
        self.stopping = RunStopped(signum)
        self._timer = threading.Timer(self.deadline_s, self.hard_exit, args=(self.stopping.exit_code,))
        self._timer.daemon = True
        self._timer.start()
        raise self.stopping


_ACTIVE: list[StopGuard] = []  # the guard of the run in progress (one per process: the CLI's main thread)


def stop_requested() -> bool:
    """Whether the guarded run got SIGTERM/SIGINT, through the guard's handler or another one (Prefect's).

    flows/quiet_failures.py asks, so the errors a stop unwinds through (DuckDB's 'Query interrupted') reach the
    console as one line each, not as tracebacks: the guard prints what happened."""
    return any(guard.stopping is not None or guard.stop_signal_seen() is not None for guard in _ACTIVE)


@contextlib.contextmanager
def stop_on_signals(
    server: _Killable | None,
    warehouse: str | Path | None,
    parameters: dict[str, Any] | None = None,
    deadline_s: float = DEADLINE_S,
    record: Callable[..., str | None] = record_stopped,
) -> Iterator[StopGuard]:
    """Guard a run: SIGTERM/SIGINT become a recorded, bounded stop ending in SystemExit(128 + signal)."""
    for module in ("warehouse.connection", "warehouse.load"):  # imported now, so recording a stop imports nothing
        importlib.import_module(module)

    guard = StopGuard(server, deadline_s)
    if threading.current_thread() is not threading.main_thread():  # signals only reach the main thread
        yield guard
        return
    previous = {s: signal.signal(s, guard.handle) for s in STOP_SIGNALS}
    guard.watch_wakeups()
    _ACTIVE.append(guard)
    run_logger = logging.getLogger("prefect.flow_runs")
    run_logger.addFilter(guard.ids)
    try:
        yield guard
    except BaseException as exc:
        # Once a signal came, whatever unwinds is the stop: code between the handler and here may have wrapped
        # RunStopped in its own error (pydantic does, when the signal lands in a serializer callback), and a
        # signal another handler took may come out as any error (DuckDB's 'Query interrupted', module docstring).
        stop = guard.stopping or (exc if isinstance(exc, RunStopped) else None)
        if stop is None and (signum := guard.stop_signal_seen()) is not None:
            stop = RunStopped(signum)
        if stop is None:
            raise
        problem = record(warehouse, guard.run_id, guard.started, parameters or {}, stop)
        note = "" if problem is None else f" (not recorded in ops.runs: {problem})"
        print(f"error: jevons run {stop}; the warehouse keeps its last published state{note}", file=sys.stderr)
        if server is not None:  # the flow run is already reported; no clean shutdown to wait for (SQLite is crash-safe)
            server.kill()
        raise SystemExit(stop.exit_code) from None
    finally:
        _ACTIVE.remove(guard)
        guard.unwatch_wakeups()
        run_logger.removeFilter(guard.ids)
        for s, handler in previous.items():
            signal.signal(s, handler)
