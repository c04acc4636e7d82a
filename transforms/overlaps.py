"""Confounded events: which other catalogued events' day 0 fall inside an event's CAR window (issue 15, section 3).

An event's window [a, b] covers the trading days day0 + a .. day0 + b of the benchmark's calendar (day 0 = first
trading day on or after event_date, as in transforms.event_study; positions past the calendar's ends count as
days too, so a window running past the last price is judged on the days it would cover). Another event whose
day 0 lies in that range reacts inside the window, so the window's CAR (marts.event_impact) and CAAR
(marts.group_impact) mix both reactions: meta_capex_2025 (Friday 2025-01-24) has DeepSeek Monday as day +1 of its
[0, +1] window. Events sharing a day 0 confound each other in every window. Events after the last trading day
have no day 0 and get no row (the event study skips them too).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl

from warehouse.tables.shocks import EVENT_OVERLAPS

OVERLAPS_SCHEMA = EVENT_OVERLAPS.polars_schema()
"""marts.event_overlaps, from the registry."""


def event_overlaps(
    events: pl.DataFrame, calendar: pl.Series | Sequence[object], windows: Sequence[tuple[int, int]]
) -> pl.DataFrame:
    """marts.event_overlaps rows: one per (event with a day 0, window), sorted by event_id and window.

    `events`: event_id, event_date (core.ai_events); `calendar`: the benchmark's trading dates (any order);
    `windows`: the CAR windows (EventStudyConfig.car_windows). confounded_by lists the other events whose day 0
    lies in [day0 + a, day0 + b] in (day 0, event_id) order, null when none. One join of events x events x
    windows on calendar positions: a catalog is tens of events, so the cross product is small.
    """
    cal = np.unique(pl.Series(calendar).cast(pl.Date).drop_nulls().to_numpy())
    ev = events.select(pl.col("event_id").cast(pl.String), pl.col("event_date").cast(pl.Date))
    pos = np.searchsorted(cal, ev["event_date"].to_numpy(), side="left")
    dated = ev.with_columns(pl.Series("pos", pos, dtype=pl.Int64)).filter(pl.col("pos") < len(cal))
    dated = dated.with_columns(pl.Series("day0", cal[dated["pos"].to_numpy()]).cast(pl.Date))
    win = pl.DataFrame(
        {"window_start": [a for a, _ in windows], "window_end": [b for _, b in windows]},
        schema={"window_start": pl.Int32, "window_end": pl.Int32},
    ).unique(maintain_order=True)
    base = dated.join(win, how="cross")
    others = dated.select(
        pl.col("event_id").alias("other_id"), pl.col("pos").alias("other_pos"), pl.col("day0").alias("other_day0")
    )
    hits = (
        base.join(others, how="cross")
        .filter(
            (pl.col("other_id") != pl.col("event_id"))
            & (pl.col("other_pos") >= pl.col("pos") + pl.col("window_start"))
            & (pl.col("other_pos") <= pl.col("pos") + pl.col("window_end"))
        )
        .sort("other_day0", "other_id")
        .group_by("event_id", "window_start", "window_end", maintain_order=True)
        .agg(pl.len().alias("n_confounders"), pl.col("other_id").str.join(", ").alias("confounded_by"))
    )
    out = base.join(hits, on=["event_id", "window_start", "window_end"], how="left").with_columns(
        pl.col("n_confounders").fill_null(0)
    )
    return out.select([pl.col(c).cast(t) for c, t in OVERLAPS_SCHEMA.items()]).sort(
        "event_id", "window_start", "window_end"
    )


def annotate_confounded(impact: pl.DataFrame, overlaps: pl.DataFrame) -> pl.DataFrame:
    """`impact` (marts.event_impact or marts.group_impact rows, or any frame with event_id, window_start,
    window_end) with a `confounded_by` column appended from `overlaps` (null = clean window). Row order and
    every other column are kept."""
    missing = [c for c in ("event_id", "window_start", "window_end") if c not in impact.columns]
    if missing:
        raise ValueError(f"frame to annotate lacks column(s) {missing}; has {impact.columns}")
    right = overlaps.select(
        pl.col("event_id").cast(pl.String),
        pl.col("window_start").cast(pl.Int32),
        pl.col("window_end").cast(pl.Int32),
        pl.col("confounded_by").cast(pl.String),
    )
    left = impact.with_columns(
        pl.col("event_id").cast(pl.String).alias("_event_key"),
        pl.col("window_start").cast(pl.Int32).alias("_start_key"),
        pl.col("window_end").cast(pl.Int32).alias("_end_key"),
    )
    right = right.rename({"event_id": "_event_key", "window_start": "_start_key", "window_end": "_end_key"})
    joined = left.join(right, on=["_event_key", "_start_key", "_end_key"], how="left", maintain_order="left")
    return joined.drop("_event_key", "_start_key", "_end_key")
