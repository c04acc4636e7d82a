"""EIA v2 source, offline: real recorded responses replayed through the real client, plus generated pages.

Replays go through `responses` at the HTTP-adapter level, so EiaClient builds, sends, retries and parses
exactly as it does live (tests/eia_replay.py explains how requests are matched to recordings).
"""

from __future__ import annotations

import json
import logging
import re
import traceback
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import duckdb
import polars as pl
import pytest
import requests
import responses
from eia_replay import CassetteReplayer, PagedServer, eia_body, load_cassette, region_rows

from flows.electricity import load_electricity
from flows.sources.eia import (
    HOURLY_SCHEMA,
    HOURLY_TABLE,
    MONTHLY_SCHEMA,
    MONTHLY_TABLE,
    ROUTE_REGION,
    ROUTE_SUB_BA,
    EiaApiKeyError,
    EiaClient,
    EiaConfig,
    EiaHttpError,
    EiaQuery,
    EiaResponseError,
    EiaSource,
    LastLoaded,
    extract_electricity,
    parse_hourly,
    parse_retail,
    read_last_loaded,
    region_query,
    resolve_api_key,
    retail_query,
    scrub,
    sub_ba_query,
)
from warehouse.load import record_warnings
from warehouse.migrations import apply_migrations
from warehouse.tables.electricity import TABLES as ELECTRICITY_TABLES

SECRET = "sk-TEST-9f8e7d6c5b4a3210"
"""A key that must never surface anywhere (the cassettes hold MOCK_API_KEY)."""


@pytest.fixture
def mock() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def client(sleeps: list[float]) -> EiaClient:
    return EiaClient(SECRET, sleep=sleeps.append, max_workers=3, jitter=(1.0, 1.0))  # no jitter: exact schedule


def ra(cassettes: Path, name: str) -> Path:
    return cassettes / "ring-attention-energy" / name


def hours(start: datetime, n: int) -> list[str]:
    return [(start + timedelta(hours=i)).strftime("%Y-%m-%dT%H") for i in range(n)]


# ---------------------------------------------------------------------------------------- real recordings


def test_region_data_recording(eia_cassette_dir: Path, mock: responses.RequestsMock, client: EiaClient) -> None:
    replay = CassetteReplayer.from_files(
        eia_cassette_dir / "test_eia_electricity_grid_demand_fetcher_urllib3_v2.yaml"
    ).install(mock)
    fetched = client.fetch(region_query("AEC", ["D"], "2019-01-02T00", "2019-01-02T00"))
    frame, stats = parse_hourly(fetched.frame, ROUTE_REGION)
    assert (fetched.total, fetched.pages, len(replay.requests_seen), replay.unplayed) == (1, 1, 1, [])
    assert frame.schema == pl.Schema(HOURLY_SCHEMA)
    assert frame.to_dicts() == [
        {
            "respondent": "AEC",
            "subba": "",
            "period_utc": datetime(2019, 1, 2, tzinfo=UTC),
            "type": "D",
            "value_mwh": 486.0,
        }
    ]
    assert stats.bad_values == stats.bad_periods == stats.duplicates == 0


def test_sub_ba_recording(eia_cassette_dir: Path, mock: responses.RequestsMock, client: EiaClient) -> None:
    CassetteReplayer.from_files(
        eia_cassette_dir / "test_eia_electricity_grid_demand_by_subregion_fetcher_urllib3_v2.yaml"
    ).install(mock)
    fetched = client.fetch(sub_ba_query("CISO", "PGAE", "2019-01-02T00", "2019-01-02T00"))
    frame, _ = parse_hourly(fetched.frame, ROUTE_SUB_BA)
    assert frame.to_dicts() == [
        {
            "respondent": "CISO",
            "subba": "PGAE",
            "period_utc": datetime(2019, 1, 2, tzinfo=UTC),
            "type": "D",
            "value_mwh": 9235.0,
        }
    ]


