"""Each data-quality check fires on a crafted bad load, passes on a clean one, and a 'fail' policy stops a run."""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl
import pytest

from flows.quality import DataQualityError, record_and_enforce, run_checks
from transforms import quality as q
from warehouse.migrations import apply_migrations

D = [dt.date(2025, 1, 20) + dt.timedelta(days=i) for i in range(10)]


def _prices(rows: list[tuple[str, dt.date, float]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "ticker": [r[0] for r in rows],
            "date": [r[1] for r in rows],
            "close": [r[2] for r in rows],
            "adj_close": [r[2] for r in rows],
        }
    )


def test_duplicate_keys() -> None:
    frame = pl.DataFrame({"a": ["x", "x", "y"], "b": [1, 1, 2]})
    bad = q.duplicate_keys(frame, ["a", "b"], "t")
    assert bad.status == "fail" and bad.detail.startswith("2 rows share a key")
    assert q.duplicate_keys(frame.unique(), ["a", "b"], "t").status == "pass"


def test_non_positive_prices() -> None:
    bad = q.non_positive_prices(_prices([("A", D[0], 1.0), ("A", D[1], -2.0)]))
    assert bad.status == "fail" and "1 non-positive" in bad.detail
    assert q.non_positive_prices(_prices([("A", D[0], 1.0)])).status == "pass"


def test_calendar_gaps() -> None:
    calendar = pl.Series(D)
    full = [("A", d, 1.0) for d in D]
    holey = [("B", d, 1.0) for i, d in enumerate(D) if i not in (2, 3, 4, 5)]
    result = q.calendar_gaps(_prices(full + holey), calendar, max_gap_days=3)
    assert result.status == "warn" and "B (4)" in result.detail
    assert q.calendar_gaps(_prices(full), calendar).status == "pass"


def test_price_jumps_unless_corporate_action() -> None:
    prices = _prices([("A", D[0], 10.0), ("A", D[1], 5.0), ("A", D[2], 5.1)])
    result = q.price_jumps(prices, None, threshold=0.4)
    assert result.status == "warn" and "A 2025-01-21 -50.0%" in result.detail
    split = pl.DataFrame({"ticker": ["A"], "date": [D[1]]})
    assert q.price_jumps(prices, split, threshold=0.4).status == "pass"


def test_electricity_hours_missing() -> None:
    hours = [dt.datetime(2025, 1, 1, h, tzinfo=dt.UTC) for h in range(24) if h != 7]
    frame = pl.DataFrame({"respondent": "PJM", "subba": "", "type": "D", "period_utc": hours})
    result = q.electricity_hours_missing(frame)
    assert result.status == "warn" and "PJM/-/D (1 h)" in result.detail


def test_stale_source() -> None:
    today = dt.date(2026, 11, 28)  # a Saturday: the last complete session is Friday 11-27
    assert q.stale_source("prices", "t", dt.date(2026, 11, 27), today, 0).status == "pass"
    stale = q.stale_source("prices", "t", dt.date(2026, 11, 16), today, 5)
    assert stale.status == "warn" and "9 business days behind" in stale.detail
    assert q.stale_source("prices", "t", None, today, 5).status == "warn"


def test_fail_policy_stops_and_warn_policy_records() -> None:
    con = duckdb.connect()
    apply_migrations(con)
    con.execute(
        "INSERT INTO core.universe (ticker, name, \"group\", benchmark) VALUES ('SPY', 'SPDR', 'benchmarks', 'SPY')"
    )
    con.execute(
        "INSERT INTO core.prices_daily (ticker, date, close, adj_close, source, loaded_at) VALUES "
        "('SPY', DATE '2026-11-26', 600, 600, 't', now()), ('SPY', DATE '2026-11-27', 300, 300, 't', now())"
    )
    results = run_checks(con, dt.date(2026, 11, 28))
    warnings = record_and_enforce(con, "r1", results)
    # the -50% is also the series' first return: a listing-type jump, so company_change warns too
    assert [w.code for w in warnings] == ["price_jumps", "company_change"]
    stored = dict(con.sql("SELECT check_name, status FROM ops.data_quality WHERE run_id = 'r1'").fetchall())
    assert stored["price_jumps"] == "warn" and stored["non_positive_prices"] == "pass"
    # a non-positive price slipped past the sources: the run must stop
    con.execute("UPDATE core.prices_daily SET adj_close = -1 WHERE date = DATE '2026-11-26'")
    with pytest.raises(DataQualityError, match=r"non_positive_prices on core\.prices_daily"):
        record_and_enforce(con, "r2", run_checks(con, dt.date(2026, 11, 28)))
