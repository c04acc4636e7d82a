"""The market-model event study against independent references.

- statsmodels OLS on returns read straight from the CSVs (alpha, beta, sigma to 1e-9, then every CAR statistic
  rebuilt from the statsmodels fit), on real prices and on simulated markets;
- a tiny example whose every intermediate value is written out by hand (1e-12);
- planted effects in simulated markets; the real 2025-01-27 DeepSeek sell-off and the 2024-09-20 Three Mile
  Island deal;
- skips, incomplete windows and gaps; the output schemas against the marts tables; row-order invariance.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from simulate import Market, events_frame, simulate_market, universe_for

from tests.reference.event_study import build_panel, market_model_fits, run_event_study
from transforms.event_study.contract import (
    ABNORMAL_RETURNS_SCHEMA,
    ESTIMATION_AR_SCHEMA,
    EVENT_IMPACT_SCHEMA,
    MODELS,
    SKIPS_SCHEMA,
    WARNINGS_SCHEMA,
    EventStudyConfig,
    EventStudyResult,
)
from transforms.returns import daily_returns
from warehouse.tables.marts import ABNORMAL_RETURNS, EVENT_IMPACT, EVENT_SKIPS

DEEPSEEK = dt.date(2025, 1, 27)
TMI = dt.date(2024, 9, 20)


# ---------------------------------------------------------------------------------------------------------------
# Independent reference: plain Python calendar arithmetic + statsmodels OLS + scipy, no polars in the maths.


def _csv_returns(prices_dir: Path, ticker: str) -> dict[dt.date, float]:
    """{date: close/prev_close - 1} read with the csv module (not through daily_returns)."""
    with (prices_dir / f"{ticker}.csv").open(newline="") as f:
        closes = sorted((dt.date.fromisoformat(r["Date"]), float(r["Close"])) for r in csv.DictReader(f))
    return {d: c / pc - 1 for (_, pc), (d, c) in pairwise(closes)}


@dataclass
class Reference:
    alpha: float
    beta: float
    sigma: float
    n: int
    n_missing: int
    day0: dt.date
    windows: dict[tuple[int, int], dict[str, float]]
    residuals: dict[dt.date, float]


def _reference(
    y_by_date: dict[dt.date, float],
    x_by_date: dict[dt.date, float],
    event_date: dt.date,
    estimation: tuple[int, int] = (-250, -11),
    windows: tuple[tuple[int, int], ...] = ((0, 0), (-1, 1), (0, 1), (0, 5)),
) -> Reference:
    calendar = sorted(x_by_date)
    i0 = next(i for i, d in enumerate(calendar) if d >= event_date)
    est_days = [calendar[i0 + k] for k in range(estimation[0], estimation[1] + 1) if 0 <= i0 + k < len(calendar)]
    used = [d for d in est_days if d in y_by_date]
    fit = sm.OLS(np.array([y_by_date[d] for d in used]), sm.add_constant(np.array([x_by_date[d] for d in used]))).fit()
    alpha, beta = float(fit.params[0]), float(fit.params[1])
    sigma = math.sqrt(fit.scale)
    out: dict[tuple[int, int], dict[str, float]] = {}
    for a, b in windows:
        days = [calendar[i0 + k] for k in range(a, b + 1)]
        predicted = fit.predict(np.column_stack([np.ones(len(days)), [x_by_date[d] for d in days]]))
        car = float(sum(y_by_date[d] for d in days) - predicted.sum())
        car_t = car / (sigma * math.sqrt(len(days)))
        out[(a, b)] = {
            "car": car,
            "car_t": car_t,
            "p_value": float(2 * stats.t.sf(abs(car_t), fit.df_resid)),
            "raw_return": math.prod(1 + y_by_date[d] for d in days) - 1,
        }
    residuals = dict(zip(used, (float(r) for r in fit.resid), strict=True))
    return Reference(alpha, beta, sigma, int(fit.nobs), len(est_days) - len(used), calendar[i0], out, residuals)


def _real_prices(prices_dir: Path, tickers: list[str]) -> pl.DataFrame:
    return pl.concat(
        pl.read_csv(prices_dir / f"{t}.csv", try_parse_dates=True).select(
            pl.lit(t).alias("ticker"), pl.col("Date").cast(pl.Date).alias("date"), pl.col("Close").alias("adj_close")
        )
        for t in tickers
    )


def _universe(rows: list[tuple[str, str, str]]) -> pl.DataFrame:
    """core.universe from (ticker, group, benchmark) rows."""
    return pl.DataFrame(
        {
            "ticker": [r[0] for r in rows],
            "name": [r[0] for r in rows],
            "group": [r[1] for r in rows],
            "benchmark": [r[2] for r in rows],
        }
    )


def _spy_universe(tickers: list[str], group: str = "g") -> pl.DataFrame:
    return _universe([*((t, group, "SPY") for t in tickers), ("SPY", "benchmarks", "SPY")])


def _row(frame: pl.DataFrame, **key: object) -> dict[str, object]:
    hit = frame.filter(*(pl.col(k) == v for k, v in key.items()))
    assert hit.height == 1, f"{key}: {hit.height} rows"
    return hit.row(0, named=True)


def _assert_matches_reference(result: EventStudyResult, event_id: str, ticker: str, ref: Reference) -> None:
    for (a, b), stats_ in ref.windows.items():
        row = _row(result.event_impact, event_id=event_id, ticker=ticker, window_start=a, window_end=b)
        assert row["n_estimation"] == ref.n and row["n_missing_estimation"] == ref.n_missing
        assert row["day0"] == ref.day0
        assert row["alpha"] == pytest.approx(ref.alpha, abs=1e-9)
        assert row["beta"] == pytest.approx(ref.beta, abs=1e-9)
        assert row["sigma"] == pytest.approx(ref.sigma, abs=1e-9)
        assert row["car"] == pytest.approx(stats_["car"], abs=1e-9)
        assert row["car_t"] == pytest.approx(stats_["car_t"], rel=1e-8)
        assert row["p_value"] == pytest.approx(stats_["p_value"], rel=1e-6, abs=1e-15)
        assert row["raw_return"] == pytest.approx(stats_["raw_return"], abs=1e-12)
    est = result.estimation_ar.filter((pl.col("event_id") == event_id) & (pl.col("ticker") == ticker))
    assert est["date"].to_list() == sorted(ref.residuals)
    got = np.array(est["abnormal_ret"].to_list())
    assert np.abs(got - np.array([ref.residuals[d] for d in sorted(ref.residuals)])).max() < 1e-12


# ---------------------------------------------------------------------------------------------------------------
# statsmodels agreement


@pytest.mark.parametrize(
    ("event_date", "ticker", "benchmark"),
    [
        (DEEPSEEK, "CEG", "SPY"),
        (DEEPSEEK, "VST", "SPY"),
        (DEEPSEEK, "D", "SPY"),
        (TMI, "CEG", "SPY"),
        (DEEPSEEK, "GEV", "SPY"),  # GEV listed 2024-04: 197 of 240 estimation days
        (dt.date(2025, 5, 28), "TLN", "SPY"),
        (dt.date(2025, 4, 5), "NEE", "SPY"),  # a Saturday: day 0 is Monday 2025-04-07
        (DEEPSEEK, "NVDA", "QQQ"),
    ],
)
def test_fit_and_statistics_match_statsmodels_on_real_data(
    real_prices_dir: Path, event_date: dt.date, ticker: str, benchmark: str
) -> None:
    returns = daily_returns(_real_prices(real_prices_dir, [ticker, benchmark]))
    universe = _universe([(ticker, "g", benchmark), (benchmark, "benchmarks", benchmark)])
    result = run_event_study(returns, events_frame([("e", event_date)]), universe)
    ref = _reference(_csv_returns(real_prices_dir, ticker), _csv_returns(real_prices_dir, benchmark), event_date)
    assert result.skips.is_empty() and result.warnings.is_empty()
    assert (ref.n_missing > 0) == (ticker == "GEV")  # the pre-listing days count as missing, not as data
    _assert_matches_reference(result, "e", ticker, ref)


def test_fit_and_statistics_match_statsmodels_on_simulated_data() -> None:
    market = simulate_market(6, 420, seed=3)
    returns = daily_returns(market.prices)
    events = [("early", market.dates[300]), ("late", market.dates[390])]
    result = run_event_study(returns, events_frame(events), universe_for(market))
    x = dict(zip(market.dates, market.returns.filter(pl.col("ticker") == "MKT")["ret"].to_list(), strict=True))
    for ticker in market.truth["ticker"]:
        y = dict(zip(market.dates, market.returns.filter(pl.col("ticker") == ticker)["ret"].to_list(), strict=True))
        for event_id, day in events:
            ref = _reference(y, x, day)
            assert ref.n == 240
            _assert_matches_reference(result, event_id, ticker, ref)
    # and the fits are close to the truth the market was drawn from
    fitted = result.fits.filter(pl.col("event_id") == "late").join(market.truth, on="ticker")
    assert (fitted["beta"] - fitted["beta_right"]).abs().max() < 0.3
    assert (fitted["sigma"] / fitted["sigma_right"] - 1).abs().max() < 0.15


def test_market_model_fits_keeps_the_estimation_sums() -> None:
    """The sums a prediction-error correction needs: n, sum x, sum xx, x mean, centred s_xx."""
    market = simulate_market(2, 300, seed=5)
    returns = daily_returns(market.prices)
    day0 = market.dates[280]
    panel = build_panel(returns, events_frame([("e", day0)]), universe_for(market)).panel
    fits = market_model_fits(panel)
    x = market.returns.filter(pl.col("ticker") == "MKT")["ret"].to_numpy()[280 - 250 : 280 - 10]
    y = market.returns.filter(pl.col("ticker") == "T001")["ret"].to_numpy()[280 - 250 : 280 - 10]
    row = _row(fits, ticker="T001")
    assert row["n"] == 240 and row["dof"] == 238
    assert row["sum_x"] == pytest.approx(x.sum(), abs=1e-13)
    assert row["sum_y"] == pytest.approx(y.sum(), abs=1e-13)
    assert row["sum_xx"] == pytest.approx((x * x).sum(), abs=1e-14)
    assert row["sum_xy"] == pytest.approx((x * y).sum(), abs=1e-14)
    assert row["sum_yy"] == pytest.approx((y * y).sum(), abs=1e-14)
    assert row["x_mean"] == pytest.approx(x.mean(), abs=1e-15)
    assert row["s_xx"] == pytest.approx(((x - x.mean()) ** 2).sum(), abs=1e-14)
    # the raw sums give the same slope as the centred ones
    n = row["n"]
    beta_raw = (row["sum_xy"] - row["sum_x"] * row["sum_y"] / n) / (row["sum_xx"] - row["sum_x"] ** 2 / n)
    assert row["beta"] == pytest.approx(beta_raw, abs=1e-9)


# ---------------------------------------------------------------------------------------------------------------
# Hand-computed example


def _hand_example(models: tuple[str, ...]) -> EventStudyResult:
    """Benchmark M and ticker A; estimation rel_days [-5, -2] (n = 4), AR window [-1, 2]; see the tests below."""
    d = dt.date
    calendar = [d(2023, 12, 29), d(2024, 1, 2), d(2024, 1, 3), d(2024, 1, 4), d(2024, 1, 5)]
    calendar += [d(2024, 1, 8), d(2024, 1, 9), d(2024, 1, 10)]
    x = [0.01, -0.01, 0.02, 0.0, 0.0, 0.01, -0.02, 0.005]
    y = [0.022, -0.020, 0.040, 0.002, 0.003, -0.009, -0.029, 0.015]
    returns = pl.DataFrame(
        {
            "ticker": ["M"] * 8 + ["A"] * 9,
            "date": [*calendar, *calendar, d(2024, 1, 6)],
            "ret": [*x, *y, 0.5],
        }
    )
    cfg = EventStudyConfig(
        estimation_window=(-5, -2),
        min_estimation_days=4,
        ar_window=(-1, 2),
        car_windows=((0, 0), (-1, 1), (0, 1), (0, 2)),
        models=models,
    )
    universe = _universe([("A", "g", "M"), ("M", "benchmarks", "M")])
    return run_event_study(returns, events_frame([("e", d(2024, 1, 6))]), universe, cfg)


def _p_t2(t: float) -> float:
    """Two-sided p of Student t with 2 df, closed form: 1 - |t| / sqrt(2 + t^2)."""
    return 1 - abs(t) / math.sqrt(2 + t * t)


def _p_t3(t: float) -> float:
    """Two-sided p of Student t with 3 df, closed form: 1 - (2/pi)(atan(u) + u / (1 + u^2)), u = |t| / sqrt 3."""
    u = abs(t) / math.sqrt(3)
    return 1 - 2 / math.pi * (math.atan(u) + u / (1 + u * u))


def test_hand_computed_market_model() -> None:
    """Estimation: x = 0.01, -0.01, 0.02, 0; e = +0.001, -0.001, -0.001, +0.001 (orthogonal to 1 and x), so
    y = 0.001 + 2x + e = 0.022, -0.020, 0.040, 0.002 and OLS gives exactly alpha = 0.001, beta = 2:
      sum x = 0.02, sum y = 0.044, sum xx = 0.0006, sum xy = 0.00122, sum yy = 0.002488,
      xbar = 0.005, ybar = 0.011, S_xx = 0.0005, S_xy = 0.001, S_yy = 0.002004,
      beta = 0.001 / 0.0005 = 2, alpha = 0.011 - 2 * 0.005 = 0.001,
      SSR = S_yy - beta S_xy = 0.000004 = sum e^2, d = n - 2 = 2, sigma^2 = 2e-6, sigma = sqrt(2) * 1e-3.
    Event: Saturday 2024-01-06, so day 0 = Monday 2024-01-08 (A's return on the Saturday is ignored: the calendar
    is the benchmark's).
      rel  date        x       y       expected = 0.001 + 2x   AR       car (from -1)   x - xbar
      -1   2024-01-05   0.000   0.003   0.001                   0.002    0.002          -0.005
       0   2024-01-08   0.010  -0.009   0.021                  -0.030   -0.028           0.005
       1   2024-01-09  -0.020  -0.029  -0.039                   0.010   -0.018          -0.025
       2   2024-01-10   0.005   0.015   0.011                   0.004   -0.014           0.000
    car_t = CAR / (sigma sqrt L); car_se^2 / sigma^2 = L + L^2/n + (sum (x - xbar))^2 / S_xx:
      [0, 0]:  CAR -0.030, car_t = -15 sqrt(2);     1 + 1/4 + 0.005^2/0.0005 = 1.3,  car_se = 1e-3 sqrt(2.6)
      [-1, 1]: CAR -0.018, car_t = -18 / sqrt(6);   3 + 9/4 + 0.025^2/0.0005 = 6.5,  car_se = 1e-3 sqrt(13)
      [0, 1]:  CAR -0.020, car_t = -10;             2 + 4/4 + 0.02^2/0.0005 = 3.8,   car_se = 1e-3 sqrt(7.6)
      [0, 2]:  CAR -0.016, car_t = -16 / sqrt(6);   3 + 9/4 + 0.02^2/0.0005 = 6.05,  car_se = 1e-3 sqrt(12.1)
    With 2 df the two-sided p is closed-form: p = 1 - |t| / sqrt(2 + t^2).
      raw [0, 1] = 0.991 * 0.971 - 1 = -0.037739; raw [-1, 1] = 1.003 * 0.991 * 0.971 - 1 = -0.034852217.
    """
    d = dt.date
    result = _hand_example(("market",))
    fit = result.fits.row(0, named=True)
    for key, value in {
        "sum_x": 0.02, "sum_y": 0.044, "sum_xx": 0.0006, "sum_xy": 0.00122, "sum_yy": 0.002488,
        "x_mean": 0.005, "y_mean": 0.011, "s_xx": 0.0005, "s_xy": 0.001, "s_yy": 0.002004,
        "alpha": 0.001, "beta": 2.0, "sigma": math.sqrt(2) * 1e-3,
    }.items():  # fmt: skip
        assert fit[key] == pytest.approx(value, abs=1e-12), key
    assert (fit["n"], fit["n_missing"], fit["dof"]) == (4, 0, 2)

    est = result.estimation_ar
    assert est["rel_day"].to_list() == [-5, -4, -3, -2]
    assert est["abnormal_ret"].to_list() == pytest.approx([0.001, -0.001, -0.001, 0.001], abs=1e-12)

    ar = result.abnormal_returns
    assert ar["rel_day"].to_list() == [-1, 0, 1, 2]
    assert ar["date"].to_list() == [d(2024, 1, 5), d(2024, 1, 8), d(2024, 1, 9), d(2024, 1, 10)]
    assert ar["expected_ret"].to_list() == pytest.approx([0.001, 0.021, -0.039, 0.011], abs=1e-12)
    assert ar["abnormal_ret"].to_list() == pytest.approx([0.002, -0.030, 0.010, 0.004], abs=1e-12)
    assert ar["car"].to_list() == pytest.approx([0.002, -0.028, -0.018, -0.014], abs=1e-12)

    expected = {  # (car, car_t, car_se, raw_return)
        (0, 0): (-0.030, -15 * math.sqrt(2), 1e-3 * math.sqrt(2.6), -0.009),
        (-1, 1): (-0.018, -18 / math.sqrt(6), 1e-3 * math.sqrt(13), 1.003 * 0.991 * 0.971 - 1),
        (0, 1): (-0.020, -10.0, 1e-3 * math.sqrt(7.6), -0.037739),
        (0, 2): (-0.016, -16 / math.sqrt(6), 1e-3 * math.sqrt(12.1), 0.991 * 0.971 * 1.015 - 1),
    }
    for (a, b), (car, car_t, car_se, raw) in expected.items():
        row = _row(result.event_impact, window_start=a, window_end=b)
        assert row["day0"] == d(2024, 1, 8) and row["event_date"] == d(2024, 1, 6)
        assert (row["n_estimation"], row["n_missing_estimation"]) == (4, 0)
        assert row["car"] == pytest.approx(car, abs=1e-12)
        assert row["car_t"] == pytest.approx(car_t, abs=1e-9)  # sigma ~1.4e-3: 1e-12 in car -> ~1e-9 in t
        assert row["p_value"] == pytest.approx(_p_t2(car_t), abs=1e-12)
        assert row["raw_return"] == pytest.approx(raw, abs=1e-12)
        assert row["car_se"] == pytest.approx(car_se, abs=1e-12)
        assert row["scar"] == pytest.approx(car / car_se, abs=1e-9)
        assert row["scar_p"] == pytest.approx(_p_t2(car / car_se), abs=1e-12)
    assert _row(result.event_impact, window_start=0, window_end=1)["p_value"] == pytest.approx(
        1 - 10 / math.sqrt(102), abs=1e-12
    )
    assert _row(result.event_impact, window_start=-1, window_end=1)["raw_return"] == pytest.approx(
        -0.034852217, abs=1e-12
    )


def test_hand_computed_constant_mean_and_market_adjusted() -> None:
    """Same data, d = n - 1 = 3 for both models.

    constant_mean: alpha = ybar = 0.011, beta = 0, sigma^2 = S_yy / 3 = 0.002004 / 3 = 0.000668;
      AR = y - 0.011 = -0.008, -0.020, -0.040, 0.004 (rel -1..2), car = -0.008, -0.028, -0.068, -0.064;
      [0, 1]: CAR = -0.060, car_se = sigma sqrt(L + L^2/n) = sigma sqrt(2 + 1) = sigma sqrt(3).
    market_adjusted: alpha = 0, beta = 1; y - x over estimation = 0.012, -0.010, 0.020, 0.002, mean 0.006,
      S_dd = 0.006^2 + 0.016^2 + 0.014^2 + 0.004^2 = 0.000504 (= S_yy - 2 S_xy + S_xx), sigma^2 = 0.000168;
      AR = y - x = 0.003, -0.019, -0.009, 0.010, car = 0.003, -0.016, -0.025, -0.015;
      [0, 0]: CAR = -0.019, car_se = sigma sqrt(1) = sigma, so scar = car_t.
    With 3 df: p = 1 - (2/pi)(atan(u) + u / (1 + u^2)), u = |t| / sqrt(3).
    """
    result = _hand_example(("market_adjusted", "constant_mean"))
    impact, ar = result.event_impact, result.abnormal_returns
    assert sorted(impact["model"].unique().to_list()) == ["constant_mean", "market_adjusted"]
    assert impact.height == 2 * 4 and ar.height == 2 * 4 and result.estimation_ar.height == 2 * 4

    cm = ar.filter(pl.col("model") == "constant_mean")
    assert cm["expected_ret"].to_list() == pytest.approx([0.011] * 4, abs=1e-12)
    assert cm["abnormal_ret"].to_list() == pytest.approx([-0.008, -0.020, -0.040, 0.004], abs=1e-12)
    assert cm["car"].to_list() == pytest.approx([-0.008, -0.028, -0.068, -0.064], abs=1e-12)
    sigma_cm = math.sqrt(0.000668)
    row = _row(impact, model="constant_mean", window_start=0, window_end=1)
    assert (row["alpha"], row["beta"], row["sigma"]) == pytest.approx((0.011, 0.0, sigma_cm), abs=1e-12)
    car_t = -0.060 / (sigma_cm * math.sqrt(2))
    assert row["car"] == pytest.approx(-0.060, abs=1e-12)
    assert row["car_t"] == pytest.approx(car_t, abs=1e-9)
    assert row["p_value"] == pytest.approx(_p_t3(car_t), abs=1e-12)
    assert row["car_se"] == pytest.approx(sigma_cm * math.sqrt(3), abs=1e-12)
    assert row["scar_p"] == pytest.approx(_p_t3(-0.060 / (sigma_cm * math.sqrt(3))), abs=1e-12)

    ma = ar.filter(pl.col("model") == "market_adjusted")
    assert ma["expected_ret"].to_list() == pytest.approx([0.0, 0.01, -0.02, 0.005], abs=1e-12)
    assert ma["abnormal_ret"].to_list() == pytest.approx([0.003, -0.019, -0.009, 0.010], abs=1e-12)
    assert ma["car"].to_list() == pytest.approx([0.003, -0.016, -0.025, -0.015], abs=1e-12)
    est = result.estimation_ar.filter(pl.col("model") == "market_adjusted")
    assert est["abnormal_ret"].to_list() == pytest.approx([0.012, -0.010, 0.020, 0.002], abs=1e-12)
    sigma_ma = math.sqrt(0.000168)
    row = _row(impact, model="market_adjusted", window_start=0, window_end=0)
    assert (row["alpha"], row["beta"], row["sigma"]) == pytest.approx((0.0, 1.0, sigma_ma), abs=1e-12)
    assert row["car"] == pytest.approx(-0.019, abs=1e-12)
    assert row["car_t"] == pytest.approx(-0.019 / sigma_ma, abs=1e-9)
    assert row["scar"] == pytest.approx(row["car_t"], abs=1e-12) and row["car_se"] == pytest.approx(sigma_ma, abs=1e-15)
    assert row["p_value"] == pytest.approx(_p_t3(-0.019 / sigma_ma), abs=1e-12)
    assert row["raw_return"] == pytest.approx(-0.009, abs=1e-15)  # raw return does not depend on the model


# ---------------------------------------------------------------------------------------------------------------
# Planted effects


def _day0_rows(result: EventStudyResult) -> pl.DataFrame:
    return result.event_impact.filter((pl.col("window_start") == 0) & (pl.col("window_end") == 0)).sort("ticker")


def test_planted_minus_8pct_day0_effect_is_recovered() -> None:
    """Low noise: each ticker's day-0 CAR is -8% within 0.5 pp; and the plant moves the CAR by exactly -8%
    against the same market without it (the estimation window is untouched, only day 0 changes)."""
    day0 = simulate_market(20, 400, seed=7).dates[320]
    kwargs = {"seed": 7, "sigma": 0.001}
    calm, shocked = simulate_market(20, 400, **kwargs), simulate_market(20, 400, planted={day0: -0.08}, **kwargs)
    events = events_frame([("e", day0)])
    calm_rows = _day0_rows(run_event_study(daily_returns(calm.prices), events, universe_for(calm)))
    shocked_rows = _day0_rows(run_event_study(daily_returns(shocked.prices), events, universe_for(shocked)))
    assert shocked_rows.height == 20
    assert (shocked_rows["car"] + 0.08).abs().max() < 0.005
    assert (shocked_rows["car"] - calm_rows["car"] + 0.08).abs().max() < 1e-12
    assert (shocked_rows["p_value"] < 1e-10).all()
    assert (calm_rows["car"].abs() < 0.005).all()


def test_planted_effect_in_realistic_noise_gives_strongly_negative_t() -> None:
    """sigma = 1.5% a day, like a utility stock: -8% on day 0 is about -5 standard deviations."""
    market = simulate_market(30, 400, seed=2, sigma=0.015)
    day0 = market.dates[320]
    shocked = simulate_market(30, 400, seed=2, sigma=0.015, planted={day0: -0.08})
    events = events_frame([("e", day0)])
    rows = _day0_rows(run_event_study(daily_returns(shocked.prices), events, universe_for(shocked)))
    calm = _day0_rows(run_event_study(daily_returns(market.prices), events, universe_for(market)))
    assert (rows["car_t"] < -2.5).all() and rows["car_t"].mean() < -4.5
    assert (rows["p_value"] < 0.02).all()
    assert abs(rows["car"].mean() + 0.08) < 0.005  # the cross-section averages the noise away
    assert calm["car_t"].abs().mean() < 1.2 and (calm["p_value"] > 0.01).all()


def test_planted_multi_day_effect_accumulates_in_windows() -> None:
    market = simulate_market(5, 400, seed=9, sigma=0.0005)
    day0 = market.dates[300]
    shocked = simulate_market(
        5, 400, seed=9, sigma=0.0005, planted={market.dates[299]: 0.01, day0: -0.05, market.dates[301]: -0.02}
    )
    result = run_event_study(daily_returns(shocked.prices), events_frame([("e", day0)]), universe_for(shocked))
    by_window = result.event_impact.group_by("window_start", "window_end").agg(pl.col("car").mean())
    cars = {(r["window_start"], r["window_end"]): r["car"] for r in by_window.iter_rows(named=True)}
    assert cars[(0, 0)] == pytest.approx(-0.05, abs=0.001)
    assert cars[(0, 1)] == pytest.approx(-0.07, abs=0.001)
    assert cars[(-1, 1)] == pytest.approx(-0.06, abs=0.001)
    assert cars[(0, 5)] == pytest.approx(-0.07, abs=0.002)


# ---------------------------------------------------------------------------------------------------------------
# The real sell-off and the Three Mile Island deal


def test_real_deepseek_selloff(real_prices_dir: Path) -> None:
    tickers = ["CEG", "VST", "D", "SO"]
    returns = daily_returns(_real_prices(real_prices_dir, [*tickers, "SPY"]))
    result = run_event_study(returns, events_frame([("deepseek_r1", DEEPSEEK)]), _spy_universe(tickers))
    day0 = {r["ticker"]: r for r in _day0_rows(result).iter_rows(named=True)}
    assert day0["CEG"]["raw_return"] == pytest.approx(-0.2085, abs=1e-4)
    assert day0["VST"]["raw_return"] == pytest.approx(-0.2827, abs=1e-4)
    for t in ("CEG", "VST"):
        assert day0[t]["car"] < -0.15 and day0[t]["car_t"] < -3 and day0[t]["p_value"] < 0.001
    ar0 = result.abnormal_returns.filter(pl.col("rel_day") == 0)
    assert all(r["date"] == DEEPSEEK for r in ar0.iter_rows(named=True))
    assert _row(ar0, ticker="D")["abnormal_ret"] > 0 and _row(ar0, ticker="SO")["abnormal_ret"] > 0
    # day-0 CAR is the day-0 AR; every window's CAR is the sum of its abnormal_returns rows
    for row in result.event_impact.iter_rows(named=True):
        rows = result.abnormal_returns.filter(
            (pl.col("ticker") == row["ticker"]) & pl.col("rel_day").is_between(row["window_start"], row["window_end"])
        )
        assert row["car"] == pytest.approx(rows["abnormal_ret"].sum(), abs=1e-15)
        assert row["raw_return"] == pytest.approx(math.prod(1 + r for r in rows["ret"]) - 1, abs=1e-15)
    assert result.event_impact["group"].unique().to_list() == ["g"]
    assert result.event_impact["benchmark"].unique().to_list() == ["SPY"]
    assert result.abnormal_returns.group_by("ticker").len()["len"].to_list() == [21] * 4


def test_real_three_mile_island_and_weekend_event(real_prices_dir: Path) -> None:
    returns = daily_returns(_real_prices(real_prices_dir, ["CEG", "SPY"]))
    events = events_frame([("tmi", TMI), ("llama4", dt.date(2025, 4, 5))])
    rows = _day0_rows(run_event_study(returns, events, _spy_universe(["CEG"])))
    tmi, llama = _row(rows, event_id="tmi"), _row(rows, event_id="llama4")
    assert tmi["raw_return"] == pytest.approx(0.2229, abs=1e-4)
    assert tmi["car"] > 0.15 and tmi["car_t"] > 3
    assert (tmi["day0"], llama["day0"]) == (TMI, dt.date(2025, 4, 7))


# ---------------------------------------------------------------------------------------------------------------
# Skips


def test_skips_on_real_data_with_reasons(real_prices_dir: Path) -> None:
    returns = daily_returns(_real_prices(real_prices_dir, ["TLN", "CEG", "SPY"]))
    events = events_frame([("future", dt.date(2026, 10, 1)), ("early", dt.date(2023, 8, 15))])
    universe = _universe(
        [("TLN", "g", "SPY"), ("CEG", "g", "SPY"), ("AEP", "g", "SPY"), ("X", "g", "NOPE"), ("SPY", "b", "SPY")]
    )
    result = run_event_study(returns, events, universe)
    skips = {(r["event_id"], r["ticker"]): (r["reason_code"], r["reason"]) for r in result.skips.iter_rows(named=True)}
    code, reason = skips[("future", "*")]
    assert code == "no_trading_day_after_event" and "2026-10-01" in reason and "SPY 2026-08-03" in reason
    # TLN listed 2023-06-02: count its return days in rel_days [-250, -11] of 2023-08-15 independently
    spy = sorted(_csv_returns(real_prices_dir, "SPY"))
    i0 = next(i for i, d in enumerate(spy) if d >= dt.date(2023, 8, 15))
    tln = _csv_returns(real_prices_dir, "TLN")
    n_tln = sum(1 for d in spy[i0 - 250 : i0 - 10] if d in tln)
    assert 0 < n_tln < 120
    assert skips[("early", "TLN")] == (
        "too_few_estimation_days",
        f"{n_tln} days with both returns in the estimation window [-250, -11]; at least 120 needed",
    )
    assert skips[("early", "AEP")][0] == "no_prices"
    assert skips[("early", "X")] == ("no_benchmark", "no returns for benchmark NOPE")
    assert set(skips) == {("future", "*"), ("early", "TLN"), ("early", "AEP"), ("early", "X")}  # no SPY: own benchmark
    assert result.event_impact.select("event_id", "ticker").unique().rows() == [("early", "CEG")]
    assert result.abnormal_returns.select("event_id", "ticker").unique().rows() == [("early", "CEG")]


def test_no_event_window_data_and_per_benchmark_calendars() -> None:
    """T001 stops trading before the AR window; T002 regresses on a second benchmark B2 that did not trade on the
    event day and ends earlier, so its day 0 is B2's next session and a late event skips it alone."""
    market = simulate_market(3, 320, seed=4)
    returns = daily_returns(market.prices)
    day0 = market.dates[300]
    b2 = returns.filter((pl.col("ticker") == "MKT") & (pl.col("date") != day0) & (pl.col("date") <= market.dates[310]))
    returns = pl.concat(
        [
            returns.filter(~((pl.col("ticker") == "T001") & (pl.col("date") >= market.dates[285]))),
            b2.with_columns(pl.lit("B2").alias("ticker")),
        ]
    )
    universe = _universe(
        [("T000", "g", "MKT"), ("T001", "g", "MKT"), ("T002", "h", "B2"), ("MKT", "b", "MKT"), ("B2", "b", "B2")]
    )
    events = events_frame([("e", day0), ("late", market.dates[315])])
    result = run_event_study(returns, events, universe)
    skips = {(r["event_id"], r["ticker"]): r["reason_code"] for r in result.skips.iter_rows(named=True)}
    assert skips == {
        ("e", "T001"): "no_event_window_data",
        ("late", "T001"): "no_event_window_data",
        ("late", "T002"): "no_trading_day_after_event",
    }
    impact = result.event_impact
    assert _row(impact, event_id="e", ticker="T000", window_start=0, window_end=0)["day0"] == day0
    t2 = _row(impact, event_id="e", ticker="T002", window_start=0, window_end=0)
    assert t2["day0"] == market.dates[301] and t2["benchmark"] == "B2" and t2["group"] == "h"
    assert _row(result.abnormal_returns, event_id="e", ticker="T002", rel_day=0)["date"] == market.dates[301]
    assert _row(impact, event_id="late", ticker="T000", window_start=0, window_end=0)["car"] is not None


def test_ticker_listed_after_the_estimation_window_is_too_few_days() -> None:
    """Benchmark days in the estimation window but not one ticker return (n = 0): a skip, not an error."""
    market = simulate_market(2, 320, seed=6)
    prices = market.prices.filter(~((pl.col("ticker") == "T001") & (pl.col("date") < market.dates[295])))
    events = events_frame([("e", market.dates[300])])
    result = run_event_study(daily_returns(prices), events, universe_for(market), EventStudyConfig(models=MODELS))
    assert result.skips.rows() == [
        (
            "e",
            "T001",
            "too_few_estimation_days",
            "0 days with both returns in the estimation window [-250, -11]; at least 120 needed",
        )
    ]
    assert result.event_impact["ticker"].unique().to_list() == ["T000"]
    assert result.estimation_ar["ticker"].unique().to_list() == ["T000"]


# ---------------------------------------------------------------------------------------------------------------
# Incomplete windows and gaps


def test_window_beyond_the_last_data_is_null_with_a_warning() -> None:
    market = simulate_market(2, 300, seed=1)
    result = run_event_study(
        daily_returns(market.prices), events_frame([("edge", market.dates[297])]), universe_for(market)
    )
    impact = result.event_impact.filter(pl.col("ticker") == "T000")
    complete = impact.filter(pl.col("window_end") <= 1)
    assert complete["car"].is_not_null().all() and complete["p_value"].is_not_null().all()
    edge = _row(impact, window_start=0, window_end=5)  # only rel_days 0..2 exist
    assert (edge["car"], edge["car_t"], edge["p_value"], edge["raw_return"]) == (None, None, None, None)
    assert (edge["car_se"], edge["scar"], edge["scar_p"]) == (None, None, None)
    assert edge["alpha"] is not None and edge["n_estimation"] == 240  # the fit is still reported
    assert result.abnormal_returns.filter(pl.col("ticker") == "T000")["rel_day"].max() == 2
    warnings = {(r["subject"], r["code"]): r["message"] for r in result.warnings.iter_rows(named=True)}
    assert set(warnings) == {("edge/T000", "window_incomplete"), ("edge/T001", "window_incomplete")}
    assert "[0, 5] has 3 of 6 days" in warnings[("edge/T000", "window_incomplete")]


def test_missing_day_inside_the_event_window_is_flagged_not_shortened() -> None:
    market = simulate_market(2, 300, seed=1)
    returns = daily_returns(market.prices)
    gap_day = market.dates[281]  # rel_day +1 of an event on dates[280]
    returns = returns.filter(~((pl.col("ticker") == "T000") & (pl.col("date") == gap_day)))
    result = run_event_study(returns, events_frame([("gap", market.dates[280])]), universe_for(market))
    impact = result.event_impact.filter(pl.col("ticker") == "T000")
    assert _row(impact, window_start=0, window_end=0)["car"] is not None
    for a, b in ((0, 1), (-1, 1), (0, 5)):
        row = _row(impact, window_start=a, window_end=b)
        assert (row["car"], row["car_t"], row["p_value"], row["raw_return"]) == (None, None, None, None)
    ar = result.abnormal_returns.filter(pl.col("ticker") == "T000")
    assert 1 not in ar["rel_day"].to_list() and ar.height == 20  # the gap is a missing rel_day, not a shift
    assert _row(ar, rel_day=2)["date"] == market.dates[282]
    assert ar.filter(pl.col("rel_day") < 1)["car"].is_not_null().all()
    assert ar.filter(pl.col("rel_day") > 1)["car"].is_null().all()  # cumulation does not skip the hole
    assert ar.filter(pl.col("rel_day") > 1)["abnormal_ret"].is_not_null().all()
    warnings = {(r["subject"], r["code"]): r["message"] for r in result.warnings.iter_rows(named=True)}
    assert set(warnings) == {("gap/T000", "event_window_gap"), ("gap/T000", "window_incomplete")}
    assert f"rel_day 1 ({gap_day})" in warnings[("gap/T000", "event_window_gap")]
    assert (
        "[-1, 1] has 2 of 3 days; [0, 1] has 1 of 2 days; [0, 5] has 5 of 6 days"
        in (warnings[("gap/T000", "window_incomplete")])
    )
    other = result.event_impact.filter(pl.col("ticker") == "T001")
    assert other["car"].is_not_null().all()


# ---------------------------------------------------------------------------------------------------------------
# Shapes, validation, order invariance

_DUCKDB_TO_POLARS = {"VARCHAR": pl.String, "DATE": pl.Date, "INTEGER": pl.Int32, "DOUBLE": pl.Float64}


@pytest.mark.parametrize("events", [[("e", dt.date(2024, 1, 10))], []])
def test_outputs_have_the_marts_columns_and_types(events: list[tuple[str, dt.date]]) -> None:
    market = simulate_market(2, 300, seed=0)
    returns = daily_returns(market.prices)
    if events:
        events = [("e", market.dates[280])]
    result = run_event_study(returns, events_frame(events), universe_for(market))
    for frame, table in (
        (result.abnormal_returns, ABNORMAL_RETURNS),
        (result.event_impact, EVENT_IMPACT),
        (result.skips, EVENT_SKIPS),
    ):
        assert frame.schema == pl.Schema({c.name: _DUCKDB_TO_POLARS[c.dtype] for c in table.columns})
        assert frame.height == (0 if not events or table is EVENT_SKIPS else frame.height)
    assert result.warnings.schema == pl.Schema(WARNINGS_SCHEMA)
    assert result.estimation_ar.schema == pl.Schema(ESTIMATION_AR_SCHEMA)
    assert dict(result.abnormal_returns.schema) == ABNORMAL_RETURNS_SCHEMA
    assert dict(result.event_impact.schema) == EVENT_IMPACT_SCHEMA
    assert dict(result.skips.schema) == SKIPS_SCHEMA
    if events:
        assert result.event_impact.height == 2 * 4 and result.abnormal_returns.height == 2 * 21


def test_invalid_inputs_raise() -> None:
    with pytest.raises(ValueError, match="inside the AR window"):
        EventStudyConfig(car_windows=((0, 20),))
    with pytest.raises(ValueError, match="at least 3"):
        EventStudyConfig(min_estimation_days=2)
    with pytest.raises(ValueError, match="models"):
        EventStudyConfig(models=("capm",))
    with pytest.raises(ValueError, match="repeat"):
        EventStudyConfig(car_windows=((0, 0), (0, 0)))
    market = simulate_market(2, 300, seed=0)
    returns = daily_returns(market.prices)
    events = events_frame([("e", market.dates[280])])
    with pytest.raises(ValueError, match="returns repeats"):
        run_event_study(pl.concat([returns, returns.head(1)]), events, universe_for(market))
    with pytest.raises(ValueError, match="events repeats"):
        run_event_study(returns, pl.concat([events, events]), universe_for(market))
    with pytest.raises(ValueError, match="universe lacks"):
        run_event_study(returns, events, universe_for(market).drop("benchmark"))


def _scenario() -> tuple[Market, pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """A market exercising every output: fits, a gap, an incomplete window, skips of several kinds."""
    market = simulate_market(4, 200, seed=11)
    prices = market.prices.filter(~((pl.col("ticker") == "T000") & (pl.col("date") == market.dates[172])))
    events = events_frame(
        [
            ("e", market.dates[170]),
            ("edge", market.dates[197]),
            ("future", dt.date(2030, 1, 1)),
            ("early", market.dates[60]),
        ]
    )
    universe = pl.concat([universe_for(market), _universe([("GONE", "sim", "MKT"), ("ORPHAN", "sim", "NOPE")])])
    return market, prices, events, universe


_SMALL = EventStudyConfig(
    estimation_window=(-150, -11),
    min_estimation_days=100,
    ar_window=(-5, 5),
    car_windows=((0, 0), (0, 3), (-2, 2)),
    models=MODELS,
)


@settings(max_examples=20, deadline=None)
@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_row_order_does_not_change_any_output(seed: int) -> None:
    _, prices, events, universe = _scenario()
    base = run_event_study(daily_returns(prices), events, universe, _SMALL)
    assert not base.warnings.is_empty() and not base.skips.is_empty() and not base.abnormal_returns.is_empty()
    rng = np.random.default_rng(seed)

    def shuffle(frame: pl.DataFrame) -> pl.DataFrame:
        return frame[rng.permutation(frame.height).tolist()]

    shuffled = run_event_study(daily_returns(shuffle(prices)), shuffle(events), shuffle(universe), _SMALL)
    for name in ("abnormal_returns", "event_impact", "skips", "warnings", "estimation_ar", "fits"):
        assert getattr(shuffled, name).equals(getattr(base, name)), name
    # returns handed over in any order too (not only prices)
    again = run_event_study(shuffle(daily_returns(prices)), events, universe, _SMALL)
    assert again.event_impact.equals(base.event_impact) and again.abnormal_returns.equals(base.abnormal_returns)
