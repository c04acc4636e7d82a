"""Size and power of every group test on simulated markets with a known truth.

1,000 independent simulated markets of 30 stocks share one event date; each market is one group, so each
group's test is one simulated event study. With no planted effect every test must reject at 5% in 3-8% of
the 1,000; with a market-wide shock shared by all stocks (cross-correlated abnormal returns) plain BMP
over-rejects while the Kolari-Pynnonen adjustment does not; with a planted -2 sigma abnormal return on day 0
every test must reject in at least 90%.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest
from simulate import business_days

from transforms.event_study import EventStudyConfig, run_dense_study

MARKETS, STOCKS, DAYS, DAY0 = 1000, 30, 272, 258
TESTS = ("csect_p", "patell_p", "bmp_p", "kp_bmp_p", "rank_p", "gsign_p")


def simulated_study(
    seed: int, effect_sigmas: float = 0.0, common_sigma: float = 0.0, markets: int = MARKETS
) -> pl.DataFrame:
    """Day-0 group tests of `markets` simulated markets (one row per market)."""
    rng = np.random.default_rng(seed)
    dates = business_days(dt.date(2020, 1, 1), DAYS)
    rm = rng.normal(0.0003, 0.01, (DAYS, markets))
    alpha = rng.normal(0.0002, 0.0003, (markets, STOCKS))
    beta = rng.uniform(0.5, 1.5, (markets, STOCKS))
    sigma = rng.uniform(0.01, 0.03, (markets, STOCKS))
    noise = rng.normal(0.0, 1.0, (DAYS, markets, STOCKS)) * sigma
    if common_sigma:
        noise += rng.normal(0.0, common_sigma, (DAYS, markets, 1))
    rets = alpha + beta * rm[:, :, None] + noise
    rets[DAY0] += effect_sigmas * sigma
    stock_names = np.array([f"M{m}_S{i}" for m in range(markets) for i in range(STOCKS)])
    market_names = np.array([f"M{m}" for m in range(markets)])
    returns = pl.concat(
        [
            pl.DataFrame(
                {
                    "ticker": np.tile(stock_names, DAYS),
                    "date": np.repeat(np.array(dates, dtype="datetime64[D]"), markets * STOCKS),
                    "ret": rets.reshape(-1),
                }
            ),
            pl.DataFrame(
                {
                    "ticker": np.tile(market_names, DAYS),
                    "date": np.repeat(np.array(dates, dtype="datetime64[D]"), markets),
                    "ret": rm.reshape(-1),
                }
            ),
        ]
    ).with_columns(pl.col("date").cast(pl.Date))
    universe = pl.DataFrame(
        {
            "ticker": [*stock_names, *market_names],
            "name": [*stock_names, *market_names],
            "group": [f"G{m}" for m in range(markets) for _ in range(STOCKS)] + ["benchmarks"] * markets,
            "benchmark": [f"M{m}" for m in range(markets) for _ in range(STOCKS)] + list(market_names),
        }
    )
    events = pl.DataFrame(
        {
            "event_id": ["sim"],
            "event_date": [dates[DAY0]],
            "name": ["sim"],
            "category": ["efficiency"],
            "description": ["simulated"],
            "source_url": ["https://example.com"],
        }
    )
    config = EventStudyConfig(ar_window=(-1, 1), car_windows=((0, 0),))
    # The production engine (tests/test_dense_study.py holds it to the reference pipeline to 1e-9): the
    # reference's pairwise Kolari-Pynnonen r-bar is a self-join per pair of tickers, and the "all" group of
    # 30,000 simulated stocks would need tens of GB for it.
    out = run_dense_study(returns, events, universe, config).group_impact
    return out.filter(pl.col("group").str.starts_with("G") & (pl.col("model") == "market"))


def _rejection_rates(frame: pl.DataFrame, markets: int = MARKETS) -> dict[str, float]:
    assert frame.height == markets
    return {t: float((frame[t] < 0.05).mean()) for t in TESTS}  # type: ignore[arg-type]


def test_size_without_an_effect() -> None:
    rates = _rejection_rates(simulated_study(seed=101))
    print("size, independent:", rates)
    for test, rate in rates.items():
        assert 0.03 <= rate <= 0.08, (test, rate)


def test_cross_correlation_bmp_over_rejects_kp_does_not() -> None:
    rates = _rejection_rates(simulated_study(seed=202, common_sigma=0.006))
    print("size, cross-correlated:", rates)
    assert rates["bmp_p"] > 0.08
    assert 0.03 <= rates["kp_bmp_p"] <= 0.08


@pytest.mark.parametrize("markets", [pytest.param(300), pytest.param(MARKETS, marks=pytest.mark.slow)])
def test_power_against_a_minus_two_sigma_day0_effect(markets: int) -> None:
    # power is far from the 90% bar, so 300 simulated events decide it in the default suite; 1,000 with -m slow
    rates = _rejection_rates(simulated_study(seed=303, effect_sigmas=-2.0, markets=markets), markets)
    print("power, -2 sigma:", rates)
    for test, rate in rates.items():
        assert rate >= 0.90, (test, rate)
