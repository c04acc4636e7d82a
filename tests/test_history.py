"""history_from (issue 15, section 4): the seed column, cutting a ticker's history, OKLO's beta on post-merger days,
and the data-quality check that suggests it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from transforms.event_study import DEFAULT_CONFIG
from transforms.history import prices_from_history, returns_from_history
from transforms.quality import POLICIES, company_change, company_change_flags
from transforms.returns import daily_returns
from warehouse import seeds
from warehouse.errors import SeedError

HEADER = "ticker,name,group,benchmark,history_from,history_source"


def _closes(prices_dir: Path, *tickers: str) -> pl.DataFrame:
    return pl.concat(
        pl.read_csv(prices_dir / f"{t}.csv", try_parse_dates=True).select(
            pl.lit(t).alias("ticker"), pl.col("Date").cast(pl.Date).alias("date"), pl.col("Close").alias("adj_close")
        )
        for t in tickers
    )


def test_shipped_history_from() -> None:
    universe = seeds.read_universe()
    starts = dict(universe.filter(pl.col("history_from").is_not_null()).select("ticker", "history_from").rows())
    assert starts == {
        "OKLO": dt.date(2024, 5, 10),  # first close as Oklo after the AltC merger closed on 2024-05-09
        "SMR": dt.date(2022, 5, 3),  # first close as NuScale after the Spring Valley merger closed on 2022-05-02
        "GEV": dt.date(2024, 4, 2),  # first regular-way close; 2024-03-27..04-01 were when-issued
        "CEG": dt.date(2022, 2, 2),  # first regular-way close; from 2022-01-19 when-issued
        "VRT": dt.date(2020, 2, 7),  # first close as Vertiv after the GS Acquisition Holdings merger
    }
    sources = universe.filter(pl.col("history_from").is_not_null())["history_source"].to_list()
    assert all("https://" in s for s in sources)


def test_history_from_validation(tmp_path: Path) -> None:
    path = tmp_path / "universe.csv"
    path.write_text(
        f"{HEADER}\nSPY,SPDR,benchmarks,SPY,,\nOKLO,Oklo,nuclear_uranium,SPY,2024-05-10,\n", encoding="utf-8"
    )
    with pytest.raises(SeedError, match=r"line 3.*history_source.*history_from is set"):
        seeds.read_universe(path)
    path.write_text(
        f"{HEADER}\nSPY,SPDR,benchmarks,SPY,,\nOKLO,Oklo,nuclear_uranium,SPY,10/05/2024,why\n", encoding="utf-8"
    )
    with pytest.raises(SeedError, match=r"line 3.*history_from.*not an ISO date"):
        seeds.read_universe(path)
    path.write_text("ticker,name,group,benchmark\nSPY,SPDR,benchmarks,SPY\n", encoding="utf-8")  # columns optional
    assert seeds.read_universe(path)["history_from"].to_list() == [None]


def test_returns_begin_the_trading_day_after_history_from(real_prices_dir: Path) -> None:
    prices = _closes(real_prices_dir, "OKLO", "SPY")
    universe = seeds.read_universe()
    cut = daily_returns(prices_from_history(prices, universe))
    assert cut.filter(pl.col("ticker") == "OKLO")["date"].min() == dt.date(2024, 5, 13)
    assert (
        cut.filter(pl.col("ticker") == "SPY").height == daily_returns(prices).filter(pl.col("ticker") == "SPY").height
    )
    assert (
        returns_from_history(daily_returns(prices), universe).sort("ticker", "date").equals(cut.sort("ticker", "date"))
    )
    assert cut.filter(pl.col("ret").abs() > 0.5).is_empty()  # the de-SPAC "return" of -53.6% is gone
    enum = daily_returns(prices.with_columns(pl.col("ticker").cast(pl.Categorical)))
    assert returns_from_history(enum, universe).schema == enum.schema  # an Enum ticker stays one


def _estimation_beta(returns: pl.DataFrame, ticker: str, event_date: dt.date) -> tuple[float, int]:
    """OLS beta on the engine's estimation window: rel_days [-250, -11] of SPY's calendar around day 0."""
    spy = returns.filter(pl.col("ticker") == "SPY").sort("date")
    day0 = int(np.searchsorted(spy["date"].to_numpy(), np.datetime64(event_date)))
    lo, hi = DEFAULT_CONFIG.estimation_window
    window = spy.slice(day0 + lo, hi - lo + 1).select("date", pl.col("ret").alias("x"))
    both = window.join(returns.filter(pl.col("ticker") == ticker).select("date", pl.col("ret").alias("y")), on="date")
    x, y = both["x"].to_numpy(), both["y"].to_numpy()
    return float(np.cov(x, y)[0, 1] / np.var(x, ddof=1)), both.height


def test_oklo_deepseek_monday_beta_on_post_merger_days(real_prices_dir: Path) -> None:
    returns = daily_returns(_closes(real_prices_dir, "OKLO", "SPY"))
    mixed, n_mixed = _estimation_beta(returns, "OKLO", dt.date(2025, 1, 27))
    post, n_post = _estimation_beta(returns_from_history(returns, seeds.read_universe()), "OKLO", dt.date(2025, 1, 27))
    assert mixed == pytest.approx(2.51, abs=0.005) and n_mixed == 240
    assert post == pytest.approx(3.01, abs=0.005) and n_post == 166
    assert n_post >= DEFAULT_CONFIG.min_estimation_days  # the event study can still fit OKLO


def test_company_change_flags_oklo_only_and_not_once_cut(real_prices_dir: Path) -> None:
    prices = _closes(real_prices_dir, *(p.stem for p in sorted(real_prices_dir.glob("*.csv"))))
    flags = company_change_flags(prices)
    assert flags.select("ticker", "date", "kind").rows() == [("OKLO", dt.date(2024, 5, 10), "regime_jump")]
    assert flags["sigma_after"].item() > 10 * flags["sigma_before"].item()
    result = company_change(prices)
    assert result.status == "warn" and POLICIES["company_change"] == "warn"
    assert "OKLO 2024-05-10 -53.6%" in result.detail and "history_from=2024-05-10" in result.detail
    assert company_change(prices, seeds.read_universe()).status == "pass"


def test_company_change_listing_jump_and_ordinary_jumps() -> None:
    days = pl.date_range(dt.date(2020, 1, 1), dt.date(2021, 6, 30), eager=True)
    rng = np.random.default_rng(2)
    steady = np.cumprod(1 + rng.normal(0, 0.02, days.len()))
    listing = steady.copy()
    listing[2:] *= 1.8  # +80% on the third day of the series
    event = steady.copy()
    event[300:] *= 0.5  # a -50% day in a stock whose volatility does not change: news, not a new company
    prices = pl.DataFrame(
        {
            "ticker": ["NEW"] * days.len() + ["OLD"] * days.len(),
            "date": pl.concat([days, days]),
            "adj_close": np.r_[listing, event],
        }
    )
    flags = company_change_flags(prices)
    assert flags.select("ticker", "date", "kind").rows() == [("NEW", days[2], "listing_jump")]


def test_the_de_spac_day_is_no_longer_a_shock_candidate(real_prices_dir: Path) -> None:
    from transforms.shocks import shock_candidates

    returns = daily_returns(_closes(real_prices_dir, "OKLO", "SMR", "CCJ", "SPY"))
    universe, events = seeds.read_universe(), seeds.read_events()

    def nuclear_days(rets: pl.DataFrame) -> list[dt.date]:
        found = shock_candidates(rets, universe, events)
        return found.filter(pl.col("group") == "nuclear_uranium")["date"].to_list()

    assert dt.date(2024, 5, 10) in nuclear_days(returns)  # OKLO's -53.6% "return" drags the group's portfolio
    assert dt.date(2024, 5, 10) not in nuclear_days(returns_from_history(returns, universe))
