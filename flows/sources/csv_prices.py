"""Daily prices from a directory of per-ticker CSV files (`TICKER.csv`), as Yahoo and most vendors export.

Each file needs a `Date` column and `Adj Close` or `Close`; `Open`, `High`, `Low`, `Volume` are optional.
Where only `Close` exists it is taken as the adjusted close too (vendor "close" exports such as
../shared/data/prices_daily_close are already split- and dividend-adjusted) and is stored in both `close`
and `adj_close`. Column names match case-insensitively.

A malformed file is an error naming the file, line and column (nothing is loaded). Empty cells or the
literal `null` (Yahoo's marker for a missing session) drop that row and are counted as rejected rows with a
warning. Tickers of the universe without a file are a warning; files of tickers outside the universe load too.

Holes a silent load would open, each an error instead:
- Slash dates (`02/01/2025`) are read only when the whole file fixes their order: a first number above 12
  somewhere means DD/MM/YYYY, a second one above 12 means MM/DD/YYYY. A file where every slash date reads
  both ways (European and US exports look alike in early January) is an error naming a line and both
  readings; a file that is read records the order it used as a `date_format` warning.
- A close that is not a finite number (`inf`, `1e309`, `NaN`) is rejected like a non-positive one: a pandas
  `NaN` is not Yahoo's `null` marker, and dropping it would hide a broken export.
- A row dated after today on the exchange's calendar (America/New_York) would make the freshness checks
  report prices from the future.
- Two header columns that map to one field (`Close,Close`, `Close` and `close`, `Adj Close` twice): which one
  the vendor meant is unknowable.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl

from flows.sources.base import PRICE_COLUMNS, ExtractContext, SourceResult, SourceWarning
from warehouse.errors import PriceFileError

_OPTIONAL = {"open": "open", "high": "high", "low": "low", "volume": "volume"}
_MISSING_MARKERS = ("", "null", "NA", "N/A")  # a missing session; NaN is not one (see the module docstring)
_VOLUME_MISSING = (*_MISSING_MARKERS, "NaN", "nan")  # a volume is informational: NaN there is just unknown
_FIELD_NAMES: dict[str, tuple[str, ...]] = {
    "date": ("date", "datetime", "timestamp"),
    "adj_close": ("adj close", "adj_close", "adjclose", "adjusted close"),
    "close": ("close",),
    **{name: (name,) for name in _OPTIONAL},
}
EXCHANGE_TZ = ZoneInfo("America/New_York")  # the listing exchanges' calendar: "today" for future-dated rows
_SLASH_DATE = r"^(\d{1,2})/(\d{1,2})/(\d{4})$"


@dataclass
class PriceFile:
    """One parsed price file: PRICE_COLUMNS rows, rows dropped as missing, and the date order used if not ISO."""

    frame: pl.DataFrame
    dropped: int
    date_format: str | None = None


def exchange_today() -> date:
    """Today's date on the exchange's calendar (a file written in Asia after the US close is not 'future')."""
    return datetime.now(EXCHANGE_TZ).date()


def _find_column(columns: list[str], *names: str) -> str | None:
    lowered = {c.strip().lower(): c for c in columns}
    for name in names:
        if name in lowered:
            return lowered[name]
    return None


def _header(path: Path) -> list[str]:
    """The header as written (polars renames a repeated name to `X_duplicated_0`, hiding the repetition)."""
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return next(csv.reader(fh), [])


def _check_duplicate_fields(path: Path, header: list[str]) -> None:
    """Two columns mapping to one field are an error naming both (nobody can tell which the vendor meant)."""
    for name, aliases in _FIELD_NAMES.items():
        hits = [c for c in header if c.strip().lower() in aliases]
        if len(hits) > 1:
            shown = " and ".join(repr(c) for c in hits[:2])
            raise PriceFileError(path, f"columns {shown} both map to the {name} field; keep one", line=1)


def _date_expr(path: Path, dates: pl.DataFrame, column: str) -> tuple[pl.Expr, str | None]:
    """The date parser for this file: ISO, plus slash dates in the one order the whole file allows.

    `dates` has `_line` and the stripped `date` strings. Returns the expression and the slash order used
    (None when the file has no slash dates)."""
    iso = pl.col("date").str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False)
    parts = dates.select(
        "_line",
        "date",
        pl.col("date").str.extract(_SLASH_DATE, 1).cast(pl.Int32).alias("a"),
        pl.col("date").str.extract(_SLASH_DATE, 2).cast(pl.Int32).alias("b"),
    ).filter(pl.col("a").is_not_null())
    if parts.height == 0:
        return iso, None
    a_max, b_max = int(parts["a"].max()), int(parts["b"].max())  # type: ignore[arg-type]
    if a_max > 12 and b_max > 12:
        row = parts.filter(pl.col("b") > 12).row(0, named=True)
        first = parts.filter(pl.col("a") > 12).row(0, named=True)
        raise PriceFileError(
            path,
            f"slash dates in both orders: {first['date']!r} (line {first['_line']}) is DD/MM/YYYY but "
            f"{row['date']!r} is MM/DD/YYYY",
            line=int(row["_line"]),
            column=column,
        )
    if a_max <= 12 and b_max <= 12:
        differing = parts.filter(pl.col("a") != pl.col("b"))
        if differing.height:
            row = differing.row(0, named=True)
            a, b, year = int(row["a"]), int(row["b"]), row["date"][-4:]
            raise PriceFileError(
                path,
                f"ambiguous date {row['date']!r}: {year}-{a:02d}-{b:02d} (MM/DD/YYYY) or {year}-{b:02d}-{a:02d} "
                "(DD/MM/YYYY), and no date in the file has a day above 12; write dates as YYYY-MM-DD",
                line=int(row["_line"]),
                column=column,
            )
    fmt = "%d/%m/%Y" if a_max > 12 else "%m/%d/%Y"
    return pl.coalesce(iso, pl.col("date").str.to_date(fmt, strict=False)), fmt


def _first_bad(frame: pl.DataFrame, mask: pl.Series) -> int:
    """Physical line number (header is line 1) of the first row flagged by mask."""
    return int(frame.with_row_index("_i").filter(mask)["_i"][0]) + 2


def read_price_file(path: Path, today: date | None = None) -> PriceFile:
    """Parse one price file into PRICE_COLUMNS rows; `today` (default: the exchange's) bounds the dates."""
    ticker = path.stem.strip().upper()
    try:
        raw = pl.read_csv(path, infer_schema=False, encoding="utf8")
    except pl.exceptions.NoDataError as exc:
        raise PriceFileError(path, "file is empty") from exc
    except (pl.exceptions.ComputeError, UnicodeDecodeError) as exc:
        raise PriceFileError(path, f"not a readable UTF-8 CSV file ({exc})") from exc
    _check_duplicate_fields(path, _header(path))
    date_col = _find_column(raw.columns, "date", "datetime", "timestamp")
    if date_col is None:
        raise PriceFileError(path, f"no Date column (columns are {raw.columns})", line=1)
    adj_col = _find_column(raw.columns, "adj close", "adj_close", "adjclose", "adjusted close")
    close_col = _find_column(raw.columns, "close")
    if adj_col is None and close_col is None:
        raise PriceFileError(path, f"no 'Adj Close' or 'Close' column (columns are {raw.columns})", line=1)
    if raw.height == 0:
        raise PriceFileError(path, "file has a header but no rows")

    value_cols: dict[str, str] = {"adj_close": adj_col or close_col or "", "close": close_col or adj_col or ""}
    for name, wanted in _OPTIONAL.items():
        found = _find_column(raw.columns, wanted)
        if found is not None:
            value_cols[name] = found

    stripped = raw.select(
        pl.col(date_col).str.strip_chars().alias("date"),
        *[pl.col(src).str.strip_chars().alias(dst) for dst, src in value_cols.items()],
    )
    missing_adj = stripped["adj_close"].is_null() | stripped["adj_close"].is_in(_MISSING_MARKERS)
    dropped = int(missing_adj.sum())
    kept = stripped.with_row_index("_line", offset=2).filter(~missing_adj)

    parsed_date, date_format = _date_expr(path, kept.select("_line", "date"), date_col)
    exprs = [parsed_date.alias("date")]
    for name in value_cols:
        dtype = pl.Int64 if name == "volume" else pl.Float64
        markers = _VOLUME_MISSING if name == "volume" else _MISSING_MARKERS
        cleaned = pl.when(pl.col(name).is_in(markers)).then(None).otherwise(pl.col(name))
        cast = cleaned.cast(pl.Float64, strict=False)
        exprs.append((cast.round(0) if name == "volume" else cast).cast(dtype).alias(name))
    typed = kept.select(pl.col("_line"), *exprs)

    bad_date = typed["date"].is_null()
    if bad_date.any():
        line = int(typed.filter(bad_date)["_line"][0])
        value = kept.filter(pl.col("_line") == line)["date"][0]
        raise PriceFileError(path, f"unparseable date {value!r} (expected YYYY-MM-DD)", line=line, column=date_col)
    limit = today or exchange_today()
    future = typed["date"] > limit
    if future.any():
        line = int(typed.filter(future)["_line"][0])
        when = typed.filter(future)["date"][0]
        raise PriceFileError(path, f"date {when} is in the future (today is {limit})", line=line, column=date_col)
    for name, src in value_cols.items():
        markers = _VOLUME_MISSING if name == "volume" else _MISSING_MARKERS
        unparsed = typed[name].is_null() & ~(kept[name].is_null() | kept[name].is_in(markers))
        if unparsed.any():
            line = int(typed.filter(unparsed)["_line"][0])
            value = kept.filter(pl.col("_line") == line)[name][0]
            raise PriceFileError(path, f"unparseable number {value!r}", line=line, column=src)
        if name != "volume":
            infinite = ~typed[name].is_finite()
            if infinite.any():
                line = int(typed.filter(infinite)["_line"][0])
                value = kept.filter(pl.col("_line") == line)[name][0]
                raise PriceFileError(path, f"price must be a finite number, got {value!r}", line=line, column=src)
            bad = typed[name] <= 0
            if bad.any():
                line = int(typed.filter(bad)["_line"][0])
                value = typed.filter(pl.col("_line") == line)[name][0]
                raise PriceFileError(path, f"price must be positive, got {value}", line=line, column=src)
    dup = typed["date"].is_duplicated()
    if dup.any():
        lines = typed.filter(dup)["_line"].to_list()[:2]
        when = typed.filter(dup)["date"][0]
        raise PriceFileError(path, f"duplicate date {when} (lines {lines[0]} and {lines[1]})", line=lines[1])

    frame = typed.drop("_line").with_columns(pl.lit(ticker).alias("ticker"), pl.lit(f"csv:{path.name}").alias("source"))
    for name, price_dtype in PRICE_COLUMNS.items():
        if name not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype=price_dtype).alias(name))
    frame = frame.select([pl.col(n).cast(t) for n, t in PRICE_COLUMNS.items()]).sort("date")
    return PriceFile(frame, dropped, date_format)