def test_retail_sales_recording_converts_units_and_keeps_null(
    eia_cassette_dir: Path, mock: responses.RequestsMock, client: EiaClient
) -> None:
    CassetteReplayer.from_files(
        eia_cassette_dir / "test_eia_electricity_electricity_sales_to_ultimate_customers_fetcher_urllib3_v2.yaml"
    ).install(mock)
    fetched = client.fetch(retail_query(["AK"], ["ALL"], "2001-01", "2001-01"))
    frame, stats = parse_retail(fetched.frame)
    assert frame.schema == pl.Schema(MONTHLY_SCHEMA)
    row = frame.row(0, named=True)
    # EIA: sales 521.03566 million kWh, revenue 51.96404 million $, price 9.97 c/kWh, customers null.
    assert row["state"] == "AK" and row["sector"] == "ALL" and row["month"] == date(2001, 1, 1)
    assert row["sales_mwh"] == pytest.approx(521_035.66)
    assert row["revenue_usd"] == pytest.approx(51_964_040.0)
    assert row["price_cents_per_kwh"] == pytest.approx(9.97)
    assert row["customers"] is None
    assert stats.bad_values == 0  # a JSON null is a null, not an unparseable value


@pytest.mark.parametrize(
    ("cassette", "route", "facets", "data", "start", "expected"),
    [
        (
            "test_eia_electricity_grid_generation_by_fuel_fetcher_urllib3_v2.yaml",
            "electricity/rto/fuel-type-data",
            (("fueltype", ("COL",)), ("respondent", ("AEC",))),
            ("value",),
            "2019-01-02T00",
            {"value": "-3"},
        ),
        (
            "test_eia_electricity_electric_power_operations_fetcher_urllib3_v2.yaml",
            "electricity/electric-power-operational-data",
            (("fueltypeid", ("ALL",)), ("location", ("AK",)), ("sectorid", ("1",))),
            (
                "ash-content",
                "consumption-for-eg",
                "generation",
                "receipts",
                "receipts-btu",
                "stocks",
                "sulfur-content",
                "total-consumption",
                "total-consumption-btu",
                "consumption-for-eg-btu",
                "consumption-uto",
                "consumption-uto-btu",
                "cost",
                "cost-per-btu",
                "heat-content",
            ),
            "2001-01",
            {"generation": "493.206", "consumption-for-eg": None},
        ),
    ],
)
def test_other_routes_replay_through_the_generic_client(
    eia_cassette_dir: Path,
    mock: responses.RequestsMock,
    client: EiaClient,
    cassette: str,
    route: str,
    facets: tuple[tuple[str, tuple[str, ...]], ...],
    data: tuple[str, ...],
    start: str,
    expected: dict[str, str],
) -> None:
    replay = CassetteReplayer.from_files(eia_cassette_dir / cassette).install(mock)
    freq = "hourly" if "T" in start else "monthly"
    query = EiaQuery("x", route, freq, data, facets, ("period",), ("period", *expected), start, start)
    fetched = client.fetch(query)
    assert replay.unplayed == []
    assert fetched.frame.select(list(expected)).to_dicts() == [expected]


def test_pacw_weeks_2023_and_2024(eia_cassette_dir: Path, mock: responses.RequestsMock, client: EiaClient) -> None:
    CassetteReplayer.from_files(
        ra(eia_cassette_dir, "eia_oregon_demand.yaml"), ra(eia_cassette_dir, "raw_loader_generation_test.yaml")
    ).install(mock)
    fetched = client.fetch(region_query("PACW", ["D"], "2023-01-01T00", "2023-01-08T00"))
    frame, stats = parse_hourly(fetched.frame, ROUTE_REGION)
    assert fetched.total == frame.height == 169 and stats.duplicates == 0
    periods = frame["period_utc"]
    assert periods.min() == datetime(2023, 1, 1, tzinfo=UTC) and periods.max() == datetime(2023, 1, 8, tzinfo=UTC)
    assert periods.diff().drop_nulls().unique().to_list() == [timedelta(hours=1)]  # sorted and gap-free
    assert frame["value_mwh"].null_count() == 0 and frame["value_mwh"][0] == 2455.0
    assert 1500 < frame["value_mwh"].mean() < 4500  # PacifiCorp West demand, MWh per hour
    gen = client.fetch(
        EiaQuery(
            "gen",
            "electricity/rto/fuel-type-data",
            "hourly",
            ("value",),
            (("respondent", ("PACW",)),),
            ("period",),
            ("period", "respondent", "fueltype", "value"),
            "2024-01-01T00",
            "2024-01-07T00",
        )
    )
    assert gen.total == gen.frame.height == 725
    assert set(gen.frame["fueltype"].unique()) <= {"COL", "NG", "WAT", "WND", "SUN", "OTH", "NUC", "OIL"}


