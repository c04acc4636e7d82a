"""The live weather paths (no API key): NOAA nClimDiv files, NCEI daily summaries, Open-Meteo archive.

* nClimDiv: NOAA publishes the state files in one directory,
  https://www.ncei.noaa.gov/pub/data/cirs/climdiv/, renamed each month (`climdiv-hddcst-v1.0.0-YYYYMMDD`);
  the newest of each element is found in the directory listing and parsed by the same `climdiv` parser as
  the file path.
* NCEI Access Data Service (https://www.ncei.noaa.gov/support/access-data-service-api-user-documentation):
  `dataset=daily-summaries&stations=...&dataTypes=TMAX,TMIN&format=json&units=metric` returns a JSON array
  of records `{"DATE": "2023-01-01", "STATION": "USW00094728", "TMAX": "12.2", "TMIN": "5.6"}` (°C with
  units=metric, strings, a missing element absent). Station values are combined into zones with the station
  table's weights and pass through `zone_daily.parse_zone_rows`, exactly as a zone file does.
* Open-Meteo historical archive (https://open-meteo.com/en/docs/historical-weather-api): `daily` arrays
  `time`, `temperature_2m_max`, `temperature_2m_min` (°C) for one coordinate.

Failures: a DNS failure or a refused connection means no network or a wrong host, so it is not retried: it
fails at once with a `NoaaSourceError` naming NOAA and the cause. Timeouts, HTTP 429 and 5xx are retried with
exponential backoff and full jitter, honouring Retry-After, within a total time budget: the policy every
network source shares (`flows.sources.retry`).
"""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import polars as pl
import requests

from flows.sources.noaa import climdiv, zone_daily
from flows.sources.retry import Retryable, RetryPolicy, call, http_get
from warehouse.errors import JevonsSourceError

log = logging.getLogger(__name__)

CLIMDIV_URL = "https://www.ncei.noaa.gov/pub/data/cirs/climdiv/"
NCEI_DATA_URL = "https://www.ncei.noaa.gov/access/services/data/v1"
OPEN_METEO_URL = "https://archive-api.open-meteo.com/v1/archive"
_CLIMDIV_NAME = re.compile(r"climdiv-(hdd|cdd|tmp)cst-v(\d+\.\d+\.\d+)-(\d{8})")


class NoaaSourceError(JevonsSourceError):
    """NOAA (or Open-Meteo) could not be reached or answered in a way no retry fixed."""


