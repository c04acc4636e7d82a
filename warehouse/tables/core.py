"""core.*: clean source data (prices, the event catalog, the ticker universe).

`core.prices_daily`'s key (ticker, date) is enforced by the loader, not by a DuckDB PRIMARY KEY index
(migration 6 rebuilt the table without it): every frame is checked for duplicate keys before it is written,
rows of a ticker outside its stored date range are plain INSERTs (no stored key can match them) and the rest
go through a keyed MERGE, all in one transaction under the run lock, so the loader is the only path in. The
ART index DuckDB maintains for a PRIMARY KEY made chunked history loads about 2.5 times slower (5.2 M rows in
chunks of 520 k: 5.9 s against 2.4 s of keyed MERGEs on this 2-core machine). The data-quality check
`duplicate_keys` verifies the key on every run.
"""

from __future__ import annotations

from warehouse.registry import Column, Table, register

AI_EVENTS = register(
    Table(
        schema="core",
        name="ai_events",
        description=(
            "Curated catalog of dated AI-efficiency, AI-demand and policy events (from "
            "warehouse/seeds/ai_events.csv). event_date is the day of first public information; the event "
            "study's day 0 is the first trading day on or after it."
        ),
        primary_key=("event_id",),
        columns=(
            Column("event_id", "VARCHAR", "Stable short identifier, e.g. deepseek_r1"),
            Column("event_date", "DATE", "Calendar date of first public information (US Eastern)", nullable=False),
            Column("name", "VARCHAR", "Short human-readable name", nullable=False),
            Column(
                "category",
                "VARCHAR",
                "efficiency (AI gets cheaper per unit), demand (more AI compute or power bought), or policy",
                nullable=False,
            ),
            Column("description", "VARCHAR", "What happened, with figures where known", nullable=False),
            Column("source_url", "VARCHAR", "Where the event and its date are reported", nullable=False),
        ),
    )
)

UNIVERSE = register(
    Table(
        schema="core",
        name="universe",
        description=(
            "Tickers studied, their group and the benchmark their market model regresses on "
            "(from warehouse/seeds/universe.csv)."
        ),
        primary_key=("ticker",),
        columns=(
            Column("ticker", "VARCHAR", "Yahoo Finance symbol"),
            Column("name", "VARCHAR", "Company or fund name", nullable=False),
            Column("group", "VARCHAR", "Peer group, e.g. independent_power, regulated_utilities", nullable=False),
            Column("benchmark", "VARCHAR", "Ticker of the market index used as the market return", nullable=False),
            Column(
                "history_from",
                "DATE",
                "First date whose price describes today's company (after a SPAC merger or spin-off); returns begin the trading day after it. Null: the whole history",
            ),
            Column(
                "history_source",
                "VARCHAR",
                "Why history_from is that date, with a source (required when history_from is set)",
            ),
        ),
    )
)

PRICES_DAILY = register(
    Table(
        schema="core",
        name="prices_daily",
        description=(
            "Daily prices per ticker and exchange trading date. adj_close is adjusted for splits and "
            "dividends and drives all returns; where a source gives only one close it is stored in both "
            "close and adj_close. Key (ticker, date), enforced by the loader rather than a DuckDB index."
        ),
        primary_key=("ticker", "date"),
        index_key=False,  # enforced by the loader since migration 6 (see the module docstring)
        range_column="date",
        columns=(
            Column("ticker", "VARCHAR", "Yahoo Finance symbol"),
            Column("date", "DATE", "Exchange trading date (local to the listing exchange)"),
            Column("open", "DOUBLE", "Opening price, unadjusted", unit="currency of listing"),
            Column("high", "DOUBLE", "Session high, unadjusted", unit="currency of listing"),
            Column("low", "DOUBLE", "Session low, unadjusted", unit="currency of listing"),
            Column(
                "close", "DOUBLE", "Closing price, unadjusted (or as the source gives it)", unit="currency of listing"
            ),
            Column(
                "adj_close",
                "DOUBLE",
                "Close adjusted for splits and dividends; returns are computed from it",
                unit="currency of listing",
                nullable=False,
            ),
            Column("volume", "BIGINT", "Shares traded", unit="shares"),
            Column("source", "VARCHAR", "Where the row came from: csv:<file> or yfinance", nullable=False),
            Column("loaded_at", "TIMESTAMPTZ", "When this row was last inserted or changed", nullable=False),
        ),
    )
)
