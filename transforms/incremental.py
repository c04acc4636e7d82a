"""Incremental price loading, as pure functions: what to fetch, and whether a fetched overlap shows a restatement.

A daily run must cost in proportion to the new days, not to the history, so each ticker is fetched from its
last loaded date minus a small overlap. The overlap is not waste: Yahoo rewrites adjusted closes backwards
after every dividend and split, and re-fetching a few already stored days is how a run notices. When the
overlap disagrees with what is stored (the adj_close/close ratio moved, the close moved, or a corporate action
appeared that the warehouse has not seen), the ticker's whole stored history is stale and must be refetched
and replaced; `detect_restatements` says which tickers and why.

No I/O here: the flow reads the warehouse, these functions decide, the source fetches.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import polars as pl

PLAN_SCHEMA = pl.Schema({"ticker": pl.String(), "start": pl.Date(), "last_date": pl.Date()})
"""Schema of plan_price_fetch's result; last_date is null for a ticker never loaded."""

RESTATEMENT_SCHEMA = pl.Schema({"ticker": pl.String(), "reason": pl.String()})


def plan_price_fetch(
    last_loaded: pl.DataFrame,
    tickers: Sequence[str],
    history_start: date,
    overlap_days: int,
    today: date,
) -> pl.DataFrame:
    """Per ticker, the first date to fetch: last loaded date minus `overlap_days` trading days, else history_start.

    `last_loaded` has one row per ticker already in the warehouse: `ticker`, `last_date` and optionally
    `overlap_start`, the date of the ticker's `overlap_days`-th most recent stored row (the warehouse knows
    its real trading days; without it, weekdays stand in for trading days, so a holiday inside the window
    only widens the overlap by a day). Tickers of `last_loaded` not in `tickers` are ignored. A start never
    lies after `today`, so a ticker loaded "up to today" is still re-checked over its overlap.

    Returns `ticker, start, last_date` in the order of `tickers` (duplicates dropped).
    """
    if overlap_days < 0:
        raise ValueError(f"overlap_days must be >= 0, got {overlap_days}")
    wanted = pl.DataFrame({"ticker": list(dict.fromkeys(tickers))}, schema={"ticker": pl.String()})
    if wanted.is_empty():
        return pl.DataFrame(schema=PLAN_SCHEMA)
    cols = ["ticker", "last_date"] + (["overlap_start"] if "overlap_start" in last_loaded.columns else [])
    known = last_loaded.select(cols).with_columns(pl.col("ticker").cast(pl.String), pl.col("last_date").cast(pl.Date))
    if "overlap_start" not in known.columns:
        known = known.with_columns(pl.lit(None, pl.Date).alias("overlap_start"))
    known = known.unique(subset="ticker", keep="last")
    by_weekdays = pl.col("last_date").dt.add_business_days(-overlap_days, roll="backward")
    start = (
        pl.when(pl.col("last_date").is_null())
        .then(pl.lit(history_start))
        .otherwise(pl.coalesce(pl.col("overlap_start").cast(pl.Date), by_weekdays))
    )
    return (
        wanted.join(known, on="ticker", how="left", maintain_order="left")
        .with_columns(pl.min_horizontal(start, pl.lit(today)).alias("start"))
        .select(list(PLAN_SCHEMA))
        .cast(PLAN_SCHEMA)
    )


def _ratio_reason(kind: str) -> pl.Expr:
    return pl.format(
        f"{kind} on {{}} changed from {{}} to {{}} ({{}} days of the overlap differ)",
        pl.col("date"),
        pl.col("stored").round_sig_figs(8),
        pl.col("fetched").round_sig_figs(8),
        pl.col("n_days"),
    )


def detect_restatements(
    stored_overlap: pl.DataFrame,
    fetched: pl.DataFrame,
    tolerance: float = 1e-4,
    stored_actions: pl.DataFrame | None = None,
    fetched_actions: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Tickers whose fetched overlap contradicts the stored rows, with a human-readable reason.

    Compares rows present in both frames (`ticker, date, close, adj_close`) by relative difference:

    - the adj_close/close ratio moved by more than `tolerance`: a dividend (or a corrected one) rescaled the
      whole adjusted history before it;
    - the close moved by more than `tolerance`: a split (Yahoo's close is split-adjusted, so the ratio alone
      does not move) or a data correction.

    With both action frames given (`ticker, date, kind, value`), a fetched action absent from the stored ones
    (or with another value) is a restatement too: it catches small dividends below the tolerance.

    `tolerance` is relative (1e-4 = 0.01%): well above float noise in Yahoo's figures, well below any real
    dividend adjustment. One row per restated ticker, the first differing day named, sorted by ticker.
    """
    if tolerance < 0:
        raise ValueError(f"tolerance must be >= 0, got {tolerance}")
    keys = ["ticker", "date"]
    joined = stored_overlap.select(*keys, "close", "adj_close").join(
        fetched.select(*keys, "close", "adj_close"), on=keys, how="inner", suffix="_new"
    )
    ratio_old = pl.col("adj_close") / pl.col("close")
    ratio_new = pl.col("adj_close_new") / pl.col("close_new")
    checks = {
        "adj_close/close ratio": (ratio_old, ratio_new),
        "close": (pl.col("close"), pl.col("close_new")),
    }
    reasons: list[pl.DataFrame] = []
    for priority, (kind, (old, new)) in enumerate(checks.items()):
        differs = ((new / old - 1).abs() > tolerance).fill_null(False) | (old.is_null() != new.is_null())
        diff = (
            joined.with_columns(old.alias("stored"), new.alias("fetched"))
            .filter(differs)
            .sort(keys)
            .group_by("ticker", maintain_order=True)
            .agg(pl.col("date").first(), pl.col("stored").first(), pl.col("fetched").first(), pl.len().alias("n_days"))
        )
        reasons.append(diff.select("ticker", pl.lit(priority).alias("priority"), _ratio_reason(kind).alias("reason")))
    if stored_actions is not None and fetched_actions is not None:
        action_keys = ["ticker", "date", "kind"]
        new_actions = (
            fetched_actions.select(*action_keys, "value")
            .join(stored_actions.select(*action_keys, "value"), on=action_keys, how="left", suffix="_stored")
            .filter(
                pl.col("value_stored").is_null()
                | ((pl.col("value") / pl.col("value_stored") - 1).abs() > tolerance).fill_null(True)
            )
            .sort(action_keys)
            .group_by("ticker", maintain_order=True)
            .agg(pl.col("date").first(), pl.col("kind").first(), pl.col("value").first())
        )
        reasons.append(
            new_actions.select(
                "ticker",
                pl.lit(len(checks)).alias("priority"),
                pl.format("new {} of {} on {}", pl.col("kind"), pl.col("value"), pl.col("date")).alias("reason"),
            )
        )
    return (
        pl.concat(reasons)
        .sort("ticker", "priority")
        .unique(subset="ticker", keep="first", maintain_order=True)
        .select(list(RESTATEMENT_SCHEMA))
        .cast(RESTATEMENT_SCHEMA)
    )
