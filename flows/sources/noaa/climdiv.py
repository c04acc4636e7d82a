"""NOAA nClimDiv state files: monthly heating/cooling degree days and mean temperature per state.

Layout (NOAA NCEI, "nClimDiv state temperature-precipitation-drought" readme,
https://www.ncei.noaa.gov/pub/data/cirs/climdiv/state-readme.txt, and divisional-readme.txt beside it): one
record per area, element and year, fixed width:

    columns 1-3   state code  001-048 the contiguous states in alphabetical order, 049 Hawaii, 050 Alaska,
                              101-109 NCEI climate regions, 110 the contiguous United States, higher codes
                              other national aggregates (e.g. agricultural belts)
    column  4     division    0 = the whole state (the *cst* files are state files)
    columns 5-6   element     02 mean temperature (°F), 25 heating degree days, 26 cooling degree days
                              (base 65 °F, population-weighted by NOAA)
    columns 7-10  year
    then 12 values of 7 characters, January to December; -9999. (degree days) and -99.90 (temperature)
    mark months not yet published.

The missing-value markers become NULL, never zero: a zero HDD month is a real, warm month. Parsing is one
vectorised pass of `str.slice` over all lines; a line that is too short or not numeric stops the load with
`ClimdivFileError` naming the file and line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from warehouse.errors import JevonsInputError
from warehouse.tables.weather import AREA_CODES, STATE_CODES

__all__ = ["AREA_CODES", "STATE_CODES", "ClimdivFileError", "ClimdivParse", "combine_elements", "parse_climdiv_file"]

SOURCE = "noaa_nclimdiv"

ELEMENTS: dict[str, str] = {"02": "mean_temp_f", "25": "hdd_degf_days", "26": "cdd_degf_days"}
"""nClimDiv element code -> the column of core.weather_degree_days_monthly it fills."""

MISSING_MARKERS = (-9999.0, -99.9)
"""Values NOAA writes for months not yet published."""

_FIRST_VALUE = 10
_VALUE_WIDTH = 7
_MIN_LENGTH = _FIRST_VALUE + 12 * _VALUE_WIDTH
_RECORD = re.compile(r"^\d{10}( +-?\d+\.\d*){12} *$")
"""What a nClimDiv record looks like: 10 digits of codes and year, then 12 decimal values."""


class ClimdivFileError(JevonsInputError):
    """A nClimDiv file that cannot be read as NOAA's fixed-width layout; names the file and line."""

    def __init__(self, file: Path | str, problem: str, line: int | None = None) -> None:
        self.file = str(file)
        self.line = line
        where = self.file if line is None else f"{self.file}, line {line}"
        super().__init__(f"{where}: {problem}")


@dataclass(frozen=True)
class ClimdivParse:
    """One file parsed: long rows (area, month, element column, value) plus what was skipped or nulled."""

    frame: pl.DataFrame
    element: str
    unpublished_values: int
    skipped_area_codes: tuple[str, ...]


def looks_like_climdiv(first_line: str) -> bool:
    """Whether a file's first line is a nClimDiv record (used to recognise files by content, not name)."""
    return bool(_RECORD.match(first_line.rstrip("\r\n")))


