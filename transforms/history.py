"""Drop prices from before a ticker was the company it is now (issue 15, section 4).

core.universe.history_from (warehouse/seeds/universe.csv) is the first date whose price describes today's
company: the first close after a SPAC merger (before it, the ticker priced a cash shell), or the first regular-way
close after a spin-off (before it, thin when-issued trading). That close is kept as the base of the first return,
so returns begin the trading day after history_from; the jump from the shell's last price to the company's first
(OKLO 2024-05-09 -> 2024-05-10: -53.6%) is never a return. A ticker without history_from keeps all its rows.
"""

from __future__ import annotations

import polars as pl


def _history(universe: pl.DataFrame) -> pl.DataFrame:
    if "history_from" not in universe.columns:
        return pl.DataFrame(schema={"ticker": pl.String, "history_from": pl.Date})
    return universe.select(pl.col("ticker").cast(pl.String), pl.col("history_from").cast(pl.Date)).filter(
        pl.col("history_from").is_not_null()
    )


def _drop(frame: pl.DataFrame, universe: pl.DataFrame, keep: pl.Expr) -> pl.DataFrame:
    missing = [c for c in ("ticker", "date") if c not in frame.columns]
    if missing:
        raise ValueError(f"frame lacks column(s) {missing}; has {frame.columns}")
    starts = _history(universe)
    if starts.is_empty():
        return frame
    dtype = frame.schema["ticker"]
    starts = starts.filter(pl.col("ticker").is_in(frame["ticker"].cast(pl.String).unique().to_list()))
    joined = frame.join(
        starts.with_columns(pl.col("ticker").cast(dtype)), on="ticker", how="left", maintain_order="left"
    )
    return joined.filter(pl.col("history_from").is_null() | keep).drop("history_from")


def prices_from_history(prices: pl.DataFrame, universe: pl.DataFrame) -> pl.DataFrame:
    """`prices` (any frame with ticker, date) without the rows dated before each ticker's history_from; the
    history_from row itself is kept (the base of the first return). Row order and columns are kept."""
    return _drop(prices, universe, pl.col("date") >= pl.col("history_from"))


def returns_from_history(returns: pl.DataFrame, universe: pl.DataFrame) -> pl.DataFrame:
    """`returns` (ticker, date, ret) without the returns dated on or before each ticker's history_from: the
    return dated history_from spans the change of company. Equal to daily_returns(prices_from_history(...))."""
    return _drop(returns, universe, pl.col("date") > pl.col("history_from"))
