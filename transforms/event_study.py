"""Market-model event study, vectorised across every (event, ticker) pair at once.

Definitions (MacKinlay 1997, "Event Studies in Economics and Finance", sections 4-5):

- Trading calendar: the dates on which a benchmark has a return (one calendar per benchmark), numbered
  0, 1, 2, ... Day 0 of an event is the first calendar date on or after `event_date` (a weekend or holiday
  event reacts on the next session). `rel_day = calendar index - day 0 index`, so a day on which the ticker
  has no return is a *missing* rel_day, never a shifted one.
- Market model, per (event, ticker), over the estimation window (default rel_days [-250, -11]) on the days where
  both the ticker return y and the benchmark return x exist, n >= `min_estimation_days` (default 120):
  `y_t = alpha + beta x_t + e_t`, OLS in closed form from group sums with centred second moments
  `S_xx = sum (x - xbar)^2`, `S_xy = sum (x - xbar)(y - ybar)`, `S_yy = sum (y - ybar)^2`:
  `beta = S_xy / S_xx`, `alpha = ybar - beta xbar`, `sigma^2 = SSR / (n - 2) = (S_yy - beta S_xy) / (n - 2)`.
- Abnormal return `AR_t = y_t - (alpha + beta x_t)` for rel_days in the AR window (default [-10, 10]);
  marts.abnormal_returns.car is `sum AR` from the first AR-window day through day t, in rel_day order.
- CAR window [a, b] (inclusive), L = b - a + 1 trading days:
  `CAR = sum_{t=a..b} AR_t`, `car_t = CAR / (sigma sqrt(L))`,
  `p = 2 P(T_{n-2} > |car_t|)` (two-sided Student t with n - 2 degrees of freedom),
  `raw_return = prod_{t=a..b} (1 + y_t) - 1`.
  car_t treats the ARs as independent with the estimation residual variance; it leaves out the
  prediction-error term `sigma^2 (1/n + (x_t - xbar)^2 / S_xx)`, which `market_model_fits` keeps the sums for.

Nothing is shortened silently. A CAR window missing any day (beyond the last data, or a day the ticker has no
return) keeps its row with car, car_t, p_value and raw_return null, plus a `window_incomplete` warning. A day
inside the AR window on which the benchmark traded but the ticker has no return gets an `event_window_gap`
warning and makes `car` in abnormal_returns null from that day on (a cumulative sum that skips a day would be
mislabelled). Pairs that cannot be computed at all go to `skips` with a reason code.

Everything is joins and group_by aggregates over long frames: no Python loop over tickers or events. The steps
are public so that later tests (Patell, BMP, Kolari-Pynnönen, Corrado, sign) can reuse them:
`build_panel` -> `market_model_fits` -> `abnormal_panel`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl
from scipy import stats

MODEL_MARKET = "market"
EVENT_WIDE = "*"  # marts.event_skips.ticker when the whole event is skipped

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
FITS_SCHEMA: dict[str, pl.DataType] = {
    "event_id": pl.String(),
    "ticker": pl.String(),
    "n": pl.Int32(),
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
PANEL_SCHEMA: dict[str, pl.DataType] = {
    "event_id": pl.String(),
    "ticker": pl.String(),
    "benchmark": pl.String(),
    "rel_day": pl.Int32(),
    "date": pl.Date(),
    "benchmark_ret": pl.Float64(),
    "ret": pl.Float64(),
}
PAIRS_SCHEMA: dict[str, pl.DataType] = {
    "event_id": pl.String(),
    "event_date": pl.Date(),
    "day0": pl.Date(),
    "ticker": pl.String(),
    "group": pl.String(),
    "benchmark": pl.String(),
}

_PAIR = ("event_id", "ticker")


@dataclass(frozen=True)
class EventStudyConfig:
    """Windows in relative trading days, both ends inclusive.

    The defaults follow common practice: a ~1-year estimation window that ends 10 days before the event so the
    event's run-up cannot contaminate alpha and beta, at least half a year of usable days, and CARs over the
    event day, a 3-day window around it, the next-day reaction and the first trading week.
    """

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
        if len(set(self.car_windows)) != len(self.car_windows):
            raise ValueError("car_windows must not repeat a window (it is part of marts.event_impact's key)")
        if self.min_estimation_days < 3:
            raise ValueError("min_estimation_days must be at least 3 (OLS needs n - 2 > 0 degrees of freedom)")
        if self.min_estimation_days > est_b - est_a + 1:
            raise ValueError("min_estimation_days exceeds the estimation window's length: no pair could qualify")


DEFAULT_CONFIG = EventStudyConfig()


def _empty(schema: dict[str, pl.DataType]) -> pl.DataFrame:
    return pl.DataFrame(schema=schema)


@dataclass
class EventStudyResult:
    """Frames shaped as marts.abnormal_returns, marts.event_impact and marts.event_skips, plus `warnings`
    (`subject, code, message`: non-fatal notes) and `fits` (`market_model_fits` for the pairs in event_impact)."""

    abnormal_returns: pl.DataFrame
    event_impact: pl.DataFrame
    skips: pl.DataFrame
    warnings: pl.DataFrame
    fits: pl.DataFrame = field(default_factory=lambda: _empty(FITS_SCHEMA))


@dataclass(frozen=True)
class StudyPanel:
    """The long frames every estimator works from.

    `pairs`: (event, ticker) pairs that have a day 0, a benchmark and prices (PAIRS_SCHEMA).
    `panel`: one row per pair and benchmark trading day with rel_day in the union of the estimation and AR
    windows (PANEL_SCHEMA); `ret` is null on a day the ticker has no return. Sorted by event_id, ticker, rel_day
    so aggregates sum in one fixed order whatever the input row order.
    `skips`: pairs dropped so far, shaped as marts.event_skips.
    """

    pairs: pl.DataFrame
    panel: pl.DataFrame
    skips: pl.DataFrame


def _require(frame: pl.DataFrame, what: str, columns: tuple[str, ...], key: tuple[str, ...]) -> None:
    """Fail early, naming the frame, on missing columns or a duplicated key (duplicates would double-count)."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{what} lacks column(s) {missing}; has {frame.columns}")
    dupes = frame.select(key).filter(pl.struct(key).is_duplicated())
    if dupes.height:
        raise ValueError(f"{what} repeats {list(key)}: {dupes.unique().head(3).rows()}")


