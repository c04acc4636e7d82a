"""`--weather-from DIR`: every weather file in a folder, recognised by content, as one SourceResult.

Recognised layouts: NOAA nClimDiv state files (first line a fixed-width nClimDiv record; element 02, 25 or
26), zone daily temperature files (header `date,zone,tmax_c,tmin_c`) and the zone station table (header
`iso,zone,station_id,weight,station_name`, needed whenever zone files are present). Anything else is a
`JevonsInputError` naming the file and the layouts accepted: a file never silently skipped.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import polars as pl

from flows.sources.base import SourceResult, SourceWarning
from flows.sources.noaa import climdiv, zone_daily
from flows.sources.noaa.client import WeatherClient
from warehouse.errors import JevonsInputError

SOURCE_NAME = "noaa_weather_files"
DEGREE_DAYS_TABLE = "core.weather_degree_days_monthly"
DAILY_TABLE = "core.weather_daily"
LAYOUTS = (
    "NOAA nClimDiv state file (climdiv-hddcst/cddcst/tmpcst-*)",
    f"zone daily temperature CSV (header {','.join(zone_daily.HEADER)})",
    f"zone station table CSV (header {','.join(zone_daily.STATION_HEADER)})",
)
_VINTAGE = re.compile(r"v\d+\.\d+\.\d+-\d{8}")


class UnknownWeatherFileError(JevonsInputError):
    """A file in the weather folder matches no known layout."""


def _first_line(path: Path) -> str:
    with path.open("rb") as fh:
        return fh.readline(400).decode("utf-8-sig", errors="replace").rstrip("\r\n")


def classify(path: Path) -> str:
    """'climdiv', 'zone_daily' or 'stations' for a file, judged by its first line; raises for anything else."""
    first = _first_line(path)
    if climdiv.looks_like_climdiv(first):
        return "climdiv"
    header = [c.strip() for c in first.split(",")]
    if header == list(zone_daily.HEADER):
        return "zone_daily"
    if header == list(zone_daily.STATION_HEADER):
        return "stations"
    raise UnknownWeatherFileError(
        f"{path}: not a recognised weather file (first line {first[:60]!r}); accepted layouts: " + "; ".join(LAYOUTS)
    )


def weather_from_dir(directory: Path | str) -> SourceResult:
    """Read every file under `directory` (recursively, hidden files excepted) into weather core-table frames.

    Returns frames for core.weather_degree_days_monthly and core.weather_daily (either may be empty) and the
    warnings met: unpublished months, skipped aggregate codes, overlapping or blank zone-days, missing days.
    """
    root = Path(directory)
    if not root.is_dir():
        raise JevonsInputError(f"{root}: --weather-from must be a directory of NOAA weather files")
    files = sorted(p for p in root.rglob("*") if p.is_file() and not p.name.startswith("."))
    kinds = {p: classify(p) for p in files}
    warnings: list[SourceWarning] = []

    parses = []
    vintages = set()
    for path in (p for p, k in kinds.items() if k == "climdiv"):
        parsed = climdiv.parse_climdiv_file(path)
        parses.append(parsed)
        match = _VINTAGE.search(path.name)
        vintages.add(match.group(0) if match else path.name)
        if parsed.unpublished_values:
            warnings.append(
                SourceWarning(
                    "weather",
                    path.name,
                    "unpublished_months",
                    f"{parsed.unpublished_values} values not yet published by NOAA (NULL)",
                )
            )
    parses.sort(key=lambda p: p.element)
    source = f"{climdiv.SOURCE} {','.join(sorted(vintages))}" if vintages else climdiv.SOURCE
    degree_days = climdiv.combine_elements(parses, source)

    zone_paths = [p for p, k in kinds.items() if k == "zone_daily"]
    station_paths = [p for p, k in kinds.items() if k == "stations"]
    if zone_paths and not station_paths:
        raise JevonsInputError(
            f"{root}: zone temperature files but no station table ({','.join(zone_daily.STATION_HEADER)}); "
            "it tells which ISO each zone belongs to"
        )
    if station_paths:
        stations = pl.concat([zone_daily.read_stations(p) for p in station_paths]).unique(maintain_order=True)
        daily = zone_daily.read_zone_files(zone_paths, stations)
        daily_frame, daily_warnings = daily.frame, daily.warnings
    else:
        from warehouse.tables.weather import WEATHER_DAILY

        daily_frame, daily_warnings = pl.DataFrame(schema=WEATHER_DAILY.polars_schema(exclude=("loaded_at",))), []
    warnings += daily_warnings
    if not files:
        warnings.append(SourceWarning("weather", str(root), "empty_folder", "no weather files in the folder"))
    return SourceResult(
        source=SOURCE_NAME,
        frames={DEGREE_DAYS_TABLE: degree_days, DAILY_TABLE: daily_frame},
        warnings=warnings,
    )


def weather_from_noaa(
    client: WeatherClient | None = None,
    stations: pl.DataFrame | None = None,
    isos: tuple[str, ...] = (),
    start: date | None = None,
    end: date | None = None,
) -> SourceResult:
    """The live path: the newest nClimDiv files, plus NCEI daily summaries for `isos`' zones between `start`
    and `end` when a station table (zone_daily.read_stations) is given. Same frames and warnings as
    `weather_from_dir`; network failures raise NoaaSourceError (JevonsSourceError, exit 1)."""
    from warehouse.tables.weather import WEATHER_DAILY

    client = client or WeatherClient()
    parses, source = client.fetch_climdiv()
    warnings = [
        SourceWarning(
            "weather",
            "noaa_nclimdiv",
            "unpublished_months",
            f"{p.element}: {p.unpublished_values} values not yet published by NOAA (NULL)",
        )
        for p in parses
        if p.unpublished_values
    ]
    daily_parts: list[pl.DataFrame] = []
    if stations is not None and isos:
        if start is None or end is None:
            raise JevonsInputError("weather_from_noaa: start and end dates are needed for daily zone temperatures")
        for iso in isos:
            fetched = client.fetch_zones(stations, iso, start, end)
            daily_parts.append(fetched.frame)
            warnings += fetched.warnings
    daily = (
        pl.concat(daily_parts)
        if daily_parts
        else pl.DataFrame(schema=WEATHER_DAILY.polars_schema(exclude=("loaded_at",)))
    )
    return SourceResult(
        source="noaa_live",
        frames={DEGREE_DAYS_TABLE: climdiv.combine_elements(parses, source), DAILY_TABLE: daily},
        warnings=warnings,
    )
