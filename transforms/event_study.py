"""Market-model event study, vectorised across every (event, ticker) pair at once.

Definitions (MacKinlay 1997, "Event Studies in Economics and Finance"):

- Trading calendar: the dates on which the ticker's benchmark has a return. Day 0 of an event is the first
  calendar date on or after `event_date`; `rel_day` is the calendar index minus day 0's index, so a day the
  ticker did not trade is a missing rel_day, never a shifted one.
- Market model over the estimation window (default rel_days [-250, -11], both returns present, n >= 120):
  `R_it = alpha_i + beta_i R_mt + e_it`, OLS in closed form from centred group sums:
  `beta = S_xy / S_xx`, `alpha = ybar - beta xbar`, `sigma^2 = (S_yy - beta S_xy) / (n - 2)`.
- Abnormal return `AR_it = R_it - (alpha_i + beta_i R_mt)`; `car` in abnormal_returns cumulates from the first
  day of the AR window (-10).
- For a window [a, b] with L = b - a + 1 days: `CAR = sum AR`, `car_t = CAR / (sigma sqrt(L))`, two-sided
  `p = 2 (1 - F_t(|car_t|; n - 2))`, `raw_return = prod(1 + R) - 1`. A window missing any day is not shortened:
  its statistics are null and a `window_incomplete` warning is emitted.

Everything is joins and group_by aggregates over long frames: no Python loop over tickers or events.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl
from scipy import stats

MODEL_MARKET = "market"

ABNORMAL_RETURNS_SCHEMA: dict[str, pl.DataType] = {
    "event_id": pl.String(),
    "ticker": pl.String(),
    "model": pl.String(),
    "rel_day": pl.Int32(),
    "date": pl.Date(),
    "ret": pl.Float64(),
    "benchmark_ret": pl.Float64(),
    "expected_ret": pl.Float64(),
    "abnormal_ret": pl.Float64(),
    "car": pl.Float64(),
}
EVENT_IMPACT_SCHEMA: dict[str, pl.DataType] = {
    "event_id": pl.String(),
    "event_date": pl.Date(),
    "day0": pl.Date(),
    "ticker": pl.String(),
    "group": pl.String(),
    "model": pl.String(),
    "window_start": pl.Int32(),
    "window_end": pl.Int32(),
    "car": pl.Float64(),
    "car_t": pl.Float64(),
    "p_value": pl.Float64(),
    "raw_return": pl.Float64(),
    "alpha": pl.Float64(),
    "beta": pl.Float64(),
    "sigma": pl.Float64(),
    "n_estimation": pl.Int32(),
    "benchmark": pl.String(),
}
SKIPS_SCHEMA: dict[str, pl.DataType] = {
    "event_id": pl.String(),
    "ticker": pl.String(),
    "reason_code": pl.String(),
    "reason": pl.String(),
}
WARNINGS_SCHEMA: dict[str, pl.DataType] = {"subject": pl.String(), "code": pl.String(), "message": pl.String()}


@dataclass(frozen=True)
class EventStudyConfig:
    """Windows in relative trading days (inclusive)."""

    estimation_window: tuple[int, int] = (-250, -11)
    min_estimation_days: int = 120
    ar_window: tuple[int, int] = (-10, 10)
    car_windows: tuple[tuple[int, int], ...] = ((0, 0), (-1, 1), (0, 1), (0, 5))

    def __post_init__(self) -> None:
        est_a, est_b = self.estimation_window
        if est_a > est_b or self.ar_window[0] > self.ar_window[1]:
            raise ValueError("windows must be [start, end] with start <= end")
        for a, b in self.car_windows:
            if a > b or a < self.ar_window[0] or b > self.ar_window[1]:
                raise ValueError(f"CAR window [{a},{b}] must lie inside the AR window {list(self.ar_window)}")
        if self.min_estimation_days < 3:
            raise ValueError("min_estimation_days must be at least 3 (OLS needs n - 2 > 0 degrees of freedom)")


@dataclass
class EventStudyResult:
    """Frames shaped as marts.abnormal_returns, marts.event_impact, marts.event_skips, plus warnings."""

    abnormal_returns: pl.DataFrame
    event_impact: pl.DataFrame
    skips: pl.DataFrame
    warnings: pl.DataFrame
    fits: pl.DataFrame = field(default_factory=pl.DataFrame)


def benchmark_calendars(returns: pl.DataFrame, benchmarks: list[str]) -> pl.DataFrame:
    """`benchmark, date, benchmark_ret, idx`: each benchmark's trading days numbered 0, 1, 2, ..."""
    return (
        returns.filter(pl.col("ticker").is_in(benchmarks))
        .select(pl.col("ticker").alias("benchmark"), "date", pl.col("ret").alias("benchmark_ret"))
        .sort("benchmark", "date")
        .with_columns(pl.int_range(pl.len()).over("benchmark").cast(pl.Int64).alias("idx"))
    )