@dataclass
class WeatherClient:
    """HTTP access with bounded retries; `session`, `sleep`, `clock` and `rng` are injectable for tests."""

    session: requests.Session | None = None
    max_attempts: int = 5
    backoff_s: float = 1.0
    max_backoff_s: float = 30.0
    budget_s: float = 120.0
    jitter: tuple[float, float] = (0.0, 1.0)
    """Full jitter: a wait drawn from [0, backoff] (flows.sources.retry.RetryPolicy)."""
    timeout_s: tuple[float, float] = (10.0, 120.0)
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    rng: random.Random | None = None

    def __post_init__(self) -> None:
        self.session = self.session or requests.Session()
        self.rng = self.rng or random.Random()
        self.requests_sent = 0

    def get(self, url: str, params: dict[str, str] | None = None, what: str = "NOAA") -> requests.Response:
        """One GET with retries; raises NoaaSourceError naming `what`, the URL and the cause."""
        assert self.session is not None and self.rng is not None
        policy = RetryPolicy(self.max_attempts, self.backoff_s, self.max_backoff_s, self.budget_s, self.jitter)

        def give_up(_what: str, attempts: int, last: Retryable) -> NoaaSourceError:
            return NoaaSourceError(f"{what} {url}: gave up after {attempts} attempt(s); last error: {last.message}")

        return call(
            lambda: self._attempt(url, params, what),
            policy,
            what=f"{what} {url}",
            give_up=give_up,
            sleep=self.sleep,
            clock=self.clock,
            rng=self.rng,
            log=log,
        )

    def _attempt(self, url: str, params: dict[str, str] | None, what: str) -> requests.Response:
        assert self.session is not None
        self.requests_sent += 1
        response = http_get(
            self.session,
            url,
            params=params,
            timeout_s=self.timeout_s,
            unreachable=lambda cause: NoaaSourceError(f"{what} {url}: {cause}; check the network (not retried)"),
            failed=lambda message: NoaaSourceError(f"{what} {url}: request failed: {message}"),
        )
        if response.status_code == 200:
            return response
        if response.status_code == 429 or response.status_code >= 500:
            raise Retryable(f"HTTP {response.status_code}", response.status_code, _retry_after(response))
        raise NoaaSourceError(f"{what} {url}: HTTP {response.status_code}: {response.text[:200]}")

    # -- nClimDiv -----------------------------------------------------------------------------------------

    def newest_climdiv_names(self) -> dict[str, str]:
        """{'hdd'|'cdd'|'tmp': newest file name} from the nClimDiv directory listing (by version, then date)."""
        listing = self.get(CLIMDIV_URL, what="NOAA nClimDiv listing").text
        newest: dict[str, tuple[tuple[int, ...], str, str]] = {}
        for match in _CLIMDIV_NAME.finditer(listing):
            element, version, stamp = match.groups()
            rank = (tuple(int(x) for x in version.split(".")), stamp, match.group(0))
            if element not in newest or rank > newest[element]:
                newest[element] = rank
        missing = sorted({"hdd", "cdd", "tmp"} - set(newest))
        if missing:
            raise NoaaSourceError(f"NOAA nClimDiv listing {CLIMDIV_URL}: no climdiv-{missing[0]}cst-* file in it")
        return {element: rank[2] for element, rank in newest.items()}

    def fetch_climdiv(self) -> tuple[list[climdiv.ClimdivParse], str]:
        """The newest HDD, CDD and temperature state files, parsed; and the source label (with vintages)."""
        names = self.newest_climdiv_names()
        parses = []
        for element in ("cdd", "hdd", "tmp"):
            url = CLIMDIV_URL + names[element]
            parses.append(climdiv.parse_climdiv_text(self.get(url, what="NOAA nClimDiv").text, url))
        vintages = sorted({m.group(0).split("-", 2)[2] for m in map(_CLIMDIV_NAME.search, names.values()) if m})
        return parses, f"{climdiv.SOURCE} {','.join(vintages)}"

    # -- daily station temperatures -----------------------------------------------------------------------

    def fetch_daily_summaries(self, station_ids: list[str], start: date, end: date) -> pl.DataFrame:
        """NCEI daily summaries TMAX/TMIN (°C) for stations: (station_id, date, tmax_c, tmin_c) strings."""
        params = {
            "dataset": "daily-summaries",
            "stations": ",".join(station_ids),
            "dataTypes": "TMAX,TMIN",
            "startDate": start.isoformat(),
            "endDate": end.isoformat(),
            "format": "json",
            "units": "metric",
        }
        body = _json(self.get(NCEI_DATA_URL, params, what="NOAA NCEI daily-summaries"), "NOAA NCEI daily-summaries")
        if not isinstance(body, list):
            raise NoaaSourceError("NOAA NCEI daily-summaries: response is not a JSON array of records")
        schema = {"STATION": pl.String, "DATE": pl.String, "TMAX": pl.String, "TMIN": pl.String}
        rows = [{k: (None if r.get(k) is None else str(r.get(k))) for k in schema} for r in body if isinstance(r, dict)]
        frame = pl.DataFrame(rows, schema=schema) if rows else pl.DataFrame(schema=schema)
        return frame.select(
            pl.col("STATION").alias("station_id"),
            pl.col("DATE").alias("date"),
            pl.col("TMAX").alias("tmax_c"),
            pl.col("TMIN").alias("tmin_c"),
        )

    def fetch_open_meteo(
        self, latitude: float, longitude: float, start: date, end: date, timezone: str = "UTC"
    ) -> pl.DataFrame:
        """Open-Meteo archive daily max/min (°C) at one point: (date, tmax_c, tmin_c) as strings."""
        params = {
            "latitude": f"{latitude:.4f}",
            "longitude": f"{longitude:.4f}",
            "daily": "temperature_2m_max,temperature_2m_min",
            "start_date": start.isoformat(),
            "end_date": end.isoformat(),
            "timezone": timezone,
        }
        body = _json(self.get(OPEN_METEO_URL, params, what="Open-Meteo archive"), "Open-Meteo archive")
        daily = body.get("daily") if isinstance(body, dict) else None
        if not isinstance(daily, dict) or not all(
            k in daily for k in ("time", "temperature_2m_max", "temperature_2m_min")
        ):
            raise NoaaSourceError("Open-Meteo archive: response has no daily time/temperature_2m_max/min arrays")
        columns = [daily["time"], daily["temperature_2m_max"], daily["temperature_2m_min"]]
        if len({len(c) for c in columns}) != 1:
            raise NoaaSourceError("Open-Meteo archive: daily arrays differ in length")
        return pl.DataFrame(
            {
                "date": [str(v) for v in columns[0]],
                "tmax_c": [None if v is None else str(v) for v in columns[1]],
                "tmin_c": [None if v is None else str(v) for v in columns[2]],
            },
            schema={"date": pl.String, "tmax_c": pl.String, "tmin_c": pl.String},
        )

    def fetch_zones(self, stations: pl.DataFrame, iso: str, start: date, end: date) -> zone_daily.ZoneDaily:
        """core.weather_daily rows for one ISO's zones from NCEI station data, through the zone-file parser."""
        mine = stations.filter(pl.col("iso") == iso)
        if mine.is_empty():
            raise NoaaSourceError(f"NOAA NCEI daily-summaries: no stations for ISO {iso!r} in the station table")
        raw = self.fetch_daily_summaries(sorted(mine["station_id"].unique().to_list()), start, end)
        rows = zone_daily.parse_zone_rows(
            stations_to_zones(raw, mine), f"noaa_ncei_daily_summaries:{iso}"
        ).with_columns(pl.lit(iso).alias("iso"))
        return zone_daily.resolve_zone_rows([rows])


def stations_to_zones(raw: pl.DataFrame, stations: pl.DataFrame) -> pl.DataFrame:
    """Station TMAX/TMIN (strings) -> zone rows `date,zone,tmax_c,tmin_c` (strings), weights renormalised
    over the stations reporting that day (the zone files' construction)."""
    typed = raw.with_columns(
        pl.col("date").str.slice(0, 10),
        *[pl.col(c).str.strip_chars().cast(pl.Float64, strict=False) for c in ("tmax_c", "tmin_c")],
    ).join(stations.select("station_id", "zone", "weight"), on="station_id", how="inner")
    out = typed.group_by("zone", "date").agg(
        *[
            pl.when(pl.col(c).count() > 0)
            .then((pl.col(c) * pl.col("weight")).sum() / pl.col("weight").filter(pl.col(c).is_not_null()).sum())
            .alias(c)
            for c in ("tmax_c", "tmin_c")
        ]
    )
    return out.sort("zone", "date").select("date", "zone", *[pl.col(c).cast(pl.String) for c in ("tmax_c", "tmin_c")])


def _json(response: requests.Response, what: str) -> Any:
    try:
        return response.json()
    except ValueError:
        raise NoaaSourceError(f"{what}: HTTP 200 with a body that is not JSON") from None


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return None if value is None else max(0.0, float(value))
    except ValueError:
        return None