def _skip(frame: pl.DataFrame, code: str, reason: pl.Expr) -> pl.DataFrame:
    """marts.event_skips rows for every (event_id, ticker) of `frame`."""
    return frame.select(
        pl.col("event_id").cast(pl.String),
        pl.col("ticker").cast(pl.String),
        pl.lit(code, dtype=pl.String).alias("reason_code"),
        reason.cast(pl.String).alias("reason"),
    )


def benchmark_calendars(returns: pl.DataFrame, benchmarks: list[str]) -> pl.DataFrame:
    """`benchmark, date, benchmark_ret, idx`: each benchmark's trading days numbered 0, 1, 2, ... by date."""
    return (
        returns.filter(pl.col("ticker").is_in(benchmarks))
        .select(pl.col("ticker").alias("benchmark"), "date", pl.col("ret").alias("benchmark_ret"))
        .sort("benchmark", "date")
        .with_columns(pl.int_range(pl.len()).over("benchmark").cast(pl.Int64).alias("idx"))
    )


def event_days(events: pl.DataFrame, calendars: pl.DataFrame) -> pl.DataFrame:
    """`event_id, event_date, benchmark, day0, day0_idx, last_date` per event and benchmark with a calendar.

    day0 (and day0_idx) is null when the benchmark has no trading day on or after the event date.
    """
    benchmarks = calendars.group_by("benchmark").agg(pl.col("date").max().alias("last_date"))
    pairs = events.select("event_id", "event_date").join(benchmarks, how="cross")
    cal = calendars.select("benchmark", pl.col("date").alias("day0"), pl.col("idx").alias("day0_idx"))
    return pairs.sort("event_date").join_asof(
        cal.sort("day0"), left_on="event_date", right_on="day0", by="benchmark", strategy="forward"
    )


def _clean_returns(returns: pl.DataFrame) -> pl.DataFrame:
    _require(returns, "returns", ("ticker", "date", "ret"), ("ticker", "date"))
    return returns.select(
        pl.col("ticker").cast(pl.String), pl.col("date").cast(pl.Date), pl.col("ret").cast(pl.Float64)
    ).filter(pl.col("ret").is_not_null() & pl.col("ret").is_not_nan())


