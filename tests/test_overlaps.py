"""Confounded events (transforms.overlaps): which other catalogued events' day 0 fall inside each CAR window."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
from simulate import business_days, events_frame

from transforms.event_study import DEFAULT_CONFIG
from transforms.overlaps import OVERLAPS_SCHEMA, annotate_confounded, event_overlaps
from warehouse import seeds
from warehouse.registry import table

WINDOWS = DEFAULT_CONFIG.car_windows  # the windows marts.event_impact and marts.group_impact report


def test_meta_capex_window_holds_deepseek_monday(real_prices_dir: Path) -> None:
    calendar = pl.read_csv(real_prices_dir / "SPY.csv", try_parse_dates=True)["Date"]
    overlaps = event_overlaps(seeds.read_events(), calendar, WINDOWS)
    assert overlaps.schema == OVERLAPS_SCHEMA and dict(OVERLAPS_SCHEMA) == dict(
        table("marts.event_overlaps").polars_schema()
    )

    def confounders(event_id: str, window: tuple[int, int]) -> str | None:
        row = overlaps.filter(
            (pl.col("event_id") == event_id)
            & (pl.col("window_start") == window[0])
            & (pl.col("window_end") == window[1])
        )
        value: str | None = row["confounded_by"].item()
        return value

    assert confounders("meta_capex_2025", (0, 0)) is None  # Friday alone is clean
    assert confounders("meta_capex_2025", (0, 1)) == "deepseek_selloff"  # Monday is DeepSeek's
    assert confounders("meta_capex_2025", (0, 5)) == "deepseek_selloff, qwen2_5_max"
    assert confounders("deepseek_selloff", (0, 1)) is None
    assert confounders("deepseek_selloff", (-1, 1)) == "meta_capex_2025"
    # two events on the same day confound each other in every window, day 0 included
    assert confounders("openai_nvidia_10gw", (0, 0)) == "deepseek_v3_1_terminus"
    assert confounders("deepseek_v3_1_terminus", (0, 1)) == "openai_nvidia_10gw, stargate_five_sites"
    # DeepSeek-R1 (Monday 2025-01-20, a holiday) reacts on Tuesday, Stargate's day 0 too
    assert overlaps.filter(pl.col("event_id") == "deepseek_r1")["day0"].unique().to_list() == [dt.date(2025, 1, 21)]
    assert confounders("deepseek_r1", (0, 0)) == "stargate"
    assert overlaps.height == seeds.read_events().height * len(WINDOWS)  # every event has a day 0 in the data


def test_hand_built_calendar() -> None:
    days = business_days(dt.date(2024, 1, 1), 30)  # Mon 2024-01-01 .. ; no holidays
    events = events_frame(
        [
            ("a", days[10]),
            ("b", days[11]),  # a's day +1
            ("c", days[15]),  # a's day +5
            ("weekend", dt.date(2024, 1, 20)),  # Saturday: day 0 is Monday days[15], with c
            ("late", dt.date(2024, 3, 1)),  # after the calendar: no day 0, no row
        ]
    )
    out = event_overlaps(events, pl.Series(days[::-1]), [(0, 0), (0, 1), (-1, 1), (0, 5)])
    rows = {(r["event_id"], r["window_start"], r["window_end"]): r["confounded_by"] for r in out.iter_rows(named=True)}
    assert rows[("a", 0, 0)] is None and rows[("a", 0, 1)] == "b" and rows[("a", 0, 5)] == "b, c, weekend"
    assert rows[("b", -1, 1)] == "a" and rows[("b", 0, 5)] == "c, weekend"
    assert rows[("c", 0, 0)] == "weekend" and rows[("weekend", 0, 0)] == "c"
    assert ("late", 0, 0) not in rows
    assert out.filter(pl.col("event_id") == "a")["n_confounders"].to_list() == [1, 0, 1, 3]


def test_annotate_keeps_rows_and_columns() -> None:
    days = business_days(dt.date(2024, 1, 1), 20)
    overlaps = event_overlaps(events_frame([("a", days[5]), ("b", days[6])]), pl.Series(days), [(0, 0), (0, 1)])
    impact = pl.DataFrame(
        {
            "event_id": ["b", "a", "a", "zzz"],
            "ticker": ["X", "X", "Y", "X"],
            "window_start": [0, 0, 0, 0],
            "window_end": [1, 1, 0, 0],
            "car": [0.1, 0.2, 0.3, 0.4],
        },
        schema_overrides={"window_start": pl.Int32, "window_end": pl.Int32},
    )
    out = annotate_confounded(impact, overlaps)
    assert out.columns == [*impact.columns, "confounded_by"]
    assert out.drop("confounded_by").equals(impact)
    assert out["confounded_by"].to_list() == [None, "b", None, None]
