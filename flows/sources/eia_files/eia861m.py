"""EIA-861M `sales_revenue.xlsx`, sheet Monthly-States → core.electricity_retail_sales_monthly rows.

Layout (https://www.eia.gov/electricity/data/eia861m/, "Sales and revenue" file): three header rows, then one
row per state and month. Row 1 names the sector over each block of four columns (RESIDENTIAL, COMMERCIAL,
INDUSTRIAL, TRANSPORTATION, TOTAL), row 2 the measure (Revenue, Sales, Customers, Price), row 3 the unit
(Thousand Dollars, Megawatthours, Count, Cents/kWh) and, in the first four columns, Year, Month, State and
Data Status (Preliminary or Final). A free-text footnote row closes the sheet.

Conversion to the table's units (the API path's units): sales MWh as published; revenue thousand dollars x
1,000 = USD; price cents/kWh as published, except that EIA writes price 0 for a sector with no sales (most
states' TRANSPORTATION), which is stored as NULL because no electricity was sold at a price of zero; customers
as published. Sectors map to the API's sectorid: RESIDENTIAL RES, COMMERCIAL COM, INDUSTRIAL IND,
TRANSPORTATION TRA, TOTAL ALL. The header is read, not assumed: a block whose unit is not the expected one
stops the read (the conversion would be wrong), naming the sheet row and column.

`Data Status` is the vintage information: it is returned beside the rows (per state and month) so a revision
warning can say "Preliminary in sales_revenue.xlsx", and so the vintage merge can tell a final value from a
preliminary one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from flows.sources.eia.parse import MONTHLY_SCHEMA, ParseStats
from flows.sources.eia_files.detect import MONTHLY_STATES_SHEET, DetectedFile
from flows.sources.eia_files.errors import ElectricityFileError

SECTORS: dict[str, str] = {
    "RESIDENTIAL": "RES",
    "COMMERCIAL": "COM",
    "INDUSTRIAL": "IND",
    "TRANSPORTATION": "TRA",
    "TOTAL": "ALL",
}
"""EIA-861M sector heading → API sectorid."""

MEASURES: dict[str, tuple[str, str, float]] = {
    # measure: (unit in header row 3, table column, factor to the table's unit)
    "Revenue": ("Thousand Dollars", "revenue_usd", 1_000.0),
    "Sales": ("Megawatthours", "sales_mwh", 1.0),
    "Customers": ("Count", "customers", 1.0),
    "Price": ("Cents/kWh", "price_cents_per_kwh", 1.0),
}
_ID_COLUMNS = ("Year", "Month", "State", "Data Status")
HEADER_ROWS = 3


@dataclass(frozen=True)
class SalesRevenue:
    """The sheet read: rows in the table's shape, and Data Status per (state, month)."""

    frame: pl.DataFrame
    status: pl.DataFrame
    stats: ParseStats


def looks_like_sales_revenue(path: Path) -> bool:
    """Whether a workbook has a Monthly-States sheet whose header rows are EIA-861M's."""
    try:
        sheet = _sheet(path)
    except ElectricityFileError:
        return False
    return sheet.height >= HEADER_ROWS and [str(v).strip() for v in sheet.row(2)[:4]] == list(_ID_COLUMNS)


_LAST_SHEET: dict[tuple[str, int, int], pl.DataFrame] = {}
"""The last sheet read, keyed by (path, size, mtime): detection and reading share one parse of the workbook
(calamine parses the whole sheet even for its first rows)."""


def _sheet(path: Path) -> pl.DataFrame:
    """The Monthly-States sheet as all-string cells, no header (fastexcel/calamine)."""
    import fastexcel

    try:
        stat = path.stat()
    except OSError as exc:
        raise ElectricityFileError(path, f"cannot read the file ({exc.strerror})") from None
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    if key in _LAST_SHEET:
        return _LAST_SHEET[key]

    try:
        reader = fastexcel.read_excel(str(path))
        if MONTHLY_STATES_SHEET not in reader.sheet_names:
            raise ElectricityFileError(path, f"no sheet '{MONTHLY_STATES_SHEET}' (sheets: {reader.sheet_names})")
        sheet = reader.load_sheet(MONTHLY_STATES_SHEET, header_row=None, dtypes="string")
        frame = sheet.to_polars()
    except ElectricityFileError:
        raise
    except Exception as exc:  # fastexcel raises its own hierarchy for damaged or non-xlsx files
        raise ElectricityFileError(path, f"cannot read the workbook ({type(exc).__name__}: {exc})") from None
    frame = frame.rename({c: f"column_{i}" for i, c in enumerate(frame.columns)})
    _LAST_SHEET.clear()
    _LAST_SHEET[key] = frame
    return frame


