"""Shared test fixtures: where the real data lives and temporary warehouses."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"


def _shared(sub: str) -> Path:
    path = SHARED_DATA / sub
    if not path.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{path} is missing: CI must have ../shared/data beside the project")
        pytest.skip(f"{path} not present (real test data lives in ../shared/data)")
    return path


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Root of the real recorded data (../shared/data); skips when absent, fails under CI=true."""
    return _shared("")


@pytest.fixture(scope="session")
def real_prices_dir() -> Path:
    """Directory of real daily adjusted closes `TICKER.csv` (Date,Close) through 2026-08-03."""
    return _shared("prices_daily_close")


@pytest.fixture(scope="session")
def yahoo_chart_dir() -> Path:
    """Real Yahoo /v8/finance/chart/ response bodies."""
    return _shared("yahoo_chart")


@pytest.fixture(scope="session")
def eia_cassette_dir() -> Path:
    """Real EIA v2 responses recorded as VCR.py YAML cassettes."""
    return _shared("eia_v2_cassettes")


@pytest.fixture(scope="session")
def eia_real_dir() -> Path:
    """Real EIA files: region-data and retail-sales API exports (CSV) and the EIA-861M sales_revenue.xlsx."""
    return _shared("eia_real")


@pytest.fixture(scope="session")
def iea_annex() -> Path:
    """The IEA Energy and AI (2025) data annex workbook."""
    return _shared("iea") / "Data_annex_Energy_and_AI.xlsx"


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """A real `prefect server start` on 127.0.0.1 with its own home; yields the API URL (…/api).

    Subprocess runs that set PREFECT_API_URL to it skip the ephemeral server's start-up (~8–30 s each).
    """
    import subprocess
    import sys
    import time
    import urllib.request

    home = tmp_path_factory.mktemp("prefect-home")
    port = free_port()
    url = f"http://127.0.0.1:{port}/api"
    env = {
        **os.environ,
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_API_URL": "",
        "PREFECT_SERVER_API_HOST": "127.0.0.1",
        "PREFECT_SERVER_API_PORT": str(port),
        "PREFECT_UI_API_URL": url,  # the browser UI must call this server, not the default :4200
    }
    log = open(home / "server.log", "w")  # noqa: SIM115 (closed at teardown)
    proc = subprocess.Popen(
        [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=home,
    )
    deadline = time.monotonic() + 180
    try:
        while True:
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log.flush()
                raise RuntimeError(f"prefect server did not start: {(home / 'server.log').read_text()[-2000:]}")
            time.sleep(0.5)
        yield url
    finally:
        from tests.prefect_cleanup import drain_prefect_log_workers

        drain_prefect_log_workers()  # in-process runs' queued logs reach this server before it stops
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Prefect's temporary servers stop here, not at atexit after pytest closed the streams (see the module)."""
    from tests.prefect_cleanup import stop_temporary_prefect_servers

    stop_temporary_prefect_servers()
