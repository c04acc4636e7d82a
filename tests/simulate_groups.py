"""Simulated markets of cross-correlated peer groups, for the shock detector's tests and benchmark.

`r_it = alpha_i + beta_i r_mt + f_gt + e_it`: a benchmark return r_m, a factor f_g shared by every ticker of group
g (what makes power producers move together beyond the market) and an idiosyncratic e. The residual correlation
within a group is `factor_sigma^2 / (factor_sigma^2 + sigma^2)`: the defaults (1.66% and 1.5% daily) give 0.55,
the r-bar of the real independent_power group. `tail_df` draws every shock from a Student t with that many
degrees of freedom scaled to the same variance (daily returns are fat-tailed; the normal null understates how
often |z| >= 4 happens). `planted` adds an abnormal return to every ticker of a group on a date.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import polars as pl
from simulate import business_days


@dataclass(frozen=True)
class GroupMarket:
    """`returns`: ticker, date, ret (benchmark included); `universe`: core.universe-shaped; `dates`: the calendar."""

    returns: pl.DataFrame
    universe: pl.DataFrame
    dates: list[dt.date]
    benchmark: str


def _shocks(rng: np.random.Generator, shape: tuple[int, ...], tail_df: float | None) -> np.ndarray:
    if tail_df is None:
        return rng.standard_normal(shape)
    return rng.standard_t(tail_df, shape) / np.sqrt(tail_df / (tail_df - 2.0))


def simulate_groups(
    n_groups: int = 3,
    tickers_per_group: int = 8,
    n_days: int = 1500,
    *,
    seed: int = 0,
    start: dt.date = dt.date(2015, 1, 1),
    benchmark: str = "MKT",
    market_sigma: float = 0.01,
    sigma: float = 0.015,
    factor_sigma: float = 0.0166,
    tail_df: float | None = None,
    planted: Mapping[tuple[str, dt.date], float] | None = None,
    missing_share: float = 0.0,
) -> GroupMarket:
    """Groups G00, G01, ... of tickers G00T000, ...; `planted` maps (group, date) to an abnormal return added to
    each of its tickers that day; `missing_share` of the ticker-days (never a planted one) have no return."""
    rng = np.random.default_rng(seed)
    dates = business_days(start, n_days)
    n = n_groups * tickers_per_group
    groups = [f"G{g:02d}" for g in range(n_groups)]
    member = np.repeat(np.arange(n_groups), tickers_per_group)
    tickers = [f"{groups[g]}T{i:03d}" for g in range(n_groups) for i in range(tickers_per_group)]
    alpha = rng.normal(0.0002, 0.0003, n)
    beta = rng.uniform(0.5, 1.5, n)
    rm = 0.0003 + market_sigma * _shocks(rng, (n_days,), tail_df)
    factor = factor_sigma * _shocks(rng, (n_days, n_groups), tail_df)
    rets = alpha + np.outer(rm, beta) + factor[:, member] + sigma * _shocks(rng, (n_days, n), tail_df)
    plant = np.zeros((n_days, n_groups))
    for (group, when), effect in (planted or {}).items():
        plant[dates.index(when), groups.index(group)] += effect
    rets += plant[:, member]
    if missing_share:
        drop = (rng.random((n_days, n)) < missing_share) & (plant[:, member] == 0)
        rets[drop] = np.nan
    frame = pl.DataFrame(
        {
            "ticker": np.repeat(np.array([benchmark, *tickers]), n_days),
            "date": dates * (n + 1),
            "ret": np.column_stack([rm, rets]).T.reshape(-1),
        },
        schema={"ticker": pl.String, "date": pl.Date, "ret": pl.Float64},
    ).filter(pl.col("ret").is_not_nan())
    universe = pl.DataFrame(
        {
            "ticker": [*tickers, benchmark],
            "name": [*tickers, benchmark],
            "group": [groups[g] for g in member] + ["benchmarks"],
            "benchmark": [benchmark] * (n + 1),
        }
    )
    return GroupMarket(returns=frame, universe=universe, dates=dates, benchmark=benchmark)
