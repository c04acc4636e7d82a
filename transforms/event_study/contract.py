"""The event study's contract: what every engine takes and returns, from one place.

The expected-return models, the configuration (windows in relative trading days), the result frames and their
schemas, and the rules that decide which (event, ticker) pairs are skipped and which warnings are recorded. The
production engine (`transforms.event_study.study.run_dense_study`) and the independent reference pipeline the
tests compare it against (`tests/reference/`) both build on this module, so they cannot drift apart on what a
skip, a warning or a column means; the formulas are in docs/methods.md and in the reference's docstrings.

The schemas of the marts frames are derived from the table registry (`warehouse/tables/marts.py`), so a column
is defined once. The frames that are not tables (fits, estimation_ar) are spelled out here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import polars as pl

from warehouse.registry import table

MODEL_MARKET = "market"
MODEL_MARKET_ADJUSTED = "market_adjusted"
MODEL_CONSTANT_MEAN = "constant_mean"
MODELS: tuple[str, ...] = (MODEL_MARKET, MODEL_MARKET_ADJUSTED, MODEL_CONSTANT_MEAN)
EVENT_WIDE = "*"  # marts.event_skips.ticker when the whole event is skipped
ALL_GROUP = "all"  # marts.group_impact.group of the tests over every studied ticker
MIN_GROUP_TICKERS = 3
"""marts.group_impact.n_below_min is true below this many tickers: with N = 2 the t tests have 1 degree of freedom
and the cross-section's variance is estimated from two values, so |t| of 100 says nothing (docs/methods.md)."""

ABNORMAL_RETURNS_SCHEMA = table("marts.abnormal_returns").polars_schema()
EVENT_IMPACT_SCHEMA = table("marts.event_impact").polars_schema()
SKIPS_SCHEMA = table("marts.event_skips").polars_schema()
GROUP_IMPACT_SCHEMA = table("marts.group_impact").polars_schema()
WARNINGS_SCHEMA = table("ops.warnings").polars_schema(columns=("subject", "code", "message"))
ESTIMATION_AR_SCHEMA = table("marts.abnormal_returns").polars_schema(exclude=("car",))
"""Estimation-window abnormal returns (abnormal_returns without the cumulative car): the residual series of the
group tests."""
FITS_SCHEMA: dict[str, pl.DataType] = {  # no table: EventStudyResult.fits, the estimation sums of each pair
    "event_id": pl.String(),
    "ticker": pl.String(),
    "n": pl.Int32(),
    "n_missing": pl.Int32(),
    "sum_x": pl.Float64(),
    "sum_y": pl.Float64(),
    "sum_xx": pl.Float64(),
    "sum_xy": pl.Float64(),
    "sum_yy": pl.Float64(),
    "x_mean": pl.Float64(),
    "y_mean": pl.Float64(),
    "s_xx": pl.Float64(),
    "s_xy": pl.Float64(),
    "s_yy": pl.Float64(),
    "alpha": pl.Float64(),
    "beta": pl.Float64(),
    "sigma": pl.Float64(),
    "dof": pl.Int32(),
}

_PAIR = ("event_id", "ticker")


