"""The shock detector (transforms.shocks): the rolling statistic against a direct OLS fit, planted shocks in
cross-correlated simulated groups, the false-positive rate under the null, the coverage rule, and the real closes
(DeepSeek Monday and the Three Mile Island deal rediscovered when removed from the catalog)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from simulate import events_frame
from simulate_groups import simulate_groups

from transforms.returns import daily_returns
from transforms.shocks import (
    CANDIDATES_SCHEMA,
    EVENT_CSV_COLUMNS,
    ShockConfig,
    group_shock_series,
    rolling_market_model,
    seed_row,
    shock_candidates,
)
from warehouse import seeds
from warehouse.errors import SeedError
from warehouse.registry import table

NO_EVENTS = events_frame([])


def _direct_fit(y: np.ndarray, x: np.ndarray, t: int, config: ShockConfig) -> tuple[float, float, float, float]:
    """beta, sigma, ar, ar_se for day t by a plain least-squares fit on the window (the reference)."""
    lo, hi = max(t - config.gap_days - config.estimation_days + 1, 0), t - config.gap_days + 1
    yy, xx = y[lo:hi], x[lo:hi]
    ok = ~np.isnan(yy) & ~np.isnan(xx)
    yy, xx = yy[ok], xx[ok]
    design = np.column_stack([np.ones_like(xx), xx])
    (a, b), *_ = np.linalg.lstsq(design, yy, rcond=None)
    resid = yy - a - b * xx
    n = len(yy)
    sigma = float(np.sqrt(resid @ resid / (n - 2)))
    ar = float(y[t] - a - b * x[t])
    se = sigma * np.sqrt(1 + 1 / n + (x[t] - xx.mean()) ** 2 / ((xx - xx.mean()) ** 2).sum())
    return float(b), sigma, ar, float(se)


@pytest.mark.parametrize("prediction_error", [True, False])
def test_rolling_fit_matches_a_direct_least_squares_fit_with_missing_days(prediction_error: bool) -> None:
    rng = np.random.default_rng(3)
    days = 700
    x = rng.normal(0.0004, 0.011, days)
    y = 0.0003 + np.outer(x, [0.7, 1.3, 2.1]) + rng.normal(0, 0.02, (days, 3))
    y[rng.random((days, 3)) < 0.15] = np.nan
    x[rng.random(days) < 0.02] = np.nan
    config = ShockConfig(estimation_days=250, gap_days=2, min_estimation_days=120, prediction_error=prediction_error)
    fit = rolling_market_model(y, x, config)
    checked = 0
    for t in range(150, days, 37):
        for col in range(3):
            if np.isnan(y[t, col]) or np.isnan(x[t]):
                assert np.isnan(fit.ar[t, col])
                continue
            b, sigma, ar, se = _direct_fit(y[:, col], x, t, config)
            se = se if prediction_error else sigma
            assert fit.beta[t, col] == pytest.approx(b, rel=1e-9, abs=1e-12)
            assert fit.sigma[t, col] == pytest.approx(sigma, rel=1e-9)
            assert fit.ar[t, col] == pytest.approx(ar, rel=1e-9, abs=1e-13)
            assert fit.z[t, col] == pytest.approx(ar / se, rel=1e-9, abs=1e-10)
            checked += 1
    assert checked > 30
    assert np.isnan(fit.z[:100]).all()  # under 120 usable days: no statistic


def test_the_window_ends_before_the_day_no_look_ahead() -> None:
    rng = np.random.default_rng(4)
    x = rng.normal(0, 0.01, 400)
    y = (1.2 * x + rng.normal(0, 0.01, 400))[:, None]
    base = rolling_market_model(y, x)
    t = 300
    shocked = y.copy()
    shocked[t:] += rng.normal(0, 0.2, (400 - t, 1))  # rewrite the tested day and everything after it
    after = rolling_market_model(shocked, x)
    assert after.beta[t, 0] == base.beta[t, 0] and after.sigma[t, 0] == base.sigma[t, 0]
    assert after.ar[t, 0] != base.ar[t, 0]
    assert np.array_equal(after.z[:t], base.z[:t], equal_nan=True)


def test_planted_group_shocks_are_recovered_in_cross_correlated_groups() -> None:
    dates = simulate_groups(n_days=1200).dates
    day_a, day_b = dates[700], dates[1000]
    market = simulate_groups(n_days=1200, seed=11, planted={("G00", day_a): -0.12, ("G02", day_b): 0.10})
    # the simulated groups have the power producers' residual cross-correlation
    wide = market.returns.pivot(on="ticker", index="date").sort("date")
    x, y = wide["MKT"].to_numpy(), wide.select(pl.selectors.starts_with("G00")).to_numpy()
    design = np.column_stack([np.ones_like(x), x])
    resid = y - design @ np.linalg.lstsq(design, y, rcond=None)[0]
    r_bar = (np.corrcoef(resid, rowvar=False).sum() - 8) / 56
    assert 0.5 < r_bar < 0.6
    found = shock_candidates(market.returns, market.universe, NO_EVENTS)
    assert found.schema == CANDIDATES_SCHEMA
    top = found.filter(pl.col("rank") == 1).select("group", "date").rows()
    assert ("G00", day_a) in top and ("G02", day_b) in top
    a = found.filter((pl.col("group") == "G00") & (pl.col("date") == day_a)).row(0, named=True)
    assert a["ar"] == pytest.approx(-0.12, abs=0.04) and a["z"] < -4 and a["n"] == 8
    assert a["top_movers"].count(";") == 2 and all(float(p.split()[1]) < 0 for p in a["top_movers"].split("; "))
    assert found.height <= 6  # the planted two, plus at most a few null exceedances in 3 x 3.8 group-years


def test_an_event_covers_its_day_0_and_day_1_only() -> None:
    dates = simulate_groups(n_days=900).dates
    shock = dates[600]
    market = simulate_groups(n_days=900, seed=5, planted={("G01", shock): -0.1})

    def listed(events: pl.DataFrame) -> bool:
        found = shock_candidates(market.returns, market.universe, events)
        return bool(found.filter((pl.col("group") == "G01") & (pl.col("date") == shock)).height)

    assert listed(NO_EVENTS)
    assert not listed(events_frame([("same_day", shock)]))
    assert not listed(events_frame([("day_before", dates[599])]))  # day +1 of an event the day before
    assert listed(events_frame([("two_days_before", dates[598]), ("next_day", dates[601])]))
    only_day0 = ShockConfig(covered_days=(0,))
    found = shock_candidates(market.returns, market.universe, events_frame([("day_before", dates[599])]), only_day0)
    assert (shock in found["date"].to_list()) and found.filter(pl.col("date") == shock)["prev_event_id"].item() == (
        "day_before"
    )
    series = group_shock_series(market.returns, market.universe, events_frame([("day_before", dates[599])]))
    assert series.filter((pl.col("group") == "G01") & (pl.col("date") == shock))["covered_by"].item() == "day_before"


def test_false_positive_rate_under_the_null_is_about_the_normal_tail() -> None:
    """200 group-years of null cross-correlated groups: |z| >= 4 happens ~0.02 times a group-year under normal
    shocks (P(|t_248| >= 4) x 252 = 0.020). The bound is loose enough for sampling noise (~4 expected) and tight
    enough to catch a statistic that ignored the cross-correlation (its z would be ~2.2 times too large)."""
    exceed, group_years = 0, 0.0
    for seed in range(2):
        market = simulate_groups(n_groups=10, tickers_per_group=8, n_days=2770, seed=100 + seed)
        series = group_shock_series(market.returns, market.universe, NO_EVENTS).filter(pl.col("z").is_not_null())
        exceed += series.filter(pl.col("z").abs() >= 4).height
        group_years += series.height / 252
        # no look-ahead and no skipped day: every day after the first 120 has a statistic
    assert group_years > 195
    assert exceed / group_years < 0.1


def test_a_group_with_two_benchmarks_is_refused() -> None:
    market = simulate_groups(n_groups=1, tickers_per_group=2, n_days=300)
    universe = market.universe.with_columns(
        pl.when(pl.col("ticker") == "G00T001").then(pl.lit("QQQ")).otherwise(pl.col("benchmark")).alias("benchmark")
    )
    with pytest.raises(ValueError, match="group 'G00' mixes benchmarks"):
        shock_candidates(market.returns, universe, NO_EVENTS)


def test_output_is_the_registry_table() -> None:
    assert dict(CANDIDATES_SCHEMA) == dict(table("marts.shock_candidates").polars_schema())
    empty = shock_candidates(simulate_groups(n_days=200).returns, simulate_groups(n_days=200).universe, NO_EVENTS)
    assert empty.is_empty() and empty.schema == CANDIDATES_SCHEMA


def test_seed_row_is_a_template_the_loader_refuses_until_filled(tmp_path: Path) -> None:
    candidate = {
        "group": "independent_power",
        "date": dt.date(2024, 9, 20),
        "ar": 0.126,
        "z": 6.99,
        "top_movers": "CEG +0.2248",
    }
    row = seed_row(candidate)
    values = next(csv.reader(io.StringIO(row)))
    assert len(values) == len(EVENT_CSV_COLUMNS)
    assert values[:2] == ["independent_power_shock_2024_09_20", "2024-09-20"]
    assert "TO FILL" in values[2] and "TO FILL" in values[5] and "+12.6% (z +7.0)" in values[4]
    path = tmp_path / "ai_events.csv"
    path.write_text(",".join(EVENT_CSV_COLUMNS) + "\n" + row + "\n", encoding="utf-8")
    with pytest.raises(SeedError, match="category"):
        seeds.read_events(path)
    filled = row.replace("efficiency|demand|policy", "demand").replace(
        "<TO FILL: https://... where the event and its date are reported>", "https://example.com/tmi"
    )
    path.write_text(",".join(EVENT_CSV_COLUMNS) + "\n" + filled + "\n", encoding="utf-8")
    assert seeds.read_events(path)["event_date"].item() == dt.date(2024, 9, 20)


# ---------------------------------------------------------------- the real closes


def _real_returns(prices_dir: Path) -> pl.DataFrame:
    frames = [
        pl.read_csv(path, try_parse_dates=True).select(
            pl.lit(path.stem).alias("ticker"),
            pl.col("Date").cast(pl.Date).alias("date"),
            pl.col("Close").alias("adj_close"),
        )
        for path in sorted(prices_dir.glob("*.csv"))
    ]
    return daily_returns(pl.concat(frames))


DEEPSEEK_MONDAY, TMI_DEAL = dt.date(2025, 1, 27), dt.date(2024, 9, 20)


def test_real_closes_rediscover_deepseek_monday_and_the_tmi_deal(real_prices_dir: Path) -> None:
    returns, universe, events = _real_returns(real_prices_dir), seeds.read_universe(), seeds.read_events()

    def power_days(catalog: pl.DataFrame) -> set[dt.date]:
        found = shock_candidates(returns, universe, catalog)
        return set(found.filter(pl.col("group") == "independent_power")["date"].to_list())

    assert not power_days(events) & {DEEPSEEK_MONDAY, TMI_DEAL}
    # DeepSeek Monday is also meta_capex_2025's day +1 (Friday 2025-01-24): that event covers it too
    without_two = events.filter(~pl.col("event_id").is_in(["deepseek_selloff", "tmi_restart_deal"]))
    assert TMI_DEAL in power_days(without_two) and DEEPSEEK_MONDAY not in power_days(without_two)
    without_three = without_two.filter(pl.col("event_id") != "meta_capex_2025")
    assert {DEEPSEEK_MONDAY, TMI_DEAL} <= power_days(without_three)
    found = shock_candidates(returns, universe, without_three).filter(pl.col("group") == "independent_power")
    deepseek = found.filter(pl.col("date") == DEEPSEEK_MONDAY).row(0, named=True)
    assert deepseek["z"] < -7 and deepseek["n"] == 4 and deepseek["top_movers"].startswith("VST")
    assert deepseek["prev_event_id"] == "stargate" and deepseek["next_event_id"] == "qwen2_5_max"
    tmi = found.filter(pl.col("date") == TMI_DEAL).row(0, named=True)
    assert tmi["z"] > 6 and tmi["top_movers"].startswith("CEG")


def test_real_closes_propose_a_few_days_a_year_per_group(real_prices_dir: Path) -> None:
    returns, universe, events = _real_returns(real_prices_dir), seeds.read_universe(), seeds.read_events()
    series = group_shock_series(returns, universe, events).filter(pl.col("z").is_not_null())
    found = shock_candidates(returns, universe, events)
    per_group = (
        found.group_by("group").len().join(series.group_by("group").agg((pl.len() / 252).alias("years")), on="group")
    )
    rates = dict(per_group.select("group", pl.col("len") / pl.col("years")).rows())
    assert max(rates.values()) < 3.0, rates
    by_year = found.group_by("group", pl.col("date").dt.year()).len()
    assert by_year["len"].max() <= 8  # the worst group-year (a crash year) still lists a handful


def test_an_enum_ticker_gives_the_same_candidates() -> None:
    market = simulate_groups(n_days=900, seed=21, planted={("G01", simulate_groups(n_days=900).dates[700]): -0.12})
    names = sorted(market.returns["ticker"].unique().to_list())
    enum = market.returns.with_columns(pl.col("ticker").cast(pl.Enum(names)))
    assert shock_candidates(enum, market.universe, NO_EVENTS).equals(
        shock_candidates(market.returns, market.universe, NO_EVENTS)
    )
    unpriced = pl.concat([market.universe, market.universe.head(1).with_columns(pl.lit("NOPRICE").alias("ticker"))])
    assert (
        shock_candidates(enum, unpriced, NO_EVENTS).height == shock_candidates(enum, market.universe, NO_EVENTS).height
    )
