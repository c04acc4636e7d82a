"""Daily simple returns from adjusted closes.

`ret_t = adj_close_t / adj_close_{t-1} - 1`, where t-1 is the ticker's previous available row. Adjusted closes
make a dividend or split day an ordinary return. Pure polars: frames in, frames out.
"""

from __future__ import annotations

import polars as pl

RETURN_SCHEMA = {"ticker": pl.String, "date": pl.Date, "ret": pl.Float64}


def daily_returns(prices: pl.DataFrame) -> pl.DataFrame:
    """`ticker, date, ret` for every row after a ticker's first; input needs `ticker, date, adj_close`."""
    return (
        prices.lazy()
        .select("ticker", "date", "adj_close")
        .sort("ticker", "date")
        .with_columns((pl.col("adj_close") / pl.col("adj_close").shift(1).over("ticker") - 1).alias("ret"))
        .filter(pl.col("ret").is_not_null())
        .select(pl.col("ticker").cast(pl.String), pl.col("date").cast(pl.Date), pl.col("ret").cast(pl.Float64))
        .collect()
    )