@dataclass(frozen=True)
class EventStudyConfig:
    """Windows in relative trading days, both ends inclusive.

    The defaults follow common practice: a ~1-year estimation window that ends 10 days before the event so the
    event's run-up cannot contaminate alpha and beta, at least half a year of usable days, and CARs over the
    event day, a 3-day window around it, the next-day reaction and the first trading week. `models` picks the
    expected-return models (MODELS); the market model alone by default.
    """

    estimation_window: tuple[int, int] = (-250, -11)
    min_estimation_days: int = 120
    ar_window: tuple[int, int] = (-10, 10)
    car_windows: tuple[tuple[int, int], ...] = ((0, 0), (-1, 1), (0, 1), (0, 5))
    models: tuple[str, ...] = (MODEL_MARKET,)

    def __post_init__(self) -> None:
        unknown = [m for m in self.models if m not in MODELS]
        if unknown or not self.models or len(set(self.models)) != len(self.models):
            raise ValueError(f"models must be distinct names from {MODELS}, got {self.models}")
        est_a, est_b = self.estimation_window
        if est_a > est_b or self.ar_window[0] > self.ar_window[1]:
            raise ValueError("windows must be [start, end] with start <= end")
        for a, b in self.car_windows:
            if a > b or a < self.ar_window[0] or b > self.ar_window[1]:
                raise ValueError(f"CAR window [{a},{b}] must lie inside the AR window {list(self.ar_window)}")
        if len(set(self.car_windows)) != len(self.car_windows):
            raise ValueError("car_windows must not repeat a window (it is part of marts.event_impact's key)")
        if self.min_estimation_days < 3:
            raise ValueError("min_estimation_days must be at least 3 (OLS needs n - 2 > 0 degrees of freedom)")
        if self.min_estimation_days > est_b - est_a + 1:
            raise ValueError("min_estimation_days exceeds the estimation window's length: no pair could qualify")


DEFAULT_CONFIG = EventStudyConfig()


def _empty(schema: Mapping[str, pl.DataType]) -> pl.DataFrame:
    return pl.DataFrame(schema=schema)


@dataclass
class EventStudyResult:
    """Frames shaped as marts.abnormal_returns, marts.event_impact and marts.event_skips, plus `warnings`
    (`subject, code, message`: non-fatal notes), `estimation_ar` (estimation-window abnormal returns per model,
    ESTIMATION_AR_SCHEMA, ordered by event_id, ticker, rel_day, model: the residual series the group tests need)
    and `fits` (FITS_SCHEMA: the market model's estimation sums and fit for each pair in event_impact)."""

    abnormal_returns: pl.DataFrame
    event_impact: pl.DataFrame
    skips: pl.DataFrame
    warnings: pl.DataFrame
    estimation_ar: pl.DataFrame = field(default_factory=lambda: _empty(ESTIMATION_AR_SCHEMA))
    fits: pl.DataFrame = field(default_factory=lambda: _empty(FITS_SCHEMA))


def _skip(frame: pl.DataFrame, code: str, reason: pl.Expr) -> pl.DataFrame:
    """marts.event_skips rows for every (event_id, ticker) of `frame`."""
    return frame.select(
        pl.col("event_id").cast(pl.String),
        pl.col("ticker").cast(pl.String),
        pl.lit(code, dtype=pl.String).alias("reason_code"),
        reason.cast(pl.String).alias("reason"),
    )


