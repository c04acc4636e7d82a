"""The electricity stage inside the real `daily` flow: real prices, EIA answered offline by `responses`.

One run with a key: three regions answer with two years of simulated hourly demand (paged like EIA), PJM
fails with HTTP 500 on every attempt, the other respondents return no rows, retail sales arrive for VA. The
run must publish the loadable data, record the failure and the empty routes as warnings, compute the
electricity marts and the Jevons check, and leave the key nowhere. A second run without a key, under
--require-electricity, must fail before anything is published.
"""

from __future__ import annotations

import functools
import json
import logging
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import duckdb
import numpy as np
import pytest
import requests
import responses
from eia_replay import eia_body

import flows.sources.eia.source
from flows.daily import daily
from flows.sources.eia import ROUTE_REGION, EiaApiKeyError, EiaClient

SECRET = "sk-FLOW-0123456789abcdef"
START = datetime(2023, 6, 1, tzinfo=UTC)
N_HOURS = 24 * 800


def _hourly_rows(respondent: str, scale: float, subba: str | None = None) -> list[dict[str, str]]:
    rng = np.random.default_rng(len(respondent))
    t = np.arange(N_HOURS)
    values = scale * (1 + 0.1 * np.sin(2 * np.pi * (t % 24) / 24)) * (1 + 0.01 * rng.standard_normal(N_HOURS))
    rows = []
    for i, v in enumerate(values):
        period = (START + timedelta(hours=int(i))).strftime("%Y-%m-%dT%H")
        if subba:
            rows.append({"period": period, "subba": subba, "parent": respondent, "value": f"{v:.0f}"})
        else:
            rows.append({"period": period, "respondent": respondent, "type": "D", "value": f"{v:.0f}"})
    return rows


class FakeEia:
    """Answers region-data, sub-BA and retail requests by facet, paging by offset/length like EIA."""

    def __init__(self) -> None:
        self.series = {
            ("region", "US48"): _hourly_rows("US48", 450_000),
            ("region", "ERCO"): _hourly_rows("ERCO", 50_000),
            ("subba", "DOM"): _hourly_rows("PJM", 11_000, subba="DOM"),
        }
        months = [date(2021 + m // 12, m % 12 + 1, 1) for m in range(12 * 5)]
        self.retail = [
            {
                "period": m.strftime("%Y-%m"),
                "stateid": "VA",
                "sectorid": sector,
                "sales": str(4000 + i),
                "price": "10.5",
                "revenue": "420.0",
                "customers": "4000000",
            }
            for i, m in enumerate(months)
            for sector in ("ALL", "COM")
        ]
        self.urls: list[str] = []

    def __call__(self, request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        url = str(request.url)
        self.urls.append(url)
        params = dict(parse_qsl(urlsplit(url).query))
        path = urlsplit(url).path
        if "retail-sales" in path:
            rows = self.retail
        elif "sub-ba" in path:
            rows = self.series.get(("subba", params["facets[subba][]"]), [])
        elif params["facets[respondent][]"] == "PJM":
            return 500, {}, json.dumps({"error": f"overloaded (api_key={SECRET})", "code": 500})
        else:
            rows = self.series.get(("region", params["facets[respondent][]"]), [])
        offset, length = int(params["offset"]), int(params["length"])
        return 200, {}, eia_body(rows[offset : offset + length], len(rows))


@pytest.fixture
def no_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(flows.sources.eia.source, "EiaClient", functools.partial(EiaClient, sleep=lambda _s: None))


def test_daily_flow_with_electricity(
    tmp_path: Path,
    real_prices_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    no_wait: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    for name in ("jevons.eia", "urllib3", "prefect"):
        caplog.set_level(logging.DEBUG, logger=name)
    monkeypatch.setenv("EIA_API_KEY", SECRET)
    fake = FakeEia()
    wh = tmp_path / "jevons.duckdb"
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_callback(responses.GET, re.compile(r"https://api\.eia\.gov/.*"), callback=fake)
        summary = daily(prices_from=str(real_prices_dir), warehouse=str(wh))
    codes = {(w.subject, w.code) for w in summary.warnings if w.stage == "electricity"}
    assert (f"{ROUTE_REGION} PJM", "route_failed") in codes
    assert (f"{ROUTE_REGION} MISO", "no_rows") in codes
    assert not any(code == "no_api_key" for _, code in codes)
    loads = {lr.table: lr for lr in summary.loads}
    assert loads["core.electricity_demand_hourly"].inserted == 3 * N_HOURS
    assert loads["core.electricity_retail_sales_monthly"].inserted == 2 * 60

    con = duckdb.connect(str(wh), read_only=True)
    try:
        assert con.sql("SELECT max(version) FROM ops.schema_version").fetchall()[0][0] >= 3
        daily_rows = con.sql(
            "SELECT respondent, subba, time_zone, count(*) FROM marts.electricity_demand_daily "
            "GROUP BY ALL ORDER BY 1, 2"
        ).fetchall()
        assert [(r, s, tz) for r, s, tz, _ in daily_rows] == [
            ("ERCO", "", "America/Chicago"),
            ("PJM", "DOM", "America/New_York"),
            ("US48", "", "America/New_York"),
        ]
        ok = con.sql(
            "SELECT region, window_length, growth_change_pp FROM marts.electricity_impact "
            "WHERE event_id = 'deepseek_r1' AND status = 'ok' ORDER BY region, window_length"
        ).fetchall()
        # a flat simulated series: growth does not change around the event
        assert {(r, w) for r, w, _ in ok} >= {("DOM", 28), ("DOM", 91), ("ERCO", 182), ("US48", 91)}
        assert all(abs(change) < 0.5 for _, _, change in ok)
        check = con.sql(
            "SELECT market_reaction, demand_outcome, n_regions_6m, verdict FROM marts.jevons_check "
            "WHERE event_id = 'deepseek_r1'"
        ).fetchall()
        assert check[0][0] == "feared_less_demand" and check[0][1] == "did_not_slow" and check[0][2] == 4
        assert check[0][3].startswith("Market feared less demand (power producers' CAAR [0,+5] -")
        dump = "\n".join(
            str(con.sql(f"SELECT * FROM {t}").fetchall()) for t in ("ops.load_log", "ops.warnings", "ops.runs")
        )
    finally:
        con.close()
    assert "api_key=***" in dump and SECRET not in dump and SECRET not in caplog.text
    assert any("api_key=" + SECRET in u for u in fake.urls)  # it was sent, as EIA requires


def test_require_electricity_without_a_key_fails_before_publishing(
    tmp_path: Path, real_prices_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("EIA_API_KEY", raising=False)
    monkeypatch.setattr(flows.sources.eia.source, "resolve_api_key", lambda: None)  # no Prefect Secret either
    wh = tmp_path / "jevons.duckdb"
    with pytest.raises(EiaApiKeyError, match="--require-electricity: no EIA API key"):
        daily(prices_from=str(real_prices_dir), warehouse=str(wh), require_electricity=True)
    con = duckdb.connect(str(wh), read_only=True)
    try:
        runs = con.sql("SELECT status FROM ops.runs").fetchall()
        prices = con.sql("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'prices_daily'").fetchall()
        assert runs == [("failed",)]
        assert prices == [(1,)] and con.sql("SELECT count(*) FROM core.prices_daily").fetchall() == [(0,)]
    finally:
        con.close()
