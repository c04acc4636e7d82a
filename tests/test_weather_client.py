"""The live NOAA / Open-Meteo paths, replayed with `responses` on bodies built in the documented layouts.

Layouts: nClimDiv records as in NOAA's state-readme (the same fixed-width lines as the real files); the NCEI
Access Data Service JSON array of {DATE, STATION, TMAX, TMIN} strings (units=metric: °C); Open-Meteo's
archive `daily` arrays. Every body goes through the parser the file path uses.
"""

from __future__ import annotations

import random
from datetime import date
from pathlib import Path

import polars as pl
import pytest
import requests
import responses

from flows.sources.noaa import climdiv, zone_daily
from flows.sources.noaa.client import CLIMDIV_URL, NCEI_DATA_URL, OPEN_METEO_URL, NoaaSourceError, WeatherClient


def record(code: str, element: str, year: int, values: list[float]) -> str:
    return f"{code}0{element}{year}" + "".join(f"{v:7.2f}" if element == "02" else f"{v:6.0f}." for v in values)


LISTING = """<html><body><a href="climdiv-hddcst-v1.0.0-20250805">climdiv-hddcst-v1.0.0-20250805</a>
<a href="climdiv-hddcst-v1.0.0-20250905">climdiv-hddcst-v1.0.0-20250905</a>
<a href="climdiv-cddcst-v1.0.0-20250905">x</a> <a href="climdiv-tmpcst-v1.0.0-20250905">x</a>
<a href="climdiv-pcpnst-v1.0.0-20250905">x</a></body></html>"""


def client(**kw: object) -> WeatherClient:
    slept: list[float] = []
    c = WeatherClient(sleep=slept.append, rng=random.Random(0), **kw)  # type: ignore[arg-type]
    c.slept = slept  # type: ignore[attr-defined]
    return c


@responses.activate
def test_climdiv_newest_files_through_the_file_parser() -> None:
    hdd = [record("041", "25", 2024, [300, 200, 100, 20, 0, 0, 0, 0, 0, 10, 150, 280])]
    hdd.append(record("041", "25", 2025, [310, 210, 90, 25, 1, 0, 0, 0, -9999, -9999, -9999, -9999]))
    cdd = [record("041", "26", 2024, [5, 9, 40, 150, 400, 550, 570, 660, 430, 300, 100, 36])]
    tmp = [record("041", "02", 2024, [50.1, 55.2, 62.0, 68.0, 76.0, 83.0, 85.0, 86.0, 80.0, 71.0, 60.0, 52.0])]
    responses.get(CLIMDIV_URL, body=LISTING)
    for name, lines in (("hdd", hdd), ("cdd", cdd), ("tmp", tmp)):
        responses.get(f"{CLIMDIV_URL}climdiv-{name}cst-v1.0.0-20250905", body="\n".join(lines) + "\n")
    c = client()
    parses, source = c.fetch_climdiv()
    assert source == "noaa_nclimdiv v1.0.0-20250905"
    frame = climdiv.combine_elements(parses, source)
    tx = frame.filter(pl.col("month") == date(2024, 8, 1)).row(0, named=True)
    assert (tx["area"], tx["hdd_degf_days"], tx["cdd_degf_days"], tx["mean_temp_f"]) == ("TX", 0.0, 660.0, 86.0)
    sep25 = frame.filter(pl.col("month") == date(2025, 9, 1))
    assert sep25.is_empty()  # -9999: unpublished, not zero
    assert frame.filter(pl.col("month") == date(2025, 1, 1))["hdd_degf_days"][0] == 310.0


@responses.activate
def test_ncei_daily_summaries_become_zone_rows(tmp_path: Path) -> None:
    stations = pl.DataFrame(
        {
            "iso": ["ERCOT", "ERCOT", "ERCOT"],
            "zone": ["South", "South", "Houston"],
            "station_id": ["USW00012924", "USW00012959", "USW00012960"],
            "weight": [0.6, 0.4, 1.0],
            "station_name": ["a", "b", "c"],
        }
    )
    body = [
        {"DATE": "2024-01-01", "STATION": "USW00012924", "TMAX": "20.0", "TMIN": "10.0"},
        {"DATE": "2024-01-01", "STATION": "USW00012959", "TMAX": "25.0", "TMIN": "15.0"},
        {"DATE": "2024-01-01", "STATION": "USW00012960", "TMAX": " 18.3", "TMIN": "7.2"},
        {"DATE": "2024-01-02", "STATION": "USW00012924", "TMAX": "21.0", "TMIN": "11.0"},  # McAllen missing
        {"DATE": "2024-01-02", "STATION": "USW00012960", "TMAX": "19.4"},  # TMIN not reported
    ]
    responses.get(NCEI_DATA_URL, json=body)
    out = client().fetch_zones(stations, "ERCOT", date(2024, 1, 1), date(2024, 1, 2))
    call = responses.calls[0].request
    assert "dataset=daily-summaries" in call.url and "units=metric" in call.url and "dataTypes=TMAX%2CTMIN" in call.url
    rows = {(r["zone"], r["date"]): r for r in out.frame.iter_rows(named=True)}
    south = rows[("South", date(2024, 1, 1))]
    assert south["tmax_c"] == pytest.approx(0.6 * 20 + 0.4 * 25) and south["tmin_c"] == pytest.approx(12.0)
    assert rows[("South", date(2024, 1, 2))]["tmax_c"] == pytest.approx(21.0)  # weights renormalised
    assert rows[("Houston", date(2024, 1, 2))]["tmean_c"] is None
    assert any(w.code == "blank_values" for w in out.warnings)
    assert set(out.frame["source"]) == {"noaa_ncei_daily_summaries:ERCOT"}
    assert out.frame.schema == zone_daily.resolve_zone_rows([]).frame.schema


