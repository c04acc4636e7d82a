"""core.corporate_actions: dividends, splits and fund capital gains from the live price source (migration 2).

They are stored because adjusted closes are derived from them: a new action is how a run knows the stored
adj_close history has been restated by Yahoo, and an analyst can check an adjustment against its cause.
"""

from __future__ import annotations

from warehouse.registry import Column, Table, register

CORPORATE_ACTIONS = register(
    Table(
        schema="core",
        name="corporate_actions",
        description=(
            "Dividends, stock splits and fund capital-gain distributions per ticker and ex-date, as Yahoo "
            "Finance reports them (split-adjusted like Yahoo's close). A new row here means Yahoo has rescaled "
            "the ticker's adj_close history, so the loader refetches and replaces it (see ops.load_log)."
        ),
        primary_key=("ticker", "date", "kind"),
        introduced_in=2,
        columns=(
            Column("ticker", "VARCHAR", "Yahoo Finance symbol"),
            Column(
                "date",
                "DATE",
                "Ex-date: first exchange trading date (local to the listing) without the dividend or with the split",
            ),
            Column("kind", "VARCHAR", "dividend, split or capital_gain"),
            Column(
                "value",
                "DOUBLE",
                "dividend and capital_gain: cash per share in the currency of listing; split: new shares per old share (2.0 = 2-for-1, 0.1 = 1-for-10 reverse split)",
                unit="currency of listing per share, or ratio for split",
                nullable=False,
            ),
            Column("source", "VARCHAR", "Where the row came from: yfinance", nullable=False),
            Column("loaded_at", "TIMESTAMPTZ", "When this row was last inserted or changed", nullable=False),
        ),
    )
)
