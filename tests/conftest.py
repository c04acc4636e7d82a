"""Shared test fixtures: where the real data lives and temporary warehouses."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.prefect_server import free_port, prefect_server_process

__all__ = ["free_port"]

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


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real `prefect server start` on 127.0.0.1 with its own home; yields the API URL (…/api).

    Subprocess runs that set PREFECT_API_URL to it skip the ephemeral server's start-up (~8–30 s each).
    """
    home = tmp_path_factory.mktemp("prefect-home")
    with prefect_server_process(home, {}) as url:
        yield url


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Prefect's temporary servers stop here, not at atexit after pytest closed the streams (see the module)."""
    from tests.prefect_cleanup import stop_temporary_prefect_servers

    stop_temporary_prefect_servers()