def test_pacw_2024_raw_body(eia_cassette_dir: Path, mock: responses.RequestsMock, client: EiaClient) -> None:
    """The recorded 2024 raw body (wrapped by its project) served as EIA's answer parses to its 145 rows."""
    wrapped = json.loads(
        ra(eia_cassette_dir, "eia_demand_PACW_2024-01-01_to_2024-01-07_20250709_170032.json").read_text()
    )
    mock.add(responses.GET, re.compile(r"https://api\.eia\.gov/.*"), json=wrapped["api_response"])
    frame, _ = parse_hourly(
        client.fetch(region_query("PACW", ["D"], "2024-01-01T00", "2024-01-07T00")).frame, ROUTE_REGION
    )
    assert frame.height == 145 and frame["value_mwh"][0] == 2515.0


def test_http_500_recordings_are_retried_then_fail(
    eia_cassette_dir: Path, mock: responses.RequestsMock, client: EiaClient, sleeps: list[float]
) -> None:
    replay = CassetteReplayer(
        [i for i in load_cassette(ra(eia_cassette_dir, "eia_oregon_comprehensive.yaml")) if i.status == 500]
    ).install(mock)
    assert len(replay.interactions) == 4
    query = EiaQuery(
        "wholesale",
        "electricity/wholesale-prices",
        "hourly",
        ("value",),
        (),
        ("period",),
        ("period", "value"),
        "2023-01-01T00",
        "2023-01-08T00",
    )
    with pytest.raises(EiaHttpError, match="gave up after 4 attempts; last error: HTTP 500") as info:
        client.fetch(query)
    assert info.value.status == 500
    assert len(replay.requests_seen) == 4 and replay.unplayed == []
    assert sleeps == [1.0, 2.0, 4.0]  # exponential backoff between the 4 attempts


def test_invalid_key_recording_fails_fast_with_the_variable_named(
    eia_cassette_dir: Path, mock: responses.RequestsMock, client: EiaClient, sleeps: list[float]
) -> None:
    replay = CassetteReplayer.from_files(ra(eia_cassette_dir, "eia_collector_demand.yaml")).install(mock)
    with pytest.raises(EiaApiKeyError, match="set EIA_API_KEY") as info:
        client.fetch(region_query("ERCO", ["D"], "2024-01-01T00", "2024-01-02T00"))
    assert "API_KEY_INVALID" in str(info.value) and info.value.exit_code == 2
    assert len(replay.requests_seen) == 1 and replay.unplayed == [] and sleeps == []  # no retry


def test_invalid_key_aborts_the_whole_source(
    eia_cassette_dir: Path, mock: responses.RequestsMock, client: EiaClient, sleeps: list[float]
) -> None:
    """Every route would fail the same way, so the first 403 stops the run's EIA requests."""
    recorded = load_cassette(ra(eia_cassette_dir, "eia_collector_demand.yaml"))[0]
    mock.add(responses.GET, re.compile(r"https://api\.eia\.gov/.*"), status=recorded.status, body=recorded.body)
    source = EiaSource(client, EiaConfig(respondents=("ERCO", "PJM"), types=("D",)))
    with pytest.raises(EiaApiKeyError, match="set EIA_API_KEY"):
        source.fetch()
    assert len(mock.calls) == 1 and sleeps == []


