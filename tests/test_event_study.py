"""The market-model event study against independent references: statsmodels OLS, hand-computed values,
planted effects in simulated markets, and the real 2025-01-27 sell-off."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from simulate import events_frame, simulate_market, universe_for

from transforms.event_study import EventStudyConfig, run_event_study
from transforms.returns import daily_returns


def _real_prices(real_prices_dir: Path, tickers: list[str]) -> pl.DataFrame:
    frames = [
        pl.read_csv(real_prices_dir / f"{t}.csv", try_parse_dates=True).select(
            pl.lit(t).alias("ticker"), pl.col("Date").cast(pl.Date).alias("date"), pl.col("Close").alias("adj_close")
        )
        for t in tickers
    ]
    return pl.concat(frames)


def _universe(tickers: list[str], group: str = "g") -> pl.DataFrame:
    return pl.DataFrame(
        {
            "ticker": [*tickers, "SPY"],
            "name": [*tickers, "SPY"],
            "group": [group] * len(tickers) + ["benchmarks"],
            "benchmark": ["SPY"] * (len(tickers) + 1),
        }
    )


def _statsmodels_fit(returns: pl.DataFrame, ticker: str, bench: str, day0: dt.date, lo: int, hi: int):  # type: ignore[no-untyped-def]
    cal = returns.filter(pl.col("ticker") == bench).sort("date")
    dates = cal["date"].to_list()
    i0 = next(i for i, d in enumerate(dates) if d >= day0)
    window = dates[i0 + lo : i0 + hi + 1]
    y = returns.filter((pl.col("ticker") == ticker) & pl.col("date").is_in(window)).select("date", "ret")
    x = cal.filter(pl.col("date").is_in(window)).select("date", pl.col("ret").alias("x"))
    joined = y.join(x, on="date").sort("date")
    model = sm.OLS(joined["ret"].to_numpy(), sm.add_constant(joined["x"].to_numpy())).fit()
    return model.params[0], model.params[1], math.sqrt(model.scale), int(model.nobs)


@pytest.mark.parametrize(
    ("event_date", "ticker"),
    [
        (dt.date(2025, 1, 27), "CEG"),
        (dt.date(2025, 1, 27), "VST"),
        (dt.date(2024, 9, 20), "CEG"),
        (dt.date(2025, 1, 27), "NEE"),
        (dt.date(2025, 5, 28), "GEV"),
    ],
)
def test_alpha_beta_sigma_match_statsmodels_on_real_data(
    real_prices_dir: Path, event_date: dt.date, ticker: str
) -> None:
    returns = daily_returns(_real_prices(real_prices_dir, [ticker, "SPY"]))
    result = run_event_study(returns, events_frame([("e", event_date)]), _universe([ticker]))
    row = result.event_impact.row(0, named=True)
    alpha, beta, sigma, n = _statsmodels_fit(returns, ticker, "SPY", event_date, -250, -11)
    assert row["n_estimation"] == n
    assert row["alpha"] == pytest.approx(alpha, abs=1e-9)
    assert row["beta"] == pytest.approx(beta, abs=1e-9)
    assert row["sigma"] == pytest.approx(sigma, abs=1e-9)


def test_alpha_beta_sigma_match_statsmodels_on_simulated_data() -> None:
    market = simulate_market(5, 400, seed=3)
    returns = daily_returns(market.prices)
    day0 = market.dates[300]
    result = run_event_study(returns, events_frame([("e", day0)]), universe_for(market))
    for ticker in market.truth["ticker"]:
        row = result.event_impact.filter((pl.col("ticker") == ticker) & (pl.col("window_end") == 0)).row(0, named=True)
        alpha, beta, sigma, n = _statsmodels_fit(returns, ticker, "MKT", day0, -250, -11)
        assert (row["alpha"], row["beta"], row["sigma"]) == pytest.approx((alpha, beta, sigma), abs=1e-9)
        assert row["n_estimation"] == n == 240


def test_planted_minus_8pct_day0_effect_is_recovered() -> None:
    market = simulate_market(20, 400, seed=7, sigma=0.002)
    day0 = market.dates[320]
    returns = daily_returns(market.prices.with_columns())
    planted = simulate_market(20, 400, seed=7, sigma=0.002, planted={day0: -0.08})
    result = run_event_study(daily_returns(planted.prices), events_frame([("e", day0)]), universe_for(planted))
    day0_rows = result.event_impact.filter((pl.col("window_start") == 0) & (pl.col("window_end") == 0))
    assert day0_rows.height == 20
    assert (day0_rows["car"] - -0.08).abs().max() < 0.005
    assert (day0_rows["car_t"] < -10).all()
    # without the plant the same market shows nothing unusual
    calm = run_event_study(returns, events_frame([("e", day0)]), universe_for(market))
    calm_day0 = calm.event_impact.filter((pl.col("window_start") == 0) & (pl.col("window_end") == 0))
    assert calm_day0["car"].abs().max() < 0.01


def test_hand_computed_car_t_and_p() -> None:
    """A 3-ticker-free example: benchmark and one ticker with exact returns; every intermediate written out."""
    dates = pl.date_range(dt.date(2024, 1, 1), dt.date(2024, 1, 12), eager=True).to_list()  # 12 days
    x = [0.01, -0.02, 0.015, 0.0, 0.005, -0.01, 0.02, -0.005, 0.01, 0.0, 0.03, -0.01]
    # ticker: y = 0.001 + 1.5 x + e, e alternating +-0.002 in estimation, planted ARs after
    e = [0.002, -0.002, 0.002, -0.002, 0.002, -0.002, 0.002, -0.002]
    y = [0.001 + 1.5 * xi + ei for xi, ei in zip(x[:8], e, strict=True)] + [
        0.001 + 1.5 * x[8] + 0.01,  # rel 0: AR 0.01 + fit error
        0.001 + 1.5 * x[9] - 0.004,
        0.001 + 1.5 * x[10] + 0.0,
        0.001 + 1.5 * x[11] + 0.002,
    ]
    ret = pl.DataFrame({"ticker": ["M"] * 12 + ["A"] * 12, "date": dates * 2, "ret": x + y})
    cfg = EventStudyConfig(estimation_window=(-8, -1), min_estimation_days=8, ar_window=(0, 3), car_windows=((0, 1),))
    universe = pl.DataFrame({"ticker": ["A", "M"], "name": ["A", "M"], "group": ["g", "b"], "benchmark": ["M", "M"]})
    result = run_event_study(ret, events_frame([("e", dates[8])]), universe, cfg)
    row = result.event_impact.row(0, named=True)
    xe, ye = np.array(x[:8]), np.array(y[:8])
    beta = ((xe - xe.mean()) * (ye - ye.mean())).sum() / ((xe - xe.mean()) ** 2).sum()
    alpha = ye.mean() - beta * xe.mean()
    sigma = math.sqrt(((ye - alpha - beta * xe) ** 2).sum() / 6)
    ar0 = y[8] - (alpha + beta * x[8])
    ar1 = y[9] - (alpha + beta * x[9])
    car = ar0 + ar1
    car_t = car / (sigma * math.sqrt(2))
    p = 2 * stats.t.sf(abs(car_t), 6)
    assert row["beta"] == pytest.approx(beta, abs=1e-12)
    assert row["alpha"] == pytest.approx(alpha, abs=1e-12)
    assert row["sigma"] == pytest.approx(sigma, abs=1e-12)
    assert row["car"] == pytest.approx(car, abs=1e-12)
    assert row["car_t"] == pytest.approx(car_t, abs=1e-9)
    assert row["p_value"] == pytest.approx(p, abs=1e-12)
    assert row["raw_return"] == pytest.approx((1 + y[8]) * (1 + y[9]) - 1, abs=1e-12)
    ars = result.abnormal_returns.sort("rel_day")
    assert ars["car"].to_list() == pytest.approx(np.cumsum(ars["abnormal_ret"].to_list()).tolist(), abs=1e-15)
    assert ars["abnormal_ret"][0] == pytest.approx(ar0, abs=1e-12)


def test_real_selloff(real_prices_dir: Path) -> None:
    tickers = ["CEG", "VST", "D", "SO"]
    returns = daily_returns(_real_prices(real_prices_dir, [*tickers, "SPY"]))
    result = run_event_study(returns, events_frame([("deepseek_selloff", dt.date(2025, 1, 27))]), _universe(tickers))
    day0 = {
        r["ticker"]: r
        for r in result.event_impact.filter(pl.col("window_end") == 0)
        .filter(pl.col("window_start") == 0)
        .iter_rows(named=True)
    }
    assert day0["CEG"]["raw_return"] == pytest.approx(-0.2085, abs=1e-4)
    assert day0["VST"]["raw_return"] == pytest.approx(-0.2827, abs=1e-4)
    for t in ("CEG", "VST"):
        assert day0[t]["car"] < -0.15 and day0[t]["car_t"] < -3 and day0[t]["p_value"] < 0.001
    assert day0["D"]["car"] > 0 and day0["SO"]["car"] > 0
    assert all(r["day0"] == dt.date(2025, 1, 27) for r in day0.values())


def test_weekend_event_reacts_next_trading_day_and_tmi(real_prices_dir: Path) -> None:
    returns = daily_returns(_real_prices(real_prices_dir, ["CEG", "SPY"]))
    events = events_frame([("tmi", dt.date(2024, 9, 20)), ("llama4", dt.date(2025, 4, 5))])
    result = run_event_study(returns, events, _universe(["CEG"]))
    rows = result.event_impact.filter((pl.col("window_start") == 0) & (pl.col("window_end") == 0)).sort("event_id")
    assert rows["day0"].to_list() == [dt.date(2025, 4, 7), dt.date(2024, 9, 20)]
    assert rows.filter(pl.col("event_id") == "tmi")["raw_return"][0] == pytest.approx(0.2229, abs=1e-4)


def test_skips_are_recorded_with_reasons(real_prices_dir: Path) -> None:
    returns = daily_returns(_real_prices(real_prices_dir, ["TLN", "CEG", "SPY"]))
    events = events_frame([("future", dt.date(2026, 10, 1)), ("early", dt.date(2023, 8, 15))])
    result = run_event_study(returns, events, _universe(["TLN", "CEG", "AEP"]))
    skips = {(r["event_id"], r["ticker"]): r for r in result.skips.iter_rows(named=True)}
    assert skips[("future", "*")]["reason_code"] == "no_trading_day_after_event"
    assert "2026-08-03" in skips[("future", "*")]["reason"]
    assert skips[("early", "TLN")]["reason_code"] == "too_few_estimation_days"
    assert skips[("early", "AEP")]["reason_code"] == "no_prices"
    assert ("early", "CEG") not in skips  # CEG listed 2022-01: 240 days available
    assert result.event_impact.filter(pl.col("event_id") == "future").is_empty()


def test_incomplete_windows_are_flagged_not_shortened() -> None:
    market = simulate_market(2, 300, seed=1)
    returns = daily_returns(market.prices)
    gap_day = market.dates[280]
    returns = returns.filter(~((pl.col("ticker") == "T000") & (pl.col("date") == gap_day)))
    events = events_frame([("gap", market.dates[279]), ("edge", market.dates[297])])
    result = run_event_study(returns, events, universe_for(market))
    impact = result.event_impact
    gap = impact.filter((pl.col("event_id") == "gap") & (pl.col("ticker") == "T000"))
    assert gap.filter(pl.col("window_end") == 0)["car"].is_not_null().all()
    assert gap.filter((pl.col("window_start") == 0) & (pl.col("window_end") == 1))["car"].is_null().all()
    assert gap.filter((pl.col("window_start") == 0) & (pl.col("window_end") == 1))["car_t"].is_null().all()
    edge = impact.filter((pl.col("event_id") == "edge") & (pl.col("window_end") == 5))
    assert edge["car"].is_null().all()  # only days 0..2 exist after day 0
    codes = set(zip(result.warnings["subject"], result.warnings["code"], strict=True))
    assert ("gap/T000", "window_incomplete") in codes and ("edge/T001", "window_incomplete") in codes
    assert ("gap/T001", "window_incomplete") not in codes


@settings(max_examples=15, deadline=None)
@given(st.permutations(list(range(60))))
def test_row_order_does_not_matter(order: list[int]) -> None:
    market = simulate_market(3, 180, seed=11)
    returns = daily_returns(market.prices)
    events = events_frame([("e", market.dates[170])])
    cfg = EventStudyConfig(
        estimation_window=(-150, -11), min_estimation_days=100, ar_window=(-5, 5), car_windows=((0, 0), (0, 3))
    )
    base = run_event_study(returns, events, universe_for(market), cfg)
    idx = np.argsort(np.array(order * (returns.height // 60 + 1))[: returns.height], kind="stable")
    shuffled = run_event_study(returns[idx], events, universe_for(market), cfg)
    assert shuffled.event_impact.equals(base.event_impact)
    assert shuffled.abnormal_returns.equals(base.abnormal_returns)