class CsvPriceSource:
    """PriceSource over a directory of `TICKER.csv` files."""

    name = "csv"

    def __init__(self, directory: str | Path, today: date | None = None) -> None:
        self.directory = Path(directory)
        self.today = today  # None: the exchange's today, read at parse time

    def files(self) -> list[Path]:
        if not self.directory.exists():
            raise PriceFileError(self.directory, "price directory does not exist")
        if not self.directory.is_dir():
            raise PriceFileError(self.directory, "not a directory (pass the folder holding TICKER.csv files)")
        found = sorted(p for p in self.directory.iterdir() if p.suffix.lower() == ".csv" and p.is_file())
        if not found:
            raise PriceFileError(self.directory, "no .csv files in the price directory")
        return found

    def validate(self) -> None:
        """Parse every file, raising PriceFileError for the first malformed one (nothing is kept)."""
        for path in self.files():
            read_price_file(path, self.today)

    def fetch(self, tickers: list[str], start: date | None = None, end: date | None = None) -> SourceResult:
        """Read every CSV in the directory (universe or not), filtered to [start, end]."""
        frames: list[pl.DataFrame] = []
        warnings: list[SourceWarning] = []
        rejected = 0
        for path in self.files():
            parsed = read_price_file(path, self.today)
            frame, dropped = parsed.frame, parsed.dropped
            if parsed.date_format is not None:
                order = "DD/MM/YYYY" if parsed.date_format == "%d/%m/%Y" else "MM/DD/YYYY"
                warnings.append(
                    SourceWarning(
                        "prices",
                        path.stem.upper(),
                        "date_format",
                        f"{path}: slash dates read as {order} (the only order every date in the file allows)",
                    )
                )
            if dropped:
                rejected += dropped
                warnings.append(
                    SourceWarning(
                        "prices",
                        path.stem.upper(),
                        "rows_missing_close",
                        f"{path}: {dropped} rows with an empty or null close were skipped",
                    )
                )
            frames.append(frame)
        prices = pl.concat(frames, how="vertical") if frames else pl.DataFrame(schema=PRICE_COLUMNS)
        if start is not None:
            prices = prices.filter(pl.col("date") >= start)
        if end is not None:
            prices = prices.filter(pl.col("date") <= end)
        present = set(prices["ticker"].unique().to_list())
        for ticker in tickers:
            if ticker not in present:
                warnings.append(
                    SourceWarning(
                        "prices",
                        ticker,
                        "ticker_missing",
                        f"no prices for {ticker} in {self.directory} for the requested dates",
                    )
                )
        return SourceResult(
            source=self.name,
            frames={"core.prices_daily": prices},
            warnings=warnings,
            failed_subjects=[w.subject for w in warnings if w.code == "ticker_missing"],
            rejected_rows=rejected,
        )


def extract(ctx: ExtractContext) -> SourceResult:
    """The source registry's entry point (flows.sources.registry): the folder is the run's --prices-from."""
    if ctx.option is None:
        raise PriceFileError(Path("."), "no price folder given (--prices-from)")
    return CsvPriceSource(ctx.option).fetch(ctx.tickers, ctx.start, ctx.end)


def validate(directory: str) -> None:
    """The registry's pre-flight check: parse every file, so a bad one fails before the flow starts."""
    CsvPriceSource(directory).validate()
