"""Row checks any price source can use: garbage is dropped and counted per ticker, never loaded.

Missing or non-finite closes, non-positive prices, negative volumes and duplicated dates are rejected and
counted (the caller turns the counts into `rows_rejected` warnings); they never reach `core.prices_daily`.
The Yahoo source runs every download through it. The CSV source is stricter on purpose: a malformed file is
an error naming file, line and column (a hand-made file should be fixed, not half loaded).
"""

from __future__ import annotations

from typing import Any

import polars as pl

from flows.sources.base import PRICE_COLUMNS

REJECT_SCHEMA = pl.Schema({"ticker": pl.String(), "reason": pl.String(), "rows": pl.UInt32()})
"""Rejected-row counts per (ticker, reason)."""


def _sorted_by_key(frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` ordered by (ticker, date), sorting only when needed (yfinance chunks arrive ordered)."""
    prev_ticker, prev_date = pl.col("ticker").shift(1), pl.col("date").shift(1)
    in_order = (pl.col("ticker") > prev_ticker) | ((pl.col("ticker") == prev_ticker) & (pl.col("date") >= prev_date))
    if frame.height < 2 or frame.select(in_order.fill_null(True).all()).item():
        return frame
    return frame.sort("ticker", "date", maintain_order=True)


def validate_prices(raw: pl.DataFrame, source: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(clean PRICE_COLUMNS rows stamped with `source`, rejected counts per ticker and reason).

    A row is rejected when close or adj_close is missing or NaN, any price is non-finite or not positive,
    volume is negative, or its (ticker, date) already appeared (the first occurrence is kept, as yfinance
    itself does). Missing open/high/low/volume alone are not garbage: they are stored as NULL. Duplicates
    are found by comparing neighbours in key order, which is linear; a hash or window over millions of
    rows would cost more than the rest of the load.
    """
    price_cols = ["open", "high", "low", "close", "adj_close"]
    ordered = _sorted_by_key(raw)
    duplicate = (pl.col("ticker") == pl.col("ticker").shift(1)) & (pl.col("date") == pl.col("date").shift(1))
    is_missing = {c: pl.col(c).is_null() | pl.col(c).is_nan() for c in price_cols}
    rules = [  # in order of precedence: a row is counted under its first broken rule
        ("missing_close", is_missing["close"] | is_missing["adj_close"]),
        ("non_finite_price", pl.any_horizontal([pl.col(c).is_infinite() for c in price_cols]).fill_null(False)),
        (
            "non_positive_price",
            pl.any_horizontal([(pl.col(c) <= 0) & ~is_missing[c] for c in price_cols]).fill_null(False),
        ),
        ("negative_volume", (pl.col("volume") < 0).fill_null(False)),
        ("duplicate_date", duplicate.fill_null(False)),
    ]
    if not ordered.select(pl.any_horizontal([rule for _, rule in rules]).any()).item():
        # The usual case: nothing to reject, so no per-row reason is built.
        checked = ordered
        rejected = pl.DataFrame(schema=REJECT_SCHEMA)
    else:
        reason: Any = pl
        for code, rule in rules:
            reason = reason.when(rule).then(pl.lit(code))
        checked = ordered.with_columns(reason.otherwise(pl.lit(None, pl.String)).alias("_reject"))
        rejected = (
            checked.filter(pl.col("_reject").is_not_null())
            .group_by("ticker", "_reject")
            .agg(pl.len().alias("rows"))
            .rename({"_reject": "reason"})
            .sort("ticker", "reason")
            .cast(REJECT_SCHEMA)
        )
        checked = checked.filter(pl.col("_reject").is_null())
    clean = checked.select(
        "ticker",
        "date",
        *[pl.col(c).fill_nan(None) for c in ("open", "high", "low")],
        "close",
        "adj_close",
        pl.col("volume").fill_nan(None).round(0).cast(pl.Int64).alias("volume"),
        pl.lit(source).alias("source"),
    )
    return clean.cast(pl.Schema(PRICE_COLUMNS)), rejected
