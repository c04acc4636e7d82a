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
