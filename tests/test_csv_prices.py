"""The CSV price source: real files parse; every malformed file is named with its line and column."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from flows.sources.csv_prices import CsvPriceSource, read_price_file
from warehouse.errors import PriceFileError


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_real_files_load_with_close_as_adjusted_close(real_prices_dir: Path) -> None:
    result = CsvPriceSource(real_prices_dir).fetch(["CEG", "VST", "AEP"])
    prices = result.frames["core.prices_daily"]
    assert prices["ticker"].n_unique() == 16
    ceg = prices.filter(
        (pl.col("ticker") == "CEG") & pl.col("date").is_in([dt.date(2025, 1, 24), dt.date(2025, 1, 27)])
    )
    closes = ceg.sort("date")["adj_close"].to_list()
    assert closes[1] / closes[0] - 1 == pytest.approx(-0.2085, abs=1e-4)
    assert (prices["close"] == prices["adj_close"]).all()
    assert [(w.subject, w.code) for w in result.warnings] == [("AEP", "ticker_missing")]
    assert prices.select(pl.struct("ticker", "date").is_duplicated().any()).item() is False


def test_full_yahoo_export_columns(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "xle.csv",
        "Date,Open,High,Low,Close,Adj Close,Volume\n"
        "2025-01-24,90.1,91.0,89.5,90.5,88.0,1000\n"
        "2025-01-27,89.0,89.9,87.0,88.2,85.8,2500\n",
    )
    parsed = read_price_file(path)
    frame, dropped = parsed.frame, parsed.dropped
    assert dropped == 0 and parsed.date_format is None
    row = frame.row(1, named=True)
    assert row["ticker"] == "XLE" and row["close"] == 88.2 and row["adj_close"] == 85.8 and row["volume"] == 2500
    assert row["source"] == "csv:xle.csv"


def test_null_rows_are_dropped_and_counted(tmp_path: Path) -> None:
    _write(tmp_path, "A.csv", "Date,Close\n2025-01-24,1.0\n2025-01-27,null\n2025-01-28,\n2025-01-29,1.2\n")
    result = CsvPriceSource(tmp_path).fetch(["A"])
    assert result.rejected_rows == 2
    assert result.frames["core.prices_daily"].height == 2
    assert result.warnings[0].code == "rows_missing_close"


def test_start_end_filter(real_prices_dir: Path) -> None:
    result = CsvPriceSource(real_prices_dir).fetch(["CEG"], dt.date(2025, 1, 1), dt.date(2025, 1, 31))
    dates = result.frames["core.prices_daily"]["date"]
    assert dates.min() >= dt.date(2025, 1, 1) and dates.max() <= dt.date(2025, 1, 31)


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("A.csv", "Day,Close\n2025-01-24,1\n", r"A\.csv, line 1: no Date column"),
        ("A.csv", "Date,Open\n2025-01-24,1\n", r"A\.csv, line 1: no 'Adj Close' or 'Close' column"),
        ("A.csv", "Date,Close\n2025-01-24,1\n2025-13-01,2\n", r"A\.csv, line 3, column 'Date': unparseable date"),
        (
            "A.csv",
            "Date,Close\n2025-01-24,1\n2025-01-27,abc\n",
            r"A\.csv, line 3, column 'Close': unparseable number 'abc'",
        ),
        (
            "A.csv",
            "Date,Close\n2025-01-24,1\n2025-01-27,-3\n",
            r"A\.csv, line 3, column 'Close': price must be positive",
        ),
        (
            "A.csv",
            "Date,Close\n2025-01-24,1\n2025-01-24,2\n",
            r"A\.csv, line 3: duplicate date 2025-01-24 \(lines 2 and 3\)",
        ),
        (
            "A.csv",
            "Date,Close\n02/01/2025,344.5\n03/01/2025,272.68\n",
            r"A\.csv, line 2, column 'Date': ambiguous date '02/01/2025': 2025-02-01 \(MM/DD/YYYY\) or "
            r"2025-01-02 \(DD/MM/YYYY\)",
        ),
        (
            "A.csv",
            "Date,Close\n13/01/2025,1\n01/14/2025,2\n",
            r"A\.csv, line 3, column 'Date': slash dates in both orders: '13/01/2025' \(line 2\) is DD/MM/YYYY",
        ),
        (
            "A.csv",
            "Date,Close\n2025-01-24,1\n2025-01-27,inf\n",
            r"line 3, column 'Close': price must be a finite number, got 'inf'",
        ),
        (
            "A.csv",
            "Date,Close\n2025-01-24,1e309\n",
            r"line 2, column 'Close': price must be a finite number, got '1e309'",
        ),
        ("A.csv", "Date,Close\n2025-01-24,NaN\n", r"line 2, column 'Close': price must be a finite number, got 'NaN'"),
        (
            "A.csv",
            "Date,Adj Close\n2025-01-24,-inf\n",
            r"column 'Adj Close': price must be a finite number, got '-inf'",
        ),
        (
            "A.csv",
            "Date,Close\n2025-01-24,1\n2031-01-27,2\n",
            r"A\.csv, line 3, column 'Date': date 2031-01-27 is in the future \(today is 2025-06-02\)",
        ),
        ("A.csv", "Date,Close,Close\n2025-01-24,1,2\n", r"A\.csv, line 1: columns 'Close' and 'Close' both map"),
        ("A.csv", "Date,Close,close\n2025-01-24,1,2\n", r"line 1: columns 'Close' and 'close' both map to the close"),
        (
            "A.csv",
            "Date,Adj Close,Adj Close\n2025-01-24,1,2\n",
            r"columns 'Adj Close' and 'Adj Close' both map to the adj_close",
        ),
        ("A.csv", "date,Date\n2025-01-24,1\n", r"columns 'date' and 'Date' both map to the date field"),
        ("A.csv", "", r"A\.csv: file is empty"),
        ("A.csv", "Date,Close\n", r"A\.csv: file has a header but no rows"),
    ],
)
def test_malformed_files_are_named(tmp_path: Path, name: str, text: str, message: str) -> None:
    _write(tmp_path, name, text)
    with pytest.raises(PriceFileError, match=message):
        CsvPriceSource(tmp_path, today=dt.date(2025, 6, 2)).fetch([])


@pytest.mark.parametrize(
    ("text", "fmt", "order"),
    [
        ("Date,Close\n02/01/2025,344.5\n13/01/2025,272.68\n", "%d/%m/%Y", "DD/MM/YYYY"),
        ("Date,Close\n01/02/2025,344.5\n01/13/2025,272.68\n", "%m/%d/%Y", "MM/DD/YYYY"),
    ],
)
def test_slash_dates_in_the_one_order_the_file_allows(tmp_path: Path, text: str, fmt: str, order: str) -> None:
    _write(tmp_path, "A.csv", text)
    assert read_price_file(tmp_path / "A.csv").date_format == fmt
    result = CsvPriceSource(tmp_path).fetch([])
    assert result.frames["core.prices_daily"]["date"].to_list() == [dt.date(2025, 1, 2), dt.date(2025, 1, 13)]
    [warning] = result.warnings
    assert warning.code == "date_format" and order in warning.message and "A.csv" in warning.message


def test_dates_up_to_today_on_the_exchange_calendar_load(tmp_path: Path) -> None:
    _write(tmp_path, "A.csv", "Date,Close\n2025-06-01,1\n2025-06-02,2\n")
    assert CsvPriceSource(tmp_path, today=dt.date(2025, 6, 2)).fetch([]).frames["core.prices_daily"].height == 2
    with pytest.raises(PriceFileError, match=r"line 3, column 'Date': date 2025-06-02 is in the future"):
        CsvPriceSource(tmp_path, today=dt.date(2025, 6, 1)).fetch([])


def test_nan_volume_is_unknown_not_an_error(tmp_path: Path) -> None:
    _write(tmp_path, "A.csv", "Date,Close,Volume\n2025-01-24,1.5,NaN\n")
    frame = read_price_file(tmp_path / "A.csv").frame
    assert frame["volume"].to_list() == [None] and frame["close"].to_list() == [1.5]


def test_directory_problems_are_named(tmp_path: Path) -> None:
    with pytest.raises(PriceFileError, match="does not exist"):
        CsvPriceSource(tmp_path / "missing").fetch([])
    with pytest.raises(PriceFileError, match=r"no \.csv files"):
        CsvPriceSource(tmp_path).fetch([])
    (tmp_path / "B.csv").write_bytes(b"Date,Close\n2025-01-24,\xff\xfe1\n")
    with pytest.raises(PriceFileError, match=r"B\.csv"):
        CsvPriceSource(tmp_path).fetch([])
