"""Daily returns from adjusted closes: per ticker, previous available row, order-free; real sell-off figures."""

from __future__ import annotations

import csv
import datetime as dt
from itertools import pairwise
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from transforms.returns import daily_returns


def _prices(rows: list[tuple[str, dt.date, float | None]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema={"ticker": pl.String, "date": pl.Date, "adj_close": pl.Float64}, orient="row")


def test_returns_per_ticker_in_date_order_first_row_dropped() -> None:
    prices = _prices(
        [
            ("B", dt.date(2025, 1, 3), 110.0),
            ("A", dt.date(2025, 1, 3), 105.0),
            ("A", dt.date(2025, 1, 2), 100.0),
            ("A", dt.date(2025, 1, 6), 94.5),
            ("B", dt.date(2025, 1, 2), 100.0),
        ]
    )
    out = daily_returns(prices)
    assert out.schema == pl.Schema({"ticker": pl.String, "date": pl.Date, "ret": pl.Float64})
    assert out.select("ticker", "date").rows() == [
        ("A", dt.date(2025, 1, 3)),
        ("A", dt.date(2025, 1, 6)),
        ("B", dt.date(2025, 1, 3)),
    ]
    # 105/100 - 1, 94.5/105 - 1 = -0.1 exactly in decimal, 110/100 - 1
    assert out["ret"].to_list() == pytest.approx([0.05, -0.1, 0.10], abs=1e-15)


def test_gap_uses_previous_available_row_and_null_close_is_absent() -> None:
    """A skipped session gives one return over the gap; a null close is the same as a missing row."""
    prices = _prices(
        [
            ("A", dt.date(2025, 1, 2), 100.0),
            ("A", dt.date(2025, 1, 3), None),
            ("A", dt.date(2025, 1, 6), 120.0),
            ("A", dt.date(2025, 1, 8), 90.0),
        ]
    )
    out = daily_returns(prices)
    assert out["date"].to_list() == [dt.date(2025, 1, 6), dt.date(2025, 1, 8)]
    assert out["ret"].to_list() == pytest.approx([0.2, -0.25], abs=1e-15)


def test_other_columns_are_ignored_and_single_row_ticker_vanishes() -> None:
    prices = _prices(
        [("A", dt.date(2025, 1, 2), 10.0), ("A", dt.date(2025, 1, 3), 11.0), ("C", dt.date(2025, 1, 2), 5.0)]
    )
    prices = prices.with_columns(pl.lit("csv:x").alias("source"), pl.lit(1.0).alias("close"))
    out = daily_returns(prices)
    assert out.columns == ["ticker", "date", "ret"]
    assert out["ticker"].to_list() == ["A"]


def test_duplicate_ticker_date_and_missing_columns_raise() -> None:
    dup = _prices([("A", dt.date(2025, 1, 2), 10.0), ("A", dt.date(2025, 1, 2), 11.0)])
    with pytest.raises(ValueError, match="repeat"):
        daily_returns(dup)
    with pytest.raises(ValueError, match="adj_close"):
        daily_returns(dup.rename({"adj_close": "close"}))


def test_empty_prices_give_empty_typed_returns() -> None:
    out = daily_returns(_prices([]))
    assert out.is_empty() and out.schema == pl.Schema({"ticker": pl.String, "date": pl.Date, "ret": pl.Float64})


@settings(max_examples=25, deadline=None)
@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_row_order_does_not_change_returns(seed: int) -> None:
    rng = np.random.default_rng(seed)
    dates = pl.date_range(dt.date(2024, 1, 1), dt.date(2024, 3, 1), eager=True).to_list()
    rows = [
        (t, d, float(p)) for t in ("A", "B", "C") for d, p in zip(dates, rng.uniform(10, 20, len(dates)), strict=True)
    ]
    prices = _prices(rows)
    shuffled = prices[rng.permutation(prices.height).tolist()]
    assert daily_returns(shuffled).equals(daily_returns(prices))


def _over_ticker(prices: pl.DataFrame) -> pl.DataFrame:
    """The definition written the plain way (a per-ticker window after a sort), to compare with."""
    return (
        prices.select("ticker", "date", "adj_close")
        .filter(pl.col("adj_close").is_not_null())
        .sort("ticker", "date")
        .with_columns((pl.col("adj_close") / pl.col("adj_close").shift(1).over("ticker") - 1).alias("ret"))
        .filter(pl.col("ret").is_not_null())
        .select("ticker", "date", "ret")
    )


@settings(max_examples=25, deadline=None)
@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_returns_equal_a_per_ticker_window_with_gaps_nulls_and_a_null_ticker(seed: int) -> None:
    rng = np.random.default_rng(seed)
    dates = pl.date_range(dt.date(2024, 1, 1), dt.date(2024, 2, 15), eager=True).to_list()
    rows = [
        (t, d, None if rng.random() < 0.1 else float(rng.uniform(10, 20)))
        for t in ("A", "B", None, "C")
        for d in dates
        if rng.random() < 0.8
    ]
    prices = _prices(rows)[rng.permutation(len(rows)).tolist()]
    assert daily_returns(prices).equals(_over_ticker(prices))


@pytest.mark.parametrize("dtype", [pl.Categorical(), pl.Enum(["C", "B", "A", "Z"])])
def test_a_categorical_ticker_gives_an_enum_of_the_sorted_tickers_and_the_same_rows(dtype: pl.DataType) -> None:
    """A DuckDB ENUM arrives as a Categorical: the returns keep it as an Enum (two bytes a row, not a string)."""
    rng = np.random.default_rng(5)
    dates = pl.date_range(dt.date(2024, 1, 1), dt.date(2024, 3, 1), eager=True).to_list()
    rows = [(t, d, float(rng.uniform(10, 20))) for t in ("C", "A", "B") for d in dates if rng.random() < 0.9]
    prices = _prices(rows)[rng.permutation(len(rows)).tolist()]
    out = daily_returns(prices.with_columns(pl.col("ticker").cast(dtype)))
    assert out.schema == pl.Schema({"ticker": pl.Enum(["A", "B", "C"]), "date": pl.Date, "ret": pl.Float64})
    assert out.with_columns(pl.col("ticker").cast(pl.String)).equals(daily_returns(prices))
    dup = prices.head(1).vstack(prices.head(1)).with_columns(pl.col("ticker").cast(dtype))
    with pytest.raises(ValueError, match="repeat"):
        daily_returns(dup)


def _csv_closes(path: Path) -> dict[dt.date, float]:
    with path.open(newline="") as f:
        return {dt.date.fromisoformat(r["Date"]): float(r["Close"]) for r in csv.DictReader(f)}


@pytest.mark.parametrize(
    ("ticker", "day", "expected"),
    [
        ("CEG", dt.date(2025, 1, 27), -0.2085),  # DeepSeek R1 sell-off
        ("VST", dt.date(2025, 1, 27), -0.2827),
        ("CEG", dt.date(2024, 9, 20), 0.2229),  # Three Mile Island restart PPA with Microsoft
    ],
)
def test_real_event_day_returns(real_prices_dir: Path, ticker: str, day: dt.date, expected: float) -> None:
    path = real_prices_dir / f"{ticker}.csv"
    prices = pl.read_csv(path, try_parse_dates=True).select(
        pl.lit(ticker).alias("ticker"), pl.col("Date").cast(pl.Date).alias("date"), pl.col("Close").alias("adj_close")
    )
    out = daily_returns(prices)
    assert out.filter(pl.col("date") == day)["ret"].item() == pytest.approx(expected, abs=1e-4)  # ±0.01 pp
    # every return equals close / previous close - 1, read independently with the csv module
    closes = _csv_closes(path)
    days = sorted(closes)
    reference = {d: closes[d] / closes[p] - 1 for p, d in pairwise(days)}
    assert out.height == len(reference)
    got = dict(zip(out["date"].to_list(), out["ret"].to_list(), strict=True))
    assert max(abs(got[d] - r) for d, r in reference.items()) < 1e-15
