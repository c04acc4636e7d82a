"""Synthetic markets with a known truth, for tests and benchmarks (never shipped as real data).

`simulate_market` draws a benchmark return series and ticker returns `r = alpha + beta r_m + e` on a business-day
calendar, and can plant an abnormal return on chosen dates, so an estimator must recover known numbers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl


@dataclass(frozen=True)
class Market:
    """Prices (core.prices_daily-like: ticker, date, adj_close), the true parameters and the calendar."""

    prices: pl.DataFrame
    truth: pl.DataFrame  # ticker, alpha, beta, sigma
    dates: list[dt.date]


def business_days(start: dt.date, n: int) -> list[dt.date]:
    """n weekdays from start (holidays ignored: the model only needs an ordered calendar)."""
    days = pl.date_range(start, start + dt.timedelta(days=int(n * 1.5) + 10), eager=True)
    weekdays = days.filter(days.dt.weekday() <= 5)
    return weekdays.head(n).to_list()


def simulate_market(
    n_tickers: int = 10,
    n_days: int = 400,
    *,
    seed: int = 0,
    start: dt.date = dt.date(2023, 1, 2),
    benchmark: str = "MKT",
    market_sigma: float = 0.01,
    sigma: float | np.ndarray = 0.015,
    planted: dict[dt.date, float] | None = None,
    common_shock_sigma: float = 0.0,
) -> Market:
    """Simulate a market; `planted` adds an abnormal return on given dates to every ticker.

    `common_shock_sigma` adds a shock shared by all tickers each day (cross-correlated abnormal returns).
    """
    rng = np.random.default_rng(seed)
    dates = business_days(start, n_days)
    tickers = [f"T{i:03d}" for i in range(n_tickers)]
    alphas = rng.normal(0.0002, 0.0003, n_tickers)
    betas = rng.uniform(0.5, 1.5, n_tickers)
    sigmas = np.broadcast_to(np.asarray(sigma, dtype=float), (n_tickers,)).copy()
    rm = rng.normal(0.0003, market_sigma, n_days)
    noise = rng.normal(0.0, 1.0, (n_days, n_tickers)) * sigmas
    if common_shock_sigma:
        noise += rng.normal(0.0, common_shock_sigma, (n_days, 1))
    rets = alphas + np.outer(rm, betas) + noise
    for when, effect in (planted or {}).items():
        rets[dates.index(when)] += effect
    all_rets = np.column_stack([rm, rets])
    levels = 100.0 * np.cumprod(1.0 + np.vstack([np.zeros((1, n_tickers + 1)), all_rets]), axis=0)
    price_dates = [dates[0] - dt.timedelta(days=3), *dates]
    names = [benchmark, *tickers]
    prices = pl.DataFrame(
        {
            "ticker": np.repeat(names, len(price_dates)),
            "date": price_dates * len(names),
            "adj_close": levels.T.reshape(-1),
        }
    )
    truth = pl.DataFrame({"ticker": tickers, "alpha": alphas, "beta": betas, "sigma": sigmas})
    return Market(prices=prices, truth=truth, dates=dates)


def universe_for(market: Market, group: str = "sim", benchmark: str = "MKT") -> pl.DataFrame:
    """core.universe-shaped frame for a simulated market (the benchmark included, as in the real seed)."""
    tickers = market.truth["ticker"].to_list()
    return pl.DataFrame(
        {
            "ticker": [*tickers, benchmark],
            "name": [*tickers, benchmark],
            "group": [group] * len(tickers) + ["benchmarks"],
            "benchmark": [benchmark] * (len(tickers) + 1),
        }
    )


def events_frame(rows: list[tuple[str, dt.date]], category: str = "efficiency") -> pl.DataFrame:
    """core.ai_events-shaped frame."""
    return pl.DataFrame(
        {
            "event_id": [r[0] for r in rows],
            "event_date": [r[1] for r in rows],
            "name": [r[0] for r in rows],
            "category": [category] * len(rows),
            "description": ["simulated"] * len(rows),
            "source_url": ["https://example.com"] * len(rows),
        },
        schema={
            "event_id": pl.String,
            "event_date": pl.Date,
            "name": pl.String,
            "category": pl.String,
            "description": pl.String,
            "source_url": pl.String,
        },
    )
