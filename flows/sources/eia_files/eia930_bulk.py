"""EIA-930 six-month bulk files (BALANCE and SUBREGION) → core.electricity_demand_hourly rows.

Layout, as EIA publishes it on the Grid Monitor's download page (https://www.eia.gov/electricity/gridmonitor/
about, "Six-Month Files"; the columns are also mapped file by file in PUDL's `package_data/eia930/column_maps/
balance.csv` and `subregion.csv`, and read the same way by gridemissions' `eia_bulk_grid_monitor.py`):

* `EIA930_BALANCE_YYYY_{Jan_Jun,Jul_Dec}.csv`: one row per balancing authority and hour with `Balancing
  Authority`, `Data Date`, `Hour Number`, `Local Time at End of Hour`, `UTC Time at End of Hour`, `Demand
  Forecast (MW)`, `Demand (MW)`, `Net Generation (MW)`, `Total Interchange (MW)`, `Sum(Valid DIBAs) (MW)`,
  `Demand (MW) (Imputed)`, `Net Generation (MW) (Imputed)`, `Total Interchange (MW) (Imputed)`, `Demand (MW)
  (Adjusted)`, ..., the net generation by fuel columns and `Region`. Early files lack some columns.
* `EIA930_SUBREGION_*.csv`: `Balancing Authority`, `Data Date`, `Hour Number`, `Sub-Region`, `Local Time at
  End of Hour`, `UTC Time at End of Hour`, `Demand (MW)`.

Quirks handled: times are US-format with a 12-hour clock (`01/01/2024 12:00:00 AM`); numbers above 999 are
quoted with thousands separators (`"1,234"`); blank cells are EIA nulls; the hour is labelled by its END in
both clocks. We key on `UTC Time at End of Hour` (the same hour-ending UTC label the API's `period` is), never
on the local column, whose repeated hour on the autumn DST change is ambiguous.

What the derived columns are (PUDL's data dictionary, core_eia930__hourly_operations): `(Imputed)` is EIA's
series with outliers removed and missing hours imputed; `(Adjusted)` is adjusted for non-physical commercial
transfers (pseudo-ties, dynamic scheduling). Neither is what the BA reported.

Which demand column is stored: the raw reported `Demand (MW)` as type D (and `Demand Forecast (MW)` as DF,
`Net Generation (MW)` as NG, `Total Interchange (MW)` as TI). Why raw and not `Demand (MW) (Adjusted)`: the
API route electricity/rto/region-data returns the BA-reported values for type D (the real API export of PJM
still holds the 2021-10-19 int32 sentinel that EIA's adjustment removes), so storing raw keeps one meaning for
type D whichever way a user loads it, and lets the vintage merge compare like with like. Implausible raw
values are caught transparently by transforms.electricity_quality (a recorded, reviewable rule) rather than
by EIA's undocumented-per-hour imputation. The MW columns are hourly averages, so MW over one hour = MWh.

Bad input: any non-blank number or time that does not parse stops the read with the file, the physical line
(header = line 1) and the column. Everything is vectorised (polars lazy scan, one unpivot); no row loops.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from flows.sources.eia.parse import HOURLY_SCHEMA, ParseStats
from flows.sources.eia_files.detect import EIA930_SUBREGION, SUBREGION_COLUMN, DetectedFile, csv_header
from flows.sources.eia_files.errors import ElectricityFileError

BA_COLUMN = "Balancing Authority"
UTC_COLUMN = "UTC Time at End of Hour"
TIME_FORMAT = "%m/%d/%Y %I:%M:%S %p"
"""EIA's bulk-file clock: month/day/year, 12-hour clock with AM/PM, e.g. 01/01/2024 12:00:00 AM."""

TYPE_COLUMNS: dict[str, str] = {
    "Demand (MW)": "D",
    "Demand Forecast (MW)": "DF",
    "Net Generation (MW)": "NG",
    "Total Interchange (MW)": "TI",
}
"""Bulk column → API type code (the raw reported series; see the module docstring for why raw)."""


def _first_bad(path: Path, frame: pl.DataFrame, bad: pl.Series, column: str, problem: str) -> None:
    hits = bad.fill_null(False).arg_true()
    if hits.len() == 0:
        return
    index = int(hits[0])
    cell = frame[column][index]
    more = f" ({hits.len()} such cells in the file)" if hits.len() > 1 else ""
    raise ElectricityFileError(path, f"{problem}, got {str(cell)[:60]!r}{more}", line=index + 2, column=column)


def _fast_number(column: str) -> pl.Expr:
    """A bulk-file number, fast path: thousands separators removed and cast (null where that fails)."""
    return pl.col(column).str.replace_all(",", "", literal=True).cast(pl.Float64, strict=False)


