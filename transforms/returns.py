"""Daily simple returns from adjusted closes.

`ret_t = adj_close_t / adj_close_prev - 1`, where prev is the ticker's previous available row by date (not the
previous calendar or trading day: a ticker that skipped a session gets one return spanning the gap, and the event
study sees the skipped day as a missing rel_day). Adjusted closes make a dividend or split day an ordinary
return. The first row of each ticker has no predecessor and is dropped rather than emitted as null, so every
output row is usable. Pure polars: frames in, frames out.
"""

from __future__ import annotations

import polars as pl

RETURN_SCHEMA: dict[str, pl.DataType] = {"ticker": pl.String(), "date": pl.Date(), "ret": pl.Float64()}


def daily_returns(prices: pl.DataFrame) -> pl.DataFrame:
    """`ticker, date, ret` for every row after a ticker's first, sorted by ticker and date.

    Input needs `ticker, date, adj_close` in any row order (other columns are ignored). Rows with a null
    adj_close are treated as absent. A repeated (ticker, date) raises ValueError: which close is right is
    undecidable here, and silently picking one would make returns depend on row order.
    """
    missing = [c for c in ("ticker", "date", "adj_close") if c not in prices.columns]
    if missing:
        raise ValueError(f"prices lacks column(s) {missing}; has {prices.columns}")
    frame = prices.select(
        pl.col("ticker").cast(pl.String), pl.col("date").cast(pl.Date), pl.col("adj_close").cast(pl.Float64)
    ).filter(pl.col("adj_close").is_not_null())
    dupes = frame.filter(pl.struct("ticker", "date").is_duplicated())
    if dupes.height:
        raise ValueError(f"prices repeat (ticker, date): {dupes.select('ticker', 'date').unique().head(3).rows()}")
    return (
        frame.sort("ticker", "date")
        .with_columns((pl.col("adj_close") / pl.col("adj_close").shift(1).over("ticker") - 1).alias("ret"))
        .filter(pl.col("ret").is_not_null())
        .select([pl.col(c).cast(t) for c, t in RETURN_SCHEMA.items()])
    )
