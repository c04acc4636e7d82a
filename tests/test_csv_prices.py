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
    frame, dropped = read_price_file(path)
    assert dropped == 0
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
        ("A.csv", "", r"A\.csv: file is empty"),
        ("A.csv", "Date,Close\n", r"A\.csv: file has a header but no rows"),
    ],
)
def test_malformed_files_are_named(tmp_path: Path, name: str, text: str, message: str) -> None:
    _write(tmp_path, name, text)
    with pytest.raises(PriceFileError, match=message):
        CsvPriceSource(tmp_path).fetch([])


def test_directory_problems_are_named(tmp_path: Path) -> None:
    with pytest.raises(PriceFileError, match="does not exist"):
        CsvPriceSource(tmp_path / "missing").fetch([])
    with pytest.raises(PriceFileError, match=r"no \.csv files"):
        CsvPriceSource(tmp_path).fetch([])
    (tmp_path / "B.csv").write_bytes(b"Date,Close\n2025-01-24,\xff\xfe1\n")
    with pytest.raises(PriceFileError, match=r"B\.csv"):
        CsvPriceSource(tmp_path).fetch([])
