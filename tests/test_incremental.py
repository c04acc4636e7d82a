"""Incremental planning and restatement detection (pure functions), on real closes where prices matter."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from transforms.incremental import PLAN_SCHEMA, RESTATEMENT_SCHEMA, detect_restatements, plan_price_fetch

TODAY = date(2026, 8, 4)
START = date(2015, 1, 1)


def _last(rows: list[tuple[str, date]], overlap: list[date | None] | None = None) -> pl.DataFrame:
    frame = pl.DataFrame(rows, schema={"ticker": pl.String, "last_date": pl.Date}, orient="row")
    if overlap is not None:
        frame = frame.with_columns(pl.Series("overlap_start", overlap, dtype=pl.Date))
    return frame


def test_plan_new_tickers_from_history_start_known_from_overlap() -> None:
    last = _last([("CEG", date(2026, 7, 31)), ("VST", date(2026, 8, 3)), ("OLD", date(2020, 1, 2))])
    plan = plan_price_fetch(last, ["VST", "CEG", "NEW", "VST"], START, 5, TODAY)
    assert plan.schema == PLAN_SCHEMA
    assert plan.rows() == [
        ("VST", date(2026, 7, 27), date(2026, 8, 3)),  # Mon 08-03 minus 5 weekdays
        ("CEG", date(2026, 7, 24), date(2026, 7, 31)),
        ("NEW", START, None),
    ]


def test_plan_prefers_the_warehouse_overlap_start_over_weekdays() -> None:
    # 2025-07-04 was a holiday: 5 trading days before 07-08 reach back to 06-30, not 07-01
    last = _last([("CEG", date(2025, 7, 8)), ("VST", date(2025, 7, 8))], [date(2025, 6, 30), None])
    plan = plan_price_fetch(last, ["CEG", "VST"], START, 5, TODAY)
    assert dict(plan.select("ticker", "start").rows()) == {"CEG": date(2025, 6, 30), "VST": date(2025, 7, 1)}


def test_plan_never_starts_after_today_and_rejects_negative_overlap() -> None:
    plan = plan_price_fetch(_last([("X", TODAY + timedelta(days=3))]), ["X"], START, 0, TODAY)
    assert plan["start"].to_list() == [TODAY]
    assert plan_price_fetch(_last([]), [], START, 5, TODAY).is_empty()
    with pytest.raises(ValueError, match="overlap_days"):
        plan_price_fetch(_last([]), ["X"], START, -1, TODAY)


@settings(max_examples=60, deadline=None)
@given(
    last=st.dates(min_value=date(2016, 1, 1), max_value=date(2026, 8, 1)),
    overlap=st.integers(min_value=0, max_value=20),
)
def test_plan_overlap_covers_at_least_n_weekdays(last: date, overlap: int) -> None:
    start = plan_price_fetch(_last([("A", last)]), ["A"], START, overlap, TODAY)["start"][0]
    weekdays_between = sum(1 for i in range((last - start).days) if (start + timedelta(days=i)).weekday() < 5)
    assert start <= last
    assert weekdays_between >= overlap
    assert (last - start).days <= overlap * 7 // 5 + 3  # ...and not more than a weekend or two beyond


def _rows(real_prices_dir: Path, ticker: str, start: date, end: date) -> pl.DataFrame:
    closes = pl.read_csv(real_prices_dir / f"{ticker}.csv", schema={"Date": pl.Date, "Close": pl.Float64})
    return (
        closes.filter(pl.col("Date").is_between(start, end))
        .select(pl.lit(ticker).alias("ticker"), pl.col("Date").alias("date"), pl.col("Close").alias("close"))
        .with_columns((pl.col("close") * 0.98).alias("adj_close"))
    )


@pytest.fixture
def overlap(real_prices_dir: Path) -> pl.DataFrame:
    """Stored rows of CEG and SO for the last 6 sessions of the real data, adj_close 2% below close."""
    return pl.concat([_rows(real_prices_dir, t, date(2026, 7, 27), date(2026, 8, 3)) for t in ("CEG", "SO")])


def test_identical_overlap_is_no_restatement(overlap: pl.DataFrame) -> None:
    out = detect_restatements(overlap, overlap.sample(fraction=1.0, shuffle=True, seed=1))
    assert out.schema == RESTATEMENT_SCHEMA and out.is_empty()


def test_dividend_rescaling_adj_close_is_detected(overlap: pl.DataFrame) -> None:
    # SO goes ex-dividend on the new day: Yahoo scales every earlier adj_close by 1 - 0.74/close
    prev_close = overlap.filter(pl.col("ticker") == "SO").sort("date")["close"][-1]
    factor = 1 - 0.74 / prev_close
    fetched = overlap.with_columns(
        pl.when(pl.col("ticker") == "SO").then(pl.col("adj_close") * factor).otherwise(pl.col("adj_close"))
    )
    out = detect_restatements(overlap, fetched)
    assert out["ticker"].to_list() == ["SO"]
    reason = out["reason"][0]
    assert reason.startswith("adj_close/close ratio on 2026-07-27 changed from 0.98 to ")
    assert "(6 days of the overlap differ)" in reason


def test_split_moving_close_but_not_the_ratio_is_detected(overlap: pl.DataFrame) -> None:
    fetched = overlap.with_columns(
        pl.when(pl.col("ticker") == "CEG").then(pl.col(c) / 2).otherwise(pl.col(c)).alias(c)
        for c in ("close", "adj_close")
    )
    out = detect_restatements(overlap, fetched)
    assert out["ticker"].to_list() == ["CEG"]
    assert out["reason"][0].startswith("close on 2026-07-27 changed")


def test_changes_within_tolerance_and_rows_outside_the_overlap_are_ignored(overlap: pl.DataFrame) -> None:
    jitter = overlap.with_columns(pl.col("adj_close") * (1 + 5e-5))
    assert detect_restatements(overlap, jitter, tolerance=1e-4).is_empty()
    assert detect_restatements(overlap, jitter, tolerance=1e-5)["ticker"].to_list() == ["CEG", "SO"]
    new_day = pl.DataFrame(
        {"ticker": ["CEG"], "date": [date(2026, 8, 4)], "close": [1.0], "adj_close": [0.5]}
    )  # a new day has nothing stored to contradict
    assert detect_restatements(overlap, pl.concat([overlap, new_day])).is_empty()


def test_new_corporate_action_is_a_restatement(overlap: pl.DataFrame) -> None:
    schema = {"ticker": pl.String, "date": pl.Date, "kind": pl.String, "value": pl.Float64}
    stored = pl.DataFrame([("SO", date(2026, 5, 18), "dividend", 0.74)], schema=schema, orient="row")
    fetched = pl.concat(
        [stored, pl.DataFrame([("CEG", date(2026, 8, 3), "dividend", 0.3878)], schema=schema, orient="row")]
    )
    out = detect_restatements(overlap, overlap, stored_actions=stored, fetched_actions=fetched)
    assert out.rows() == [("CEG", "new dividend of 0.3878 on 2026-08-03")]
    changed = fetched.with_columns(
        pl.when(pl.col("ticker") == "SO").then(0.75).otherwise(pl.col("value")).alias("value")
    )
    out = detect_restatements(overlap, overlap, stored_actions=stored, fetched_actions=changed)
    assert out["ticker"].to_list() == ["CEG", "SO"]


def test_price_evidence_wins_over_action_evidence_in_the_reason(overlap: pl.DataFrame) -> None:
    schema = {"ticker": pl.String, "date": pl.Date, "kind": pl.String, "value": pl.Float64}
    fetched_actions = pl.DataFrame([("SO", date(2026, 8, 3), "dividend", 0.74)], schema=schema, orient="row")
    fetched = overlap.with_columns(pl.col("adj_close") * 0.99)
    out = detect_restatements(overlap, fetched, stored_actions=fetched_actions.clear(), fetched_actions=fetched_actions)
    assert out["ticker"].to_list() == ["CEG", "SO"]
    assert all(r.startswith("adj_close/close ratio") for r in out["reason"].to_list())
