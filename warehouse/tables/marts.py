"""marts.*: the impact tables analysts query (recomputed in full from core on every run)."""

from __future__ import annotations

from warehouse.registry import Column, Table, register

ABNORMAL_RETURNS = register(
    Table(
        schema="marts",
        name="abnormal_returns",
        description=(
            "Daily returns around each event (rel_day -10..+10) per ticker: actual, expected under the "
            "model, abnormal, and cumulative abnormal from rel_day -10."
        ),
        primary_key=("event_id", "ticker", "model", "rel_day"),
        columns=(
            Column("event_id", "VARCHAR", "core.ai_events.event_id"),
            Column("ticker", "VARCHAR", "core.universe ticker"),
            Column("model", "VARCHAR", "Expected-return model: market (OLS market model), market_adjusted, constant_mean"),
            Column("rel_day", "INTEGER", "Trading days relative to day 0 (first trading day on/after the event date)", unit="trading days"),
            Column("date", "DATE", "Trading date of this rel_day", nullable=False),
            Column("ret", "DOUBLE", "Simple daily return from adj_close", unit="fraction (0.01 = 1%)"),
            Column("benchmark_ret", "DOUBLE", "Benchmark's simple daily return the same day", unit="fraction"),
            Column("expected_ret", "DOUBLE", "Model's expected return: alpha + beta x benchmark return", unit="fraction"),
            Column("abnormal_ret", "DOUBLE", "ret - expected_ret", unit="fraction"),
            Column("car", "DOUBLE", "Cumulative abnormal return from rel_day -10 through this day", unit="fraction"),
        ),
    )
)

EVENT_IMPACT = register(
    Table(
        schema="marts",
        name="event_impact",
        description=(
            "One row per (event, ticker, model, window): cumulative abnormal return over the window, its "
            "t-statistic and two-sided p-value, the raw compounded return and the fitted model. "
            "car_t = car / (sigma x sqrt(L)), L = window length in trading days, sigma = estimation residual "
            "standard deviation (n-2 degrees of freedom); p from Student t with n_estimation-2 df."
        ),
        primary_key=("event_id", "ticker", "model", "window_start", "window_end"),
        columns=(
            Column("event_id", "VARCHAR", "core.ai_events.event_id"),
            Column("event_date", "DATE", "Calendar date of the event", nullable=False),
            Column("day0", "DATE", "First trading day on or after event_date", nullable=False),
            Column("ticker", "VARCHAR", "core.universe ticker"),
            Column("group", "VARCHAR", "core.universe group of the ticker", nullable=False),
            Column("model", "VARCHAR", "Expected-return model (see marts.abnormal_returns.model)"),
            Column("window_start", "INTEGER", "First relative trading day of the window", unit="trading days"),
            Column("window_end", "INTEGER", "Last relative trading day of the window (inclusive)", unit="trading days"),
            Column("car", "DOUBLE", "Cumulative abnormal return over the window", unit="fraction (0.01 = 1%)"),
            Column("car_t", "DOUBLE", "car / (sigma x sqrt(window length))", unit="t-statistic"),
            Column("p_value", "DOUBLE", "Two-sided p-value of car_t, Student t with n_estimation-2 df", unit="probability"),
            Column("raw_return", "DOUBLE", "Compounded actual return over the window: prod(1+ret)-1", unit="fraction"),
            Column("alpha", "DOUBLE", "Market-model intercept over the estimation window", unit="fraction per day"),
            Column("beta", "DOUBLE", "Market-model slope on the benchmark return", unit="dimensionless"),
            Column("sigma", "DOUBLE", "Residual standard deviation over the estimation window", unit="fraction per day"),
            Column("n_estimation", "INTEGER", "Valid return days used in the estimation window", unit="days"),
            Column("benchmark", "VARCHAR", "Benchmark ticker of the market model", nullable=False),
        ),
    )
)

EVENT_SKIPS = register(
    Table(
        schema="marts",
        name="event_skips",
        description=(
            "Event-ticker pairs the event study could not compute, with the reason: the event lies after "
            "the last price, too few estimation days, no benchmark data."
        ),
        primary_key=("event_id", "ticker"),
        columns=(
            Column("event_id", "VARCHAR", "core.ai_events.event_id"),
            Column("ticker", "VARCHAR", "core.universe ticker ('*' when the whole event is skipped)"),
            Column("reason_code", "VARCHAR", "no_trading_day_after_event, no_prices, no_benchmark, too_few_estimation_days, no_event_window_data", nullable=False),
            Column("reason", "VARCHAR", "Human-readable explanation with the figures", nullable=False),
        ),
    )
)
