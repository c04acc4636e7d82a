"""Synthetic markets with a known truth, for tests and benchmarks (never shipped as real data).

`simulate_market` draws a benchmark return series r_m and ticker returns `r = alpha + beta r_m + e` on a
business-day calendar from a seeded numpy generator, optionally plants abnormal returns on chosen dates, and
compounds everything into adjusted closes, so an estimator fed through `daily_returns` must recover known numbers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl


@dataclass(frozen=True)
class Market:
    """A simulated market.

    `prices`: core.prices_daily-like `ticker, date, adj_close` (benchmark included; one extra leading price row
    per ticker so the first simulated date has a return). `returns`: the simulated `ticker, date, ret`, equal to
    daily_returns(prices) up to rounding. `truth`: `ticker, alpha, beta, sigma`. `planted`: `ticker, date,
    abnormal` for every planted effect. `dates`: the return dates, in order.
    """

    prices: pl.DataFrame
    returns: pl.DataFrame
    truth: pl.DataFrame
    planted: pl.DataFrame
    dates: list[dt.date]
    benchmark: str


def business_days(start: dt.date, n: int) -> list[dt.date]:
    """n weekdays from start (holidays ignored: the model only needs an ordered calendar)."""
    days = pl.date_range(start, start + dt.timedelta(days=int(n * 1.5) + 10), eager=True)
    return days.filter(days.dt.weekday() <= 5).head(n).to_list()


def _per_ticker(value: float | Sequence[float] | np.ndarray, n: int, what: str) -> np.ndarray:
    arr = np.broadcast_to(np.asarray(value, dtype=float), (n,)).copy()
    if arr.shape != (n,):
        raise ValueError(f"{what} must be a scalar or have one value per ticker ({n})")
    return arr


def simulate_market(
    n_tickers: int = 10,
    n_days: int = 400,
    *,
    seed: int = 0,
    start: dt.date = dt.date(2023, 1, 2),
    benchmark: str = "MKT",
    market_mean: float = 0.0003,
    market_sigma: float = 0.01,
    alphas: float | Sequence[float] | np.ndarray | None = None,
    betas: float | Sequence[float] | np.ndarray | None = None,
    sigma: float | Sequence[float] | np.ndarray = 0.015,
    planted: Mapping[dt.date, float | Sequence[float] | np.ndarray] | None = None,
    common_shock_sigma: float = 0.0,
) -> Market:
    """Simulate `n_tickers` tickers T000, T001, ... and the benchmark over `n_days` business days.

    alphas default to N(0.0002, 0.0003) draws and betas to U(0.5, 1.5) draws; pass scalars or per-ticker
    sequences to fix them. `planted` maps a date to an abnormal return added that day (a scalar for every
    ticker, or one value per ticker). `common_shock_sigma` adds a shock shared by all tickers each day
    (cross-correlated abnormal returns, the case Kolari-Pynnönen corrects for). The draws are made in a fixed
    order, so a planted effect changes nothing else about the market for the same seed.
    """
    rng = np.random.default_rng(seed)
    dates = business_days(start, n_days)
    tickers = [f"T{i:03d}" for i in range(n_tickers)]
    drawn_alphas = rng.normal(0.0002, 0.0003, n_tickers)
    drawn_betas = rng.uniform(0.5, 1.5, n_tickers)
    a = drawn_alphas if alphas is None else _per_ticker(alphas, n_tickers, "alphas")
    b = drawn_betas if betas is None else _per_ticker(betas, n_tickers, "betas")
    s = _per_ticker(sigma, n_tickers, "sigma")
    rm = rng.normal(market_mean, market_sigma, n_days)
    noise = rng.normal(0.0, 1.0, (n_days, n_tickers)) * s
    if common_shock_sigma:
        noise += rng.normal(0.0, common_shock_sigma, (n_days, 1))
    rets = a + np.outer(rm, b) + noise
    plant = np.zeros((n_days, n_tickers))
    for when, effect in (planted or {}).items():
        plant[dates.index(when)] += _per_ticker(effect, n_tickers, f"planted[{when}]")
    rets += plant

    names = [benchmark, *tickers]
    all_rets = np.column_stack([rm, rets])
    levels = 100.0 * np.cumprod(1.0 + np.vstack([np.zeros((1, n_tickers + 1)), all_rets]), axis=0)
    price_dates = [dates[0] - dt.timedelta(days=3), *dates]
    prices = pl.DataFrame(
        {
            "ticker": np.repeat(names, len(price_dates)),
            "date": price_dates * len(names),
            "adj_close": levels.T.reshape(-1),
        },
        schema={"ticker": pl.String, "date": pl.Date, "adj_close": pl.Float64},
    )
    returns = pl.DataFrame(
        {"ticker": np.repeat(names, n_days), "date": dates * len(names), "ret": all_rets.T.reshape(-1)},
        schema={"ticker": pl.String, "date": pl.Date, "ret": pl.Float64},
    )
    rows, cols = np.nonzero(plant)
    planted_frame = pl.DataFrame(
        {
            "ticker": [tickers[c] for c in cols],
            "date": [dates[r] for r in rows],
            "abnormal": plant[rows, cols],
        },
        schema={"ticker": pl.String, "date": pl.Date, "abnormal": pl.Float64},
    ).sort("ticker", "date")
    truth = pl.DataFrame({"ticker": tickers, "alpha": a, "beta": b, "sigma": s})
    return Market(prices=prices, returns=returns, truth=truth, planted=planted_frame, dates=dates, benchmark=benchmark)


def universe_for(market: Market, group: str = "sim") -> pl.DataFrame:
    """core.universe-shaped frame for a simulated market (the benchmark included, as in the real seed)."""
    tickers = market.truth["ticker"].to_list()
    bench = market.benchmark
    return pl.DataFrame(
        {
            "ticker": [*tickers, bench],
            "name": [*tickers, bench],
            "group": [group] * len(tickers) + ["benchmarks"],
            "benchmark": [bench] * (len(tickers) + 1),
        }
    )


def events_frame(rows: list[tuple[str, dt.date]], category: str = "efficiency") -> pl.DataFrame:
    """core.ai_events-shaped frame from (event_id, event_date) pairs."""
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