@responses.activate
def test_open_meteo_archive() -> None:
    responses.get(
        OPEN_METEO_URL,
        json={
            "latitude": 29.98,
            "longitude": -95.34,
            "daily_units": {"temperature_2m_max": "°C"},
            "daily": {
                "time": ["2024-01-01", "2024-01-02"],
                "temperature_2m_max": [18.1, None],
                "temperature_2m_min": [7.0, 8.5],
            },
        },
    )
    frame = client().fetch_open_meteo(29.98, -95.34, date(2024, 1, 1), date(2024, 1, 2), "America/Chicago")
    parsed = zone_daily.parse_zone_rows(
        frame.with_columns(pl.lit("Houston").alias("zone")).select("date", "zone", "tmax_c", "tmin_c"),
        "open_meteo_archive:Houston",
    )
    assert parsed.select("tmax_c", "tmin_c").rows() == [(18.1, 7.0), (None, 8.5)]
    assert "timezone=America%2FChicago" in responses.calls[0].request.url


@responses.activate
def test_5xx_and_429_are_retried_with_backoff_then_succeed() -> None:
    responses.get(CLIMDIV_URL, status=503)
    responses.get(CLIMDIV_URL, status=429, headers={"Retry-After": "2"})
    responses.get(CLIMDIV_URL, body=LISTING)
    c = client(backoff_s=1.0)
    assert c.newest_climdiv_names()["hdd"] == "climdiv-hddcst-v1.0.0-20250905"
    assert c.requests_sent == 3
    slept = c.slept  # type: ignore[attr-defined]
    assert len(slept) == 2 and 0 <= slept[0] <= 1.0 and slept[1] >= 2.0


@responses.activate
def test_retries_stop_at_the_budget() -> None:
    responses.get(CLIMDIV_URL, status=500)
    now = [0.0]

    def sleep(s: float) -> None:
        now[0] += s

    c = WeatherClient(
        sleep=sleep,
        clock=lambda: now[0],
        rng=random.Random(1),
        max_attempts=50,
        backoff_s=4.0,
        max_backoff_s=8.0,
        budget_s=20.0,
    )
    gave_up = r"NOAA nClimDiv listing .*gave up after \d+ attempt\(s\); last error: HTTP 500"
    with pytest.raises(NoaaSourceError, match=gave_up):
        c.newest_climdiv_names()
    assert now[0] <= 20.0 and c.requests_sent < 50


@pytest.mark.parametrize(
    ("error", "cause"),
    [
        (
            requests.ConnectionError("Failed to resolve 'www.ncei.noaa.gov' ([Errno -3] NameResolutionError)"),
            "host name not resolved",
        ),
        (requests.ConnectionError("[Errno 111] Connection refused"), "connection refused"),
    ],
)
@responses.activate
def test_dns_and_refused_fail_fast(error: Exception, cause: str) -> None:
    responses.get(NCEI_DATA_URL, body=error)
    c = client()
    with pytest.raises(NoaaSourceError, match=f"NOAA NCEI daily-summaries .*{cause}.*not retried"):
        c.fetch_daily_summaries(["USW00094728"], date(2024, 1, 1), date(2024, 1, 2))
    assert c.requests_sent == 1 and c.slept == []  # type: ignore[attr-defined]


@responses.activate
def test_client_errors_are_not_retried() -> None:
    responses.get(NCEI_DATA_URL, status=400, body="bad station")
    c = client()
    with pytest.raises(NoaaSourceError, match="HTTP 400: bad station"):
        c.fetch_daily_summaries(["X"], date(2024, 1, 1), date(2024, 1, 2))
    assert c.requests_sent == 1


@responses.activate
def test_live_source_result() -> None:
    from flows.sources.noaa.source import DAILY_TABLE, DEGREE_DAYS_TABLE, weather_from_noaa

    responses.get(CLIMDIV_URL, body=LISTING)
    for name, element in (("hdd", "25"), ("cdd", "26"), ("tmp", "02")):
        line = record("110", element, 2025, [10.0] * 8 + [-99.9 if element == "02" else -9999] * 4)
        responses.get(f"{CLIMDIV_URL}climdiv-{name}cst-v1.0.0-20250905", body=line + "\n")
    responses.get(NCEI_DATA_URL, json=[{"DATE": "2025-01-01", "STATION": "S1", "TMAX": "1.0", "TMIN": "-1.0"}])
    stations = pl.DataFrame(
        {"iso": ["NYISO"], "zone": ["NYC"], "station_id": ["S1"], "weight": [1.0], "station_name": ["Central Park"]}
    )
    res = weather_from_noaa(client(), stations, ("NYISO",), date(2025, 1, 1), date(2025, 1, 1))
    dd = res.frames[DEGREE_DAYS_TABLE]
    assert dd.height == 8 and set(dd["area"]) == {"US48"} and dd["source"][0] == "noaa_nclimdiv v1.0.0-20250905"
    assert res.frames[DAILY_TABLE].select("iso", "zone", "tmean_c").rows() == [("NYISO", "NYC", 0.0)]
    assert sum(w.code == "unpublished_months" for w in res.warnings) == 3
