"""The report's "Shocks not in the catalog" section, and the confounded-window marker every section uses.

The candidates come from marts.shock_candidates; the z chart needs every group-day's z, which no mart stores
(it is 10⁵–10⁶ rows for a question asked of one report), so it is recomputed here from core.prices_daily with
the flow's own functions and configuration (transforms.history.returns_from_history, then
transforms.shocks.group_shock_series with DEFAULT_SHOCK_CONFIG): the same numbers as the mart's rows.
`window_note` / `fmt_window` put marts.event_overlaps' `confounded_by` next to a window figure, e.g.
"−18.60% (window holds deepseek_selloff)", so no confounded number reads as clean.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import polars as pl

from flows.report.cache import ChartCache
from flows.report.markup import esc, fmt_num, fmt_pct, group_cell, note, table, td_day, td_num, td_txt
from flows.report.style import group_order
from transforms.history import returns_from_history
from transforms.returns import daily_returns
from transforms.shocks import DEFAULT_SHOCK_CONFIG, SERIES_SCHEMA, group_shock_series
from warehouse.introspect import table_exists

CHART_FILE = "shocks_z.png"

OVERLAP_COLUMNS = {"event_id": pl.String, "window_start": pl.Int32, "window_end": pl.Int32, "confounded_by": pl.String}

CANDIDATE_HEADER = (
    "date",
    "group",
    "z",
    "abnormal return",
    "n tickers",
    "largest movers (abnormal returns)",
    "previous event",
    "next event",
    "rank in group",
)


@dataclass
class ShockFrames:
    """What the section reads: the mart's candidates, every group-day's z, and the overlaps of every window."""

    candidates: pl.DataFrame = field(default_factory=pl.DataFrame)
    series: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=SERIES_SCHEMA))
    overlaps: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=OVERLAP_COLUMNS))


def read_shock_frames(con: duckdb.DuckDBPyConnection) -> ShockFrames:
    """marts.shock_candidates, marts.event_overlaps and the z series; empty frames for a warehouse without them."""
    out = ShockFrames()
    if table_exists(con, "marts.event_overlaps"):
        out.overlaps = con.sql(
            "SELECT event_id, window_start, window_end, confounded_by FROM marts.event_overlaps"
        ).pl()
    if not table_exists(con, "marts.shock_candidates"):
        return out
    out.candidates = con.sql('SELECT * FROM marts.shock_candidates ORDER BY "group", "date"').pl()
    universe = con.sql("SELECT * FROM core.universe").pl()
    prices = con.sql("SELECT ticker, date, adj_close FROM core.prices_daily").pl()
    if prices.height and universe.height:
        returns = returns_from_history(daily_returns(prices), universe)
        events = con.sql("SELECT event_id, event_date FROM core.ai_events").pl()
        out.series = group_shock_series(returns, universe, events, DEFAULT_SHOCK_CONFIG)
    return out


def window_confounders(overlaps: pl.DataFrame, window: tuple[int, int], name: str) -> pl.DataFrame:
    """event_id and `name` (the window's confounded_by, null when clean) for every event with an overlaps row."""
    return overlaps.filter((pl.col("window_start") == window[0]) & (pl.col("window_end") == window[1])).select(
        "event_id", pl.col("confounded_by").alias(name)
    )


def with_confounders(frame: pl.DataFrame, overlaps: pl.DataFrame, windows: dict[str, tuple[int, int]]) -> pl.DataFrame:
    """`frame` (with event_id) plus one confounded_by column per named window; row order kept."""
    for name, window in windows.items():
        frame = frame.join(window_confounders(overlaps, window, name), on="event_id", how="left", maintain_order="left")
    return frame


def window_note(confounded_by: str | None) -> str:
    """' (window holds X, Y)' for a confounded window, '' for a clean one."""
    return f" (window holds {confounded_by})" if confounded_by else ""


def fmt_window(value: float | None, confounded_by: str | None) -> str:
    """A window figure (fmt_pct) with the catalogued events its window holds: '-18.60% (window holds x)'."""
    return fmt_pct(value) + (window_note(confounded_by) if value is not None else "")


def event_window_note(overlaps: pl.DataFrame, event_id: str) -> str:
    """A note listing the event's windows that hold other catalogued events ('' when every window is clean)."""
    rows = (
        overlaps.filter((pl.col("event_id") == event_id) & pl.col("confounded_by").is_not_null())
        .sort("window_start", "window_end")
        .rows(named=True)
    )
    if not rows:
        return ""
    held = "; ".join(f"[{r['window_start']},{r['window_end']:+d}] holds {r['confounded_by']}" for r in rows)
    return note(
        f"Windows of <code>{esc(event_id)}</code> that hold another catalogued event's day 0: {esc(held)}. Their "
        "CARs mix both reactions and are not a clean measure of this event (<code>marts.event_overlaps</code>)."
    )


def _candidate_rows(candidates: pl.DataFrame) -> list[list[str]]:
    return [
        [
            td_day(r["date"]),
            group_cell(r["group"]),
            td_num(fmt_num(r["z"], 1)),
            td_num(fmt_pct(r["ar"])),
            td_num(str(r["n"])),
            td_txt(r["top_movers"]),
            td_txt(f"{r['prev_event_id']} ({r['prev_event_date']})" if r["prev_event_id"] else None),
            td_txt(f"{r['next_event_id']} ({r['next_event_date']})" if r["next_event_id"] else None),
            td_num(str(r["rank"])),
        ]
        for r in candidates.sort("date", "group", descending=[True, False]).iter_rows(named=True)
    ]


def shocks_section(frames: ShockFrames, charts: ChartCache) -> str:
    """The section: what a candidate is, the z chart (one panel per group) and the candidate table."""
    threshold = DEFAULT_SHOCK_CONFIG.threshold_z
    parts = [
        "<h2 id='shocks-section'>Shocks not in the catalog</h2>",
        "<p>Trading days on which a group's equal-weighted portfolio moved abnormally (|z| ≥ "
        f"{threshold:g}: the market-model abnormal return over its standard error from the portfolio's own "
        "residuals over the 250 trading days before the day) and no catalogued event covers the day (its day 0 "
        "or day +1). A candidate is a proposal: <code>jevons shocks</code> prints the row to add to "
        "<code>warehouse/seeds/ai_events.csv</code> for each (<code>marts.shock_candidates</code>).</p>",
    ]
    if frames.candidates.is_empty() and frames.series.is_empty():
        parts.append(note("No shock statistics yet: <code>marts.shock_candidates</code> is empty or missing."))
        return "".join(parts)
    series = frames.series.filter(pl.col("z").is_not_null())
    if series.height:
        groups = group_order(series["group"].unique().to_list())
        chart_series = series.select("group", "date", "z", pl.col("covered_by").is_not_null().alias("covered"))
        chart_candidates = (
            frames.candidates.select("group", "date", "z") if frames.candidates.height else pl.DataFrame()
        )
        parts.append(
            charts.add(
                CHART_FILE,
                "z of each group's abnormal return through time",
                "chart_shock_z",
                chart_series,
                chart_candidates,
                groups,
                threshold,
            )
        )
    n = frames.candidates.height
    parts.append(f"<p>{n} candidate{'s' if n != 1 else ''} in the whole history, newest first.</p>")
    if n:
        parts.append(table("shock-candidates", CANDIDATE_HEADER, _candidate_rows(frames.candidates)))
    return "".join(parts)