def build_panel(
    returns: pl.DataFrame, events: pl.DataFrame, universe: pl.DataFrame, config: EventStudyConfig = DEFAULT_CONFIG
) -> StudyPanel:
    """Map every (event, studied ticker) onto its benchmark's calendar and record the pairs that cannot be.

    Studied tickers are the universe rows whose ticker is not its own benchmark. Skips, first match wins:
    `no_trading_day_after_event` (ticker '*' when no benchmark has a day 0 for the event), `no_benchmark`
    (the benchmark has no returns), `no_prices` (the ticker has no returns at all).
    """
    _require(events, "events", ("event_id", "event_date"), ("event_id",))
    _require(universe, "universe", ("ticker", "group", "benchmark"), ("ticker",))
    returns = _clean_returns(returns)
    events = events.select(pl.col("event_id").cast(pl.String), pl.col("event_date").cast(pl.Date))
    studied = universe.filter(pl.col("ticker") != pl.col("benchmark")).select(
        pl.col("ticker").cast(pl.String), pl.col("group").cast(pl.String), pl.col("benchmark").cast(pl.String)
    )
    calendars = benchmark_calendars(returns, studied["benchmark"].unique().sort().to_list())
    days = event_days(events, calendars)
    pairs = events.join(studied, how="cross")
    skips: list[pl.DataFrame] = []

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

    no_bench = pairs.join(calendars.select("benchmark").unique(), on="benchmark", how="anti")
    skips.append(_skip(no_bench, "no_benchmark", pl.format("no returns for benchmark {}", "benchmark")))
    pairs = pairs.join(no_bench, on=_PAIR, how="anti")

    day0s = days.select("event_id", "benchmark", "day0", "day0_idx", "last_date")
    pairs = pairs.join(day0s, on=["event_id", "benchmark"])
    no_day0 = pairs.filter(pl.col("day0").is_null())
    skips.append(
        _skip(
            no_day0,
            "no_trading_day_after_event",
            pl.format("event date {} is after the last {} trading day ({})", "event_date", "benchmark", "last_date"),
        )
    )
    pairs = pairs.filter(pl.col("day0").is_not_null())

    no_prices = pairs.join(returns.select("ticker").unique(), on="ticker", how="anti")
    skips.append(_skip(no_prices, "no_prices", pl.format("no prices loaded for {}", "ticker")))
    pairs = pairs.join(no_prices, on=_PAIR, how="anti")

    (est_lo, est_hi), (ar_lo, ar_hi) = config.estimation_window, config.ar_window
    lo, hi = min(est_lo, ar_lo), max(est_hi, ar_hi)
    grid = (
        pairs.select("event_id", "benchmark", "day0_idx")
        .unique()
        .with_columns(pl.int_ranges(lo, hi + 1).alias("rel_day"))
        .explode("rel_day")
        .with_columns((pl.col("day0_idx") + pl.col("rel_day")).alias("idx"))
        .join(calendars, on=["benchmark", "idx"])
    )
    panel = (
        pairs.select("event_id", "ticker", "benchmark")
        .join(grid, on=["event_id", "benchmark"])
        .join(returns, on=["ticker", "date"], how="left")
        .select([pl.col(c).cast(t) for c, t in PANEL_SCHEMA.items()])
        .sort("event_id", "ticker", "rel_day")
    )
    return StudyPanel(
        pairs=pairs.select([pl.col(c).cast(t) for c, t in PAIRS_SCHEMA.items()]).sort(_PAIR),
        panel=panel,
        skips=pl.concat(skips),
    )