def pair_skips(
    events: pl.DataFrame, studied: pl.DataFrame, days: pl.DataFrame, priced: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The skip rules every engine applies before estimating (first match wins), from one place.

    `events`: event_id, event_date; `studied`: ticker, group, benchmark; `days`: one row per event and benchmark
    with returns (event_id, event_date, benchmark, day0 (null when the benchmark has no trading day on or after the
    event), last_date, any further columns); `priced`: a `ticker` column of the tickers with returns.
    Rules: `no_trading_day_after_event` with ticker '*' when no benchmark has a day 0 for the event;
    `no_benchmark` (the benchmark has no returns); `no_trading_day_after_event` for the pair's own benchmark;
    `no_prices` (the ticker has no returns). Returns (those skips, the remaining event x ticker pairs joined with
    their benchmark's `days` row)."""
    pairs = events.join(studied, how="cross")
    skips = [pl.DataFrame(schema=SKIPS_SCHEMA)]
    # The whole event: no benchmark in use trades on or after it (typically an event after the last price).
    dead = (
        days.group_by("event_id")
        .agg(
            pl.col("day0").is_null().all().alias("dead"),
            pl.format("{} {}", pl.col("benchmark"), pl.col("last_date")).sort().str.join(", ").alias("last"),
            pl.col("event_date").first(),
        )
        .filter(pl.col("dead"))
    )
    skips.append(
        _skip(
            dead.with_columns(pl.lit(EVENT_WIDE).alias("ticker")),
            "no_trading_day_after_event",
            pl.format("event date {} is after the last benchmark trading day ({})", "event_date", "last"),
        )
    )
    pairs = pairs.join(dead, on="event_id", how="anti")
    no_bench = pairs.join(days.select("benchmark").unique(), on="benchmark", how="anti")
    skips.append(_skip(no_bench, "no_benchmark", pl.format("no returns for benchmark {}", "benchmark")))
    pairs = pairs.join(no_bench, on=_PAIR, how="anti").join(days.drop("event_date"), on=["event_id", "benchmark"])
    skips.append(
        _skip(
            pairs.filter(pl.col("day0").is_null()),
            "no_trading_day_after_event",
            pl.format("event date {} is after the last {} trading day ({})", "event_date", "benchmark", "last_date"),
        )
    )
    pairs = pairs.filter(pl.col("day0").is_not_null())
    no_prices = pairs.join(priced.select(pl.col("ticker").cast(pl.String)), on="ticker", how="anti")
    skips.append(_skip(no_prices, "no_prices", pl.format("no prices loaded for {}", "ticker")))
    return pl.concat(skips), pairs.join(no_prices, on=_PAIR, how="anti")


def estimation_skips(too_few: pl.DataFrame, no_window: pl.DataFrame, config: EventStudyConfig) -> pl.DataFrame:
    """The skip rules after the estimation sums, from one place: `too_few_estimation_days` (pairs of `too_few`:
    event_id, ticker, n below config.min_estimation_days) and `no_event_window_data` (pairs of `no_window`)."""
    (est_lo, est_hi), (ar_lo, ar_hi) = config.estimation_window, config.ar_window
    few = _skip(
        too_few,
        "too_few_estimation_days",
        pl.format(
            "{} days with both returns in the estimation window [{}, {}]; at least {} needed",
            "n",
            pl.lit(est_lo),
            pl.lit(est_hi),
            pl.lit(config.min_estimation_days),
        ),
    )
    window = _skip(
        no_window,
        "no_event_window_data",
        pl.format("no {} returns in the event window [{}, {}]", "ticker", pl.lit(ar_lo), pl.lit(ar_hi)),
    )
    return pl.concat([few, window])


def window_warnings(gaps: pl.DataFrame, incomplete: pl.DataFrame, config: EventStudyConfig) -> pl.DataFrame:
    """The event-window warnings every engine records, from one place: one per (event/ticker, code), as
    ops.warnings keys them, model-free (every model shares them). `gaps`: event_id, ticker, rel_day, date of the
    days in the AR window without a ticker return although the benchmark traded (event_window_gap);
    `incomplete`: event_id, ticker, window_start, window_end, days, length of the CAR windows missing a day
    (window_incomplete)."""
    subject = pl.format("{}/{}", "event_id", "ticker").alias("subject")
    gap_rows = (
        gaps.group_by(_PAIR)
        .agg(pl.format("{} ({})", "rel_day", "date").sort_by("rel_day").str.join(", ").alias("days"))
        .select(
            subject,
            pl.lit("event_window_gap").alias("code"),
            pl.format(
                "no return on rel_day {} inside the event window [{}, {}] although the benchmark traded; "
                "car is null from the first such day and CAR windows containing them are null",
                "days",
                pl.lit(config.ar_window[0]),
                pl.lit(config.ar_window[1]),
            ).alias("message"),
        )
    )
    incomplete_rows = (
        incomplete.group_by(_PAIR)
        .agg(
            pl.format("[{}, {}] has {} of {} days", "window_start", "window_end", "days", "length")
            .sort_by("window_start", "window_end")
            .str.join("; ")
            .alias("windows")
        )
        .select(
            subject,
            pl.lit("window_incomplete").alias("code"),
            pl.format("CAR window {}: its CAR statistics and raw_return are left null", "windows").alias("message"),
        )
    )
    return pl.concat([gap_rows, incomplete_rows]).select([pl.col(c).cast(t) for c, t in WARNINGS_SCHEMA.items()])
