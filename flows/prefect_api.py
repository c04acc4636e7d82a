"""Prefect's temporary API server, started at the top of `jevons run` so its start-up overlaps jevons's imports.

Without a configured API (`PREFECT_API_URL`), Prefect starts a temporary server the first time a flow needs
one: it first imports its whole server package in the calling process (≈4 s here), then launches a uvicorn
subprocess and waits for it (8–35 s). Both come *after* jevons's own imports, one after the other. This
module launches the same subprocess (the command and environment of Prefect's `SubprocessASGIServer`) before
the imports instead, on the machine's other core, and points the flow at it with `temporary_settings`; the
server package is never imported in the CLI process. It is stopped when the command ends, like Prefect's own.

A configured API wins: with `PREFECT_API_URL` in the environment nothing is started, and when a Prefect
profile or prefect.toml turns out to set one (known only once Prefect's settings are loaded), the early
server is stopped unused. If the early server cannot start, the flow falls back to Prefect's own ephemeral
start-up with a printed note: slower, never a failed run.

The server dies with its run whatever ends the run. On Linux the child asks the kernel for a parent-death
signal (`prctl(PR_SET_PDEATHSIG, SIGTERM)`, set between fork and exec) and then checks that its parent is
still the process that launched it, closing the race where the parent died before the request. A SIGKILL
or the OOM killer thus still stops the server (SIGTERM: uvicorn closes Prefect's SQLite database cleanly).
The server runs in its own session, so a signal sent to the run's process group (Ctrl-C in a terminal,
`kill -- -PGID`) reaches the run only: the run reports its end to a server that is still up, then stops it
(flows/signals.py bounds how long that may take).
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

# What Prefect's SubprocessASGIServer sets for its server process (prefect/server/api/server.py).
SERVER_ENV = {"PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1"}
PORT_IN_USE_EXIT = 3  # uvicorn's exit code when the port was taken between choosing and binding it
DEFAULT_STARTUP_TIMEOUT_S = 120.0
STOP_TIMEOUT_S = 5.0  # uvicorn's clean shutdown takes well under a second; past this the server is killed
_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
_TEMPORARY_URLS: set[str] = set()  # API URLs of early servers in use by this process


def is_temporary_api(url: str | None) -> bool:
    """Whether `url` is no shared server: unset (Prefect's own ephemeral mode) or an early server of this process."""
    return not url or url in _TEMPORARY_URLS


def die_with_parent(parent_pid: int) -> None:
    """In a forked child before exec: have the kernel SIGTERM this process when its parent dies (Linux).

    Elsewhere (no prctl) nothing is set and the parent's own `stop` is the only stop."""
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
        return
    if os.getppid() != parent_pid:  # the parent died before the request: nobody would ever signal us
        os.kill(os.getpid(), signal.SIGTERM)


def _free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wanted() -> bool:
    """An early server only when no API is configured in the environment and ephemeral mode is not off."""
    if os.environ.get("PREFECT_API_URL"):
        return False
    return os.environ.get("PREFECT_SERVER_EPHEMERAL_ENABLED", "true").strip().lower() not in ("0", "false", "no")


def _drain_prefect_workers() -> None:
    """Send the logs and events Prefect still queues for the API while the server is up (Prefect's own temporary
    server is stopped at interpreter exit, after these queues drain; this one stops when the block ends)."""
    from prefect._internal.concurrency.services import QueueService

    QueueService.drain_all(timeout=10)  # every queue service: API log worker, events worker


class EarlyPrefectAPI:
    """One temporary Prefect API server process for the lifetime of a CLI command."""

    def __init__(self) -> None:
        self.process: subprocess.Popen[bytes] | None = None
        self.port: int | None = None
        self.note: str | None = None  # why the early server was not used, when it was not

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def start(self) -> None:
        """Launch the server process (returns at once; `use` waits for it)."""
        if self.process is None and _wanted():
            self._launch()

    def _launch(self) -> None:
        spec = importlib.util.find_spec("prefect")  # its folder for uvicorn's --app-dir, without importing it
        if spec is None or spec.origin is None:
            raise ModuleNotFoundError("prefect is not installed")
        self.port = _free_port()
        parent_pid = os.getpid()
        self.process = subprocess.Popen(
            [
                *(sys.executable, "-m", "uvicorn", "--app-dir", str(Path(spec.origin).parent.parent)),
                *("--factory", "prefect.server.api.server:create_app", "--host", "127.0.0.1", "--port", str(self.port)),
                *("--log-level", "error", "--lifespan", "on"),
            ],
            env={**os.environ, **SERVER_ENV},
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # group signals reach the run only; it stops the server in order
            preexec_fn=lambda: die_with_parent(parent_pid),  # runs in the child between fork and exec
        )

    def _healthy(self, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        relaunched = 0
        while time.monotonic() < deadline:
            assert self.process is not None
            code = self.process.poll()
            if code == PORT_IN_USE_EXIT and relaunched < 3:
                relaunched += 1
                self._launch()
                continue
            if code is not None:
                self.note = f"the temporary Prefect server exited with code {code}"
                return False
            try:
                with urllib.request.urlopen(f"{self.api_url}/health", timeout=2) as response:
                    if response.status == 200:
                        return True
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.1)
        self.note = f"the temporary Prefect server did not answer within {timeout_s:.0f} s"
        return False

    @contextlib.contextmanager
    def use(self) -> Iterator[None]:
        """Inside the block, Prefect talks to the early server (waiting for it first), unless an API is configured."""
        from prefect.settings import PREFECT_API_URL, PREFECT_UI_URL, get_current_settings, temporary_settings

        if self.process is None:
            yield
            return
        if get_current_settings().api.url:  # a profile or prefect.toml names an API: use that one
            self.stop()
            yield
            return
        timeout_s = float(os.environ.get("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", DEFAULT_STARTUP_TIMEOUT_S))
        if not self._healthy(timeout_s):
            self.stop()
            print(f"note: {self.note}; Prefect starts its own", file=sys.stderr)
            yield
            return
        # No UI URL: this server serves no UI and stops with the command, so Prefect's "View at <link>" would be dead
        with temporary_settings({PREFECT_API_URL: self.api_url, PREFECT_UI_URL: ""}):
            _TEMPORARY_URLS.add(self.api_url)
            try:
                yield
            finally:
                _TEMPORARY_URLS.discard(self.api_url)
                _drain_prefect_workers()

    def stop(self, timeout_s: float = STOP_TIMEOUT_S) -> None:
        """Terminate the server process (SIGTERM: uvicorn shuts down cleanly), killing it if it hangs."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def kill(self) -> None:
        """SIGKILL the server now (a run out of time to stop cleanly); safe from any thread."""
        process = self.process
        if process is not None and process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()


@contextlib.contextmanager
def early_prefect_api() -> Iterator[EarlyPrefectAPI]:
    """Start the temporary server now; always stop it when the block ends (also on errors and Ctrl-C)."""
    api = EarlyPrefectAPI()
    try:
        api.start()
        yield api
    finally:
        api.stop()
