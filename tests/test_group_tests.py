"""Group tests against a hand-computed example (every intermediate value written out), the models against
statsmodels, and properties of the abnormal returns."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import polars as pl
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from simulate import events_frame, simulate_market, universe_for

from tests.reference.event_study import run_event_study
from tests.reference.group_tests import group_tests
from transforms.event_study import MODELS, EventStudyConfig
from transforms.returns import daily_returns

# A tiny universe: three tickers of group "g", estimation rel_days -6..-1, event window rel_days 0..1.
EST = {  # estimation-window abnormal returns per ticker
    "A": [0.010, -0.020, 0.015, 0.000, -0.005, 0.002],
    "B": [0.004, -0.010, 0.012, -0.003, 0.001, -0.006],
    "C": [-0.008, 0.006, 0.003, 0.009, -0.012, 0.004],
}
EVENT = {"A": [-0.030, -0.010], "B": [-0.020, 0.005], "C": [0.010, -0.015]}  # rel_day 0, 1
SIGMA = {"A": 0.012, "B": 0.008, "C": 0.009}
N_EST = 6  # market model: d_i = n - 2 = 4


def _frames() -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    est = pl.DataFrame(
        [("e", t, "market", d - 6, ar) for t, ars in EST.items() for d, ar in enumerate(ars)],
        schema=["event_id", "ticker", "model", "rel_day", "abnormal_ret"],
        orient="row",
    )
    ev = pl.DataFrame(
        [("e", t, "market", d, ar) for t, ars in EVENT.items() for d, ar in enumerate(ars)],
        schema=["event_id", "ticker", "model", "rel_day", "abnormal_ret"],
        orient="row",
    )
    rows = []
    for t in EST:
        car = sum(EVENT[t])
        se = SIGMA[t] * math.sqrt(2)  # a given standard error (the event study computes it; here it is input)
        rows.append(("e", t, "g", "market", 0, 1, car, car / se, N_EST))
    impact = pl.DataFrame(
        rows,
        schema=["event_id", "ticker", "group", "model", "window_start", "window_end", "car", "scar", "n_estimation"],
        orient="row",
    ).with_columns(pl.col("window_start", "window_end").cast(pl.Int32), pl.col("n_estimation").cast(pl.Int32))
    universe = pl.DataFrame({"ticker": list(EST), "name": list(EST), "group": ["g"] * 3, "benchmark": ["M"] * 3})
    return impact, est, ev, universe


def test_every_group_statistic_matches_the_hand_computation() -> None:
    impact, est, ev, universe = _frames()
    row = group_tests(impact, est, ev, universe).filter(pl.col("group") == "g").row(0, named=True)
    cars = np.array([sum(EVENT[t]) for t in EST])  # A -0.040, B -0.015, C -0.005
    scars = np.array([cars[i] / (SIGMA[t] * math.sqrt(2)) for i, t in enumerate(EST)])
    n = 3
    # descriptive
    assert row["n"] == 3
    assert row["caar"] == pytest.approx(-0.02, abs=1e-12)
    assert row["median_car"] == pytest.approx(-0.015, abs=1e-12)
    assert row["share_negative"] == pytest.approx(1.0, abs=1e-12)
    # cross-sectional t: -0.02 / (sd(-0.040, -0.015, -0.005) / sqrt 3); sd = 0.018027756...
    sd_car = math.sqrt(((-0.02) ** 2 + 0.005**2 + 0.015**2) / 2)
    assert sd_car == pytest.approx(0.0180277563773, abs=1e-12)
    assert row["csect_t"] == pytest.approx(-0.02 / (sd_car / math.sqrt(3)), abs=1e-9)
    assert row["csect_p"] == pytest.approx(2 * stats.t.sf(abs(row["csect_t"]), 2), abs=1e-12)
    # Patell: sum(SCAR) / sqrt(3 x 4/2)
    assert row["patell_z"] == pytest.approx(scars.sum() / math.sqrt(3 * 4 / 2), abs=1e-9)
    assert row["patell_p"] == pytest.approx(2 * stats.norm.sf(abs(row["patell_z"])), abs=1e-12)
    # BMP
    bmp = scars.mean() / (scars.std(ddof=1) / math.sqrt(n))
    assert row["bmp_t"] == pytest.approx(bmp, abs=1e-9)
    assert row["bmp_p"] == pytest.approx(2 * stats.t.sf(abs(bmp), n - 1), abs=1e-12)
    # Kolari-Pynnonen: mean pairwise correlation of the estimation ARs
    m = np.array([EST[t] for t in EST])
    corr = np.corrcoef(m)
    r_bar = (corr.sum() - 3) / 6
    assert row["mean_residual_corr"] == pytest.approx(r_bar, abs=1e-9)
    kp = bmp * math.sqrt((1 - r_bar) / (1 + (n - 1) * r_bar))
    assert row["kp_bmp_t"] == pytest.approx(kp, abs=1e-9)
    assert row["kp_bmp_p"] == pytest.approx(2 * stats.t.sf(abs(kp), n - 1), abs=1e-9)
    # Corrado rank over 8 days per ticker (6 estimation + 2 event)
    u = {}
    for t in EST:
        series = np.array(EST[t] + EVENT[t])
        u[t] = stats.rankdata(series) / (len(series) + 1) - 0.5
    u_bar = np.mean([u[t] for t in EST], axis=0)  # per day, days -6..1
    s_u = math.sqrt(np.mean(u_bar**2))
    rank_z = (u_bar[6] + u_bar[7]) / (math.sqrt(2) * s_u)
    assert row["rank_z"] == pytest.approx(rank_z, abs=1e-9)
    assert row["rank_p"] == pytest.approx(2 * stats.norm.sf(abs(rank_z)), abs=1e-12)
    # generalized sign: p = mean share of positive estimation ARs = (3/6 + 3/6 + 4/6) / 3; no positive CAR
    p_hat = (3 / 6 + 3 / 6 + 4 / 6) / 3
    assert row["gsign_z"] == pytest.approx((0 - 3 * p_hat) / math.sqrt(3 * p_hat * (1 - p_hat)), abs=1e-9)
    assert row["gsign_p"] == pytest.approx(2 * stats.norm.sf(abs(row["gsign_z"])), abs=1e-12)


def test_all_group_pools_every_ticker() -> None:
    impact, est, ev, universe = _frames()
    universe = universe.with_columns(pl.Series("group", ["g", "g", "h"]))
    impact = impact.with_columns(pl.Series("group", ["g", "g", "h"]))
    out = group_tests(impact, est, ev, universe)
    assert dict(zip(out["group"], out["n"], strict=True)) == {"all": 3, "g": 2, "h": 1}
    assert out.filter(pl.col("group") == "all")["caar"][0] == pytest.approx(-0.02, abs=1e-12)


def _stats_fit(y: np.ndarray, x: np.ndarray | None) -> tuple[float, float, float]:
    if x is None:  # constant mean: OLS on a constant
        model = sm.OLS(y, np.ones_like(y)).fit()
        return float(model.params[0]), 0.0, math.sqrt(model.scale)
    model = sm.OLS(y, sm.add_constant(x)).fit()
    return float(model.params[0]), float(model.params[1]), math.sqrt(model.scale)


def test_every_model_against_statsmodels() -> None:
    market = simulate_market(4, 400, seed=5)
    returns = daily_returns(market.prices)
    day0 = market.dates[320]
    result = run_event_study(
        returns, events_frame([("e", day0)]), universe_for(market), EventStudyConfig(models=MODELS)
    )
    mkt = returns.filter(pl.col("ticker") == "MKT").sort("date")
    dates = mkt["date"].to_list()
    i0 = dates.index(day0)
    est_dates = dates[i0 - 250 : i0 - 10]
    x = mkt.filter(pl.col("date").is_in(est_dates))["ret"].to_numpy()
    for ticker in market.truth["ticker"]:
        y = (
            returns.filter((pl.col("ticker") == ticker) & pl.col("date").is_in(est_dates))
            .sort("date")["ret"]
            .to_numpy()
        )
        rows = {
            r["model"]: r
            for r in result.event_impact.filter(
                (pl.col("ticker") == ticker) & (pl.col("window_start") == 0) & (pl.col("window_end") == 0)
            ).iter_rows(named=True)
        }
        a, b, s = _stats_fit(y, x)
        assert (rows["market"]["alpha"], rows["market"]["beta"], rows["market"]["sigma"]) == pytest.approx(
            (a, b, s), abs=1e-9
        )
        a, _, s = _stats_fit(y, None)
        assert (rows["constant_mean"]["alpha"], rows["constant_mean"]["sigma"]) == pytest.approx((a, s), abs=1e-9)
        _, _, s = _stats_fit(y - x, None)  # market-adjusted: sd of R - Rm (n - 1 df)
        assert rows["market_adjusted"]["sigma"] == pytest.approx(s, abs=1e-9)
        # prediction-error corrected one-day standard error of the market model
        x0 = mkt.filter(pl.col("date") == day0)["ret"][0]
        factor = 1 + 1 / len(x) + (x0 - x.mean()) ** 2 / ((x - x.mean()) ** 2).sum()
        assert rows["market"]["car_se"] == pytest.approx(rows["market"]["sigma"] * math.sqrt(factor), abs=1e-12)
        assert rows["constant_mean"]["car_se"] == pytest.approx(
            rows["constant_mean"]["sigma"] * math.sqrt(1 + 1 / 240), abs=1e-12
        )
        assert rows["market_adjusted"]["car_se"] == pytest.approx(rows["market_adjusted"]["sigma"], abs=1e-12)


def test_multi_day_car_variance_market_model() -> None:
    market = simulate_market(1, 400, seed=9)
    returns = daily_returns(market.prices)
    day0 = market.dates[330]
    result = run_event_study(returns, events_frame([("e", day0)]), universe_for(market))
    row = result.event_impact.filter((pl.col("window_start") == 0) & (pl.col("window_end") == 5)).row(0, named=True)
    mkt = returns.filter(pl.col("ticker") == "MKT").sort("date")
    dates = mkt["date"].to_list()
    i0 = dates.index(day0)
    x = mkt.filter(pl.col("date").is_in(dates[i0 - 250 : i0 - 10]))["ret"].to_numpy()
    xw = mkt.filter(pl.col("date").is_in(dates[i0 : i0 + 6]))["ret"].to_numpy()
    s2 = row["sigma"] ** 2
    var = s2 * (6 + 36 / len(x) + ((xw - x.mean()).sum()) ** 2 / ((x - x.mean()) ** 2).sum())
    assert row["car_se"] == pytest.approx(math.sqrt(var), abs=1e-12)
    assert row["scar"] == pytest.approx(row["car"] / math.sqrt(var), abs=1e-9)


@settings(max_examples=20, deadline=None)
@given(st.floats(min_value=-0.05, max_value=0.05, allow_nan=False))
def test_adding_a_constant_to_all_returns_leaves_market_adjusted_ars_unchanged(shift: float) -> None:
    market = simulate_market(3, 300, seed=2)
    returns = daily_returns(market.prices)
    cfg = EventStudyConfig(models=("market_adjusted",))
    events = events_frame([("e", market.dates[280])])
    base = run_event_study(returns, events, universe_for(market), cfg).abnormal_returns
    moved = run_event_study(
        returns.with_columns(pl.col("ret") + shift), events, universe_for(market), cfg
    ).abnormal_returns
    assert np.allclose(base["abnormal_ret"].to_numpy(), moved["abnormal_ret"].to_numpy(), atol=1e-12)


@settings(max_examples=20, deadline=None)
@given(st.floats(min_value=0.2, max_value=5.0), st.floats(min_value=-0.01, max_value=0.01))
def test_market_model_ars_invariant_to_affine_market_exposure(scale: float, drift: float) -> None:
    """Adding drift + scale x R_m to a ticker's returns changes alpha and beta, never its abnormal returns."""
    market = simulate_market(2, 300, seed=4)
    returns = daily_returns(market.prices)
    events = events_frame([("e", market.dates[280])])
    base = run_event_study(returns, events, universe_for(market)).abnormal_returns.sort("ticker", "rel_day")
    mkt = returns.filter(pl.col("ticker") == "MKT").select("date", pl.col("ret").alias("m"))
    tilted = (
        returns.join(mkt, on="date")
        .with_columns(
            pl.when(pl.col("ticker") == "MKT")
            .then(pl.col("ret"))
            .otherwise(pl.col("ret") + drift + scale * pl.col("m"))
            .alias("ret")
        )
        .drop("m")
    )
    moved = run_event_study(tilted, events, universe_for(market)).abnormal_returns.sort("ticker", "rel_day")
    assert np.allclose(base["abnormal_ret"].to_numpy(), moved["abnormal_ret"].to_numpy(), atol=1e-10)


def test_real_selloff_group_tests(real_prices_dir) -> None:  # type: ignore[no-untyped-def]
    from flows.sources.csv_prices import CsvPriceSource
    from warehouse import seeds

    prices = CsvPriceSource(real_prices_dir).fetch([]).frames["core.prices_daily"]
    universe = seeds.read_universe()
    events = events_frame([("deepseek_selloff", dt.date(2025, 1, 27))])
    result = run_event_study(daily_returns(prices), events, universe)
    out = group_tests(result.event_impact, result.estimation_ar, result.abnormal_returns, universe)
    power = out.filter(
        (pl.col("group") == "independent_power") & (pl.col("window_end") == 0) & (pl.col("window_start") == 0)
    )
    row = power.row(0, named=True)
    assert row["n"] == 4 and row["caar"] < -0.15 and row["share_negative"] == 1.0
    assert row["kp_bmp_p"] < 0.05 and row["mean_residual_corr"] > 0.3  # power names move together
    utilities = out.filter(
        (pl.col("group") == "regulated_utilities") & (pl.col("window_end") == 0) & (pl.col("window_start") == 0)
    )
    assert utilities["caar"][0] > 0