def _number(column: str) -> pl.Expr:
    """A bulk-file number: thousands separators removed, blank = null."""
    text = pl.col(column).str.strip_chars().str.replace_all(",", "", literal=True)
    return pl.when(text == "").then(None).otherwise(text).cast(pl.Float64, strict=False)


def read_bulk(detected: DetectedFile) -> tuple[pl.DataFrame, ParseStats]:
    """One BALANCE or SUBREGION file → hourly rows (HOURLY_SCHEMA), and what was dropped or merged.

    BALANCE rows: respondent = BA, subba = ''. SUBREGION rows: respondent = parent BA, subba = the
    sub-region code, type D (the API's sub-BA route has type D only). Rows with no BA and no time at all
    (a blank trailing line) are ignored; a row with one but not the other is an error.
    """
    path = detected.path
    header = csv_header(path)
    subregion = detected.layout == EIA930_SUBREGION
    value_columns = ["Demand (MW)"] if subregion else [c for c in TYPE_COLUMNS if c in header]
    keys = [BA_COLUMN, UTC_COLUMN] + ([SUBREGION_COLUMN] if subregion else [])
    try:
        raw = pl.scan_csv(path, infer_schema=False).select([*keys, *value_columns]).collect()
    except (pl.exceptions.ComputeError, pl.exceptions.ColumnNotFoundError) as exc:
        raise ElectricityFileError(path, f"not a well-formed EIA-930 CSV ({str(exc).splitlines()[0]})") from None
    stats = ParseStats(rows_in=raw.height)
    # one clock string per hour is shared by every BA of the file: parse the distinct strings only
    utc_text = raw[UTC_COLUMN].str.strip_chars()
    distinct = utc_text.unique()
    utc_parsed = distinct.str.to_datetime(TIME_FORMAT, time_zone="UTC", time_unit="us", strict=False)
    parsed = raw.with_columns(
        utc_text.replace_strict(distinct, utc_parsed, default=None, return_dtype=utc_parsed.dtype).alias("period_utc"),
        *[_fast_number(c).alias(f"_v{i}") for i, c in enumerate(value_columns)],
    )
    # The checks below are counts first (cheap) and build a row mask only when a count says there is a problem.
    if any(parsed[k].null_count() for k in keys) or parsed["period_utc"].null_count():
        blank = parsed.select(
            pl.all_horizontal([pl.col(k).is_null() | (pl.col(k).str.strip_chars() == "") for k in keys])
        ).to_series()
        for key in keys:
            text = parsed[key].str.strip_chars()
            _first_bad(
                path,
                parsed,
                (text.is_null() | (text == "")) & ~blank,
                key,
                "a required value is missing (a truncated or damaged row?)",
            )
        _first_bad(
            path,
            parsed,
            parsed["period_utc"].is_null() & ~blank,
            UTC_COLUMN,
            "not a time in EIA's format MM/DD/YYYY HH:MM:SS AM/PM",
        )
        parsed = parsed.filter(~blank)
    for i, column in enumerate(value_columns):
        if parsed[f"_v{i}"].null_count() == parsed[column].null_count():
            continue  # every non-null cell parsed
        careful = parsed.select(_number(column)).to_series()  # padded cells, blank strings
        text = parsed[column].str.strip_chars()
        _first_bad(path, parsed, text.is_not_null() & (text != "") & careful.is_null(), column, "not a number")
        parsed = parsed.with_columns(careful.alias(f"_v{i}"))
    kept = parsed
    stats.bad_periods = raw.height - kept.height
    subba = pl.col(SUBREGION_COLUMN).str.strip_chars() if subregion else pl.lit("")
    long = (
        kept.select(
            pl.col(BA_COLUMN).str.strip_chars().alias("respondent"),
            subba.alias("subba"),
            "period_utc",
            *[pl.col(f"_v{i}").alias(TYPE_COLUMNS[c]) for i, c in enumerate(value_columns)],
        )
        .unpivot(index=["respondent", "subba", "period_utc"], variable_name="type", value_name="value_mwh")
        .select([pl.col(n).cast(t) for n, t in HOURLY_SCHEMA.items()])
    )
    # a BA-hour twice in one file: keep the last (as the API parser does) and count; checked on the wide rows,
    # a quarter of the long ones, and skipped when there is none (EIA's files have none)
    if kept.select([*keys[:1], *keys[2:], "period_utc"]).n_unique() == kept.height:
        return long, stats
    unique = long.unique(subset=["respondent", "subba", "period_utc", "type"], keep="last", maintain_order=True)
    stats.duplicates = long.height - unique.height
    return unique, stats
