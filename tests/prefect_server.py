"""A real `prefect server start` on 127.0.0.1 for tests: started on a free port, waited for, always stopped.

The session fixtures `prefect_server` (tests/conftest.py, SQLite) and `team_server` (tests/team/conftest.py,
PostgreSQL) differ only in the environment they give the server.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def stop_process(proc: subprocess.Popen[bytes], timeout_s: float = 20) -> None:
    """SIGTERM, then SIGKILL after timeout_s: never leaves the process running."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@contextmanager
def prefect_server_process(home: Path, env: Mapping[str, str], startup_s: float = 180.0) -> Iterator[str]:
    """Run `prefect server start` with its home (and server.log) in `home`; yields the API URL (…/api).

    The queued flow-run logs of this process are sent before the server stops (tests/prefect_cleanup.py).
    """
    from tests.prefect_cleanup import drain_prefect_log_workers

    port = free_port()
    url = f"http://127.0.0.1:{port}/api"
    full_env = {
        **os.environ,
        "PREFECT_HOME": str(home),
        "PREFECT_API_URL": "",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_API_HOST": "127.0.0.1",
        "PREFECT_SERVER_API_PORT": str(port),
        "PREFECT_UI_API_URL": url,  # the browser UI must call this server, not the default :4200
        **env,
    }
    log = open(home / "server.log", "wb")  # noqa: SIM115 (closed in the finally)
    proc = subprocess.Popen(
        [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=full_env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=home,
    )
    try:
        deadline = time.monotonic() + startup_s
        while True:
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log.flush()
                raise RuntimeError(f"prefect server did not start: {(home / 'server.log').read_text()[-3000:]}")
            time.sleep(0.5)
        yield url
    finally:
        drain_prefect_log_workers()
        stop_process(proc)
        log.close()
