"""Recognise an electricity file's layout by its header, and walk a directory of them.

Why by header and not by name: users rename downloads (`Balance_2024H1.csv`, `export (3).csv`), and a name can
lie; the columns cannot. The name is only used to pick the container (CSV, JSON, XLSX). A file whose header
matches no layout is an `ElectricityFileError` naming the file and every accepted layout, never a silent skip.

Accepted layouts (column names as EIA publishes them):

* EIA API v2 row exports, CSV or JSON (a saved response body `{"response": {"data": [...]}}` or a bare list
  of rows), for `electricity/rto/region-data` (period, respondent, type, value), `electricity/rto/
  region-sub-ba-data` (period, subba, parent, value) and `electricity/retail-sales` (period, stateid,
  sectorid and at least one of sales, revenue, price, customers). Row keys per route: EIA API v2 browser,
  https://www.eia.gov/opendata/browser/electricity/rto.
* EIA-930 six-month bulk files from the Grid Monitor download page
  (https://www.eia.gov/electricity/gridmonitor/about, "Six-month files"): `EIA930_BALANCE_YYYY_{Jan_Jun,
  Jul_Dec}.csv` (Balancing Authority, UTC Time at End of Hour, Demand (MW), ...) and `EIA930_SUBREGION_*.csv`
  (the same plus Sub-Region).
* EIA-861M `sales_revenue.xlsx` (https://www.eia.gov/electricity/data/eia861m/), sheet Monthly-States.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flows.sources.eia_files.errors import ElectricityFileError

API_REGION = "api_region_data"
API_SUB_BA = "api_region_sub_ba_data"
API_RETAIL = "api_retail_sales"
EIA930_BALANCE = "eia930_balance"
EIA930_SUBREGION = "eia930_subregion"
EIA861M = "eia861m_sales_revenue"

ACCEPTED: dict[str, str] = {
    API_REGION: "EIA API v2 electricity/rto/region-data export, CSV or JSON (period, respondent, type, value)",
    API_SUB_BA: "EIA API v2 electricity/rto/region-sub-ba-data export, CSV or JSON (period, subba, parent, value)",
    API_RETAIL: "EIA API v2 electricity/retail-sales export, CSV or JSON (period, stateid, sectorid, sales...)",
    EIA930_BALANCE: "EIA-930 six-month BALANCE file, EIA930_BALANCE_YYYY_Jan_Jun.csv / _Jul_Dec.csv",
    EIA930_SUBREGION: "EIA-930 six-month SUBREGION file, EIA930_SUBREGION_YYYY_Jan_Jun.csv / _Jul_Dec.csv",
    EIA861M: "EIA-861M sales_revenue.xlsx (sheet Monthly-States)",
}
"""Every layout the file path reads, by id, with the words an error message shows the user."""

_API_COLUMNS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    # layout: (columns that must all be present, columns of which at least one must be present)
    API_REGION: (frozenset({"period", "respondent", "type", "value"}), frozenset()),
    API_SUB_BA: (frozenset({"period", "subba", "parent", "value"}), frozenset()),
    API_RETAIL: (frozenset({"period", "stateid", "sectorid"}), frozenset({"sales", "revenue", "price", "customers"})),
}
_BULK_REQUIRED = frozenset({"Balancing Authority", "UTC Time at End of Hour", "Demand (MW)"})
SUBREGION_COLUMN = "Sub-Region"
MONTHLY_STATES_SHEET = "Monthly-States"


@dataclass(frozen=True)
class DetectedFile:
    """A file and its layout; `container` is csv, json or xlsx."""

    path: Path
    layout: str
    container: str


def accepted_layouts() -> str:
    """The accepted layouts as one line each, for error messages."""
    return "; ".join(ACCEPTED.values())


def _unrecognised(path: Path, why: str) -> ElectricityFileError:
    return ElectricityFileError(path, f"layout not recognised ({why}); accepted layouts: {accepted_layouts()}")


def api_layout(columns: set[str]) -> str | None:
    """Which API route's row layout a set of column names is, if any (region-data is tried before sub-BA)."""
    for layout, (required, any_of) in _API_COLUMNS.items():
        if required <= columns and (not any_of or bool(any_of & columns)):
            return layout
    return None


def csv_header(path: Path) -> list[str]:
    """The first line of a CSV as trimmed column names (a UTF-8 BOM removed)."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            row = next(csv.reader(handle), [])
    except UnicodeDecodeError:
        raise _unrecognised(path, "not UTF-8 text") from None
    except csv.Error as exc:
        raise _unrecognised(path, f"the first line is not CSV: {exc}") from None
    return [name.strip() for name in row]


def json_rows(path: Path) -> list[Any]:
    """The data rows of a saved API response body or of a bare JSON list of rows."""
    try:
        body = json.loads(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError:
        raise _unrecognised(path, "not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise ElectricityFileError(
            path, f"not valid JSON ({exc.msg}; truncated download?), column {exc.colno}", line=exc.lineno
        ) from None
    if isinstance(body, dict) and isinstance(body.get("response"), dict):
        data = body["response"].get("data")
        if isinstance(data, list):
            return data
        raise _unrecognised(path, "a JSON object with 'response' but no 'response.data' list")
    if isinstance(body, list):
        return body
    raise _unrecognised(path, "JSON that is neither an API response body nor a list of rows")


def detect(path: Path | str) -> DetectedFile:
    """The layout of one file, decided by its header; raises ElectricityFileError when none matches."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        columns = set(csv_header(path))
        if columns >= _BULK_REQUIRED:
            layout = EIA930_SUBREGION if SUBREGION_COLUMN in columns else EIA930_BALANCE
            return DetectedFile(path, layout, "csv")
        found = api_layout(columns)
        if found is None:
            raise _unrecognised(path, f"CSV header {sorted(columns)[:12]}")
        return DetectedFile(path, found, "csv")
    if suffix == ".json":
        rows = json_rows(path)
        if not rows:
            raise _unrecognised(path, "a JSON data list with no rows, so no columns to recognise")
        if not isinstance(rows[0], dict):
            raise _unrecognised(path, "JSON rows that are not objects")
        found = api_layout(set(rows[0]))
        if found is None:
            raise _unrecognised(path, f"JSON row keys {sorted(rows[0])[:12]}")
        return DetectedFile(path, found, "json")
    if suffix == ".xlsx":
        from flows.sources.eia_files.eia861m import looks_like_sales_revenue

        if looks_like_sales_revenue(path):
            return DetectedFile(path, EIA861M, "xlsx")
        raise _unrecognised(path, f"a workbook without an EIA-861M '{MONTHLY_STATES_SHEET}' sheet")
    raise _unrecognised(path, f"file type '{suffix or 'none'}' (only .csv, .json and .xlsx files are read)")


def walk(directory: Path | str) -> tuple[list[DetectedFile], list[Path]]:
    """Every file under `directory` (recursively, in sorted path order) with its layout, and the hidden files.

    Hidden files and folders (a leading dot: .DS_Store, .ipynb_checkpoints) are not data; they are returned
    separately so the caller records them as skipped instead of failing on them. Any other file must be
    recognised, or the whole walk fails naming it.
    """
    root = Path(directory)
    if not root.is_dir():
        raise ElectricityFileError(root, "not a directory (give the folder holding the EIA files)")
    detected: list[DetectedFile] = []
    hidden: list[Path] = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        if any(part.startswith(".") for part in path.relative_to(root).parts):
            hidden.append(path)
            continue
        detected.append(detect(path))
    return detected, hidden
