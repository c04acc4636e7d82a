"""The EIA key never leaks: a full daily flow with a sentinel key (and an EIA error body echoing it) leaves no
trace of it in logs, console output, any warehouse table, any Prefect artifact, or any recorded fixture."""

from __future__ import annotations

import functools
import logging
import re
from pathlib import Path

import duckdb
import pytest
import responses
from test_electricity_flow import FakeEia

import flows.sources.eia.source
from flows.daily import daily
from flows.sources.eia import EiaClient
from warehouse.registry import all_tables

SENTINEL = "sk-SENTINEL-c0ffee-7e57-k3y"
PROJECT = Path(__file__).resolve().parent.parent


def test_sentinel_key_appears_nowhere(
    tmp_path: Path,
    real_prices_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from prefect.client.orchestration import get_client

    for name in ("jevons", "jevons.eia", "urllib3", "prefect", "requests"):
        caplog.set_level(logging.DEBUG, logger=name)
    monkeypatch.setenv("EIA_API_KEY", SENTINEL)
    monkeypatch.setattr(flows.sources.eia.source, "EiaClient", functools.partial(EiaClient, sleep=lambda _s: None))
    fake = FakeEia()
    wh = tmp_path / "jevons.duckdb"
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_callback(responses.GET, re.compile(r"https://api\.eia\.gov/.*"), callback=fake)
        summary = daily(prices_from=str(real_prices_dir), warehouse=str(wh))
    assert any(SENTINEL in u for u in fake.urls)  # it was sent to EIA, as the API requires
    assert any(w.code == "route_failed" for w in summary.warnings)  # the error body echoing a key was handled

    out = capsys.readouterr()
    assert SENTINEL not in caplog.text
    assert SENTINEL not in out.out + out.err
    assert SENTINEL not in repr(summary)

    con = duckdb.connect(str(wh), read_only=True)
    try:
        for table in all_tables():
            rows = con.sql(f"SELECT * FROM {table.qualified_name}").fetchall()
            assert SENTINEL not in repr(rows), table.qualified_name
    finally:
        con.close()
    assert SENTINEL.encode() not in wh.read_bytes()

    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts()
        assert artifacts, "the flow wrote no artifacts"
        for artifact in artifacts:
            assert SENTINEL not in repr(artifact.data), artifact.key

    for root in (PROJECT / "tests", PROJECT.parent / "shared" / "data"):
        for path in root.rglob("*"):
            if path.is_file() and path.suffix in {".py", ".yaml", ".json", ".csv", ".md"}:
                text = path.read_text(encoding="utf-8", errors="replace")
                if path.name != "test_secrets.py":
                    assert SENTINEL not in text, path
                assert not re.search(r"api_key[=:]\s*['\"]?[0-9A-Za-z]{40}", text), f"a real-looking key in {path}"