def event_days(events: pl.DataFrame, calendars: pl.DataFrame, benchmarks: list[str]) -> pl.DataFrame:
    """`event_id, event_date, benchmark, day0, day0_idx` (null day0 when no trading day follows the event)."""
    pairs = events.select("event_id", "event_date").join(
        pl.DataFrame({"benchmark": benchmarks}, schema={"benchmark": pl.String}), how="cross"
    )
    cal = calendars.select("benchmark", pl.col("date").alias("day0"), pl.col("idx").alias("day0_idx")).sort("day0")
    return pairs.sort("event_date").join_asof(
        cal, left_on="event_date", right_on="day0", by="benchmark", strategy="forward", check_sortedness=False
    )


def _panel(
    days: pl.DataFrame, calendars: pl.DataFrame, pairs: pl.DataFrame, returns: pl.DataFrame, lo: int, hi: int
) -> pl.DataFrame:
    """Long frame `event_id, ticker, benchmark, rel_day, date, benchmark_ret, ret` for rel_day in [lo, hi]."""
    grid = (
        days.filter(pl.col("day0_idx").is_not_null())
        .select("event_id", "benchmark", "day0_idx", pl.int_ranges(lo, hi + 1).alias("rel_day"))
        .explode("rel_day")
        .with_columns((pl.col("day0_idx") + pl.col("rel_day")).alias("idx"))
        .join(calendars, on=["benchmark", "idx"], how="inner")
        .select("event_id", "benchmark", pl.col("rel_day").cast(pl.Int32), "date", "benchmark_ret")
    )
    return grid.join(pairs.select("event_id", "ticker", "benchmark"), on=["event_id", "benchmark"]).join(
        returns.select("ticker", "date", "ret"), on=["ticker", "date"], how="left"
    )


def market_model_fits(estimation: pl.DataFrame) -> pl.DataFrame:
    """OLS per (event_id, ticker) from an estimation panel with `ret` and `benchmark_ret` present.

    Returns `event_id, ticker, n, alpha, beta, sigma, x_mean, s_xx` (s_xx = centred sum of squares of the
    benchmark return, kept for prediction-error variance corrections).
    """
    x, y = pl.col("benchmark_ret"), pl.col("ret")
    sums = estimation.group_by("event_id", "ticker").agg(
        pl.len().alias("n"),
        x.mean().alias("x_mean"),
        y.mean().alias("y_mean"),
        ((x - x.mean()) ** 2).sum().alias("s_xx"),
        ((x - x.mean()) * (y - y.mean())).sum().alias("s_xy"),
        ((y - y.mean()) ** 2).sum().alias("s_yy"),
    )
    beta = pl.col("s_xy") / pl.col("s_xx")
    return (
        sums.with_columns(beta.alias("beta"))
        .with_columns(
            (pl.col("y_mean") - pl.col("beta") * pl.col("x_mean")).alias("alpha"),
            ((pl.col("s_yy") - pl.col("beta") * pl.col("s_xy")).clip(lower_bound=0.0) / (pl.col("n") - 2))
            .sqrt()
            .alias("sigma"),
        )
        .select("event_id", "ticker", "n", "alpha", "beta", "sigma", "x_mean", "s_xx")
    )


def two_sided_t_p(t: pl.Series, df: pl.Series) -> pl.Series:
    """Two-sided Student-t p-values, vectorised; null where t or df is null."""
    t_np = t.cast(pl.Float64).to_numpy()
    df_np = df.cast(pl.Float64).to_numpy()
    with np.errstate(invalid="ignore"):
        p = 2.0 * stats.t.sf(np.abs(t_np), df_np)
    return pl.Series(t.name, p, dtype=pl.Float64).fill_nan(None)


