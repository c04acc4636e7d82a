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
            Column(
                "model", "VARCHAR", "Expected-return model: market (OLS market model), market_adjusted, constant_mean"
            ),
            Column(
                "rel_day",
                "INTEGER",
                "Trading days relative to day 0 (first trading day on/after the event date)",
                unit="trading days",
            ),
            Column("date", "DATE", "Trading date of this rel_day", nullable=False),
            Column("ret", "DOUBLE", "Simple daily return from adj_close", unit="fraction (0.01 = 1%)"),
            Column("benchmark_ret", "DOUBLE", "Benchmark's simple daily return the same day", unit="fraction"),
            Column(
                "expected_ret", "DOUBLE", "Model's expected return: alpha + beta x benchmark return", unit="fraction"
            ),
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
            "standard deviation (n-2 degrees of freedom for the market model, n-1 for the others); p from Student t "
            "with those degrees of freedom. scar uses the prediction-error-corrected car_se instead."
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
            Column(
                "p_value", "DOUBLE", "Two-sided p-value of car_t, Student t with n_estimation-2 df", unit="probability"
            ),
            Column("raw_return", "DOUBLE", "Compounded actual return over the window: prod(1+ret)-1", unit="fraction"),
            Column("alpha", "DOUBLE", "Market-model intercept over the estimation window", unit="fraction per day"),
            Column("beta", "DOUBLE", "Market-model slope on the benchmark return", unit="dimensionless"),
            Column(
                "sigma", "DOUBLE", "Residual standard deviation over the estimation window", unit="fraction per day"
            ),
            Column("n_estimation", "INTEGER", "Valid return days used in the estimation window", unit="days"),
            Column("benchmark", "VARCHAR", "Benchmark ticker of the market model", nullable=False),
            Column(
                "car_se",
                "DOUBLE",
                "Standard error of the CAR with the model's prediction-error correction: sigma x sqrt(L + L^2/n + (sum over the window of (Rm - mean Rm))^2 / Sxx) for the market model, sigma x sqrt(L + L^2/n) for constant mean, sigma x sqrt(L) for market-adjusted",
                unit="fraction",
            ),
            Column(
                "scar",
                "DOUBLE",
                "Standardized CAR: car / car_se (the input of the Patell and BMP tests)",
                unit="t-statistic",
            ),
            Column(
                "scar_p",
                "DOUBLE",
                "Two-sided p-value of scar, Student t with the model's degrees of freedom",
                unit="probability",
            ),
            Column(
                "n_missing_estimation",
                "INTEGER",
                "Benchmark trading days in the estimation window without a return for the ticker (dropped from the fit)",
                unit="days",
            ),
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
            Column(
                "reason_code",
                "VARCHAR",
                "no_trading_day_after_event, no_prices, no_benchmark, too_few_estimation_days, no_event_window_data",
                nullable=False,
            ),
            Column("reason", "VARCHAR", "Human-readable explanation with the figures", nullable=False),
        ),
    )
)

GROUP_IMPACT = register(
    Table(
        schema="marts",
        name="group_impact",
        description=(
            "Group tests per (event, group, model, window), and for the whole universe as group 'all': CAAR, median "
            "CAR, share negative, and six test statistics with two-sided p-values. All stocks share one event date, "
            "so abnormal returns are cross-correlated: kp_bmp (BMP with the Kolari-Pynnonen adjustment) is the test "
            "to trust. Formulas and references: docs/methods.md, section The event study and its tests."
        ),
        primary_key=("event_id", "group", "model", "window_start", "window_end"),
        introduced_in=4,
        columns=(
            Column("event_id", "VARCHAR", "core.ai_events.event_id"),
            Column("group", "VARCHAR", "core.universe group, or 'all' for every studied ticker"),
            Column("model", "VARCHAR", "Expected-return model (see marts.abnormal_returns.model)"),
            Column("window_start", "INTEGER", "First relative trading day of the window", unit="trading days"),
            Column("window_end", "INTEGER", "Last relative trading day of the window (inclusive)", unit="trading days"),
            Column("n", "INTEGER", "Tickers with a complete window", unit="tickers", nullable=False),
            Column(
                "caar",
                "DOUBLE",
                "Cumulative average abnormal return: mean CAR over the tickers",
                unit="fraction (0.01 = 1%)",
            ),
            Column("median_car", "DOUBLE", "Median CAR over the tickers", unit="fraction"),
            Column("share_negative", "DOUBLE", "Share of tickers with a negative CAR", unit="fraction of tickers"),
            Column(
                "csect_t",
                "DOUBLE",
                "Cross-sectional t: caar / (sd(CAR) / sqrt(n)), n-1 df (Brown and Warner 1985)",
                unit="t-statistic",
            ),
            Column("csect_p", "DOUBLE", "Two-sided p-value of csect_t", unit="probability"),
            Column(
                "patell_z",
                "DOUBLE",
                "Patell (1976) Z: sum(scar) / sqrt(sum((d_i)/(d_i-2))), d_i = the ticker's residual degrees of freedom",
                unit="z-statistic",
            ),
            Column("patell_p", "DOUBLE", "Two-sided normal p-value of patell_z", unit="probability"),
            Column(
                "bmp_t",
                "DOUBLE",
                "Boehmer, Musumeci and Poulsen (1991): mean(scar) / (sd(scar) / sqrt(n)), n-1 df",
                unit="t-statistic",
            ),
            Column("bmp_p", "DOUBLE", "Two-sided p-value of bmp_t", unit="probability"),
            Column(
                "mean_residual_corr",
                "DOUBLE",
                "Mean pairwise correlation of the tickers' estimation-window abnormal returns, each pair over its common days (r-bar, Kolari and Pynnonen 2010)",
                unit="correlation",
            ),
            Column(
                "kp_bmp_t",
                "DOUBLE",
                "Kolari and Pynnonen (2010) adjusted BMP: bmp_t x sqrt((1 - r) / (1 + (n - 1) r)), r = mean_residual_corr",
                unit="t-statistic",
            ),
            Column(
                "kp_bmp_p", "DOUBLE", "Two-sided p-value of kp_bmp_t (n-1 df): the recommended test", unit="probability"
            ),
            Column(
                "rank_z",
                "DOUBLE",
                "Corrado (1989) rank test generalised to a window (Cowan 1992): sum over the window of the mean centred rank / (sqrt(L) x its estimation+event standard deviation, each day weighted by N_t / N: Campbell and Wasley 1993)",
                unit="z-statistic",
            ),
            Column("rank_p", "DOUBLE", "Two-sided normal p-value of rank_z", unit="probability"),
            Column(
                "gsign_z",
                "DOUBLE",
                "Generalized sign test (Cowan 1992): (positives - n p) / sqrt(n p (1 - p)), p = estimation-window share of positive abnormal returns",
                unit="z-statistic",
            ),
            Column("gsign_p", "DOUBLE", "Two-sided normal p-value of gsign_z", unit="probability"),
            Column(
                "n_below_min",
                "BOOLEAN",
                "True when n < 3: the group tests are formally defined but have too few degrees of freedom to be evidence (docs/methods.md); mark or omit them",
            ),
        ),
    )
)