def test_route_failure_is_recorded_while_other_routes_load(
    eia_cassette_dir: Path, mock: responses.RequestsMock, client: EiaClient
) -> None:
    """PACW answers with its recorded week; ERCO answers with the four recorded HTTP 500s."""
    ok = load_cassette(ra(eia_cassette_dir, "eia_oregon_demand.yaml"))[0]
    errors = [i for i in load_cassette(ra(eia_cassette_dir, "eia_oregon_comprehensive.yaml")) if i.status == 500]

    def serve(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        params = dict(parse_qsl(urlsplit(str(request.url)).query))
        if params["facets[respondent][]"] == "PACW":
            return 200, {}, ok.body
        return errors.pop(0).status, {}, '{"error":"Not found.","code":404}'

    mock.add_callback(responses.GET, re.compile(r"https://api\.eia\.gov/.*"), callback=serve)
    source = EiaSource(client, EiaConfig(respondents=("ERCO", "PACW"), types=("D",), sub_bas=(), states=()))
    result = source.fetch(start=date(2023, 1, 1))
    assert result.failed_subjects == [f"{ROUTE_REGION} ERCO"]
    assert [(w.subject, w.code) for w in result.warnings] == [(f"{ROUTE_REGION} ERCO", "route_failed")]
    assert "HTTP 500" in result.warnings[0].message
    hourly = result.frames[HOURLY_TABLE]
    assert hourly.height == 169 and hourly["respondent"].unique().to_list() == ["PACW"]
    assert result.frames[MONTHLY_TABLE].is_empty() and errors == []


# --------------------------------------------------------------------------------------- generated paging


def _rows_12345() -> list[dict[str, object]]:
    """12,345 distinct rows: 4,115 hours x 3 types, sorted by (period, respondent, type)."""
    return region_rows("PJM", ["D", "NG", "TI"], hours(datetime(2024, 1, 1, tzinfo=UTC), 4115))


def test_pagination_12345_rows_over_three_pages(mock: responses.RequestsMock, client: EiaClient) -> None:
    rows = _rows_12345()
    assert len(rows) == 12_345
    server = PagedServer(rows).install(mock)
    fetched = client.fetch(region_query("PJM", ["D", "NG", "TI"], "2024-01-01T00", None))
    frame, stats = parse_hourly(fetched.frame, ROUTE_REGION)
    assert server.offsets() == [0, 5000, 10000] and fetched.pages == 3
    for params in server.requests:
        assert params["length"] == ["5000"]
        assert params["api_key"] == [SECRET]
        sort = [(params[f"sort[{i}][column]"][0], params[f"sort[{i}][direction]"][0]) for i in range(3)]
        assert sort == [("period", "asc"), ("respondent", "asc"), ("type", "asc")]
    assert frame.height == 12_345 and stats.duplicates == 0
    assert not frame.select("respondent", "subba", "period_utc", "type").is_duplicated().any()
    assert frame["value_mwh"].sum() == sum(float(r["value"]) for r in rows)  # type: ignore[arg-type]


def test_a_page_served_twice_lands_no_duplicates(mock: responses.RequestsMock, client: EiaClient) -> None:
    """Offset 10000 answers with page 2's rows again (as if EIA appended while we paged)."""
    rows = _rows_12345()
    PagedServer(rows, override={10_000: rows[5000:10_000]}).install(mock)
    source = EiaSource(client, EiaConfig(respondents=("PJM",), types=("D", "NG", "TI"), sub_bas=(), states=()))
    result = source.fetch(start=date(2024, 1, 1))
    hourly = result.frames[HOURLY_TABLE]
    assert hourly.height == 10_000
    assert not hourly.select("respondent", "subba", "period_utc", "type").is_duplicated().any()
    codes = {w.code: w.message for w in result.warnings}
    assert codes.keys() == {"duplicate_rows_dropped", "rows_short_of_total"}
    assert codes["duplicate_rows_dropped"].startswith("5000 rows")
    assert "12345 rows" in codes["rows_short_of_total"]


def test_a_failing_page_is_retried_and_the_bound_on_concurrency_holds(mock: responses.RequestsMock) -> None:
    rows = region_rows("PJM", ["D"], hours(datetime(2024, 1, 1, tzinfo=UTC), 12_000))
    server = PagedServer(rows, fail_first={5000: 2}, delay_s=0.02).install(mock)
    sleeps: list[float] = []
    client = EiaClient(SECRET, sleep=sleeps.append, page_length=1000, max_workers=3, jitter=(1.0, 1.0))
    fetched = client.fetch(region_query("PJM", ["D"], "2024-01-01T00", None))
    assert fetched.frame.height == 12_000 and fetched.pages == 12
    assert len(server.requests) == 14 and sleeps == [1.0, 2.0]
    assert server.max_in_flight <= 3


def test_timeouts_are_retried(mock: responses.RequestsMock, client: EiaClient, sleeps: list[float]) -> None:
    url = re.compile(r"https://api\.eia\.gov/.*")
    mock.add(responses.GET, url, body=requests.ReadTimeout("read timed out"))
    mock.add(responses.GET, url, body=eia_body(region_rows("PJM", ["D"], ["2024-01-01T00"]), 1))
    frame = client.fetch(region_query("PJM", ["D"], "2024-01-01T00", None)).frame
    assert frame.height == 1 and sleeps == [1.0]


def test_429_honours_retry_after(mock: responses.RequestsMock, client: EiaClient, sleeps: list[float]) -> None:
    url = re.compile(r"https://api\.eia\.gov/.*")
    mock.add(responses.GET, url, status=429, headers={"Retry-After": "7"}, json={"error": "slow down"})
    mock.add(responses.GET, url, body=eia_body([], 0))
    assert client.fetch(region_query("PJM", ["D"], "2024-01-01T00", None)).frame.is_empty()
    assert sleeps == [7.0]


def test_other_4xx_is_not_retried(mock: responses.RequestsMock, client: EiaClient, sleeps: list[float]) -> None:
    mock.add(
        responses.GET,
        re.compile(r"https://api\.eia\.gov/.*"),
        status=400,
        json={"error": "Invalid facet 'bogus'", "code": 400},
    )
    with pytest.raises(EiaHttpError, match=r"HTTP 400: Invalid facet 'bogus' \(code 400\)"):
        client.fetch(region_query("PJM", ["D"], "2024-01-01T00", None))
    assert sleeps == [] and len(mock.calls) == 1


# ------------------------------------------------------------------------------ strings, nulls, bad bodies


def test_string_values_nulls_and_garbage(mock: responses.RequestsMock, client: EiaClient) -> None:
    rows = [
        {"period": "2024-01-01T00", "respondent": "PJM", "type": "D", "value": "80123"},
        {"period": "2024-01-01T01", "respondent": "PJM", "type": "D", "value": None},
        {"period": "2024-01-01T02", "respondent": "PJM", "type": "D", "value": " 79000.5 "},
        {"period": "2024-01-01T03", "respondent": "PJM", "type": "D", "value": ""},
        {"period": "2024-01-01T04", "respondent": "PJM", "type": "D", "value": "n/a"},
        {"period": "2024-01-01T05", "respondent": "PJM", "type": "D"},  # key absent
        {"period": "2024-01-01T06", "respondent": "PJM", "type": "D", "value": 81000},  # a JSON number
        {"period": "garbage", "respondent": "PJM", "type": "D", "value": "1"},
    ]
    mock.add(responses.GET, re.compile(r"https://api\.eia\.gov/.*"), body=eia_body(rows, "8"))
    source = EiaSource(client, EiaConfig(respondents=("PJM",), types=("D",), sub_bas=(), states=()))
    result = source.fetch(start=date(2024, 1, 1))
    values = result.frames[HOURLY_TABLE]["value_mwh"].to_list()
    assert values == [80123.0, None, 79000.5, None, None, None, 81000.0]
    assert result.rejected_rows == 1
    codes = {w.code: w.message for w in result.warnings}
    assert codes.keys() == {"rows_bad_period", "values_not_numeric"}
    assert codes["values_not_numeric"].startswith("1 non-numeric")


def test_missing_response_data_fails_that_route_only(mock: responses.RequestsMock, client: EiaClient) -> None:
    def serve(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        respondent = dict(parse_qsl(urlsplit(str(request.url)).query))["facets[respondent][]"]
        if respondent == "MISO":
            return 200, {}, json.dumps({"response": {"total": "5", "dateFormat": "x"}, "apiVersion": "2.1.13"})
        return 200, {}, eia_body(region_rows(respondent, ["D"], ["2024-01-01T00"]), "1")

    mock.add_callback(responses.GET, re.compile(r"https://api\.eia\.gov/.*"), callback=serve)
    source = EiaSource(client, EiaConfig(respondents=("MISO", "TVA"), types=("D",), sub_bas=(), states=()))
    result = source.fetch(start=date(2024, 1, 1))
    assert result.failed_subjects == [f"{ROUTE_REGION} MISO"]
    assert "no 'data' key" in result.warnings[0].message
    assert result.frames[HOURLY_TABLE]["respondent"].to_list() == ["TVA"]


def test_error_body_with_status_200_and_bad_total(mock: responses.RequestsMock, client: EiaClient) -> None:
    url = re.compile(r"https://api\.eia\.gov/.*")
    mock.add(responses.GET, url, json={"error": "Invalid route"})
    with pytest.raises(EiaResponseError, match="no 'response' object: Invalid route"):
        client.fetch(region_query("PJM", ["D"], None, None))
    mock.add(responses.GET, url, json={"response": {"total": "many", "data": []}})
    with pytest.raises(EiaResponseError, match="'many' is not a whole number"):
        client.fetch(region_query("PJM", ["D"], None, None))


def test_empty_data_is_a_recorded_warning(mock: responses.RequestsMock, client: EiaClient) -> None:
    mock.add(responses.GET, re.compile(r"https://api\.eia\.gov/.*"), body=eia_body([], "0"))
    source = EiaSource(client, EiaConfig(respondents=("SOCO",), types=("D",), sub_bas=(), states=()))
    result = source.fetch(start=date(2024, 1, 1))
    assert [(w.subject, w.code) for w in result.warnings] == [(f"{ROUTE_REGION} SOCO", "no_rows")]
    assert result.failed_subjects == [] and result.frames[HOURLY_TABLE].is_empty()
    assert result.frames[HOURLY_TABLE].schema == pl.Schema(HOURLY_SCHEMA)


def test_sub_ba_and_retail_through_the_source(mock: responses.RequestsMock, client: EiaClient) -> None:
    def serve(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        path = urlsplit(str(request.url)).path
        if "sub-ba" in path:
            rows = [{"period": "2024-07-01T20", "subba": "DOM", "parent": "PJM", "value": "21000"}]
        else:
            rows = [
                {
                    "period": "2024-06",
                    "stateid": "VA",
                    "sectorid": "COM",
                    "sales": "4000.5",
                    "price": "10.1",
                    "revenue": "404.05",
                    "customers": "500123",
                }
            ]
        return 200, {}, eia_body(rows, len(rows))

    mock.add_callback(responses.GET, re.compile(r"https://api\.eia\.gov/.*"), callback=serve)
    source = EiaSource(client, EiaConfig(respondents=(), states=("VA",), sectors=("COM",)))
    result = source.fetch(start=date(2024, 6, 1))
    assert result.frames[HOURLY_TABLE].to_dicts() == [
        {
            "respondent": "PJM",
            "subba": "DOM",
            "period_utc": datetime(2024, 7, 1, 20, tzinfo=UTC),
            "type": "D",
            "value_mwh": 21000.0,
        }
    ]
    sales = result.frames[MONTHLY_TABLE].row(0, named=True)
    assert sales["sales_mwh"] == pytest.approx(4_000_500.0) and sales["revenue_usd"] == pytest.approx(404_050_000.0)
    assert sales["customers"] == 500_123 and result.warnings == []


# ------------------------------------------------------------------------------------------ incremental


def test_plan_starts_from_last_loaded_minus_overlap() -> None:
    cfg = EiaConfig(respondents=("PJM", "ERCO"), states=("VA", "TX"))
    source = EiaSource(EiaClient(SECRET), cfg)
    last = LastLoaded(
        {
            HOURLY_TABLE: {
                ("PJM", ""): datetime(2025, 3, 20, 7, tzinfo=UTC),
                ("PJM", "DOM"): datetime(2025, 3, 1, tzinfo=UTC),
            },
            MONTHLY_TABLE: {("VA",): date(2025, 1, 1), ("TX",): date(2025, 2, 1)},
        }
    )
    plan = {q.subject: q for q in source.plan(last)}
    assert plan[f"{ROUTE_REGION} PJM"].start == "2025-03-06T07"  # 14 days of overlap
    assert plan[f"{ROUTE_REGION} ERCO"].start == "2022-01-01T00"  # never loaded: the history start
    assert plan[f"{ROUTE_SUB_BA} PJM/DOM"].start == "2025-02-15T00"
    assert plan["electricity/retail-sales"].start == "2024-07"  # earliest state (VA) minus 6 months
    assert all(q.end is None for q in plan.values())
    backfill = {q.subject: q for q in source.plan(last, start=date(2023, 5, 2), end=date(2023, 6, 30))}
    assert backfill[f"{ROUTE_REGION} PJM"].start == "2023-05-02T00"
    assert backfill[f"{ROUTE_REGION} PJM"].end == "2023-06-30T23"
    assert (backfill["electricity/retail-sales"].start, backfill["electricity/retail-sales"].end) == (
        "2023-05",
        "2023-06",
    )


# -------------------------------------------------------------------------------------------- the key


def test_resolve_api_key_prefers_the_environment() -> None:
    assert resolve_api_key({"EIA_API_KEY": f"  {SECRET}\n"}, use_prefect=False) == SECRET
    assert resolve_api_key({"EIA_API_KEY": "  "}, use_prefect=False) is None
    assert resolve_api_key({}, use_prefect=False) is None
    with pytest.raises(EiaApiKeyError, match="set EIA_API_KEY"):
        EiaClient("")


def test_scrub() -> None:
    text = f'GET /v2/x/data/?api_key={SECRET}&frequency=hourly {{"api_key": "{SECRET}"}} api_key=OTHER'
    cleaned = scrub(text, SECRET)
    assert SECRET not in cleaned and "OTHER" not in cleaned and "frequency=hourly" in cleaned


def _exception_text(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc)) + repr(exc) + str(exc)


def test_key_never_in_logs_exceptions_or_warnings(
    eia_cassette_dir: Path, mock: responses.RequestsMock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    url = re.compile(r"https://api\.eia\.gov/.*")
    # a connection error whose text holds the full URL with the key, as urllib3's do
    leak = f"HTTPSConnectionPool(host='api.eia.gov'): Max retries exceeded with url: /v2/x?api_key={SECRET}"
    for _ in range(4):
        mock.add(responses.GET, url, body=requests.ConnectionError(leak))
    client = EiaClient(SECRET, sleep=lambda _s: None)
    texts = [repr(client)]
    with pytest.raises(EiaHttpError) as conn:
        client.fetch(region_query("PJM", ["D"], None, None))
    texts.append(_exception_text(conn.value))
    # a request exception that is not retried, carrying the URL
    mock.add(responses.GET, url, body=requests.exceptions.InvalidURL(f"bad url ?api_key={SECRET}"))
    with pytest.raises(EiaHttpError) as bad:
        client.fetch(region_query("PJM", ["D"], None, None))
    texts.append(_exception_text(bad.value))
    # a 403 whose body echoes the key (the invalid-key recording, with our key substituted)
    body = load_cassette(eia_cassette_dir / "ring-attention-energy" / "eia_collector_demand.yaml")[0].body
    mock.add(responses.GET, url, status=403, body=body.replace("An invalid api_key", f"api_key={SECRET} is invalid"))
    with pytest.raises(EiaApiKeyError) as invalid:
        client.fetch(region_query("PJM", ["D"], None, None))
    texts.append(_exception_text(invalid.value))
    # failed routes become warnings
    for _ in range(4):
        mock.add(responses.GET, url, status=503, json={"error": f"overloaded for api_key={SECRET}"})
    result = EiaSource(client, EiaConfig(respondents=("PJM",), types=("D",), sub_bas=(), states=())).fetch()
    texts += [w.message for w in result.warnings]
    logging.getLogger("urllib3.connectionpool").debug('"GET /v2/x/data/?api_key=%s&offset=0 HTTP/1.1" 200', SECRET)
    texts.append(caplog.text)
    assert result.warnings and all(SECRET not in t for t in texts)
    assert "***" in caplog.text  # the urllib3-style line was scrubbed, not dropped


def test_recorded_fixtures_hold_only_the_mock_key(eia_cassette_dir: Path) -> None:
    keys: set[str] = set()
    files = [p for p in eia_cassette_dir.rglob("*") if p.is_file()]
    assert len(files) >= 11
    for path in files:
        text = path.read_text(encoding="utf-8")
        keys |= set(re.findall(r"api_key=([^&\s'\"]+)", text))
        keys |= set(re.findall(r"\\?\"api_key\\?\"\s*:\s*\\?\"([^\"\\]+)", text))
    assert keys == {"MOCK_API_KEY"}
    test_sources = Path(__file__).parent
    assert all(SECRET not in p.read_text() for p in test_sources.glob("*.py") if p.name != Path(__file__).name)


def test_frames_match_the_registered_tables() -> None:
    from warehouse.tables.electricity import DEMAND_HOURLY, RETAIL_SALES_MONTHLY

    assert [*HOURLY_SCHEMA, "loaded_at"] == DEMAND_HOURLY.column_names
    assert [*MONTHLY_SCHEMA, "loaded_at"] == RETAIL_SALES_MONTHLY.column_names
    assert "PRIMARY KEY" not in DEMAND_HOURLY.ddl() and "PRIMARY KEY" in RETAIL_SALES_MONTHLY.ddl()


# --------------------------------------------------------------------------------------------- warehouse


def _warehouse(path: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(path))
    apply_migrations(con)
    for table in ELECTRICITY_TABLES:  # idempotent: migration 3 creates them
        con.execute(table.ddl())
    return con


def test_repeated_pages_and_reruns_land_each_hour_once(tmp_path: Path, client: EiaClient) -> None:
    rows = _rows_12345()
    source = EiaSource(client, EiaConfig(respondents=("PJM",), types=("D", "NG", "TI"), sub_bas=(), states=()))
    con = _warehouse(tmp_path / "w.duckdb")
    with responses.RequestsMock() as rsps:  # first run: offset 10000 repeats page 2
        PagedServer(rows, override={10_000: rows[5000:10_000]}).install(rsps)
        first = source.fetch(start=date(2024, 1, 1))
    [loaded] = load_electricity(con, "run-1", first)
    assert (loaded.inserted, loaded.updated) == (10_000, 0)
    with responses.RequestsMock() as rsps:  # second run: EIA serves all pages correctly, one value revised
        revised = [dict(r) for r in rows]
        revised[42]["value"] = "1"
        PagedServer(revised).install(rsps)
        second = source.fetch(last=read_last_loaded(con), start=date(2024, 1, 1))
    [loaded] = load_electricity(con, "run-2", second)
    assert (loaded.rows_in, loaded.inserted, loaded.updated) == (12_345, 2_345, 1)
    dupes = con.sql(
        "SELECT count(*) FROM (SELECT 1 FROM core.electricity_demand_hourly "
        "GROUP BY respondent, subba, period_utc, type HAVING count(*) > 1)"
    ).fetchall()[0][0]
    assert dupes == 0
    assert con.sql("SELECT count(*) FROM core.electricity_demand_hourly").fetchall()[0][0] == 12_345
    last = read_last_loaded(con)
    assert last.periods[HOURLY_TABLE] == {("PJM", ""): datetime(2024, 1, 1, tzinfo=UTC) + timedelta(hours=4114)}


def test_key_never_reaches_the_warehouse(tmp_path: Path, mock: responses.RequestsMock) -> None:
    """Warnings of failed routes and the load log of a good one, written to ops.*: no key anywhere."""

    def serve(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        respondent = dict(parse_qsl(urlsplit(str(request.url)).query))["facets[respondent][]"]
        if respondent == "MISO":
            return 500, {}, json.dumps({"error": f"backend failed for api_key={SECRET}"})
        return 200, {}, eia_body(region_rows(respondent, ["D"], ["2024-01-01T00"]), "1")

    mock.add_callback(responses.GET, re.compile(r"https://api\.eia\.gov/.*"), callback=serve)
    con = _warehouse(tmp_path / "w.duckdb")
    result = extract_electricity(
        LastLoaded(),
        start=date(2024, 1, 1),
        api_key=SECRET,
        config=EiaConfig(respondents=("MISO", "TVA"), types=("D",), sub_bas=(), states=()),
        client_factory=lambda key: EiaClient(key, sleep=lambda _s: None),
    )
    load_electricity(con, "run-1", result)
    record_warnings(con, "run-1", ((w.stage, w.subject, w.code, w.message) for w in result.warnings))
    assert result.failed_subjects == [f"{ROUTE_REGION} MISO"]
    dump = "\n".join(
        str(row)
        for table in ("ops.load_log", "ops.warnings", "core.electricity_demand_hourly")
        for row in con.sql(f"SELECT * FROM {table}").fetchall()
    )
    assert "backend failed for api_key=***" in dump and SECRET not in dump


def test_no_key_skips_with_a_warning_unless_required() -> None:
    result = extract_electricity(LastLoaded(), api_key="")
    assert result.frames == {} and [w.code for w in result.warnings] == ["no_api_key"]
    assert "EIA_API_KEY" in result.warnings[0].message
    with pytest.raises(EiaApiKeyError, match="--require-electricity: no EIA API key"):
        extract_electricity(LastLoaded(), api_key="", require=True)


def test_invalid_key_is_a_warning_unless_required(mock: responses.RequestsMock) -> None:
    mock.add(
        responses.GET,
        re.compile(r"https://api\.eia\.gov/.*"),
        status=403,
        json={"error": {"code": "API_KEY_INVALID", "message": "An invalid api_key was supplied."}},
    )
    cfg = EiaConfig(respondents=("PJM",), types=("D",), sub_bas=(), states=())
    result = extract_electricity(LastLoaded(), api_key=SECRET, config=cfg)
    assert [w.code for w in result.warnings] == ["api_key_invalid"] and result.frames == {}
    with pytest.raises(EiaApiKeyError):
        extract_electricity(LastLoaded(), api_key=SECRET, config=cfg, require=True)
