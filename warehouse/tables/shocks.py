"""marts.shock_candidates and marts.event_overlaps: what the catalog may be missing, and which catalogued figures
are confounded by another catalogued event (issue 15; transforms.shocks and transforms.overlaps compute them)."""

from __future__ import annotations

from warehouse.registry import Column, Table, register

SHOCKS_MIGRATION = 7
"""The migration that creates these tables (warehouse/migrations.py; the lead renumbers on merge)."""

SHOCK_CANDIDATES = register(
    Table(
        schema="marts",
        name="shock_candidates",
        description=(
            "Trading days on which a universe group's equal-weighted portfolio moved abnormally and no catalogued "
            "event covers the day (covered = an event's day 0 or day +1). z = the portfolio's market-model abnormal "
            "return / its standard error from the portfolio's own residuals over a rolling estimation window that "
            "ends before the day (Brown and Warner's crude dependence adjustment: it absorbs the group's "
            "cross-correlation), with the prediction-error correction; |z| >= threshold_z. A candidate is a "
            "proposal for warehouse/seeds/ai_events.csv, not a catalogued event. Method: docs/methods.md (shocks not in the catalog)."
        ),
        primary_key=("group", "date"),
        introduced_in=SHOCKS_MIGRATION,
        columns=(
            Column("group", "VARCHAR", "core.universe group"),
            Column("date", "DATE", "Trading day of the move (the benchmark's calendar)"),
            Column("benchmark", "VARCHAR", "Benchmark ticker of the group's market model", nullable=False),
            Column(
                "n",
                "INTEGER",
                "Tickers of the group with a return that day (the portfolio's size)",
                unit="tickers",
                nullable=False,
            ),
            Column(
                "ret",
                "DOUBLE",
                "Equal-weighted portfolio return that day: mean of the tickers' simple returns",
                unit="fraction (0.01 = 1%)",
                nullable=False,
            ),
            Column("benchmark_ret", "DOUBLE", "Benchmark's simple return that day", unit="fraction", nullable=False),
            Column(
                "ar",
                "DOUBLE",
                "Portfolio abnormal return: ret - (alpha + beta x benchmark_ret), alpha and beta fitted on the estimation window",
                unit="fraction",
                nullable=False,
            ),
            Column(
                "sigma",
                "DOUBLE",
                "Residual standard deviation of the portfolio's market model over the estimation window (n_estimation - 2 df)",
                unit="fraction per day",
                nullable=False,
            ),
            Column(
                "ar_se",
                "DOUBLE",
                "Standard error of ar with the prediction-error correction: sigma x sqrt(1 + 1/n_estimation + (benchmark_ret - mean)^2 / Sxx)",
                unit="fraction",
                nullable=False,
            ),
            Column("z", "DOUBLE", "ar / ar_se", unit="z-statistic", nullable=False),
            Column(
                "n_estimation",
                "INTEGER",
                "Days of the estimation window with a portfolio and a benchmark return",
                unit="days",
                nullable=False,
            ),
            Column(
                "threshold_z",
                "DOUBLE",
                "The |z| threshold the candidate passed (configuration of the run)",
                unit="z-statistic",
                nullable=False,
            ),
            Column(
                "top_movers",
                "VARCHAR",
                "Largest contributors in the direction of the move: 'TICKER ar; ...', each ticker's own market-model abnormal return that day over the same window (fractions)",
            ),
            Column(
                "prev_event_id",
                "VARCHAR",
                "Latest catalogued event dated on or before the day (ids joined by ', ' when several share its date)",
            ),
            Column("prev_event_date", "DATE", "event_date of prev_event_id"),
            Column(
                "next_event_id",
                "VARCHAR",
                "Earliest catalogued event dated after the day (ids joined by ', ' when several share its date)",
            ),
            Column("next_event_date", "DATE", "event_date of next_event_id"),
            Column(
                "rank",
                "INTEGER",
                "Rank of |z| within the group, 1 = largest (ties by date)",
                unit="rank",
                nullable=False,
            ),
        ),
    )
)

EVENT_OVERLAPS = register(
    Table(
        schema="marts",
        name="event_overlaps",
        description=(
            "For every catalogued event and CAR window of the event study: the other catalogued events whose day 0 "
            "falls inside the window (on the benchmark's trading calendar). A figure of marts.event_impact or "
            "marts.group_impact whose window has a non-null confounded_by mixes those events' reactions with this "
            "one's and is not a clean measure of this event."
        ),
        primary_key=("event_id", "window_start", "window_end"),
        introduced_in=SHOCKS_MIGRATION,
        columns=(
            Column("event_id", "VARCHAR", "core.ai_events.event_id"),
            Column("window_start", "INTEGER", "First relative trading day of the window", unit="trading days"),
            Column("window_end", "INTEGER", "Last relative trading day of the window (inclusive)", unit="trading days"),
            Column("day0", "DATE", "The event's day 0: first trading day on or after its event_date", nullable=False),
            Column(
                "n_confounders",
                "INTEGER",
                "Other catalogued events whose day 0 falls inside the window",
                unit="events",
                nullable=False,
            ),
            Column(
                "confounded_by",
                "VARCHAR",
                "Those events' ids, comma-separated in day-0 then id order; null when the window is clean",
            ),
        ),
    )
)
