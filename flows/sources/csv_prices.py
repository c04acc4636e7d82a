"""Daily prices from a directory of per-ticker CSV files (`TICKER.csv`), as Yahoo and most vendors export.

Each file needs a `Date` column and `Adj Close` or `Close`; `Open`, `High`, `Low`, `Volume` are optional.
Where only `Close` exists it is taken as the adjusted close too (vendor "close" exports such as
../shared/data/prices_daily_close are already split- and dividend-adjusted) and is stored in both `close`
and `adj_close`. Column names match case-insensitively.

A malformed file is an error naming the file, line and column (nothing is loaded). Empty cells or the
literal `null` (Yahoo's marker for a missing session) drop that row and are counted as rejected rows with a
warning. Tickers of the universe without a file are a warning; files of tickers outside the universe load too.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl

from flows.sources.base import PRICE_COLUMNS, ExtractContext, SourceResult, SourceWarning
from warehouse.errors import PriceFileError

_OPTIONAL = {"open": "open", "high": "high", "low": "low", "volume": "volume"}
_MISSING_MARKERS = ("", "null", "NaN", "nan", "NA", "N/A")


def _find_column(columns: list[str], *names: str) -> str | None:
    lowered = {c.strip().lower(): c for c in columns}
    for name in names:
        if name in lowered:
            return lowered[name]
    return None


def _first_bad(frame: pl.DataFrame, mask: pl.Series) -> int:
    """Physical line number (header is line 1) of the first row flagged by mask."""
    return int(frame.with_row_index("_i").filter(mask)["_i"][0]) + 2


def read_price_file(path: Path) -> tuple[pl.DataFrame, int]:
    """Parse one price file into PRICE_COLUMNS rows; returns (frame, rows dropped as missing)."""
    ticker = path.stem.strip().upper()
    try:
        raw = pl.read_csv(path, infer_schema=False, encoding="utf8")
    except pl.exceptions.NoDataError as exc:
        raise PriceFileError(path, "file is empty") from exc
    except (pl.exceptions.ComputeError, UnicodeDecodeError) as exc:
        raise PriceFileError(path, f"not a readable UTF-8 CSV file ({exc})") from exc
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

    parsed_date = pl.coalesce(
        pl.col("date").str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False),
        pl.col("date").str.to_date("%m/%d/%Y", strict=False),
    )
    exprs = [parsed_date.alias("date")]
    for name in value_cols:
        dtype = pl.Int64 if name == "volume" else pl.Float64
        cleaned = pl.when(pl.col(name).is_in(_MISSING_MARKERS)).then(None).otherwise(pl.col(name))
        cast = cleaned.cast(pl.Float64, strict=False)
        exprs.append((cast.round(0) if name == "volume" else cast).cast(dtype).alias(name))
    typed = kept.select(pl.col("_line"), *exprs)

    bad_date = typed["date"].is_null()
    if bad_date.any():
        line = int(typed.filter(bad_date)["_line"][0])
        value = kept.filter(pl.col("_line") == line)["date"][0]
        raise PriceFileError(path, f"unparseable date {value!r} (expected YYYY-MM-DD)", line=line, column=date_col)
    for name, src in value_cols.items():
        unparsed = typed[name].is_null() & ~(kept[name].is_null() | kept[name].is_in(_MISSING_MARKERS))
        if unparsed.any():
            line = int(typed.filter(unparsed)["_line"][0])
            value = kept.filter(pl.col("_line") == line)[name][0]
            raise PriceFileError(path, f"unparseable number {value!r}", line=line, column=src)
        if name != "volume":
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
    return frame.select([pl.col(n).cast(t) for n, t in PRICE_COLUMNS.items()]).sort("date"), dropped


class CsvPriceSource:
    """PriceSource over a directory of `TICKER.csv` files."""

    name = "csv"

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)

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
            read_price_file(path)

    def fetch(self, tickers: list[str], start: date | None = None, end: date | None = None) -> SourceResult:
        """Read every CSV in the directory (universe or not), filtered to [start, end]."""
        frames: list[pl.DataFrame] = []
        warnings: list[SourceWarning] = []
        rejected = 0
        for path in self.files():
            frame, dropped = read_price_file(path)
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
