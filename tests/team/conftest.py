"""Fixtures for the `team` tests: a PostgreSQL cluster and a PostgreSQL-backed Prefect server, both temporary.

PostgreSQL refuses to run as root, and CI runs as root: the cluster then belongs to Debian's `postgres` user
(`runuser -u postgres`), in a directory made for it under /tmp. It listens on 127.0.0.1 only, on a free port,
with trust authentication (loopback, one test session, nothing kept). Every process started here is stopped
by the fixture's finalizer, also when a test fails or times out.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.prefect_server import free_port, prefect_server_process, stop_process

__all__ = ["stop_process"]

STARTUP_S = 180.0


def _pg_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        if os.environ.get("CI") == "true":
            pytest.fail("PostgreSQL is not installed: .ci/run must call .ci/postgres.sh")
        pytest.skip("PostgreSQL is not installed (bash .ci/postgres.sh installs Debian's package)")
    return Path(found[-1]).parent


def _as_owner(cmd: list[str]) -> list[str]:
    """Run as `postgres` when we are root (initdb and postgres refuse root), else as ourselves."""
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh cluster; yields the SQLAlchemy URL of its `prefect` database (asyncpg driver)."""
    bin_dir = _pg_bin()
    root = Path(tempfile.mkdtemp(prefix="jevons-pg-"))
    data, sock = root / "data", root / "sock"
    sock.mkdir()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        shutil.chown(sock, "postgres")
    port = free_port()
    run = {"check": True, "capture_output": True, "timeout": 120}
    subprocess.run(_as_owner([str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "prefect"]), **run)  # type: ignore[call-overload]
    options = f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c max_connections=200"
    ctl = [str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(root / "postgres.log"), "-w", "-t", "60"]
    subprocess.run(_as_owner([*ctl, "-o", options, "start"]), **run)  # type: ignore[call-overload]
    try:
        subprocess.run(  # type: ignore[call-overload]
            [str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "prefect", "prefect"], **run
        )
        yield f"postgresql+asyncpg://prefect@127.0.0.1:{port}/prefect"
    finally:
        subprocess.run(_as_owner([*ctl, "-m", "fast", "stop"]), capture_output=True, timeout=60)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def team_server(postgres_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """`prefect server start` on PostgreSQL, loopback only; yields (API URL, its home with server.log)."""
    home = tmp_path_factory.mktemp("prefect-team-home")
    env = {
        "PREFECT_API_DATABASE_CONNECTION_URL": postgres_url,
        "PREFECT_UI_ENABLED": "false",
        # as docs/operations.md (running as a team) asks: slot leases survive a server restart
        "PREFECT_SERVER_CONCURRENCY_LEASE_STORAGE": "prefect.server.concurrency.lease_storage.filesystem",
    }
    with prefect_server_process(home, env, startup_s=STARTUP_S) as url:
        yield url, home