def market_model_fits(panel: pl.DataFrame, config: EventStudyConfig = DEFAULT_CONFIG) -> pl.DataFrame:
    """OLS of ret on benchmark_ret per (event_id, ticker) over the estimation window (FITS_SCHEMA).

    Keeps the raw sums (n, sum_x, sum_y, sum_xx, sum_xy, sum_yy) and the centred moments (x_mean, s_xx, ...)
    because the standardised tests (Patell, BMP) need `sigma^2 (1 + 1/n + (x_t - x_mean)^2 / s_xx)`. The fit
    itself uses the centred moments (two-pass within each group), which avoid the cancellation of
    `sum_xy - sum_x sum_y / n`. Pairs with fewer than `min_estimation_days` are returned too, with their n.
    """
    est_lo, est_hi = config.estimation_window
    x, y = pl.col("benchmark_ret"), pl.col("ret")
    sums = (
        panel.filter(pl.col("rel_day").is_between(est_lo, est_hi) & x.is_not_null() & y.is_not_null())
        .sort("event_id", "ticker", "rel_day")
        .group_by(_PAIR)
        .agg(
            pl.len().alias("n"),
            x.sum().alias("sum_x"),
            y.sum().alias("sum_y"),
            (x * x).sum().alias("sum_xx"),
            (x * y).sum().alias("sum_xy"),
            (y * y).sum().alias("sum_yy"),
            x.mean().alias("x_mean"),
            y.mean().alias("y_mean"),
            ((x - x.mean()) ** 2).sum().alias("s_xx"),
            ((x - x.mean()) * (y - y.mean())).sum().alias("s_xy"),
            ((y - y.mean()) ** 2).sum().alias("s_yy"),
        )
    )
    dof = pl.col("n") - 2
    ssr = (pl.col("s_yy") - pl.col("beta") * pl.col("s_xy")).clip(lower_bound=0.0)
    return (
        sums.with_columns((pl.col("s_xy") / pl.col("s_xx")).alias("beta"), dof.alias("dof"))
        .with_columns(
            (pl.col("y_mean") - pl.col("beta") * pl.col("x_mean")).alias("alpha"),
            pl.when(pl.col("dof") > 0).then((ssr / pl.col("dof")).sqrt()).alias("sigma"),
        )
        .select([pl.col(c).cast(t) for c, t in FITS_SCHEMA.items()])
        .sort(_PAIR)
    )


def abnormal_panel(panel: pl.DataFrame, fits: pl.DataFrame) -> pl.DataFrame:
    """The panel rows of the fitted pairs with `alpha, beta, expected_ret, abnormal_ret` added.

    Works on any rel_day range, estimation window included (residual-based tests need those ARs too);
    abnormal_ret is null where the ticker has no return.
    """
    expected = pl.col("alpha") + pl.col("beta") * pl.col("benchmark_ret")
    return (
        panel.join(fits.select(*_PAIR, "alpha", "beta"), on=list(_PAIR))
        .with_columns(expected.alias("expected_ret"))
        .with_columns((pl.col("ret") - pl.col("expected_ret")).alias("abnormal_ret"))
        .sort("event_id", "ticker", "rel_day")
    )


def two_sided_t_p(t: pl.Series, dof: pl.Series) -> pl.Series:
    """Two-sided Student-t p-values `2 P(T_dof > |t|)`, vectorised; null where t or dof is null."""
    t_np = t.cast(pl.Float64).to_numpy()
    dof_np = dof.cast(pl.Float64).to_numpy()
    with np.errstate(invalid="ignore"):
        p = 2.0 * stats.t.sf(np.abs(t_np), dof_np)
    return pl.Series(t.name, p, dtype=pl.Float64).fill_nan(None)


def _window_stats(ar: pl.DataFrame, fitted: pl.DataFrame, config: EventStudyConfig) -> pl.DataFrame:
    """One row per fitted pair and CAR window: car, car_t, p_value, raw_return (null when a day is missing)."""
    windows = pl.DataFrame(
        {"window_start": [a for a, _ in config.car_windows], "window_end": [b for _, b in config.car_windows]},
        schema={"window_start": pl.Int32, "window_end": pl.Int32},
    )
    per_window = (
        ar.join(windows, how="cross")
        .filter(pl.col("rel_day").is_between(pl.col("window_start"), pl.col("window_end")))
        .group_by(*_PAIR, "window_start", "window_end")
        .agg(
            pl.col("ret").is_not_null().sum().alias("days"),
            pl.col("abnormal_ret").sum().alias("car_sum"),
            ((pl.col("ret") + 1).product() - 1).alias("raw_sum"),
        )
    )
    impact = (
        fitted.join(windows, how="cross")
        .join(per_window, on=[*_PAIR, "window_start", "window_end"], how="left")
        .with_columns(
            (pl.col("window_end") - pl.col("window_start") + 1).alias("length"),
            pl.col("days").fill_null(0),
        )
        .with_columns((pl.col("days") == pl.col("length")).alias("complete"))
        .with_columns(
            pl.when(pl.col("complete")).then(pl.col("car_sum")).alias("car"),
            pl.when(pl.col("complete")).then(pl.col("raw_sum")).alias("raw_return"),
        )
        .with_columns(
            # sigma == 0 only for a degenerate series (a price copying its benchmark): no finite t.
            pl.when(pl.col("sigma") > 0)
            .then(pl.col("car") / (pl.col("sigma") * pl.col("length").cast(pl.Float64).sqrt()))
            .alias("car_t")
        )
    )
    return impact.with_columns(two_sided_t_p(impact["car_t"], impact["n"] - 2).alias("p_value"))


