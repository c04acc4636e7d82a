"""The reference event study: long polars frames, one row per (event, ticker, model, day), the definitions
written out as joins and aggregates. It is the independent implementation the tests compare the production engine
(`transforms.event_study.run_dense_study`, dense arrays and C kernels) against, column by column to 1e-9; it
is never run in production (flows/, transforms/ and warehouse/ must not import tests.reference:
tests/test_reference_isolation.py). It shares only the contract (`transforms.event_study.contract`: config,
schemas, skip rules and warnings) with the engine; every statistic is computed here again, its p-values straight
from scipy.

Vectorised across every (event, ticker, model) at once.

Definitions (MacKinlay 1997, "Event Studies in Economics and Finance", sections 4-5):

- Trading calendar: the dates on which a benchmark has a return (one calendar per benchmark), numbered
  0, 1, 2, ... Day 0 of an event is the first calendar date on or after `event_date` (a weekend or holiday
  event reacts on the next session). `rel_day = calendar index - day 0 index`, so a day on which the ticker
  has no return is a *missing* rel_day, never a shifted one.
- Estimation sums, per (event, ticker), over the estimation window (default rel_days [-250, -11]) on the n days
  where both the ticker return y and the benchmark return x exist (n >= `min_estimation_days`, default 120):
  n, sum x, sum y, sum xx, sum xy, sum yy and the centred moments `S_xx = sum (x - xbar)^2`,
  `S_xy = sum (x - xbar)(y - ybar)`, `S_yy = sum (y - ybar)^2` (`market_model_fits`).
- Models (`expected_ret = alpha + beta x` for all three, so abnormal_returns reads the same way):
  - market (OLS market model): `beta = S_xy / S_xx`, `alpha = ybar - beta xbar`, d = n - 2,
    `sigma^2 = SSR / d = (S_yy - beta S_xy) / d`;
  - market_adjusted: alpha = 0, beta = 1 (AR = y - x), d = n - 1, `sigma^2 = S_dd / d` with d_t = y_t - x_t,
    `S_dd = S_yy - 2 S_xy + S_xx`;
  - constant_mean: alpha = ybar, beta = 0, d = n - 1, `sigma^2 = S_yy / d`.
- Abnormal return `AR_t = y_t - (alpha + beta x_t)` for rel_days in the AR window (default [-10, 10]);
  marts.abnormal_returns.car is `sum AR` from the first AR-window day through day t, in rel_day order.
  `estimation_ar` holds the same for the estimation window (input of the group tests).
- CAR window [a, b] (inclusive), L = b - a + 1 trading days:
  `CAR = sum_{t=a..b} AR_t`, `car_t = CAR / (sigma sqrt(L))`, `p_value = 2 P(T_d > |car_t|)` (two-sided
  Student t with the model's d degrees of freedom), `raw_return = prod_{t=a..b} (1 + y_t) - 1`.
  car_t treats the ARs as independent with the estimation residual variance. The prediction-error-corrected
  standard error adds the estimation error of alpha and beta:
  market `car_se = sigma sqrt(L + L^2 / n + (sum_{t=a..b} (x_t - xbar))^2 / S_xx)`,
  constant_mean `car_se = sigma sqrt(L + L^2 / n)`, market_adjusted `car_se = sigma sqrt(L)` (nothing
  estimated); `scar = CAR / car_se`, `scar_p` two-sided Student t with d df (Patell 1976; Campbell, Lo and
  MacKinlay 1997, 4.4).

Nothing is shortened silently. A CAR window missing any day (beyond the last data, or a day the ticker has no
return) keeps its row with car, car_t, p_value, raw_return, car_se, scar and scar_p null, plus a
`window_incomplete` warning. A day inside the AR window on which the benchmark traded but the ticker has no return
gets an `event_window_gap` warning and makes `car` in abnormal_returns null from that day on (a cumulative sum
that skips a day would be mislabelled). Pairs that cannot be computed at all go to `skips` with a reason code.

Everything is joins and group_by aggregates over long frames: no Python loop over tickers, events or models. The
steps are public so that further statistics can reuse them:
`build_panel` -> `market_model_fits` -> `model_fits` -> `abnormal_panel`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy import special

from transforms.event_study.contract import (
    ABNORMAL_RETURNS_SCHEMA,
    DEFAULT_CONFIG,
    ESTIMATION_AR_SCHEMA,
    EVENT_IMPACT_SCHEMA,
    FITS_SCHEMA,
    MODEL_CONSTANT_MEAN,
    MODEL_MARKET,
    MODEL_MARKET_ADJUSTED,
    MODELS,
    EventStudyConfig,
    EventStudyResult,
    estimation_skips,
    pair_skips,
    window_warnings,
)

MODEL_FITS_SCHEMA: dict[str, pl.DataType] = {
    "event_id": pl.String(),
    "ticker": pl.String(),
    "model": pl.String(),
    "n": pl.Int32(),
    "alpha": pl.Float64(),
    "beta": pl.Float64(),
    "sigma": pl.Float64(),
    "dof": pl.Int32(),
    "x_mean": pl.Float64(),
    "s_xx": pl.Float64(),
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
_PAIR_MODEL = ("event_id", "ticker", "model")


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
    # Both sides are sorted on the asof keys, so every benchmark group is too (polars cannot check that itself).
    return pairs.sort("event_date").join_asof(
        cal.sort("day0"),
        left_on="event_date",
        right_on="day0",
        by="benchmark",
        strategy="forward",
        check_sortedness=False,
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
    skips, pairs = pair_skips(events, studied, days, returns.select("ticker").unique())

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
        skips=skips,
    )


def market_model_fits(panel: pl.DataFrame, config: EventStudyConfig = DEFAULT_CONFIG) -> pl.DataFrame:
    """Estimation-window sums and the OLS market model per (event_id, ticker) (FITS_SCHEMA).

    Keeps the raw sums (n, sum_x, sum_y, sum_xx, sum_xy, sum_yy) and the centred moments (x_mean, s_xx, ...)
    because every model and the prediction-error corrections derive from them. The fit itself uses the centred
    moments (two-pass within each group), which avoid the cancellation of `sum_xy - sum_x sum_y / n`.
    `n_missing` counts benchmark trading days in the window on which the ticker had no return. Pairs with fewer
    than `min_estimation_days` are returned too, with their n.
    """
    est_lo, est_hi = config.estimation_window
    both = pl.col("ret").is_not_null() & pl.col("benchmark_ret").is_not_null()
    x, y = pl.col("benchmark_ret").filter(both), pl.col("ret").filter(both)
    sums = (
        panel.filter(pl.col("rel_day").is_between(est_lo, est_hi))
        .sort("event_id", "ticker", "rel_day")
        .group_by(_PAIR)
        .agg(
            both.sum().cast(pl.Int32).alias("n"),
            (~both).sum().cast(pl.Int32).alias("n_missing"),
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


def model_fits(fits: pl.DataFrame, models: tuple[str, ...] = MODELS) -> pl.DataFrame:
    """Per (event_id, ticker, model): n, alpha, beta, sigma, dof, x_mean, s_xx (MODEL_FITS_SCHEMA).

    All from the sums of `market_model_fits`; expected_ret = alpha + beta x for every model (market_adjusted:
    alpha 0, beta 1; constant_mean: alpha = mean return, beta 0). sigma is null when dof <= 0.
    """
    model = pl.col("model")
    is_market = model == MODEL_MARKET
    dof = pl.when(is_market).then(pl.col("n") - 2).otherwise(pl.col("n") - 1)
    s_dd = (pl.col("s_yy") - 2 * pl.col("s_xy") + pl.col("s_xx")).clip(lower_bound=0.0)
    ssr = (
        pl.when(is_market)
        .then((pl.col("s_yy") - pl.col("beta") * pl.col("s_xy")).clip(lower_bound=0.0))
        .when(model == MODEL_MARKET_ADJUSTED)
        .then(s_dd)
        .otherwise(pl.col("s_yy"))
    )
    alpha = (
        pl.when(is_market)
        .then(pl.col("alpha"))
        .when(model == MODEL_MARKET_ADJUSTED)
        .then(pl.lit(0.0))
        .otherwise(pl.col("y_mean"))
    )
    beta = (
        pl.when(is_market)
        .then(pl.col("beta"))
        .when(model == MODEL_MARKET_ADJUSTED)
        .then(pl.lit(1.0))
        .otherwise(pl.lit(0.0))
    )
    return (
        fits.join(pl.DataFrame({"model": list(models)}, schema={"model": pl.String}), how="cross")
        .with_columns(dof.alias("dof"))
        .with_columns(
            alpha.alias("alpha"),
            beta.alias("beta"),
            pl.when(pl.col("dof") > 0).then((ssr / pl.col("dof")).sqrt()).alias("sigma"),
        )
        .select([pl.col(c).cast(t) for c, t in MODEL_FITS_SCHEMA.items()])
        .sort(_PAIR_MODEL)
    )


def abnormal_panel(panel: pl.DataFrame, fits: pl.DataFrame) -> pl.DataFrame:
    """The panel rows of the fitted pairs, once per model of `fits` (`model_fits` rows), with
    `model, alpha, beta, expected_ret, abnormal_ret` added.

    Works on any rel_day range, estimation window included (residual-based tests need those ARs too);
    abnormal_ret is null where the ticker has no return. Rows keep the panel's order, each followed by its
    models in `fits` order (deterministic, and no sort of the large estimation frame).
    """
    expected = pl.col("alpha") + pl.col("beta") * pl.col("benchmark_ret")
    return (
        panel.join(fits.select(*_PAIR, "model", "alpha", "beta"), on=list(_PAIR), maintain_order="left_right")
        .with_columns(expected.alias("expected_ret"))
        .with_columns((pl.col("ret") - pl.col("expected_ret")).alias("abnormal_ret"))
    )


def scipy_t_p(t: pl.Series, dof: pl.Series) -> pl.Series:
    """Two-sided Student-t p-values `2 P(T_dof > |t|)` straight from scipy (no tables: the reference for
    transforms.event_study.pvalues.two_sided_t_p); null where t or dof is null."""
    t_np = t.cast(pl.Float64).to_numpy()
    dof_np = dof.cast(pl.Float64).to_numpy()
    with np.errstate(invalid="ignore"):
        p = 2.0 * special.stdtr(dof_np, -np.abs(t_np))
    return pl.Series(t.name, p, dtype=pl.Float64).fill_nan(None)


def _windows(config: EventStudyConfig) -> pl.DataFrame:
    return pl.DataFrame(
        {"window_start": [a for a, _ in config.car_windows], "window_end": [b for _, b in config.car_windows]},
        schema={"window_start": pl.Int32, "window_end": pl.Int32},
    )


def _window_days(window: pl.DataFrame, fitted: pl.DataFrame, config: EventStudyConfig) -> pl.DataFrame:
    """Model-free facts per fitted pair and CAR window: days with a return, length, completeness, raw return
    and the window's benchmark-return sum (for the market model's car_se)."""
    windows = _windows(config)
    per_window = (
        window.join(windows, how="cross")
        .filter(pl.col("rel_day").is_between(pl.col("window_start"), pl.col("window_end")))
        .group_by(*_PAIR, "window_start", "window_end")
        .agg(
            pl.col("ret").is_not_null().sum().alias("days"),
            ((pl.col("ret") + 1).product() - 1).alias("raw_sum"),
            pl.col("benchmark_ret").sum().alias("x_window_sum"),
        )
    )
    return (
        fitted.select(_PAIR)
        .join(windows, how="cross")
        .join(per_window, on=[*_PAIR, "window_start", "window_end"], how="left")
        .with_columns(
            (pl.col("window_end") - pl.col("window_start") + 1).alias("length"),
            pl.col("days").fill_null(0),
        )
        .with_columns((pl.col("days") == pl.col("length")).alias("complete"))
        .with_columns(pl.when(pl.col("complete")).then(pl.col("raw_sum")).alias("raw_return"))
    )


def _window_stats(ar: pl.DataFrame, days: pl.DataFrame, fits: pl.DataFrame, config: EventStudyConfig) -> pl.DataFrame:
    """One row per fitted pair, model and CAR window: car, car_t, p_value, car_se, scar, scar_p (null when a
    day is missing)."""
    windows = _windows(config)
    cars = (
        ar.join(windows, how="cross")
        .filter(pl.col("rel_day").is_between(pl.col("window_start"), pl.col("window_end")))
        .group_by(*_PAIR_MODEL, "window_start", "window_end")
        .agg(pl.col("abnormal_ret").sum().alias("car_sum"))
    )
    length = pl.col("length").cast(pl.Float64)
    n = pl.col("n").cast(pl.Float64)
    centred_window = pl.col("x_window_sum") - length * pl.col("x_mean")
    factor = (
        pl.when(pl.col("model") == MODEL_MARKET)
        .then(length + length**2 / n + centred_window**2 / pl.col("s_xx"))
        .when(pl.col("model") == MODEL_CONSTANT_MEAN)
        .then(length + length**2 / n)
        .otherwise(length)
    )
    # sigma == 0 only for a degenerate series (a price copying its model): no finite statistic.
    positive = pl.col("sigma") > 0
    impact = (
        fits.join(days, on=list(_PAIR))
        .join(cars, on=[*_PAIR_MODEL, "window_start", "window_end"], how="left")
        .with_columns(pl.when(pl.col("complete")).then(pl.col("car_sum")).alias("car"))
        .with_columns(
            pl.when(positive).then(pl.col("car") / (pl.col("sigma") * length.sqrt())).alias("car_t"),
            pl.when(pl.col("complete")).then(pl.col("sigma") * factor.sqrt()).alias("car_se"),
        )
        .with_columns(pl.when(positive).then(pl.col("car") / pl.col("car_se")).alias("scar"))
    )
    return impact.with_columns(
        scipy_t_p(impact["car_t"], impact["dof"]).alias("p_value"),
        scipy_t_p(impact["scar"], impact["dof"]).alias("scar_p"),
    )


def run_event_study(
    returns: pl.DataFrame,
    events: pl.DataFrame,
    universe: pl.DataFrame,
    config: EventStudyConfig = DEFAULT_CONFIG,
) -> EventStudyResult:
    """Abnormal returns, CARs and their t-tests for every event x studied universe ticker x model.

    `returns`: `ticker, date, ret` (daily_returns of every ticker, benchmarks included); `events`:
    core.ai_events; `universe`: core.universe. Outputs are sorted by their primary keys, so they do not depend
    on input row order.
    """
    est_lo, est_hi = config.estimation_window
    ar_lo, ar_hi = config.ar_window
    prepared = build_panel(returns, events, universe, config)
    skips = [prepared.skips]
    fits = market_model_fits(prepared.panel, config)

    pairs = prepared.pairs.join(fits.select(*_PAIR, "n", "n_missing"), on=list(_PAIR), how="left")
    pairs = pairs.with_columns(pl.col("n").fill_null(0))
    too_few = pairs.filter(pl.col("n") < config.min_estimation_days)
    fitted = pairs.filter(pl.col("n") >= config.min_estimation_days)

    window = prepared.panel.filter(pl.col("rel_day").is_between(ar_lo, ar_hi)).join(fitted, on=list(_PAIR), how="semi")
    with_data = window.filter(pl.col("ret").is_not_null()).select(_PAIR).unique()
    no_window = fitted.join(with_data, on=list(_PAIR), how="anti")
    skips.append(estimation_skips(too_few, no_window, config))
    fitted = fitted.join(with_data, on=list(_PAIR), how="semi")
    window = window.join(fitted, on=list(_PAIR), how="semi")
    fits = fits.join(fitted, on=list(_PAIR), how="semi")
    per_model = model_fits(fits, config.models)

    gap_seen = pl.col("ret").is_null().cum_sum().over(_PAIR_MODEL) > 0
    ar = (
        abnormal_panel(window, per_model)
        .sort(*_PAIR_MODEL, "rel_day")  # cumulative sums run in rel_day order
        .with_columns(pl.when(~gap_seen).then(pl.col("abnormal_ret").cum_sum().over(_PAIR_MODEL)).alias("car"))
    )
    abnormal_returns = ar.filter(pl.col("ret").is_not_null()).select(
        [pl.col(c).cast(t) for c, t in ABNORMAL_RETURNS_SCHEMA.items()]
    )
    estimation = prepared.panel.filter(pl.col("rel_day").is_between(est_lo, est_hi) & pl.col("ret").is_not_null())
    estimation_ar = abnormal_panel(estimation, per_model).select(
        [pl.col(c).cast(t) for c, t in ESTIMATION_AR_SCHEMA.items()]
    )

    days = _window_days(window, fitted, config)
    impact = _window_stats(ar, days, per_model, config).join(
        fitted.select(*_PAIR, "event_date", "day0", "group", "benchmark", "n_missing"), on=list(_PAIR)
    )
    event_impact = impact.with_columns(
        pl.col("n").alias("n_estimation"), pl.col("n_missing").alias("n_missing_estimation")
    ).select([pl.col(c).cast(t) for c, t in EVENT_IMPACT_SCHEMA.items()])
    return EventStudyResult(
        abnormal_returns=abnormal_returns.sort(*_PAIR_MODEL, "rel_day"),
        event_impact=event_impact.sort(*_PAIR_MODEL, "window_start", "window_end"),
        skips=pl.concat(skips).sort(_PAIR),
        warnings=window_warnings(window.filter(pl.col("ret").is_null()), days.filter(~pl.col("complete")), config).sort(
            "subject", "code"
        ),
        estimation_ar=estimation_ar,  # already in (event_id, ticker, rel_day, model) order
        fits=fits.sort(_PAIR),
    )