def _blocks(path: Path, sheet: pl.DataFrame) -> list[tuple[str, str, str, float, str]]:
    """(sheet column, sectorid, table column, factor, label) per data column, checked against the units row."""
    sectors, measures, units = (list(sheet.row(i)) for i in range(HEADER_ROWS))
    if [str(v).strip() for v in units[:4]] != list(_ID_COLUMNS):
        raise ElectricityFileError(path, f"header row 3 must start with {', '.join(_ID_COLUMNS)}", line=3)
    out: list[tuple[str, str, str, float, str]] = []
    sector = ""
    for index in range(4, sheet.width):  # a loop over 20 header columns, not over rows
        if sectors[index] is not None and str(sectors[index]).strip():
            sector = str(sectors[index]).strip().upper()
        measure = str(measures[index] or "").strip()
        if sector not in SECTORS or measure not in MEASURES:
            raise ElectricityFileError(
                path,
                f"unexpected header '{sector} {measure}' (sectors {list(SECTORS)}, measures {list(MEASURES)})",
                line=2,
                column=f"column {index + 1}",
            )
        unit, target, factor = MEASURES[measure]
        if str(units[index] or "").strip() != unit:
            raise ElectricityFileError(
                path,
                f"{sector} {measure} must be in {unit!r}, got {units[index]!r}",
                line=3,
                column=f"column {index + 1}",
            )
        out.append((sheet.columns[index], SECTORS[sector], target, factor, f"{sector} {measure}"))
    return out


def read_sales_revenue(detected: DetectedFile) -> SalesRevenue:
    """All sectors of Monthly-States in the table's units, plus Data Status per state and month."""
    path = detected.path
    sheet = _sheet(path)
    blocks = _blocks(path, sheet)
    year, month, state, status = sheet.columns[:4]
    body = sheet.slice(HEADER_ROWS).with_row_index("_row", offset=HEADER_ROWS + 1)  # 1-based sheet row
    year_num = pl.col(year).str.strip_chars().cast(pl.Int32, strict=False)
    data = body.filter(year_num.is_not_null() | pl.col(month).is_not_null())  # drops the footnote row
    stats = ParseStats(rows_in=data.height)

    def fail(bad: pl.Series, column: str, label: str, problem: str) -> None:
        hits = bad.fill_null(False).arg_true()
        if hits.len():
            i = int(hits[0])
            raise ElectricityFileError(
                path,
                f"sheet {MONTHLY_STATES_SHEET}: {problem}, got {data[column][i]!r}",
                line=int(data["_row"][i]),
                column=label,
            )

    month_num = data[month].str.strip_chars().cast(pl.Int32, strict=False)
    year_s = data[year].str.strip_chars().cast(pl.Int32, strict=False)
    fail(year_s.is_null(), year, "Year", "not a year")
    fail(month_num.is_null() | (month_num < 1) | (month_num > 12), month, "Month", "not a month number 1-12")
    fail(data[state].str.strip_chars().str.len_chars().fill_null(0) != 2, state, "State", "not a two-letter state")
    parsed: dict[tuple[str, str], pl.Series] = {}
    for column, sector, target, factor, label in blocks:
        text = data[column].str.strip_chars()
        value = text.cast(pl.Float64, strict=False)
        fail(text.is_not_null() & (text != "") & value.is_null(), column, label, "not a number")
        parsed[(sector, target)] = value * factor
    keys = data.with_columns(year_s.alias("_year"), month_num.alias("_month")).select(
        pl.col(state).str.strip_chars().alias("state"),
        pl.date("_year", "_month", 1).alias("month"),
    )
    frames = []
    for sector in SECTORS.values():
        sales = parsed[(sector, "sales_mwh")]
        price = parsed[(sector, "price_cents_per_kwh")]
        frames.append(
            keys.with_columns(
                pl.lit(sector).alias("sector"),
                sales.alias("sales_mwh"),
                pl.when(sales.fill_null(0) == 0).then(None).otherwise(price).alias("price_cents_per_kwh"),
                parsed[(sector, "revenue_usd")].alias("revenue_usd"),
                parsed[(sector, "customers")].round(0).cast(pl.Int64).alias("customers"),
            )
        )
    frame = pl.concat(frames).select([pl.col(n).cast(t) for n, t in MONTHLY_SCHEMA.items()])
    unique = frame.unique(subset=["state", "sector", "month"], keep="last", maintain_order=True)
    stats.duplicates = frame.height - unique.height
    status_frame = keys.with_columns(data[status].str.strip_chars().alias("data_status"))
    return SalesRevenue(unique.sort("state", "sector", "month"), status_frame.unique(["state", "month"]), stats)