def _warnings(ar: pl.DataFrame, impact: pl.DataFrame, config: EventStudyConfig) -> pl.DataFrame:
    """One warning per (event/ticker, code), as ops.warnings keys them."""
    subject = pl.format("{}/{}", "event_id", "ticker").alias("subject")
    gaps = (
        ar.filter(pl.col("ret").is_null())
        .group_by(_PAIR)
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
    incomplete = (
        impact.filter(~pl.col("complete"))
        .group_by(_PAIR)
        .agg(
            pl.format("[{}, {}] has {} of {} days", "window_start", "window_end", "days", "length")
            .sort_by("window_start", "window_end")
            .str.join("; ")
            .alias("windows")
        )
        .select(
            subject,
            pl.lit("window_incomplete").alias("code"),
            pl.format("CAR window {}: car, car_t, p_value and raw_return left null", "windows").alias("message"),
        )
    )
    return pl.concat([gaps, incomplete]).select([pl.col(c).cast(t) for c, t in WARNINGS_SCHEMA.items()])


def run_event_study(
    returns: pl.DataFrame,
    events: pl.DataFrame,
    universe: pl.DataFrame,
    config: EventStudyConfig = DEFAULT_CONFIG,
) -> EventStudyResult:
    """Market-model abnormal returns, CARs and their t-tests for every event x studied universe ticker.

    `returns`: `ticker, date, ret` (daily_returns of every ticker, benchmarks included); `events`:
    core.ai_events; `universe`: core.universe. Outputs are sorted by their primary keys, so they do not depend
    on input row order.
    """
    est_lo, est_hi = config.estimation_window
    ar_lo, ar_hi = config.ar_window
    prepared = build_panel(returns, events, universe, config)
    skips = [prepared.skips]
    fits = market_model_fits(prepared.panel, config)

    pairs = prepared.pairs.join(fits.select(*_PAIR, "n", "alpha", "beta", "sigma"), on=list(_PAIR), how="left")
    pairs = pairs.with_columns(pl.col("n").fill_null(0))
    too_few = pairs.filter(pl.col("n") < config.min_estimation_days)
    skips.append(
        _skip(
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
    )
    fitted = pairs.filter(pl.col("n") >= config.min_estimation_days)

    window = prepared.panel.filter(pl.col("rel_day").is_between(ar_lo, ar_hi)).join(fitted, on=list(_PAIR), how="semi")
    with_data = window.filter(pl.col("ret").is_not_null()).select(_PAIR).unique()
    no_window = fitted.join(with_data, on=list(_PAIR), how="anti")
    skips.append(
        _skip(
            no_window,
            "no_event_window_data",
            pl.format("no {} returns in the event window [{}, {}]", "ticker", pl.lit(ar_lo), pl.lit(ar_hi)),
        )
    )
    fitted = fitted.join(with_data, on=list(_PAIR), how="semi")

    gap_seen = pl.col("ret").is_null().cum_sum().over(_PAIR) > 0
    ar = (
        abnormal_panel(window, fitted)
        .with_columns(pl.when(~gap_seen).then(pl.col("abnormal_ret").cum_sum().over(_PAIR)).alias("car"))
        .with_columns(pl.lit(MODEL_MARKET).alias("model"))
    )
    abnormal_returns = ar.filter(pl.col("ret").is_not_null()).select(
        [pl.col(c).cast(t) for c, t in ABNORMAL_RETURNS_SCHEMA.items()]
    )

    impact = _window_stats(ar, fitted, config)
    event_impact = impact.with_columns(pl.lit(MODEL_MARKET).alias("model"), pl.col("n").alias("n_estimation")).select(
        [pl.col(c).cast(t) for c, t in EVENT_IMPACT_SCHEMA.items()]
    )
    return EventStudyResult(
        abnormal_returns=abnormal_returns.sort("event_id", "ticker", "rel_day"),
        event_impact=event_impact.sort("event_id", "ticker", "window_start", "window_end"),
        skips=pl.concat(skips).sort(_PAIR),
        warnings=_warnings(ar, impact, config).sort("subject", "code"),
        fits=fits.join(fitted, on=list(_PAIR), how="semi").sort(_PAIR),
    )