def run_event_study(
    returns: pl.DataFrame,
    events: pl.DataFrame,
    universe: pl.DataFrame,
    config: EventStudyConfig | None = None,
) -> EventStudyResult:
    """Market-model abnormal returns, CARs and their t-tests for every event x universe ticker."""
    cfg = config or EventStudyConfig()
    est_lo, est_hi = cfg.estimation_window
    ar_lo, ar_hi = cfg.ar_window
    benchmarks = sorted(set(universe["benchmark"].to_list()))
    calendars = benchmark_calendars(returns, benchmarks)
    days = event_days(events, calendars, benchmarks)

    studied = universe.filter(pl.col("ticker") != pl.col("benchmark")).select("ticker", "group", "benchmark")
    pairs = events.select("event_id", "event_date").join(studied, how="cross")
    skips: list[pl.DataFrame] = []

    present_benchmarks = set(calendars["benchmark"].unique().to_list())
    missing_bench = pairs.filter(~pl.col("benchmark").is_in(sorted(present_benchmarks)))
    skips.append(
        missing_bench.select(
            "event_id",
            "ticker",
            pl.lit("no_benchmark").alias("reason_code"),
            pl.format("no returns for benchmark {}", pl.col("benchmark")).alias("reason"),
        )
    )
    no_day0 = days.filter(pl.col("day0_idx").is_null() & pl.col("benchmark").is_in(sorted(present_benchmarks)))
    last_dates = calendars.group_by("benchmark").agg(pl.col("date").max().alias("last_date"))
    skips.append(
        no_day0.join(last_dates, on="benchmark")
        .select(
            "event_id",
            pl.lit("*").alias("ticker"),
            pl.lit("no_trading_day_after_event").alias("reason_code"),
            pl.format(
                "event date {} is after the last {} trading day with prices ({})",
                pl.col("event_date"),
                pl.col("benchmark"),
                pl.col("last_date"),
            ).alias("reason"),
        )
        .unique(subset=["event_id"], keep="first", maintain_order=True)
    )
    pairs = pairs.join(days.filter(pl.col("day0_idx").is_not_null()), on=["event_id", "event_date", "benchmark"])

    panel = _panel(days, calendars, pairs, returns, min(est_lo, ar_lo), max(est_hi, ar_hi))
    estimation = panel.filter(
        pl.col("rel_day").is_between(est_lo, est_hi)
        & pl.col("ret").is_not_null()
        & pl.col("benchmark_ret").is_not_null()
    )
    fits = market_model_fits(estimation)
    pairs = pairs.join(fits, on=["event_id", "ticker"], how="left").with_columns(pl.col("n").fill_null(0))

    priced = returns.select("ticker").unique()
    no_prices = pairs.join(priced, on="ticker", how="anti")
    skips.append(
        no_prices.select(
            "event_id",
            "ticker",
            pl.lit("no_prices").alias("reason_code"),
            pl.format("no prices loaded for {}", pl.col("ticker")).alias("reason"),
        )
    )
    pairs = pairs.join(priced, on="ticker", how="semi")
    too_few = pairs.filter(pl.col("n") < cfg.min_estimation_days)
    skips.append(
        too_few.select(
            "event_id",
            "ticker",
            pl.lit("too_few_estimation_days").alias("reason_code"),
            pl.format(
                "{} valid return days in the estimation window [{}, {}], at least {} needed",
                pl.col("n"),
                pl.lit(est_lo),
                pl.lit(est_hi),
                pl.lit(cfg.min_estimation_days),
            ).alias("reason"),
        )
    )
    fitted = pairs.filter(pl.col("n") >= cfg.min_estimation_days)

    window = (
        panel.filter(pl.col("rel_day").is_between(ar_lo, ar_hi))
        .join(fitted.select("event_id", "ticker", "alpha", "beta"), on=["event_id", "ticker"])
        .filter(pl.col("ret").is_not_null())
    )
    with_data = window.select("event_id", "ticker").unique()
    no_window = fitted.join(with_data, on=["event_id", "ticker"], how="anti")
    skips.append(
        no_window.select(
            "event_id",
            "ticker",
            pl.lit("no_event_window_data").alias("reason_code"),
            pl.format(
                "no {} returns in the event window [{}, {}]", pl.col("ticker"), pl.lit(ar_lo), pl.lit(ar_hi)
            ).alias("reason"),
        )
    )
    fitted = fitted.join(with_data, on=["event_id", "ticker"], how="semi")

    expected = pl.col("alpha") + pl.col("beta") * pl.col("benchmark_ret")
    abnormal = (
        window.with_columns(expected.alias("expected_ret"))
        .with_columns((pl.col("ret") - pl.col("expected_ret")).alias("abnormal_ret"))
        .sort("event_id", "ticker", "rel_day")
        .with_columns(pl.col("abnormal_ret").cum_sum().over("event_id", "ticker").alias("car"))
        .with_columns(pl.lit(MODEL_MARKET).alias("model"))
    )
    abnormal_returns = abnormal.select([pl.col(c).cast(t) for c, t in ABNORMAL_RETURNS_SCHEMA.items()])

    windows = pl.DataFrame(
        {"window_start": [a for a, _ in cfg.car_windows], "window_end": [b for _, b in cfg.car_windows]},
        schema={"window_start": pl.Int32, "window_end": pl.Int32},
    )
    per_window = (
        abnormal.select("event_id", "ticker", "rel_day", "ret", "abnormal_ret")
        .join(windows, how="cross")
        .filter(pl.col("rel_day").is_between(pl.col("window_start"), pl.col("window_end")))
        .group_by("event_id", "ticker", "window_start", "window_end")
        .agg(
            pl.len().alias("days"),
            pl.col("abnormal_ret").sum().alias("car_sum"),
            ((pl.col("ret") + 1).product() - 1).alias("raw_sum"),
        )
    )
    impact = (
        fitted.join(windows, how="cross")
        .join(per_window, on=["event_id", "ticker", "window_start", "window_end"], how="left")
        .with_columns(
            (pl.col("window_end") - pl.col("window_start") + 1).alias("length"),
            pl.col("days").fill_null(0),
        )
        .with_columns((pl.col("days") == pl.col("length")).alias("complete"))
        .with_columns(
            pl.when(pl.col("complete")).then(pl.col("car_sum")).alias("car"),
            pl.when(pl.col("complete")).then(pl.col("raw_sum")).alias("raw_return"),
        )
        .with_columns((pl.col("car") / (pl.col("sigma") * pl.col("length").cast(pl.Float64).sqrt())).alias("car_t"))
    )
    impact = impact.with_columns(two_sided_t_p(impact["car_t"], impact["n"] - 2).alias("p_value"))
    incomplete = impact.filter(~pl.col("complete"))
    warnings = incomplete.select(
        pl.format("{}/{}", pl.col("event_id"), pl.col("ticker")).alias("subject"),
        pl.lit("window_incomplete").alias("code"),
        pl.format(
            "window [{}, {}] has {} of {} trading days with returns; its CAR is left null",
            pl.col("window_start"),
            pl.col("window_end"),
            pl.col("days"),
            pl.col("length"),
        ).alias("message"),
    )
    # One warning per (event, ticker): the widest incomplete window says it all.
    warnings = warnings.unique(subset=["subject"], keep="last", maintain_order=True)
    event_impact = impact.with_columns(pl.lit(MODEL_MARKET).alias("model"), pl.col("n").alias("n_estimation")).select(
        [pl.col(c).cast(t) for c, t in EVENT_IMPACT_SCHEMA.items()]
    )

    skip_frame = pl.concat([s.select([pl.col(c).cast(t) for c, t in SKIPS_SCHEMA.items()]) for s in skips])
    return EventStudyResult(
        abnormal_returns=abnormal_returns.sort("event_id", "ticker", "rel_day"),
        event_impact=event_impact.sort("event_id", "ticker", "window_start", "window_end"),
        skips=skip_frame.unique(subset=["event_id", "ticker"], keep="first", maintain_order=True).sort(
            "event_id", "ticker"
        ),
        warnings=warnings.select([pl.col(c).cast(t) for c, t in WARNINGS_SCHEMA.items()]).sort("subject"),
        fits=fits,
    )
