"""EIA API v2 row exports saved as CSV or JSON → core rows, through the API path's own parsers.

A user who saved an API response (or exported the API browser's table as CSV) holds exactly the rows the API
client fetches, so the file path builds the same all-string frame the client builds and hands it to the one
parser per route (`parse_hourly`, `parse_retail` in flows.sources.eia): one set of parsing rules, two ways in.

What the file path adds is strictness the paged API path does not need: the API's own parsers turn an
unparsable cell into NULL and count it, but a file is something the user can fix, so any non-blank cell that
does not parse, and any row missing a key field (a truncated last line), stops the read with the file, the
physical line (header = line 1; for JSON the record number) and the column. Unit labels, where the export
has them, must be the API's (megawatthours; million kilowatt hours, million dollars, cents per kilowatt-hour),
because the parsers' unit conversions assume them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from flows.sources.eia.parse import ParseStats, parse_hourly, parse_retail
from flows.sources.eia.query import ROUTE_REGION, ROUTE_RETAIL, ROUTE_SUB_BA
from flows.sources.eia_files.detect import API_REGION, API_RETAIL, API_SUB_BA, DetectedFile, json_rows
from flows.sources.eia_files.errors import ElectricityFileError

HOURLY_TABLE = "core.electricity_demand_hourly"
MONTHLY_TABLE = "core.electricity_retail_sales_monthly"

_ROUTES = {API_REGION: ROUTE_REGION, API_SUB_BA: ROUTE_SUB_BA, API_RETAIL: ROUTE_RETAIL}
_HOURLY_PERIOD = r"^\d{4}-\d{2}-\d{2}T\d{2}$"
_MONTHLY_PERIOD = r"^\d{4}-\d{2}$"
_KEYS = {
    API_REGION: ("respondent", "type"),
    API_SUB_BA: ("subba", "parent"),
    API_RETAIL: ("stateid", "sectorid"),
}
_NUMBERS = {API_REGION: ("value",), API_SUB_BA: ("value",), API_RETAIL: ("sales", "revenue", "price", "customers")}
_UNITS = {
    "value-units": ("megawatthours",),
    "sales-units": ("million kilowatt hours", "million kilowatthours"),
    "revenue-units": ("million dollars",),
    "price-units": ("cents per kilowatt-hour", "cents per kilowatthour"),
}


@dataclass(frozen=True)
class ApiFileRows:
    """One export read: the core table it feeds, the rows, and what the shared parser counted."""

    table: str
    frame: pl.DataFrame
    stats: ParseStats


def _raw_frame(detected: DetectedFile) -> pl.DataFrame:
    """The file as an all-string frame with the API's column names (what EiaClient builds from pages)."""
    path = detected.path
    if detected.container == "json":
        rows = json_rows(path)
        names = sorted({key for row in rows if isinstance(row, dict) for key in row})
        bad = next((i for i, row in enumerate(rows) if not isinstance(row, dict)), None)
        if bad is not None:
            raise ElectricityFileError(path, f"record {bad + 1} of the data list is not an object")
        data = {n: [None if row.get(n) is None else str(row.get(n)) for row in rows] for n in names}
        return pl.DataFrame(data, schema={n: pl.String() for n in names})
    try:
        return pl.read_csv(path, infer_schema=False)
    except pl.exceptions.ComputeError as exc:
        raise ElectricityFileError(path, f"not a well-formed CSV ({str(exc).splitlines()[0]})") from None


def _line(detected: DetectedFile, index: int) -> int:
    """Physical line of data row `index` (CSV: header is line 1) or record number (JSON, 1-based)."""
    return index + 2 if detected.container == "csv" else index + 1


def _fail_first(detected: DetectedFile, raw: pl.DataFrame, bad: pl.Series, column: str, problem: str) -> None:
    """Raise for the first True of `bad`, quoting the offending cell."""
    hits = bad.fill_null(False).arg_true()
    if hits.len() == 0:
        return
    index = int(hits[0])
    cell = raw[column][index]
    shown = "blank" if cell is None or not str(cell).strip() else repr(str(cell)[:60])
    where = "" if detected.container == "csv" else f"record {index + 1} of the data list: "
    more = f" ({hits.len()} such rows in the file)" if hits.len() > 1 else ""
    raise ElectricityFileError(
        detected.path,
        f"{where}{problem}, got {shown}{more}",
        line=_line(detected, index) if detected.container == "csv" else None,
        column=column,
    )


def validate_raw(detected: DetectedFile, raw: pl.DataFrame) -> None:
    """Every key cell present, every period well formed, every number a number, every unit the API's."""
    layout = detected.layout
    for key in ("period", *_KEYS[layout]):
        text = raw[key].str.strip_chars()
        missing = text.is_null() | (text == "")
        _fail_first(detected, raw, missing, key, "a required value is missing (a truncated or damaged row?)")
    pattern = _MONTHLY_PERIOD if layout == API_RETAIL else _HOURLY_PERIOD
    example = "2024-01" if layout == API_RETAIL else "2024-01-01T05"
    bad_period = ~raw["period"].str.strip_chars().str.contains(pattern)
    _fail_first(detected, raw, bad_period, "period", f"period must look like {example}")
    for column in _NUMBERS[layout]:
        if column not in raw.columns:
            continue
        text = raw[column].str.strip_chars()
        parsed = text.cast(pl.Float64, strict=False)
        bad = text.is_not_null() & (text != "") & parsed.is_null()
        _fail_first(detected, raw, bad, column, "not a number")
    for column, allowed in _UNITS.items():
        if column not in raw.columns:
            continue
        text = raw[column].str.strip_chars().str.to_lowercase()
        bad = text.is_not_null() & (text != "") & ~text.is_in(list(allowed))
        _fail_first(detected, raw, bad, column, f"unit must be {allowed[0]!r} (the API's unit the conversion assumes)")


def read_api_export(detected: DetectedFile) -> ApiFileRows:
    """Read one API export (CSV or JSON) into core rows with the shared route parser."""
    if detected.layout not in _ROUTES:
        raise ValueError(f"{detected.layout} is not an API export layout")
    raw = _raw_frame(detected)
    validate_raw(detected, raw)
    if detected.layout == API_RETAIL:
        for column in ("sales", "revenue", "price", "customers"):
            if column not in raw.columns:  # the API omits data columns not asked for (e.g. price)
                raw = raw.with_columns(pl.lit(None, dtype=pl.String).alias(column))
        frame, stats = parse_retail(raw)
        return ApiFileRows(MONTHLY_TABLE, frame, stats)
    frame, stats = parse_hourly(raw, _ROUTES[detected.layout])
    return ApiFileRows(HOURLY_TABLE, frame, stats)


def read_path(path: Path | str) -> ApiFileRows:
    """Detect and read one export file (convenience for tests and one-off use)."""
    from flows.sources.eia_files.detect import detect

    return read_api_export(detect(path))
