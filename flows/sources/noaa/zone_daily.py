"""Daily temperature per grid weather zone (`date,zone,tmax_c,tmin_c`) and the zone station table.

The files (../shared/data/weather/zone_temp_daily/, see its PROVENANCE) give each zone's daily maximum and
minimum in °C, built from NOAA GHCN-Daily airport stations weighted as in `iso_zone_weather_stations.csv`
(`iso,zone,station_id,weight,station_name`). A file does not say its ISO and zone names repeat across ISOs
(ERCOT and ISO-NE both have a `North`), so a file's ISO is the one whose station-table zones contain all the
file's zones, with the file-name prefix (pjm_, ercot_, caiso_...) breaking a tie.

Overlaps are resolved deterministically: the same (iso, zone, date) from several files (a main file and a
quarterly one) merges when the values agree; when they differ the file whose data reaches later wins (ties:
the later file name), and the count is a recorded warning. Blank values and missing days are warnings, never
crashes (e.g. ERCOT Northeast is blank on 2023-01-09 and absent on 2022-05-31).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from flows.sources.base import SourceWarning
from warehouse.errors import JevonsInputError

HEADER = ("date", "zone", "tmax_c", "tmin_c")
STATION_HEADER = ("iso", "zone", "station_id", "weight", "station_name")
STAGE = "weather"
_PREFIXES = {
    "pjm": "PJM",
    "ercot": "ERCOT",
    "caiso": "CAISO",
    "miso": "MISO",
    "nyiso": "NYISO",
    "neiso": "NEISO",
    "isone": "NEISO",
}


class ZoneFileError(JevonsInputError):
    """A zone temperature or station file that cannot be read; names the file, line and column."""

    def __init__(self, file: Path | str, problem: str, line: int | None = None, column: str | None = None) -> None:
        self.file = str(file)
        where = self.file + (f", line {line}" if line is not None else "") + (f", column '{column}'" if column else "")
        super().__init__(f"{where}: {problem}")


@dataclass(frozen=True)
class ZoneDaily:
    """core.weather_daily rows (without loaded_at) and the warnings met on the way."""

    frame: pl.DataFrame
    warnings: list[SourceWarning]


def read_header(path: Path) -> list[str]:
    """The first line of a CSV file split on commas (for recognising layouts by content)."""
    with path.open("r", encoding="utf-8-sig", errors="replace") as fh:
        return [c.strip() for c in fh.readline().rstrip("\r\n").split(",")]


def read_stations(path: Path) -> pl.DataFrame:
    """The station table, validated: known header, weights in (0, 1] that sum to 1 per (iso, zone)."""
    if read_header(path) != list(STATION_HEADER):
        raise ZoneFileError(path, f"expected header {','.join(STATION_HEADER)}", 1)
    frame = pl.read_csv(
        path,
        schema={
            "iso": pl.String,
            "zone": pl.String,
            "station_id": pl.String,
            "weight": pl.Float64,
            "station_name": pl.String,
        },
    )
    bad = frame.with_row_index("line", offset=2).filter(
        pl.col("weight").is_null()
        | (pl.col("weight") <= 0)
        | (pl.col("weight") > 1)
        | pl.col("iso").is_null()
        | pl.col("zone").is_null()
        | pl.col("station_id").is_null()
    )
    if not bad.is_empty():
        raise ZoneFileError(path, "blank iso/zone/station_id or a weight outside (0, 1]", int(bad["line"][0]), "weight")
    sums = frame.group_by("iso", "zone").agg(pl.col("weight").sum()).filter((pl.col("weight") - 1).abs() > 1e-9)
    if not sums.is_empty():
        iso, zone, total = sums.row(0)
        raise ZoneFileError(path, f"weights of {iso} {zone} sum to {total}, not 1", None, "weight")
    return frame


def _read_one(path: Path) -> pl.DataFrame:
    if read_header(path) != list(HEADER):
        raise ZoneFileError(path, f"expected header {','.join(HEADER)}", 1)
    return parse_zone_rows(pl.read_csv(path, schema=dict.fromkeys(HEADER, pl.String())), path.name)


def parse_zone_rows(raw: pl.DataFrame, name: str) -> pl.DataFrame:
    """Typed (date, zone, tmax_c, tmin_c, file) rows from string columns; the file and live paths share it.

    Line numbers in errors count the header as line 1, as in the file.
    """
    frame = raw.with_row_index("line", offset=2).with_columns(
        pl.col("date").str.strptime(pl.Date, "%Y-%m-%d", strict=False).alias("date_parsed"),
        *[pl.col(c).str.strip_chars().cast(pl.Float64, strict=False).alias(f"{c}_v") for c in ("tmax_c", "tmin_c")],
    )
    bad_date = frame.filter(pl.col("date_parsed").is_null())
    if not bad_date.is_empty():
        raise ZoneFileError(name, f"'{bad_date['date'][0]}' is not a YYYY-MM-DD date", int(bad_date["line"][0]), "date")
    for c in ("tmax_c", "tmin_c"):
        bad = frame.filter(pl.col(f"{c}_v").is_null() & pl.col(c).is_not_null() & (pl.col(c).str.strip_chars() != ""))
        if not bad.is_empty():
            raise ZoneFileError(name, f"'{bad[c][0]}' is not a number", int(bad["line"][0]), c)
    blank_zone = frame.filter(pl.col("zone").is_null())
    if not blank_zone.is_empty():
        raise ZoneFileError(name, "zone is blank", int(blank_zone["line"][0]), "zone")
    return frame.select(
        pl.col("date_parsed").alias("date"),
        "zone",
        pl.col("tmax_c_v").alias("tmax_c"),
        pl.col("tmin_c_v").alias("tmin_c"),
        pl.lit(name).alias("file"),
    )


def _iso_of(path: Path, zones: set[str], stations: pl.DataFrame) -> str:
    by_iso = {iso: set(z) for iso, z in stations.group_by("iso").agg(pl.col("zone")).iter_rows()}
    candidates = sorted(iso for iso, known in by_iso.items() if zones <= known)
    prefix = _PREFIXES.get(path.name.split("_", 1)[0].lower())
    if len(candidates) == 1:
        return candidates[0]
    if prefix is not None and prefix in candidates:
        return prefix
    unknown = sorted(zones - set().union(*by_iso.values()))
    detail = f"zones not in the station table: {', '.join(unknown)}" if unknown else f"zones fit {candidates}"
    raise ZoneFileError(path, f"cannot tell which ISO the file belongs to ({detail})", None, "zone")


def read_zone_files(paths: list[Path], stations: pl.DataFrame) -> ZoneDaily:
    """Read zone daily files into core.weather_daily rows, resolving overlaps; see the module docstring."""
    warnings: list[SourceWarning] = []
    parts = []
    for path in sorted(paths):
        part = _read_one(path)
        if part.is_empty():
            warnings.append(SourceWarning(STAGE, path.name, "empty_file", "zone temperature file has no rows"))
            continue
        parts.append(
            part.with_columns(pl.lit(_iso_of(path, set(part["zone"].unique().to_list()), stations)).alias("iso"))
        )
    result = resolve_zone_rows(parts)
    return ZoneDaily(result.frame, warnings + result.warnings)


def resolve_zone_rows(parts: list[pl.DataFrame]) -> ZoneDaily:
    """Merge typed zone rows (date, zone, tmax_c, tmin_c, file, iso) from several vintages into table rows."""
    from warehouse.tables.weather import WEATHER_DAILY  # late import: the table registry is heavier

    schema = WEATHER_DAILY.polars_schema(exclude=("loaded_at",))
    warnings: list[SourceWarning] = []
    frames = [p.with_columns(pl.col("date").max().alias("reach")) for p in parts if not p.is_empty()]
    if not frames:
        return ZoneDaily(pl.DataFrame(schema=schema), warnings)
    rows = pl.concat(frames)
    key = ["iso", "zone", "date"]
    # Later vintage first: the file reaching later, then the later name; the first row per key wins.
    ranked = rows.sort([*key, "reach", "file"], descending=[False, False, False, True, True], maintain_order=True)
    distinct = ranked.unique([*key, "tmax_c", "tmin_c"], keep="first", maintain_order=True)
    conflicts = distinct.group_by(key).len().filter(pl.col("len") > 1)
    if not conflicts.is_empty():
        warnings.append(
            SourceWarning(
                STAGE,
                "zone_temp_daily",
                "revised_values",
                f"{conflicts.height} zone-days differ between files; kept the file whose data reaches later "
                f"(first: {conflicts['iso'][0]} {conflicts['zone'][0]} {conflicts['date'][0]})",
            )
        )
    best = distinct.unique(key, keep="first", maintain_order=True)
    blank = best.filter(pl.col("tmax_c").is_null() | pl.col("tmin_c").is_null())
    if not blank.is_empty():
        shown = ", ".join(f"{i} {z} {d}" for i, z, d in blank.select(key).head(5).iter_rows())
        warnings.append(
            SourceWarning(
                STAGE,
                "zone_temp_daily",
                "blank_values",
                f"{blank.height} zone-days with a blank tmax_c or tmin_c: {shown}",
            )
        )
    warnings += _gap_warnings(best)
    out = best.with_columns(
        ((pl.col("tmax_c") + pl.col("tmin_c")) / 2.0).alias("tmean_c"),
        pl.when(pl.col("file").str.contains(":"))
        .then(pl.col("file"))
        .otherwise("zone_temp_daily:" + pl.col("file"))
        .alias("source"),
    )
    return ZoneDaily(out.select(list(schema)).cast(schema).sort(key), warnings)


def _gap_warnings(rows: pl.DataFrame) -> list[SourceWarning]:
    """A warning per ISO naming the zone-days missing inside each zone's own date range."""
    spans = (
        rows.group_by("iso", "zone")
        .agg(pl.col("date").min().alias("first"), pl.col("date").max().alias("last"), pl.len().alias("n"))
        .with_columns(((pl.col("last") - pl.col("first")).dt.total_days() + 1 - pl.col("n")).alias("missing"))
    )
    gaps = spans.filter(pl.col("missing") > 0)
    if gaps.is_empty():
        return []
    full = gaps.select("iso", "zone", pl.date_ranges("first", "last").alias("date")).explode("date")
    absent = full.join(rows.select("iso", "zone", "date"), on=["iso", "zone", "date"], how="anti").sort(
        "iso", "zone", "date"
    )
    out = []
    for (iso,), part in absent.group_by(["iso"], maintain_order=True):
        shown = ", ".join(f"{z} {d}" for z, d in part.select("zone", "date").head(5).iter_rows())
        out.append(SourceWarning(STAGE, str(iso), "missing_days", f"{part.height} zone-days absent: {shown}"))
    return out