def parse_climdiv_text(text: str, file: str) -> ClimdivParse:
    """Parse one nClimDiv state file's text; every record must carry the same element (02, 25 or 26)."""
    lines = pl.Series("line", text.splitlines(), dtype=pl.String).str.strip_chars_end("\r")
    frame = pl.DataFrame([lines]).with_row_index("line_no", offset=1).filter(pl.col("line").str.len_chars() > 0)
    if frame.is_empty():
        raise ClimdivFileError(file, "file is empty; expected NOAA nClimDiv fixed-width records")
    short = frame.filter(pl.col("line").str.len_chars() < _MIN_LENGTH)
    if not short.is_empty():
        raise ClimdivFileError(
            file, f"record is {len(short['line'][0])} characters, expected at least {_MIN_LENGTH}", short["line_no"][0]
        )
    value_cols = [f"v{m:02d}" for m in range(1, 13)]
    parsed = frame.select(
        "line_no",
        pl.col("line").str.slice(0, 3).alias("code"),
        pl.col("line").str.slice(3, 1).alias("division"),
        pl.col("line").str.slice(4, 2).alias("element"),
        pl.col("line").str.slice(6, 4).cast(pl.Int32, strict=False).alias("year"),
        *[
            pl.col("line")
            .str.slice(_FIRST_VALUE + i * _VALUE_WIDTH, _VALUE_WIDTH)
            .str.strip_chars()
            .cast(pl.Float64, strict=False)
            .alias(value_cols[i])
            for i in range(12)
        ],
    )
    bad = parsed.filter(
        pl.col("year").is_null()
        | ~pl.col("code").str.contains(r"^\d{3}$")
        | pl.any_horizontal([pl.col(c).is_null() for c in value_cols])
    )
    if not bad.is_empty():
        raise ClimdivFileError(
            file, "not a nClimDiv record (3-digit code, division, element, year, 12 numbers)", int(bad["line_no"][0])
        )
    elements = parsed["element"].unique().to_list()
    if len(elements) != 1 or elements[0] not in ELEMENTS:
        raise ClimdivFileError(file, f"element code(s) {sorted(elements)}; expected one of {sorted(ELEMENTS)}")
    not_state = parsed.filter(pl.col("division") != "0")
    if not not_state.is_empty():
        raise ClimdivFileError(
            file, "division is not 0: this is a divisional file, not a state (cst) file", int(not_state["line_no"][0])
        )
    codes = parsed["code"].unique()
    skipped = tuple(sorted(c for c in codes.to_list() if c not in AREA_CODES))
    kept = parsed.filter(pl.col("code").is_in(list(AREA_CODES)))
    # Wide (record x 12 months) -> long in numpy: one reshape instead of a 12-way unpivot.
    values = kept.select(value_cols).to_numpy().reshape(-1)
    code = np.repeat(kept["code"].cast(pl.Int64).to_numpy(), 12)
    year = np.repeat(kept["year"].to_numpy().astype(np.int64), 12)
    month = np.tile(np.arange(1, 13, dtype=np.int64), kept.height)
    unpublished = np.isin(values, MISSING_MARKERS)
    long = pl.DataFrame(
        {
            "key": code * 1_000_000 + year * 100 + month,
            "code": code,
            "year": year,
            "m": month,
            "value": np.where(unpublished, np.nan, values),
        }
    ).select(
        "key",
        pl.col("code").replace_strict({int(c): a for c, a in AREA_CODES.items()}, return_dtype=pl.String).alias("area"),
        pl.date(pl.col("year"), pl.col("m"), 1).alias("month"),
        pl.col("value").fill_nan(None),
    )
    return ClimdivParse(
        frame=long,
        element=ELEMENTS[elements[0]],
        unpublished_values=int(unpublished.sum()),
        skipped_area_codes=skipped,
    )


def parse_climdiv_file(path: Path) -> ClimdivParse:
    """Read and parse one nClimDiv file (ASCII)."""
    try:
        text = path.read_text(encoding="ascii")
    except UnicodeDecodeError as exc:
        raise ClimdivFileError(path, f"not ASCII text (byte 0x{exc.object[exc.start]:02x})") from None
    except OSError as exc:
        raise ClimdivFileError(path, f"cannot read the file: {exc.strerror or exc}") from None
    return parse_climdiv_text(text, str(path))


def combine_elements(parses: list[ClimdivParse], source: str = SOURCE) -> pl.DataFrame:
    """Join HDD, CDD and temperature parses into core.weather_degree_days_monthly rows (without loaded_at).

    An element given twice (two vintages of the same file) keeps the later vintage, the one passed last.
    Months where every element is unpublished are dropped (they carry no information).
    """
    from warehouse.tables.weather import DEGREE_DAYS_MONTHLY

    schema = DEGREE_DAYS_MONTHLY.polars_schema(exclude=("loaded_at",))
    by_element = {p.element: p.frame for p in parses}
    if not by_element:
        return pl.DataFrame(schema=schema)
    # Join on the integer key (area code, year, month): far cheaper than on (string, date).
    out = pl.concat([f.select("key", "area", "month") for f in by_element.values()]).unique("key")
    for column in ELEMENTS.values():
        part = by_element.get(column)
        if part is None:
            out = out.with_columns(pl.lit(None, dtype=pl.Float64).alias(column))
        else:
            out = out.join(part.select("key", pl.col("value").alias(column)), on="key", how="left")
    out = out.filter(pl.any_horizontal([pl.col(c).is_not_null() for c in ELEMENTS.values()])).sort("key")
    return out.with_columns(pl.lit(source).alias("source")).select(list(schema)).cast(schema)
