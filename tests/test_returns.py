"""Daily returns from adjusted closes."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from transforms.returns import daily_returns


def test_returns_per_ticker_in_date_order() -> None:
    prices = pl.DataFrame(
        {
            "ticker": ["B", "A", "A", "A", "B"],
            "date": [
                dt.date(2025, 1, 3),
                dt.date(2025, 1, 3),
                dt.date(2025, 1, 2),
                dt.date(2025, 1, 6),
                dt.date(2025, 1, 2),
            ],
            "adj_close": [110.0, 105.0, 100.0, 94.5, 100.0],
        }
    )
    out = daily_returns(prices)
    assert out.columns == ["ticker", "date", "ret"]
    assert out["ticker"].to_list() == ["A", "A", "B"]
    assert out["ret"].to_list() == pytest.approx([0.05, 94.5 / 105 - 1, 0.10], abs=1e-15)


def test_real_selloff_return(real_prices_dir) -> None:  # type: ignore[no-untyped-def]
    prices = pl.read_csv(real_prices_dir / "VST.csv", try_parse_dates=True).select(
        pl.lit("VST").alias("ticker"), pl.col("Date").alias("date"), pl.col("Close").alias("adj_close")
    )
    ret = daily_returns(prices).filter(pl.col("date") == dt.date(2025, 1, 27))["ret"][0]
    assert ret == pytest.approx(-0.2827, abs=1e-4)
