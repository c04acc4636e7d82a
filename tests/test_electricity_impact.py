"""Electricity transforms: local days, holidays, impact windows (planted step changes), the Jevons verdict."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import polars as pl
import pytest

from transforms.electricity import (
    DAILY_SCHEMA,
    IMPACT_SCHEMA,
    JEVONS_SCHEMA,
    ImpactConfig,
    electricity_impact,
    hourly_to_local_daily,
    jevons_check,
    nerc_holidays,
    unknown_time_zones,
)

HOURLY = {
    "respondent": pl.String,
    "subba": pl.String,
    "period_utc": pl.Datetime("us", "UTC"),
    "type": pl.String,
    "value_mwh": pl.Float64,
}
MONTHLY_COLS = {
    "state": pl.String,
    "sector": pl.String,
    "month": pl.Date,
    "sales_mwh": pl.Float64,
    "price_cents_per_kwh": pl.Float64,
    "revenue_usd": pl.Float64,
    "customers": pl.Int64,
}
NO_MONTHLY = pl.DataFrame(schema=MONTHLY_COLS)


def hourly_series(
    respondent: str, start: datetime, values: np.ndarray, subba: str = "", type_: str = "D"
) -> pl.DataFrame:
    periods = pl.datetime_range(start, start + timedelta(hours=len(values) - 1), "1h", eager=True, time_zone="UTC")
    return pl.DataFrame(
        {"respondent": respondent, "subba": subba, "period_utc": periods, "type": type_, "value_mwh": values},
        schema=HOURLY,
    )


def simulated_demand(
    start: datetime,
    n_hours: int,
    step_at: datetime | None,
    step: float,
    seed: int = 7,
    noise: float = 0.02,
    trend_per_year: float = 0.02,
) -> np.ndarray:
    """Hourly demand: daily and weekly cycles, a winter/summer season, a trend, noise, and an optional step."""
    rng = np.random.default_rng(seed)
    t = np.arange(n_hours, dtype=float)
    day_of_year = (t / 24.0) % 365.25
    weekday = ((t // 24) + start.weekday()) % 7
    level = 30_000.0 * (1 + trend_per_year * t / 8766.0)
    level *= 1 + 0.15 * np.cos(2 * np.pi * (day_of_year - 200) / 365.25) ** 2
    level *= 1 + 0.12 * np.sin(2 * np.pi * ((t % 24) - 9) / 24)
    level *= np.where(weekday >= 5, 0.88, 1.0)
    level *= 1 + noise * rng.standard_normal(n_hours)
    if step_at is not None:
        after = t >= (step_at - start).total_seconds() / 3600
        level = np.where(after, level * (1 + step), level)
    return level


def events_frame(*rows: tuple[str, date, str]) -> pl.DataFrame:
    return pl.DataFrame(
        [(e, d, c, f"name of {e}") for e, d, c in rows],
        orient="row",
        schema={"event_id": pl.String, "event_date": pl.Date, "category": pl.String, "name": pl.String},
    )


# ---------------------------------------------------------------------------------------------- local days


def test_hour_ending_periods_go_to_the_local_day_of_the_hours_start() -> None:
    # 2024-01-02T05 UTC ends the hour 23:00-24:00 EST of Jan 1; T06 ends 00:00-01:00 of Jan 2.
    hourly = hourly_series("PJM", datetime(2024, 1, 2, 5, tzinfo=UTC), np.array([10.0, 20.0]))
    daily = hourly_to_local_daily(hourly)
    assert daily.schema == DAILY_SCHEMA
    assert daily.select("date_local", "value_mwh", "hours_reported", "time_zone").rows() == [
        (date(2024, 1, 1), 10.0, 1, "America/New_York"),
        (date(2024, 1, 2), 20.0, 1, "America/New_York"),
    ]


def test_dst_days_time_zones_and_sub_bas() -> None:
    start = datetime(2024, 3, 9, 6, tzinfo=UTC)  # 01:00 EST Mar 9 ends the first hour of Mar 9 (Eastern)
    n = 24 * 3
    frames = [
        hourly_series("PJM", start, np.ones(n)),
        hourly_series("PJM", start, np.ones(n), subba="DOM"),
        hourly_series("ERCO", start + timedelta(hours=1), np.ones(n)),  # Central: one hour later in UTC
        hourly_series("ZZZZ", start, np.ones(n)),
        hourly_series("PJM", start, np.ones(n), type_="NG"),  # only demand is aggregated by default
    ]
    daily = hourly_to_local_daily(pl.concat(frames))
    by = {(r["respondent"], r["subba"], r["date_local"]): r for r in daily.iter_rows(named=True)}
    spring = by[("PJM", "", date(2024, 3, 10))]
    assert (spring["hours_in_day"], spring["hours_reported"], spring["value_mwh"]) == (23, 23, 23.0)
    assert by[("PJM", "", date(2024, 3, 9))]["hours_reported"] == 24
    assert by[("PJM", "DOM", date(2024, 3, 10))]["time_zone"] == "America/New_York"
    assert by[("ERCO", "", date(2024, 3, 10))]["hours_in_day"] == 23
    assert by[("ERCO", "", date(2024, 3, 9))]["time_zone"] == "America/Chicago"
    assert by[("ZZZZ", "", date(2024, 3, 9))]["time_zone"] == "UTC"
    assert set(daily["type"]) == {"D"}
    assert unknown_time_zones(pl.concat(frames)) == ["ZZZZ"]
    fall = hourly_to_local_daily(hourly_series("CISO", datetime(2024, 11, 3, 8, tzinfo=UTC), np.ones(25)))
    assert fall.filter(pl.col("date_local") == date(2024, 11, 3)).select("hours_in_day", "hours_reported").row(0) == (
        25,
        25,
    )


def test_a_day_of_nulls_is_null_not_zero() -> None:
    values = np.full(24, np.nan)
    hourly = hourly_series("TVA", datetime(2024, 5, 1, 6, tzinfo=UTC), values).with_columns(
        pl.col("value_mwh").fill_nan(None)
    )
    row = hourly_to_local_daily(hourly).row(0, named=True)
    assert row["value_mwh"] is None and row["hours_reported"] == 0 and row["hours_in_day"] == 24


def test_nerc_holidays() -> None:
    days = set(nerc_holidays([2022, 2023, 2024]))
    assert {
        date(2022, 12, 26),
        date(2023, 1, 2),
        date(2024, 5, 27),
        date(2024, 9, 2),
        date(2024, 11, 28),
        date(2024, 7, 4),
        date(2022, 7, 4),
    } <= days
    assert date(2022, 12, 25) not in days and date(2021, 12, 31) not in days
    assert len(days) == 18


# ------------------------------------------------------------------------------------------ impact windows


EVENT = date(2024, 6, 12)
START = datetime(2022, 6, 1, 4, tzinfo=UTC)
N_HOURS = 24 * (365 * 2 + 230)


def _impact_with_step(step: float, seed: int = 7) -> pl.DataFrame:
    step_at = datetime(EVENT.year, EVENT.month, EVENT.day, 4, tzinfo=UTC)
    hourly = hourly_series("ERCO", START, simulated_demand(START, N_HOURS, step_at, step, seed))
    events = events_frame(("e", EVENT, "efficiency"))
    return electricity_impact(hourly_to_local_daily(hourly), NO_MONTHLY, events)


@pytest.mark.parametrize("step", [0.05, -0.03])
def test_planted_step_change_is_recovered(step: float) -> None:
    impact = _impact_with_step(step)
    assert impact.schema == IMPACT_SCHEMA
    assert impact["window_length"].to_list() == [28, 91, 182]
    assert impact["status"].unique().to_list() == ["ok"]
    for row in impact.iter_rows(named=True):
        # growth after ≈ (1 + trend)(1 + step) - 1, before ≈ trend: the change is step x (1 + trend) in pp
        expected_pp = step * 100 * 1.02
        tolerance = 0.6 if row["window_length"] == 28 else 0.35
        assert row["growth_change_pp"] == pytest.approx(expected_pp, abs=tolerance), row
        assert row["growth_before_yoy"] == pytest.approx(0.02, abs=0.006)


def test_no_step_means_no_change() -> None:
    changes = _impact_with_step(0.0, seed=11)["growth_change_pp"].to_list()
    assert all(abs(c) < 0.4 for c in changes), changes


def test_window_dates_and_counts() -> None:
    row = _impact_with_step(0.0).filter(pl.col("window_length") == 28).row(0, named=True)
    assert (row["before_start"], row["before_end"]) == (date(2024, 5, 15), date(2024, 6, 11))
    assert (row["after_start"], row["after_end"]) == (date(2024, 6, 13), date(2024, 7, 10))
    # Memorial Day 2024-05-27 and Independence Day 2024-07-04 are left out; 365 days earlier (2023-05-16..06-12
    # and 06-14..07-11) Memorial Day 2023-05-29 and Independence Day 2023-07-04 are too.
    assert (row["n_before"], row["n_after"], row["n_before_prev_year"], row["n_after_prev_year"]) == (27, 27, 27, 27)


def test_weekday_balance_and_holidays_do_not_tilt_the_mean() -> None:
    """Weekend days count 50% less; dropping two Saturdays and spiking a holiday must not move the mean."""
    days = pl.date_range(date(2023, 1, 1), date(2024, 12, 31), "1d", eager=True)
    value = pl.Series([12_000.0 if d.weekday() >= 5 else 24_000.0 for d in days])
    daily = pl.DataFrame(
        {
            "respondent": "PJM",
            "subba": "",
            "type": "D",
            "date_local": days,
            "time_zone": "America/New_York",
            "value_mwh": value,
            "hours_reported": 24,
            "hours_in_day": 24,
        }
    ).cast({"hours_reported": pl.Int32, "hours_in_day": pl.Int32})
    events = events_frame(("e", date(2024, 7, 25), "efficiency"))
    full = electricity_impact(daily, NO_MONTHLY, events).filter(pl.col("window_length") == 28).row(0, named=True)
    holed = daily.filter(~pl.col("date_local").is_in([date(2024, 7, 6), date(2024, 7, 13)])).with_columns(
        pl.when(pl.col("date_local") == date(2024, 7, 4)).then(1e9).otherwise(pl.col("value_mwh")).alias("value_mwh")
    )
    holed_row = electricity_impact(holed, NO_MONTHLY, events).filter(pl.col("window_length") == 28).row(0, named=True)
    balanced = (5 * 24_000 + 2 * 12_000) / 7
    assert full["mean_before_mwh"] == pytest.approx(balanced)
    assert holed_row["mean_before_mwh"] == pytest.approx(balanced)
    assert holed_row["n_before"] == full["n_before"] - 2  # two Saturdays gone; July 4 is excluded in both
    assert holed_row["growth_change_pp"] == pytest.approx(0.0, abs=1e-9)


def test_coverage_counts_holidays_as_not_expected() -> None:
    """28 days holding July 4 expect 27 observations; 22 (80%, rounded up) still make a mean, 21 do not."""
    days = pl.date_range(date(2023, 1, 1), date(2024, 12, 31), "1d", eager=True)
    daily = pl.DataFrame(
        {
            "respondent": "PJM",
            "subba": "",
            "type": "D",
            "date_local": days,
            "time_zone": "America/New_York",
            "value_mwh": 24_000.0,
            "hours_reported": 24,
            "hours_in_day": 24,
        }
    ).cast({"hours_reported": pl.Int32, "hours_in_day": pl.Int32})
    events = events_frame(("e", date(2024, 7, 25), "efficiency"))  # before window 06-27..07-24
    gone = [date(2024, 6, 27), date(2024, 6, 28), date(2024, 7, 1), date(2024, 7, 2), date(2024, 7, 3)]

    def before(dropped: list[date]) -> tuple[float | None, int]:
        frame = electricity_impact(daily.filter(~pl.col("date_local").is_in(dropped)), NO_MONTHLY, events)
        row = frame.filter(pl.col("window_length") == 28).row(0, named=True)
        return row["mean_before_mwh"], row["n_before"]

    assert before(gone) == (24_000.0, 22)
    assert before([*gone, date(2024, 7, 8)]) == (None, 21)


def test_short_coverage_and_unfinished_windows() -> None:
    hourly = hourly_series("US48", START, simulated_demand(START, N_HOURS, None, 0.0))
    daily = hourly_to_local_daily(hourly)
    gappy = daily.filter(~((pl.col("date_local") >= date(2024, 3, 1)) & (pl.col("date_local") < date(2024, 3, 20))))
    last = daily.filter(pl.col("hours_reported") == 24)["date_local"].max()  # the last full day
    assert isinstance(last, date)
    events = events_frame(("gap", date(2024, 3, 22), "efficiency"), ("late", last - timedelta(days=20), "efficiency"))
    impact = electricity_impact(gappy, NO_MONTHLY, events)
    gap = impact.filter((pl.col("event_id") == "gap") & (pl.col("window_length") == 28)).row(0, named=True)
    assert gap["status"] == "insufficient_data" and gap["mean_before_mwh"] is None and gap["n_before"] == 9
    assert gap["mean_after_mwh"] is not None and gap["growth_change_pp"] is None
    late = impact.filter(pl.col("event_id") == "late").sort("window_length")
    assert late["status"].to_list() == ["after_window_not_over"] * 3
    assert late["n_after"].to_list() == [20, 20, 20]


def test_monthly_windows_recover_a_step_in_sales() -> None:
    months = pl.date_range(date(2021, 1, 1), date(2025, 12, 1), "1mo", eager=True)
    season = [1.0 + 0.2 * np.cos(2 * np.pi * (m.month - 7) / 12) for m in months]
    trend = [1.03 ** ((m.year - 2021) + (m.month - 1) / 12) for m in months]
    step = [1.10 if m >= date(2025, 2, 1) else 1.0 for m in months]
    sales = pl.DataFrame(
        {
            "state": "VA",
            "sector": "COM",
            "month": months,
            "sales_mwh": [4e6 * s * t * k for s, t, k in zip(season, trend, step, strict=True)],
            "price_cents_per_kwh": 10.0,
            "revenue_usd": 1.0,
            "customers": 1,
        },
        schema=MONTHLY_COLS,
    )
    events = events_frame(("r1", date(2025, 1, 27), "efficiency"))
    empty_daily = pl.DataFrame(schema=DAILY_SCHEMA)
    impact = electricity_impact(empty_daily, sales, events, ImpactConfig())
    assert impact["metric"].unique().to_list() == ["retail_sales_COM"]
    three = impact.filter(pl.col("window_length") == 3).row(0, named=True)
    assert (three["before_start"], three["before_end"]) == (date(2024, 10, 1), date(2024, 12, 31))
    assert (three["after_start"], three["after_end"]) == (date(2025, 2, 1), date(2025, 4, 30))
    assert (three["n_before"], three["n_after_prev_year"], three["window_unit"]) == (3, 3, "month")
    for row in impact.iter_rows(named=True):
        assert row["growth_before_yoy"] == pytest.approx(0.03, abs=1e-9)
        assert row["growth_change_pp"] == pytest.approx((1.03 * 1.10 - 1.03) * 100, abs=1e-6)
    missing = sales.filter(pl.col("month") != date(2024, 11, 1))
    row = electricity_impact(empty_daily, missing, events).filter(pl.col("window_length") == 3).row(0, named=True)
    assert row["mean_before_mwh"] is None and row["n_before"] == 2 and row["status"] == "insufficient_data"


# --------------------------------------------------------------------------------------------- jevons check


def _event_impact(cars: dict[tuple[str, int], list[float]]) -> pl.DataFrame:
    rows = []
    for (event_id, end), values in cars.items():
        for i, car in enumerate(values):
            rows.append((event_id, f"T{i}", "independent_power", "market", 0, end, car))
            rows.append((event_id, f"U{i}", "regulated_utilities", "market", 0, end, 0.5))  # other group
            rows.append((event_id, f"T{i}", "independent_power", "constant_mean", 0, end, 0.9))  # other model
    return pl.DataFrame(
        rows,
        orient="row",
        schema={
            "event_id": pl.String,
            "ticker": pl.String,
            "group": pl.String,
            "model": pl.String,
            "window_start": pl.Int64,
            "window_end": pl.Int64,
            "car": pl.Float64,
        },
    )


def _impact_rows(event_id: str, changes: dict[tuple[str, str, str, str, int], float | None]) -> pl.DataFrame:
    rows = []
    for (rtype, region, metric, unit, length), change in changes.items():
        rows.append(
            {
                "event_id": event_id,
                "region_type": rtype,
                "region": region,
                "metric": metric,
                "window_unit": unit,
                "window_length": length,
                "growth_change_pp": change,
                "status": "ok" if change is not None else "after_window_not_over",
            }
        )
    return pl.DataFrame(
        rows,
        schema={
            "event_id": pl.String,
            "region_type": pl.String,
            "region": pl.String,
            "metric": pl.String,
            "window_unit": pl.String,
            "window_length": pl.Int32,
            "growth_change_pp": pl.Float64,
            "status": pl.String,
        },
    )


def test_jevons_check_verdicts() -> None:
    events = events_frame(
        ("deepseek", date(2025, 1, 27), "efficiency"),
        ("fresh", date(2026, 7, 1), "efficiency"),
        ("slow", date(2024, 7, 18), "efficiency"),
        ("deal", date(2024, 9, 20), "demand"),
    )
    event_impact = _event_impact(
        {
            ("deepseek", 0): [-0.20, -0.28, -0.22],
            ("deepseek", 5): [-0.15, -0.25, -0.20],
            ("slow", 0): [0.001, -0.004],
            ("slow", 5): [0.01, -0.005],
        }
    )
    impact = pl.concat(
        [
            _impact_rows(
                "deepseek",
                {
                    ("sub_ba", "DOM", "demand", "day", 91): 2.0,
                    ("sub_ba", "DOM", "demand", "day", 182): 3.0,
                    ("balancing_authority", "ERCO", "demand", "day", 182): 1.0,
                    ("state", "VA", "retail_sales_COM", "month", 6): 2.0,
                    ("state", "VA", "retail_sales_ALL", "month", 6): -50.0,
                },
            ),  # not a DC metric
            _impact_rows(
                "slow",
                {
                    ("balancing_authority", "US48", "demand", "day", 91): -2.5,
                    ("balancing_authority", "US48", "demand", "day", 182): None,
                },
            ),
            _impact_rows("fresh", {("sub_ba", "DOM", "demand", "day", 91): None}),
        ]
    )
    check = jevons_check(impact, event_impact, events)
    assert check.schema == JEVONS_SCHEMA
    assert check["event_id"].to_list() == ["slow", "deepseek", "fresh"]  # efficiency events only, by date
    ds = check.row(1, named=True)
    assert ds["power_caar_day0"] == pytest.approx(-0.70 / 3) and ds["power_caar_0_5"] == pytest.approx(-0.20)
    assert ds["power_n_tickers"] == 3
    assert (ds["dom_growth_change_3m_pp"], ds["dom_growth_change_6m_pp"], ds["erco_growth_change_6m_pp"]) == (
        2.0,
        3.0,
        1.0,
    )
    assert ds["va_sales_growth_change_6m_pp"] == 2.0 and ds["us48_growth_change_6m_pp"] is None
    assert ds["demand_growth_change_6m_pp"] == pytest.approx(2.0) and ds["n_regions_6m"] == 3
    assert (ds["market_reaction"], ds["demand_outcome"]) == ("feared_less_demand", "did_not_slow")
    assert ds["verdict"] == (
        "Market feared less demand (power producers' CAAR [0,+5] -20.0%); demand growth did "
        "not slow (+2.0 pp YoY growth over the following 6 months, 3 regions; windows of 182 days (6 months for "
        "sales) after vs before the event, each against the same window a year earlier). Not weather-adjusted."
    )
    assert ds["regions_used"] == "dom: DOM, erco: ERCO, us48: US48, va_sales: VA commercial sales"
    assert ds["datacentre_context"] is None  # no IEA rows given
    slow = check.row(0, named=True)
    assert (slow["market_reaction"], slow["demand_outcome"]) == ("little_reaction", "slowed")
    assert (
        "demand growth slowed (-2.5 pp YoY growth over the following 3 months, 1 region; windows of 91 days"
        in slow["verdict"]
    )
    fresh = check.row(2, named=True)
    assert (fresh["market_reaction"], fresh["demand_outcome"]) == ("no_stock_data", "not_enough_data_yet")
    assert fresh["n_regions_3m"] == 0 and fresh["power_n_tickers"] == 0
    assert "not enough data yet" in fresh["verdict"]


def test_jevons_check_stand_ins_limits_and_context() -> None:
    """PJM fills the DOM column when DOM is not loaded (and the verdict says so); DOM wins when both are;
    a series that ends before the after-window is named with its end date; the IEA figures close the verdict."""
    from flows.sources.eia_files.iea import read_seed
    from transforms.electricity import datacentre_context

    events = events_frame(("deepseek", date(2025, 1, 27), "efficiency"))
    pjm = _impact_rows(
        "deepseek",
        {
            ("balancing_authority", "PJM", "demand", "day", 182): 1.5,
            ("balancing_authority", "US48", "demand", "day", 182): None,
        },
    ).with_columns(
        pl.when(pl.col("region") == "US48").then(pl.lit("after_window_not_over")).otherwise("status").alias("status"),
        pl.lit(date(2025, 7, 28)).alias("after_end"),
    )
    context = datacentre_context(read_seed())
    assert context == (
        "US data centres: 183 TWh in 2024, 426 TWh in 2030 in the IEA base case; world: 416 TWh in 2024, "
        "946 TWh in 2030 in the IEA base case (669-1,264 TWh across its other "
        "scenarios) (IEA Energy and AI (2025))"
    )
    ends = {("balancing_authority", "US48", "demand"): "2025-04-23"}
    row = jevons_check(pjm, _event_impact({}).clear(), events, data_ends=ends, context=context).row(0, named=True)
    assert row["dom_growth_change_6m_pp"] == 1.5 and row["n_regions_6m"] == 1
    assert "PJM stands in for DOM (northern Virginia), which is not loaded." in row["verdict"]
    assert "US48: data ends 2025-04-23, before its after-window ends (2025-07-28)" in row["verdict"]
    assert row["verdict"].endswith(f"Context: {context}.")
    assert row["regions_used"].startswith("dom: PJM standing in for DOM (northern Virginia; DOM not loaded)")
    both = pl.concat([pjm.drop("after_end"), _impact_rows("deepseek", {("sub_ba", "DOM", "demand", "day", 182): -4.0})])
    row = jevons_check(both, _event_impact({}).clear(), events).row(0, named=True)
    assert row["dom_growth_change_6m_pp"] == -4.0 and "stands in" not in row["verdict"]


def test_jevons_check_without_stock_impact_or_events() -> None:
    events = events_frame(("x", date(2025, 1, 27), "efficiency"))
    empty_impact = pl.DataFrame(schema=IMPACT_SCHEMA)
    empty_event_impact = _event_impact({}).clear()
    check = jevons_check(empty_impact, empty_event_impact, events)
    assert check.height == 1 and check["market_reaction"][0] == "no_stock_data"
    assert jevons_check(empty_impact, empty_event_impact, events.clear()).is_empty()


def test_every_default_region_has_a_time_zone() -> None:
    from flows.sources.eia import DEFAULT_RESPONDENTS, DEFAULT_SUB_BAS
    from transforms.electricity import time_zone_for

    zones = {r: time_zone_for(r, "") for r in DEFAULT_RESPONDENTS}
    zones |= {f"{p}/{s}": time_zone_for(p, s) for p, s in DEFAULT_SUB_BAS}
    assert None not in zones.values(), zones
    assert zones["ERCO"] == "America/Chicago" and zones["PJM/DOM"] == "America/New_York"
    assert zones["CISO"] == "America/Los_Angeles"
